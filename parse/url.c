/* parse/url.c — RFC 3986 reference resolution (parse_url_resolve).
 * libxml2's xmlBuildURI() does the RFC work; around it, every byte the URI
 * parser would reject or rewrite is percent-encoded going in and decoded coming
 * out, so non-ASCII text ("À"), existing escapes ("%2F") and stray characters
 * come back exactly as the source wrote them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/uri.h>

#include "parse/buf_int.h"
#include "parse/parse.h"

/* Characters passed to xmlBuildURI() as they are: RFC 3986 unreserved,
 * gen-delims and sub-delims. Everything else — '%' included — is escaped, so
 * that decoding every %XX of the result restores the source bytes (§2.4).
 * '[' ']' stay only inside an authority (IP literals, §3.2.2), '#' only once. */
static int
url_passes(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=", c) != NULL;
}

/* Length of the authority's prefix ("scheme://host" or "//host"), 0 without one. */
static size_t
url_authority_end(const char *s)
{
    const char *p = s;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '+' || *p == '-' || *p == '.')
        p++;
    if (p > s && *p == ':')
        p++;
    else
        p = s;
    if (p[0] != '/' || p[1] != '/')
        return 0;
    return (size_t)(p + 2 - s) + strcspn(p + 2, "/?#");
}

static int
url_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t auth = url_authority_end(s);
    int hash = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int pass = url_passes(*p);
        if ((*p == '[' || *p == ']') && (size_t)((const char *)p - s) >= auth)
            pass = 0;
        if (*p == '#' && hash++)
            pass = 0;
        if (pass) {
            if (buf_addc(b, (char)*p) < 0)
                return -ENOMEM;
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            if (buf_add(b, e, 3) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

static int
url_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode every %XX in place. */
static void
url_unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        int hi, lo;
        if (r[0] == '%' && (hi = url_hexval(r[1])) >= 0 && (lo = url_hexval(r[2])) >= 0 &&
            (hi | lo) != 0) {
            *w++ = (char)(hi << 4 | lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* RFC 3986 §5.2.4 on the path of a "scheme://authority/path?query#fragment"
 * result, in place: xmlBuildURI() leaves the dot segments of an absolute
 * reference ("/./g", "http://h/a/../b"). */
static int
url_remove_dots(char *uri)
{
    char *path = strstr(uri, "://");
    if (path == NULL)
        return 0;
    path += 3;
    path += strcspn(path, "/?#");
    size_t plen = strcspn(path, "?#");
    if (plen == 0)
        return 0;
    char *in = strndup(path, plen), *w = path;
    if (in == NULL)
        return -ENOMEM;
    if (strstr(in, "/.") == NULL) {
        free(in);
        return 0;
    }
    for (char *i = in; *i;) {
        if (strncmp(i, "../", 3) == 0) {
            i += 3;
        } else if (strncmp(i, "./", 2) == 0) {
            i += 2;
        } else if (strncmp(i, "/./", 3) == 0) {
            i += 2;
        } else if (strcmp(i, "/.") == 0) {
            *++i = '/';
        } else if (strncmp(i, "/../", 4) == 0 || strcmp(i, "/..") == 0) {
            if (i[3] == '/')
                i += 3;
            else
                *(i += 2) = '/';
            while (w > path && *--w != '/') /* drop the last output segment */
                ;
        } else if (strcmp(i, ".") == 0 || strcmp(i, "..") == 0) {
            break;
        } else {
            do
                *w++ = *i++;
            while (*i && *i != '/');
        }
    }
    free(in);
    memmove(w, path + plen, strlen(path + plen) + 1);
    return 0;
}

/* An absolute base: scheme ":" then something (RFC 3986 §3.1, §5.1). */
static int
url_has_scheme(const char *s)
{
    const char *p = s;
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        return 0;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '+' || *p == '-' || *p == '.')
        p++;
    return *p == ':' && p[1] != '\0';
}

char *
parse_url_resolve(const char *base, const char *ref)
{
    struct buf eb = {0}, er = {0};
    xmlChar *built = NULL;
    char *ret = NULL;

    if (ref == NULL)
        return NULL;
    if (base == NULL || !url_has_scheme(base))
        return strdup(ref);
    /* A relative path whose first segment holds ':' ("0javascript:x", "a b:c")
     * cannot be written bare (§4.2): "./" first, as browsers read it. */
    size_t seg = strcspn(ref, "/?#");
    if (!url_has_scheme(ref) && memchr(ref, ':', seg) != NULL && buf_adds(&er, "./") < 0)
        goto out;
    /* buf_add of nothing NUL-terminates even an empty buffer */
    if (url_escape(&eb, base) < 0 || url_escape(&er, ref) < 0 || buf_add(&eb, "", 0) < 0 ||
        buf_add(&er, "", 0) < 0)
        goto out;
    built = xmlBuildURI((const xmlChar *)er.data, (const xmlChar *)eb.data);
    if (built == NULL) {
        ret = strdup(ref); /* unresolvable: the reference as written */
        goto out;
    }
    ret = strdup((const char *)built);
    if (ret != NULL && url_remove_dots(ret) < 0) {
        free(ret);
        ret = NULL;
    }
    if (ret != NULL)
        url_unescape(ret);
out:
    xmlFree(built);
    buf_free(&er);
    buf_free(&eb);
    return ret;
}
