/* fetch/xfer.c — one transfer's easy handle: the options of SPEC §6
 * (conditional GET, compression, redirects, protocols, limits), the write,
 * header and guard callbacks, and the translation of its end into a
 * fetch_result (CURLcode → negative errno, Retry-After, max-age, charset). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sys/stat.h>

#include "fetch/fetch_int.h"

#define ACCEPT                                                                                     \
    "Accept: application/rss+xml, application/atom+xml, application/feed+json, "                   \
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
#define LOW_SPEED_WINDOW 30L          /* seconds without a byte count as silence */
#define DELTA_SECONDS_MAX 2147483648L /* RFC 9111 §1.2.2: overflow means 2^31 */

/* ---- callbacks inside libcurl: no libcurl calls here ---- */

/* CURLOPT_WRITEFUNCTION: the decompressed body. A chunk that would take it
 * over max_size stops the transfer, so a gzip bomb costs max_size at most. */
static size_t
on_curl_write(char *ptr, size_t size, size_t nmemb, void *userp)
{
    struct fetch_xfer *t = userp;
    size_t n = size * nmemb;

    if ((uint64_t)n > (uint64_t)t->max_size - t->len) {
        t->too_large = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (t->len + n > t->cap) {
        size_t cap = t->cap > 0 ? t->cap : 16384;
        char *b;
        while (cap < t->len + n)
            cap *= 2;
        if ((uint64_t)cap > (uint64_t)t->max_size)
            cap = (size_t)t->max_size;
        b = realloc(t->body, cap + 1);
        if (b == NULL)
            return 0;
        t->body = b;
        t->cap = cap;
    }
    memcpy(t->body + t->len, ptr, n);
    t->len += n;
    t->body[t->len] = '\0';
    return n;
}

/* CURLOPT_HEADERFUNCTION: only the status lines, to learn whether every
 * redirect followed was permanent (301/308). Header values are read after
 * the transfer with curl_easy_header. */
static size_t
on_curl_header(char *buf, size_t size, size_t nitems, void *userp)
{
    struct fetch_xfer *t = userp;
    size_t n = size * nitems, i = 5;
    int code = 0;

    if (n < 12 || memcmp(buf, "HTTP/", 5) != 0)
        return n;
    while (i < n && buf[i] != ' ')
        i++;
    while (i < n && buf[i] == ' ')
        i++;
    for (int k = 0; k < 3 && i < n && buf[i] >= '0' && buf[i] <= '9'; k++, i++)
        code = code * 10 + (buf[i] - '0');
    if (code < 200) /* 1xx interim responses (100 Continue) are not hops */
        return n;
    if (t->responses > 0 && t->last_status != 301 && t->last_status != 308)
        t->permanent = 0;
    t->responses++;
    t->last_status = code;
    return n;
}

/* CURLOPT_PREREQFUNCTION: called for every request of the transfer (each
 * redirect hop), connected, before anything is sent. The guard of SPEC §6:
 * a transfer that began on a public address may not go on to a private one.
 * The connected address counts, not the name (DNS rebinding, hosts that
 * resolve to 127.0.0.1). */
static int
on_curl_prereq(void *clientp, char *ip, char *local_ip, int port, int local_port)
{
    struct fetch_xfer *t = clientp;
    int priv;

    (void)local_ip;
    (void)port;
    (void)local_port;
    t->requests++;
    if (ip == NULL || *ip == '\0') /* file:// */
        return CURL_PREREQFUNC_OK;
    if (t->public_addr != NULL && strcmp(ip, t->public_addr) == 0)
        priv = 0; /* test hook, see fetch_request */
    else
        priv = fetch_addr_is_private(ip);
    if (t->public_only && priv != 0) { /* a stranger's URL: no private hop at all */
        snprintf(t->refused, sizeof(t->refused), "%s", ip);
        return CURL_PREREQFUNC_ABORT;
    }
    if (t->requests == 1) {
        t->first_private = priv == 1; /* not an address: no licence for later hops */
        return CURL_PREREQFUNC_OK;
    }
    if (priv != 0 && !t->first_private) { /* not an address: fail closed */
        snprintf(t->refused, sizeof(t->refused), "%s", ip);
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

/* ---- setup ---- */

static int
add_header(struct curl_slist **list, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    struct curl_slist *l;

    if (line == NULL)
        return -ENOMEM;
    snprintf(line, n, "%s: %s", name, value);
    l = curl_slist_append(*list, line);
    free(line);
    if (l == NULL)
        return -ENOMEM;
    *list = l;
    return 0;
}

/* libcurl reads file:// on the loop thread: a FIFO or a device there would
 * block it (open() of a FIFO waits for a writer), so only regular files. */
static int
file_check(struct fetch_xfer *t)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *path = NULL;
    struct stat st;
    int rc = 0;

    if (u == NULL)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, t->url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) ==
            CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        strcasecmp(scheme, "file") == 0 &&
        curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK &&
        stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(t->errbuf, sizeof(t->errbuf), "%s: not a regular file", path);
        rc = -EINVAL;
    }
    curl_free(path);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

int
fetch_xfer_setup(struct fetch_xfer *t)
{
    CURL *e;
    CURLcode c = CURLE_OK;
    struct curl_slist *l;
    long low = t->timeout_s < LOW_SPEED_WINDOW ? t->timeout_s : LOW_SPEED_WINDOW;
    int rc = -ENOMEM;

    t->permanent = 1;
    if (t->allow_file && (rc = file_check(t)) < 0)
        goto fail;
    rc = -ENOMEM;
    t->easy = e = curl_easy_init();
    if (e == NULL)
        goto fail;
    l = curl_slist_append(NULL, ACCEPT);
    if (l == NULL)
        goto fail;
    t->headers = l;
    /* Conditional GET: the validators exactly as the server gave them. */
    if ((t->etag != NULL && add_header(&t->headers, "If-None-Match", t->etag) < 0) ||
        (t->last_modified != NULL &&
         add_header(&t->headers, "If-Modified-Since", t->last_modified) < 0))
        goto fail;
    for (size_t i = 0; t->extra != NULL && t->extra[i] != NULL; i++) {
        if ((l = curl_slist_append(t->headers, t->extra[i])) == NULL)
            goto fail;
        t->headers = l;
    }
    if (t->post != NULL &&
        add_header(&t->headers, "Content-Type",
                   t->post_type != NULL ? t->post_type : "application/x-www-form-urlencoded") < 0)
        goto fail;
    if (t->resolve != NULL) {
        t->resolve_list = curl_slist_append(NULL, t->resolve);
        if (t->resolve_list == NULL)
            goto fail;
    }

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (c == CURLE_OK)                                                                         \
            c = curl_easy_setopt(e, opt, val);                                                     \
    } while (0)
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_PRIVATE, (void *)t);
    SET(CURLOPT_URL, t->url);
    SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87.0 */
    /* removing a transfer mid-resolve must not join the resolver thread */
    SET(CURLOPT_QUICK_EXIT, 1L);
#endif
    SET(CURLOPT_PROTOCOLS_STR, t->allow_file ? "http,https,file" : "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https"); /* never file:// on redirect */
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
    SET(CURLOPT_ACCEPT_ENCODING, ""); /* every encoding this libcurl decodes */
    SET(CURLOPT_USERAGENT, t->user_agent != NULL ? t->user_agent : "finfeed/" FINFEED_VERSION);
    SET(CURLOPT_HTTPHEADER, t->headers);
    SET(CURLOPT_FAILONERROR, 0L); /* statuses are data for the scheduler */
    SET(CURLOPT_TIMEOUT_MS, t->timeout_s * 1000L);
    SET(CURLOPT_LOW_SPEED_LIMIT, 1L); /* a silent server ends sooner than timeout */
    SET(CURLOPT_LOW_SPEED_TIME, low);
    /* Cheap early refusal by Content-Length; the write callback holds the
     * real limit, after decompression. */
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_size);
    SET(CURLOPT_WRITEFUNCTION, on_curl_write);
    SET(CURLOPT_WRITEDATA, (void *)t);
    SET(CURLOPT_HEADERFUNCTION, on_curl_header);
    SET(CURLOPT_HEADERDATA, (void *)t);
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SET(CURLOPT_PREREQFUNCTION, on_curl_prereq);
    SET(CURLOPT_PREREQDATA, (void *)t);
    if (t->resolve_list != NULL)
        SET(CURLOPT_RESOLVE, t->resolve_list);
    if (t->post != NULL) {
        /* a POST that a redirect never turns into a GET elsewhere: none followed */
        SET(CURLOPT_POSTFIELDS, t->post);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->post_len);
        SET(CURLOPT_FOLLOWLOCATION, 0L);
    }
#undef SET
    if (c != CURLE_OK) {
        snprintf(t->errbuf, sizeof(t->errbuf), "curl_easy_setopt: %s", curl_easy_strerror(c));
        rc = c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        goto fail;
    }
    return 0;

fail:
    if (rc == -ENOMEM && t->errbuf[0] == '\0')
        snprintf(t->errbuf, sizeof(t->errbuf), "out of memory");
    return rc;
}

void
fetch_xfer_free(struct fetch_xfer *t)
{
    if (t == NULL)
        return;
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->resolve_list);
    free(t->body);
    free(t->url);
    free(t->etag);
    free(t->last_modified);
    free(t->user_agent);
    free(t->resolve);
    free(t->public_addr);
    free(t->post);
    free(t->post_type);
    for (size_t i = 0; t->extra != NULL && t->extra[i] != NULL; i++)
        free(t->extra[i]);
    free(t->extra);
    free(t);
}

/* ---- the result ---- */

/* delta-seconds (RFC 9110 §10.2.3, RFC 9111 §1.2.2) in [s, end): digits
 * only, at least one; -1 otherwise. */
static long
delta_seconds(const char *s, const char *end)
{
    long v = 0;

    if (s == end)
        return -1;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v < DELTA_SECONDS_MAX)
            v = v * 10 + (*s - '0');
    }
    return v < DELTA_SECONDS_MAX ? v : DELTA_SECONDS_MAX;
}

static int
is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Retry-After: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
static long
retry_after(const char *v)
{
    const char *end;
    time_t when, now;

    while (is_ws(*v))
        v++;
    end = v + strlen(v);
    while (end > v && is_ws(end[-1]))
        end--;
    if (end > v && *v >= '0' && *v <= '9')
        return delta_seconds(v, end);
    when = curl_getdate(v, NULL);
    if (when == (time_t)-1)
        return -1;
    now = time(NULL);
    if (when <= now)
        return 0;
    return when - now < DELTA_SECONDS_MAX ? (long)(when - now) : DELTA_SECONDS_MAX;
}

/* The max-age directive of one Cache-Control value (RFC 9111 §5.2), -1. */
static long
max_age(const char *p)
{
    while (*p != '\0') {
        const char *name, *val = NULL, *vend = NULL;
        size_t nlen;

        while (is_ws(*p) || *p == ',')
            p++;
        name = p;
        while (*p != '\0' && *p != '=' && *p != ',' && !is_ws(*p))
            p++;
        nlen = (size_t)(p - name);
        while (is_ws(*p))
            p++;
        if (*p == '=') {
            p++;
            while (is_ws(*p))
                p++;
            if (*p == '"') {
                val = ++p;
                while (*p != '\0' && *p != '"')
                    p++;
                vend = p;
                if (*p == '"')
                    p++;
            } else {
                val = p;
                while (*p != '\0' && *p != ',' && !is_ws(*p))
                    p++;
                vend = p;
            }
        }
        if (nlen == 7 && strncasecmp(name, "max-age", 7) == 0 && val != NULL)
            return delta_seconds(val, vend);
        while (*p != '\0' && *p != ',')
            p++;
    }
    return -1;
}

/* The charset parameter of a Content-Type (RFC 9110 §8.3.1), "" if none. */
static void
charset_of(const char *ct, char *out, size_t size)
{
    const char *p = ct;

    out[0] = '\0';
    while (p != NULL && (p = strchr(p, ';')) != NULL) {
        const char *v, *e;
        p++;
        while (is_ws(*p))
            p++;
        if (strncasecmp(p, "charset", 7) != 0)
            continue;
        v = p + 7;
        while (is_ws(*v))
            v++;
        if (*v != '=')
            continue;
        v++;
        while (is_ws(*v))
            v++;
        if (*v == '"') {
            e = strchr(++v, '"');
            if (e == NULL)
                e = v + strlen(v);
        } else {
            e = v;
            while (*e != '\0' && *e != ';' && !is_ws(*e))
                e++;
        }
        if ((size_t)(e - v) < size) {
            memcpy(out, v, (size_t)(e - v));
            out[e - v] = '\0';
        }
        return;
    }
}

/* A header of the final response, copied (curl_easy_header's pointers die
 * at its next call), or NULL. */
static char *
header_dup(CURL *e, const char *name)
{
    struct curl_header *h;

    if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return NULL;
    return strdup(h->value);
}

static long
header_max_age(CURL *e)
{
    struct curl_header *h;
    long v;

    for (size_t i = 0; curl_easy_header(e, "Cache-Control", i, CURLH_HEADER, -1, &h) == CURLHE_OK;
         i++) {
        if ((v = max_age(h->value)) >= 0)
            return v;
        if (i + 1 >= h->amount)
            break;
    }
    return -1;
}

/* Link headers (RFC 8288) of the final response: the first target of
 * rel `want` ("hub", "self"; rel may list several, space-separated),
 * resolved against base by curl_url, or NULL. */
static char *
header_link(CURL *e, const char *want, const char *base)
{
    struct curl_header *h;
    size_t wn = strlen(want);

    for (size_t i = 0; curl_easy_header(e, "Link", i, CURLH_HEADER, -1, &h) == CURLHE_OK; i++) {
        const char *p = h->value;
        while (p != NULL && (p = strchr(p, '<')) != NULL) {
            const char *u = p + 1, *ue = strchr(u, '>');
            if (ue == NULL)
                break;
            /* the link's parameters run to the next '<' after a ',' outside quotes */
            const char *q = ue + 1, *next = NULL;
            int quoted = 0, match = 0;
            while (*q != '\0' && next == NULL) {
                if (*q == '"')
                    quoted = !quoted;
                else if (!quoted && *q == ',')
                    next = q;
                else if (!quoted && *q == ';') {
                    const char *n = q + 1;
                    while (*n == ' ' || *n == '\t')
                        n++;
                    if (strncasecmp(n, "rel", 3) == 0) {
                        n += 3;
                        while (*n == ' ' || *n == '\t')
                            n++;
                        if (*n == '=') {
                            n++;
                            while (*n == ' ' || *n == '\t')
                                n++;
                            int qd = *n == '"';
                            n += qd;
                            /* each space-separated relation type */
                            while (*n != '\0' && *n != (qd ? '"' : ';') && *n != ',') {
                                size_t k = strcspn(n, qd ? "\" \t" : "; \t,");
                                if (k == wn && strncasecmp(n, want, wn) == 0)
                                    match = 1;
                                n += k;
                                while (*n == ' ' || *n == '\t')
                                    n++;
                                if (k == 0)
                                    break;
                            }
                        }
                    }
                }
                q++;
            }
            if (match) {
                char *ref = strndup(u, (size_t)(ue - u)), *abs = NULL;
                CURLU *cu = curl_url();
                if (ref != NULL && cu != NULL &&
                    (base == NULL || curl_url_set(cu, CURLUPART_URL, base, 0) == CURLUE_OK) &&
                    curl_url_set(cu, CURLUPART_URL, ref, 0) == CURLUE_OK) {
                    char *v = NULL;
                    if (curl_url_get(cu, CURLUPART_URL, &v, 0) == CURLUE_OK) {
                        abs = strdup(v);
                        curl_free(v);
                    }
                }
                curl_url_cleanup(cu);
                free(ref);
                return abs;
            }
            p = next;
        }
        if (i + 1 >= h->amount)
            break;
    }
    return NULL;
}

/* The OS errno libcurl saw connecting, when it is one we name. */
static int
os_error(CURL *e, int fallback)
{
    long err = 0;

    if (curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &err) != CURLE_OK)
        return fallback;
    switch (err) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ECONNRESET:
    case ETIMEDOUT:
        return (int)-err;
    default:
        return fallback;
    }
}

/* CURLcode → negative errno at the module boundary (STYLE §4); the text
 * goes to msg. */
static int
translate(struct fetch_xfer *t, CURLcode res, long http, char *msg, size_t size)
{
    const char *text = t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(res);
    int err;

    switch (res) {
    case CURLE_OK:
        if (http == 0 || (http >= 200 && http < 300) || http == 304)
            return 0;
        snprintf(msg, size, "HTTP %ld", http);
        return -EREMOTEIO;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (t->too_large || res == CURLE_FILESIZE_EXCEEDED) {
            snprintf(msg, size, "too large (over %lld bytes)", (long long)t->max_size);
            return -EFBIG;
        }
        err = -ENOMEM; /* the write callback's realloc */
        text = "out of memory";
        break;
    case CURLE_ABORTED_BY_CALLBACK:
        if (t->refused[0] != '\0') {
            snprintf(msg, size, "redirect to a private address (%s)", t->refused);
            return -EACCES;
        }
        err = -EIO;
        break;
    case CURLE_OPERATION_TIMEDOUT:
        err = -ETIMEDOUT;
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        err = -EHOSTUNREACH;
        break;
    case CURLE_COULDNT_CONNECT:
        err = os_error(t->easy, -ECONNREFUSED);
        break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        err = os_error(t->easy, -ECONNRESET);
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        err = -ELOOP;
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        err = -EPROTONOSUPPORT;
        break;
    case CURLE_URL_MALFORMAT:
        err = -EINVAL;
        break;
    case CURLE_OUT_OF_MEMORY:
        err = -ENOMEM;
        break;
    case CURLE_FILE_COULDNT_READ_FILE:
        err = -ENOENT;
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_RANGE_ERROR:
        err = -EPROTO;
        break;
    default:
        err = -EIO;
        break;
    }
    if (t->sock_error < 0) { /* the real reason a transfer timed out */
        err = t->sock_error;
        snprintf(msg, size, "cannot watch a socket: %s", uv_strerror(err));
        return err;
    }
    snprintf(msg, size, "%s", text);
    return err;
}

void
fetch_xfer_report(struct fetch_xfer *t, CURLcode res, int error, const char *why)
{
    struct fetch_result *r = &t->result;
    char charset[64] = "", *etag = NULL, *lm = NULL, *ra = NULL, *url = NULL, *ct = NULL;
    char *hub = NULL, *self = NULL;
    long redirects = 0;

    memset(r, 0, sizeof(*r));
    r->retry_after = -1;
    r->max_age = -1;
    if (t->t0 != 0)
        r->seconds = (double)(uv_hrtime() - t->t0) / 1e9;
    if (error < 0 || t->easy == NULL) {
        r->error = error < 0 ? error : -EIO;
        snprintf(r->errmsg, sizeof(r->errmsg), "%s", why != NULL ? why : uv_strerror(r->error));
    } else {
        CURL *e = t->easy;
        if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->http) != CURLE_OK)
            r->http = 0;
        if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK)
            r->effective_url = url;
        if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL) {
            r->content_type = ct;
            charset_of(ct, charset, sizeof(charset));
            if (charset[0] != '\0')
                r->charset = charset;
        }
        if (curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects) != CURLE_OK)
            redirects = 0;
        r->etag = etag = header_dup(e, "ETag");
        r->last_modified = lm = header_dup(e, "Last-Modified");
        if ((ra = header_dup(e, "Retry-After")) != NULL)
            r->retry_after = retry_after(ra);
        r->max_age = header_max_age(e);
        r->link_hub = hub = header_link(e, "hub", r->effective_url);
        r->link_self = self = header_link(e, "self", r->effective_url);
        r->error = translate(t, res, r->http, r->errmsg, sizeof(r->errmsg));
        /* SPEC §6: only a move that is permanent at every hop updates the
         * stored URL; a 302/307 anywhere in the chain never does. */
        if (r->error == 0 && redirects > 0 && t->permanent)
            r->permanent_url = r->effective_url;
    }
    if (t->len > 0) {
        r->body = t->body;
        r->len = t->len;
    }
    t->cb(t->arg, r);
    free(etag);
    free(lm);
    free(ra);
    free(hub);
    free(self);
}

char *
fetch_take_body(const struct fetch_result *r)
{
    /* r is t->result, handed out const so only this function changes it */
    struct fetch_xfer *t = FETCH_CONTAINER_OF(r, struct fetch_xfer, result);
    char *body = t->body;

    if (r->body == NULL)
        return NULL;
    t->result.body = NULL;
    t->body = NULL;
    if (t->cap > t->len + t->len / 4) { /* growth by doubling left up to half unused */
        char *fit = realloc(body, t->len + 1);
        if (fit != NULL)
            body = fit;
    }
    t->len = t->cap = 0;
    return body;
}
