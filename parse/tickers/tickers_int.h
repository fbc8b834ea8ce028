/* parse/tickers/tickers_int.h — shared inside parse/tickers/ (not exported):
 * the fixed exchange table (SPEC §12) and the readers of symbols, the
 * dictionary's shape, byte classes. */
#ifndef FINFEED_PARSE_TICKERS_INT_H
#define FINFEED_PARSE_TICKERS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "parse/parse.h"

/* How an exchange writes its symbols. */
enum tk_kind {
    TK_LETTERS, /* US: 1-5 capitals, a share class (BRK.B) */
    TK_ALNUM,   /* a capital, then capitals and digits (VOW3, D05), a class (BBD.B, REI.UN) */
    TK_HK,      /* 1-5 digits: leading zeros dropped, padded to four */
    TK_CN,      /* 6 digits in the exchange's ranges */
    TK_JP,      /* 4: [1-9], two digits, a digit or a capital (7203, 130A) */
    TK_TW,      /* 4-6 digits, an optional capital (2330, 00632R) */
    TK_KR,      /* 6 digits */
};

/* Exchange ids: rows of tk_exchanges. */
enum tk_exch {
    TK_NASDAQ,
    TK_NYSE,
    TK_NYSEARCA,
    TK_NYSEAMERICAN,
    TK_CBOE,
    TK_OTC,
    TK_US,
    TK_TSX,
    TK_TSXV,
    TK_CSE,
    TK_LSE,
    TK_EPA,
    TK_AMS,
    TK_EBR,
    TK_ELI,
    TK_XETRA,
    TK_FRA,
    TK_SIX,
    TK_BIT,
    TK_BME,
    TK_STO,
    TK_CPH,
    TK_HEL,
    TK_OSL,
    TK_ASX,
    TK_NZX,
    TK_SGX,
    TK_NSE,
    TK_HKEX,
    TK_SSE,
    TK_SZSE,
    TK_BSE,
    TK_TWSE,
    TK_TPEX,
    TK_TYO,
    TK_KRX,
    TK_NEXCH,
    /* Not exchanges: what an alias may stand for. */
    TK_MAINLAND = -2, /* 证券代码, Bloomberg "CH": SSE, SZSE or BSE by the code */
    TK_TSE = -3,      /* Tokyo for a number, Toronto for letters */
};

struct tk_exchange {
    const char *name; /* canonical, as in "NAME:SYMBOL" */
    enum tk_kind kind;
    unsigned char max; /* longest symbol before its class (letter kinds) */
};

extern const struct tk_exchange tk_exchanges[TK_NEXCH];

/* A US exchange (cashtags resolve to these first). */
int tk_is_us(int exch);

/* The exchange an alias names (`s`, `n` bytes, as written: case and runs of
 * spaces ignored), or -1. *bare is set to 1 when the alias may stand outside
 * brackets (written exactly as the table has it: NASDAQ, not Nasdaq). */
int tk_alias(const char *s, size_t n, int *bare);

/* Exchanges of a code's suffix: numeric codes (600519.SH, 7203.T; lower case
 * allowed for sh ss sz bj hk), letter codes (AAPL.O, VOD.L, NVDA.US), and
 * Bloomberg's two-letter market codes (700 HK). -1 when unknown. */
int tk_suffix_numeric(const char *s, size_t n);
int tk_suffix_letters(const char *s, size_t n);
int tk_suffix_bloomberg(const char *s, size_t n);

/* The mainland exchange of a bare six-digit code by SPEC §12's prefixes
 * (60/68 SSE, 00/30 SZSE, 43/83/87/88/920 BSE), or -1. */
int tk_mainland(const char *six);

/* Read a symbol of `exch` (an exchange id, TK_MAINLAND or TK_TSE) at s[0..n):
 * the longest that fits the exchange's form and is followed by a boundary
 * (end, or a byte that is no ASCII letter or digit, and no '.' before a
 * digit). On success writes "EXCHANGE:SYMBOL" (normalized) to out
 * (PARSE_TICKER_MAX bytes), stores the exchange in *exch_out, and returns the
 * bytes read; 0 when there is no symbol. */
size_t tk_symbol(int exch, const char *s, size_t n, char *out, int *exch_out);

/* ASCII classes (no locale). */
static inline int
tk_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}
static inline int
tk_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}
static inline int
tk_alnum(unsigned char c)
{
    return tk_upper(c) || tk_digit(c) || (c >= 'a' && c <= 'z');
}

/* A symbol or a code may end at k of s[0..n): the end, or no letter or digit
 * next; a number goes on with a '.' before a digit, a ',' before three digits
 * (20,000) and a '%'. */
static inline int
tk_ends(const char *s, size_t n, size_t k)
{
    if (k >= n)
        return 1;
    unsigned char c = (unsigned char)s[k];
    if (tk_alnum(c) || c == '%')
        return 0;
    if (c == '.' && k + 1 < n && tk_digit((unsigned char)s[k + 1]))
        return 0;
    return !(c == ',' && k + 3 < n && tk_digit((unsigned char)s[k + 1]) &&
             tk_digit((unsigned char)s[k + 2]) && tk_digit((unsigned char)s[k + 3]) &&
             (k + 4 == n || !tk_digit((unsigned char)s[k + 4])));
}

/* The dictionary inside struct parse_tickers (dict.c builds it). */
struct tk_listing {
    char symbol[PARSE_TICKER_MAX]; /* "EXCHANGE:SYMBOL" */
    const char *code;              /* the part after ':' (points into symbol) */
    int exch;
    int issuer;
};

struct tk_edge {
    uint32_t node; /* parent node; 0 marks a free slot (the root is never a child) */
    uint32_t child;
    unsigned char byte;
};

struct parse_tickers {
    struct tk_listing *listings; /* file order: an issuer's listings are adjacent */
    size_t nlistings;
    uint32_t *by_symbol;    /* listing indices sorted by symbol */
    uint32_t *by_code;      /* … by code, then file order */
    uint32_t *issuer_first; /* issuer i: listings [issuer_first[i], issuer_first[i + 1]) */
    char **issuer_names;
    size_t nissuers;
    /* Names: a trie over ASCII-folded bytes; edges in an open-addressed table. */
    uint32_t *node_issuer;       /* per node: issuer + 1 where a name ends, else 0 */
    unsigned char *node_capital; /* per node: the name was written with a capital */
    size_t nnodes, capnodes;
    struct tk_edge *edges;
    size_t nedges, capedges; /* capedges: a power of two */
};

/* The child of `node` on `byte`, or 0. */
uint32_t tk_trie_next(const struct parse_tickers *t, uint32_t node, unsigned char byte);

/* Longest name a dictionary holds, in bytes: names are walked at most this far. */
#define TK_NAME_MAX 64

/* ---- one article's reading (scan.c reads, tickers.c resolves) ---- */

/* What a mention still needs once the whole article is read. */
enum pending {
    P_NONE, /* symbol is final */
    P_US,   /* "US:CODE": a cashtag, NVDA.US, (AAPL US) */
    P_NAME, /* a dictionary name: issuer */
};

struct mention {
    char symbol[PARSE_TICKER_MAX]; /* the ticker; "US:CODE" (P_US) and "#ISSUER"
                                    * (P_NAME) until resolved: the key a mention
                                    * is read once by */
    enum parse_ticker_form form;
    enum pending pending;
    int issuer; /* P_NAME: the name's issuer; after resolution the ticker's, or -1 */
};

/* Distinct mentions an article may hold: a hostile body of "$AAAA $AAAB …"
 * ends here instead of growing without bound. */
#define TK_MENTIONS_MAX 1024

struct scan {
    const struct parse_tickers *t;
    struct mention *m;
    size_t n, cap;
    uint16_t seen[2 * TK_MENTIONS_MAX]; /* mention index + 1 by its key's hash; 0 free */
    int oom;
    const char *s; /* the text being read, len bytes */
    size_t len;
    size_t code_end;   /* where the last code ended: a '/' there goes on with a list */
    size_t names_from; /* no name begins before this (the last one's end) */
};

/* FNV-1a, folded: the mentions' and the resolution's tables. */
static inline uint64_t
tk_hash(const char *key)
{
    uint64_t h = 1469598103934665603u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h ^ (h >> 29);
}

/* Read one text (NUL-terminated, borrowed) into sc->m: each form where it
 * can begin, in one pass; sc->oom on allocation failure. */
void tk_scan_text(struct scan *sc, const char *text);

#endif
