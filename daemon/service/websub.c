/* daemon/service/websub.c — the W3C WebSub subscriber (SPEC §11): a hub
 * found in a fetched feed is asked for a subscription (a per-subscription
 * hub.secret, an unguessable callback id), kept in the store so that any
 * node answers its intent check and verifies and ingests its pushes;
 * renewed before the lease ends (one node each, claimed in the store);
 * unsubscribed when its feed goes. Pushes are rate-limited per
 * subscription on this node before anything is read. Outbound requests
 * go through the fetch engine (never blocking the loop), behind the
 * public→private guard unless allow_private_hubs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log/log.h"
#include "daemon/service/service_int.h"
#include "daemon/websub/websub.h"
#include "fetch/fetch.h"

#define WS_LEASE_ASK (10 * 86400) /* hub.lease_seconds asked for */
#define WS_LEASE_MIN 60           /* a granted lease shorter is read as this */
#define WS_LEASE_MAX (365 * 86400)
#define WS_CHECK_MS (60 * 1000)   /* renewals looked for */
#define WS_TEST_CHECK_MS 300      /* … under FINFEED_TEST_CLOCK */
#define WS_HOLD_S 300             /* a renewal claimed is not sent again before */
#define WS_RENEW_MAX 16           /* renewals a look */
#define WS_OF_FEED_MAX 8          /* subscriptions of one feed read at once */
#define WS_RATES 256              /* subscriptions whose push rate is followed */
#define WS_BURST 20.0             /* pushes a subscription may send at once … */
#define WS_REFILL 2.0             /* … then this many a second */
#define WS_ASK_TIMEOUT 30         /* seconds for a hub to answer a request */

static const char *const ws_event_names[SERVICE_WS_EVENTS] = {
    "pushed", "bad_signature", "unknown", "replay", "rate_limited",
    "too_large", "verified", "asked", "ask_failed",
};

/* A push rate, per callback id: a token bucket. */
struct ws_rate {
    char id[65];
    double tokens;
    uint64_t at_ms; /* uv_now() of the last refill */
};

/* One request of a hub being answered: looked up in the worker, then (a
 * push) ingested. Linked in websub.calls until its answer. */
struct ws_call {
    struct ws_call *next;
    struct service *svc;
    service_websub_fn done; /* NULL: cancelled */
    void *arg;
    /* the request, copied */
    char *callback, *mode, *topic, *challenge, *lease, *signature, *charset;
    char *body;
    size_t len;
    int post;
    /* the worker's answer */
    int status;
    char text[256];
    int64_t feed_id; /* a push to ingest, verified */
    char sig[WEBSUB_SIG_MAX];
};

struct websub {
    uv_timer_t timer;
    int timer_open;
    int renewing;             /* a renewal job is queued */
    const char *test_clock;   /* FINFEED_TEST_CLOCK: a file holding seconds added to the clock */
    struct ws_rate rates[WS_RATES];
    struct ws_call *calls;
    uint64_t events[SERVICE_WS_EVENTS];
};

const char *
service_ws_event_name(enum service_ws_event e)
{
    return (unsigned)e < SERVICE_WS_EVENTS ? ws_event_names[e] : "?";
}

void
service_ws_stats(const struct service *s, uint64_t *out)
{
    for (int i = 0; i < SERVICE_WS_EVENTS; i++)
        out[i] = s->websub != NULL ? s->websub->events[i] : 0;
}

static void
count(struct service *s, enum service_ws_event e)
{
    if (s->websub != NULL)
        s->websub->events[e]++;
}

int64_t
websub_now(struct service *s, const char *test_clock)
{
    int64_t now = 0, skew = 0;
    if (store_now(s->wstore, &now) < 0 || now <= 0)
        now = (int64_t)time(NULL);
    FILE *fp = test_clock != NULL ? fopen(test_clock, "r") : NULL;
    if (fp != NULL) {
        long long v = 0;
        if (fscanf(fp, "%lld", &v) == 1)
            skew = (int64_t)v;
        fclose(fp);
    }
    return now + skew;
}

/* ---- asking a hub (W3C WebSub §5.1), through the fetch engine ---- */

struct ws_ask {
    struct service *svc;
    char *mode, *hub, *callback, *feed; /* copies */
};

static void
ask_free(struct ws_ask *a)
{
    free(a->mode);
    free(a->hub);
    free(a->callback);
    free(a->feed);
    free(a);
}

static int forget_fn(struct service *s, void *arg);
static void forget_after(struct service *s, void *arg);

static void
on_ask_done(void *arg, const struct fetch_result *r)
{
    struct ws_ask *a = arg;
    struct service *s = a->svc;
    char q[300];
    if (r->error == 0 && r->http >= 200 && r->http < 300) {
        count(s, SERVICE_WS_ASKED);
        log_info("event=websub-%s feed=%s hub=%s http=%ld outcome=asked", a->mode, a->feed,
                 log_q(a->hub, q, sizeof(q)), r->http);
        ask_free(a);
        return;
    }
    count(s, SERVICE_WS_ASK_FAILED);
    log_warnx("event=websub-%s feed=%s hub=%s http=%ld outcome=error error=%s", a->mode, a->feed,
              log_q(a->hub, q, sizeof(q)), r->http,
              LOG_QUOTE(r->errmsg[0] ? r->errmsg : "the hub refused"));
    /* a subscribe refused: forgotten, so the next fetch asks again */
    if (strcmp(a->mode, "subscribe") == 0 && !s->stopping && r->error != -ECANCELED) {
        struct feed_run *f = service_feed(s, a->feed);
        if (f != NULL) {
            free(f->ws_hub), f->ws_hub = NULL;
            free(f->ws_topic), f->ws_topic = NULL;
        }
        char *id = a->callback;
        a->callback = NULL;
        if (sched_job(s, forget_fn, forget_after, id) < 0)
            free(id);
    }
    ask_free(a);
}

static int
forget_fn(struct service *s, void *arg)
{
    return store_websub_delete(s->wstore, arg) < 0 ? -EIO : 0;
}

static void
forget_after(struct service *s, void *arg)
{
    (void)s;
    free(arg);
}

/* POST hub.mode=mode for subscription w (borrowed) to its hub. */
static void
ask(struct service *s, const char *mode, const struct store_websub *w, const char *feed)
{
    const struct config *c = s->cfg;
    char *form = NULL, *cb = NULL, lease[24];
    struct ws_ask *a = calloc(1, sizeof(*a));
    size_t n = strlen(c->daemon.public_url) + strlen(w->callback) + 16;
    int rc = -ENOMEM;
    snprintf(lease, sizeof(lease), "%d", WS_LEASE_ASK);
    if (a == NULL || (cb = malloc(n)) == NULL)
        goto fail;
    /* PUBLIC_URL/websub/ID, one slash between */
    size_t pl = strlen(c->daemon.public_url);
    snprintf(cb, n, "%.*s/websub/%s", (int)(pl > 0 && c->daemon.public_url[pl - 1] == '/' ? pl - 1 : pl),
             c->daemon.public_url, w->callback);
    if (websub_form_add(&form, "hub.mode", mode) < 0 ||
        websub_form_add(&form, "hub.topic", w->topic) < 0 ||
        websub_form_add(&form, "hub.callback", cb) < 0 ||
        (strcmp(mode, "subscribe") == 0 &&
         (websub_form_add(&form, "hub.secret", w->secret) < 0 ||
          websub_form_add(&form, "hub.lease_seconds", lease) < 0)))
        goto fail;
    a->svc = s;
    if ((a->mode = strdup(mode)) == NULL || (a->hub = strdup(w->hub)) == NULL ||
        (a->callback = strdup(w->callback)) == NULL ||
        (a->feed = strdup(feed != NULL ? feed : "-")) == NULL)
        goto fail;
    struct fetch_request req = {
        .url = w->hub,
        .user_agent = c->daemon.user_agent,
        .timeout_s = WS_ASK_TIMEOUT,
        .max_size = 64 * 1024,
        .body = form,
        .body_len = strlen(form),
        /* a hub's URL comes from feed content: never a private address
         * unless allowed (SPEC §11) */
        .public_only = !c->daemon.allow_private_hubs,
    };
    if ((rc = fetch_start(s->fetch, &req, on_ask_done, a)) < 0)
        goto fail;
    free(form);
    free(cb);
    return;
fail:
    count(s, SERVICE_WS_ASK_FAILED);
    log_warnx("event=websub-%s feed=%s outcome=error error=%s", mode, feed != NULL ? feed : "-",
              LOG_QUOTE(strerror(-rc)));
    free(form);
    free(cb);
    if (a != NULL)
        ask_free(a);
}

/* ---- discovery: subscribe (in the worker, then asked from the loop) ---- */

struct ws_sub_job {
    struct feed_run *f; /* loop only: kept alive by f->ws_busy */
    int64_t feed_id;
    char *hub, *topic;
    const char *test_clock;
    int rc;
    char err[256];
    struct store_websub fresh; /* a new subscription to ask for (callback set) */
    struct store_websub old[WS_OF_FEED_MAX]; /* to unsubscribe */
    size_t nold;
};

static void
sub_job_free(struct ws_sub_job *j)
{
    free(j->hub);
    free(j->topic);
    store_websub_clear(&j->fresh);
    for (size_t i = 0; i < j->nold; i++)
        store_websub_clear(&j->old[i]);
    free(j);
}

/* The feed's subscriptions: one for this hub and topic kept (or made);
 * any other (an older hub or topic) to unsubscribe. */
static int
sub_fn(struct service *s, void *arg)
{
    struct ws_sub_job *j = arg;
    struct store *w = s->wstore;
    struct store_websub cur[WS_OF_FEED_MAX];
    size_t n = 0;
    int have = 0;
    int64_t now = websub_now(s, j->test_clock);
    int rc = store_websub_of_feed(w, j->feed_id, cur, WS_OF_FEED_MAX, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (cur[i].state == STORE_WS_UNSUBSCRIBING)
            continue;
        if (strcmp(cur[i].hub, j->hub) == 0 && strcmp(cur[i].topic, j->topic) == 0) {
            have = 1; /* asked already, here or by another node */
            continue;
        }
        if ((rc = store_websub_set(w, cur[i].callback, STORE_WS_UNSUBSCRIBING, now, 0, 1)) >= 0) {
            rc = 0;
            j->old[j->nold++] = cur[i];
            memset(&cur[i], 0, sizeof(cur[i]));
        }
    }
    for (size_t i = 0; i < n; i++)
        store_websub_clear(&cur[i]);
    if (rc == 0 && !have) {
        char id[WEBSUB_ID_HEX + 1], secret[WEBSUB_SECRET_HEX + 1];
        struct store_websub *f = &j->fresh;
        if ((rc = websub_random_hex(id, sizeof(id), WEBSUB_ID_HEX)) < 0 ||
            (rc = websub_random_hex(secret, sizeof(secret), WEBSUB_SECRET_HEX)) < 0) {
            snprintf(j->err, sizeof(j->err), "no random bytes");
            j->rc = rc;
            return 1;
        }
        f->feed_id = j->feed_id;
        f->state = STORE_WS_PENDING;
        f->asked_at = now;
        if ((f->callback = strdup(id)) == NULL || (f->secret = strdup(secret)) == NULL ||
            (f->hub = strdup(j->hub)) == NULL || (f->topic = strdup(j->topic)) == NULL)
            rc = -ENOMEM;
        else
            rc = store_websub_put(w, f);
        if (rc < 0)
            store_websub_clear(f);
    }
    if (rc < 0)
        snprintf(j->err, sizeof(j->err), "%s", rc == -ENOMEM ? "out of memory" : store_errmsg(w));
    j->rc = rc;
    return rc;
}

static void
sub_after(struct service *s, void *arg)
{
    struct ws_sub_job *j = arg;
    struct feed_run *f = j->f;
    f->ws_busy = 0;
    service_store_result(s, j->rc, j->err);
    if (j->rc < 0) {
        log_warnx("event=websub-subscribe feed=%s outcome=error error=%s", f->name,
                  LOG_QUOTE(j->err));
    } else if (!f->removed && !s->stopping) {
        free(f->ws_hub);
        free(f->ws_topic);
        f->ws_hub = j->hub, j->hub = NULL;
        f->ws_topic = j->topic, j->topic = NULL;
        for (size_t i = 0; i < j->nold; i++)
            ask(s, "unsubscribe", &j->old[i], f->name);
        if (j->fresh.callback != NULL)
            ask(s, "subscribe", &j->fresh, f->name);
    }
    sub_job_free(j);
    service_feed_release(s, f);
}

void
websub_discovered(struct service *s, struct feed_run *f, const char *hub, const char *self)
{
    const char *topic = self != NULL ? self : f->url;
    if (s->websub == NULL || hub == NULL || topic == NULL || f->id == 0 || f->removed ||
        f->foreign || f->ws_busy || s->stopping)
        return;
    if (f->ws_hub != NULL && strcmp(f->ws_hub, hub) == 0 && f->ws_topic != NULL &&
        strcmp(f->ws_topic, topic) == 0)
        return; /* known */
    if (strncmp(hub, "http://", 7) != 0 && strncmp(hub, "https://", 8) != 0) {
        log_warnx("event=websub-subscribe feed=%s outcome=refused error=%s", f->name,
                  LOG_QUOTE("the hub is not an http(s) URL"));
        return;
    }
    struct ws_sub_job *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->hub = strdup(hub)) == NULL || (j->topic = strdup(topic)) == NULL) {
        if (j != NULL)
            sub_job_free(j);
        return;
    }
    j->f = f;
    j->feed_id = f->id;
    j->test_clock = s->websub->test_clock;
    if (sched_job(s, sub_fn, sub_after, j) < 0) {
        sub_job_free(j);
        return;
    }
    f->ws_busy = 1;
}

/* ---- a feed removed: unsubscribe ---- */

struct ws_gone_job {
    int64_t feed_id;
    const char *test_clock;
    struct store_websub subs[WS_OF_FEED_MAX];
    size_t n;
};

static int
gone_fn(struct service *s, void *arg)
{
    struct ws_gone_job *j = arg;
    int64_t now = websub_now(s, j->test_clock);
    int rc = store_websub_of_feed(s->wstore, j->feed_id, j->subs, WS_OF_FEED_MAX, &j->n);
    for (size_t i = 0; rc == 0 && i < j->n; i++)
        if (j->subs[i].state != STORE_WS_UNSUBSCRIBING)
            rc = store_websub_set(s->wstore, j->subs[i].callback, STORE_WS_UNSUBSCRIBING, now, 0,
                                  1) < 0
                     ? -EIO
                     : 0;
    return rc;
}

static void
gone_after(struct service *s, void *arg)
{
    struct ws_gone_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        if (!s->stopping)
            ask(s, "unsubscribe", &j->subs[i], NULL);
        store_websub_clear(&j->subs[i]);
    }
    free(j);
}

void
websub_feed_removed(struct service *s, int64_t id)
{
    struct ws_gone_job *j;
    if (s->websub == NULL || (j = calloc(1, sizeof(*j))) == NULL)
        return;
    j->feed_id = id;
    j->test_clock = s->websub->test_clock;
    if (sched_job(s, gone_fn, gone_after, j) < 0)
        free(j);
}

/* ---- renewals ---- */

struct ws_renew_job {
    const char *test_clock;
    struct store_websub subs[WS_RENEW_MAX];
    size_t n;
    int rc;
};

static int
renew_fn(struct service *s, void *arg)
{
    struct ws_renew_job *j = arg;
    int64_t now = websub_now(s, j->test_clock);
    j->rc = store_websub_renewals(s->wstore, now, WS_HOLD_S, j->subs, WS_RENEW_MAX, &j->n);
    return j->rc;
}

static void
renew_after(struct service *s, void *arg)
{
    struct ws_renew_job *j = arg;
    if (s->websub != NULL)
        s->websub->renewing = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (!s->stopping)
            ask(s, "subscribe", &j->subs[i], NULL); /* the same callback and secret */
        store_websub_clear(&j->subs[i]);
    }
    free(j);
}

static void
on_uv_ws_timer(uv_timer_t *t)
{
    struct service *s = t->data;
    struct ws_renew_job *j;
    if (s->stopping || s->websub->renewing || (j = calloc(1, sizeof(*j))) == NULL)
        return;
    j->test_clock = s->websub->test_clock;
    if (sched_job(s, renew_fn, renew_after, j) < 0) {
        free(j);
        return;
    }
    s->websub->renewing = 1;
}

/* ---- a hub's request at our callback ---- */

static void
call_free(struct ws_call *c)
{
    free(c->callback);
    free(c->mode);
    free(c->topic);
    free(c->challenge);
    free(c->lease);
    free(c->signature);
    free(c->charset);
    free(c->body);
    free(c);
}

/* Answer c and forget it. */
static void
call_end(struct service *s, struct ws_call *c)
{
    for (struct ws_call **pp = &s->websub->calls; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    if (c->done != NULL)
        c->done(c->arg, c->status, c->text);
    call_free(c);
}

static void
answer(struct ws_call *c, int status, const char *text)
{
    c->status = status;
    snprintf(c->text, sizeof(c->text), "%s", text);
}

/* In the worker: the subscription behind the callback, and what the
 * request may do with it. Nothing of the articles is touched here. */
static int
call_fn(struct service *s, void *arg)
{
    struct ws_call *c = arg;
    struct store *w = s->wstore;
    struct store_websub sub;
    int rc = store_websub_get(w, c->callback, &sub);
    if (rc < 0) {
        answer(c, 503, "the store is unavailable: try again");
        return rc;
    }
    if (rc == 0) {
        answer(c, 404, "no such subscription");
        return 0;
    }
    if (c->post) {
        if (sub.state == STORE_WS_UNSUBSCRIBING) {
            answer(c, 410, "this subscription was removed");
        } else if ((rc = websub_verify(sub.secret, c->signature, c->body, c->len)) < 0) {
            answer(c, 403,
                   rc == -EINVAL    ? "X-Hub-Signature missing or malformed (want sha256=HEX)"
                   : rc == -ENOTSUP ? "X-Hub-Signature: use sha256, sha384 or sha512"
                                    : "X-Hub-Signature does not match");
            c->feed_id = -1; /* a bad signature: counted apart */
        } else {
            snprintf(c->sig, sizeof(c->sig), "%s", c->signature);
            if ((rc = store_websub_seen(w, c->sig, 0, 0)) < 0) {
                answer(c, 503, "the store is unavailable: try again");
                store_websub_clear(&sub);
                return rc;
            }
            if (rc == 1)
                answer(c, 409, "this delivery was received before (a replay)");
            else
                c->feed_id = sub.feed_id, c->status = 0; /* to ingest */
        }
        store_websub_clear(&sub);
        return 0;
    }
    /* intent verification (W3C WebSub §5.3): only for what we asked */
    int sub_mode = c->mode != NULL && strcmp(c->mode, "subscribe") == 0;
    int unsub_mode = c->mode != NULL && strcmp(c->mode, "unsubscribe") == 0;
    int denied = c->mode != NULL && strcmp(c->mode, "denied") == 0;
    int64_t now = websub_now(s, s->websub->test_clock);
    rc = 0;
    if (c->topic == NULL || strcmp(c->topic, sub.topic) != 0) {
        answer(c, 404, "hub.topic is not this subscription's");
    } else if (denied) {
        rc = store_websub_delete(w, c->callback);
        answer(c, 200, "");
    } else if ((!sub_mode && !unsub_mode) || c->challenge == NULL || c->challenge[0] == '\0') {
        answer(c, 400, "want hub.mode (subscribe or unsubscribe) and hub.challenge");
    } else if (sub_mode && sub.state == STORE_WS_UNSUBSCRIBING) {
        answer(c, 404, "this subscription was removed: not subscribing");
    } else if (unsub_mode && sub.state != STORE_WS_UNSUBSCRIBING) {
        answer(c, 404, "no unsubscribe was asked for");
    } else if (sub_mode) {
        long long lease = c->lease != NULL ? strtoll(c->lease, NULL, 10) : WS_LEASE_ASK;
        if (lease < WS_LEASE_MIN)
            lease = WS_LEASE_MIN;
        if (lease > WS_LEASE_MAX)
            lease = WS_LEASE_MAX;
        rc = store_websub_set(w, c->callback, STORE_WS_ACTIVE, now, lease, 0);
        answer(c, 200, c->challenge);
    } else {
        rc = store_websub_delete(w, c->callback);
        answer(c, 200, c->challenge);
    }
    store_websub_clear(&sub);
    if (rc < 0) {
        answer(c, 503, "the store is unavailable: try again");
        return rc;
    }
    return 0;
}

static void
on_pushed(void *arg, int rc, const char *err)
{
    struct ws_call *c = arg;
    struct service *s = c->svc;
    if (rc == 0) {
        count(s, SERVICE_WS_PUSHED);
        answer(c, 200, "stored");
    } else if (rc == -EINVAL) {
        snprintf(c->text, sizeof(c->text), "not a feed: %.200s", err);
        c->status = 400;
    } else {
        answer(c, 503, "the store is unavailable: try again");
    }
    call_end(s, c);
}

static void
call_after(struct service *s, void *arg)
{
    struct ws_call *c = arg;
    if (c->status == 0 && c->feed_id > 0) {
        struct feed_run *f = NULL;
        for (size_t i = 0; i < s->nfeeds && f == NULL; i++)
            if (s->feeds[i]->id == c->feed_id && !s->feeds[i]->removed)
                f = s->feeds[i];
        if (f == NULL || f->opts == NULL) {
            count(s, SERVICE_WS_UNKNOWN);
            answer(c, 410, "this subscription's feed is not configured here");
        } else {
            char *body = c->body;
            c->body = NULL;
            if (sched_push(s, f, body, c->len, c->charset, c->sig, on_pushed, c) == 0)
                return; /* answered once stored */
            answer(c, 503, "out of memory: try again");
        }
    } else if (c->status == 403) {
        count(s, SERVICE_WS_BAD_SIG);
        log_warnx("event=websub-push callback=%.8s… outcome=refused error=%s", c->callback,
                  LOG_QUOTE(c->text));
    } else if (c->status == 409) {
        count(s, SERVICE_WS_REPLAY);
    } else if (c->status == 404 || c->status == 410) {
        count(s, SERVICE_WS_UNKNOWN);
    } else if (c->status == 200 && !c->post) {
        count(s, SERVICE_WS_VERIFIED);
        log_info("event=websub-verify callback=%.8s… mode=%s outcome=ok", c->callback, c->mode);
    }
    call_end(s, c);
}

/* Whether a push to id may come now (W3C WebSub leaves flooding to us). */
static int
rate_ok(struct service *s, const char *id)
{
    struct websub *ws = s->websub;
    uint64_t now = uv_now(s->loop);
    struct ws_rate *r = NULL, *oldest = &ws->rates[0];
    for (size_t i = 0; i < WS_RATES && r == NULL; i++) {
        if (strcmp(ws->rates[i].id, id) == 0)
            r = &ws->rates[i];
        else if (ws->rates[i].at_ms < oldest->at_ms)
            oldest = &ws->rates[i];
    }
    if (r == NULL) { /* the least recently seen id makes room */
        r = oldest;
        snprintf(r->id, sizeof(r->id), "%s", id);
        r->tokens = WS_BURST;
        r->at_ms = now;
    }
    r->tokens += (double)(now - r->at_ms) / 1000.0 * WS_REFILL;
    if (r->tokens > WS_BURST)
        r->tokens = WS_BURST;
    r->at_ms = now;
    if (r->tokens < 1.0)
        return 0;
    r->tokens -= 1.0;
    return 1;
}

static int
dup_opt(const char *v, char **out)
{
    *out = NULL;
    return v == NULL || (*out = strdup(v)) != NULL ? 0 : -ENOMEM;
}

int
service_websub_callback(struct service *s, const struct service_websub_req *r,
                        service_websub_fn done, void *arg, const char **why)
{
    struct ws_call *c;
    if (s->websub == NULL || s->stopping) {
        *why = "no WebSub subscriber here ([daemon] public_url is not set)";
        return 404;
    }
    if (r->post && r->len > (size_t)s->cfg->daemon.max_feed_size) {
        count(s, SERVICE_WS_TOO_LARGE);
        *why = "the content is over max_feed_size";
        return 413;
    }
    if (r->post && !rate_ok(s, r->callback)) {
        count(s, SERVICE_WS_RATE);
        *why = "too many pushes for this subscription: slow down";
        return 429;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return -ENOMEM;
    c->svc = s;
    c->done = done;
    c->arg = arg;
    c->post = r->post;
    c->len = r->len;
    if (dup_opt(r->callback, &c->callback) < 0 || dup_opt(r->mode, &c->mode) < 0 ||
        dup_opt(r->topic, &c->topic) < 0 || dup_opt(r->challenge, &c->challenge) < 0 ||
        dup_opt(r->lease, &c->lease) < 0 || dup_opt(r->signature, &c->signature) < 0 ||
        dup_opt(r->charset, &c->charset) < 0 ||
        (r->post && (c->body = malloc(r->len + 1)) == NULL))
        goto nomem;
    if (r->post) {
        if (r->len > 0)
            memcpy(c->body, r->body, r->len);
        c->body[r->len] = '\0';
    }
    if (sched_job(s, call_fn, call_after, c) < 0)
        goto nomem;
    c->next = s->websub->calls;
    s->websub->calls = c;
    return 0;
nomem:
    call_free(c);
    return -ENOMEM;
}

void
service_websub_cancel(struct service *s, void *arg)
{
    for (struct ws_call *c = s->websub != NULL ? s->websub->calls : NULL; c != NULL; c = c->next)
        if (c->arg == arg)
            c->done = NULL;
}

/* ---- lifecycle ---- */

int
websub_init(struct service *s)
{
    struct websub *ws;
    int rc;
    if (s->cfg->daemon.public_url == NULL)
        return 0; /* no subscriber: nothing to renew, callbacks answer 404 */
    if ((ws = calloc(1, sizeof(*ws))) == NULL)
        return -ENOMEM;
    const char *tc = getenv("FINFEED_TEST_CLOCK");
    ws->test_clock = tc != NULL && *tc != '\0' ? tc : NULL;
    if ((rc = uv_timer_init(s->loop, &ws->timer)) < 0) {
        free(ws);
        return rc;
    }
    ws->timer.data = s;
    ws->timer_open = 1;
    s->websub = ws;
    uint64_t every = ws->test_clock != NULL ? WS_TEST_CHECK_MS : WS_CHECK_MS;
    return uv_timer_start(&ws->timer, on_uv_ws_timer, every, every);
}

static void
on_ws_timer_closed(uv_handle_t *h)
{
    struct service *s = h->data;
    s->websub->timer_open = 0;
    service_part_done(s);
}

void
websub_stop(struct service *s)
{
    uv_timer_stop(&s->websub->timer);
    uv_close((uv_handle_t *)&s->websub->timer, on_ws_timer_closed);
}

void
websub_free(struct service *s)
{
    struct websub *ws = s->websub;
    if (ws == NULL)
        return;
    while (ws->calls != NULL) {
        struct ws_call *c = ws->calls;
        ws->calls = c->next;
        call_free(c);
    }
    free(ws);
    s->websub = NULL;
}
