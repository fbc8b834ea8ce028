/* parse/input/tag_stage.c — the tag stage: escaped text handed to libxml2 as CDATA,
 * stray and missing end tags repaired (feed_tags_int.h says why). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
static int
cd_add_lf(struct buf *out, const char *p, size_t n)
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
static int
cd_text(const char *p, size_t n, struct buf *out)
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
        if (cd_add_lf(out, run, (size_t)(amp - run)) < 0 || buf_add_utf8(out, (uint32_t)c) < 0)
            return -ENOMEM;
        run = amp + len;
        amp = memchr(run, '&', (size_t)(end - run));
    }
    if (cd_add_lf(out, run, (size_t)(end - run)) < 0)
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

/* In a comment, CDATA section or PI: copy up to and including its end
 * ("-->", "]]>", "?>"), or all of p..end. Returns the bytes consumed. */
static size_t
cd_until(struct cdata *c, const char *p, const char *end, char mark, int need)
{
    const char *q = p;
    while ((q = memchr(q, '>', (size_t)(end - q))) != NULL) {
        int k = 0;
        for (const char *b = q; b > p && b[-1] == mark && k < need; b--)
            k++;
        if (k == q - p) /* all marks since p: add those seen before it */
            k += c->run;
        if (k >= need) {
            c->state = c->ret;
            c->run = 0;
            return (size_t)(q + 1 - p);
        }
        q++;
    }
    int k = 0;
    for (const char *b = end; b > p && b[-1] == mark && k < need; b--)
        k++;
    c->run = k == end - p ? c->run + k : k;
    return (size_t)(end - p);
}

static int
is_name_char(unsigned char ch)
{
    return ch > ' ' && ch != '/' && ch != '>' && ch != '<' && ch != '"' && ch != '\'' &&
           ch != '=';
}

/* HTML elements without content, as naked HTML writes them: <br>, <img …>.
 * ("link" and "source" are feed elements with content, "base" is left out.) */
static int
is_void_tag(const char *name, size_t n)
{
    static const char *const v[] = {"area", "br",    "col",   "embed", "hr",    "img",
                                    "input", "keygen", "meta", "param", "track", "wbr"};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (strlen(v[i]) == n && strncasecmp(v[i], name, n) == 0)
            return 1;
    return 0;
}

static int
cd_push(struct cdata *c, const char *name, size_t n)
{
    if (c->unbalanced)
        return 0;
    if (n > TAG_NAME_MAX || c->depth == TAG_DEPTH_MAX) {
        c->unbalanced = 1;
        return 0;
    }
    if (c->depth == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        size_t *o = realloc(c->open, cap * sizeof(*o));
        if (o == NULL)
            return -ENOMEM;
        c->open = o;
        c->cap = cap;
    }
    c->open[c->depth++] = c->names.len;
    if (buf_add(&c->names, name, n) < 0 || buf_add(&c->names, "", 1) < 0)
        return -ENOMEM;
    return 0;
}

static void
cd_pop(struct cdata *c)
{
    if (c->unbalanced || c->depth == 0)
        return;
    c->names.len = c->open[--c->depth];
}

/* The end tag lt..gt ("</name>"): written when it closes the innermost open
 * element; after end tags for the elements inside when it closes an outer
 * one; dropped when it closes none. */
static int
cd_end_tag(struct cdata *c, const char *lt, const char *gt, struct buf *out)
{
    const char *name = lt + 2, *ne = name;
    while (ne < gt && is_name_char((unsigned char)*ne))
        ne++;
    size_t n = (size_t)(ne - name);
    for (const char *w = ne; w < gt; w++)
        if (!isspace((unsigned char)*w))
            n = 0; /* "</a b>": not an end tag libxml2 would take; leave it */
    if (c->unbalanced || n == 0)
        return buf_add(out, lt, (size_t)(gt + 1 - lt));
    size_t i = c->depth;
    while (i > 0 && !(strlen(c->names.data + c->open[i - 1]) == n &&
                      memcmp(c->names.data + c->open[i - 1], name, n) == 0))
        i--;
    if (i == 0) {
        if (c->repairs++ == 0)
            snprintf(c->repair, sizeof(c->repair), "stray end tag </%.*s> dropped",
                     (int)(n < 40 ? n : 40), name);
        return 0;
    }
    while (c->depth > i) {
        const char *inner = c->names.data + c->open[c->depth - 1];
        if (c->repairs++ == 0)
            snprintf(c->repair, sizeof(c->repair), "end tag </%.40s> missing before </%.40s>",
                     inner, c->names.data + c->open[i - 1]);
        if (buf_adds(out, "</") < 0 || buf_adds(out, inner) < 0 || buf_adds(out, ">") < 0)
            return -ENOMEM;
        cd_pop(c);
    }
    cd_pop(c);
    return buf_add(out, lt, (size_t)(gt + 1 - lt));
}

static int
cd_scan(struct cdata *c, const char *p, size_t n, int final, struct buf *out)
{
    const char *end = p + n;
    while (p < end) {
        const char *q = p;
        switch (c->state) {
        case CD_TEXT: {
            const char *lt = memchr(p, '<', (size_t)(end - p));
            const char *stop = lt ? lt : end;
            if (lt == NULL && !final) {
                /* a reference or a UTF-8 sequence cut by the chunk waits for
                 * its end: the text on either side may become CDATA */
                for (const char *a = end; a > p && end - a < 16; a--)
                    if (a[-1] == ';')
                        break;
                    else if (a[-1] == '&') {
                        stop = a - 1;
                        break;
                    }
                while (stop > p && end - stop < 2 && stop[-1] == ']')
                    stop--; /* "]]" + ">" next time */
                if (stop > p && stop[-1] == '\r')
                    stop--; /* CR + LF next time */
                const char *u = stop;
                while (u > p && stop - u < 4 && ((unsigned char)u[-1] & 0xC0) == 0x80)
                    u--;
                if (u > p && ((unsigned char)u[-1] & 0xC0) == 0xC0) {
                    unsigned char lead = (unsigned char)u[-1];
                    int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
                    if (stop - (u - 1) < need)
                        stop = u - 1;
                }
            }
            if (cd_text(p, (size_t)(stop - p), out) < 0)
                return -ENOMEM;
            if (lt == NULL)
                return buf_add(&c->held, stop, (size_t)(end - stop));
            p = q = lt; /* the text is written; the markup is copied below */
            size_t k = (size_t)(end - lt);
            if (!final && k < 9 && (k == 1 || lt[1] == '!'))
                return buf_add(&c->held, lt, k); /* "<!" cut: comment, CDATA or DTD? */
            c->run = 0;
            if (k >= 4 && memcmp(lt, "<!--", 4) == 0) {
                c->state = CD_COMMENT, c->ret = CD_TEXT, q = lt + 4;
            } else if (k >= 9 && memcmp(lt, "<![CDATA[", 9) == 0) {
                c->state = CD_CDATA, c->ret = CD_TEXT, q = lt + 9;
            } else if (lt[1] == '?') {
                c->state = CD_PI, c->ret = CD_TEXT, q = lt + 2;
            } else if (lt[1] == '!') {
                c->state = CD_DECL, c->quote = 0, c->nest = 0, q = lt + 2;
            } else if (lt[1] == '/') {
                /* an end tag is taken whole: it may be dropped or preceded */
                size_t room = k < TAG_NAME_MAX + 32 ? k : TAG_NAME_MAX + 32;
                const char *gt = memchr(lt, '>', room);
                if (gt == NULL && !final && k < TAG_NAME_MAX + 32)
                    return buf_add(&c->held, lt, k);
                if (gt == NULL) {
                    c->state = CD_TAG, c->quote = 0, c->prev = 0, c->tag_void = 0;
                    q = lt + 2;
                    break;
                }
                if (cd_end_tag(c, lt, gt, out) < 0)
                    return -ENOMEM;
                p = q = gt + 1;
            } else {
                /* a start tag: its name is pushed, the rest copied in CD_TAG */
                const char *ne = lt + 1;
                while (ne < end && ne - lt <= TAG_NAME_MAX && is_name_char((unsigned char)*ne))
                    ne++;
                if (ne == end && !final && k <= TAG_NAME_MAX)
                    return buf_add(&c->held, lt, k);
                if (cd_push(c, lt + 1, (size_t)(ne - lt - 1)) < 0)
                    return -ENOMEM;
                c->tag_void = memchr(lt + 1, ':', (size_t)(ne - lt - 1)) == NULL &&
                              is_void_tag(lt + 1, (size_t)(ne - lt - 1));
                c->state = CD_TAG, c->quote = 0, c->prev = 0;
                q = ne;
            }
            break;
        }
        case CD_TAG:
            /* the hot case: skip to the next quote or '>' */
            while (q < end) {
                if (c->quote) {
                    const char *cl = memchr(q, c->quote, (size_t)(end - q));
                    if (cl == NULL) {
                        q = end;
                        break;
                    }
                    c->quote = 0;
                    q = cl + 1;
                    continue;
                }
                while (q < end && *q != '>' && *q != '"' && *q != '\'')
                    q++;
                if (q == end)
                    break;
                if (*q == '>') {
                    char prev = q > p ? q[-1] : c->prev;
                    c->state = CD_TEXT;
                    if (prev == '/') {
                        cd_pop(c); /* <x/>: nothing stays open */
                    } else if (c->tag_void) {
                        if (c->repairs++ == 0)
                            snprintf(c->repair, sizeof(c->repair),
                                     "HTML element <%.40s> left open; closed",
                                     c->depth > 0 && !c->unbalanced
                                         ? c->names.data + c->open[c->depth - 1]
                                         : "?");
                        cd_pop(c); /* <br>: written <br/> */
                        if (buf_add(out, p, (size_t)(q - p)) < 0 || buf_add(out, "/>", 2) < 0)
                            return -ENOMEM;
                        p = q + 1;
                        q = p;
                        break;
                    }
                    q++;
                    break;
                }
                c->quote = *q++;
            }
            if (q > p)
                c->prev = q[-1];
            break;
        case CD_DECL:
            for (; q < end; q++) {
                char ch = *q;
                if (c->quote) {
                    if (ch == c->quote)
                        c->quote = 0;
                } else if (ch == '"' || ch == '\'') {
                    c->quote = ch;
                } else if (ch == '[') {
                    c->nest++;
                } else if (ch == ']') {
                    c->nest--;
                } else if (c->nest > 0 && ch == '<' && end - q >= 4 &&
                           memcmp(q, "<!--", 4) == 0) {
                    /* a comment in the internal subset: its quotes are not quotes */
                    c->state = CD_COMMENT, c->ret = CD_DECL, c->run = 0;
                    q += 4;
                    break;
                } else if (c->nest > 0 && ch == '<' && end - q >= 2 && q[1] == '?') {
                    c->state = CD_PI, c->ret = CD_DECL, c->run = 0;
                    q += 2;
                    break;
                } else if (ch == '>' && c->nest <= 0) {
                    c->state = CD_TEXT;
                    q++;
                    break;
                }
            }
            break;
        case CD_COMMENT:
            q += cd_until(c, p, end, '-', 2);
            break;
        case CD_CDATA: {
            /* libxml2 does not normalize line ends in CDATA sections: here */
            q += cd_until(c, p, end, ']', 2);
            int hold = c->state == CD_CDATA && !final && q > p && q[-1] == '\r';
            if (hold)
                q--; /* CR + LF next time */
            if (cd_add_lf(out, p, (size_t)(q - p)) < 0)
                return -ENOMEM;
            if (hold)
                return buf_add(&c->held, q, (size_t)(end - q));
            p = q;
            continue;
        }
        case CD_PI:
            q += cd_until(c, p, end, '?', 1);
            break;
        }
        if (buf_add(out, p, (size_t)(q - p)) < 0)
            return -ENOMEM;
        p = q;
    }
    return 0;
}

/* Rewrite n bytes of XML (`in`, borrowed) into out; final != 0 on the last
 * call writes out everything held back. Returns 0 or -ENOMEM. */
int
cdata_run(struct cdata *c, const char *in, size_t n, int final, struct buf *out)
{
    struct buf joined = {0};
    int rc;
    if (c->held.len > 0) {
        joined = c->held;
        c->held = (struct buf){0};
        if (buf_add(&joined, in, n) < 0) {
            buf_free(&joined);
            return -ENOMEM;
        }
        in = joined.data;
        n = joined.len;
    }
    rc = cd_scan(c, in, n, final, out);
    buf_free(&joined);
    if (rc == 0 && final) {
        rc = buf_add(out, c->held.data ? c->held.data : "", c->held.len);
        buf_free(&c->held);
    }
    return rc;
}

void
cdata_free(struct cdata *c)
{
    buf_free(&c->held);
    buf_free(&c->names);
    free(c->open);
    c->open = NULL;
}
