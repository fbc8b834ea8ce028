/* parse/clean/clean_url.c — the URL policy of the cleaner (SPEC §4): which schemes an
 * href, src, srcset, cite or poster may carry (javascript:, vbscript: and data:
 * never, except data:image/… in img src), resolution against the entry link,
 * protocol-relative URLs made https, iframe hosts, lazy-loading placeholders. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/clean/clean_int.h"

/* Schemes a link may carry (in the manner of Miniflux's list); media and
 * images only http and https. Everything else, javascript: and vbscript:
 * included, is dropped. Sorted for bsearch. */
static const char *const link_schemes[] = {
    "bitcoin", "callto",  "feed", "ftp",   "ftps", "geo",       "git",    "gopher",
    "http",    "https",   "irc",  "ircs",  "itms", "itms-apps", "magnet", "mailto",
    "news",    "nntp",    "rtmp", "rtsp",  "sftp", "sip",       "sips",   "skype",
    "sms",     "spotify", "ssh",  "steam", "tel",  "webcal",    "xmpp",
};

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
url_scheme_allowed(const char *scheme, enum clean_url_use use)
{
    if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)
        return 1;
    if (use != URL_LINK)
        return 0;
    return bsearch(&scheme, link_schemes, sizeof link_schemes / sizeof *link_schemes,
                   sizeof *link_schemes, cmp_str) != NULL;
}

/* Bytes a browser ignores around a URL (C0 controls and space) or inside it
 * (tab, LF, CR), plus DEL: skipped when reading the scheme. */
static int
url_ignorable(unsigned char c)
{
    return c <= 0x20 || c == 0x7f;
}

/* The first `size - 1` characters of `s` as a browser would see its scheme:
 * white space and control characters removed, character references
 * ("jav&#x09;ascript:", "&#58;") decoded once more, lower case. Defence in
 * depth: libxml2 has already decoded one level of entities. */
static void
url_normalize_head(const char *s, char *out, size_t size)
{
    size_t n = 0;
    const char *p = s;

    while (*p && n + 1 < size) {
        unsigned char c = (unsigned char)*p;
        if (url_ignorable(c)) {
            p++;
            continue;
        }
        if (c == '&' && p[1] == '#') {
            const char *q = p + 2;
            unsigned long v = 0;
            int hex = (*q == 'x' || *q == 'X'), digits = 0;
            q += hex;
            for (; digits < 8; q++, digits++) {
                int d = -1;
                if (*q >= '0' && *q <= '9')
                    d = *q - '0';
                else if (hex && *q >= 'a' && *q <= 'f')
                    d = *q - 'a' + 10;
                else if (hex && *q >= 'A' && *q <= 'F')
                    d = *q - 'A' + 10;
                if (d < 0)
                    break;
                v = v * (hex ? 16 : 10) + (unsigned long)d;
            }
            if (digits > 0) {
                p = *q == ';' ? q + 1 : q;
                if (v < 0x80 && url_ignorable((unsigned char)v))
                    continue;
                c = v < 0x80 ? (unsigned char)v : '?';
                out[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
                continue;
            }
        }
        if (c == '&' && strncasecmp(p, "&colon;", 7) == 0) {
            out[n++] = ':';
            p += 7;
            continue;
        }
        if (c == '&' && (strncasecmp(p, "&tab;", 5) == 0 || strncasecmp(p, "&newline;", 9) == 0)) {
            p += p[1] == 't' || p[1] == 'T' ? 5 : 9;
            continue;
        }
        out[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        p++;
    }
    out[n] = '\0';
}

/* 1 when `value` reads "data:image/" as written (white space and control
 * characters aside, any case): the normalized head decodes references to
 * refuse more, never to allow more ("data:image&newline;/…" is no image). */
static int
url_plain_data_image(const char *value)
{
    static const char want[] = "data:image/";
    size_t n = 0;
    for (const char *p = value; *p && n < sizeof want - 1; p++) {
        unsigned char c = (unsigned char)*p;
        if (url_ignorable(c))
            continue;
        if ((c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != (unsigned char)want[n++])
            return 0;
    }
    return n == sizeof want - 1;
}

/* The scheme of a normalized head ("https"), "" when the URL is relative. */
static void
url_scheme(const char *head, char *scheme, size_t size)
{
    size_t n = strspn(head, "abcdefghijklmnopqrstuvwxyz0123456789+-.");
    scheme[0] = '\0';
    if (n == 0 || n >= size || head[n] != ':' || !(head[0] >= 'a' && head[0] <= 'z'))
        return;
    memcpy(scheme, head, n);
    scheme[n] = '\0';
}

int
clean_value_is_script(const char *value)
{
    char head[16], scheme[16];

    if (strpbrk(value, ":&") == NULL)
        return 0;
    url_normalize_head(value, head, sizeof head);
    url_scheme(head, scheme, sizeof scheme);
    return strcmp(scheme, "javascript") == 0 || strcmp(scheme, "vbscript") == 0 ||
           strcmp(scheme, "data") == 0;
}

/* `value` with leading and trailing C0/space and inner tab/LF/CR removed (what
 * browsers do before parsing a URL). */
static char *
url_trim(const char *value)
{
    const char *b = value, *e = value + strlen(value);
    while (b < e && (unsigned char)*b <= 0x20)
        b++;
    while (e > b && (unsigned char)e[-1] <= 0x20)
        e--;
    char *t = malloc((size_t)(e - b) + 1), *w = t;
    if (t == NULL)
        return NULL;
    for (; b < e; b++)
        if (*b != '\t' && *b != '\n' && *b != '\r')
            *w++ = *b;
    *w = '\0';
    return t;
}

/* Nothing for url_trim() to remove. */
static int
url_trimmed(const char *value)
{
    size_t n = strlen(value);
    return n > 0 && (unsigned char)value[0] > 0x20 && (unsigned char)value[n - 1] > 0x20 &&
           strpbrk(value, "\t\n\r") == NULL;
}

char *
clean_url(const char *value, enum clean_url_use use, const char *base, int *err)
{
    char head[48], scheme[24];
    char *t = NULL, *r = NULL;

    *err = 0;
    url_normalize_head(value, head, sizeof head);
    if (head[0] == '\0')
        return NULL; /* empty: nothing to keep */
    url_scheme(head, scheme, sizeof scheme);
    if (scheme[0] != '\0') {
        if (!url_scheme_allowed(scheme, use) &&
            !(use == URL_IMAGE && strncmp(head, "data:image/", 11) == 0 &&
              url_plain_data_image(value)))
            return NULL;
        if (url_trimmed(value))
            return (char *)value; /* the common case: kept as written, no copy */
        if ((t = url_trim(value)) == NULL)
            goto nomem;
        return t;
    }
    if ((t = url_trim(value)) == NULL)
        goto nomem;
    if ((head[0] == '/' || head[0] == '\\') && (head[1] == '/' || head[1] == '\\')) {
        /* protocol-relative: https, whatever the entry link says */
        if ((r = malloc(strlen(t) + 7)) == NULL)
            goto nomem;
        memcpy(r, "https:", 6);
        strcpy(r + 6, t);
        free(t);
        return r;
    }
    if (base == NULL)
        return t;
    if ((r = parse_url_resolve(base, t)) == NULL)
        goto nomem;
    /* A base with an odd scheme (javascript:, data:) must not make a relative
     * reference unsafe: keep the reference unresolved then. */
    url_normalize_head(r, head, sizeof head);
    url_scheme(head, scheme, sizeof scheme);
    if (!url_scheme_allowed(scheme, use)) {
        free(r);
        return t;
    }
    free(t);
    return r;
nomem:
    free(t);
    *err = -ENOMEM;
    return NULL;
}

static int
srcset_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Whether d[0..n) is a list of srcset descriptors a browser takes: tokens
 * apart by white space, each a number and its unit (HTML §4.8.4.3.10: a
 * width "640w" or height "480h", integers; a density "1.5x", "2e0x"). A
 * browser drops a candidate whose descriptors it cannot parse; so does the
 * cleaner, rather than copy text ("1x((((…, javascript:…", found by
 * fuzz_clean) it never looked into. */
static int
srcset_descriptors_ok(const char *d, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && srcset_space(d[i]))
            i++;
        if (i == n)
            break;
        size_t t = i, digits = 0;
        int dot = 0, exp = 0;
        while (i < n && !srcset_space(d[i]))
            i++;
        size_t e = i - 1; /* the unit */
        if (e <= t || (d[e] != 'w' && d[e] != 'h' && d[e] != 'x'))
            return 0;
        for (size_t k = t; k < e; k++) {
            char c = d[k];
            if (c >= '0' && c <= '9')
                digits++;
            else if (c == '.' && d[e] == 'x' && !dot && !exp)
                dot = 1;
            else if ((c == 'e' || c == 'E') && d[e] == 'x' && digits > 0 && !exp)
                exp = 1, digits = 0;
            else if ((c == '+' || c == '-') && exp && (d[k - 1] == 'e' || d[k - 1] == 'E'))
                continue;
            else
                return 0;
        }
        if (digits == 0)
            return 0;
    }
    return 1;
}

/* srcset candidates as the HTML standard splits them (§4.8.4.3.10): the URL
 * runs to white space (trailing commas end the candidate), the descriptors to
 * the next comma outside parentheses. Each URL goes through clean_url(); a
 * candidate whose descriptors are not numbers with their units is dropped. */
char *
clean_srcset(const char *value, const char *base, int *err)
{
    struct buf out = {0};
    const char *p = value;

    *err = 0;
    for (;;) {
        while (srcset_space(*p) || *p == ',')
            p++;
        if (*p == '\0')
            break;
        const char *u = p;
        while (*p && !srcset_space(*p))
            p++;
        const char *ue = p;
        const char *d = p, *de = p;
        if (ue[-1] == ',') {
            while (ue > u && ue[-1] == ',')
                ue--;
        } else {
            int paren = 0;
            while (srcset_space(*p))
                p++;
            d = p;
            for (; *p && (paren || *p != ','); p++)
                if (*p == '(')
                    paren = 1;
                else if (*p == ')')
                    paren = 0;
            de = p;
            while (de > d && srcset_space(de[-1]))
                de--;
        }
        if (ue == u || !srcset_descriptors_ok(d, (size_t)(de - d)))
            continue;
        char *raw = strndup(u, (size_t)(ue - u));
        if (raw == NULL)
            goto nomem;
        char *url = clean_url(raw, URL_MEDIA, base, err);
        if (url != raw)
            free(raw);
        if (url == NULL) {
            if (*err < 0)
                goto nomem;
            continue;
        }
        int rc = out.len ? buf_adds(&out, ", ") : 0;
        if (rc == 0)
            rc = buf_adds(&out, url);
        if (rc == 0 && de > d && (rc = buf_addc(&out, ' ')) == 0)
            rc = buf_add(&out, d, (size_t)(de - d));
        free(url);
        if (rc != 0)
            goto nomem;
    }
    if (out.len == 0) {
        buf_free(&out);
        return NULL;
    }
    return buf_steal(&out);
nomem:
    buf_free(&out);
    *err = -ENOMEM;
    return NULL;
}

char *
clean_srcset_first(const char *srcset)
{
    size_t n = strcspn(srcset, " \t\n\r\f");
    while (n > 0 && srcset[n - 1] == ',')
        n--;
    return n ? strndup(srcset, n) : NULL;
}

char *
clean_iframe_src(const struct parse_cleaner *c, const char *value, int *err)
{
    char *t = url_trim(value), *r = NULL;
    const char *rest;

    *err = 0;
    if (t == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    if (strncasecmp(t, "https://", 8) == 0)
        rest = t + 8;
    else if (strncmp(t, "//", 2) == 0)
        rest = t + 2;
    else
        goto out;
    /* The host ends where a browser's does ('\\' too); userinfo is refused so
     * that "https://www.youtube.com@evil.test/" cannot pass. */
    size_t hl = strcspn(rest, "/?#\\@:");
    if (rest[hl] == '@' || rest[hl] == '\\' || hl == 0)
        goto out;
    if (rest[hl] == ':') {
        size_t pl = strspn(rest + hl + 1, "0123456789");
        if (strchr("/?#", rest[hl + 1 + pl]) == NULL) /* also matches the end */
            goto out;
    }
    for (size_t i = 0; i < c->niframe_hosts; i++) {
        if (strlen(c->iframe_hosts[i]) == hl && strncasecmp(rest, c->iframe_hosts[i], hl) == 0) {
            if ((r = malloc(strlen(rest) + 9)) == NULL) {
                *err = -ENOMEM;
                goto out;
            }
            memcpy(r, "https://", 8);
            strcpy(r + 8, rest);
            for (size_t k = 8; k < 8 + hl; k++)
                if (r[k] >= 'A' && r[k] <= 'Z')
                    r[k] = (char)(r[k] - 'A' + 'a');
            break;
        }
    }
out:
    free(t);
    return r;
}

int
clean_is_placeholder(const char *src)
{
    static const char *const words[] = {"blank",       "spacer",      "pixel", "1x1",
                                        "transparent", "placeholder", "lazy",  "loading",
                                        "grey",        "gray",        "empty", "default"};
    char head[8];

    url_normalize_head(src, head, sizeof head);
    if (head[0] == '\0' || strncmp(head, "data:", 5) == 0)
        return 1;
    /* the last path segment, without query and fragment */
    size_t end = strcspn(src, "?#");
    size_t start = end;
    while (start > 0 && src[start - 1] != '/')
        start--;
    size_t n = end - start;
    if (n < 5 || n > 64)
        return 0;
    char name[65];
    for (size_t i = 0; i < n; i++) {
        char ch = src[start + i];
        name[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    name[n] = '\0';
    if (strcmp(name + n - 4, ".gif") != 0 && strcmp(name + n - 4, ".png") != 0 &&
        strcmp(name + n - 4, ".svg") != 0)
        return 0;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strstr(name, words[i]) != NULL)
            return 1;
    return 0;
}
