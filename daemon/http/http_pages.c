/* daemon/http/http_pages.c — the HTTP server's uncached pages: the HTML status
 * page (`/`), Prometheus metrics (`/metrics`, text format 0.0.4) and the
 * health check (`/healthz`), written through emit's text toolkit. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/cadence/cadence.h"
#include "daemon/emit/emit_text.h"
#include "daemon/http/http_int.h"

/* "2024-05-01 08:00:00 UTC", or "—" for 0 (never). */
static const char *
utc_time(int64_t t, char *buf, size_t size)
{
    char iso[EMIT_RFC3339_LEN + 1];
    if (t <= 0) {
        snprintf(buf, size, "\xE2\x80\x94");
        return buf;
    }
    emit_rfc3339(t, iso, sizeof(iso));
    snprintf(buf, size, "%.10s %.8s UTC", iso, iso + 11);
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
http_page_status(struct http *h, struct emit_buf *b)
{
    const struct service_snapshot *snap = http_snapshot(h);
    struct service_stats st;
    int64_t now = (int64_t)time(NULL);
    char t1[40], t2[40];

    if (snap == NULL)
        return -ENOMEM;
    service_stats(h->svc, &st);
    size_t nfeeds = snap->nfeeds;
    emit_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta http-equiv=\"refresh\" content=\"60\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>");
    emit_buf_escapes(b, snap->title, EMIT_ESC_HTML);
    emit_buf_adds(b, " \xE2\x80\x94 finfeed</title>\n<style>");
    emit_buf_adds(b, page_style);
    emit_buf_adds(b, "</style>\n</head>\n<body>\n<h1>");
    emit_buf_escapes(b, snap->title, EMIT_ESC_HTML);
    emit_buf_adds(b, "</h1>\n<p>node ");
    emit_buf_escapes(b, snap->node != NULL ? snap->node : "-", EMIT_ESC_HTML);
    emit_buf_printf(b,
                    " \xC2\xB7 finfeed %s \xC2\xB7 %zu feed%s \xC2\xB7 up since %s \xC2\xB7 "
                    "page made %s</p>\n",
                    FINFEED_VERSION, nfeeds, nfeeds == 1 ? "" : "s",
                    utc_time(st.started, t1, sizeof(t1)), utc_time(now, t2, sizeof(t2)));
    if (!st.store_ok) {
        emit_buf_adds(b, "<p class=\"warn\">The store does not answer: ");
        emit_buf_escapes(b, st.store_error, EMIT_ESC_HTML);
        emit_buf_adds(b, "</p>\n");
    }
    emit_buf_adds(b, "<p>Cleaned feed: <a href=\"feed.atom\">Atom</a> \xC2\xB7 "
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
            emit_buf_adds(b, any ? " \xC2\xB7 " : "<p>Categories: ");
            any = 1;
            emit_buf_adds(b, "<a href=\"categories/");
            emit_buf_pct(b, cf->categories[j]);
            emit_buf_adds(b, ".atom\">");
            emit_buf_escapes(b, cf->categories[j], EMIT_ESC_HTML);
            emit_buf_adds(b, "</a>");
        }
    }
    if (any)
        emit_buf_adds(b, "</p>\n");

    emit_buf_adds(b, "<table>\n<thead><tr><th>Feed</th><th>State</th><th>HTTP</th>"
                     "<th>Last fetch</th><th>Next fetch</th><th title=\"median time from "
                     "publication to first sight, articles of the last day\">Lag</th>"
                     "<th>Errors</th><th>New</th>"
                     "<th>Dup</th><th>Articles</th><th>Owner</th><th>Lease until</th>"
                     "<th>Token</th><th>Error</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < snap->nfeeds; i++) {
        const struct service_feed *f = &snap->feeds[i];
        const char *url = f->url;
        const char *state = service_feed_state(f, now, snap->stale_after);
        emit_buf_adds(b, "<tr><td><a href=\"feeds/");
        emit_buf_pct(b, f->name);
        emit_buf_adds(b, ".atom\">");
        emit_buf_escapes(b, f->name, EMIT_ESC_HTML);
        emit_buf_adds(b, "</a>");
        if (url != NULL) {
            emit_buf_adds(b, "<br><small>");
            if (web_url(url)) {
                emit_buf_adds(b, "<a rel=\"noreferrer\" href=\"");
                emit_buf_url(b, url, EMIT_ESC_HTML);
                emit_buf_adds(b, "\">");
            }
            emit_buf_url(b, url, EMIT_ESC_HTML);
            emit_buf_adds(b, web_url(url) ? "</a></small>" : "</small>");
        }
        emit_buf_adds(b, "</td><td class=\"");
        emit_buf_escapes(b, state, EMIT_ESC_HTML);
        emit_buf_adds(b, "\">");
        emit_buf_escapes(b, state, EMIT_ESC_HTML);
        if (f->http > 0)
            emit_buf_printf(b, "</td><td class=\"n\">%ld", f->http);
        else
            emit_buf_adds(b, "</td><td class=\"n\">\xE2\x80\x94");
        emit_buf_printf(b, "</td><td>%s</td><td>%s", utc_time(f->last_fetch, t1, sizeof(t1)),
                        utc_time(f->enabled ? f->next_fetch : 0, t2, sizeof(t2)));
        /* why it is then (issue 13 §2), and the median lag of its last day */
        if (f->enabled && f->next_why[0]) {
            emit_buf_adds(b, "<br><small>");
            emit_buf_escapes(b, f->next_why, EMIT_ESC_HTML);
            emit_buf_adds(b, "</small>");
        }
        if (f->lag_n > 0)
            emit_buf_printf(b, "</td><td class=\"n\">%s<br><small>of %ld</small>",
                            cadence_span(f->lag_median, t1, sizeof(t1)), f->lag_n);
        else
            emit_buf_adds(b, "</td><td class=\"n\">\xE2\x80\x94");
        emit_buf_printf(b, "</td><td class=\"n\">%d</td>", f->errors);
        emit_buf_printf(b,
                        "<td class=\"n\">%ld</td><td class=\"n\">%ld</td><td class=\"n\">%ld"
                        "</td><td>",
                        f->counts.new_, f->counts.duplicates, f->articles);
        /* the shared schedule (SPEC §10): the node holding its lease */
        emit_buf_escapes(b, f->owner[0] ? f->owner : "\xE2\x80\x94", EMIT_ESC_HTML);
        emit_buf_printf(b, "</td><td>%s</td><td class=\"n\">%lld</td><td class=\"e\">",
                        utc_time(f->lease_until, t1, sizeof(t1)), (long long)f->token);
        emit_buf_escapes(b, f->error, EMIT_ESC_HTML);
        emit_buf_adds(b, "</td></tr>\n");
    }
    emit_buf_adds(b, "</tbody>\n</table>\n</body>\n</html>\n");
    return 0;
}

/* ---- /metrics ---- */

static void
help(struct emit_buf *b, const char *name, const char *type, const char *text)
{
    emit_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* One `name{feed="…"} value` line per feed. */
static void
per_feed(struct emit_buf *b, const struct service_snapshot *snap, const char *name, int64_t now,
         int64_t (*value)(const struct service_snapshot *, const struct service_feed *, int64_t))
{
    for (size_t i = 0; i < snap->nfeeds; i++) {
        const struct service_feed *f = &snap->feeds[i];
        emit_buf_printf(b, "%s{feed=\"", name);
        emit_buf_escapes(b, f->name, EMIT_ESC_LABEL);
        emit_buf_printf(b, "\"} %" PRId64 "\n", value(snap, f, now));
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

/* finfeed_article_lag_seconds (issue 13 §1): one histogram a feed, this
 * node's fetches since it started. */
static void
lag_histogram(struct emit_buf *b, const struct service_snapshot *d)
{
    help(b, "finfeed_article_lag_seconds", "histogram",
         "Time from an article's publication to its first sight, of the articles first seen "
         "on a feed's second or later successful fetch whose date is believed.");
    for (size_t i = 0; i < d->nfeeds; i++) {
        const struct service_feed *f = &d->feeds[i];
        uint64_t v = 0;
        for (int k = 0; k < SERVICE_LAG_BUCKETS; k++) {
            if (f->lag_buckets[k] > v) /* never decreasing (see the durations) */
                v = f->lag_buckets[k];
            emit_buf_adds(b, "finfeed_article_lag_seconds_bucket{feed=\"");
            emit_buf_escapes(b, f->name, EMIT_ESC_LABEL);
            emit_buf_printf(b, "\",le=\"%g\"} %" PRIu64 "\n", service_lag_bounds[k], v);
        }
        emit_buf_adds(b, "finfeed_article_lag_seconds_bucket{feed=\"");
        emit_buf_escapes(b, f->name, EMIT_ESC_LABEL);
        emit_buf_printf(b, "\",le=\"+Inf\"} %" PRIu64 "\n", f->lag_count);
        emit_buf_adds(b, "finfeed_article_lag_seconds_sum{feed=\"");
        emit_buf_escapes(b, f->name, EMIT_ESC_LABEL);
        emit_buf_printf(b, "\"} %.0f\n", f->lag_sum);
        emit_buf_adds(b, "finfeed_article_lag_seconds_count{feed=\"");
        emit_buf_escapes(b, f->name, EMIT_ESC_LABEL);
        emit_buf_printf(b, "\"} %" PRIu64 "\n", f->lag_count);
    }
}

int
http_page_metrics(struct http *h, struct emit_buf *b)
{
    static const char *const article_outcomes[4] = {"new", "updated", "duplicate", "unchanged"};
    const struct service_snapshot *d = http_snapshot(h);
    struct service_stats st, *m = &st;
    int64_t now = (int64_t)time(NULL);

    if (d == NULL)
        return -ENOMEM;
    service_stats(h->svc, &st);

    help(b, "finfeed_up", "gauge", "Whether the daemon runs (always 1 when it answers).");
    emit_buf_adds(b, "finfeed_up 1\n");
    help(b, "finfeed_start_time_seconds", "gauge", "When the daemon started, Unix seconds.");
    emit_buf_printf(b, "finfeed_start_time_seconds %" PRId64 "\n", m->started);
    help(b, "finfeed_node_info", "gauge", "This node's name ([daemon] node), always 1.");
    emit_buf_adds(b, "finfeed_node_info{node=\"");
    emit_buf_escapes(b, d->node != NULL ? d->node : "", EMIT_ESC_LABEL);
    emit_buf_adds(b, "\"} 1\n");
    help(b, "finfeed_http_unauthorized_total", "counter",
         "Requests refused for want of a valid token ([output] tokens).");
    emit_buf_printf(b, "finfeed_http_unauthorized_total %lu\n", h->unauthorized);

    help(b, "finfeed_fetch_total", "counter", "Finished fetches by feed and outcome.");
    for (size_t i = 0; i < d->nfeeds; i++) {
        const struct service_feed *f = &d->feeds[i];
        for (int o = 0; o < SERVICE_OUTCOMES; o++) {
            emit_buf_adds(b, "finfeed_fetch_total{feed=\"");
            emit_buf_escapes(b, f->name, EMIT_ESC_LABEL);
            emit_buf_adds(b, "\",outcome=\"");
            emit_buf_escapes(b, service_outcome_name((enum service_outcome)o), EMIT_ESC_LABEL);
            emit_buf_printf(b, "\"} %" PRIu64 "\n", f->fetches[o]);
        }
    }

    help(b, "finfeed_articles_total", "counter", "Articles stored, by what storing them did.");
    for (int o = 0; o < 4; o++)
        emit_buf_printf(b, "finfeed_articles_total{outcome=\"%s\"} %" PRIu64 "\n",
                        article_outcomes[o], m->stored[o]);

    uint64_t ws[SERVICE_WS_EVENTS];
    service_ws_stats(h->svc, ws);
    help(b, "finfeed_websub_events_total", "counter",
         "WebSub subscriber events: pushes stored and refused, intent checks, hub requests.");
    for (int e = 0; e < SERVICE_WS_EVENTS; e++)
        emit_buf_printf(b, "finfeed_websub_events_total{event=\"%s\"} %" PRIu64 "\n",
                        service_ws_event_name((enum service_ws_event)e), ws[e]);

    uint64_t hub[SERVICE_HUB_EVENTS];
    long subs;
    service_hub_stats(h->svc, hub, &subs);
    help(b, "finfeed_hub_events_total", "counter",
         "WebSub for our own feeds: the built-in hub's requests, verifications, deliveries; "
         "pings of an external hub.");
    for (int e = 0; e < SERVICE_HUB_EVENTS; e++)
        emit_buf_printf(b, "finfeed_hub_events_total{event=\"%s\"} %" PRIu64 "\n",
                        service_hub_event_name((enum service_hub_event)e), hub[e]);
    if (subs >= 0) {
        help(b, "finfeed_hub_subscriptions", "gauge",
             "The built-in hub's subscriptions, every node's, as this node last counted them.");
        emit_buf_printf(b, "finfeed_hub_subscriptions %ld\n", subs);
    }

    help(b, "finfeed_fetch_duration_seconds", "histogram", "Time from request to stored result.");
    for (int i = 0; i < SERVICE_BUCKETS; i++) {
        /* cumulative, and never below a smaller bucket even if a caller
         * counted otherwise: Prometheus rejects a decreasing histogram */
        uint64_t v = m->duration_buckets[i];
        for (int j = 0; j < i; j++)
            if (m->duration_buckets[j] > v)
                v = m->duration_buckets[j];
        emit_buf_printf(b, "finfeed_fetch_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                        service_bucket_bounds[i], v);
    }
    emit_buf_printf(b, "finfeed_fetch_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
                    m->duration_count);
    emit_buf_printf(b, "finfeed_fetch_duration_seconds_sum %.6f\n", m->duration_sum);
    emit_buf_printf(b, "finfeed_fetch_duration_seconds_count %" PRIu64 "\n", m->duration_count);

    lag_histogram(b, d);

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
    emit_buf_printf(b, "finfeed_http_requests_total %lu\n", h->requests);
    help(b, "finfeed_http_renders_total", "counter", "Documents rendered from the store.");
    emit_buf_printf(b, "finfeed_http_renders_total %lu\n", h->renders);
    help(b, "finfeed_store_ok", "gauge", "1 while the store answers.");
    emit_buf_printf(b, "finfeed_store_ok %d\n", st.store_ok != 0);
    return 0;
}

/* ---- /healthz ---- */

int
http_page_healthz(struct http *h, struct emit_buf *b)
{
    char why[256];

    int rc = service_health(h->svc, why, sizeof(why));
    if (rc != 0) {
        /* degraded: the cached output is still served, so a load balancer
         * keeps this node (SPEC §10); 503 only when it cannot serve at all */
        emit_buf_adds(b, rc > 0 ? "degraded: store: " : "store: ");
        emit_buf_adds(b, why);
        emit_buf_adds(b, "\n");
        return rc > 0 ? 200 : 503;
    }
    emit_buf_adds(b, "ok\n");
    return 200;
}
