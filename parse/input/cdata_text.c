/* parse/input/cdata_text.c — the tag stage's text runs: escaped text ("&lt;p&gt;…")
 * handed to libxml2 as one CDATA section with its references decoded, or, when a
 * reference will not decode, as text with character references only
 * (tag_stage_int.h says why); line ends normalized inside CDATA. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/input/tag_stage_int.h"

/* The character of the reference at p ("&lt;", "&#233;"; p[0] == '&') and its
 * length in *len, or -1 when it is not one that may be written as itself in
 * CDATA (LF and CR stay references, so that libxml2's line numbers do not
 * move; an unknown or unfinished reference is left to libxml2). */
static long
cd_ref(const char *p, const char *end, size_t *len)
{
    size_t room = (size_t)(end - p);
#define CD_NAMED(s, c)                                                                             \
    if (room >= sizeof(s) - 1 && memcmp(p, s, sizeof(s) - 1) == 0) {                              \
        *len = sizeof(s) - 1;                                                                      \
        return c;                                                                                  \
    }
    switch (room > 1 ? p[1] : 0) {
    case 'l': CD_NAMED("&lt;", '<'); return -1;
    case 'g': CD_NAMED("&gt;", '>'); return -1;
    case 'a': CD_NAMED("&amp;", '&'); CD_NAMED("&apos;", '\''); return -1;
    case 'q': CD_NAMED("&quot;", '"'); return -1;
    case '#': break;
    default: return -1;
    }
#undef CD_NAMED
    int hex = room > 2 && p[2] == 'x';
    const char *d = p + 2 + hex, *stop = room > 12 ? p + 12 : end;
    long v = 0;
    for (; d < stop && *d != ';'; d++) {
        int x = isdigit((unsigned char)*d)          ? *d - '0'
                : hex && isxdigit((unsigned char)*d) ? (*d | 0x20) - 'a' + 10
                                                     : -1;
        if (x < 0)
            return -1;
        v = v * (hex ? 16 : 10) + x;
    }
    if (d == stop || d == p + 2 + hex)
        return -1;
    *len = (size_t)(d + 1 - p);
    if (v == 0x9 || (v >= 0x20 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD) ||
        (v >= 0x10000 && v <= 0x10FFFF))
        return v;
    return -1;
}

/* Text written as it is, but for "]]>", which XML does not allow in text:
 * "]]&gt;" reads the same, and the run it is in may be CDATA next time. */
static int
cd_plain(struct buf *out, const char *p, size_t n)
{
    const char *end = p + n, *b = p;
    while ((b = memchr(b, ']', (size_t)(end - b))) != NULL && end - b >= 3) {
        if (b[1] == ']' && b[2] == '>') {
            if (buf_add(out, p, (size_t)(b + 2 - p)) < 0 || buf_add(out, "&gt;", 4) < 0)
                return -ENOMEM;
            p = b + 3;
        }
        b++;
    }
    return buf_add(out, p, (size_t)(end - p));
}

/* A text run that cannot be CDATA: written as it is, except that the
 * predefined entities become character references. libxml2 (2.9) drops every
 * entity reference in text, &lt; and &amp; included, once it has seen the
 * document is not well-formed; character references it always keeps. */
static int
cd_raw(const char *p, size_t n, struct buf *out)
{
    const char *end = p + n, *amp;
    while ((amp = memchr(p, '&', (size_t)(end - p))) != NULL) {
        size_t len;
        long c = amp[1] != '#' ? cd_ref(amp, end, &len) : -1;
        char num[24];
        if (cd_plain(out, p, (size_t)(amp - p)) < 0)
            return -ENOMEM;
        if (c < 0) {
            if (buf_add(out, "&", 1) < 0)
                return -ENOMEM;
            p = amp + 1;
            continue;
        }
        snprintf(num, sizeof(num), "&#%ld;", c);
        if (buf_adds(out, num) < 0)
            return -ENOMEM;
        p = amp + len;
    }
    return cd_plain(out, p, (size_t)(end - p));
}

/* Text into a CDATA section, line ends normalized (XML 1.0 §2.11) as libxml2
 * does for text but not for CDATA: CR LF and a lone CR become LF. */
int
cdata_add_lf(struct buf *out, const char *p, size_t n)
{
    const char *end = p + n, *cr;
    while ((cr = memchr(p, '\r', (size_t)(end - p))) != NULL) {
        if (buf_add(out, p, (size_t)(cr - p)) < 0 ||
            (cr + 1 < end && cr[1] == '\n' ? 0 : buf_add(out, "\n", 1)) < 0)
            return -ENOMEM;
        p = cr + 1;
    }
    return buf_add(out, p, (size_t)(end - p));
}

/* Write the text run p[0..n) to out: as CDATA when it has references and all
 * of them decode, else by cd_raw. */
int
cdata_text(const char *p, size_t n, struct buf *out)
{
    const char *run = p, *end = p + n, *amp = memchr(p, '&', n);
    if (amp == NULL)
        return cd_plain(out, p, n);
    size_t mark = out->len; /* where to go back to when a reference will not do */
    if (buf_add(out, "<![CDATA[", 9) < 0)
        return -ENOMEM;
    size_t start = out->len;
    while (amp != NULL) {
        size_t len;
        long c = cd_ref(amp, end, &len);
        if (c < 0) {
            out->len = mark;
            out->data[mark] = '\0';
            return cd_raw(p, n, out);
        }
        if (cdata_add_lf(out, run, (size_t)(amp - run)) < 0 || buf_add_utf8(out, (uint32_t)c) < 0)
            return -ENOMEM;
        run = amp + len;
        amp = memchr(run, '&', (size_t)(end - run));
    }
    if (cdata_add_lf(out, run, (size_t)(end - run)) < 0)
        return -ENOMEM;
    /* "]]>" cannot be in a CDATA section: split it there (rare: "]]&gt;"). */
    if (strstr(out->data + start, "]]>") != NULL) {
        char *sec = strndup(out->data + start, out->len - start);
        if (sec == NULL)
            return -ENOMEM;
        out->len = start;
        const char *s = sec, *m;
        while ((m = strstr(s, "]]>")) != NULL) {
            buf_add(out, s, (size_t)(m - s) + 2);
            buf_adds(out, "]]><![CDATA[");
            s = m + 2;
        }
        buf_adds(out, s);
        free(sec);
    }
    return buf_add(out, "]]>", 3);
}
