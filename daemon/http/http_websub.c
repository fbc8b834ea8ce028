/* daemon/http/http_websub.c — the WebSub routes (SPEC §11), the only ones
 * that take a POST. The subscriber's callback (W3C WebSub §5.3 and §7): GET
 * /websub/ID answers a hub's intent verification, POST /websub/ID takes its
 * content (at most max_feed_size, read here as it arrives); no reader's
 * token guards it (hubs have none: the signature is the guard). The
 * built-in hub (§5.1): POST /hub, a reader's subscribe or unsubscribe (a
 * form of at most HTTP_HUB_BODY_MAX bytes, hub.topic one of our feed
 * routes, a reader's token when [output] tokens is set). Either is handed
 * to the service, the connection suspended until it answers. */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "daemon/websub/websub.h"

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
    int waiting;   /* suspended until the service answers */
    int too_large; /* /hub: over HTTP_HUB_BODY_MAX, the rest read and dropped */
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

/* A text answer with its status; allow: the methods of a 405 (NULL: no
 * Allow header); a 401 carries the Basic challenge. */
static enum MHD_Result
reply_methods(struct MHD_Connection *c, unsigned status, const char *text, const char *allow)
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
    if (allow != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (status == MHD_HTTP_TOO_MANY_REQUESTS)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"finfeed\"");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *text, int allow)
{
    return reply_methods(c, status, text, allow ? "GET, HEAD, POST" : NULL);
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
        service_hub_cancel(h->svc, r);
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

/* ---- the built-in hub: POST /hub (W3C WebSub §5.1) ---- */

/* The client's address as text (the hub's rate limit is per address). */
static void
client_of(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, size, "-");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                           : sizeof(struct sockaddr_in);
    if (getnameinfo(ci->client_addr, len, out, (socklen_t)size, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(out, size, "-");
}

/* Whether a Content-Type is application/x-www-form-urlencoded (any
 * parameters). */
static int
form_type(const char *ct)
{
    static const char want[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(want) - 1;
    return ct != NULL && strncasecmp(ct, want, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* The fields of a hub request, decoded (owned). */
struct hub_form {
    char *mode, *topic, *callback, *lease, *secret;
};

static void
hub_form_free(struct hub_form *f)
{
    free(f->mode);
    free(f->topic);
    free(f->callback);
    free(f->lease);
    free(f->secret);
}

static int
hub_form_read(const char *body, size_t len, struct hub_form *f)
{
    struct {
        const char *key;
        char **slot;
    } fields[] = {{"hub.mode", &f->mode},
                  {"hub.topic", &f->topic},
                  {"hub.callback", &f->callback},
                  {"hub.lease_seconds", &f->lease},
                  {"hub.secret", &f->secret}};
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        int rc = websub_form_get(body, len, fields[i].key, fields[i].slot);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A form of a few URLs and a secret: a larger one is refused unread. */
#define HTTP_HUB_BODY_MAX 8192

static const char too_large[] =
    "the request body is over 8192 bytes (a hub request is a short form)";

enum MHD_Result
http_hub_request(struct http *h, struct MHD_Connection *c, const char *method, const char *upload,
                 size_t *upload_size, void **con_cls)
{
    struct http_ws_req *r = req_find(h, *con_cls);
    char q[512];

    if (*con_cls == &h->uri_wait) /* resumed with no answer queued: give up */
        return MHD_NO;
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
        h->requests++;
        return reply_methods(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                             "method not allowed: the hub takes POST (hub.mode=subscribe or "
                             "unsubscribe, W3C WebSub 5.1)",
                             "POST");
    }
    if (r == NULL) { /* the first call: the head only */
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && (strlen(cl) > 9 || strtol(cl, NULL, 10) > HTTP_HUB_BODY_MAX)) {
            /* refused unread (an answer can be queued now, not while the
             * body comes); MHD closes the connection after it */
            h->requests++;
            return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, too_large, 0);
        }
        if ((r = calloc(1, sizeof(*r))) == NULL)
            return MHD_NO;
        r->h = h;
        r->c = c;
        r->next = h->ws_reqs;
        h->ws_reqs = r;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size != 0) { /* the body, as it arrives (chunked: no length said) */
        if (!r->too_large && r->body.len + *upload_size <= HTTP_HUB_BODY_MAX)
            emit_buf_add(&r->body, upload, *upload_size);
        else
            r->too_large = 1; /* read on and dropped: answered once it is all in */
        *upload_size = 0;
        return MHD_YES;
    }
    http_conn_request_in(h, c);
    h->requests++;
    if (r->too_large)
        return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, too_large, 0);
    const struct service_snapshot *snap = http_snapshot(h);
    const char *why = NULL;
    if (snap == NULL || r->body.err)
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory: try again", 0);
    if (!snap->hub_builtin)
        return reply(c, MHD_HTTP_NOT_FOUND,
                     "not found: no built-in hub here ([output] hub is not builtin)", 0);
    h->reader[0] = '\0';
    if (http_auth(h, c, snap, &why) < 0) {
        snprintf(q, sizeof(q), "unauthorized: %s", why);
        return reply(c, MHD_HTTP_UNAUTHORIZED, q, 0);
    }
    if (!form_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return reply(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                     "Content-Type: want application/x-www-form-urlencoded (W3C WebSub 5.1)", 0);
    struct hub_form f;
    if (hub_form_read(r->body.data != NULL ? r->body.data : "", r->body.len, &f) < 0) {
        hub_form_free(&f);
        return reply(c, MHD_HTTP_BAD_REQUEST,
                     "bad request: the form's encoding ('%' and two hex digits, no NUL)", 0);
    }
    struct http_topic t = {0};
    enum MHD_Result ret;
    int rc = 0;
    if (f.topic == NULL || f.topic[0] == '\0') {
        ret = reply(c, MHD_HTTP_BAD_REQUEST, "bad request: hub.topic: missing", 0);
        goto done;
    }
    if ((rc = http_topic_resolve(h, f.topic, &t)) < 0) {
        ret = reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory: try again", 0);
        goto done;
    }
    if (t.status != 0) {
        /* whatever a GET of it gets, the request is wrong: 400, and why */
        snprintf(q, sizeof(q), "bad request: hub.topic: %s%s", t.status == 404 ? "not found: " : "",
                 t.why);
        ret = reply(c, MHD_HTTP_BAD_REQUEST, q, 0);
        goto done;
    }
    char client[64];
    client_of(c, client, sizeof(client));
    struct service_hub_req hq = {
        .mode = f.mode,
        .topic = f.topic,
        .path = t.path,
        .callback = f.callback,
        .lease = f.lease,
        .secret = f.secret,
        .client = client,
    };
    rc = service_hub_request(h->svc, &hq, on_answer, r, &why);
    if (rc > 0) {
        snprintf(q, sizeof(q), "%s: %s",
                 rc == MHD_HTTP_NOT_FOUND           ? "not found"
                 : rc == MHD_HTTP_BAD_REQUEST       ? "bad request"
                 : rc == MHD_HTTP_TOO_MANY_REQUESTS ? "too many requests"
                                                    : "refused",
                 why);
        ret = reply(c, (unsigned)rc, q, 0);
    } else if (rc < 0) {
        ret = reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory: try again", 0);
    } else {
        free(r->body.data);
        memset(&r->body, 0, sizeof(r->body));
        MHD_suspend_connection(c);
        *con_cls = &h->uri_wait;
        r->waiting = 1;
        h->nsuspended++;
        ret = MHD_YES;
    }
done:
    http_topic_clear(&t);
    hub_form_free(&f);
    h->reader[0] = '\0';
    return ret;
}
