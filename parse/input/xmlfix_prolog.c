/* parse/input/xmlfix_prolog.c — the XML repairer at the start of a document
 * (XML 1.0 §2.8, the prolog): junk before the first tag skipped, the declaration
 * found within the first 1 KiB and its encoding rewritten to UTF-8, and the
 * DOCTYPE passed unchanged while its internal subset's entity names are noted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse/input/decode_int.h"
#include "parse/input/xmlfix_machine_int.h"
#include "parse/parse.h"


/* An internal-subset declaration is complete in x->tok (maybe cut short):
 * remember the name of a general entity. */
static void
dt_decl(struct run *r)
{
    struct xmlfix *x = r->x;
    const char *t = x->tok, *name;

    if (x->ntok < 10 || memcmp(t, "<!ENTITY", 8) != 0 || !is_space((unsigned char)t[8]))
        return;
    for (t += 8; is_space((unsigned char)*t); t++)
        ;
    if (*t == '%') /* a parameter entity: never referenced with '&' */
        return;
    for (name = t; name_char((unsigned char)*t); t++)
        ;
    if (t == name || !is_space((unsigned char)*t) || x->nents == ENTS_MAX)
        return;
    char **ents = realloc(x->ents, (x->nents + 1) * sizeof *ents);
    char *s = ents ? malloc((size_t)(t - name) + 1) : NULL;
    if (ents)
        x->ents = ents;
    if (s == NULL) {
        r->err = -ENOMEM;
        return;
    }
    memcpy(s, name, (size_t)(t - name));
    s[t - name] = '\0';
    x->ents[x->nents++] = s;
}

/* One byte of the DOCTYPE; returns 1 when it is its final '>'. */
static int
dt_byte(struct run *r, char c)
{
    struct xmlfix *x = r->x;

    switch (x->dt) {
    case DT_OUT:
        if (x->dq) {
            if (c == x->dq)
                x->dq = 0;
        } else if (c == '"' || c == '\'') {
            x->dq = c;
        } else if (c == '[') {
            x->dt = DT_SUB;
        } else if (c == '>') {
            return 1;
        }
        return 0;
    case DT_SUB:
        if (c == '<') {
            x->tok[0] = c;
            x->ntok = 1;
            x->dt = DT_LT;
        } else if (c == ']') {
            x->dt = DT_OUT;
        }
        return 0;
    case DT_LT:
        x->tok[x->ntok++] = c;
        if (x->ntok == 2 && c == '?') {
            x->dt = DT_PI;
            x->seen = 0;
            return 0;
        }
        if ((x->ntok == 2 && c == '!') || (x->ntok == 3 && c == '-'))
            return 0;
        if (x->ntok == 4 && c == '-' && x->tok[2] == '-') {
            x->dt = DT_COMMENT;
            x->seen = 0;
            return 0;
        }
        x->ntok--; /* a declaration: c is read again as part of it */
        x->dt = DT_DECL;
        x->dq = 0;
        return dt_byte(r, c);
    case DT_DECL:
        if (x->ntok < TOK_MAX - 1)
            x->tok[x->ntok++] = c;
        if (x->dq) {
            if (c == x->dq)
                x->dq = 0;
        } else if (c == '"' || c == '\'') {
            x->dq = c;
        } else if (c == '>') {
            x->tok[x->ntok] = '\0';
            dt_decl(r);
            x->dt = DT_SUB;
        }
        return 0;
    case DT_COMMENT:
        if (c == '>' && x->seen >= 2)
            x->dt = DT_SUB;
        else
            x->seen = c == '-' ? x->seen + 1 : 0;
        return 0;
    case DT_PI:
        if (c == '>' && x->seen)
            x->dt = DT_SUB;
        else
            x->seen = c == '?';
        return 0;
    }
    return 0;
}

const char *
xmlfix_doctype_state(struct run *r, const char *p)
{
    for (; p < r->end && !r->err; p++) {
        if (dt_byte(r, *p)) {
            r->x->st = XF_TEXT;
            return p + 1;
        }
    }
    return r->end;
}
/* ---- start of the document ---- */

/* Something other than white space or U+FEFF was skipped. */
static void
junk(struct xmlfix *x, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 0; i < n;) {
        if (is_space(p[i])) {
            i++;
        } else if (n - i >= 3 && p[i] == 0xEF && p[i + 1] == 0xBB && p[i + 2] == 0xBF) {
            i += 3;
        } else {
            x->problems |= PARSE_P_JUNK;
            return;
        }
    }
}

const char *
xmlfix_skip_state(struct run *r, const char *p)
{
    const char *lt = next(r, K_LT, p);

    junk(r->x, p, (size_t)(lt - p));
    r->vs = lt;
    if (lt != r->end)
        r->x->st = XF_TEXT;
    return lt;
}

/* "<?xml" + white space + "version" at h[q]: 1 yes, 0 no, -1 too few bytes. */
static int
match_decl(const char *h, size_t n, size_t q)
{
    static const char pre[] = "<?xml", ver[] = "version";
    size_t i;

    for (i = 0; i < 5; i++) {
        if (q + i >= n)
            return -1;
        if (h[q + i] != pre[i])
            return 0;
    }
    i = q + 5;
    if (i >= n)
        return -1;
    if (!is_space((unsigned char)h[i]))
        return 0;
    while (i < n && is_space((unsigned char)h[i]))
        i++;
    for (size_t k = 0; k < 7; k++) {
        if (i + k >= n)
            return -1;
        if (h[i + k] != ver[k])
            return 0;
    }
    return 1;
}


/* Hold back up to HEAD_MAX bytes until it is known where the document starts. */
const char *
xmlfix_head_state(struct run *r, const char *p, int final)
{
    struct xmlfix *x = r->x;
    size_t take = (size_t)(r->end - p), at = 0, n;
    const char *h, *lt;
    int found = 0;

    if (take > HEAD_MAX - x->hold.len)
        take = HEAD_MAX - x->hold.len;
    if (buf_add(&x->hold, p, take) < 0) {
        r->err = -ENOMEM;
        return r->end;
    }
    p += take;
    h = x->hold.data;
    n = x->hold.len;
    lt = memchr(h, '<', n);
    if (lt != NULL && match_decl(h, n, (size_t)(lt - h)) == 1) {
        at = (size_t)(lt - h); /* the earliest place it can be: decided now */
        found = 1;
    } else if (n < HEAD_MAX && !final) {
        return p;
    } else {
        for (size_t q = lt ? (size_t)(lt - h) : n; q < n && q < HEAD_SCAN; q++) {
            if (h[q] != '<')
                continue;
            if (n - q >= 9 && memcmp(h + q, "<![CDATA[", 9) == 0)
                break; /* "<?xml" inside CDATA is text */
            if (match_decl(h, n, q) == 1) {
                at = q;
                found = 1;
                break;
            }
        }
        if (!found)
            at = lt ? (size_t)(lt - h) : n;
    }
    junk(x, h, at);
    x->st = found ? XF_DECL : lt ? XF_TEXT : XF_SKIP;
    x->skipping = !found;
    struct buf held = x->hold;
    memset(&x->hold, 0, sizeof x->hold);
    struct run sub = {.x = x, .out = r->out, .end = held.data + n, .vs = held.data + at};
    sub.mark = sub.vs;
    xmlfix_body(&sub, sub.vs);
    buf_free(&held);
    if (sub.err)
        r->err = sub.err;
    return p;
}

/* The declaration is complete in x->hold (it ends with '>'): written with
 * encoding="UTF-8", and with the '?' of "?>" if it was missing. */
static void
decl_out(struct run *r)
{
    struct xmlfix *x = r->x;
    const char *h = x->hold.data;
    size_t n = x->hold.len - 1, off, len;

    if (n > 0 && h[n - 1] == '?')
        n--;
    if (decode_decl_encoding(h, n, &off, &len) == 0) {
        int quoted = h[off - 1] == '"' || h[off - 1] == '\'';
        put(r, h, off);
        put(r, quoted ? "UTF-8" : "\"UTF-8\"", quoted ? 5 : 7);
        put(r, h + off + len, n - off - len);
    } else {
        put(r, h, n);
    }
    put(r, "?>", 2);
    buf_reset(&x->hold);
}

const char *
xmlfix_decl_state(struct run *r, const char *p)
{
    struct xmlfix *x = r->x;
    const char *g = next(r, K_GT, p);
    size_t take = g == r->end ? (size_t)(r->end - p) : (size_t)(g + 1 - p);

    if (x->hold.len + take > DECL_MAX) { /* not a declaration: passes as a PI */
        put(r, x->hold.data, x->hold.len);
        buf_reset(&x->hold);
        r->vs = p;
        until(x, ">");
        return p;
    }
    if (buf_add(&x->hold, p, take) < 0) {
        r->err = -ENOMEM;
        return r->end;
    }
    p += take;
    r->vs = p;
    if (g != r->end) {
        decl_out(r);
        x->st = XF_TEXT;
    }
    return p;
}
