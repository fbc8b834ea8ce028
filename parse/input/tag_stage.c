/* parse/input/tag_stage.c — the tag stage between xmlfix_markup.c and libxml2
 * (tag_stage_int.h says why): markup followed state by state, stray and missing
 * end tags repaired on a stack of open elements, HTML void elements closed; the
 * text runs between tags go out through cdata_text.c. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/input/tag_stage_int.h"

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

/* What a scan step tells cd_scan: copy [p, q) and go on, or stop (the rest
 * of the chunk is held). Errors are negative. */
enum { SCAN_COPY = 0, SCAN_DONE = 1 };

/* Hold end[..] from `from` for the next chunk: SCAN_DONE or -ENOMEM. */
static int
held(struct cdata *c, const char *from, const char *end)
{
    return buf_add(&c->held, from, (size_t)(end - from)) < 0 ? -ENOMEM : SCAN_DONE;
}

/* Text p..end with no '<' and more input to come: where to stop so that a
 * reference or a UTF-8 sequence cut by the chunk waits for its end (the text
 * on either side may become CDATA), as do "]]" and a CR. */
static const char *
text_stop(const char *p, const char *end)
{
    const char *stop = end;
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
    return stop;
}

/* CD_TEXT at p: the text up to the next '<' goes out through cdata_text; the
 * markup there chooses the next state. Returns SCAN_COPY with *q set (bytes
 * [*p, *q) are copied as they are), SCAN_DONE when the rest is held for the
 * next chunk, or -ENOMEM. */
static int
scan_text(struct cdata *c, const char **pp, const char **qq, const char *end, int final,
          struct buf *out)
{
    const char *p = *pp;
    const char *lt = memchr(p, '<', (size_t)(end - p));
    const char *stop = lt ? lt : end;
    if (lt == NULL && !final)
        stop = text_stop(p, end);
    if (cdata_text(p, (size_t)(stop - p), out) < 0)
        return -ENOMEM;
    if (lt == NULL)
        return held(c, stop, end);
    *pp = *qq = lt; /* the text is written; the markup is copied below */
    size_t k = (size_t)(end - lt);
    if (!final && k < 9 && (k == 1 || lt[1] == '!'))
        return held(c, lt, end); /* "<!" cut: comment, CDATA or DTD? */
    c->run = 0;
    if (k >= 4 && memcmp(lt, "<!--", 4) == 0) {
        c->state = CD_COMMENT, c->ret = CD_TEXT, *qq = lt + 4;
    } else if (k >= 9 && memcmp(lt, "<![CDATA[", 9) == 0) {
        c->state = CD_CDATA, c->ret = CD_TEXT, *qq = lt + 9;
    } else if (lt[1] == '?') {
        c->state = CD_PI, c->ret = CD_TEXT, *qq = lt + 2;
    } else if (lt[1] == '!') {
        c->state = CD_DECL, c->quote = 0, c->nest = 0, *qq = lt + 2;
    } else if (lt[1] == '/') {
        /* an end tag is taken whole: it may be dropped or preceded */
        size_t room = k < TAG_NAME_MAX + 32 ? k : TAG_NAME_MAX + 32;
        const char *gt = memchr(lt, '>', room);
        if (gt == NULL && !final && k < TAG_NAME_MAX + 32)
            return held(c, lt, end);
        if (gt == NULL) {
            c->state = CD_TAG, c->quote = 0, c->prev = 0, c->tag_void = 0;
            *qq = lt + 2;
            return SCAN_COPY;
        }
        if (cd_end_tag(c, lt, gt, out) < 0)
            return -ENOMEM;
        *pp = *qq = gt + 1;
    } else {
        /* a start tag: its name is pushed, the rest copied in CD_TAG */
        const char *ne = lt + 1;
        while (ne < end && ne - lt <= TAG_NAME_MAX && is_name_char((unsigned char)*ne))
            ne++;
        if (ne == end && !final && k <= TAG_NAME_MAX)
            return held(c, lt, end);
        if (cd_push(c, lt + 1, (size_t)(ne - lt - 1)) < 0)
            return -ENOMEM;
        c->tag_void = memchr(lt + 1, ':', (size_t)(ne - lt - 1)) == NULL &&
                      is_void_tag(lt + 1, (size_t)(ne - lt - 1));
        c->state = CD_TAG, c->quote = 0, c->prev = 0;
        *qq = ne;
    }
    return SCAN_COPY;
}

/* CD_TAG, the hot case: skip to the next quote or '>'. An HTML void element
 * left open is written "<br/>" here (so *pp moves). SCAN_COPY or -ENOMEM. */
static int
scan_tag(struct cdata *c, const char **pp, const char **qq, const char *end, struct buf *out)
{
    const char *p = *pp, *q = *qq;
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
    *pp = p;
    *qq = q;
    return SCAN_COPY;
}

/* CD_DECL ("<!DOCTYPE …", "<!ELEMENT …"): to its '>' outside quotes and the
 * internal subset. Returns where the bytes to copy end. */
static const char *
scan_decl(struct cdata *c, const char *q, const char *end)
{
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
        } else if (c->nest > 0 && ch == '<' && end - q >= 4 && memcmp(q, "<!--", 4) == 0) {
            /* a comment in the internal subset: its quotes are not quotes */
            c->state = CD_COMMENT, c->ret = CD_DECL, c->run = 0;
            return q + 4;
        } else if (c->nest > 0 && ch == '<' && end - q >= 2 && q[1] == '?') {
            c->state = CD_PI, c->ret = CD_DECL, c->run = 0;
            return q + 2;
        } else if (ch == '>' && c->nest <= 0) {
            c->state = CD_TEXT;
            return q + 1;
        }
    }
    return q;
}

static int
cd_scan(struct cdata *c, const char *p, size_t n, int final, struct buf *out)
{
    const char *end = p + n;
    while (p < end) {
        const char *q = p;
        int rc = SCAN_COPY;
        switch (c->state) {
        case CD_TEXT:
            rc = scan_text(c, &p, &q, end, final, out);
            break;
        case CD_TAG:
            rc = scan_tag(c, &p, &q, end, out);
            break;
        case CD_DECL:
            q = scan_decl(c, q, end);
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
            if (cdata_add_lf(out, p, (size_t)(q - p)) < 0)
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
        if (rc != SCAN_COPY)
            return rc == SCAN_DONE ? 0 : rc;
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
