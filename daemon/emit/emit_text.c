/* daemon/emit/emit_text.c — the one text toolkit (emit_text.h): growing buffer,
 * escaper with UTF-8 repair, percent-encoding, URL credential stripping,
 * RFC 1123 / RFC 3339 dates. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/emit/emit_text.h"

/* ---- buffer ---- */

int
emit_buf_reserve(struct emit_buf *b, size_t extra)
{
    if (b->err)
        return b->err;
    if (extra < b->cap - b->len)
        return 0; /* room for extra bytes and the NUL */
    if (extra > SIZE_MAX / 4 - b->len) {
        b->err = -ENOMEM;
        return b->err;
    }
    size_t cap = b->cap ? b->cap : 1024;
    while (cap <= b->len + extra)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->err = -ENOMEM;
        return b->err;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void
emit_buf_printf(struct emit_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        emit_buf_add(b, small, (size_t)n);
        return;
    }
    if (emit_buf_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *
emit_buf_take(struct emit_buf *b, size_t *len)
{
    char *data = b->data;
    if (len != NULL)
        *len = b->err ? 0 : b->len;
    if (b->err) {
        free(data);
        data = NULL;
    } else if (data == NULL) {
        data = calloc(1, 1);
    } else {
        char *p = realloc(data, b->len + 1);
        data = p ? p : data;
    }
    *b = (struct emit_buf){0};
    return data;
}

/* ---- UTF-8 ---- */

size_t
emit_utf8_seq(const char *str, size_t n, uint32_t *cp, size_t *skip)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    uint32_t v;
    size_t need;

    if (c < 0x80) {
        need = 1, v = c;
    } else if (c >= 0xC2 && c <= 0xDF) {
        need = 2, v = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3, v = c & 0x0Fu;
        if (c == 0xE0)
            lo = 0xA0; /* no overlongs */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4, v = c & 0x07u;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        *skip = 1;
        return 0;
    }
    for (size_t k = 1; k < need; k++) {
        if (k >= n || s[k] < lo || s[k] > hi) { /* also stops at a NUL */
            *skip = k;
            return 0;
        }
        v = (v << 6) | (s[k] & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    if (cp != NULL)
        *cp = v;
    return need;
}

/* ---- the escaper ---- */

/* Per byte, bit (1 << mode) set when the byte is not copied as is in that
 * mode: C0 controls (NUL included) and non-ASCII (checked as UTF-8) in every
 * mode, the markup characters in the markup modes. A special ASCII byte
 * becomes ref[mode][c], or nothing when that is NULL. '>' is always escaped
 * in XML, so "]]>" never appears in character data. */
#define N (1 << EMIT_ESC_NONE)
#define T (1 << EMIT_ESC_TEXT)
#define A (1 << EMIT_ESC_ATTR)
#define H (1 << EMIT_ESC_HTML)
#define L (1 << EMIT_ESC_LABEL)
#define ALL (N | T | A | H | L)
#define ALL8 ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL
#define ALL16 ALL8, ALL8
/* clang-format off */
static const unsigned char special[256] = {
    ALL8,                                /* 0x00-0x07 */
    ALL, A | L, A | L, ALL, ALL, T | A | H | L, ALL, ALL, /* BS tab LF VT FF CR SO SI */
    ALL16,                               /* 0x10-0x1F */
    ['"'] = A | H | L, ['&'] = T | A | H, ['\''] = H,
    ['<'] = T | A | H, ['>'] = T | A | H, ['\\'] = L, [0x7F] = H,
    [0x80] = ALL16, ALL16, ALL16, ALL16, ALL16, ALL16, ALL16, ALL16, /* 0x80-0xFF */
};
static const char *const ref[][128] = {
    [EMIT_ESC_NONE] = {0},
    [EMIT_ESC_TEXT] = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['\r'] = "&#13;"},
    [EMIT_ESC_ATTR] = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
                       ['\t'] = "&#9;", ['\n'] = "&#10;", ['\r'] = "&#13;"},
    [EMIT_ESC_HTML] = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
                       ['\''] = "&#39;"},
    [EMIT_ESC_LABEL] = {['\\'] = "\\\\", ['"'] = "\\\"", ['\n'] = "\\n"},
};
/* clang-format on */
#undef ALL16
#undef ALL8
#undef ALL
#undef L
#undef H
#undef A
#undef T
#undef N

/* The input goes in slices, each with room reserved for its worst case (six
 * output bytes an input byte, "&quot;"), so the loop writes unchecked. */
void
emit_buf_escape(struct emit_buf *b, const char *str, size_t n, enum emit_esc mode)
{
    enum { SLICE = 1 << 16 };
    const unsigned char *s = (const unsigned char *)str;
    const unsigned char mask = (unsigned char)(1u << mode);
    size_t i = 0;

    while (i < n) {
        /* A UTF-8 sequence may run up to 3 bytes past the slice. */
        size_t end = n - i > SLICE ? i + SLICE : n;
        if (emit_buf_reserve(b, (end - i) * 6 + 24) < 0)
            return;
        char *d = b->data + b->len;
        while (i < end) {
            unsigned char c = s[i];
            if (!(special[c] & mask)) {
                *d++ = (char)c;
                i++;
                continue;
            }
            size_t skip = 1, len;
            if (c < 0x80) {
                const char *r = ref[mode][c];
                if (r != NULL) {
                    len = strlen(r);
                    memcpy(d, r, len);
                    d += len;
                }
                i++;
            } else if ((len = emit_utf8_seq(str + i, n - i, NULL, &skip)) == 0) {
                memcpy(d, EMIT_REPLACEMENT, 3);
                d += 3;
                i += skip;
            } else if (len == 3 && c == 0xEF && s[i + 1] == 0xBF && s[i + 2] >= 0xBE) {
                i += 3; /* U+FFFE, U+FFFF */
            } else {
                memcpy(d, s + i, len);
                d += len;
                i += len;
            }
        }
        b->len = (size_t)(d - b->data);
        *d = '\0';
    }
}

void
emit_buf_escapes(struct emit_buf *b, const char *s, enum emit_esc mode)
{
    if (s != NULL)
        emit_buf_escape(b, s, strlen(s), mode);
}

void
emit_buf_pct(struct emit_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            emit_buf_add(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            emit_buf_add(b, e, 3);
        }
    }
}

/* ---- URLs ---- */

size_t
emit_url_userinfo(const char *url, size_t *at)
{
    const char *scheme = strstr(url, "://");
    *at = 0;
    if (scheme == NULL)
        return 0;
    const char *auth = scheme + 3;
    size_t alen = strcspn(auth, "/?#"), end = 0;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            end = i + 1; /* the last '@': a password may hold one unencoded */
    *at = (size_t)(auth - url);
    return end;
}

void
emit_buf_url(struct emit_buf *b, const char *url, enum emit_esc mode)
{
    size_t at, n = emit_url_userinfo(url, &at);
    emit_buf_escape(b, url, at, mode);
    emit_buf_escapes(b, url + at + n, mode);
}

/* ---- dates ---- */

#define T_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define T_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

static void
broken_down(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)(t < T_MIN ? T_MIN : t > T_MAX ? T_MAX : t);
    if (gmtime_r(&tt, tm) == NULL) { /* a 32-bit time_t: the epoch */
        tt = 0;
        gmtime_r(&tt, tm);
    }
}

char *
emit_rfc1123(int64_t t, char *buf, size_t size)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    broken_down(t, &tm);
    snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday % 7], tm.tm_mday,
             mo[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

char *
emit_rfc3339(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    broken_down(t, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}
