/* fuzz/fuzz_clean.c — libFuzzer target for the HTML cleaner (parse/clean.c).
 * Any bytes in; aborts when the output still holds a <script, an on…= or
 * style attribute, a javascript:/vbscript:/data: URL (data:image/ in img src
 * excepted), invalid UTF-8, or when cleaning the output again changes it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *why, const char *out)
{
    fprintf(stderr, "fuzz_clean: %s\n--- output ---\n%s\n", why, out);
    abort();
}

/* Decode the attribute escapes the cleaner writes, drop white space and
 * control characters, lower case: the value as a browser would see its scheme. */
static void
norm_url(const char *v, size_t n, char *out, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < size; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '&') {
            if (strncmp(v + i, "&amp;", 5) == 0)
                i += 4;
            else if (strncmp(v + i, "&quot;", 6) == 0) {
                i += 5;
                c = '"';
            }
        }
        if (c <= 0x20 || c == 0x7f)
            continue;
        out[k++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    out[k] = '\0';
}

static int
has_script_tag(const char *s)
{
    for (const char *p = strchr(s, '<'); p != NULL; p = strchr(p + 1, '<'))
        if (strncasecmp(p, "<script", 7) == 0)
            return 1;
    return 0;
}

static int
is_name(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ':';
}

/* Walk the tags of the output (text never holds a raw '<'). */
static void
check_tags(const char *out)
{
    static const char *const banned[] = {"script",   "style",    "object", "embed",  "form",
                                         "svg",      "math",     "link",   "meta",   "base",
                                         "noscript", "textarea", "input",  "button", "select",
                                         "html",     "body",     "head",   "title",  "template"};
    for (const char *p = strchr(out, '<'); p != NULL; p = strchr(p, '<')) {
        p++;
        if (*p == '/')
            p++;
        const char *tn = p;
        while (is_name(*p))
            p++;
        size_t tl = (size_t)(p - tn);
        if (tl == 0)
            fail("'<' not starting a tag", out);
        for (size_t i = 0; i < sizeof banned / sizeof *banned; i++)
            if (strlen(banned[i]) == tl && strncasecmp(tn, banned[i], tl) == 0)
                fail("banned element", out);
        int img = tl == 3 && strncmp(tn, "img", 3) == 0;
        int iframe = tl == 6 && strncmp(tn, "iframe", 6) == 0;
        while (*p != '>') {
            if (*p != ' ')
                fail("malformed tag", out);
            p++;
            const char *an = p;
            while (is_name(*p))
                p++;
            size_t al = (size_t)(p - an);
            if (al == 0)
                fail("empty attribute name", out);
            if ((al >= 2 && strncasecmp(an, "on", 2) == 0) ||
                (al == 5 && strncasecmp(an, "style", 5) == 0))
                fail("event handler or style attribute", out);
            if (*p != '=')
                continue;
            if (p[1] != '"')
                fail("unquoted attribute", out);
            const char *v = p + 2, *ve = strchr(v, '"');
            if (ve == NULL)
                fail("unterminated attribute", out);
            char head[64];
            int is_src = al == 3 && strncmp(an, "src", 3) == 0;
            int srcset = al == 6 && strncmp(an, "srcset", 6) == 0;
            /* every srcset candidate starts the value or follows ", " */
            for (const char *u = v; u != NULL && u < ve;) {
                const char *ue = srcset ? strstr(u, ", ") : NULL;
                if (ue == NULL || ue > ve)
                    ue = ve;
                norm_url(u, (size_t)(ue - u), head, sizeof head);
                if (strncmp(head, "javascript:", 11) == 0 || strncmp(head, "vbscript:", 9) == 0)
                    fail("script URL", out);
                if (strncmp(head, "data:", 5) == 0 &&
                    !(img && is_src && strncmp(head, "data:image/", 11) == 0))
                    fail("data: URL", out);
                u = ue < ve ? ue + 2 : NULL;
            }
            if (iframe && is_src &&
                (strncmp(head, "https://www.youtube.com", 23) != 0 ||
                 (head[23] != '\0' && strchr("/?#:", head[23]) == NULL)))
                fail("iframe from a host not allowed", out);
            p = ve + 1;
        }
        p++;
    }
}

static void
check_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80             ? 1
                : (*p & 0xE0) == 0xC0 ? 2
                : (*p & 0xF0) == 0xE0 ? 3
                : (*p & 0xF8) == 0xF0 ? 4
                                      : 0;
        if (n == 0 || (n == 2 && *p < 0xC2))
            fail("invalid UTF-8", s);
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                fail("invalid UTF-8", s);
        p += n;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hosts[] = {"www.youtube.com"};
    const struct parse_clean_opts opts = {
        .remove = "figure, .ad, #promo, div.x, [data-y], [data-z=\"1\"]",
        .remove_text = "^(责任编辑|editor:)",
        .iframe_hosts = hosts,
        .niframe_hosts = 1,
    };
    const char *base = "http://base.test/dir/page.html";
    struct parse_cleaner *c = NULL;
    char err[256], *out = NULL, *again = NULL;

    if (parse_cleaner_new(&opts, &c, err, sizeof err) != 0)
        fail("parse_cleaner_new", err);
    if (parse_clean(c, (const char *)data, size, base, &out) != 0)
        fail("parse_clean failed", "");
    if (has_script_tag(out))
        fail("<script in output", out);
    check_utf8(out);
    check_tags(out);
    if (parse_clean(c, out, strlen(out), base, &again) != 0)
        fail("parse_clean failed (second pass)", out);
    if (strcmp(out, again) != 0) {
        fprintf(stderr, "--- second pass ---\n%s\n", again);
        fail("not idempotent", out);
    }
    free(again);
    free(out);
    parse_cleaner_free(c);
    return 0;
}
