/* parse/input/decode.c — streaming decoding to clean UTF-8 (SPEC §3 "Encodings").
 * UTF-8, UTF-16/32 and the single-byte charsets are decoded by hand (UTF-8 never
 * goes through iconv); the CJK multi-byte charsets go through glibc iconv. What
 * comes out is valid UTF-8 holding only characters XML 1.0 allows. */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/input/decode_int.h"

static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};

enum dec_kind { DEC_UTF8, DEC_UTF16, DEC_UTF32, DEC_SB, DEC_ICONV };

/* Bits of struct decoder.sb[b][SB_INFO]. */
#define SB_INFO 7
#define SB_LEN 0x07  /* UTF-8 bytes to write (0: the character is dropped) */
#define SB_SAME 0x08 /* the byte is its own UTF-8: copied in runs */
#define SB_BAD 0x10  /* undefined byte: U+FFFD, counted */

struct decoder {
    enum dec_kind kind;
    int big_endian;          /* DEC_UTF16, DEC_UTF32 */
    size_t errors;           /* bad sequences replaced so far */
    unsigned char pend[16];  /* an incomplete sequence held for the next call */
    size_t npend;
    unsigned lead;           /* DEC_UTF16: a lead surrogate waiting for its trail, or 0 */
    iconv_t cd;              /* DEC_ICONV */
    iconv_t cd2;             /* DEC_ICONV: tried on a sequence cd rejects, or (iconv_t)-1 */
    unsigned char sb[256][8]; /* DEC_SB: UTF-8 of each byte, info in [SB_INFO] */
};

/* Output is staged here so that the slow paths do not call buf_add per
 * character; runs longer than the stage go to the buffer directly. */
struct sink {
    struct buf *out; /* NULL: output is discarded (validation) */
    int err;         /* sticky: -ENOMEM */
    size_t n;
    char st[8192];
};

static void
sink_flush(struct sink *s)
{
    if (s->n && s->out && !s->err && buf_add(s->out, s->st, s->n) < 0)
        s->err = -ENOMEM;
    s->n = 0;
}

static void
sink_put(struct sink *s, const void *p, size_t n)
{
    if (n > sizeof s->st - s->n) {
        sink_flush(s);
        if (n >= sizeof s->st) {
            if (s->out && !s->err && buf_add(s->out, p, n) < 0)
                s->err = -ENOMEM;
            return;
        }
    }
    memcpy(s->st + s->n, p, n);
    s->n += n;
}

static int
xml_char_ok(uint32_t c)
{
    if (c < 0x20)
        return c == '\t' || c == '\n' || c == '\r';
    return c <= 0xD7FF || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

static void
put_bad(struct decoder *d, struct sink *s)
{
    d->errors++;
    sink_put(s, fffd, sizeof fffd);
}

/* A decoded code point: written when XML allows it, dropped otherwise. */
static void
put_cp(struct sink *s, uint32_t c)
{
    char o[4];
    if (xml_char_ok(c))
        sink_put(s, o, utf8_encode(c, o));
}

/* The UTF-8 sequence at p (avail bytes, avail >= 1): its length when valid; 0
 * when it is a valid beginning cut short; -k when invalid, k being the bytes one
 * U+FFFD replaces (the "maximal subpart" of Unicode §3.9 and WHATWG). Overlong
 * forms, surrogates and code points past U+10FFFF are invalid. */
static inline int
utf8_seq(const unsigned char *p, size_t avail)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    int len;

    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return -1;
    if (c < 0xE0) {
        len = 2;
    } else if (c < 0xF0) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c < 0xF5) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return -1;
    }
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= avail)
            return 0;
        if (p[i] < lo || p[i] > hi)
            return -i;
        lo = 0x80;
        hi = 0xBF;
    }
    return len;
}

/* U+FFFE and U+FFFF: valid UTF-8, but not XML characters. */
static inline int
utf8_nonchar(const unsigned char *p, int len)
{
    return len == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE;
}

/* Any byte >= 0x80 or < 0x20 in the 8 bytes of w. */
static inline int
word_special(uint64_t w)
{
    const uint64_t hi = 0x8080808080808080ULL, lo = 0x2020202020202020ULL;
    return ((w | ((w - lo) & ~w)) & hi) != 0;
}

/* Valid, allowed runs are copied whole; only what must change is touched. */
static void
utf8_run(struct decoder *d, const unsigned char *p, size_t n, int final, struct sink *s)
{
    size_t i = 0, run;

    while (d->npend && i < n) {
        d->pend[d->npend] = p[i];
        int r = utf8_seq(d->pend, d->npend + 1);
        if (r > 0) {
            if (!utf8_nonchar(d->pend, r))
                sink_put(s, d->pend, (size_t)r);
            d->npend = 0;
            i++;
        } else if (r == 0) {
            d->npend++;
            i++;
        } else {
            put_bad(d, s); /* the byte that broke it starts afresh */
            d->npend = 0;
        }
    }
    run = i;
    while (i < n) {
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (word_special(w))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned c = p[i];
        if (c >= 0x20 && c < 0x80) {
            i++;
            continue;
        }
        if (c < 0x20) {
            if (c == '\t' || c == '\n' || c == '\r') {
                i++;
                continue;
            }
            sink_put(s, p + run, i - run); /* XML forbids it: dropped */
            run = ++i;
            continue;
        }
        /* CJK text is runs of three-byte sequences: check those inline
         * (E1–EC, EE: no overlong, surrogate or U+FFFE/U+FFFF possible). */
        while (n - i >= 3 && ((c >= 0xE1 && c <= 0xEC) || c == 0xEE) &&
               (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80) {
            i += 3;
            if (i == n)
                break;
            c = p[i];
        }
        if (i == n || c < 0x80)
            continue;
        int r = utf8_seq(p + i, n - i);
        if (r > 0 && !utf8_nonchar(p + i, r)) {
            i += (size_t)r;
            continue;
        }
        sink_put(s, p + run, i - run);
        if (r > 0) {
            i += (size_t)r;
        } else if (r == 0) {
            memcpy(d->pend, p + i, n - i);
            d->npend = n - i;
            i = n;
        } else {
            put_bad(d, s);
            i += (size_t)-r;
        }
        run = i;
    }
    sink_put(s, p + run, i - run);
    if (final && d->npend) {
        put_bad(d, s);
        d->npend = 0;
    }
}

/* WHATWG UTF-16 decoder: an unpaired surrogate or an odd last byte is one U+FFFD. */
static void
utf16_run(struct decoder *d, const unsigned char *p, size_t n, int final, struct sink *s)
{
    size_t i = 0;

    for (;;) {
        unsigned a, b, u;
        if (d->npend) {
            if (i >= n)
                break;
            a = d->pend[0];
            b = p[i++];
            d->npend = 0;
        } else {
            if (n - i < 2)
                break;
            a = p[i];
            b = p[i + 1];
            i += 2;
        }
        u = d->big_endian ? (a << 8 | b) : (b << 8 | a);
        if (d->lead) {
            if (u >= 0xDC00 && u <= 0xDFFF) {
                put_cp(s, 0x10000 + ((d->lead - 0xD800) << 10) + (u - 0xDC00));
                d->lead = 0;
                continue;
            }
            d->lead = 0;
            put_bad(d, s);
        }
        if (u >= 0xD800 && u <= 0xDBFF)
            d->lead = u;
        else if (u >= 0xDC00 && u <= 0xDFFF)
            put_bad(d, s);
        else
            put_cp(s, u);
    }
    if (i < n) {
        d->pend[0] = p[i];
        d->npend = 1;
    }
    if (final) {
        if (d->lead || d->npend)
            put_bad(d, s);
        d->lead = 0;
        d->npend = 0;
    }
}

static void
utf32_run(struct decoder *d, const unsigned char *p, size_t n, int final, struct sink *s)
{
    for (size_t i = 0; i < n; i++) {
        d->pend[d->npend++] = p[i];
        if (d->npend < 4)
            continue;
        const unsigned char *q = d->pend;
        uint32_t c = d->big_endian
                         ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | q[2] << 8 | q[3]
                         : (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | q[1] << 8 | q[0];
        d->npend = 0;
        if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            put_bad(d, s);
        else
            put_cp(s, c);
    }
    if (final && d->npend) {
        put_bad(d, s);
        d->npend = 0;
    }
}

static void
sb_run(struct decoder *d, const unsigned char *p, size_t n, struct sink *s)
{
    size_t run = 0;

    for (size_t i = 0; i < n; i++) {
        const unsigned char *e = d->sb[p[i]];
        if (e[SB_INFO] & SB_SAME)
            continue;
        sink_put(s, p + run, i - run);
        if (e[SB_INFO] & SB_BAD)
            d->errors++;
        sink_put(s, e, e[SB_INFO] & SB_LEN);
        run = i + 1;
    }
    sink_put(s, p + run, n - run);
}

/* Drop what XML forbids from n bytes of iconv's (valid) UTF-8 output, in place.
 * Returns the bytes kept. */
static size_t
xml_filter(char *o, size_t n)
{
    unsigned char *p = (unsigned char *)o;
    size_t w = 0;

    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            i++;
            continue;
        }
        if (c == 0xEF && n - i >= 3 && utf8_nonchar(p + i, 3)) {
            i += 3;
            continue;
        }
        p[w++] = p[i++];
    }
    return w;
}

/* glibc has no Big5 that is right everywhere: a sequence BIG5-HKSCS rejects gets
 * a second chance through CP950 (two bytes, no state). */
static int
iconv_fallback(struct decoder *d, char **ip, size_t *il, struct sink *s)
{
    char o[16], *op = o, *in = *ip;
    size_t ol = sizeof o, inl = 2;

    if (d->cd2 == (iconv_t)-1 || *il < 2)
        return 0;
    iconv(d->cd2, NULL, NULL, NULL, NULL);
    if (iconv(d->cd2, &in, &inl, &op, &ol) == (size_t)-1 || inl != 0)
        return 0;
    sink_put(s, o, xml_filter(o, (size_t)(op - o)));
    *ip += 2;
    *il -= 2;
    return 1;
}

/* Convert until the input is used up, or only an incomplete sequence is left
 * (*il > 0 on return). A rejected byte becomes U+FFFD and is skipped. */
static void
iconv_conv(struct decoder *d, char **ip, size_t *il, struct sink *s)
{
    while (*il > 0 && !s->err) {
        if (sizeof s->st - s->n < 64)
            sink_flush(s);
        char *o0 = s->st + s->n, *o = o0;
        size_t ol = sizeof s->st - s->n;
        size_t r = iconv(d->cd, ip, il, &o, &ol);
        int e = errno;
        s->n += xml_filter(o0, (size_t)(o - o0));
        if (r != (size_t)-1)
            break;
        if (e == E2BIG) {
            sink_flush(s);
        } else if (e == EINVAL) {
            break;
        } else if (!iconv_fallback(d, ip, il, s)) {
            put_bad(d, s);
            (*ip)++;
            (*il)--;
        }
    }
}

static void
iconv_run(struct decoder *d, const unsigned char *p, size_t n, int final, struct sink *s)
{
    size_t i = 0;

    /* Complete the held sequence a byte at a time: never more than a few bytes. */
    while (d->npend && i < n && !s->err) {
        d->pend[d->npend++] = p[i++];
        char *q = (char *)d->pend;
        size_t ql = d->npend;
        iconv_conv(d, &q, &ql, s);
        memmove(d->pend, q, ql);
        d->npend = ql;
        if (d->npend == sizeof d->pend) { /* no charset has such sequences */
            put_bad(d, s);
            memmove(d->pend, d->pend + 1, --d->npend);
        }
    }
    if (d->npend == 0 && i < n) {
        char *q = (char *)(p + i);
        size_t ql = n - i;
        iconv_conv(d, &q, &ql, s);
        for (; ql > sizeof d->pend - 1; q++, ql--)
            put_bad(d, s);
        memcpy(d->pend, q, ql);
        d->npend = ql;
    }
    if (final) {
        if (d->npend)
            put_bad(d, s);
        d->npend = 0;
        sink_flush(s);
        char *o = s->st;
        size_t ol = sizeof s->st;
        iconv(d->cd, NULL, NULL, &o, &ol); /* stateful charsets: what is buffered */
        s->n = xml_filter(s->st, (size_t)(o - s->st));
        iconv(d->cd, NULL, NULL, NULL, NULL);
    }
}

/* Charsets of one byte a character, decoded through a table built from iconv. */
static int
is_single_byte(const char *cs)
{
    static const char *const prefix[] = {"WINDOWS-125", "WINDOWS-874", "ISO-8859-", "KOI8-",
                                         "IBM866", "MACINTOSH", "MAC-CYRILLIC"};
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++)
        if (strncmp(cs, prefix[i], strlen(prefix[i])) == 0)
            return 1;
    return 0;
}

/* Returns 0, or -EINVAL when iconv does not take the charset one byte at a time. */
static int
sb_build(struct decoder *d, const char *cs)
{
    /* WHATWG windows-125x: bytes 0x80–0x9F that Windows leaves undefined are the C1
     * controls of the same value (0x81 → U+0081), not errors as in glibc. */
    int windows = strncmp(cs, "WINDOWS-", 8) == 0;
    iconv_t cd = iconv_open("UTF-8", cs);
    int rc = 0;

    if (cd == (iconv_t)-1)
        return -EINVAL;
    for (unsigned b = 0; b < 256 && rc == 0; b++) {
        char in = (char)b, o[8], *ip = &in, *op = o;
        size_t il = 1, ol = sizeof o;
        unsigned char *e = d->sb[b];
        iconv(cd, NULL, NULL, NULL, NULL);
        size_t r = iconv(cd, &ip, &il, &op, &ol);
        size_t len = (size_t)(op - o);
        uint32_t c;
        if (r != (size_t)-1 && il == 0 && len > 0 && len <= 4 &&
            utf8_seq((const unsigned char *)o, len) == (int)len) {
            const unsigned char *u = (const unsigned char *)o;
            c = len == 1   ? u[0]
                : len == 2 ? (u[0] & 0x1Fu) << 6 | (u[1] & 0x3Fu)
                : len == 3 ? (u[0] & 0x0Fu) << 12 | (u[1] & 0x3Fu) << 6 | (u[2] & 0x3Fu)
                           : (u[0] & 0x07u) << 18 | (u[1] & 0x3Fu) << 12 |
                                 (u[2] & 0x3Fu) << 6 | (u[3] & 0x3Fu);
        } else if (r == (size_t)-1 && errno == EILSEQ) {
            c = windows && b >= 0x80 && b <= 0x9F ? b : UINT32_MAX;
        } else {
            rc = -EINVAL;
            break;
        }
        if (c == UINT32_MAX) {
            memcpy(e, fffd, 3);
            e[SB_INFO] = 3 | SB_BAD;
        } else if (!xml_char_ok(c)) {
            e[SB_INFO] = 0;
        } else {
            e[SB_INFO] = (unsigned char)utf8_encode(c, (char *)e);
            if (c == b && b < 0x80)
                e[SB_INFO] |= SB_SAME;
        }
    }
    iconv_close(cd);
    return rc;
}

int
decoder_new(const char *charset, struct decoder **out)
{
    char cs[64];
    struct decoder *d;
    int rc;

    *out = NULL;
    if ((rc = decode_canonical(charset, cs, sizeof cs)) < 0)
        return rc;
    if ((d = calloc(1, sizeof *d)) == NULL)
        return -ENOMEM;
    d->cd = d->cd2 = (iconv_t)-1;
    if (strcmp(cs, "UTF-8") == 0) {
        d->kind = DEC_UTF8;
    } else if (strncmp(cs, "UTF-16", 6) == 0 && (!strcmp(cs + 6, "LE") || !strcmp(cs + 6, "BE"))) {
        d->kind = DEC_UTF16;
        d->big_endian = cs[6] == 'B';
    } else if (strncmp(cs, "UTF-32", 6) == 0 && (!strcmp(cs + 6, "LE") || !strcmp(cs + 6, "BE"))) {
        d->kind = DEC_UTF32;
        d->big_endian = cs[6] == 'B';
    } else if (is_single_byte(cs) && sb_build(d, cs) == 0) {
        d->kind = DEC_SB;
    } else {
        d->kind = DEC_ICONV;
        d->cd = iconv_open("UTF-8", cs);
        if (d->cd == (iconv_t)-1) {
            rc = errno == ENOMEM ? -ENOMEM : -EINVAL;
            goto fail;
        }
        if (strcmp(cs, "BIG5-HKSCS") == 0)
            d->cd2 = iconv_open("UTF-8", "CP950"); /* optional: -1 disables it */
    }
    *out = d;
    return 0;
fail:
    free(d);
    return rc;
}

int
decoder_run(struct decoder *d, const char *in, size_t n, int final, struct buf *out)
{
    struct sink s;
    const unsigned char *p = (const unsigned char *)in;

    s.out = out;
    s.err = 0;
    s.n = 0;
    if (n == 0)
        p = (const unsigned char *)"";
    switch (d->kind) {
    case DEC_UTF8:
        utf8_run(d, p, n, final, &s);
        break;
    case DEC_UTF16:
        utf16_run(d, p, n, final, &s);
        break;
    case DEC_UTF32:
        utf32_run(d, p, n, final, &s);
        break;
    case DEC_SB:
        sb_run(d, p, n, &s);
        break;
    case DEC_ICONV:
        iconv_run(d, p, n, final, &s);
        break;
    }
    sink_flush(&s);
    if (out != NULL && out->data == NULL && !s.err && buf_reserve(out, 0) < 0)
        s.err = -ENOMEM;
    return s.err;
}

size_t
decoder_errors(const struct decoder *d)
{
    return d->errors;
}

void
decoder_free(struct decoder *d)
{
    if (d == NULL)
        return;
    if (d->cd != (iconv_t)-1)
        iconv_close(d->cd);
    if (d->cd2 != (iconv_t)-1)
        iconv_close(d->cd2);
    free(d);
}

int
decode_validate(const char *charset, const char *buf, size_t n, size_t *errors)
{
    struct decoder *d;
    int rc;

    *errors = 0;
    if ((rc = decoder_new(charset, &d)) < 0)
        return rc;
    rc = decoder_run(d, buf, n, 1, NULL);
    *errors = decoder_errors(d);
    decoder_free(d);
    return rc;
}
