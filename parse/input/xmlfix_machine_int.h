/* parse/input/xmlfix_machine_int.h — inside the XML repairer (xmlfix_markup.c,
 * xmlfix_ref.c, xmlfix_prolog.c): its state, the pass over one buffer, and the
 * byte tests and output helpers its state machines share. The reference fast path
 * (ref_quick) is inline here: it runs at every '&' of the markup machine. */
#ifndef FINFEED_PARSE_XMLFIX_MACHINE_INT_H
#define FINFEED_PARSE_XMLFIX_MACHINE_INT_H

#include <stdint.h>
#include <string.h>

#include "parse/buf_int.h"

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

static inline int
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int
is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline int
is_xdigit(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* XML 1.0 Name characters, with every non-ASCII byte allowed (UTF-8 letters). */
static inline int
name_start(unsigned char c)
{
    return is_alpha(c) || c == '_' || c == ':' || c >= 0x80;
}

static inline int
name_char(unsigned char c)
{
    return name_start(c) || is_digit(c) || c == '-' || c == '.';
}

static inline void
put(struct run *r, const void *p, size_t n)
{
    if (n && !r->err && buf_add(r->out, p, n) < 0)
        r->err = -ENOMEM;
}

static inline void
flush(struct run *r, const char *upto)
{
    if (upto > r->vs)
        put(r, r->vs, (size_t)(upto - r->vs));
    r->vs = upto;
}

static inline const char *
next(struct run *r, int k, const char *p)
{
    if (r->at[k] == NULL || r->at[k] < p) {
        const char *q = memchr(p, kchar[k], (size_t)(r->end - p));
        r->at[k] = q ? q : r->end;
    }
    return r->at[k];
}

static inline const char *
min2(const char *a, const char *b)
{
    return a < b ? a : b;
}

/* Length of a reference at p ('&') that stays as written and lies wholly in this
 * buffer: the five XML entities, a decimal reference to an XML character. 0: let
 * st_ref decide (it would keep these too; this only saves the trip). */
static inline size_t
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

static inline void
ref_begin(struct run *r, const char *amp, enum xf_state ret)
{
    r->mark = amp;
    r->x->carried = 0;
    r->x->nref = 0;
    r->x->ret = ret;
    r->x->st = XF_REF;
}

static inline void
until(struct xmlfix *x, const char *term)
{
    x->term = term;
    x->tlen = strlen(term);
    x->ntail = 0;
    x->st = XF_UNTIL;
}


/* ---- across the files ---- */

/* xmlfix_ref.c: XF_REF, after '&' (x->ref); returns where to go on. */
const char *xmlfix_ref_state(struct run *r, const char *p);
/* xmlfix_ref.c: not a reference: the '&' is escaped, what followed it stays
 * text; semi: a ';' ended it. Output resumes verbatim at `resume`. */
void xmlfix_ref_bare(struct run *r, const char *resume, int semi);

/* xmlfix_prolog.c: XF_HEAD (final != 0: the document ends in this buffer),
 * XF_SKIP, XF_DECL and XF_DOCTYPE. Each returns where to go on. */
const char *xmlfix_head_state(struct run *r, const char *p, int final);
const char *xmlfix_skip_state(struct run *r, const char *p);
const char *xmlfix_decl_state(struct run *r, const char *p);
const char *xmlfix_doctype_state(struct run *r, const char *p);

/* xmlfix_markup.c: run the state machine over [p, r->end); what stays open is
 * kept in r->x. Returns where it stopped. */
const char *xmlfix_body(struct run *r, const char *p);

#endif
