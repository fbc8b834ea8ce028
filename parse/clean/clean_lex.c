/* parse/clean/clean_lex.c — the cleaner's HTML tokenizer: start and end tags with
 * their attributes (quoted, unquoted, bare), text with character references,
 * comments, <!DOCTYPE>, processing instructions and the raw text of script,
 * style, textarea and title, read the way libxml2 2.9's HTML parser reads
 * them (HTMLparser.c), in one pass over the bytes, and handed to the tree
 * builder (clean_tree.c). Every scan moves forward: an unterminated comment,
 * tag or value costs one pass to the end of the input. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/clean/clean_int.h"

/* libxml2 reads at most this many characters of a tag or attribute name
 * (HTML_PARSER_BUFFER_SIZE); what follows is read as what comes next. */
#define NAME_MAX_LEN 100

static inline int
is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int
is_alpha(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

static inline int
is_digit(unsigned char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* First character of a tag or attribute name (htmlParseHTMLName). */
static inline int
name_start(unsigned char c)
{
    return is_alpha(c) || c == '_' || c == ':' || c == '.';
}

static inline int
name_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == ':' || c == '-' || c == '_' || c == '.';
}

static const char *
skip_blanks(const char *p, const char *end)
{
    while (p < end && is_blank((unsigned char)*p))
        p++;
    return p;
}

/* ---- character references ---- */

/* windows-1252 for &#128;–&#159; (HTML's numeric character reference rule);
 * 0 where the code page has a hole and the code point stays. */
static const uint16_t cp1252[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static int
is_xml_char(uint32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* A numeric reference at p ("&#…"): its code point, or 0 when it is none a
 * document may hold (then dropped, as libxml2 does); *next is past it. As in
 * htmlParseCharRef: digits up to ';' (taken) or the first other character
 * (left). */
static uint32_t
char_ref(const char *p, const char *end, const char **next)
{
    uint32_t v = 0;
    p += 2;
    if (p < end && (*p == 'x' || *p == 'X')) {
        for (p++; p < end && *p != ';'; p++) {
            unsigned char c = (unsigned char)*p, d;
            if (is_digit(c))
                d = (unsigned char)(c - '0');
            else if ((unsigned char)((c | 0x20) - 'a') < 6)
                d = (unsigned char)((c | 0x20) - 'a' + 10);
            else
                break;
            if (v < 0x110000)
                v = v * 16 + d;
        }
    } else {
        for (; p < end && *p != ';'; p++) {
            if (!is_digit((unsigned char)*p))
                break;
            if (v < 0x110000)
                v = v * 10 + (uint32_t)(*p - '0');
        }
    }
    if (p < end && *p == ';')
        p++;
    *next = p;
    if (v >= 0x80 && v <= 0x9F && cp1252[v - 0x80] != 0)
        v = cp1252[v - 0x80];
    return is_xml_char(v) ? v : 0;
}

size_t
clean_decode(char *out, const char *p, size_t len, int attr)
{
    const char *end = p + len;
    char *o = out;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        if (amp == NULL)
            amp = end;
        memmove(o, p, (size_t)(amp - p));
        o += amp - p;
        p = amp;
        if (p == end)
            break;
        if (p + 1 < end && p[1] == '#') {
            uint32_t c = char_ref(p, end, &p);
            if (c != 0)
                o += utf8_encode(c, o);
            else if (attr)
                break; /* libxml2 wrote a NUL there: the value ends */
            continue;
        }
        /* htmlParseEntityRef: a name of ASCII letters, digits and "_-:." */
        const char *n = p + 1, *ne = n;
        if (ne < end && (is_alpha((unsigned char)*ne) || *ne == '_' || *ne == ':')) {
            while (ne < end && name_char((unsigned char)*ne))
                ne++;
        }
        uint32_t c = ne > n && ne < end && *ne == ';' ? clean_entity(n, (size_t)(ne - n)) : 0;
        if (c != 0) {
            o += utf8_encode(c, o);
            p = ne + 1;
        } else { /* written as it stands */
            memmove(o, p, (size_t)(ne - p));
            o += ne - p;
            p = ne;
        }
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* ---- markup ---- */

/* A tag or attribute name at p, lower case into buf (NAME_MAX_LEN + 1 bytes)
 * and its clean_name_hash into *h; its length, 0 if p holds none. */
static size_t
read_name(const char **pp, const char *end, char *buf, uint32_t *h)
{
    const char *p = *pp;
    size_t n = 0;
    uint32_t hash = 2166136261u;
    if (p >= end || !name_start((unsigned char)*p))
        return 0;
    while (p < end && n < NAME_MAX_LEN && name_char((unsigned char)*p)) {
        unsigned char c = (unsigned char)*p++;
        c = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        buf[n++] = (char)c;
        hash = (hash ^ c) * 16777619u;
    }
    buf[n] = '\0';
    *pp = p;
    *h = hash;
    return n;
}

struct lex {
    struct clean_builder *b;
    const char *end;
    struct clean_attr_tok *atts; /* scratch, grown as needed */
    size_t cap;
};

/* Start tag at p ('<' and a letter). Returns where reading goes on. */
static const char *
start_tag(struct lex *lx, const char *p, int *err)
{
    const char *end = lx->end;
    char name[NAME_MAX_LEN + 1], an[NAME_MAX_LEN + 1];
    size_t n = 0;

    p++;
    uint32_t h;
    size_t nl = read_name(&p, end, name, &h);
    const struct clean_tag *tag = clean_tag_lookup_h(name, nl, h);
    uint64_t seen = 0; /* known attributes met: a repeated one is dropped */
    clean_tree_autoclose(lx->b, tag, name, nl);
    p = skip_blanks(p, end);
    while (p < end && *p != '>' && !(*p == '/' && p + 1 < end && p[1] == '>')) {
        size_t al = read_name(&p, end, an, &h);
        if (al == 0) { /* no name: skip to a blank or the end of the tag */
            while (p < end && !is_blank((unsigned char)*p) && *p != '>' &&
                   !(*p == '/' && p + 1 < end && p[1] == '>'))
                p++;
            p = skip_blanks(p, end);
            continue;
        }
        struct clean_attr_tok t = {NULL, clean_attr_id_h(an, al, h), NULL, 0};
        p = skip_blanks(p, end);
        if (p < end && *p == '=') {
            p = skip_blanks(p + 1, end);
            if (p < end && (*p == '"' || *p == '\'')) {
                const char *v = p + 1, *ve = memchr(v, *p, (size_t)(end - v));
                if (ve == NULL)
                    ve = end;
                t.val = v;
                t.vlen = (size_t)(ve - v);
                p = ve < end ? ve + 1 : end;
            } else {
                const char *v = p;
                while (p < end && !is_blank((unsigned char)*p) && *p != '>')
                    p++;
                t.val = v;
                t.vlen = (size_t)(p - v);
            }
        }
        if (t.id >= 0 && (seen >> t.id & 1))
            t.id = -2; /* a repeat: libxml2 keeps the first */
        else if (t.id >= 0)
            seen |= (uint64_t)1 << t.id;
        if (t.id != -2 && clean_tree_wants_attr(lx->b, tag, t.id)) {
            if (n == lx->cap) {
                size_t cap = lx->cap ? lx->cap * 2 : 16;
                struct clean_attr_tok *g = realloc(lx->atts, cap * sizeof *g);
                if (g == NULL) {
                    *err = -ENOMEM;
                    return end;
                }
                lx->atts = g;
                lx->cap = cap;
            }
            if (t.id < 0) { /* only for selectors: keep the name */
                t.name = clean_tree_strdup(lx->b, an, al);
                if (t.name == NULL) {
                    *err = -ENOMEM;
                    return end;
                }
            } else {
                t.name = clean_attr_name(t.id);
            }
            lx->atts[n++] = t;
        }
        p = skip_blanks(p, end);
    }
    int how = p >= end ? 0 : *p == '>' ? '>' : '/';
    *err = clean_tree_start(lx->b, tag, name, nl, lx->atts, n, how);
    return p >= end ? end : how == '>' ? p + 1 : p + 2;
}

/* End tag at p ("</"). */
static const char *
end_tag(struct lex *lx, const char *p, int *err)
{
    const char *end = lx->end;
    char name[NAME_MAX_LEN + 1];

    uint32_t h;
    p += 2;
    size_t nl = read_name(&p, end, name, &h);
    if (nl == 0)
        return p; /* "</" goes, what follows is read as content */
    p = skip_blanks(p, end);
    if (p < end && *p != '>') {
        const char *gt = memchr(p, '>', (size_t)(end - p));
        p = gt != NULL ? gt : end;
    }
    if (p < end)
        p++;
    *err = clean_tree_end(lx->b, clean_tag_lookup_h(name, nl, h), name, nl);
    return p;
}

/* Comment at p ("<!--"): to the first "-->" or "--!>" from p + 4, or the end. */
static const char *
comment(const char *p, const char *end)
{
    for (p += 4; p + 2 < end; p++) {
        p = memchr(p, '-', (size_t)(end - p - 2));
        if (p == NULL)
            return end;
        if (p[1] == '-') {
            if (p[2] == '>')
                return p + 3;
            if (p[2] == '!' && p + 3 < end && p[3] == '>')
                return p + 4;
        }
    }
    return end;
}

static const char *
quoted(const char *p, const char *end)
{
    if (p < end && (*p == '"' || *p == '\'')) {
        const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
        return q != NULL ? q + 1 : end;
    }
    return p;
}

static int
word_at(const char *p, const char *end, const char *upper)
{
    size_t n = strlen(upper);
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] & ~0x20) != upper[i])
            return 0;
    return 1;
}

/* <!DOCTYPE name PUBLIC "…" "…"> (htmlParseDocTypeDecl): ignored. */
static const char *
doctype(const char *p, const char *end)
{
    p = skip_blanks(p + 9, end);
    if (p < end && (is_alpha((unsigned char)*p) || *p == '_' || *p == ':'))
        while (p < end && name_char((unsigned char)*p))
            p++;
    p = skip_blanks(p, end);
    if (word_at(p, end, "SYSTEM")) {
        p = quoted(skip_blanks(p + 6, end), end);
    } else if (word_at(p, end, "PUBLIC")) {
        p = quoted(skip_blanks(p + 6, end), end);
        p = quoted(skip_blanks(p, end), end);
    }
    const char *gt = p < end ? memchr(p, '>', (size_t)(end - p)) : NULL;
    return gt != NULL ? gt + 1 : end;
}

/* "<?": a processing instruction when a name follows (to '>'); else only the
 * two characters go (htmlParsePI). */
static const char *
pi(const char *p, const char *end)
{
    p += 2;
    if (p >= end ||
        !(is_alpha((unsigned char)*p) || *p == '_' || *p == ':' || (unsigned char)*p >= 0x80))
        return p;
    const char *gt = memchr(p, '>', (size_t)(end - p));
    return gt != NULL ? gt + 1 : end;
}

/* Raw text of a script, style, textarea or title element: to "</name"
 * (any case) or the end. */
static const char *
raw_text(const char *p, const char *end, const char *name, size_t n)
{
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (lt == NULL)
            return end;
        if ((size_t)(end - lt) >= n + 2 && lt[1] == '/' && strncasecmp(lt + 2, name, n) == 0)
            return lt;
        p = lt + 1;
    }
    return end;
}

/* Position of the next '<' at or after p, or end. */
static const char *
find_lt(const char *p, const char *end)
{
    const char *lt = memchr(p, '<', (size_t)(end - p));
    return lt != NULL ? lt : end;
}

int
clean_lex_run(struct clean_builder *b, const char *s, size_t len)
{
    struct lex lx = {b, s + len, NULL, 0};
    const char *p = s, *end = s + len;
    int err = 0;

    const char *raw = NULL; /* the current element's name while its content is raw text */
    size_t rn = 0;

    while (p < end && err == 0 && !clean_tree_stopped(b)) {
        if (raw != NULL) {
            p = raw_text(p, end, raw, rn);
            if (p < end)
                p = end_tag(&lx, p, &err);
            raw = clean_tree_raw(b, &rn);
            continue;
        }
        if (*p != '<') {
            if (*p == '&' && p + 1 == end)
                break; /* libxml2 leaves a last lone '&' */
            const char *lt = find_lt(p, end);
            err = clean_tree_text(b, p, (size_t)(lt - p), 1);
            p = lt;
            continue;
        }
        if (p + 1 == end)
            break; /* a last lone '<' too */
        unsigned char next = (unsigned char)p[1];
        if (next == '!') {
            if (word_at(p + 2, end, "DOCTYPE"))
                p = doctype(p, end);
            else if (p + 3 < end && p[2] == '-' && p[3] == '-')
                p = comment(p, end);
            else if (end - p < 4)
                break;
            else {
                err = clean_tree_text(b, "&lt;", 4, 0); /* '<' as text */
                p++;
            }
        } else if (next == '?') {
            p = pi(p, end);
        } else if (next == '/') {
            p = end_tag(&lx, p, &err);
        } else if (is_alpha(next)) {
            p = start_tag(&lx, p, &err);
            raw = clean_tree_raw(b, &rn);
        } else {
            err = clean_tree_text(b, "&lt;", 4, 0);
            p++;
        }
    }
    free(lx.atts);
    return err;
}
