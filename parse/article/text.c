/* parse/article/text.c — plain text from HTML fragments (titles, summaries, dedup
 * keys): tags dropped (phrasing tags join words, others separate them),
 * entities decoded through libxml2's HTML entity table, control characters
 * dropped, white space (U+3000 and NBSP included) collapsed; UTF-8 prefixes. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>

#include "parse/buf_int.h"
#include "parse/parse.h"

static void
put_utf8(struct buf *b, unsigned long c)
{
    if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        c = 0xFFFD;
    buf_add_utf8(b, (uint32_t)c);
}

/* HTML5 §13.2.5.80: numeric references to C1 controls mean windows-1252. */
static const unsigned short cp1252[32] = {
    0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178,
};

/* Decode the reference at p ('&'); returns its length, or 0 when it is not one. */
static size_t
entity(const char *p, struct buf *b)
{
    const char *q = p + 1;
    if (*q == '#') {
        int hex = q[1] == 'x' || q[1] == 'X';
        const char *d = q + 1 + hex;
        char *end;
        if (!(hex ? isxdigit((unsigned char)*d) : isdigit((unsigned char)*d)))
            return 0; /* strtoul would take a sign or white space */
        unsigned long c = strtoul(d, &end, hex ? 16 : 10);
        if (*end != ';' && end - p > 12)
            return 0;
        if (c >= 0x80 && c <= 0x9F)
            c = cp1252[c - 0x80];
        put_utf8(b, c);
        return (size_t)(end - p) + (*end == ';');
    }
    char name[33];
    size_t n = 0;
    while (n < sizeof(name) - 1 && isalnum((unsigned char)q[n])) {
        name[n] = q[n];
        n++;
    }
    name[n] = '\0';
    if (n == 0 || q[n] != ';')
        return 0;
    const htmlEntityDesc *ent = htmlEntityLookup((const xmlChar *)name);
    if (ent != NULL)
        put_utf8(b, ent->value);
    else if (strcmp(name, "apos") == 0)
        buf_addc(b, '\'');
    else
        return 0;
    return n + 2;
}

/* Length of a white-space character at p (ASCII, NEL, NBSP, U+3000, the
 * line and paragraph separators and the other Unicode spaces), or 0. */
static size_t
space_at(const unsigned char *p)
{
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
        return 1;
    if (p[0] == 0xC2 && (p[1] == 0xA0 || p[1] == 0x85))
        return 2;
    if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
        return 3;
    if (p[0] == 0xE2 && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
        return 3;
    if ((p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) ||
        (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80))
        return 3;
    return 0;
}

/* Length of a control character at p (C0 but white space, DEL, C1), or 0:
 * plain text goes into YAML, JSON and XML, none of which wants them. */
static size_t
control_at(const unsigned char *p)
{
    if (*p < 0x20 || *p == 0x7F)
        return 1;
    if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
        return 2;
    return 0;
}

static char *
collapse(struct buf *in)
{
    struct buf out = {0};
    const unsigned char *p = (const unsigned char *)(in->data ? in->data : "");
    int pending = 0;
    while (*p) {
        size_t k = space_at(p);
        if (k) {
            pending = out.len > 0;
            p += k;
            continue;
        }
        if ((k = control_at(p)) != 0) {
            p += k;
            continue;
        }
        if (pending)
            buf_addc(&out, ' ');
        pending = 0;
        /* a run of bytes that start neither white space nor a control
         * character (space_at, control_at), at once: a byte at a time was
         * a tenth of parsing a feed */
        const unsigned char *run = p++;
        while (*p > 0x20 && *p != 0x7F && *p != 0xC2 && (*p < 0xE1 || *p > 0xE3))
            p++;
        buf_add(&out, run, (size_t)(p - run));
    }
    return buf_steal(&out);
}

/* Phrasing elements: their tags join the text around them ("长春<b>累计</b>"
 * is one word); every other tag separates words. */
static int
inline_tag(const char *name, size_t n)
{
    /* by length, "|"-separated: a tag is looked up among those of its own
     * length only (a strlen and a strncasecmp of each of the 34 names a
     * tag was 3.5% of parsing a feed) */
    static const char *const by_len[] = {
        NULL,
        "|a|b|i|q|s|u|",
        "|em|rp|rt|tt|",
        "|bdi|bdo|big|del|dfn|ins|kbd|sub|sup|var|wbr|",
        "|abbr|cite|code|data|font|mark|ruby|samp|span|time|",
        "|small|",
        "|strike|strong|",
    };
    char low[16]; /* "|" NAME "|" NUL */
    if (n == 0 || n >= sizeof(by_len) / sizeof(by_len[0]))
        return 0;
    low[0] = '|';
    for (size_t i = 0; i < n; i++)
        low[i + 1] = (char)tolower((unsigned char)name[i]);
    low[n + 1] = '|';
    low[n + 2] = '\0';
    return strstr(by_len[n], low) != NULL;
}

/* End of the tag that starts at p ('<'): its '>', past quoted attribute
 * values (title="a>b"); a quote left open falls back to the first '>'.
 * NULL when there is no '>'. */
static const char *
tag_end(const char *p)
{
    char quote = 0, last = 0;
    for (const char *q = p + 1; *q; q++) {
        if (quote) {
            if (*q == quote)
                quote = 0;
            continue;
        }
        if (*q == '>')
            return q;
        if ((*q == '"' || *q == '\'') && last == '=')
            quote = *q;
        if (!isspace((unsigned char)*q))
            last = *q;
    }
    return strchr(p, '>');
}

char *
parse_html_text(const char *html)
{
    struct buf b = {0};
    const char *p = html ? html : "";
    while (*p) {
        if (*p == '<') {
            if (strncmp(p, "<!--", 4) == 0) {
                const char *e = strstr(p + 4, "-->");
                p = e ? e + 3 : p + strlen(p);
                continue;
            }
            int markup = isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!' || p[1] == '?';
            const char *e = markup ? tag_end(p) : NULL;
            if (e == NULL) {
                buf_addc(&b, *p++);
                continue;
            }
            const char *name = p + 1 + (p[1] == '/');
            size_t n = 0;
            while (isalnum((unsigned char)name[n]))
                n++;
            int skip = 0; /* 1: script, 2: style, whose content is no text */
            if (p[1] != '/' && n == 6 && strncasecmp(name, "script", 6) == 0)
                skip = 1;
            else if (p[1] != '/' && n == 5 && strncasecmp(name, "style", 5) == 0)
                skip = 2;
            p = e + 1;
            if (skip) {
                const char *close = skip == 1 ? "</script" : "</style";
                const char *c = p;
                while ((c = strchr(c, '<')) != NULL && strncasecmp(c, close, strlen(close)) != 0)
                    c++;
                p = c ? c : p + strlen(p);
            }
            if (skip || !inline_tag(name, n))
                buf_addc(&b, ' ');
            continue;
        }
        if (*p == '&') {
            size_t k = entity(p, &b);
            if (k == 0)
                buf_addc(&b, '&'); /* not a reference: a literal ampersand */
            p += k ? k : 1;
            continue;
        }
        const char *run = p;
        p += strcspn(p, "<&");
        buf_add(&b, run, (size_t)(p - run));
    }
    char *s = collapse(&b);
    buf_free(&b);
    return s;
}

size_t
parse_utf8_put(uint32_t c, char *out)
{
    return utf8_encode(c, out);
}

char *
parse_utf8_prefix(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0, i = 0;
    while (p[i] && chars < max) {
        i++;
        while ((p[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    return strndup(s, i);
}
