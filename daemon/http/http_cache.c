/* daemon/http/http_cache.c — the HTTP server's cache of rendered documents: one
 * entry per (route, normalized query), valid until the service's generation
 * changes or the configuration is reloaded, and kept stale while renders
 * fail; its validators (ETag from the content, Last-Modified when that
 * content was first rendered); its gzip form, made once. Bounded in entries
 * and bytes, least recently used out. Loop thread only. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "daemon/emit/emit_text.h"
#include "daemon/http/http_int.h"
#include "daemon/service/service.h"

/* FNV-1a, 64 bits: a content hash for ETags and a key hash for lookups. */
static uint64_t
fnv64(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int64_t
http_generation(struct http *h)
{
    return service_generation(h->svc);
}

static void
entry_free(struct http_entry *e)
{
    if (e == NULL)
        return;
    /* MHD keeps the responses (and the body) alive while connections still
     * send them; these are the cache's references only. */
    for (int i = 0; i < 2; i++) {
        if (e->resp[i] != NULL)
            MHD_destroy_response(e->resp[i]);
        if (e->r304[i] != NULL)
            MHD_destroy_response(e->r304[i]);
    }
    free(e->key);
    free(e->links);
    free(e);
}

/* Counted with room for its gzip form (never larger, or not kept), so the
 * count does not move when that is made later. */
static size_t
entry_bytes(const struct http_entry *e)
{
    return 2 * e->len + e->keylen + sizeof(*e);
}

void
http_cache_clear(struct http *h)
{
    for (size_t i = 0; i < h->ncache; i++)
        entry_free(h->cache[i]);
    h->ncache = 0;
    h->cache_bytes = 0;
}

static void
cache_remove(struct http *h, size_t i)
{
    h->cache_bytes -= entry_bytes(h->cache[i]);
    entry_free(h->cache[i]);
    h->cache[i] = h->cache[--h->ncache];
}

/* Make room for one more entry of `bytes`, dropping the least recently used
 * ones; an entry larger than the whole budget then lives alone. */
static void
cache_evict(struct http *h, size_t bytes)
{
    while (h->ncache > 0 &&
           (h->ncache >= HTTP_CACHE_MAX || h->cache_bytes + bytes > HTTP_CACHE_BYTES)) {
        size_t old = 0;
        for (size_t i = 1; i < h->ncache; i++)
            if (h->cache[i]->used < h->cache[old]->used)
                old = i;
        cache_remove(h, old);
    }
}

/* Headers every representation of e carries, 200 and 304 alike. */
static int
add_validators(struct MHD_Response *r, const struct http_entry *e, int gz)
{
    const char *const headers[][2] = {
        {MHD_HTTP_HEADER_ETAG, gz ? e->etag_gz : e->etag},
        {MHD_HTTP_HEADER_LAST_MODIFIED, e->modified_http},
        {MHD_HTTP_HEADER_VARY, "Accept-Encoding"},
        /* stored by clients, but revalidated each time: feeds change */
        {MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache"},
    };
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
        if (MHD_add_response_header(r, headers[i][0], headers[i][1]) != MHD_YES)
            return -ENOMEM;
    /* a feed's hub and self (W3C WebSub §4): on 304s too */
    if (e->links != NULL && MHD_add_response_header(r, "Link", e->links) != MHD_YES)
        return -ENOMEM;
    return 0;
}

/* A 200 response for body (taken: freed with the response, or here). */
static struct MHD_Response *
body_response(const struct http_entry *e, char *body, size_t len, int gz)
{
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (r == NULL) {
        free(body);
        return NULL;
    }
    if (add_validators(r, e, gz) < 0 ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, e->type) != MHD_YES ||
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") != MHD_YES ||
        (gz && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") != MHD_YES)) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

void
http_entry_gzip(struct http_entry *e)
{
    z_stream z = {0};
    char *out = NULL;
    uLong cap;

    if (e->gz_tried)
        return;
    e->gz_tried = 1;
    if (e->len < 256) /* not worth a header */
        return;
    /* windowBits 15 + 16: the gzip wrapper (RFC 1952) rather than zlib's */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return;
    cap = deflateBound(&z, (uLong)e->len);
    if ((out = malloc(cap)) == NULL)
        goto done;
    z.next_in = (Bytef *)e->doc;
    z.avail_in = (uInt)e->len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    if (e->len > UINT32_MAX || deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out >= e->len)
        goto done;
    e->gzlen = z.total_out;
    e->resp[1] = body_response(e, out, e->gzlen, 1);
    out = NULL; /* taken */
    if (e->resp[1] == NULL)
        e->gzlen = 0;
done:
    deflateEnd(&z);
    free(out);
}

struct MHD_Response *
http_entry_304(struct http_entry *e, int gz)
{
    if (e->r304[gz] == NULL) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (r == NULL)
            return NULL;
        if (add_validators(r, e, gz) < 0) {
            MHD_destroy_response(r);
            return NULL;
        }
        e->r304[gz] = r;
    }
    return e->r304[gz];
}

/* A new entry for doc (taken). */
static int
entry_new(const char *key, size_t keylen, uint64_t keyhash, char *doc, size_t len, const char *type,
          const char *links, uint64_t hash, struct http_entry **out)
{
    struct http_entry *e = calloc(1, sizeof(*e));

    *out = NULL;
    if (e == NULL || (e->key = malloc(keylen + 1)) == NULL ||
        (links != NULL && (e->links = strdup(links)) == NULL)) {
        if (e != NULL)
            free(e->key);
        free(e);
        free(doc);
        return -ENOMEM;
    }
    memcpy(e->key, key, keylen);
    e->key[keylen] = '\0';
    e->keylen = keylen;
    e->keyhash = keyhash;
    e->hash = hash;
    snprintf(e->etag, sizeof(e->etag), "\"%016" PRIx64 "\"", hash);
    snprintf(e->etag_gz, sizeof(e->etag_gz), "\"%016" PRIx64 "-gz\"", hash);
    e->modified = time(NULL);
    emit_rfc1123(e->modified, e->modified_http, sizeof(e->modified_http));
    e->type = type;
    e->doc = doc;
    e->len = len;
    if ((e->resp[0] = body_response(e, doc, len, 0)) == NULL) {
        entry_free(e);
        return -ENOMEM;
    }
    *out = e;
    return 0;
}

struct http_entry *
http_cache_find(struct http *h, const char *key, size_t keylen)
{
    uint64_t keyhash = fnv64(key, keylen);
    for (size_t i = 0; i < h->ncache; i++) {
        struct http_entry *c = h->cache[i];
        if (c->keyhash == keyhash && c->keylen == keylen && memcmp(c->key, key, keylen) == 0)
            return c;
    }
    return NULL;
}

static size_t
cache_index(const struct http *h, const struct http_entry *e)
{
    size_t i = 0;
    while (h->cache[i] != e)
        i++;
    return i;
}

int
http_entry_fresh(struct http *h, const struct http_entry *e)
{
    return e->gen != HTTP_GEN_NEVER && e->gen == http_generation(h);
}

void
http_entry_touch(struct http *h, struct http_entry *e)
{
    e->used = ++h->tick;
}

void
http_cache_drop(struct http *h, const char *key, size_t keylen)
{
    struct http_entry *e = http_cache_find(h, key, keylen);
    if (e != NULL)
        cache_remove(h, cache_index(h, e));
}

int
http_cache_put(struct http *h, const char *key, size_t keylen, char *doc, size_t len,
               const char *type, const char *links, int64_t gen, struct http_entry **out)
{
    struct http_entry *e = http_cache_find(h, key, keylen), *ne;
    uint64_t hash = fnv64(doc, len);
    int rc;

    *out = NULL;
    if (e != NULL && e->hash == hash && e->len == len && e->type == type &&
        (e->links == NULL) == (links == NULL) && (links == NULL || strcmp(e->links, links) == 0)) {
        /* Same bytes: same ETag and Last-Modified, and the gzip is kept. */
        free(doc);
        e->gen = gen;
        e->retry_at = 0;
        http_entry_touch(h, e);
        *out = e;
        return 0;
    }
    if (e != NULL)
        cache_remove(h, cache_index(h, e));
    if ((rc = entry_new(key, keylen, fnv64(key, keylen), doc, len, type, links, hash, &ne)) < 0)
        return rc;
    ne->gen = gen;
    http_entry_touch(h, ne);
    cache_evict(h, entry_bytes(ne));
    h->cache[h->ncache++] = ne;
    h->cache_bytes += entry_bytes(ne);
    *out = ne;
    return 0;
}

int
http_cache_get(struct http *h, const char *key, size_t keylen, http_render_fn render, void *arg,
               struct http_entry **out)
{
    struct http_entry *e = http_cache_find(h, key, keylen);
    int64_t gen = http_generation(h);
    char *doc = NULL;
    size_t len = 0;
    const char *type = NULL;
    int rc;

    *out = NULL;
    if (e != NULL && http_entry_fresh(h, e)) {
        http_entry_touch(h, e);
        *out = e;
        return 0;
    }
    h->renders++;
    if ((rc = render(h, arg, &doc, &len, &type)) < 0)
        return rc;
    return http_cache_put(h, key, keylen, doc, len, type, NULL, gen, out);
}
