/* daemon/service/hub.c — WebSub for our own feeds (SPEC §11). With
 * [output] hub = URL: a change stored here pings that hub (hub.mode=publish)
 * for each topic it touched, coalesced. With hub = builtin, finfeed is the
 * hub: a reader's subscribe or unsubscribe (POST LINK/hub) is checked,
 * counted against the limits in the store, answered 202, and its intent
 * verified at the callback; a verified subscription lives in the store, so
 * every node shares it. A change marks the subscriptions due; one node
 * claims each due one, has the HTTP server render its topic (the document a
 * GET serves), and pushes it, signed, when its hash differs from the last
 * pushed; failures retry with backoff (policy.c), bounded. Every outbound
 * request goes through an engine of its own (feed fetches never hold a push
 * back), behind the public→private guard unless allow_private_hubs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "daemon/emit/emit_text.h"
#include "daemon/log/log.h"
#include "daemon/service/policy.h"
#include "daemon/service/service_int.h"
#include "daemon/websub/websub.h"
#include "fetch/fetch.h"

#define HUB_TICK_MS 250            /* pings and due deliveries looked for */
#define HUB_IDLE_MS 30000          /* a pass at least this often: other nodes' changes, retries */
#define HUB_TEST_IDLE_MS 300       /* … under FINFEED_TEST_CLOCK (its jumps go unseen) */
#define HUB_HOLD_S 120             /* a claimed delivery is this node's for (render + POST) */
#define HUB_RELEASE_S 30           /* a delivery not attempted (no render) is claimed again after */
#define HUB_BATCH 32               /* deliveries claimed at once */
#define HUB_INFLIGHT 64            /* deliveries under way on this node, at most */
#define HUB_TIMEOUT_S 10           /* a callback or hub must answer within */
#define HUB_ANSWER_MAX (64 * 1024) /* bytes of an answer read */
#define HUB_VERIFY_MAX 64          /* requests taken and not yet verified, this node */
#define HUB_LEASE_DEFAULT (10 * 86400)
#define HUB_LEASE_MIN 60
#define HUB_LEASE_MAX (30 * 86400)
#define HUB_SECRET_MAX 199    /* W3C WebSub §5.1: "less than 200 bytes" */
#define HUB_URL_MAX 2048      /* bytes of hub.callback */
#define HUB_RATES 256         /* client addresses whose request rate is followed */
#define HUB_BURST 20.0        /* requests a client may send at once … */
#define HUB_REFILL 1.0        /* … then this many a second */
#define HUB_PINGS 256         /* topics whose pings are followed */
#define HUB_PING_DELAY_MS 1000 /* a burst's changes within this make one ping */
#define HUB_PING_GAP_MS 1000  /* at most one ping a second a topic */
#define HUB_CONCURRENCY 16    /* requests of the hub's engine in flight */
#define HUB_PER_HOST 4        /* … to one host */

static const char *const hub_event_names[SERVICE_HUB_EVENTS] = {
    "accepted",        "refused", "subscribed", "unsubscribed", "verify_failed", "delivered",
    "delivery_failed", "gave_up", "dropped",    "expired",      "pinged",        "ping_failed",
};

struct hub_rate {
    char client[64];
    double tokens;
    uint64_t at_ms;
};

/* One topic pinged at the external hub. */
struct hub_ping {
    char *url;        /* owned; NULL: a free slot */
    uint64_t due_ms;  /* uv_now() at which to ping; 0: nothing pending */
    uint64_t last_ms; /* of the last ping sent */
};

struct hub_call;
struct hub_delivery;

struct hub {
    uv_timer_t timer;
    int timer_open, ticking;
    struct fetch *fetch;    /* the hub's own engine, NULL once closed */
    const char *test_clock; /* FINFEED_TEST_CLOCK, or NULL */
    service_hub_render_fn render;
    void *render_arg;
    /* passes: mark, claim, deliver */
    int passing;            /* a pass job is queued */
    int again;              /* … and another is wanted after it */
    int mark;               /* a change stored here, to mark in the next pass */
    int64_t gen_seen;       /* service generation at the last pass */
    uint64_t due_ms;        /* uv_now() at which a delivery falls due (0: none known) */
    uint64_t last_ms;       /* of the last pass */
    unsigned inflight;      /* deliveries claimed and not finished (HUB_INFLIGHT) */
    unsigned verifying;     /* requests taken, not yet verified */
    struct hub_call *calls; /* requests waiting on the store */
    struct hub_rate rates[HUB_RATES];
    struct hub_ping pings[HUB_PINGS];
    uint64_t events[SERVICE_HUB_EVENTS];
    long subs; /* subscriptions as last counted, -1 unknown */
};

const char *
service_hub_event_name(enum service_hub_event e)
{
    return (unsigned)e < SERVICE_HUB_EVENTS ? hub_event_names[e] : "?";
}

void
service_hub_stats(const struct service *s, uint64_t *out, long *subs)
{
    for (int i = 0; i < SERVICE_HUB_EVENTS; i++)
        out[i] = s->hub != NULL ? s->hub->events[i] : 0;
    *subs = s->hub != NULL ? s->hub->subs : -1;
}

static void
count(struct service *s, enum service_hub_event e)
{
    if (s->hub != NULL)
        s->hub->events[e]++;
}

static int
builtin(const struct config *c)
{
    return c->output.hub != NULL && strcmp(c->output.hub, "builtin") == 0;
}

/* [output] link less its trailing slashes: n bytes of it. */
static size_t
base_len(const char *link)
{
    size_t n = strlen(link);
    while (n > 0 && link[n - 1] == '/')
        n--;
    return n;
}

char *
hub_advertised(const struct config *cfg)
{
    const char *hub = cfg->output.hub;
    if (hub == NULL)
        return NULL;
    if (!builtin(cfg))
        return strdup(hub);
    size_t n = base_len(cfg->output.link);
    char *u = malloc(n + 5);
    if (u != NULL)
        snprintf(u, n + 5, "%.*s/hub", (int)n, cfg->output.link);
    return u;
}

/* ---- pings of an external hub ([output] hub = URL) ---- */

static void
on_ping_done(void *arg, const struct fetch_result *r)
{
    struct service *s = arg;
    char q[512];
    if (r->error == -ECANCELED)
        return;
    if (r->error == 0 && r->http >= 200 && r->http < 300) {
        count(s, SERVICE_HUB_PINGED);
        log_debug("event=hub-ping url=%s http=%ld outcome=ok",
                  log_q(r->effective_url ? r->effective_url : "-", q, sizeof(q)), r->http);
        return;
    }
    count(s, SERVICE_HUB_PING_FAILED);
    log_warnx("event=hub-ping hub=%s http=%ld outcome=error error=%s",
              log_q(r->effective_url ? r->effective_url : "-", q, sizeof(q)), r->http,
              LOG_QUOTE(r->errmsg[0] ? r->errmsg : "the hub refused"));
}

/* POST hub.mode=publish&hub.url=URL to the configured hub. */
static void
ping(struct service *s, const char *url)
{
    const struct config *c = s->cfg;
    char *form = NULL;
    if (websub_form_add(&form, "hub.mode", "publish") < 0 ||
        websub_form_add(&form, "hub.url", url) < 0) {
        count(s, SERVICE_HUB_PING_FAILED);
        return;
    }
    struct fetch_request req = {
        .url = c->output.hub,
        .user_agent = c->daemon.user_agent,
        .timeout_s = HUB_TIMEOUT_S,
        .max_size = HUB_ANSWER_MAX,
        .body = form,
        .body_len = strlen(form),
        .public_only = !c->daemon.allow_private_hubs,
    };
    int rc = fetch_start(s->hub->fetch, &req, on_ping_done, s);
    if (rc < 0) {
        count(s, SERVICE_HUB_PING_FAILED);
        log_warnx("event=hub-ping outcome=error error=%s", LOG_QUOTE(strerror(-rc)));
    }
    free(form);
}

/* Topic url changed: ping it once the burst is over, at most once a
 * second. */
static void
ping_want(struct service *s, const char *url)
{
    struct hub *h = s->hub;
    uint64_t now = uv_now(s->loop);
    struct hub_ping *p = NULL, *spare = NULL;
    for (size_t i = 0; i < HUB_PINGS && p == NULL; i++) {
        struct hub_ping *e = &h->pings[i];
        if (e->url != NULL && strcmp(e->url, url) == 0)
            p = e;
        else if (e->url == NULL) /* a free slot first */
            spare = spare == NULL || spare->url != NULL ? e : spare;
        else if (e->due_ms == 0 &&
                 (spare == NULL || (spare->url != NULL && e->last_ms < spare->last_ms)))
            spare = e; /* else the topic pinged longest ago, none pending */
    }
    if (p == NULL) {
        char *copy;
        if (spare == NULL || (copy = strdup(url)) == NULL) {
            count(s, SERVICE_HUB_PING_FAILED); /* every slot waits already */
            return;
        }
        free(spare->url);
        *spare = (struct hub_ping){.url = copy};
        p = spare;
    }
    if (p->due_ms != 0)
        return; /* pending: this change goes with it */
    uint64_t due = now + HUB_PING_DELAY_MS;
    if (p->last_ms != 0 && p->last_ms + HUB_PING_GAP_MS > due)
        due = p->last_ms + HUB_PING_GAP_MS;
    p->due_ms = due;
}

static void
pings_flush(struct service *s)
{
    struct hub *h = s->hub;
    uint64_t now = uv_now(s->loop);
    for (size_t i = 0; i < HUB_PINGS; i++) {
        struct hub_ping *p = &h->pings[i];
        if (p->url == NULL || p->due_ms == 0 || p->due_ms > now)
            continue;
        p->due_ms = 0;
        p->last_ms = now;
        ping(s, p->url);
    }
}

/* base + route + "." + ext for each format, into ping_want. */
static void
ping_route(struct service *s, const char *route, const char *name)
{
    static const char *const ext[] = {".atom", ".rss", ".json"};
    const char *link = s->cfg->output.link;
    for (size_t i = 0; i < 3; i++) {
        struct emit_buf b = {0};
        emit_buf_add(&b, link, base_len(link));
        emit_buf_adds(&b, route);
        if (name != NULL)
            emit_buf_pct(&b, name); /* as the route's rel="self" has it */
        emit_buf_adds(&b, ext[i]);
        if (!b.err)
            ping_want(s, b.data);
        free(b.data);
    }
}

/* ---- the built-in hub: passes (mark, claim) ---- */

struct hub_pass_job {
    const char *test_clock;
    int mark;
    size_t claim; /* deliveries to claim at most (0: none) */
    int64_t now;
    struct store_hub_sub subs[HUB_BATCH];
    size_t n;
    struct store_hub_pass p;
    int rc;
    char err[256];
};

static int
pass_fn(struct service *s, void *arg)
{
    struct hub_pass_job *j = arg;
    struct store *w = s->wstore;
    j->now = websub_now(s, j->test_clock);
    j->rc = j->mark ? store_hub_mark(w, j->now) : 0;
    if (j->rc == 0 && j->claim > 0)
        j->rc = store_hub_claim(w, j->now, HUB_HOLD_S, j->subs, j->claim, &j->n, &j->p);
    if (j->rc < 0)
        snprintf(j->err, sizeof(j->err), "%s", store_errmsg(w));
    return j->rc;
}

static void deliver(struct service *s, struct store_hub_sub *sub);
static void pass(struct service *s);

static void
pass_after(struct service *s, void *arg)
{
    struct hub_pass_job *j = arg;
    struct hub *h = s->hub;
    h->passing = 0;
    h->last_ms = uv_now(s->loop);
    service_store_result(s, j->rc, j->err);
    if (j->rc < 0) {
        log_warnx("event=hub-pass outcome=error error=%s", LOG_QUOTE(j->err));
        h->mark |= j->mark; /* marked again next time */
    } else if (j->claim) {
        h->events[SERVICE_HUB_EXPIRED] += (uint64_t)j->p.expired;
        h->subs = j->p.live;
        h->due_ms = 0;
        if (j->p.next > 0) /* seconds of the database's clock to wait, from the loop's */
            h->due_ms = h->last_ms + (uint64_t)(j->p.next > j->now ? j->p.next - j->now : 0) * 1000;
        if (j->p.expired > 0)
            log_info("event=hub-expired subscriptions=%ld", j->p.expired);
    }
    for (size_t i = 0; i < j->n; i++) {
        if (s->stopping || h->render == NULL)
            store_hub_clear(&j->subs[i]); /* the hold runs out: claimed again */
        else
            deliver(s, &j->subs[i]); /* taken */
    }
    if (j->claim > 0 && j->n == j->claim) /* more may be due */
        h->again = 1;
    free(j);
    if (h->again && !s->stopping) {
        h->again = 0;
        pass(s);
    }
}

/* Queue a pass: the changes marked, the due deliveries claimed (when this
 * node can render them). */
static void
pass(struct service *s)
{
    struct hub *h = s->hub;
    struct hub_pass_job *j;
    if (s->stopping || !builtin(s->cfg))
        return;
    if (h->passing) {
        h->again = 1;
        return;
    }
    if ((j = calloc(1, sizeof(*j))) == NULL)
        return;
    j->test_clock = h->test_clock;
    j->mark = h->mark;
    /* bounded: a delivery that ends makes room, and looks again */
    if (h->render != NULL && h->inflight < HUB_INFLIGHT)
        j->claim = HUB_INFLIGHT - h->inflight < HUB_BATCH ? HUB_INFLIGHT - h->inflight : HUB_BATCH;
    if (!j->mark && j->claim == 0) {
        free(j);
        return;
    }
    if (sched_job(s, pass_fn, pass_after, j) < 0) {
        free(j);
        return;
    }
    h->mark = 0;
    h->passing = 1;
    h->gen_seen = s->generation;
}

/* ---- the built-in hub: one delivery ---- */

enum hub_outcome {
    HUB_SENT,    /* the callback took it */
    HUB_SAME,    /* nothing new in the topic: nothing sent */
    HUB_FAILED,  /* the callback refused it, or it failed */
    HUB_RELEASE, /* not attempted (the render failed): claimed again later */
    HUB_DROP,    /* the subscription goes: its topic is gone, or the callback said 410 */
};

struct hub_delivery {
    struct service *svc;
    struct store_hub_sub sub; /* as claimed, owned */
    char hash[65];            /* of the content rendered, "" before */
    enum hub_outcome outcome;
    const char *test_clock;
    int drop;     /* the job's: delete the row */
    int64_t wait; /* the job's: seconds to the next try */
    int rc;
    char err[256];
};

static void
delivery_free(struct hub_delivery *d)
{
    struct hub *h = d->svc->hub;
    if (h != NULL && h->inflight > 0)
        h->inflight--;
    store_hub_clear(&d->sub);
    free(d);
}

/* In the worker: the delivery's state written with the claim's token. */
static int
done_fn(struct service *s, void *arg)
{
    struct hub_delivery *d = arg;
    struct store_hub_sub *u = &d->sub;
    int64_t now = websub_now(s, d->test_clock);
    char *keep = u->sent;
    u->sent = NULL; /* NULL: the stored hash stays */
    switch (d->outcome) {
    case HUB_SENT:
        u->seen = u->changed;
        u->sent = d->hash;
        u->fails = u->tries = 0;
        u->next_try = 0;
        break;
    case HUB_SAME:
        u->seen = u->changed;
        u->tries = 0;
        u->next_try = 0;
        break;
    case HUB_FAILED:
        u->tries++;
        u->fails++;
        d->wait = service_hub_retry(u->tries, u->fails, &d->drop);
        if (d->wait > 0) {
            u->next_try = now + d->wait;
        } else { /* given up: this content is not tried again */
            u->seen = u->changed;
            u->sent = d->hash;
            u->tries = 0;
            u->next_try = 0;
        }
        break;
    case HUB_RELEASE:
        u->next_try = now + HUB_RELEASE_S;
        break;
    case HUB_DROP:
        d->drop = 1;
        break;
    }
    d->rc = store_hub_done(s->wstore, u, d->drop);
    u->sent = keep; /* d->hash, or NULL, was borrowed */
    if (d->rc < 0)
        snprintf(d->err, sizeof(d->err), "%s", store_errmsg(s->wstore));
    return d->rc < 0 ? d->rc : 0;
}

static void
done_after(struct service *s, void *arg)
{
    struct hub_delivery *d = arg;
    char q[512];
    service_store_result(s, d->rc < 0 ? d->rc : 0, d->err);
    if (d->rc < 0)
        log_warnx("event=hub-deliver callback=%s outcome=error error=%s",
                  log_q(d->sub.callback, q, sizeof(q)), LOG_QUOTE(d->err));
    else if (d->rc == 0)
        log_warnx("event=hub-deliver callback=%s outcome=late error=%s",
                  log_q(d->sub.callback, q, sizeof(q)),
                  LOG_QUOTE("the claim ran out first: another node may deliver it again"));
    else if (d->drop) {
        count(s, SERVICE_HUB_DROPPED);
        log_info("event=hub-drop topic=%s callback=%s", log_q(d->sub.topic, q, sizeof(q)),
                 LOG_QUOTE(d->sub.callback));
    } else if (d->outcome == HUB_FAILED && d->wait == 0) {
        count(s, SERVICE_HUB_GAVE_UP);
        log_warnx("event=hub-deliver topic=%s callback=%s outcome=gave-up",
                  log_q(d->sub.topic, q, sizeof(q)), LOG_QUOTE(d->sub.callback));
    }
    delivery_free(d);
    /* a change made while it was under way (its claim held it back), or
     * one the cap held back: due now */
    if (!s->stopping)
        pass(s);
}

/* Write d's outcome (in order with the other jobs); d is taken. */
static void
finish(struct service *s, struct hub_delivery *d, enum hub_outcome o)
{
    d->outcome = o;
    if (s->stopping || sched_job(s, done_fn, done_after, d) < 0)
        delivery_free(d); /* the hold runs out: claimed again */
}

static void
on_post_done(void *arg, const struct fetch_result *r)
{
    struct hub_delivery *d = arg;
    struct service *s = d->svc;
    char q[512];
    if (r->error == -ECANCELED) {
        delivery_free(d);
        return;
    }
    if (r->error == 0 && r->http >= 200 && r->http < 300) {
        count(s, SERVICE_HUB_DELIVERED);
        log_info("event=hub-deliver topic=%s callback=%s http=%ld outcome=ok",
                 log_q(d->sub.topic, q, sizeof(q)), LOG_QUOTE(d->sub.callback), r->http);
        finish(s, d, HUB_SENT);
        return;
    }
    if (r->http == 410) { /* W3C WebSub §7: the subscriber is gone */
        finish(s, d, HUB_DROP);
        return;
    }
    count(s, SERVICE_HUB_DELIVERY_FAILED);
    log_warnx("event=hub-deliver topic=%s callback=%s http=%ld outcome=error error=%s",
              log_q(d->sub.topic, q, sizeof(q)), LOG_QUOTE(d->sub.callback), r->http,
              LOG_QUOTE(r->errmsg[0] ? r->errmsg : "the callback refused it"));
    finish(s, d, HUB_FAILED);
}

/* A header line "Name: value" into out (malloc'd). */
static char *
header(const char *name, const char *a, const char *b, const char *c)
{
    size_t n = strlen(name) + strlen(a) + strlen(b) + strlen(c) + 3;
    char *h = malloc(n);
    if (h != NULL)
        snprintf(h, n, "%s: %s%s%s", name, a, b, c);
    return h;
}

/* POST the rendering to the callback (W3C WebSub §7): the feed's own
 * Content-Type, Link rel=hub and rel=self, X-Hub-Signature when the
 * subscriber gave a secret. */
static void
post(struct service *s, struct hub_delivery *d, const struct service_hub_doc *doc)
{
    const struct config *c = s->cfg;
    char sig[WEBSUB_SIG_MAX], *hub = hub_advertised(c);
    char *lh = NULL, *ls = NULL, *xs = NULL;
    int rc = -ENOMEM;
    if (hub == NULL || (lh = header("Link", "<", hub, ">; rel=\"hub\"")) == NULL ||
        (ls = header("Link", "<", doc->self != NULL ? doc->self : d->sub.topic,
                     ">; rel=\"self\"")) == NULL)
        goto fail;
    if (d->sub.secret != NULL) {
        if ((rc = websub_sign(d->sub.secret, doc->doc, doc->len, sig)) < 0 ||
            (xs = header("X-Hub-Signature", sig, "", "")) == NULL)
            goto fail;
    }
    const char *headers[] = {lh, ls, xs, NULL};
    struct fetch_request req = {
        .url = d->sub.callback,
        .user_agent = c->daemon.user_agent,
        .timeout_s = HUB_TIMEOUT_S,
        .max_size = HUB_ANSWER_MAX,
        .body = doc->doc,
        .body_len = doc->len,
        .content_type = doc->type,
        .headers = headers,
        /* a callback comes from a stranger (SPEC §11) */
        .public_only = !c->daemon.allow_private_hubs,
    };
    rc = fetch_start(s->hub->fetch, &req, on_post_done, d);
fail:
    free(hub);
    free(lh);
    free(ls);
    free(xs);
    if (rc < 0) {
        char q[512];
        count(s, SERVICE_HUB_DELIVERY_FAILED);
        log_warnx("event=hub-deliver callback=%s outcome=error error=%s",
                  log_q(d->sub.callback, q, sizeof(q)), LOG_QUOTE(strerror(-rc)));
        finish(s, d, rc == -EINVAL ? HUB_DROP : HUB_FAILED);
    }
}

static void
on_rendered(void *ctx, int rc, const struct service_hub_doc *doc)
{
    struct hub_delivery *d = ctx;
    struct service *s = d->svc;
    char q[512];
    if (s->stopping) {
        delivery_free(d);
        return;
    }
    if (rc == -ENOENT || rc == -EINVAL) { /* the topic is no feed any more */
        log_info("event=hub-deliver topic=%s outcome=gone error=%s",
                 log_q(d->sub.topic, q, sizeof(q)), LOG_QUOTE("the topic is no feed any more"));
        finish(s, d, HUB_DROP);
        return;
    }
    if (rc < 0 || websub_digest(doc->doc, doc->len, d->hash) < 0) {
        finish(s, d, HUB_RELEASE);
        return;
    }
    /* the full document, pushed when it changed (W3C WebSub §7); a topic
     * with no entry has nothing to push (its date would be "now") */
    if (doc->entries == 0 || (d->sub.sent != NULL && strcmp(d->sub.sent, d->hash) == 0)) {
        finish(s, d, HUB_SAME);
        return;
    }
    post(s, d, doc);
}

/* Deliver what changed in sub's topic (taken: cleared). */
static void
deliver(struct service *s, struct store_hub_sub *sub)
{
    struct hub *h = s->hub;
    struct hub_delivery *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        store_hub_clear(sub);
        return;
    }
    d->svc = s;
    d->sub = *sub;
    memset(sub, 0, sizeof(*sub));
    h->inflight++;
    d->test_clock = h->test_clock;
    int rc = h->render(h->render_arg, d->sub.path, on_rendered, d);
    if (rc < 0) /* at once: the same as done's */
        on_rendered(d, rc, NULL);
}

void
service_hub_renderer(struct service *s, service_hub_render_fn fn, void *arg)
{
    if (s->hub == NULL)
        return;
    s->hub->render = fn;
    s->hub->render_arg = arg;
}

/* ---- the built-in hub: subscribe and unsubscribe (W3C WebSub §5) ---- */

/* A request taken: verified at its callback, then written. */
struct hub_verify {
    struct service *svc;
    struct store_hub_sub sub; /* topic, path, callback, host, secret, lease_s */
    int subscribe;
    const char *test_clock;
    char challenge[33];
    int rc;
    char err[256];
};

static void
verify_free(struct hub_verify *v)
{
    store_hub_clear(&v->sub);
    free(v);
}

static int
verified_fn(struct service *s, void *arg)
{
    struct hub_verify *v = arg;
    int64_t now = websub_now(s, v->test_clock);
    v->rc = v->subscribe ? store_hub_put(s->wstore, &v->sub, now)
                         : store_hub_remove(s->wstore, v->sub.topic, v->sub.callback);
    if (v->rc < 0)
        snprintf(v->err, sizeof(v->err), "%s", store_errmsg(s->wstore));
    return v->rc < 0 ? v->rc : 0;
}

static void
verified_after(struct service *s, void *arg)
{
    struct hub_verify *v = arg;
    char q[512];
    service_store_result(s, v->rc < 0 ? v->rc : 0, v->err);
    if (s->hub != NULL && s->hub->verifying > 0)
        s->hub->verifying--;
    if (v->rc < 0) {
        log_warnx("event=hub-%s topic=%s outcome=error error=%s",
                  v->subscribe ? "subscribe" : "unsubscribe", log_q(v->sub.topic, q, sizeof(q)),
                  LOG_QUOTE(v->err));
    } else {
        count(s, v->subscribe ? SERVICE_HUB_SUBSCRIBED : SERVICE_HUB_UNSUBSCRIBED);
        if (v->subscribe)
            log_info("event=hub-subscribe topic=%s callback=%s lease=%lld outcome=ok",
                     log_q(v->sub.topic, q, sizeof(q)), LOG_QUOTE(v->sub.callback),
                     (long long)v->sub.lease_s);
        else
            log_info("event=hub-unsubscribe topic=%s callback=%s outcome=%s",
                     log_q(v->sub.topic, q, sizeof(q)), LOG_QUOTE(v->sub.callback),
                     v->rc > 0 ? "ok" : "none");
    }
    verify_free(v);
}

/* Store (or remove) the verified subscription v (taken). */
static void
verified_write(struct service *s, struct hub_verify *v)
{
    if (s->stopping || sched_job(s, verified_fn, verified_after, v) < 0) {
        if (s->hub->verifying > 0)
            s->hub->verifying--;
        verify_free(v);
    }
}

static void
on_baseline(void *ctx, int rc, const struct service_hub_doc *d)
{
    struct hub_verify *v = ctx;
    char hash[65];
    /* without it (the render failed) the first change pushes the content whole */
    if (rc == 0 && websub_digest(d->doc, d->len, hash) == 0)
        v->sub.sent = strdup(hash);
    verified_write(v->svc, v);
}

static void
on_verify_done(void *arg, const struct fetch_result *r)
{
    struct hub_verify *v = arg;
    struct service *s = v->svc;
    char q[512];
    if (r->error == -ECANCELED) {
        verify_free(v);
        return;
    }
    /* W3C WebSub §5.3: a 2xx whose body is the challenge (a line end allowed) */
    size_t n = r->body != NULL ? r->len : 0;
    while (n > 0 && (r->body[n - 1] == '\n' || r->body[n - 1] == '\r'))
        n--;
    int ok = r->error == 0 && r->http >= 200 && r->http < 300 && n == strlen(v->challenge) &&
             memcmp(r->body, v->challenge, n) == 0;
    if (!ok) {
        count(s, SERVICE_HUB_VERIFY_FAILED);
        if (s->hub->verifying > 0)
            s->hub->verifying--;
        log_warnx("event=hub-%s topic=%s callback=%s http=%ld outcome=refused error=%s",
                  v->subscribe ? "subscribe" : "unsubscribe", log_q(v->sub.topic, q, sizeof(q)),
                  LOG_QUOTE(v->sub.callback), r->http,
                  LOG_QUOTE(r->error != 0 ? r->errmsg : "the callback did not echo hub.challenge"));
        verify_free(v);
        return;
    }
    struct hub *h = s->hub;
    if (v->subscribe && h->render != NULL && !s->stopping) {
        /* what the topic holds now is no news to the subscriber: its hash
         * first, so that only a change after this is pushed */
        int rc = h->render(h->render_arg, v->sub.path, on_baseline, v);
        if (rc < 0)
            on_baseline(v, rc, NULL);
        return;
    }
    verified_write(s, v);
}

/* GET CALLBACK?hub.mode=…&hub.topic=…&hub.challenge=…[&hub.lease_seconds=…] */
static void
verify(struct service *s, struct hub_verify *v)
{
    const struct config *c = s->cfg;
    char *form = NULL, *url = NULL, lease[24];
    int rc = -ENOMEM;
    snprintf(lease, sizeof(lease), "%lld", (long long)v->sub.lease_s);
    if ((rc = websub_random_hex(v->challenge, sizeof(v->challenge), 32)) < 0)
        goto fail;
    rc = -ENOMEM;
    if (websub_form_add(&form, "hub.mode", v->subscribe ? "subscribe" : "unsubscribe") < 0 ||
        websub_form_add(&form, "hub.topic", v->sub.topic) < 0 ||
        websub_form_add(&form, "hub.challenge", v->challenge) < 0 ||
        (v->subscribe && websub_form_add(&form, "hub.lease_seconds", lease) < 0))
        goto fail;
    size_t n = strlen(v->sub.callback) + strlen(form) + 2;
    if ((url = malloc(n)) == NULL)
        goto fail;
    /* the callback's own query stays (W3C WebSub §5.3) */
    snprintf(url, n, "%s%c%s", v->sub.callback, strchr(v->sub.callback, '?') ? '&' : '?', form);
    struct fetch_request req = {
        .url = url,
        .user_agent = c->daemon.user_agent,
        .timeout_s = HUB_TIMEOUT_S,
        .max_size = HUB_ANSWER_MAX,
        .public_only = !c->daemon.allow_private_hubs,
    };
    rc = fetch_start(s->hub->fetch, &req, on_verify_done, v);
fail:
    free(form);
    free(url);
    if (rc < 0) {
        char q[512];
        count(s, SERVICE_HUB_VERIFY_FAILED);
        if (s->hub->verifying > 0)
            s->hub->verifying--;
        log_warnx("event=hub-verify callback=%s outcome=error error=%s",
                  log_q(v->sub.callback, q, sizeof(q)), LOG_QUOTE(strerror(-rc)));
        verify_free(v);
    }
}

/* A request waiting on the store's count (the limits). */
struct hub_call {
    struct hub_call *next;
    struct service *svc;
    service_websub_fn done; /* NULL: cancelled */
    void *arg;
    struct hub_verify *v; /* the request, taken by the verification */
    long max_total, max_host;
    int status;
    char text[320];
};

static int
call_fn(struct service *s, void *arg)
{
    struct hub_call *c = arg;
    struct store_hub_sub *u = &c->v->sub;
    long total = 0, of_host = 0;
    int rc = 0;
    c->status = 202;
    snprintf(c->text, sizeof(c->text), "accepted: the intent is verified at the callback next");
    if (!c->v->subscribe)
        return 1; /* no query */
    int64_t now = websub_now(s, c->v->test_clock);
    if ((rc = store_hub_count(s->wstore, now, u->host, u->topic, u->callback, &total, &of_host)) <
        0) {
        c->status = 503;
        snprintf(c->text, sizeof(c->text), "the store is unavailable: try again");
    } else if (total >= c->max_total) {
        c->status = 403;
        snprintf(c->text, sizeof(c->text),
                 "this hub holds its maximum of %ld subscriptions ([output] "
                 "hub_max_subscriptions)",
                 c->max_total);
    } else if (of_host >= c->max_host) {
        c->status = 403;
        snprintf(c->text, sizeof(c->text),
                 "this hub holds its maximum of %ld subscriptions for callback host %.100s "
                 "([output] hub_max_per_host)",
                 c->max_host, u->host);
    }
    return rc;
}

static void
call_after(struct service *s, void *arg)
{
    struct hub_call *c = arg;
    struct hub *h = s->hub;
    for (struct hub_call **pp = &h->calls; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    if (c->status == 202 && !s->stopping) {
        count(s, SERVICE_HUB_ACCEPTED);
        verify(s, c->v); /* taken */
    } else {
        count(s, SERVICE_HUB_REFUSED);
        if (h->verifying > 0)
            h->verifying--;
        verify_free(c->v);
    }
    if (c->done != NULL)
        c->done(c->arg, c->status, c->text);
    free(c);
}

/* Whether client may ask now (a token bucket a client address). */
static int
rate_ok(struct service *s, const char *client)
{
    struct hub *h = s->hub;
    uint64_t now = uv_now(s->loop);
    struct hub_rate *r = NULL, *oldest = &h->rates[0];
    for (size_t i = 0; i < HUB_RATES && r == NULL; i++) {
        if (strcmp(h->rates[i].client, client) == 0)
            r = &h->rates[i];
        else if (h->rates[i].at_ms < oldest->at_ms)
            oldest = &h->rates[i];
    }
    if (r == NULL) {
        r = oldest;
        snprintf(r->client, sizeof(r->client), "%s", client);
        r->tokens = HUB_BURST;
        r->at_ms = now;
    }
    r->tokens += (double)(now - r->at_ms) / 1000.0 * HUB_REFILL;
    if (r->tokens > HUB_BURST)
        r->tokens = HUB_BURST;
    r->at_ms = now;
    if (r->tokens < 1.0)
        return 0;
    r->tokens -= 1.0;
    return 1;
}

/* The callback's host into *host (malloc'd), checked: an absolute http(s)
 * URL, not a private or loopback address written as one unless allowed
 * (a name is checked when connected, by the fetch engine's guard). 0, or
 * -EINVAL with the reason in *why, -ENOMEM. */
static int
callback_host(const char *url, int allow_private, char **host, const char **why)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL;
    int rc = -EINVAL;
    *host = NULL;
    if (u == NULL)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || h[0] == '\0') {
        *why = "hub.callback: not an absolute URL";
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        *why = "hub.callback: want an http or https URL";
    } else {
        char lit[128];
        size_t n = strlen(h);
        /* an IPv6 literal comes in brackets */
        if (h[0] == '[' && n >= 2 && n - 2 < sizeof(lit))
            snprintf(lit, sizeof(lit), "%.*s", (int)(n - 2), h + 1);
        else
            snprintf(lit, sizeof(lit), "%s", h);
        size_t ln = strlen(lit);
        int local = strcasecmp(lit, "localhost") == 0 ||
                    (ln > 10 && strcasecmp(lit + ln - 10, ".localhost") == 0) ||
                    fetch_addr_is_private(lit) == 1;
        if (local && !allow_private) {
            *why = "hub.callback: a loopback or private address (allow_private_hubs is off)";
        } else if ((*host = strdup(h)) == NULL) {
            rc = -ENOMEM;
        } else {
            for (char *p = *host; *p; p++) /* host names compare folded */
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
            rc = 0;
        }
    }
    curl_free(scheme);
    curl_free(h);
    curl_url_cleanup(u);
    return rc;
}

static int
dup_opt(const char *v, char **out)
{
    *out = NULL;
    return v == NULL || (*out = strdup(v)) != NULL ? 0 : -ENOMEM;
}

int
service_hub_request(struct service *s, const struct service_hub_req *r, service_websub_fn done,
                    void *arg, const char **why)
{
    struct hub *h = s->hub;
    const struct config *cfg = s->cfg;
    int64_t lease = HUB_LEASE_DEFAULT;
    char *host = NULL;
    int rc;

    if (h == NULL || s->stopping || !builtin(cfg)) {
        *why = "no built-in hub here ([output] hub is not builtin)";
        return 404;
    }
    int subscribe = r->mode != NULL && strcmp(r->mode, "subscribe") == 0;
    if (!subscribe && (r->mode == NULL || strcmp(r->mode, "unsubscribe") != 0)) {
        *why = r->mode != NULL && strcmp(r->mode, "publish") == 0
                   ? "hub.mode=publish: this hub publishes finfeed's own feeds only"
                   : "hub.mode: want subscribe or unsubscribe";
        goto refused;
    }
    if (r->topic == NULL || r->path == NULL || r->path[0] != '/') {
        *why = "hub.topic: missing";
        goto refused;
    }
    if (r->callback == NULL || r->callback[0] == '\0') {
        *why = "hub.callback: missing";
        goto refused;
    }
    if (strlen(r->callback) > HUB_URL_MAX) {
        *why = "hub.callback: longer than 2048 bytes";
        goto refused;
    }
    if (r->secret != NULL && strlen(r->secret) > HUB_SECRET_MAX) {
        *why = "hub.secret: must be less than 200 bytes (W3C WebSub 5.1)";
        goto refused;
    }
    if (r->lease != NULL && r->lease[0] != '\0') {
        const char *p = r->lease;
        if (strspn(p, "0123456789") != strlen(p) || strlen(p) > 12) {
            *why = "hub.lease_seconds: want a whole number of seconds";
            goto refused;
        }
        lease = strtoll(p, NULL, 10);
    }
    /* the hub decides (W3C WebSub §5.1): within its bounds */
    lease = lease < HUB_LEASE_MIN ? HUB_LEASE_MIN : lease > HUB_LEASE_MAX ? HUB_LEASE_MAX : lease;
    if ((rc = callback_host(r->callback, cfg->daemon.allow_private_hubs, &host, why)) < 0) {
        if (rc == -ENOMEM)
            return rc;
        goto refused;
    }
    if (!rate_ok(s, r->client != NULL ? r->client : "-")) {
        free(host);
        count(s, SERVICE_HUB_REFUSED);
        *why = "too many subscription requests from this address: slow down";
        return 429;
    }
    if (h->verifying >= HUB_VERIFY_MAX) {
        free(host);
        count(s, SERVICE_HUB_REFUSED);
        *why = "too many subscriptions are being verified: try again shortly";
        return 429;
    }
    struct hub_call *c = calloc(1, sizeof(*c));
    struct hub_verify *v = calloc(1, sizeof(*v));
    if (c == NULL || v == NULL)
        goto nomem;
    v->svc = s;
    v->subscribe = subscribe;
    v->test_clock = h->test_clock;
    v->sub.lease_s = lease;
    v->sub.host = host;
    host = NULL;
    if (dup_opt(r->topic, &v->sub.topic) < 0 || dup_opt(r->path, &v->sub.path) < 0 ||
        dup_opt(r->callback, &v->sub.callback) < 0 ||
        dup_opt(r->secret != NULL && r->secret[0] != '\0' ? r->secret : NULL, &v->sub.secret) < 0)
        goto nomem;
    c->svc = s;
    c->done = done;
    c->arg = arg;
    c->v = v;
    c->max_total = cfg->output.hub_max_subscriptions;
    c->max_host = cfg->output.hub_max_per_host;
    if (sched_job(s, call_fn, call_after, c) < 0)
        goto nomem;
    c->next = h->calls;
    h->calls = c;
    h->verifying++;
    return 0;
nomem:
    free(host);
    free(c);
    if (v != NULL)
        verify_free(v);
    return -ENOMEM;
refused:
    count(s, SERVICE_HUB_REFUSED);
    return 400;
}

void
service_hub_cancel(struct service *s, void *arg)
{
    for (struct hub_call *c = s->hub != NULL ? s->hub->calls : NULL; c != NULL; c = c->next)
        if (c->arg == arg)
            c->done = NULL;
}

/* ---- changes, the timer ---- */

void
hub_changed(struct service *s, const struct feed_run *f)
{
    struct hub *h = s->hub;
    const struct config *c = s->cfg;
    if (h == NULL || s->stopping || c->output.hub == NULL)
        return;
    if (builtin(c)) {
        h->mark = 1;
        pass(s);
        return;
    }
    /* the topics a document of f touches: the merged feed, f's own, its
     * configured categories' (first in each of its articles) */
    ping_route(s, "/feed", NULL);
    ping_route(s, "/feeds/", f->name);
    for (size_t i = 0; f->cf != NULL && i < f->cf->ncategories; i++)
        ping_route(s, "/categories/", f->cf->categories[i]);
}

static void
on_uv_hub_timer(uv_timer_t *t)
{
    struct service *s = t->data;
    struct hub *h = s->hub;
    if (s->stopping)
        return;
    pings_flush(s);
    if (!builtin(s->cfg) || h->passing)
        return;
    uint64_t now = uv_now(s->loop);
    uint64_t idle = h->test_clock != NULL ? HUB_TEST_IDLE_MS : HUB_IDLE_MS;
    /* another node's change (its notification bumped the generation), a
     * retry due, or the slow look */
    if (h->mark || s->generation != h->gen_seen || (h->due_ms != 0 && now >= h->due_ms) ||
        now >= h->last_ms + idle)
        pass(s);
}

void
hub_reload(struct service *s)
{
    struct hub *h = s->hub;
    if (h == NULL || !h->timer_open)
        return;
    int want = s->cfg->output.hub != NULL;
    if (want && !h->ticking)
        h->ticking = uv_timer_start(&h->timer, on_uv_hub_timer, HUB_TICK_MS, HUB_TICK_MS) == 0;
    else if (!want && h->ticking) {
        uv_timer_stop(&h->timer);
        h->ticking = 0;
    }
    if (!want || builtin(s->cfg)) /* no external hub: nothing to ping */
        for (size_t i = 0; i < HUB_PINGS; i++) {
            free(h->pings[i].url);
            memset(&h->pings[i], 0, sizeof(h->pings[i]));
        }
}

int
hub_init(struct service *s)
{
    struct hub *h = calloc(1, sizeof(*h));
    int rc;
    if (h == NULL)
        return -ENOMEM;
    const char *tc = getenv("FINFEED_TEST_CLOCK");
    h->test_clock = tc != NULL && *tc != '\0' ? tc : NULL;
    h->subs = -1;
    if ((rc = fetch_new(s->loop, HUB_CONCURRENCY, HUB_PER_HOST, &h->fetch)) < 0) {
        free(h);
        return rc;
    }
    if ((rc = uv_timer_init(s->loop, &h->timer)) < 0) {
        fetch_close(h->fetch, NULL, NULL);
        free(h);
        return rc;
    }
    h->timer.data = s;
    h->timer_open = 1;
    s->hub = h;
    hub_reload(s);
    return 0;
}

static void
on_hub_timer_closed(uv_handle_t *t)
{
    struct service *s = t->data;
    s->hub->timer_open = 0;
    service_part_done(s);
}

static void
on_hub_fetch_closed(void *arg)
{
    service_part_done(arg);
}

int
hub_stop(struct service *s)
{
    struct hub *h = s->hub;
    int parts = 0;
    if (h == NULL)
        return 0;
    if (h->fetch != NULL) {
        struct fetch *f = h->fetch;
        parts++;
        fetch_close(f, on_hub_fetch_closed, s); /* pending requests fire cancelled */
        h->fetch = NULL;
    }
    if (h->timer_open) {
        parts++;
        uv_timer_stop(&h->timer);
        uv_close((uv_handle_t *)&h->timer, on_hub_timer_closed);
    }
    return parts;
}

void
hub_free(struct service *s)
{
    struct hub *h = s->hub;
    if (h == NULL)
        return;
    while (h->calls != NULL) { /* never ran: the service never started its jobs */
        struct hub_call *c = h->calls;
        h->calls = c->next;
        verify_free(c->v);
        free(c);
    }
    for (size_t i = 0; i < HUB_PINGS; i++)
        free(h->pings[i].url);
    free(h);
    s->hub = NULL;
}
