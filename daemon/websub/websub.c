/* daemon/websub/websub.c — X-Hub-Signature (W3C WebSub §8), random ids,
 * form bodies (application/x-www-form-urlencoded). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "daemon/websub/websub.h"

static const char hexd[] = "0123456789abcdef";

static void
to_hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[in[i] >> 4];
        out[2 * i + 1] = hexd[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
websub_sign(const char *secret, const void *body, size_t len, char out[WEBSUB_SIG_MAX])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, mac, &n) == NULL)
        return -EIO;
    memcpy(out, "sha256=", 7);
    to_hex(mac, n, out + 7);
    return 0;
}

int
websub_verify(const char *secret, const char *header, const void *body, size_t len)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } methods[] = {{"sha256", EVP_sha256}, {"sha384", EVP_sha384}, {"sha512", EVP_sha512}};
    unsigned char mac[EVP_MAX_MD_SIZE], given[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const char *eq;

    if (header == NULL || (eq = strchr(header, '=')) == NULL || eq == header)
        return -EINVAL;
    const EVP_MD *md = NULL;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strlen(methods[i].name) == (size_t)(eq - header) &&
            strncasecmp(header, methods[i].name, (size_t)(eq - header)) == 0)
            md = methods[i].md();
    if (md == NULL)
        return -ENOTSUP;
    const char *hex = eq + 1;
    size_t hl = strlen(hex), want = (size_t)EVP_MD_get_size(md);
    if (hl != 2 * want)
        return -EINVAL;
    for (size_t i = 0; i < want; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        given[i] = (unsigned char)(hi << 4 | lo);
    }
    if (HMAC(md, secret, (int)strlen(secret), body, len, mac, &n) == NULL || n != want)
        return -EIO;
    return CRYPTO_memcmp(mac, given, want) == 0 ? 0 : -EBADMSG;
}

int
websub_digest(const void *body, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(body, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return -EIO;
    to_hex(md, n, out);
    return 0;
}

int
websub_random_hex(char *out, size_t size, size_t hex)
{
    unsigned char raw[64];
    if (hex % 2 != 0 || hex / 2 > sizeof(raw) || hex >= size)
        return -EINVAL;
    if (RAND_bytes(raw, (int)(hex / 2)) != 1)
        return -EIO;
    to_hex(raw, hex / 2, out);
    return 0;
}

int
websub_form_add(char **form, const char *key, const char *value)
{
    size_t old = *form != NULL ? strlen(*form) : 0;
    size_t need = old + 1 + strlen(key) + 1 + 3 * strlen(value) + 1;
    char *f = realloc(*form, need), *p;
    if (f == NULL) {
        free(*form);
        *form = NULL;
        return -ENOMEM;
    }
    p = f + old;
    if (old > 0)
        *p++ = '&';
    p += sprintf(p, "%s=", key);
    for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
        /* RFC 3986 unreserved characters stay as they are */
        if ((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') ||
            *v == '-' || *v == '.' || *v == '_' || *v == '~') {
            *p++ = (char)*v;
        } else {
            *p++ = '%';
            *p++ = "0123456789ABCDEF"[*v >> 4];
            *p++ = "0123456789ABCDEF"[*v & 15];
        }
    }
    *p = '\0';
    *form = f;
    return 0;
}

/* Decode n bytes of a form component into a new string at *out. */
static int
decode(const char *s, size_t n, char **out)
{
    char *d = malloc(n + 1), *p = d;
    if (d == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            *p++ = ' ';
        } else if (s[i] == '%') {
            /* two hex digits must follow */
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(d);
                return -EINVAL;
            }
            *p++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *p++ = s[i];
        }
    }
    *p = '\0';
    *out = d;
    return 0;
}

int
websub_form_get(const char *form, size_t len, const char *key, char **out)
{
    size_t kl = strlen(key);
    const char *p = form, *end = form + len;
    *out = NULL;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        const char *ke = eq != NULL ? eq : pe;
        char *k = NULL;
        int rc = decode(p, (size_t)(ke - p), &k);
        if (rc < 0)
            return rc;
        int match = strlen(k) == kl && memcmp(k, key, kl) == 0;
        free(k);
        if (match) {
            const char *v = eq != NULL ? eq + 1 : pe;
            rc = decode(v, (size_t)(pe - v), out);
            return rc < 0 ? rc : 1;
        }
        p = pe + (amp != NULL);
    }
    return 0;
}
