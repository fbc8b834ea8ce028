/* daemon/http/http_websub.c — the WebSub callback (SPEC §11, W3C WebSub
 * §5.3 and §7): GET /websub/ID answers a hub's intent verification, POST
 * /websub/ID takes its content (at most max_feed_size, read here as it
 * arrives), both handed to the service, the connection suspended until it
 * answers (the subscription is read in its worker, a push ingested). The
 * only routes besides the built-in hub's that take a POST, and that no
 * reader's token guards (hubs have none: the signature is the guard). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/http/http_int.h"
#include "daemon/log/log.h"

#define WS_PREFIX "/websub/"

/* One request on its way: the POST body as it arrives, then the wait for
 * the service's answer. Linked in h->ws_reqs from its first call to MHD's
 * completion (or the server's stop). */
struct http_ws_req {
    struct http_ws_req *next;
    struct http *h;
    struct MHD_Connection *c;
    struct emit_buf body;
    int waiting; /* suspended until the service answers */
};

static struct http_ws_req *
req_find(struct http *h, void *cls)
{
    for (struct http_ws_req *r = h->ws_reqs; r != NULL; r = r->next)
        if (r == cls)
            return r;
    return NULL;
}

static void
req_free(struct http *h, struct http_ws_req *r)
{
    for (struct http_ws_req **pp = &h->ws_reqs; *pp != NULL; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    free(r->body.data);
    free(r);
}

/* A text answer with its status. */
static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *text, int allow)
{
    size_t n = strlen(text);
    char *doc = malloc(n + 2);
    if (doc == NULL)
        return MHD_NO;
    memcpy(doc, text, n);
    doc[n] = '\n';
    /* a challenge goes back exactly as sent (W3C WebSub §5.3.1): no newline */
    size_t len = status == MHD_HTTP_OK && n > 0 ? n : n + 1;
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, doc, free);
    if (r == NULL) {
        free(doc);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
    if (status == MHD_HTTP_TOO_MANY_REQUESTS)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The service's answer: sent, the connection resumed. */
static void
on_answer(void *arg, int status, const char *text)
{
    struct http_ws_req *r = arg;
    struct http *h = r->h;
    if (reply(r->c, (unsigned)status, text, 0) != MHD_YES)
        log_debug("event=http-queue-failed");
    r->waiting = 0;
    MHD_resume_connection(r->c);
    h->nsuspended--;
    req_free(h, r);
    http_drive(h);
}

/* The charset parameter of a Content-Type, copied into out (or ""). */
static void
charset_of(const char *ct, char *out, size_t size)
{
    const char *p = ct;
    out[0] = '\0';
    while (p != NULL && *p != '\0' && strncasecmp(p, "charset=", 8) != 0)
        p++;
    if (p == NULL || *p == '\0')
        return;
    p += 8;
    if (*p == '"')
        p++;
    size_t n = strcspn(p, "\"; \t");
    if (n > 0 && n < size) {
        memcpy(out, p, n);
        out[n] = '\0';
    }
}

enum MHD_Result
http_websub_request(struct http *h, struct MHD_Connection *c, const char *url, const char *method,
                    const char *upload, size_t *upload_size, void **con_cls)
{
    const char *id = url + strlen(WS_PREFIX);
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    struct http_ws_req *r = req_find(h, *con_cls);

    if (*con_cls == &h->uri_wait) /* resumed with no answer queued: give up */
        return MHD_NO;
    if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        h->requests++;
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", 1);
    }
    if (r == NULL) { /* the first call: the head only */
        if ((r = calloc(1, sizeof(*r))) == NULL)
            return MHD_NO;
        r->h = h;
        r->c = c;
        r->next = h->ws_reqs;
        h->ws_reqs = r;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size != 0) { /* the body, as it arrives */
        const struct service_snapshot *snap = http_snapshot(h);
        int64_t max = snap != NULL ? snap->max_feed_size : 16 * 1024 * 1024;
        if (post && (int64_t)(r->body.len + *upload_size) > max) {
            /* refused before the rest is read; MHD closes the connection */
            struct service_websub_req big = {.callback = id, .post = 1, .len = SIZE_MAX};
            const char *why = "the content is over max_feed_size";
            int rc = service_websub_callback(h->svc, &big, on_answer, r, &why); /* counts it */
            *upload_size = 0;
            h->requests++;
            return reply(c, rc > 0 ? (unsigned)rc : MHD_HTTP_CONTENT_TOO_LARGE, why, 0);
        }
        if (post) /* a GET's body is ignored */
            emit_buf_add(&r->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    http_conn_request_in(h, c);
    h->requests++;
    if (*id == '\0' || strchr(id, '/') != NULL)
        return reply(c, MHD_HTTP_NOT_FOUND, "not found: no such subscription", 0);
    if (r->body.err)
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory: try again", 0);
    char charset[64];
    charset_of(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
               charset, sizeof(charset));
    struct service_websub_req q = {
        .callback = id,
        .post = post,
        .mode = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hub.mode"),
        .topic = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hub.topic"),
        .challenge = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hub.challenge"),
        .lease = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hub.lease_seconds"),
        .signature = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Hub-Signature"),
        .body = r->body.data != NULL ? r->body.data : "",
        .len = r->body.len,
        .charset = charset[0] != '\0' ? charset : NULL,
    };
    const char *why = NULL;
    int rc = service_websub_callback(h->svc, &q, on_answer, r, &why);
    if (rc > 0)
        return reply(c, (unsigned)rc, why, 0);
    if (rc < 0)
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory: try again", 0);
    free(r->body.data); /* the service has its copy */
    memset(&r->body, 0, sizeof(r->body));
    MHD_suspend_connection(c);
    *con_cls = &h->uri_wait;
    r->waiting = 1;
    h->nsuspended++;
    return MHD_YES;
}

void
http_websub_completed(struct http *h, void *cls)
{
    struct http_ws_req *r = req_find(h, cls);
    if (r != NULL && !r->waiting)
        req_free(h, r);
}

int
http_websub_stop(struct http *h)
{
    struct http_ws_req *r = h->ws_reqs, *next;
    int resumed = 0;
    for (; r != NULL; r = next) {
        next = r->next;
        service_websub_cancel(h->svc, r);
        if (r->waiting) {
            (void)reply(r->c, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down", 0);
            MHD_resume_connection(r->c);
            h->nsuspended--;
            resumed++;
        }
        req_free(h, r);
    }
    return resumed;
}
