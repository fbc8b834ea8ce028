/* daemon/http/http_auth.c — who may read ([output] tokens): a reader's
 * secret, sent as ?token=SECRET or as HTTP Basic credentials (RFC 7617),
 * compared in constant time with every configured secret. The answer names
 * the reader (for logs) and never keeps or logs the secret. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "daemon/http/http_int.h"

#define BASIC_MAX 1024 /* longest base64 credential looked at, bytes */

/* The index of the reader whose secret is s[0..n), or -1. The time taken
 * depends on n and on the secrets' number and lengths, never on where a
 * secret and s differ: every secret is compared in full. */
static int
reader_of(const struct service_snapshot *snap, const char *s, size_t n)
{
    int found = -1;

    for (size_t i = 0; i < snap->nreaders; i++) {
        const unsigned char *sec = (const unsigned char *)snap->readers[i].secret;
        size_t m = strlen((const char *)sec);
        unsigned d = m != n;
        for (size_t k = 0; k < m; k++)
            d |= sec[k] ^ (k < n ? (unsigned char)s[k] : 0u);
        /* no early exit: the loop goes on whether or not this one matched */
        found = d == 0 ? (int)i : found;
    }
    return found;
}

static int
b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* Decodes base64 (RFC 4648 §4, padding optional) s[0..n) into out
 * (outsize >= n); returns the length, or -1 when s is not base64. */
static long
b64_decode(const char *s, size_t n, unsigned char *out)
{
    unsigned acc = 0;
    int bits = 0;
    long len = 0;

    while (n > 0 && s[n - 1] == '=')
        n--;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return bits >= 6 ? -1 : len; /* one character over a byte boundary: truncated */
}

/* The secret of an `Authorization: Basic` header: the password, or the
 * user name when the password is empty (readers that have one field only).
 * Returns 1 with *secret and *n set (into buf), 0 when the header is no
 * Basic credential, -1 when it is one but malformed. */
static int
basic_secret(const char *hdr, unsigned char *buf, const char **secret, size_t *n)
{
    const char *p = hdr;
    size_t len;
    long dlen;
    const char *colon;

    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "Basic", 5) != 0 || (p[5] != ' ' && p[5] != '\t'))
        return 0;
    p += 5;
    while (*p == ' ' || *p == '\t')
        p++;
    len = strcspn(p, " \t");
    if (len == 0 || len > BASIC_MAX || p[len + strspn(p + len, " \t")] != '\0')
        return -1;
    if ((dlen = b64_decode(p, len, buf)) < 0)
        return -1;
    buf[dlen] = '\0';
    colon = memchr(buf, ':', (size_t)dlen);
    if (colon == NULL)
        return -1;
    if (colon + 1 < (const char *)buf + dlen) {
        *secret = colon + 1;
        *n = (size_t)((const char *)buf + dlen - (colon + 1));
    } else {
        *secret = (const char *)buf;
        *n = (size_t)(colon - (const char *)buf);
    }
    return 1;
}

int
http_auth(struct http *h, struct MHD_Connection *c, const struct service_snapshot *snap,
          const char **why)
{
    const char *tok = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    const char *hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    unsigned char buf[BASIC_MAX + 1];
    const char *secret = NULL;
    size_t n = 0;
    int found = -1, given = 0, bad = 0;

    h->reader[0] = '\0';
    if (snap->nreaders == 0)
        return 0;
    if (tok != NULL && *tok != '\0') {
        given = 1;
        found = reader_of(snap, tok, strlen(tok));
    }
    if (found < 0 && hdr != NULL) {
        int b = basic_secret(hdr, buf, &secret, &n);
        given |= b != 0;
        bad = b < 0;
        if (b > 0)
            found = reader_of(snap, secret, n);
        memset(buf, 0, sizeof(buf)); /* no secret left on the stack */
    }
    if (found >= 0) {
        snprintf(h->reader, sizeof(h->reader), "%s", snap->readers[found].name);
        return 0;
    }
    h->unauthorized++;
    if (!given)
        *why = "this server wants a reader's token: ?token=SECRET, or HTTP Basic with the "
               "secret as password";
    else if (bad && tok == NULL)
        *why = "bad Authorization header (want Basic base64(NAME:SECRET))";
    else
        *why = "the token is not valid";
    return -EACCES;
}
