/* parse/input/xmlfix_markup.c — streaming repair of decoded UTF-8 XML before libxml2: junk before
 * the first tag, the declaration's encoding, bare '&' and '<', HTML-only named
 * entities, references to characters XML forbids. CDATA, comments, PIs and the
 * DOCTYPE pass unchanged; entities its internal subset declares are kept.
 * Input is copied in verbatim runs; only the bytes that change are rewritten. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>

#include "parse/input/decode_int.h"
#include "parse/parse.h"

#define HEAD_SCAN 1024              /* a declaration after junk is looked for this far */
#define HEAD_MAX (HEAD_SCAN + 64)   /* bytes held back at the start to decide that */
#define DECL_MAX 1024               /* a longer "declaration" passes as it is */
#define REF_MAX 40                  /* a longer "&…;" is a bare '&' and text */
#define ENTS_MAX 256                /* entity declarations remembered */
#define TOK_MAX 96                  /* start of an internal-subset declaration kept */

enum xf_state {
    XF_HEAD,    /* holding back the start of the document (x->hold) */
    XF_SKIP,    /* before the first markup: skipping to the next '<' */
    XF_DECL,    /* inside the XML declaration (x->hold) */
    XF_TEXT,
    XF_REF,     /* after '&' (x->ref), in text or a value (x->ret) */
    XF_LT,      /* after '<' (x->la): which markup is it? */
    XF_TAG,     /* inside a start or end tag, outside attribute values */
    XF_EQ,      /* after '=' in a tag, before the value */
    XF_VALUE,   /* inside an attribute value quoted with x->quote */
    XF_UNTIL,   /* comment, CDATA section, PI, other "<!": until x->term */
    XF_DOCTYPE, /* inside <!DOCTYPE …> (x->dt) */
};

enum dt_state { DT_OUT, DT_SUB, DT_LT, DT_DECL, DT_COMMENT, DT_PI };

struct xmlfix {
    enum xf_state st;
    enum xf_state ret;      /* XF_REF: state to go back to */
    unsigned problems;      /* PARSE_P_ENTITIES, PARSE_P_JUNK */
    int carried;            /* XF_REF, XF_LT: the construct began in an earlier call */
    int skipping;           /* before the first markup: a '<' that starts none is junk */
    struct buf hold;        /* XF_HEAD, XF_DECL */
    char ref[REF_MAX + 1];  /* XF_REF: what follows '&', NUL-terminated when done */
    size_t nref;
    char la[12];            /* XF_LT: "<…", at most "<![CDATA[" */
    size_t nla;
    char quote;             /* XF_VALUE */
    const char *term;       /* XF_UNTIL: static "-->", "]]>", "?>" or ">" */
    size_t tlen;
    char tail[2];           /* XF_UNTIL: last bytes inside, from earlier calls */
    size_t ntail;
    enum dt_state dt;       /* XF_DOCTYPE */
    char dq;                /* XF_DOCTYPE: open quote, or 0 */
    int seen;               /* DT_COMMENT: dashes just seen; DT_PI: '?' just seen */
    char tok[TOK_MAX];      /* DT_LT, DT_DECL */
    size_t ntok;
    char **ents;            /* general entities of the internal subset, owned */
    size_t nents;
    struct {
        char name[12];
        uint32_t cp;        /* 0: not an HTML entity */
    } cache[64];            /* htmlEntityLookup() is a linear search: remember answers */
};

/* Characters looked for with memchr; struct run caches where each is next. */
enum { K_LT, K_AMP, K_GT, K_EQ, K_DQ, K_SQ, K_N };
static const char kchar[K_N] = {'<', '&', '>', '=', '"', '\''};

/* One pass over one input buffer. Bytes in [vs, current position) are output
 * verbatim and not yet written: a clean document is one buf_add per call. */
struct run {
    struct xmlfix *x;
    struct buf *out;
    int err;
    const char *end;
    const char *vs;
    const char *mark;       /* XF_REF, XF_LT: the '&' or '<' in this buffer */
    const char *at[K_N];    /* next kchar[k] at or after where it was looked for */
};

static int
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int
is_xdigit(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* XML 1.0 Name characters, with every non-ASCII byte allowed (UTF-8 letters). */
static int
name_start(unsigned char c)
{
    return is_alpha(c) || c == '_' || c == ':' || c >= 0x80;
}

static int
name_char(unsigned char c)
{
    return name_start(c) || is_digit(c) || c == '-' || c == '.';
}

static void
put(struct run *r, const void *p, size_t n)
{
    if (n && !r->err && buf_add(r->out, p, n) < 0)
        r->err = -ENOMEM;
}

static void
flush(struct run *r, const char *upto)
{
    if (upto > r->vs)
        put(r, r->vs, (size_t)(upto - r->vs));
    r->vs = upto;
}

static const char *
next(struct run *r, int k, const char *p)
{
    if (r->at[k] == NULL || r->at[k] < p) {
        const char *q = memchr(p, kchar[k], (size_t)(r->end - p));
        r->at[k] = q ? q : r->end;
    }
    return r->at[k];
}

static const char *
min2(const char *a, const char *b)
{
    return a < b ? a : b;
}

/* ---- references ---- */

/* The code point of an HTML 4 entity (HTML 5 upper-case aliases too), or 0. */
static uint32_t
html_entity(struct xmlfix *x, const char *name)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } upper[] = {{"AMP", 38}, {"LT", 60}, {"GT", 62}, {"QUOT", 34}, {"COPY", 169}, {"REG", 174}};
    size_t n = strlen(name);
    unsigned h = 0;
    uint32_t cp = 0;

    for (size_t i = 0; i < n; i++)
        h = h * 31 + (unsigned char)name[i];
    h &= 63;
    if (n < sizeof x->cache[0].name && strcmp(x->cache[h].name, name) == 0)
        return x->cache[h].cp;
    const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
    if (e != NULL) {
        cp = e->value;
    } else {
        for (size_t i = 0; i < sizeof upper / sizeof upper[0]; i++)
            if (strcmp(upper[i].name, name) == 0)
                cp = upper[i].cp;
    }
    if (n < sizeof x->cache[0].name) {
        memcpy(x->cache[h].name, name, n + 1);
        x->cache[h].cp = cp;
    }
    return cp;
}

static int
declared(const struct xmlfix *x, const char *name)
{
    for (size_t i = 0; i < x->nents; i++)
        if (strcmp(x->ents[i], name) == 0)
            return 1;
    return 0;
}

/* The reference ends: rep NULL keeps it as written, else rep (n bytes) replaces
 * it; output resumes verbatim at `resume`. */
static void
ref_out(struct run *r, const char *rep, size_t n, const char *resume)
{
    struct xmlfix *x = r->x;

    if (rep == NULL) {
        if (x->carried) { /* its first bytes were in an earlier buffer */
            put(r, "&", 1);
            put(r, x->ref, x->nref);
            put(r, ";", 1);
            r->vs = resume;
        }
    } else {
        if (!x->carried)
            flush(r, r->mark);
        put(r, rep, n);
        r->vs = resume;
        x->problems |= PARSE_P_ENTITIES;
    }
    x->carried = 0;
    x->st = x->ret;
}

/* Not a reference: the '&' is escaped, what followed it stays text. */
static void
ref_bare(struct run *r, const char *resume, int semi)
{
    char rep[5 + REF_MAX + 1];
    struct xmlfix *x = r->x;

    memcpy(rep, "&amp;", 5);
    memcpy(rep + 5, x->ref, x->nref);
    if (semi)
        rep[5 + x->nref] = ';';
    ref_out(r, rep, 5 + x->nref + (semi != 0), resume);
}

/* "&" ref ";" is complete; `resume` is just past the ';'. */
static void
ref_done(struct run *r, const char *resume)
{
    static const char *const xml5[] = {"amp", "lt", "gt", "quot", "apos"};
    struct xmlfix *x = r->x;
    char rep[16];
    int n;

    x->ref[x->nref] = '\0';
    if (x->ref[0] == '#') {
        int hex = x->ref[1] == 'x' || x->ref[1] == 'X';
        const char *d = x->ref + 1 + hex;
        uint32_t v = 0;
        if (*d == '\0') {
            ref_bare(r, resume, 1);
            return;
        }
        for (; *d && v <= 0x10FFFF; d++)
            v = v * (hex ? 16 : 10) + (uint32_t)(is_digit((unsigned char)*d) ? *d - '0'
                                                 : ((*d | 0x20) - 'a' + 10));
        if (v == 9 || v == 10 || v == 13 || (v >= 0x20 && v <= 0xD7FF) ||
            (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF)) {
            if (x->ref[1] != 'X') {
                ref_out(r, NULL, 0, resume);
                return;
            }
            /* XML wants a lower-case x (XML 1.0 §4.1, production 66). */
            char low[5 + REF_MAX];
            memcpy(low, "&#x", 3);
            memcpy(low + 3, x->ref + 2, x->nref - 2);
            low[x->nref + 1] = ';';
            ref_out(r, low, x->nref + 2, resume);
        } else if ((v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) {
            ref_out(r, "&#xFFFD;", 8, resume);
        } else {
            ref_out(r, "", 0, resume); /* a control character, U+FFFE, U+FFFF: dropped */
        }
        return;
    }
    for (size_t i = 0; i < sizeof xml5 / sizeof xml5[0]; i++) {
        if (strcmp(x->ref, xml5[i]) == 0) {
            ref_out(r, NULL, 0, resume);
            return;
        }
    }
    if (declared(x, x->ref)) {
        ref_out(r, NULL, 0, resume);
        return;
    }
    uint32_t cp = html_entity(x, x->ref);
    if (cp != 0) {
        n = snprintf(rep, sizeof rep, "&#%u;", (unsigned)cp);
        ref_out(r, rep, (size_t)n, resume);
        return;
    }
    ref_bare(r, resume, 1);
}

static int
ref_char(const struct xmlfix *x, unsigned char c)
{
    if (x->nref == 0)
        return c == '#' || name_start(c);
    if (x->ref[0] != '#')
        return name_char(c);
    if (x->nref == 1)
        return c == 'x' || c == 'X' || is_digit(c);
    return x->ref[1] == 'x' || x->ref[1] == 'X' ? is_xdigit(c) : is_digit(c);
}

static const char *
st_ref(struct run *r, const char *p)
{
    struct xmlfix *x = r->x;

    for (; p < r->end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ';' && x->nref > 0) {
            ref_done(r, p + 1);
            return p + 1;
        }
        if (x->nref == REF_MAX || !ref_char(x, c)) {
            ref_bare(r, p, 0);
            return p;
        }
        x->ref[x->nref++] = (char)c;
    }
    return p;
}

/* Length of a reference at p ('&') that stays as written and lies wholly in this
 * buffer: the five XML entities, a decimal reference to an XML character. 0: let
 * st_ref decide (it would keep these too; this only saves the trip). */
static size_t
ref_quick(const char *p, const char *end)
{
    size_t avail = (size_t)(end - p), i;
    uint32_t v = 0;

    if (avail < 4)
        return 0;
    switch (p[1]) {
    case 'a':
        if (avail >= 5 && memcmp(p + 1, "amp;", 4) == 0)
            return 5;
        return avail >= 6 && memcmp(p + 1, "apos;", 5) == 0 ? 6 : 0;
    case 'l':
        return memcmp(p + 1, "lt;", 3) == 0 ? 4 : 0;
    case 'g':
        return memcmp(p + 1, "gt;", 3) == 0 ? 4 : 0;
    case 'q':
        return avail >= 6 && memcmp(p + 1, "quot;", 5) == 0 ? 6 : 0;
    case '#':
        for (i = 2; i < avail && i < 8 && is_digit((unsigned char)p[i]); i++)
            v = v * 10 + (uint32_t)(p[i] - '0');
        if (i == 2 || i >= avail || p[i] != ';')
            return 0;
        if (v == 9 || v == 10 || v == 13 || (v >= 0x20 && v <= 0xD7FF) ||
            (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF))
            return i + 1;
        return 0;
    default:
        return 0;
    }
}

static void
ref_begin(struct run *r, const char *amp, enum xf_state ret)
{
    r->mark = amp;
    r->x->carried = 0;
    r->x->nref = 0;
    r->x->ret = ret;
    r->x->st = XF_REF;
}

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

static void
until(struct xmlfix *x, const char *term)
{
    x->term = term;
    x->tlen = strlen(term);
    x->ntail = 0;
    x->st = XF_UNTIL;
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
static void
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

static const char *
st_doctype(struct run *r, const char *p)
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

static const char *
st_skip(struct run *r, const char *p)
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

static const char *body(struct run *r, const char *p);

/* Hold back up to HEAD_MAX bytes until it is known where the document starts. */
static const char *
st_head(struct run *r, const char *p, int final)
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
    body(&sub, sub.vs);
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

static const char *
st_decl(struct run *r, const char *p)
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

static const char *
body(struct run *r, const char *p)
{
    while (p < r->end && !r->err) {
        switch (r->x->st) {
        case XF_HEAD:
            p = st_head(r, p, 0);
            r->vs = r->mark = p;
            break;
        case XF_SKIP:
            p = st_skip(r, p);
            break;
        case XF_DECL:
            p = st_decl(r, p);
            break;
        case XF_TEXT:
            p = st_text(r, p);
            break;
        case XF_REF:
            p = st_ref(r, p);
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
            p = st_doctype(r, p);
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
        ref_bare(r, r->end, 0);
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
        p = st_head(&r, p, final);
        r.vs = r.mark = p;
    }
    body(&r, p);
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
