/* daemon/emit/emit_text.h — the one text toolkit of finfeed's output: a growing
 * buffer, the XML/HTML escaper with its UTF-8 repair, percent-encoding, the
 * credential stripper for URLs, and the RFC 1123 / RFC 3339 date formatters.
 * Every writer in daemon/ (emit, http, cli) goes through these, so a fix
 * lands once. parse/ keeps its own buffer (parse/buf_int.h): it is upstream. */
#ifndef FINFEED_EMIT_TEXT_H
#define FINFEED_EMIT_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- the growing buffer ---- */

/* Zero-initialise (`struct emit_buf b = {0};`). The first allocation failure
 * sticks in err and turns every later write into a no-op, so a caller checks
 * once at the end. data is malloc'd and the holder's: free(b.data). */
struct emit_buf {
    char *data; /* NUL-terminated when non-NULL; owned */
    size_t len, cap;
    int err; /* 0 or -ENOMEM */
};

/* Room for `extra` more bytes and the NUL. Returns 0 or b->err (-ENOMEM). */
int emit_buf_reserve(struct emit_buf *b, size_t extra);

/* Append n bytes of s (inline: the hot path of every writer is one memcpy). */
static inline void
emit_buf_add(struct emit_buf *b, const void *s, size_t n)
{
    if (b->err || (n >= b->cap - b->len && emit_buf_reserve(b, n) < 0))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void
emit_buf_adds(struct emit_buf *b, const char *s)
{
    emit_buf_add(b, s, strlen(s));
}

void emit_buf_printf(struct emit_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Hand the bytes over: *len (may be NULL) is set, b is empty again, the
 * slack given back (a document may be cached for long). NULL, with the
 * bytes freed, when b->err is set. The caller frees the result. */
char *emit_buf_take(struct emit_buf *b, size_t *len);

/* ---- the escaper ---- */

/* What a string is written as. Every mode repairs UTF-8 (each maximal
 * ill-formed subpart becomes one U+FFFD, Unicode §3.9) and drops what XML
 * 1.0 §2.2 forbids (C0 controls but tab, LF, CR; U+FFFE, U+FFFF). */
enum emit_esc {
    EMIT_ESC_NONE,  /* only that filter: a JSON string (jansson escapes it) */
    EMIT_ESC_TEXT,  /* XML character data: & < > escaped, CR as &#13; (§2.11) */
    EMIT_ESC_ATTR,  /* XML attribute in double quotes: also ", tab, LF as
                     * references (§3.3.3 attribute-value normalization) */
    EMIT_ESC_HTML,  /* HTML text or attribute alike: & < > " ' escaped, tab and
                     * LF kept, CR and DEL dropped */
    EMIT_ESC_LABEL, /* Prometheus label value (text format 0.0.4): \\ \" \n;
                     * tab and CR dropped */
};

/* Append n bytes of s escaped for `mode`. */
void emit_buf_escape(struct emit_buf *b, const char *s, size_t n, enum emit_esc mode);
/* The same for a string; NULL writes nothing. */
void emit_buf_escapes(struct emit_buf *b, const char *s, enum emit_esc mode);

/* s percent-encoded, every byte but RFC 3986 unreserved ones: one path
 * segment or query value. The result needs no XML or HTML escaping. */
void emit_buf_pct(struct emit_buf *b, const char *s);

/* ---- UTF-8 ---- */

/* Length (1-4) of the well-formed UTF-8 sequence at s (n bytes available;
 * RFC 3629 table 3-7: no overlongs, surrogates or code points past
 * U+10FFFF), its code point in *cp (may be NULL). 0 when ill-formed, with
 * *skip set to the length of the maximal ill-formed subpart (at least 1),
 * which a repair replaces by one U+FFFD. A NUL byte is a sequence of 1. */
size_t emit_utf8_seq(const char *s, size_t n, uint32_t *cp, size_t *skip);

#define EMIT_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

/* ---- URLs ---- */

/* Where the credentials of `url` are (RFC 3986 §3.2.1 deprecates
 * "user:password@" in a URL; finfeed never shows it): returns the length of
 * the userinfo and its '@' inside the authority, and *at is set to its
 * offset (just past "scheme://"). 0 when the URL has none (*at is then the
 * offset of the authority, or 0 when there is no "://"). */
size_t emit_url_userinfo(const char *url, size_t *at);

/* Append url without its credentials, escaped for `mode`. */
void emit_buf_url(struct emit_buf *b, const char *url, enum emit_esc mode);

/* ---- dates ---- */

/* Dates are clamped to the years 0001-9999 (consumers such as Python's
 * datetime have no year 0, and four digits keep each form at a fixed
 * width), so the results always have exactly these lengths. */
#define EMIT_RFC1123_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define EMIT_RFC3339_LEN 20 /* "1994-11-06T08:49:37Z" */

/* RFC 1123 (RFC 9110 §5.6.7 IMF-fixdate; RFC 822 with a four-digit year, as
 * RSS 2.0 and Hexo front matter want) of Unix time t into buf (size >=
 * EMIT_RFC1123_LEN + 1). Returns buf. */
char *emit_rfc1123(int64_t t, char *buf, size_t size);
/* RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" of t into buf (size >= EMIT_RFC3339_LEN
 * + 1). Returns buf. */
char *emit_rfc3339(int64_t t, char *buf, size_t size);

#endif
