/* parse/parse.h — bytes → one feed model.
 * RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed documents, in any charset, become
 * UTF-8 records (struct parse_feed, struct parse_entry); dates become Unix seconds.
 * Knows nothing of curl, SQL or libuv. */
#ifndef FINFEED_PARSE_H
#define FINFEED_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A date that is absent or could not be read. */
#define PARSE_NO_DATE INT64_MIN

/* Bits of struct parse_entry.flags and struct parse_report.problems. */
enum parse_problem {
    PARSE_P_MALFORMED = 1 << 0,  /* XML not well-formed, recovered */
    PARSE_P_TRUNCATED = 1 << 1,  /* document ended inside an element */
    PARSE_P_BAD_BYTES = 1 << 2,  /* invalid byte sequences replaced by U+FFFD, or
                                  * JSON \u0000 dropped */
    PARSE_P_ENTITIES = 1 << 3,   /* bare '&' or HTML-only entities repaired */
    PARSE_P_JUNK = 1 << 4,       /* bytes before the first tag skipped */
    PARSE_P_CHARSET = 1 << 5,    /* HTTP charset failed; the declaration was used */
};

struct parse_enclosure {
    char *url;    /* absolute when a base was known; owned */
    char *type;   /* MIME type or NULL; owned */
    char *length; /* as written (bytes) or NULL; owned */
};

/* One entry (RSS/RDF item, Atom entry, JSON Feed item). Every string is UTF-8,
 * NUL-terminated, owned by the entry, NULL when the document did not give it. */
struct parse_entry {
    char *title;     /* text value: plain text, or HTML source when title_html */
    char *link;      /* alternate link, resolved against xml:base / base URL */
    char *id;        /* Atom id, RSS guid, RDF rdf:about, JSON id; as written */
    char *author;    /* display string (Atom "name (email)", RSS text as written) */
    char *author_name; /* name part only (RSS e-mail author: the name), or NULL */
    char *summary;   /* Atom summary, RSS description */
    char *content;   /* first of Atom content, content:encoded, xhtml:body */
    char *comments;  /* RSS comments URL */
    char *image;     /* media:content image URL (JSON Feed: image), or NULL; image
                      * enclosures are in `enclosures` (the article model ranks them) */
    char *thumbnail; /* media:thumbnail URL */
    char *base;      /* base URI in scope for this entry's text (for cleaning) */
    int title_html, summary_html, content_html; /* 1: the value is HTML markup */
    int content_xml;   /* 1: content is Atom content of an XML media type (text/xml,
                        * application/…+xml but XHTML): data serialized as markup,
                        * not prose (SPEC §3) */
    int64_t published; /* Unix seconds UTC, or PARSE_NO_DATE */
    int64_t updated;   /* Unix seconds UTC, or PARSE_NO_DATE */
    char **categories; /* ncategories terms, each owned */
    size_t ncategories;
    struct parse_enclosure *enclosures; /* nenclosures, owned */
    size_t nenclosures;
};

/* Feed-level data. Same ownership rules as struct parse_entry. */
struct parse_feed {
    char *title, *link, *subtitle, *author, *author_name, *language, *id;
    char *image;           /* channel image / Atom logo URL */
    char *hub;             /* WebSub hub: the first <atom:link rel="hub"> of the feed
                            * (Atom, or RSS's atom:link), absolute, or NULL */
    char *self;            /* the feed's own URL, <atom:link rel="self">, or NULL */
    int64_t updated;       /* Unix seconds UTC, or PARSE_NO_DATE */
    int64_t published;     /* RSS pubDate, or PARSE_NO_DATE */
    long ttl;              /* RSS ttl in minutes, 0 when absent */
    const char *format;    /* static: "rss", "rdf", "atom", "atom03", "json" */
    char **categories;
    size_t ncategories;
};

/* What went wrong while reading a document that still gave a result. */
struct parse_report {
    unsigned problems;    /* enum parse_problem bits */
    size_t nentries;      /* entries delivered */
    char message[256];    /* first problem in words, "" when none */
};

struct parse_opts {
    const char *base_url; /* document URL (for relative links), or NULL; borrowed */
    const char *charset;  /* HTTP Content-Type charset, or NULL; borrowed */
    const char *timezone; /* IANA zone for dates without a zone, or NULL: from the
                           * feed's language (zh-CN → Asia/Shanghai …), else UTC */
};

/* Called once an entry is complete, in document order. `feed` holds what the
 * document said about the feed so far (RSS channel data normally precedes the
 * items). Both pointers are valid during the call only; the callback may steal
 * fields of `entry` by setting them to NULL. Return 0 to go on, non-zero to stop
 * (parse_feed_* then returns that value). */
typedef int (*parse_entry_cb)(void *arg, const struct parse_feed *feed,
                              struct parse_entry *entry);

/* Parse a whole document from memory (`buf`, `len` bytes, borrowed), detecting
 * the format from the bytes (never from a content type or URL). Entries are
 * handed to `cb` as they complete; the feed data is stored in *feed_out (caller
 * frees with parse_feed_free) when feed_out is not NULL. `report` (may be NULL)
 * receives the problems recovered from. Returns 0 when the document gave a feed
 * (possibly with zero entries), -EINVAL when nothing recoverable was found (an
 * HTML page, an empty body: report->message says which), -ENOMEM, or the
 * callback's non-zero value. Memory stays bounded: the document is streamed. */
int parse_feed_mem(const char *buf, size_t len, const struct parse_opts *opts,
                   parse_entry_cb cb, void *arg, struct parse_feed **feed_out,
                   struct parse_report *report);

/* Same, reading from `fp` (borrowed; read to its end, in chunks, so a 20 MB
 * feed never sits in memory whole). A non-seekable stream is spooled to a
 * temporary file only when the charset rules need a second pass. */
int parse_feed_file(FILE *fp, const struct parse_opts *opts, parse_entry_cb cb, void *arg,
                    struct parse_feed **feed_out, struct parse_report *report);

void parse_feed_free(struct parse_feed *feed);
void parse_entry_free(struct parse_entry *entry);

/* Read one date string: RFC 822/1123 and variants, RFC 850, asctime, RFC 3339 /
 * ISO 8601, W3C-DTF, "YYYY-MM-DD HH:MM[:SS]", "YYYY/MM/DD HH:MM",
 * "YYYY年MM月DD日 HH:MM[:SS]" and others (parse/date/date.c lists them). A time
 * without a zone is read in `tz` (IANA name, borrowed; NULL means UTC); "CST"
 * in Asia/Shanghai, Asia/Hong_Kong, Asia/Taipei (and zones that share their
 * offset) means +08:00, elsewhere US Central. Returns 0 and stores Unix seconds
 * (UTC) in *out, or -EINVAL for an unreadable or impossible date. Thread-safe. */
int parse_date(const char *s, const char *tz, int64_t *out);

/* Format Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes;
 * years below 1000 with four digits). Returns buf. */
char *parse_date_iso(int64_t t, char *buf, size_t size);

/* The proleptic Gregorian calendar (one implementation, parse/date/):
 * days since 1970-01-01 of year y, month m (1..12), day d (1..31, not
 * checked against the month); and back. parse_weekday: 0 = Sunday. */
int64_t parse_days_from_civil(int64_t y, int m, int d);
void parse_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int parse_weekday(int64_t days);
/* Days in month m (1..12) of year y. */
int parse_month_days(int64_t y, int m);

/* A time zone of the system tz database, read once (its TZif file, RFC 8536,
 * with the POSIX TZ rule of its footer for later years), so that offsets are
 * asked of memory: thread-safe, no TZ variable, no tzset, no global state.
 * "UTC" (and its aliases) needs no file; a zone of parse_date's fixed table
 * (Asia/Shanghai, …) is its fixed offset when the file cannot be read. */
struct parse_zone;

/* Load zone `name` (IANA name, borrowed) into *out (the caller's, freed with
 * parse_zone_free). Returns 0, -EINVAL for an unknown or unsafe name or a
 * file that is not a zone, -ENOMEM. */
int parse_zone_open(const char *name, struct parse_zone **out);
void parse_zone_free(struct parse_zone *z);
/* The zone's name as given to parse_zone_open. */
const char *parse_zone_name(const struct parse_zone *z);
/* Seconds east of UTC in effect at instant t (Unix seconds). */
int parse_zone_offset(const struct parse_zone *z, int64_t t);
/* Local wall time `local` (seconds since 1970-01-01 00:00 as if it were UTC)
 * → the instant. A repeated wall time (DST ends) is its first occurrence; a
 * skipped one (DST starts) is read with the offset before the change, so
 * 02:30 on a spring-forward night is 03:30 DST, as mktime does. */
int64_t parse_zone_local_to_utc(const struct parse_zone *z, int64_t local);

/* The default zone for a feed language: "zh-CN"/"zh" → Asia/Shanghai, "zh-HK" →
 * Asia/Hong_Kong, "zh-TW" → Asia/Taipei; NULL (UTC) otherwise. Static string. */
const char *parse_zone_for_language(const char *lang);

/* Resolve `ref` against `base` (RFC 3986). Returns a new string (caller frees),
 * or NULL on allocation failure. With base NULL or unusable, a copy of ref. */
char *parse_url_resolve(const char *base, const char *ref);

/* ---- Cleaning (SPEC §4), parse/clean/ ---- */

struct parse_cleaner;

struct parse_clean_opts {
    const char *remove;      /* per-feed selectors, comma-separated ("tag, .class,
                              * #id, tag.class, [attr], [attr=value]"), or NULL */
    const char *remove_text; /* per-feed POSIX extended regular expression: a block
                              * element (p div li section) whose text matches is
                              * removed; or NULL */
    const char *const *iframe_hosts; /* hosts whose iframes are kept (video players) */
    size_t niframe_hosts;
};

/* Compile a cleaner. Strings in opts are copied. On a bad selector or regular
 * expression returns -EINVAL and writes the reason to err (errsize bytes).
 * A cleaner is immutable once built and may be shared between threads. */
int parse_cleaner_new(const struct parse_clean_opts *opts, struct parse_cleaner **out,
                      char *err, size_t errsize);
void parse_cleaner_free(struct parse_cleaner *c);

/* Clean one HTML fragment (`html`, `len` bytes of UTF-8, borrowed) by the
 * allowlist of SPEC §4; relative URLs are resolved against `base` (may be NULL).
 * Stores a new UTF-8 string in *out (caller frees; "" when nothing is left).
 * Idempotent: cleaning the output again gives the same bytes.
 * Returns 0, -ENOMEM. */
int parse_clean(const struct parse_cleaner *c, const char *html, size_t len, const char *base,
                char **out);

/* ---- The article model (SPEC §3), parse/article/ ---- */

/* One entry normalized for storage and output. Strings UTF-8, owned. */
struct parse_article {
    char *title;       /* plain text, white space collapsed, never NULL */
    char *link;        /* absolute alternate link, or NULL */
    char *guid;        /* entry id, else link, else "urn:finfeed:" hash of title and date */
    char **categories; /* configured first, then the entry's own, each once */
    size_t ncategories;
    char *author;      /* never NULL (falls back to the feed title, else "") */
    int64_t date;      /* Unix seconds UTC: published, updated, else first seen; a
                        * publisher date before 1995 or more than 10 minutes past
                        * first seen is not believed (first seen instead) */
    int date_rejected;     /* 1: the publisher gave a date that was not believed */
    int64_t rejected_date; /* … that date, as given (kept for the JSON output) */
    char *headimg;     /* absolute image URL, or NULL */
    char *thumbnail;   /* absolute image URL, or NULL */
    int comments;      /* the feed's `comments` */
    char *summary;     /* plain text of the body, at most 200 characters */
    char *body;        /* cleaned HTML (SPEC §4), never NULL */
    char *source;      /* feed name, or NULL */
    char **tickers;    /* instruments (SPEC §12), "EXCHANGE:SYMBOL": the feed's
                        * `tickers_add` first, then those the text mentions, in
                        * order of first mention; each once; ntickers items */
    size_t ntickers;
    char *text;        /* parse_html_text(body), made with it (the store's dedup keys and
                        * full-text index read it), or NULL: not made */
};

/* The instruments of an article's text (SPEC §12), for parse_article_make:
 * `title` (plain text) and `body_text` (the plain text of the cleaned
 * body), both UTF-8, borrowed, never NULL. Stores a new array of *n new
 * "EXCHANGE:SYMBOL" strings in *out, in order of first mention, each once
 * (NULL and 0 when there are none; the caller frees the strings and the
 * array). `arg` is the finder's (borrowed). Returns 0 or -ENOMEM. Called
 * on any thread: a finder is immutable while articles are made with it. */
typedef int (*parse_tickers_fn)(const void *arg, const char *title, const char *body_text,
                                char ***out, size_t *n);

/* A feed's configured defaults, all borrowed; any may be NULL/0. */
struct parse_article_defaults {
    const char *const *categories;
    size_t ncategories;
    const char *author;
    const char *headimg;
    int comments;
    const char *source;                 /* the feed's name */
    const struct parse_cleaner *cleaner; /* NULL: a default cleaner is built */
    int64_t now; /* "first seen" time (undated entries, dates not believed);
                  * 0: the current time */
    /* instruments (SPEC §12) */
    const char *const *tickers_add; /* the feed's `tickers_add`: carried by every
                                     * article, first; "EXCHANGE:SYMBOL" each */
    size_t ntickers_add;
    int no_tickers;                /* the feed's `tickers = no`: none from the text */
    parse_tickers_fn find_tickers; /* the finder of the text's tickers, or NULL: none */
    const void *find_tickers_arg;  /* … its argument */
};

/* Build the article of entry `e` of `feed` (both borrowed) by the rules of
 * SPEC §3 in their order of precedence. *out is the caller's (free with
 * parse_article_free). Returns 0, -ENOMEM. */
int parse_article_make(const struct parse_feed *feed, const struct parse_entry *e,
                       const struct parse_article_defaults *d, struct parse_article **out);
void parse_article_free(struct parse_article *a);

/* Longest "EXCHANGE:SYMBOL" with its NUL that parse_ticker_syntax gives
 * (PARSE_TICKER_MAX, below). */
#define PARSE_TICKER_LEN PARSE_TICKER_MAX

/* Check one "EXCHANGE:SYMBOL" as a user writes it (a route, a watchlist,
 * `tickers_add`; `in` borrowed) and write it to out (size bytes, at least
 * PARSE_TICKER_LEN) in the form the extractor gives its tickers
 * (parse_ticker_normalize: "nasdaqgs : aapl" → "NASDAQ:AAPL", "hkex:00700"
 * → "HKEX:0700"), white space around it and around the colon dropped.
 * EXCHANGE: 1 to 15 ASCII letters or digits, beginning with a letter, one
 * of the exchanges of SPEC §12 or an alias of one (or US); SYMBOL: 1 to 15
 * ASCII letters, digits or ". - _", beginning with a letter or digit, of
 * its exchange's form. Returns 0, or -EINVAL with the reason (a static
 * string) in *why (may be NULL). */
int parse_ticker_syntax(const char *in, char *out, size_t size, const char **why);

/* Plain text of an HTML fragment: tags dropped (with the content of script,
 * style and comments), entities decoded, white space — U+3000 and NBSP
 * included — collapsed to single spaces and trimmed. New string or NULL. */
char *parse_html_text(const char *html);

/* The first `max` characters (code points) of UTF-8 `s`, cut at a character
 * boundary: a new string, or NULL on allocation failure. */
char *parse_utf8_prefix(const char *s, size_t max);
/* Code point c (at most U+10FFFF) as UTF-8 into out, which has room for 4
 * bytes; returns its length. */
size_t parse_utf8_put(uint32_t c, char *out);

/* ---- Instruments (SPEC §12), parse/tickers/ ---- */

/* Longest "EXCHANGE:SYMBOL" plus its NUL ("NYSEAMERICAN:" and a 15-byte symbol). */
#define PARSE_TICKER_MAX 32

/* The form a mention was written in (the first mention's, for a ticker seen twice). */
enum parse_ticker_form {
    PARSE_TICKER_CASHTAG,  /* $AAPL, $BRK.B, Xueqiu's $苹果(AAPL)$ */
    PARSE_TICKER_EXCHANGE, /* (NASDAQ: AAPL), NYSEARCA: SPY, 证券代码：600519 */
    PARSE_TICKER_SUFFIX,   /* 600519.SH, 0700.HK, 7203.T, (AAPL.O), NVDA.US, (700 HK) */
    PARSE_TICKER_PREFIX,   /* SH600519, SZ000001, BJ830799 */
    PARSE_TICKER_BRACKET,  /* a name and its bare code: 贵州茅台（600519）, 腾讯控股(00700) */
    PARSE_TICKER_NAME,     /* a company name from the dictionary: Nvidia, 英伟达 */
};

/* One instrument of a text. */
struct parse_ticker {
    char symbol[PARSE_TICKER_MAX]; /* "EXCHANGE:SYMBOL", normalized (SPEC §12) */
    enum parse_ticker_form form;   /* how its first mention was written */
    int issuer;                    /* dictionary issuer (parse_tickers_listing), or -1 */
};

/* Tickers in order of first mention, each once. `v` is owned by the list. */
struct parse_ticker_list {
    struct parse_ticker *v;
    size_t n;
};

/* The exchange table and an optional symbol dictionary; immutable once built,
 * shared freely between threads. */
struct parse_tickers;

/* Build the extractor from the symbol dictionary `dict` (`len` bytes of UTF-8
 * TSV, borrowed; NULL or empty: no dictionary). A dictionary line is
 * `EXCHANGE:SYMBOL[,EXCHANGE:SYMBOL…]<TAB>name[<TAB>alias…]`: one issuer,
 * its listings (the first is its primary) and the names it goes by; `#`
 * lines and blank lines are skipped. Latin names match whole words (ASCII
 * case folded, but a name written with a capital needs one in the text),
 * CJK names the longest match. On a bad line returns -EINVAL and writes
 * "line N: reason" to err (errsize bytes); -ENOMEM. The daemon reads
 * `[tickers] file` and passes its bytes here. */
int parse_tickers_new(const char *dict, size_t len, struct parse_tickers **out, char *err,
                      size_t errsize);
void parse_tickers_free(struct parse_tickers *t);

/* Find the instruments of one article with `t` (NULL: the exchange table
 * alone, no dictionary): `title` (plain text) and `body_text`
 * (the plain text of the cleaned body, parse_html_text(article->body)); both
 * UTF-8, borrowed, either may be NULL. Explicit mentions (cashtags,
 * exchange-qualified symbols, suffixed and prefixed codes, a CJK name and its
 * bracketed code) and dictionary names, in the order they first appear,
 * title first, each ticker once. A cashtag (or NVDA.US) takes the exchange of
 * the same symbol qualified elsewhere in the article, else of the
 * dictionary's US listing, else is `US:SYMBOL`; a name takes the listing of
 * its issuer the article names explicitly, else the issuer's primary one.
 * Linear in the text's length whatever the dictionary's size; the first
 * 1024 distinct mentions are read, the rest ignored. Fills *out
 * (free with parse_ticker_list_free; empty when nothing is found). Returns 0,
 * -ENOMEM. Thread-safe. */
int parse_tickers_find(const struct parse_tickers *t, const char *title, const char *body_text,
                       struct parse_ticker_list *out);
void parse_ticker_list_free(struct parse_ticker_list *l);

/* "cashtag", "exchange", "suffix", "prefix", "bracket", "name" (static). */
const char *parse_ticker_form_name(enum parse_ticker_form form);

/* Normalize one "EXCHANGE:SYMBOL" as a user writes it in a watchlist or a
 * route (`in`, borrowed): the exchange by its aliases, case-insensitively
 * ("NasdaqGS:AAPL" → "NASDAQ:AAPL", "hkex:00700" → "HKEX:0700"), the symbol
 * in capitals and checked against its exchange's form; `US:SYMBOL` too. Writes to out
 * (at least PARSE_TICKER_MAX bytes). Returns 0, or -EINVAL when it is none. */
int parse_ticker_normalize(const char *in, char *out, size_t size);

/* The issuer grouping of the dictionary: the issuer listing `symbol` (a
 * normalized "EXCHANGE:SYMBOL"), or -1 when the dictionary has no such
 * listing. A watchlist naming one listing matches all of its issuer's. */
int parse_tickers_issuer(const struct parse_tickers *t, const char *symbol);
/* The k-th listing of `issuer` (k = 0 is its primary), or NULL past the last
 * one; the issuer's name (the line's first name), or NULL for a bad issuer.
 * Both point into t. */
const char *parse_tickers_listing(const struct parse_tickers *t, int issuer, size_t k);
const char *parse_tickers_issuer_name(const struct parse_tickers *t, int issuer);

#endif
