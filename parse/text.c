/* parse/text.c — plain text from HTML fragments (titles, summaries, dedup
 * keys): tags dropped, entities decoded through libxml2's HTML entity table,
 * white space (U+3000 and NBSP included) collapsed; UTF-8 prefixes. */
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
    char u[4];
    size_t n;
    if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        c = 0xFFFD;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    buf_add(b, u, n);
}

/* Decode the reference at p ('&'); returns its length, or 0 when it is not one. */
static size_t
entity(const char *p, struct buf *b)
{
    const char *q = p + 1;
    if (*q == '#') {
        int hex = q[1] == 'x' || q[1] == 'X';
        char *end;
        unsigned long c = strtoul(q + 1 + hex, &end, hex ? 16 : 10);
        if (end == q + 1 + hex || (*end != ';' && end - p > 12))
            return 0;
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

/* Length of a white-space character at p (ASCII, NBSP, U+3000 and the other
 * Unicode spaces), or 0. */
static size_t
space_at(const unsigned char *p)
{
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
        return 1;
    if (p[0] == 0xC2 && p[1] == 0xA0)
        return 2;
    if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
        return 3;
    if (p[0] == 0xE2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xAF))
        return 3;
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
        if (pending)
            buf_addc(&out, ' ');
        pending = 0;
        buf_addc(&out, (char)*p++);
    }
    return buf_steal(&out);
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
            int skip = strncasecmp(p, "<script", 7) == 0 ? 1 : strncasecmp(p, "<style", 6) == 0 ? 2 : 0;
            const char *e = strchr(p, '>');
            if (e == NULL || !(isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!' || p[1] == '?')) {
                buf_addc(&b, *p++);
                continue;
            }
            p = e + 1;
            if (skip) {
                const char *close = skip == 1 ? "</script" : "</style";
                const char *c = p;
                while ((c = strchr(c, '<')) != NULL && strncasecmp(c, close, strlen(close)) != 0)
                    c++;
                p = c ? c : p + strlen(p);
            }
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
        while (*p && *p != '<' && *p != '&')
            p++;
        buf_add(&b, run, (size_t)(p - run));
    }
    char *s = collapse(&b);
    buf_free(&b);
    return s;
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
