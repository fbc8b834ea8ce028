/* fuzz/fuzz_http.c — libFuzzer target for what the HTTP server reads from a
 * request before any store query (daemon/http): the raw target's checks
 * (on_mhd_uri), the decoded path (dot_dot, the route table: /feeds/NAME.atom
 * and the like, /tickers/EXCHANGE:SYMBOL.*, /watchlists/NAME.*), the query
 * parameters ?limit= ?q= ?feed= ?category= ?ticker= and the cache key made
 * of them, and ?token= / Authorization: Basic against the
 * readers' secrets. http.c and http_auth.c are compiled in here to reach
 * their static functions without a server; the query string is decoded as
 * libmicrohttpd does ('+' is a space, then %XX; the first of a repeated key
 * wins). Input: the request target, then optionally '\n' and the value of an
 * Authorization header. Aborts when a check fails to hold (see below). */
#include "daemon/http/http.c"
#include "daemon/http/http_auth.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARGS_MAX 64

static void
fail(const char *why, const char *detail)
{
    fprintf(stderr, "fuzz_http: %s\n--- ---\n%s\n", why, detail);
    abort();
}

struct arg {
    char *key, *value; /* into the decoded copy; value NULL: no '=' */
};

/* MHD's decoding of one key or value (MHD_unescape_plus, then the unescape
 * callback, MHD_http_unescape by default). */
static void
unescape(char *s)
{
    for (char *p = s; *p != '\0'; p++)
        if (*p == '+')
            *p = ' ';
    MHD_http_unescape(s);
}

static size_t
parse_query(char *q, struct arg *args, size_t max)
{
    size_t n = 0;
    while (q != NULL && n < max) {
        char *amp = strchr(q, '&'), *eq;
        if (amp != NULL)
            *amp++ = '\0';
        if (*q != '\0') {
            eq = strchr(q, '=');
            if (eq != NULL)
                *eq++ = '\0';
            unescape(q);
            if (eq != NULL)
                unescape(eq);
            args[n].key = q;
            args[n].value = eq;
            n++;
        }
        q = amp;
    }
    return n;
}

/* arg_value() over the parsed query: the first value, "" as none. */
static const char *
query_value(const struct arg *args, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(args[i].key, key) == 0)
            return args[i].value != NULL && args[i].value[0] != '\0' ? args[i].value : NULL;
    return NULL;
}

/* The cache key names the request it was made for: decoded, it gives back
 * the five filters whole (each written with its length, so a filter that
 * holds \x1f itself, ?feed=a%1Fb, cannot make two requests share a key),
 * then each ?ticker=, then the limit and whether it was given. */
static void
check_key(const struct emit_buf *key, const struct http_feed_req *r)
{
    const char *parts[] = {r->feed, r->category, r->text, r->ticker,
                           r->watch != NULL ? r->watch->name : NULL};
    char *copy = strndup(key->data, key->len); /* printable in a report */
    if (copy == NULL)
        return;
    const char *p = key->data, *end = key->data + key->len;
    const char *q = memchr(p, '\x1f', key->len);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (q == NULL || q + 1 >= end)
            fail("cache key ends before its filters", copy);
        q++;
        if (*q == '-') {
            if (parts[i] != NULL)
                fail("cache key says no filter where the request has one", copy);
            q++;
        } else {
            char *colon;
            unsigned long n = strtoul(q, &colon, 10);
            if (colon >= end || *colon != ':' || parts[i] == NULL || n != strlen(parts[i]) ||
                (size_t)(end - colon - 1) < n || memcmp(colon + 1, parts[i], n) != 0)
                fail("cache key filter differs from the request's", copy);
            q = colon + 1 + n;
        }
        if (q >= end || *q != '\x1f')
            fail("cache key filter not followed by its separator", copy);
    }
    for (size_t i = 0; i < r->ntickers; i++) {
        size_t n = strlen(r->tickers[i]);
        if ((size_t)(end - q) < n + 2 || q[1] != 't' || memcmp(q + 2, r->tickers[i], n) != 0 ||
            (q + 2 + n < end && q[2 + n] != '\x1f'))
            fail("cache key ?ticker= differs from the request's", copy);
        q += 2 + n;
    }
    char tail[64];
    snprintf(tail, sizeof(tail), "\x1f%ld\x1f%d", r->limit, r->limit_given);
    if ((size_t)(end - q) != strlen(tail) || memcmp(q, tail, strlen(tail)) != 0)
        fail("cache key ends other than with the limit", copy);
    free(copy);
}

/* ?ticker= as on_mhd_arg reads it (each value, comma lists): refused with
 * a reason, or every ticker canonical (parse_ticker_syntax gives it back),
 * each once, at most HTTP_TICKERS_MAX, and each item of each value among
 * them. Sorted into r as ticker_args does. 0 accepted, -1 refused. */
static int
check_tickers(const struct arg *args, size_t nargs, struct http_feed_req *r)
{
    struct ticker_args t = {.r = r};
    for (size_t i = 0; i < nargs; i++)
        if (on_mhd_arg(&t, MHD_GET_ARGUMENT_KIND, args[i].key, args[i].value) == MHD_NO)
            break;
    if (t.why[0] != '\0') {
        if (strncmp(t.why, "ticker: ", 8) != 0)
            fail("?ticker= refused without its reason", t.why);
        return -1;
    }
    qsort(r->tickers, r->ntickers, sizeof(r->tickers[0]), cmp_ticker);
    if (r->ntickers > HTTP_TICKERS_MAX)
        fail("?ticker= past its maximum", "");
    for (size_t i = 0; i < r->ntickers; i++) {
        char again[PARSE_TICKER_LEN];
        if (parse_ticker_syntax(r->tickers[i], again, sizeof(again), NULL) < 0 ||
            strcmp(again, r->tickers[i]) != 0)
            fail("?ticker= kept a ticker not canonical", r->tickers[i]);
        if (i > 0 && strcmp(r->tickers[i - 1], r->tickers[i]) >= 0)
            fail("?ticker= not sorted or not each once", r->tickers[i]);
    }
    for (size_t i = 0; i < nargs; i++) {
        if (strcmp(args[i].key, "ticker") != 0 || args[i].value == NULL)
            continue;
        for (const char *p = args[i].value; *p != '\0';) {
            size_t n = strcspn(p, ",");
            char one[64], canon[PARSE_TICKER_LEN];
            int found = 0;
            if (n > 0 && n < sizeof(one)) {
                memcpy(one, p, n);
                one[n] = '\0';
                if (parse_ticker_syntax(one, canon, sizeof(canon), NULL) < 0)
                    fail("?ticker= accepted a value that is no ticker", one);
                for (size_t k = 0; k < r->ntickers; k++)
                    found |= strcmp(r->tickers[k], canon) == 0;
                if (!found)
                    fail("?ticker= lost a ticker", one);
            }
            p += n + (p[n] == ',');
        }
    }
    return 0;
}

static void
check_limit(const char *s, long dflt)
{
    long v = -1;
    int rc = parse_limit(s, dflt, &v);
    if (s == NULL) {
        if (rc != 0 || v != (dflt < HTTP_LIMIT_MAX ? dflt : HTTP_LIMIT_MAX))
            fail("no ?limit= but not the default", "");
        return;
    }
    size_t digits = strspn(s, "0123456789");
    if (digits != strlen(s)) {
        if (rc == 0)
            fail("?limit= with a non-digit accepted", s);
        return;
    }
    const char *t = s + strspn(s, "0");
    long want = strlen(t) > 6 ? HTTP_LIMIT_MAX : atol(t);
    if (want == 0) {
        if (rc == 0)
            fail("?limit=0 accepted", s);
        return;
    }
    if (want > HTTP_LIMIT_MAX)
        want = HTTP_LIMIT_MAX;
    if (rc != 0 || v != want)
        fail("?limit= read wrong", s);
}

static void
check_auth(const struct arg *args, size_t nargs, const char *hdr)
{
    static struct service_reader readers[] = {
        {"alice", "alice-secret-0123456789"},
        {"bob", "b0b.secret~with_unreserved-chars"},
    };
    static const struct service_snapshot snap = {.readers = readers, .nreaders = 2};
    const char *tok = NULL;
    for (size_t i = 0; i < nargs; i++)
        if (strcmp(args[i].key, "token") == 0) {
            tok = args[i].value;
            break;
        }
    if (tok != NULL) {
        int who = reader_of(&snap, tok, strlen(tok));
        for (size_t i = 0; i < snap.nreaders; i++)
            if ((strcmp(readers[i].secret, tok) == 0) != (who == (int)i))
                fail("?token= matched the wrong reader", tok);
    }
    if (hdr != NULL) {
        unsigned char buf[BASIC_MAX + 1];
        const char *secret = NULL;
        size_t n = 0;
        int b = basic_secret(hdr, buf, &secret, &n);
        if (b > 0) {
            if (secret < (const char *)buf || n > BASIC_MAX ||
                secret + n > (const char *)buf + BASIC_MAX)
                fail("Basic secret outside its buffer", hdr);
            int who = reader_of(&snap, secret, n);
            for (size_t i = 0; i < snap.nreaders; i++) {
                int same = strlen(readers[i].secret) == n && memcmp(readers[i].secret, secret, n) == 0;
                if (same != (who == (int)i))
                    fail("Basic secret matched the wrong reader", hdr);
            }
        }
    }
}

static void
check_target(struct http *h, char *target, const char *hdr)
{
    if (on_mhd_uri(h, target, NULL) != &h->uri_ok)
        return;
    size_t plen = strcspn(target, "?");
    if (plen > HTTP_PATH_MAX || strlen(target) > HTTP_URI_MAX || strstr(target, "%00") != NULL)
        fail("a refused target passed", target);

    char *query = target[plen] == '?' ? target + plen + 1 : NULL;
    target[plen] = '\0';
    unescape(target); /* the decoded path, as MHD hands it to on_mhd_request */
    struct arg args[ARGS_MAX];
    size_t nargs = parse_query(query, args, ARGS_MAX);
    check_auth(args, nargs, hdr);

    const char *url = target;
    if (url[0] != '/' || dot_dot(url))
        return;
    if (strstr(url, "/../") != NULL || (strlen(url) >= 3 && strcmp(url + strlen(url) - 3, "/..") == 0))
        fail("a '..' segment passed", url);

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *rt = &routes[i];
        size_t n = strlen(rt->prefix);
        char *name;
        int format, m;
        if (strncmp(url, rt->prefix, n) != 0)
            continue;
        if ((m = route_match(rt, url + n, &name, &format)) <= 0)
            continue;
        const char *rest = url + n;
        if (rt->shape == ROUTE_NAME_FORMAT) {
            size_t k = strlen(name);
            if (k == 0 || strncmp(rest, name, k) != 0 || rest[k] != '.' ||
                emit_format_of(rest + k + 1) != format)
                fail("route NAME.FORMAT split wrong", url);
        } else if (rt->shape == ROUTE_NAME_SUFFIX) {
            if (name[0] == '\0' || strlen(name) + strlen(rt->suffix) != strlen(rest))
                fail("route NAME.SUFFIX split wrong", url);
        } else if (name != NULL) {
            fail("a name for a route without one", url);
        }
        if (rt->fn == route_merged || rt->fn == route_one_feed || rt->fn == route_category ||
            rt->fn == route_ticker || rt->fn == route_watchlist) {
            char kind = rt->fn == route_merged     ? 'm'
                        : rt->fn == route_one_feed ? 's'
                        : rt->fn == route_category ? 'c'
                        : rt->fn == route_ticker   ? 't'
                                                   : 'w';
            struct http_feed_req r = {.format = (enum emit_format)format, .kind = kind};
            char route_ticker_name[PARSE_TICKER_LEN];
            struct service_watchlist watch = {.name = name};
            if (check_tickers(args, nargs, &r) < 0 ||
                (kind == 't' &&
                 parse_ticker_syntax(name, route_ticker_name, sizeof(route_ticker_name), NULL) < 0)) {
                free(name);
                break;
            }
            if (kind == 't')
                r.ticker = route_ticker_name;
            else if (kind == 'w')
                r.watch = &watch;
            const char *lim = query_value(args, nargs, "limit");
            r.feed = query_value(args, nargs, "feed");
            r.category = query_value(args, nargs, "category");
            r.text = query_value(args, nargs, "q");
            r.limit_given = lim != NULL;
            check_limit(lim, 100);
            check_limit(lim, 5000);
            if (parse_limit(lim, 100, &r.limit) == 0 &&
                (r.text == NULL || count_words(r.text) <= HTTP_Q_WORDS_MAX)) {
                if (kind == 's')
                    r.feed = name;
                else if (kind == 'c')
                    r.category = name;
                struct emit_buf key = {0};
                feed_key(&key, &r);
                if (!key.err)
                    check_key(&key, &r);
                free(key.data);
            }
        }
        free(name);
        break;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct http h;
    const char *nl = memchr(data, '\n', size);
    size_t tlen = nl != NULL ? (size_t)(nl - (const char *)data) : size;
    char *target = strndup((const char *)data, tlen); /* MHD's target is a C string */
    char *hdr = nl != NULL ? strndup(nl + 1, size - tlen - 1) : NULL;
    if (target != NULL && (nl == NULL || hdr != NULL))
        check_target(&h, target, hdr);
    free(target);
    free(hdr);
    return 0;
}
