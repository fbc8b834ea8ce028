/* daemon/websub/websub.h — the W3C WebSub protocol's small pieces, shared by
 * the service (subscribing, renewing, the built-in hub's deliveries) and the
 * HTTP server (callbacks, the hub's endpoint): X-Hub-Signature HMACs,
 * unguessable ids, form bodies. No state, no I/O but the random source.
 * HMAC-SHA256 is OpenSSL's libcrypto, the TLS library libcurl is linked
 * against already. */
#ifndef FINFEED_WEBSUB_H
#define FINFEED_WEBSUB_H

#include <stddef.h>

#define WEBSUB_SIG_MAX 136  /* "sha512=" and 128 hex digits, NUL */
#define WEBSUB_ID_HEX 32    /* hex digits of a callback id (128 random bits) */
#define WEBSUB_SECRET_HEX 48 /* hex digits of a hub.secret (192 random bits) */

/* X-Hub-Signature of body (len bytes) under secret: "sha256=<64 hex>"
 * into out (WEBSUB_SIG_MAX bytes). 0 or -EIO. */
int websub_sign(const char *secret, const void *body, size_t len, char out[WEBSUB_SIG_MAX]);

/* Check X-Hub-Signature `header` ("METHOD=HEX", W3C WebSub §8: sha256,
 * sha384 or sha512; sha1 is refused) of body under secret, in constant
 * time. 0 valid; -EINVAL missing or malformed; -ENOTSUP another method;
 * -EBADMSG a signature that does not match. */
int websub_verify(const char *secret, const char *header, const void *body, size_t len);

/* SHA-256 of body (len bytes) as 64 hex digits into out: the built-in
 * hub's content hash (a change is pushed when it differs). 0 or -EIO. */
int websub_digest(const void *body, size_t len, char out[65]);

/* `hex` random hex digits (even, < size) from the system's random source
 * into out. 0 or -EIO. */
int websub_random_hex(char *out, size_t size, size_t hex);

/* key=value appended to the application/x-www-form-urlencoded body *form
 * (malloc'd, NULL to start; '&' between pairs), value percent-encoded.
 * 0 or -ENOMEM (*form then freed and NULL). */
int websub_form_add(char **form, const char *key, const char *value);

/* The first value of key in form body (len bytes; '+' and %XX decoded),
 * a new string in *out; 1 found, 0 not (*out NULL), -ENOMEM, -EINVAL (a
 * value that decodes to a NUL or a bad escape). */
int websub_form_get(const char *form, size_t len, const char *key, char **out);

#endif
