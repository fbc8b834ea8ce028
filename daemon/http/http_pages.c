/* daemon/http/http_pages.c — the HTTP server's uncached pages: the HTML status
 * page (`/`), Prometheus metrics (`/metrics`, text format 0.0.4) and the
 * health check (`/healthz`); plus the text buffer and the escapers every
 * page and rendering of the server writes through. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/http/http_int.h"

/* ---- buffer ---- */

static int
buf_reserve(struct http_buf *b, size_t extra)
{
    if (b->err)
        return b->err;
    if (extra < b->cap - b->len)
        return 0; /* room for extra bytes and the NUL */
    if (extra > SIZE_MAX / 4 - b->len) {
        b->err = -ENOMEM;
        return b->err;
    }
    size_t cap = b->cap ? b->cap : 1024;
    while (cap <= b->len + extra)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->err = -ENOMEM;
        return b->err;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void
http_buf_add(struct http_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
http_buf_adds(struct http_buf *b, const char *s)
{
    http_buf_add(b, s, strlen(s));
}

void
http_buf_printf(struct http_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        http_buf_add(b, small, (size_t)n);
        return;
    }
    if (buf_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0: overlong forms,
 * surrogates, code points past U+10FFFF and U+FFFE/U+FFFF are invalid. */
static size_t
utf8_valid(const unsigned char *s)
{
    unsigned c = s[0], cp;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return n;
}

/* Copy s, escaping with esc(c) (NULL: keep) for ASCII, repairing UTF-8. */
static void
put_text(struct http_buf *b, const char *s, const char *(*esc)(unsigned char c))
{
    const unsigned char *p = (const unsigned char *)s;

    if (s == NULL)
        return;
    while (*p) {
        const unsigned char *run = p;
        size_t n;
        /* the longest run that needs nothing */
        while (*p && (n = utf8_valid(p)) > 0 && (n > 1 || esc(*p) == NULL))
            p += n;
        if (p > run)
            http_buf_add(b, (const char *)run, (size_t)(p - run));
        if (*p == '\0')
            break;
        if ((n = utf8_valid(p)) == 0) {
            http_buf_adds(b, "\xEF\xBF\xBD"); /* U+FFFD */
            p++;
        } else {
            http_buf_adds(b, esc(*p));
            p++;
        }
    }
}

static const char *
esc_markup(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    case '\t':
        return NULL;
    case '\n':
        return NULL;
    }
    return c < 0x20 || c == 0x7F ? "" : NULL; /* not allowed in XML 1.0, or invisible */
}

static const char *
esc_label(unsigned char c)
{
    switch (c) {
    case '\\':
        return "\\\\";
    case '"':
        return "\\\"";
    case '\n':
        return "\\n";
    }
    return c < 0x20 ? "" : NULL;
}

void
http_buf_markup(struct http_buf *b, const char *s)
{
    put_text(b, s, esc_markup);
}

void
http_buf_label(struct http_buf *b, const char *s)
{
    put_text(b, s, esc_label);
}

void
http_buf_pct(struct http_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            http_buf_add(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            http_buf_add(b, e, 3);
        }
    }
}

char *
http_date(time_t t, char *buf, size_t size)
{
    static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        snprintf(buf, size, "Thu, 01 Jan 1970 00:00:00 GMT");
        return buf;
    }
    snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

/* "2024-05-01 08:00:00 UTC", or "—" for 0 (never). */
static const char *
utc_time(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t <= 0 || gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999) {
        snprintf(buf, size, "\xE2\x80\x94");
        return buf;
    }
    strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

/* ---- / ---- */

static const char page_style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:1.5em 2em;color:#222}"
    "h1{font-size:1.4em;margin:0 0 .3em}"
    "table{border-collapse:collapse;margin-top:1em}"
    "th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
    "th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "td small{color:#666;word-break:break-all}td.e{max-width:28em;word-break:break-word;"
    "color:#a00}.ok,.not-modified{color:#060}.error,.gone{color:#b00;font-weight:bold}"
    ".stale{color:#a60;font-weight:bold}.disabled,.new{color:#777}.warn{color:#b00}";

/* Whether url may be a link on the page (http or https only). */
static int
web_url(const char *url)
{
    return url != NULL && (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0);
}

void
http_buf_url(struct http_buf *b, const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *at = NULL;

    if (scheme != NULL) {
        const char *auth = scheme + 3;
        size_t alen = strcspn(auth, "/?#");
        for (const char *p = auth; p < auth + alen; p++)
            if (*p == '@')
                at = p;
        if (at != NULL) {
            struct http_buf plain = {0};
            http_buf_add(&plain, url, (size_t)(auth - url));
            http_buf_adds(&plain, at + 1);
            if (plain.err)
                b->err = plain.err;
            else
                http_buf_markup(b, plain.data);
            free(plain.data);
            return;
        }
    }
    http_buf_markup(b, url);
}

/* Whether category j of feed i appeared before (an earlier feed, or earlier
 * in the same feed). */
static int
category_seen(const struct service_snapshot *snap, size_t i, size_t j)
{
    const char *cat = snap->feeds[i].categories[j];
    for (size_t k = 0; k <= i; k++) {
        const struct service_feed *o = &snap->feeds[k];
        for (size_t m = 0; m < (k == i ? j : o->ncategories); m++)
            if (strcmp(o->categories[m], cat) == 0)
                return 1;
    }
    return 0;
}

int
http_page_status(struct http *h, struct http_buf *b)
{
    const struct service_snapshot *snap = http_snapshot(h);
    struct service_stats st;
    int64_t now = (int64_t)time(NULL);
    char t1[40], t2[40];

    if (snap == NULL)
        return -ENOMEM;
    service_stats(h->svc, &st);
    size_t nfeeds = snap->nfeeds;
    http_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta http-equiv=\"refresh\" content=\"60\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>");
    http_buf_markup(b, snap->title);
    http_buf_adds(b, " \xE2\x80\x94 finfeed</title>\n<style>");
    http_buf_adds(b, page_style);
    http_buf_adds(b, "</style>\n</head>\n<body>\n<h1>");
    http_buf_markup(b, snap->title);
    http_buf_printf(b,
                    "</h1>\n<p>finfeed %s \xC2\xB7 %zu feed%s \xC2\xB7 up since %s \xC2\xB7 "
                    "page made %s</p>\n",
                    FINFEED_VERSION, nfeeds, nfeeds == 1 ? "" : "s",
                    utc_time(st.started, t1, sizeof(t1)), utc_time(now, t2, sizeof(t2)));
    if (!st.store_ok) {
        http_buf_adds(b, "<p class=\"warn\">The store does not answer: ");
        http_buf_markup(b, st.store_error);
        http_buf_adds(b, "</p>\n");
    }
    http_buf_adds(b, "<p>Cleaned feed: <a href=\"feed.atom\">Atom</a> \xC2\xB7 "
                     "<a href=\"feed.rss\">RSS</a> \xC2\xB7 <a href=\"feed.json\">JSON Feed</a> "
                     "\xC2\xB7 <a href=\"opml\">OPML</a> \xC2\xB7 <a href=\"metrics\">metrics</a> "
                     "\xC2\xB7 <a href=\"healthz\">health</a></p>\n");

    /* every configured category once, in order of appearance */
    int any = 0;
    for (size_t i = 0; i < snap->nfeeds; i++) {
        const struct service_feed *cf = &snap->feeds[i];
        for (size_t j = 0; j < cf->ncategories; j++) {
            if (category_seen(snap, i, j))
                continue;
            http_buf_adds(b, any ? " \xC2\xB7 " : "<p>Categories: ");
            any = 1;
            http_buf_adds(b, "<a href=\"categories/");
            http_buf_pct(b, cf->categories[j]);
            http_buf_adds(b, ".atom\">");
            http_buf_markup(b, cf->categories[j]);
            http_buf_adds(b, "</a>");
        }
    }
    if (any)
        http_buf_adds(b, "</p>\n");

    http_buf_adds(b, "<table>\n<thead><tr><th>Feed</th><th>State</th><th>HTTP</th>"
                     "<th>Last fetch</th><th>Next fetch</th><th>Errors</th><th>New</th>"
                     "<th>Dup</th><th>Articles</th><th>Error</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < snap->nfeeds; i++) {
        const struct service_feed *f = &snap->feeds[i];
        const char *url = f->url;
        const char *state = service_feed_state(f, now, snap->stale_after);
        http_buf_adds(b, "<tr><td><a href=\"feeds/");
        http_buf_pct(b, f->name);
        http_buf_adds(b, ".atom\">");
        http_buf_markup(b, f->name);
        http_buf_adds(b, "</a>");
        if (url != NULL) {
            http_buf_adds(b, "<br><small>");
            if (web_url(url)) {
                http_buf_adds(b, "<a rel=\"noreferrer\" href=\"");
                http_buf_url(b, url);
                http_buf_adds(b, "\">");
            }
            http_buf_url(b, url);
            http_buf_adds(b, web_url(url) ? "</a></small>" : "</small>");
        }
        http_buf_adds(b, "</td><td class=\"");
        http_buf_markup(b, state);
        http_buf_adds(b, "\">");
        http_buf_markup(b, state);
        if (f->http > 0)
            http_buf_printf(b, "</td><td class=\"n\">%ld", f->http);
        else
            http_buf_adds(b, "</td><td class=\"n\">\xE2\x80\x94");
        http_buf_printf(b, "</td><td>%s</td><td>%s</td><td class=\"n\">%d</td>",
                        utc_time(f->last_fetch, t1, sizeof(t1)),
                        utc_time(f->enabled ? f->next_fetch : 0, t2, sizeof(t2)), f->errors);
        http_buf_printf(b,
                        "<td class=\"n\">%ld</td><td class=\"n\">%ld</td><td class=\"n\">%ld"
                        "</td><td class=\"e\">",
                        f->counts.new_, f->counts.duplicates, f->articles);
        http_buf_markup(b, f->error);
        http_buf_adds(b, "</td></tr>\n");
    }
    http_buf_adds(b, "</tbody>\n</table>\n</body>\n</html>\n");
    return 0;
}

/* ---- /metrics ---- */

static void
help(struct http_buf *b, const char *name, const char *type, const char *text)
{
    http_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* One `name{feed="…"} value` line per feed. */
static void
per_feed(struct http_buf *b, const struct service_snapshot *snap, const char *name, int64_t now,
         int64_t (*value)(const struct service_snapshot *, const struct service_feed *, int64_t))
{
    for (size_t i = 0; i < snap->nfeeds; i++) {
        const struct service_feed *f = &snap->feeds[i];
        http_buf_printf(b, "%s{feed=\"", name);
        http_buf_label(b, f->name);
        http_buf_printf(b, "\"} %" PRId64 "\n", value(snap, f, now));
    }
}

static int64_t
v_errors(const struct service_snapshot *d, const struct service_feed *f, int64_t now)
{
    (void)d, (void)now;
    return f->errors;
}

static int64_t
v_articles(const struct service_snapshot *d, const struct service_feed *f, int64_t now)
{
    (void)d, (void)now;
    return f->articles;
}

static int64_t
v_stale(const struct service_snapshot *d, const struct service_feed *f, int64_t now)
{
    return strcmp(service_feed_state(f, now, d->stale_after), "stale") == 0;
}

static int64_t
v_last_fetch(const struct service_snapshot *d, const struct service_feed *f, int64_t now)
{
    (void)d, (void)now;
    return f->last_fetch;
}

static int64_t
v_next_fetch(const struct service_snapshot *d, const struct service_feed *f, int64_t now)
{
    (void)d, (void)now;
    return f->enabled ? f->next_fetch : 0;
}

static int64_t
v_enabled(const struct service_snapshot *d, const struct service_feed *f, int64_t now)
{
    (void)d, (void)now;
    return f->enabled != 0;
}

int
http_page_metrics(struct http *h, struct http_buf *b)
{
    static const char *const article_outcomes[4] = {"new", "updated", "duplicate", "unchanged"};
    const struct service_snapshot *d = http_snapshot(h);
    struct service_stats st, *m = &st;
    int64_t now = (int64_t)time(NULL);

    if (d == NULL)
        return -ENOMEM;
    service_stats(h->svc, &st);

    help(b, "finfeed_up", "gauge", "Whether the daemon runs (always 1 when it answers).");
    http_buf_adds(b, "finfeed_up 1\n");
    help(b, "finfeed_start_time_seconds", "gauge", "When the daemon started, Unix seconds.");
    http_buf_printf(b, "finfeed_start_time_seconds %" PRId64 "\n", m->started);

    help(b, "finfeed_fetch_total", "counter", "Finished fetches by feed and outcome.");
    for (size_t i = 0; i < d->nfeeds; i++) {
        const struct service_feed *f = &d->feeds[i];
        for (int o = 0; o < SERVICE_OUTCOMES; o++) {
            http_buf_adds(b, "finfeed_fetch_total{feed=\"");
            http_buf_label(b, f->name);
            http_buf_adds(b, "\",outcome=\"");
            http_buf_label(b, service_outcome_name((enum service_outcome)o));
            http_buf_printf(b, "\"} %" PRIu64 "\n", f->fetches[o]);
        }
    }

    help(b, "finfeed_articles_total", "counter", "Articles stored, by what storing them did.");
    for (int o = 0; o < 4; o++)
        http_buf_printf(b, "finfeed_articles_total{outcome=\"%s\"} %" PRIu64 "\n",
                        article_outcomes[o], m->stored[o]);

    help(b, "finfeed_fetch_duration_seconds", "histogram", "Time from request to stored result.");
    for (int i = 0; i < SERVICE_BUCKETS; i++) {
        /* cumulative, and never below a smaller bucket even if a caller
         * counted otherwise: Prometheus rejects a decreasing histogram */
        uint64_t v = m->duration_buckets[i];
        for (int j = 0; j < i; j++)
            if (m->duration_buckets[j] > v)
                v = m->duration_buckets[j];
        http_buf_printf(b, "finfeed_fetch_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                        service_bucket_bounds[i], v);
    }
    http_buf_printf(b, "finfeed_fetch_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
                    m->duration_count);
    http_buf_printf(b, "finfeed_fetch_duration_seconds_sum %.6f\n", m->duration_sum);
    http_buf_printf(b, "finfeed_fetch_duration_seconds_count %" PRIu64 "\n", m->duration_count);

    help(b, "finfeed_feed_errors", "gauge", "Consecutive failed fetches of a feed.");
    per_feed(b, d, "finfeed_feed_errors", now, v_errors);
    help(b, "finfeed_feed_articles", "gauge", "Articles carried by a feed.");
    per_feed(b, d, "finfeed_feed_articles", now, v_articles);
    help(b, "finfeed_feed_stale", "gauge",
         "1 when the newest item of a feed is older than stale_after.");
    per_feed(b, d, "finfeed_feed_stale", now, v_stale);
    help(b, "finfeed_feed_enabled", "gauge", "1 when a feed is fetched (configured and not gone).");
    per_feed(b, d, "finfeed_feed_enabled", now, v_enabled);
    help(b, "finfeed_feed_last_fetch_timestamp_seconds", "gauge",
         "When the last fetch of a feed finished, Unix seconds (0: never).");
    per_feed(b, d, "finfeed_feed_last_fetch_timestamp_seconds", now, v_last_fetch);
    help(b, "finfeed_feed_next_fetch_timestamp_seconds", "gauge",
         "When a feed is fetched next, Unix seconds (0: not scheduled).");
    per_feed(b, d, "finfeed_feed_next_fetch_timestamp_seconds", now, v_next_fetch);

    help(b, "finfeed_http_requests_total", "counter", "Requests to the HTTP output server.");
    http_buf_printf(b, "finfeed_http_requests_total %lu\n", h->requests);
    help(b, "finfeed_http_renders_total", "counter", "Documents rendered from the store.");
    http_buf_printf(b, "finfeed_http_renders_total %lu\n", h->renders);
    help(b, "finfeed_store_ok", "gauge", "1 while the store answers.");
    http_buf_printf(b, "finfeed_store_ok %d\n", st.store_ok != 0);
    return 0;
}

/* ---- /healthz ---- */

int
http_page_healthz(struct http *h, struct http_buf *b)
{
    char why[256];

    if (service_health(h->svc, why, sizeof(why)) < 0) {
        http_buf_adds(b, "store: ");
        http_buf_adds(b, why);
        http_buf_adds(b, "\n");
        return 503;
    }
    http_buf_adds(b, "ok\n");
    return 200;
}
