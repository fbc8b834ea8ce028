/* parse/input/xmlfix_markup.c — streaming repair of decoded UTF-8 XML before
 * libxml2 (xmlfix_int.h), its markup machine: text, tags and attribute values
 * (bare '<' escaped; references go to xmlfix_ref.c), CDATA, comments and PIs
 * passed unchanged; the prolog is xmlfix_prolog.c's. Input is copied in verbatim
 * runs; only the bytes that change are rewritten. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse/input/xmlfix_int.h"
#include "parse/input/xmlfix_machine_int.h"
#include "parse/parse.h"

/* ---- text and tags ---- */

static const char *
st_text(struct run *r, const char *p)
{
    struct xmlfix *x = r->x;
    const char *q = min2(next(r, K_LT, p), next(r, K_AMP, p));

    if (q == r->end)
        return q;
    if (*q == '&') {
        size_t k = ref_quick(q, r->end);
        if (k > 0)
            return q + k;
        ref_begin(r, q, XF_TEXT);
    } else {
        r->mark = q;
        x->carried = 0;
        x->la[0] = '<';
        x->nla = 1;
        x->st = XF_LT;
    }
    return q + 1;
}

/* What "<!…" in x->la is: 0 not known yet, -1 none of them, else 1 comment,
 * 2 CDATA section, 3 DOCTYPE (upper case in XML; any case taken). */
static int
bang_kind(const char *la, size_t n)
{
    static const char *const kinds[] = {"<!--", "<![CDATA[", "<!DOCTYPE"};
    int prefix = 0;

    for (int k = 0; k < 3; k++) {
        size_t len = strlen(kinds[k]), i;
        for (i = 0; i < n && i < len; i++) {
            char c = la[i];
            if (k == 2 && c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            if (c != kinds[k][i])
                break;
        }
        if (i == n && n == len)
            return k + 1;
        if (i == n)
            prefix = 1;
    }
    return prefix ? 0 : -1;
}

/* The construct in x->la is markup written as it is: `used` bytes of la. */
static inline void
lt_keep(struct run *r, size_t used, const char *resume)
{
    r->x->skipping = 0;
    if (r->x->carried) {
        put(r, r->x->la, used);
        r->vs = resume;
    }
    r->x->carried = 0;
}

static const char *
st_lt(struct run *r, const char *p)
{
    struct xmlfix *x = r->x;

    for (; p < r->end; p++) {
        unsigned char c = (unsigned char)*p;
        if (x->nla == 1 && c != '!') {
            if (c == '/' || name_start(c)) {
                x->la[x->nla++] = (char)c;
                lt_keep(r, x->nla, p + 1);
                x->st = XF_TAG;
            } else if (c == '?') {
                x->la[x->nla++] = (char)c;
                lt_keep(r, x->nla, p + 1);
                until(x, "?>");
            } else if (x->skipping) { /* junk before the first markup */
                if (!x->carried)
                    flush(r, r->mark);
                r->vs = p;
                x->carried = 0;
                x->problems |= PARSE_P_JUNK;
                x->st = XF_SKIP;
                return p;
            } else { /* "a < b", "<3": not markup */
                if (!x->carried)
                    flush(r, r->mark);
                put(r, "&lt;", 4);
                r->vs = p;
                x->carried = 0;
                x->problems |= PARSE_P_ENTITIES;
                x->st = XF_TEXT;
                return p;
            }
            return p + 1;
        }
        x->la[x->nla++] = (char)c;
        int k = bang_kind(x->la, x->nla);
        if (k == 0)
            continue;
        if (k < 0) { /* some other "<!": passes to its '>', which may be c */
            lt_keep(r, x->nla - 1, p);
            until(x, ">");
            return p;
        }
        lt_keep(r, x->nla, p + 1);
        if (k == 1) {
            until(x, "-->");
        } else if (k == 2) {
            until(x, "]]>");
        } else {
            x->st = XF_DOCTYPE;
            x->dt = DT_OUT;
            x->dq = 0;
        }
        return p + 1;
    }
    return p;
}

static const char *
st_tag(struct run *r, const char *p)
{
    const char *q = min2(next(r, K_GT, p), next(r, K_EQ, p));

    if (q == r->end)
        return q;
    r->x->st = *q == '>' ? XF_TEXT : XF_EQ;
    return q + 1;
}

/* Only a quote right after '=' opens a value: a stray quote elsewhere in a tag
 * must not swallow the document. */
static const char *
st_eq(struct run *r, const char *p)
{
    struct xmlfix *x = r->x;

    while (p < r->end && is_space((unsigned char)*p))
        p++;
    if (p == r->end)
        return p;
    if (*p == '"' || *p == '\'') {
        x->quote = *p;
        x->st = XF_VALUE;
        return p + 1;
    }
    x->st = XF_TAG; /* an unquoted value */
    return p;
}

static const char *
st_value(struct run *r, const char *p)
{
    struct xmlfix *x = r->x;
    const char *q = next(r, x->quote == '"' ? K_DQ : K_SQ, p);

    q = min2(q, min2(next(r, K_AMP, p), next(r, K_LT, p)));
    if (q == r->end)
        return q;
    if (*q == x->quote) {
        x->st = XF_TAG;
    } else if (*q == '&') {
        size_t k = ref_quick(q, r->end);
        if (k > 0)
            return q + k;
        ref_begin(r, q, XF_VALUE);
    } else { /* XML 1.0 §3.1: no '<' in an attribute value */
        flush(r, q);
        put(r, "&lt;", 4);
        r->vs = q + 1;
        x->problems |= PARSE_P_ENTITIES;
    }
    return q + 1;
}

/* ---- sections passed unchanged ---- */

/* Whether the `k` bytes before g (inside the section: from s in this buffer,
 * then x->tail) end the section with x->term. */
static int
term_before(const struct xmlfix *x, const char *s, const char *g, size_t k)
{
    size_t here = (size_t)(g - s);

    for (size_t j = 1; j <= k; j++) {
        char c;
        if (j <= here) {
            c = g[-(ptrdiff_t)j];
        } else {
            size_t back = j - here;
            if (back > x->ntail)
                return 0;
            c = x->tail[x->ntail - back];
        }
        if (c != x->term[k - j])
            return 0;
    }
    return 1;
}

static const char *
st_until(struct run *r, const char *p)
{
    struct xmlfix *x = r->x;
    const char *s = p;
    size_t seg;

    for (;;) {
        const char *g = next(r, K_GT, p);
        if (g == r->end)
            break;
        if (term_before(x, s, g, x->tlen - 1)) {
            x->st = XF_TEXT;
            return g + 1;
        }
        p = g + 1;
    }
    seg = (size_t)(r->end - s);
    if (seg >= 2) {
        memcpy(x->tail, r->end - 2, 2);
        x->ntail = 2;
    } else if (seg == 1) {
        if (x->ntail > 0) {
            x->tail[0] = x->tail[x->ntail - 1];
            x->tail[1] = r->end[-1];
            x->ntail = 2;
        } else {
            x->tail[0] = r->end[-1];
            x->ntail = 1;
        }
    }
    return r->end;
}
const char *
xmlfix_body(struct run *r, const char *p)
{
    while (p < r->end && !r->err) {
        switch (r->x->st) {
        case XF_HEAD:
            p = xmlfix_head_state(r, p, 0);
            r->vs = r->mark = p;
            break;
        case XF_SKIP:
            p = xmlfix_skip_state(r, p);
            break;
        case XF_DECL:
            p = xmlfix_decl_state(r, p);
            break;
        case XF_TEXT:
            p = st_text(r, p);
            break;
        case XF_REF:
            p = xmlfix_ref_state(r, p);
            break;
        case XF_LT:
            p = st_lt(r, p);
            break;
        case XF_TAG:
            p = st_tag(r, p);
            break;
        case XF_EQ:
            p = st_eq(r, p);
            break;
        case XF_VALUE:
            p = st_value(r, p);
            break;
        case XF_UNTIL:
            p = st_until(r, p);
            break;
        case XF_DOCTYPE:
            p = xmlfix_doctype_state(r, p);
            break;
        }
    }
    /* A reference or "<…" still open keeps its bytes in x, unwritten. */
    if (r->x->st == XF_REF || r->x->st == XF_LT) {
        flush(r, r->mark);
        r->x->carried = 1;
    } else {
        flush(r, r->end);
    }
    return p;
}

/* The document ends: write what is held back. */
static void
finish(struct run *r)
{
    struct xmlfix *x = r->x;

    switch (x->st) {
    case XF_DECL:
        put(r, x->hold.data, x->hold.len);
        break;
    case XF_REF:
        xmlfix_ref_bare(r, r->end, 0);
        break;
    case XF_LT:
        if (x->nla == 1 && x->skipping) {
            x->problems |= PARSE_P_JUNK;
        } else if (x->nla == 1) {
            put(r, "&lt;", 4);
            x->problems |= PARSE_P_ENTITIES;
        } else {
            put(r, x->la, x->nla);
        }
        break;
    default:
        break;
    }
}

static void
reset(struct xmlfix *x)
{
    for (size_t i = 0; i < x->nents; i++)
        free(x->ents[i]);
    free(x->ents);
    x->ents = NULL;
    x->nents = 0;
    buf_reset(&x->hold);
    x->st = XF_HEAD;
    x->carried = x->skipping = 0;
    x->nref = x->nla = x->ntail = x->ntok = 0;
}

int
xmlfix_new(struct xmlfix **out)
{
    struct xmlfix *x = calloc(1, sizeof *x);

    *out = x;
    if (x == NULL)
        return -ENOMEM;
    x->st = XF_HEAD;
    return 0;
}

int
xmlfix_run(struct xmlfix *x, const char *in, size_t n, int final, struct buf *out)
{
    struct run r = {.x = x, .out = out};
    const char *p = n ? in : "";

    r.end = p + n;
    r.vs = r.mark = p;
    if (x->st == XF_HEAD) {
        p = xmlfix_head_state(&r, p, final);
        r.vs = r.mark = p;
    }
    xmlfix_body(&r, p);
    if (final) {
        finish(&r);
        reset(x);
    }
    if (!r.err && out->data == NULL && buf_reserve(out, 0) < 0)
        r.err = -ENOMEM;
    return r.err;
}

unsigned
xmlfix_problems(const struct xmlfix *x)
{
    return x->problems;
}

void
xmlfix_free(struct xmlfix *x)
{
    if (x == NULL)
        return;
    reset(x);
    buf_free(&x->hold);
    free(x);
}
