/* parse/input/xmlfix_ref.c — the XML repairer's reference machine: what follows
 * an '&' is kept, rewritten as a character reference (HTML-only named entities,
 * "&#X…;"), dropped (characters XML forbids), or escaped as a bare '&'. Entities
 * the internal subset declares (xmlfix_prolog.c remembers them) are kept. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libxml/HTMLparser.h>

#include "parse/input/xmlfix_machine_int.h"
#include "parse/parse.h"

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
void
xmlfix_ref_bare(struct run *r, const char *resume, int semi)
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
            xmlfix_ref_bare(r, resume, 1);
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
    xmlfix_ref_bare(r, resume, 1);
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

const char *
xmlfix_ref_state(struct run *r, const char *p)
{
    struct xmlfix *x = r->x;

    for (; p < r->end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ';' && x->nref > 0) {
            ref_done(r, p + 1);
            return p + 1;
        }
        if (x->nref == REF_MAX || !ref_char(x, c)) {
            xmlfix_ref_bare(r, p, 0);
            return p;
        }
        x->ref[x->nref++] = (char)c;
    }
    return p;
}
