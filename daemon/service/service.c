/* daemon/service/service.c — the running daemon's feeds and the face of
 * service.h: builds each feed from the configuration with its state from the
 * store, re-reads the configuration (the reload diff: kept, added, removed
 * feeds), prunes on a timer (prune.c), copies state out for the control socket and the
 * HTTP server, tells watchers of changes, and starts and stops the rest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <uv.h>

#include "daemon/log/log.h"
#include "daemon/service/policy.h"
#include "daemon/service/service_int.h"
#include "fetch/fetch.h"

#define PRUNE_FIRST_MS (60 * 1000)        /* a minute after start */
#define PRUNE_EVERY_MS (6 * 3600 * 1000)  /* then four times a day */

struct feed_run *
service_feed(struct service *s, const char *name)
{
    for (size_t i = 0; i < s->nfeeds; i++)
        if (!s->feeds[i]->removed && strcmp(s->feeds[i]->name, name) == 0)
            return s->feeds[i];
    return NULL;
}

static void
set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? strdup(v) : NULL;
}

/* ---- feed options: immutable, counted, shared with the worker's jobs ---- */

int
feed_opts_new(const struct config *cfg, const struct config_feed *cf, struct service_tickers *t,
              struct feed_opts **out, char *err, size_t errsize)
{
    struct feed_opts *o = calloc(1, sizeof(*o));
    int rc;
    *out = NULL;
    if (o == NULL) {
        snprintf(err, errsize, "out of memory");
        return -ENOMEM;
    }
    if ((rc = service_ingest_init(&o->ing, NULL, cfg, cf, cf->name, err, errsize)) < 0) {
        free(o);
        return rc;
    }
    service_ingest_set_tickers(&o->ing, t);
    o->refs = 1;
    *out = o;
    return 0;
}

struct feed_opts *
feed_opts_ref(struct feed_opts *o)
{
    o->refs++;
    return o;
}

void
feed_opts_unref(struct feed_opts *o)
{
    if (o == NULL || --o->refs > 0)
        return;
    service_ingest_close(&o->ing);
    free(o);
}

struct service_keymaker *
service_keymaker_ref(struct service_keymaker *k)
{
    if (k != NULL)
        k->refs++;
    return k;
}

void
service_keymaker_unref(struct service_keymaker *k)
{
    if (k == NULL || --k->refs > 0)
        return;
    store_keymaker_free(k->m);
    free(k);
}

/* The keymaker of st's tracking list as it is now, or NULL when out of
 * memory (the writer then makes the keys itself). On st's thread. */
static struct service_keymaker *
keymaker_new(const struct store *st)
{
    struct service_keymaker *k = calloc(1, sizeof(*k));
    if (k == NULL || store_keymaker_new(st, &k->m) < 0) {
        free(k);
        return NULL;
    }
    k->refs = 1;
    return k;
}

static void
feed_free(struct feed_run *f)
{
    if (f == NULL)
        return;
    feed_opts_unref(f->opts);
    free(f->name);
    free(f->url);
    free(f->etag);
    free(f->last_modified);
    free(f->ws_hub);
    free(f->ws_topic);
    free(f);
}

/* A feed_run for configured feed `cf` of cfg, not registered in the store
 * yet: the worker does that (service_register_due), then it is fetched. */
static int
feed_new(const struct config *cfg, const struct config_feed *cf, struct service_tickers *t,
         struct feed_run **out, char *err, size_t errsize)
{
    struct feed_run *f = calloc(1, sizeof(*f));
    int rc;
    if (f == NULL || (f->name = strdup(cf->name)) == NULL || (f->url = strdup(cf->url)) == NULL) {
        feed_free(f);
        snprintf(err, errsize, "out of memory");
        return -ENOMEM;
    }
    f->cf = cf;
    if ((rc = feed_opts_new(cfg, cf, t, &f->opts, err, errsize)) < 0) {
        feed_free(f);
        return rc;
    }
    f->enabled = cf->enabled;
    *out = f;
    return 0;
}

int
service_feed_foreign(struct service *s, int64_t id, const char *name, struct feed_run **out)
{
    struct feed_run *f = calloc(1, sizeof(*f));
    struct feed_run **grown = realloc(s->feeds, (s->nfeeds + 2) * sizeof(*s->feeds));
    if (grown != NULL)
        s->feeds = grown;
    if (f == NULL || grown == NULL || (f->name = strdup(name)) == NULL) {
        feed_free(f);
        return -ENOMEM;
    }
    f->id = id;
    f->foreign = 1;
    f->enabled = 1;
    s->feeds[s->nfeeds++] = f;
    *out = f;
    return 0;
}

int
service_feed_release(struct service *s, struct feed_run *f)
{
    if (!f->removed || f->in_flight || f->registering || f->claimed || f->completing ||
        f->ws_busy || f->pushing)
        return 0;
    for (size_t i = 0; i < s->nfeeds; i++)
        if (s->feeds[i] == f) {
            memmove(&s->feeds[i], &s->feeds[i + 1], (s->nfeeds - i - 1) * sizeof(f));
            s->nfeeds--;
            break;
        }
    feed_free(f);
    return 1;
}

void
service_store_result(struct service *s, int rc, const char *err)
{
    if (rc == 0) {
        s->store_ok = 1;
    } else if (rc != -EBUSY) { /* a lock held elsewhere breaks nothing: it is waited out */
        s->store_ok = 0;
        snprintf(s->store_error, sizeof(s->store_error), "%s", err);
    }
    if (rc == -ENOSPC || rc == -EIO || rc == -EROFS || rc == -EDQUOT) {
        s->write_failed = 1;
        snprintf(s->write_error, sizeof(s->write_error), "%s", err);
    }
}

void
service_store_wrote(struct service *s)
{
    s->write_failed = 0;
}

/* ---- registration, in the worker: feeds.id, the saved state ---- */

struct reg_item {
    struct feed_run *f;  /* loop thread only: kept alive by f->registering */
    char *name, *url;    /* copies for the worker */
    int ensure_only;     /* registered already: store the configured URL only */
    int64_t id;          /* results, read by reg_after */
    struct store_feed_state st;
    long articles;
};

struct reg_job {
    size_t n;
    struct reg_item *items;
    int rc;
    char err[256];
    long total;          /* articles in the store, when total_ok */
    int total_ok;
};

static void
reg_job_free(struct reg_job *j)
{
    for (size_t i = 0; i < j->n; i++) {
        free(j->items[i].name);
        free(j->items[i].url);
        store_feed_state_clear(&j->items[i].st);
    }
    free(j->items);
    free(j);
}

/* One transaction for all of them: under a held lock, one busy timeout. */
static int
reg_fn(struct service *s, void *arg)
{
    struct reg_job *j = arg;
    struct store *w = s->wstore;
    int rc = store_begin(w);
    for (size_t i = 0; rc == 0 && i < j->n; i++) {
        struct reg_item *it = &j->items[i];
        if ((rc = store_feed_ensure(w, it->name, it->url, &it->id)) == 0 && !it->ensure_only &&
            (rc = store_feed_state_get(w, it->id, &it->st)) == 0)
            rc = store_count(w, it->id, &it->articles);
    }
    if (rc == 0)
        rc = store_commit(w);
    if (rc < 0) {
        snprintf(j->err, sizeof(j->err), "%s", store_errmsg(w));
        store_rollback(w);
    } else {
        j->total_ok = store_count(w, 0, &j->total) == 0;
    }
    j->rc = rc;
    return rc;
}

/* Seconds before registration attempt number errors + 1: 1, 2, 4 … 60. */
static int64_t
reg_backoff(int errors)
{
    return errors >= 7 ? 60 : (int64_t)1 << (errors - 1);
}

/* The stored state of a feed just registered (SPEC §6: a 301's URL, the
 * validators, a 410 keep across restarts). */
static void
feed_apply_state(struct feed_run *f, const struct reg_item *it)
{
    const struct store_feed_state *st = &it->st;
    int same_url = f->cf != NULL && strcmp(f->cf->url, it->url) == 0;
    f->id = it->id;
    f->articles = it->articles;
    if (same_url && st->url != NULL && strcmp(st->url, f->url) != 0) /* moved by a 301/308 */
        set_str(&f->url, st->url);
    set_str(&f->etag, same_url ? st->etag : NULL);
    set_str(&f->last_modified, same_url ? st->last_modified : NULL);
    f->last_fetch = st->last_fetch;
    f->next_fetch = same_url ? st->next_fetch : 0;
    f->newest = st->newest;
    f->http = st->http;
    f->errors = (int)st->errors;
    snprintf(f->error, sizeof(f->error), "%s", st->error ? st->error : "");
    f->first_ok = st->first_ok;
    snprintf(f->next_why, sizeof(f->next_why), "%s", st->next_why ? st->next_why : "");
    f->lag_median = st->lag_median;
    f->lag_n = st->lag_n;
    if (st->status != NULL) {
        for (int o = 0; o < SERVICE_OUTCOMES; o++)
            if (strcmp(st->status, service_outcome_name((enum service_outcome)o)) == 0)
                f->last = (enum service_outcome)o;
    }
    if (!st->enabled && same_url) /* answered 410 before: stays off */
        f->enabled = 0, f->last = SERVICE_GONE;
}

static void top_count(struct service *s);

static void
reg_after(struct service *s, void *arg)
{
    struct reg_job *j = arg;
    int registered = j->rc == 0;
    int64_t now = (int64_t)time(NULL);
    char q[300];
    service_store_result(s, j->rc, j->err);
    if (j->rc < 0)
        log_warnx("event=register feeds=%zu error=%s", j->n, log_q(j->err, q, sizeof(q)));
    if (j->total_ok) {
        s->articles = j->total;
        s->articles_known = 1;
    }
    for (size_t i = 0; i < j->n; i++) {
        struct reg_item *it = &j->items[i];
        struct feed_run *f = it->f;
        f->registering = 0;
        if (service_feed_release(s, f))
            continue;
        if (j->rc < 0) {
            f->reg_errors++;
            f->reg_at = service_time_add(now, reg_backoff(f->reg_errors));
            if (f->id == 0)
                snprintf(f->error, sizeof(f->error), "store: %.240s", j->err);
            continue;
        }
        f->reg_errors = 0;
        if (!it->ensure_only)
            feed_apply_state(f, it);
        if (f->cf == NULL || strcmp(f->cf->url, it->url) == 0)
            f->need_ensure = 0; /* else moved again meanwhile: once more */
    }
    reg_job_free(j);
    if (!s->loaded)
        top_count(s); /* the status page's tickers, from the start */
    s->loaded = 1;
    if (registered)
        cluster_reload(s); /* the store's listing of this node takes them in */
    sched_rearm(s);
    service_notify(s, SERVICE_FETCHED); /* feeds' state changed */
}

static int
reg_pending(const struct feed_run *f)
{
    return !f->removed && !f->registering && f->cf != NULL && (f->id == 0 || f->need_ensure);
}

int64_t
service_register_next(const struct service *s)
{
    int64_t when = INT64_MAX;
    for (size_t i = 0; i < s->nfeeds; i++)
        if (reg_pending(s->feeds[i]) && s->feeds[i]->reg_at < when)
            when = s->feeds[i]->reg_at;
    return when;
}

int
service_register_due(struct service *s, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nfeeds; i++)
        n += reg_pending(s->feeds[i]) && s->feeds[i]->reg_at <= now;
    if (n == 0)
        return 0;
    struct reg_job *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->items = calloc(n, sizeof(*j->items))) == NULL) {
        free(j);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->nfeeds && j->n < n; i++) {
        struct feed_run *f = s->feeds[i];
        if (!reg_pending(f) || f->reg_at > now)
            continue;
        struct reg_item *it = &j->items[j->n++];
        it->f = f;
        it->ensure_only = f->id != 0;
        if ((it->name = strdup(f->name)) == NULL || (it->url = strdup(f->cf->url)) == NULL)
            goto nomem;
    }
    if (sched_job(s, reg_fn, reg_after, j) < 0)
        goto nomem;
    for (size_t i = 0; i < j->n; i++)
        j->items[i].f->registering = 1;
    return 0;
nomem:
    reg_job_free(j);
    return -ENOMEM;
}

/* markdown_dir is created when missing (its parent must exist). */
static void
make_markdown_dir(const struct config *cfg)
{
    const char *dir = cfg->output.markdown_dir;
    if (dir != NULL && mkdir(dir, 0755) < 0 && errno != EEXIST)
        log_warn("event=markdown dir=%s", dir);
}

/* ---- reload ---- */

/* The tracking parameters of a reloaded configuration, for the writer in the
 * worker (dedup keys); the job owns its copy of the list. */
struct tracking_job {
    char **params;
    size_t n;
    struct service_keymaker *keymaker; /* made by tracking_fn, or NULL */
};

static void
tracking_job_free(struct tracking_job *j)
{
    for (size_t i = 0; j != NULL && i < j->n; i++)
        free(j->params[i]);
    if (j != NULL) {
        free(j->params);
        service_keymaker_unref(j->keymaker);
    }
    free(j);
}

static int
tracking_fn(struct service *s, void *arg)
{
    struct tracking_job *j = arg;
    int rc = store_set_tracking_params(s->wstore, (const char *const *)j->params, j->n);
    if (rc == 0)
        j->keymaker = keymaker_new(s->wstore);
    return rc < 0 ? rc : 1; /* no query ran: says nothing of the database's lock */
}

static void
tracking_after(struct service *s, void *arg)
{
    struct tracking_job *j = arg;
    /* documents parsed from now on get keys of the new list; those parsed
     * before it are remade by the store (their list is not its own) */
    if (j->keymaker != NULL) {
        service_keymaker_unref(s->keymaker);
        s->keymaker = j->keymaker;
        j->keymaker = NULL;
    }
    tracking_job_free(j);
}

/* A reload's tracking_params (SPEC §7, §5.2) take effect on both
 * connections: the writer's (dedup keys) in order with the jobs; the
 * reader's (the links the output emits) at each render, from the snapshot. */
static int
reload_tracking(struct service *s, const struct config *cfg)
{
    const char *const *list = (const char *const *)cfg->daemon.tracking_params;
    size_t n = cfg->daemon.ntracking_params;
    struct tracking_job *j = calloc(1, sizeof(*j));
    int rc = j == NULL ? -ENOMEM : 0;
    if (rc == 0 && n > 0 && (j->params = calloc(n, sizeof(*j->params))) == NULL)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++, j->n++)
        if ((j->params[i] = strdup(list[i])) == NULL)
            rc = -ENOMEM;
    if (rc == 0 && (rc = sched_job(s, tracking_fn, tracking_after, j)) == 0)
        return 0;
    tracking_job_free(j);
    return rc;
}

int
service_reload(struct service *s, char *err, size_t errsize)
{
    struct config *cfg = NULL;
    int rc = config_load(s->cfg_path, &cfg, err, errsize);
    if (rc < 0) {
        log_warnx("event=reload outcome=refused error=%s", LOG_QUOTE(err));
        return rc;
    }
    /* the extractor and the watchlists of the new configuration (SPEC §12) */
    struct service_tickers *tickers = NULL;
    struct service_watchlist *watchlists = NULL;
    size_t nwatchlists = 0;
    if ((rc = service_tickers_new(cfg, &tickers, err, errsize)) < 0 ||
        (rc = service_watchlists_new(cfg, tickers, &watchlists, &nwatchlists)) < 0) {
        if (rc == -ENOMEM)
            snprintf(err, errsize, "out of memory");
        log_warnx("event=reload outcome=refused error=%s", LOG_QUOTE(err));
        service_tickers_unref(tickers);
        config_free(cfg);
        return rc;
    }
    make_markdown_dir(cfg);
    struct feed_run **feeds = calloc(cfg->nfeeds + s->nfeeds + 1, sizeof(*feeds));
    if (feeds == NULL) {
        service_watchlists_free(watchlists, nwatchlists);
        service_tickers_unref(tickers);
        config_free(cfg);
        snprintf(err, errsize, "out of memory");
        return -ENOMEM;
    }
    size_t n = 0, added = 0, kept = 0;
    struct config *old = s->cfg;
    s->cfg = cfg;
    service_watchlists_free(s->watchlists, s->nwatchlists);
    s->watchlists = watchlists;
    s->nwatchlists = nwatchlists;
    service_tickers_unref(s->tickers); /* the feeds' old options keep theirs */
    s->tickers = tickers;
    if (reload_tracking(s, cfg) < 0)
        log_warnx("event=reload error=%s", LOG_QUOTE("tracking_params: out of memory"));
    for (size_t i = 0; i < cfg->nfeeds; i++) {
        const struct config_feed *cf = &cfg->feeds[i];
        struct feed_run *f = service_feed(s, cf->name);
        char why[512];
        if (f != NULL && f->foreign) {
            /* listed by another node until now: this node lists it too */
            struct feed_opts *o;
            if (feed_opts_new(cfg, cf, tickers, &o, why, sizeof(why)) < 0) {
                log_warnx("event=reload feed=%s error=%s", cf->name, LOG_QUOTE(why));
                continue;
            }
            f->foreign = 0;
            f->opts = o;
            f->cf = cf;
            f->enabled = cf->enabled;
            f->need_ensure = 1; /* the store learns its configured URL */
            f->reg_at = 0;
            if (f->url == NULL)
                set_str(&f->url, cf->url);
            feeds[n++] = f;
            added++;
        } else if (f != NULL) {
            kept++;
            int moved = strcmp(f->cf->url, cf->url) != 0;
            f->cf = cf;
            f->enabled = cf->enabled && (f->last != SERVICE_GONE || moved);
            if (moved) {
                set_str(&f->url, cf->url);
                set_str(&f->etag, NULL);
                set_str(&f->last_modified, NULL);
                f->next_fetch = 0;
                if (f->last == SERVICE_GONE)
                    f->last = SERVICE_OK, f->fetched = 0;
                /* the store learns the configured URL in the worker */
                if (f->id != 0 || f->registering)
                    f->need_ensure = 1, f->reg_at = 0;
            }
            /* new options; a running ingest keeps its reference to the old */
            struct feed_opts *o;
            if (feed_opts_new(cfg, cf, tickers, &o, why, sizeof(why)) == 0) {
                feed_opts_unref(f->opts);
                f->opts = o;
            } else {
                log_warnx("event=reload feed=%s error=%s", cf->name, LOG_QUOTE(why));
            }
            feeds[n++] = f;
        } else {
            if (feed_new(cfg, cf, tickers, &f, why, sizeof(why)) < 0) {
                log_warnx("event=reload feed=%s error=%s", cf->name, LOG_QUOTE(why));
                continue;
            }
            feeds[n++] = f;
            added++;
        }
    }
    size_t removed = 0;
    for (size_t i = 0; i < s->nfeeds; i++) {
        struct feed_run *f = s->feeds[i];
        int still = 0;
        for (size_t k = 0; k < n; k++)
            still |= feeds[k] == f;
        if (still)
            continue;
        if (f->foreign) { /* another node's: stays */
            feeds[n++] = f;
            continue;
        }
        cluster_dropped(s, f->name);
        if (!f->removed && f->id != 0)
            websub_feed_removed(s, f->id); /* unsubscribe (SPEC §11) */
        if (!f->removed)
            removed++;
        f->removed = 1;
        f->enabled = 0;
        f->cf = NULL; /* the old configuration goes now */
        if (f->in_flight || f->registering || f->claimed || f->completing || f->ws_busy ||
            f->pushing)
            feeds[n++] = f; /* freed when its fetch or job finishes */
        else
            feed_free(f);
    }
    free(s->feeds);
    s->feeds = feeds;
    s->nfeeds = n;
    config_free(old); /* nothing borrows from it: the worker's jobs hold copies */
    cluster_reload(s);
    hub_reload(s);
    sched_rearm(s);
    log_info("event=reload outcome=ok feeds=%zu added=%zu removed=%zu kept=%zu", cfg->nfeeds,
             added, removed, kept);
    service_notify(s, SERVICE_RELOADED);
    return 0;
}

/* ---- the most-mentioned tickers (SPEC §12), counted in the worker ---- */

#define TOP_TICKERS 10         /* on the status page */
#define TOP_WINDOW (24 * 3600) /* of articles dated this recently */
#define TOP_AGAIN_CHANGED 60   /* seconds: counted again after a change … */
#define TOP_AGAIN_ANYWAY 300   /* … or at the latest (the window slides) */

static void
top_free(struct service_ticker *t, size_t n)
{
    for (size_t i = 0; t != NULL && i < n; i++)
        free(t[i].ticker);
    free(t);
}

struct top_job {
    int64_t since, at, gen;
    struct service_ticker *top; /* ntop, the worker's until `after` */
    size_t ntop;
    int rc;
    char err[256];
};

static int
on_top_ticker(void *arg, const char *ticker, long articles)
{
    struct top_job *j = arg;
    if (j->ntop == TOP_TICKERS)
        return 0;
    if ((j->top[j->ntop].ticker = strdup(ticker)) == NULL)
        return -ENOMEM;
    j->top[j->ntop++].articles = articles;
    return 0;
}

static int
top_fn(struct service *s, void *arg)
{
    struct top_job *j = arg;
    if ((j->top = calloc(TOP_TICKERS, sizeof(*j->top))) == NULL)
        return j->rc = -ENOMEM;
    j->rc = store_top_tickers(s->wstore, j->since, TOP_TICKERS, on_top_ticker, j);
    if (j->rc < 0)
        snprintf(j->err, sizeof(j->err), "%s",
                 j->rc == -ENOMEM ? "out of memory" : store_errmsg(s->wstore));
    return j->rc == -ENOMEM ? 1 : j->rc;
}

static void
top_after(struct service *s, void *arg)
{
    struct top_job *j = arg;
    s->top_busy = 0;
    if (j->rc == 0) {
        top_free(s->top, s->ntop);
        s->top = j->top;
        s->ntop = j->ntop;
        s->top_at = j->at;
        s->top_gen = j->gen;
        j->top = NULL;
        service_notify(s, SERVICE_FETCHED); /* the snapshot has them */
    } else {
        log_warnx("event=top-tickers error=%s", LOG_QUOTE(j->err));
    }
    top_free(j->top, j->ntop);
    free(j);
}

/* Queue a count of the most-mentioned tickers (none when one is queued). */
static void
top_count(struct service *s)
{
    struct top_job *j;
    if (s->top_busy || s->stopping || (j = calloc(1, sizeof(*j))) == NULL)
        return;
    j->at = (int64_t)time(NULL);
    j->since = j->at - TOP_WINDOW;
    j->gen = s->generation;
    if (sched_job(s, top_fn, top_after, j) < 0) {
        free(j);
        return;
    }
    s->top_busy = 1;
}

void
service_top_tickers_refresh(struct service *s)
{
    int64_t age = (int64_t)time(NULL) - s->top_at;
    if (s->top_at == 0 || age >= TOP_AGAIN_ANYWAY ||
        (age >= TOP_AGAIN_CHANGED && s->generation != s->top_gen))
        top_count(s);
}

/* ---- copies out ---- */

static void
feed_copy_clear(struct service_feed *c)
{
    free(c->name);
    free(c->url);
    for (size_t i = 0; i < c->ncategories; i++)
        free(c->categories[i]);
    free(c->categories);
    memset(c, 0, sizeof(*c));
}

/* f's state into *c, every string copied. Returns 0 or -ENOMEM (c empty). */
static int
feed_copy(const struct feed_run *f, struct service_feed *c)
{
    const char *url = f->url ? f->url : f->cf ? f->cf->url : NULL;
    size_t ncat = f->cf ? f->cf->ncategories : 0;
    memset(c, 0, sizeof(*c));
    if ((c->name = strdup(f->name)) == NULL || (url && (c->url = strdup(url)) == NULL) ||
        (ncat > 0 && (c->categories = calloc(ncat, sizeof(char *))) == NULL))
        goto fail;
    for (; c->ncategories < ncat; c->ncategories++)
        if ((c->categories[c->ncategories] = strdup(f->cf->categories[c->ncategories])) == NULL)
            goto fail;
    c->enabled = f->enabled;
    c->fetched = f->fetched;
    c->last = f->last;
    c->http = f->http;
    c->last_fetch = f->last_fetch;
    c->next_fetch = f->next_fetch;
    c->newest = f->newest;
    c->errors = f->errors;
    memcpy(c->error, f->error, sizeof(c->error));
    c->counts = (struct service_counts){f->counts.new_, f->counts.updated, f->counts.duplicates,
                                        f->counts.unchanged};
    c->articles = f->articles;
    memcpy(c->fetches, f->fetches, sizeof(c->fetches));
    memcpy(c->owner, f->owner, sizeof(c->owner));
    c->lease_until = f->lease_until;
    c->token = f->token;
    c->unlisted = f->unlisted;
    memcpy(c->next_why, f->next_why, sizeof(c->next_why));
    c->lag_median = f->lag_median;
    c->lag_n = f->lag_n;
    memcpy(c->lag_buckets, f->lag_buckets, sizeof(c->lag_buckets));
    c->lag_count = f->lag_count;
    c->lag_sum = f->lag_sum;
    return 0;
fail:
    feed_copy_clear(c);
    return -ENOMEM;
}

void
service_snapshot_free(struct service_snapshot *snap)
{
    if (snap == NULL)
        return;
    for (size_t i = 0; i < snap->nfeeds; i++)
        feed_copy_clear(&snap->feeds[i]);
    free(snap->feeds);
    free(snap->title);
    free(snap->link);
    free(snap->hub);
    free(snap->node);
    for (size_t i = 0; i < snap->nreaders; i++) {
        free(snap->readers[i].name);
        free(snap->readers[i].secret);
    }
    free(snap->readers);
    for (size_t i = 0; i < snap->ntracking; i++)
        free(snap->tracking[i]);
    free(snap->tracking);
    service_watchlists_free(snap->watchlists, snap->nwatchlists);
    top_free(snap->top, snap->ntop);
    memset(snap, 0, sizeof(*snap));
}

int
service_snapshot(struct service *s, const char *feed, struct service_snapshot *out)
{
    const struct config *cfg = s->cfg;
    memset(out, 0, sizeof(*out));
    if (feed != NULL && service_feed(s, feed) == NULL)
        return -ENOENT;
    out->max_entries = cfg->output.max_entries;
    out->max_feed_size = cfg->daemon.max_feed_size;
    out->stale_after = cfg->daemon.stale_after;
    out->hub_builtin = cfg->output.hub != NULL && strcmp(cfg->output.hub, "builtin") == 0;
    if ((cfg->output.hub != NULL && (out->hub = hub_advertised(cfg)) == NULL) ||
        (out->title = strdup(cfg->output.title)) == NULL ||
        (out->link = strdup(cfg->output.link)) == NULL ||
        (out->node = strdup(cfg->daemon.node)) == NULL ||
        (out->feeds = calloc(s->nfeeds + 1, sizeof(*out->feeds))) == NULL)
        goto fail;
    if (cfg->output.ntokens > 0 &&
        (out->readers = calloc(cfg->output.ntokens, sizeof(*out->readers))) == NULL)
        goto fail;
    for (size_t i = 0; i < cfg->output.ntokens; i++) {
        struct service_reader *r = &out->readers[out->nreaders++];
        if ((r->name = strdup(cfg->output.tokens[i].name)) == NULL ||
            (r->secret = strdup(cfg->output.tokens[i].secret)) == NULL)
            goto fail;
    }
    if (cfg->daemon.ntracking_params > 0 &&
        (out->tracking = calloc(cfg->daemon.ntracking_params, sizeof(char *))) == NULL)
        goto fail;
    for (size_t i = 0; i < cfg->daemon.ntracking_params; i++, out->ntracking++)
        if ((out->tracking[i] = strdup(cfg->daemon.tracking_params[i])) == NULL)
            goto fail;
    for (size_t i = 0; i < s->nfeeds; i++) {
        const struct feed_run *f = s->feeds[i];
        if (f->removed || (feed != NULL && strcmp(f->name, feed) != 0))
            continue;
        if (feed_copy(f, &out->feeds[out->nfeeds]) < 0)
            goto fail;
        out->nfeeds++;
    }
    /* instruments (SPEC §12): the watchlists, the most-mentioned tickers */
    if (s->nwatchlists > 0 &&
        (out->watchlists = calloc(s->nwatchlists, sizeof(*out->watchlists))) == NULL)
        goto fail;
    for (; out->nwatchlists < s->nwatchlists; out->nwatchlists++)
        if (service_watchlist_copy(&s->watchlists[out->nwatchlists],
                                   &out->watchlists[out->nwatchlists]) < 0)
            goto fail;
    if (s->ntop > 0 && (out->top = calloc(s->ntop, sizeof(*out->top))) == NULL)
        goto fail;
    for (; out->ntop < s->ntop; out->ntop++) {
        out->top[out->ntop].articles = s->top[out->ntop].articles;
        if ((out->top[out->ntop].ticker = strdup(s->top[out->ntop].ticker)) == NULL)
            goto fail;
    }
    out->top_at = s->top_at;
    return 0;
fail:
    service_snapshot_free(out);
    return -ENOMEM;
}

void
service_stats(const struct service *s, struct service_stats *out)
{
    const struct metrics *m = &s->metrics;
    memset(out, 0, sizeof(*out));
    out->started = m->started;
    out->feeds = s->nfeeds;
    for (size_t i = 0; i < s->nfeeds; i++) {
        const struct feed_run *f = s->feeds[i];
        for (int o = 0; o < SERVICE_OUTCOMES; o++)
            out->fetches[o] += f->fetches[o];
        if (f->removed || !f->fetched)
            continue;
        if (f->last == SERVICE_ERROR)
            out->feeds_failing++;
        else
            out->feeds_ok++;
    }
    out->busy = sched_busy(s);
    memcpy(out->stored, m->articles, sizeof(out->stored));
    memcpy(out->duration_buckets, m->duration_buckets, sizeof(out->duration_buckets));
    out->duration_count = m->duration_count;
    out->duration_sum = m->duration_sum;
    out->store_ok = s->store_ok;
    memcpy(out->store_error, s->store_error, sizeof(out->store_error));
}

int
service_busy(const struct service *s)
{
    return sched_busy(s);
}

int
service_articles(struct service *s, long *n)
{
    /* counted by the worker after each write: no query on the loop thread */
    *n = s->articles;
    return s->articles_known ? 0 : -EAGAIN;
}

int
service_health(struct service *s, char *why, size_t size)
{
    /* no query on the loop thread: what the last store operation of a job
     * said (a lock held elsewhere is no failure). A store that fails leaves
     * the output served from the cache: degraded, not down (SPEC §10) */
    if (!s->store_ok) {
        if (why != NULL)
            snprintf(why, size, "%s", s->store_error[0] ? s->store_error : "not usable");
        return 1;
    }
    /* a full disk may still take a claim's few bytes, and reads work:
     * degraded until a fetch's articles or state are written again */
    if (s->write_failed) {
        if (why != NULL)
            snprintf(why, size, "%s", s->write_error);
        return 1;
    }
    return 0;
}

int
service_loaded(const struct service *s)
{
    return s->loaded;
}

struct store *
service_store(struct service *s)
{
    return s->rstore;
}

int64_t
service_generation(const struct service *s)
{
    return s->generation;
}

/* ---- watchers and waiters ---- */

int
service_watch(struct service *s, service_watch_fn fn, void *arg)
{
    for (size_t i = 0; i < SERVICE_WATCHERS; i++)
        if (s->watchers[i].fn == NULL) {
            s->watchers[i].fn = fn;
            s->watchers[i].arg = arg;
            return 0;
        }
    return -ENOSPC;
}

void
service_unwatch(struct service *s, service_watch_fn fn, void *arg)
{
    for (size_t i = 0; i < SERVICE_WATCHERS; i++)
        if (s->watchers[i].fn == fn && s->watchers[i].arg == arg)
            s->watchers[i].fn = NULL;
}

void
service_notify(struct service *s, enum service_event ev)
{
    /* a watcher may unwatch (itself or another) meanwhile: slots only empty */
    for (size_t i = 0; i < SERVICE_WATCHERS; i++)
        if (s->watchers[i].fn != NULL)
            s->watchers[i].fn(s->watchers[i].arg, ev);
}

int
service_refresh(struct service *s, const char *feed, struct service_wait *w,
                service_wait_fn done, void *arg)
{
    struct feed_run *f = service_feed(s, feed);
    if (f == NULL)
        return -ENOENT;
    if (w != NULL) {
        w->next = NULL;
        w->done = done;
        w->arg = arg;
    }
    return sched_refresh(s, f, w);
}

void
service_refresh_cancel(struct service *s, struct service_wait *w)
{
    for (size_t i = 0; i < s->nfeeds; i++)
        for (struct service_wait **pp = &s->feeds[i]->waiters; *pp != NULL; pp = &(*pp)->next)
            if (*pp == w) {
                *pp = w->next;
                w->next = NULL;
                return;
            }
}

/* Call the waiters of a finished fetch with a copy of the feed's state.
 * They may do anything (a control client goes on with its next request, a
 * reload), so f is not touched once the first one runs. */
static void
tell_waiters(struct service_wait *w, struct service_feed *state)
{
    while (w != NULL) {
        struct service_wait *next = w->next;
        w->next = NULL;
        w->done(w->arg, state);
        w = next;
    }
}

void
service_observe_lags(struct feed_run *f, const int64_t *lags, size_t n)
{
    for (size_t i = 0; lags != NULL && i < n; i++) {
        for (int b = 0; b < SERVICE_LAG_BUCKETS; b++)
            if ((double)lags[i] <= service_lag_bounds[b])
                f->lag_buckets[b]++;
        f->lag_count++;
        f->lag_sum += (double)lags[i];
    }
}

void
service_after_fetch(struct service *s, struct feed_run *f)
{
    service_feed_release(s, f); /* dropped by a reload: goes now */
    service_notify(s, SERVICE_FETCHED);
}

void
service_answer_waiters(struct service *s, struct feed_run *f, int64_t done)
{
    struct service_wait *answered = NULL, **tail = &answered;
    for (struct service_wait **pp = &f->waiters; *pp != NULL;) {
        struct service_wait *w = *pp;
        if (done == INT64_MAX || (w->after != -1 && w->after < done)) {
            *pp = w->next;
            w->next = NULL;
            *tail = w;
            tail = &w->next;
        } else {
            pp = &w->next;
        }
    }
    if (answered == NULL) {
        service_feed_release(s, f);
        return;
    }
    struct service_feed state;
    int copied = feed_copy(f, &state) == 0;
    if (!copied) /* no memory: the numbers, without the strings */
        state = (struct service_feed){.name = (char *)"", .last = f->last, .http = f->http};
    service_feed_release(s, f); /* dropped by a reload: goes now */
    tell_waiters(answered, &state);
    if (copied)
        feed_copy_clear(&state);
}

static void
on_prune_timer(uv_timer_t *t)
{
    struct service *s = t->data;
    if (!s->stopping && service_prune(s, NULL, NULL) < 0)
        log_warnx("event=prune error=\"out of memory\"");
}

/* ---- lifecycle ---- */

void
service_free(struct service *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nfeeds; i++)
        feed_free(s->feeds[i]);
    free(s->feeds);
    websub_free(s);
    hub_free(s);
    cluster_free(s);
    store_close(s->wstore);
    store_close(s->rstore);
    service_watchlists_free(s->watchlists, s->nwatchlists);
    service_tickers_unref(s->tickers);
    service_keymaker_unref(s->keymaker);
    top_free(s->top, s->ntop);
    config_free(s->cfg);
    free(s->cfg_path);
    free(s);
}

/* Open a connection to the configured database with its tracking params. */
static int
open_store(const struct config *cfg, struct store **out, char *err, size_t errsize)
{
    int rc = store_open(cfg->daemon.database, out, err, errsize);
    if (rc == 0 && cfg->daemon.ntracking_params > 0 &&
        (rc = store_set_tracking_params(*out, (const char *const *)cfg->daemon.tracking_params,
                                        cfg->daemon.ntracking_params)) < 0)
        snprintf(err, errsize, "%s: tracking_params: %s", cfg->daemon.database, strerror(-rc));
    return rc;
}

int
service_new(uv_loop_t *loop, struct config *cfg, const char *cfg_path, struct service **out,
            char *err, size_t errsize)
{
    struct service *s = calloc(1, sizeof(*s));
    int rc;
    *out = NULL;
    if (s == NULL) {
        config_free(cfg);
        snprintf(err, errsize, "out of memory");
        return -ENOMEM;
    }
    s->loop = loop;
    s->generation = 1;
    s->cfg = cfg;
    s->metrics.started = (int64_t)time(NULL);
    if ((cfg_path != NULL && (s->cfg_path = strdup(cfg_path)) == NULL) ||
        (s->feeds = calloc(cfg->nfeeds + 1, sizeof(*s->feeds))) == NULL) {
        snprintf(err, errsize, "out of memory");
        rc = -ENOMEM;
        goto fail;
    }
    make_markdown_dir(cfg);
    /* Before the loop runs: the writer creates or migrates the schema, the
     * reader then never waits for a lock (its statements fail at once with
     * -EBUSY instead; the loop thread never stalls behind the worker). */
    if ((rc = open_store(cfg, &s->wstore, err, errsize)) < 0 ||
        (rc = open_store(cfg, &s->rstore, err, errsize)) < 0)
        goto fail;
    s->keymaker = keymaker_new(s->wstore); /* the writer's thread is not started */
    if ((rc = store_set_busy_timeout(s->rstore, 0)) < 0) {
        snprintf(err, errsize, "%s: busy timeout: %s", cfg->daemon.database, strerror(-rc));
        goto fail;
    }
    s->store_ok = 1;
    if ((rc = service_tickers_new(cfg, &s->tickers, err, errsize)) < 0)
        goto fail;
    if ((rc = service_watchlists_new(cfg, s->tickers, &s->watchlists, &s->nwatchlists)) < 0) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    /* registered in the store by the worker, first thing once started */
    for (size_t i = 0; i < cfg->nfeeds; i++) {
        struct feed_run *f;
        if ((rc = feed_new(cfg, &cfg->feeds[i], s->tickers, &f, err, errsize)) < 0)
            goto fail;
        s->feeds[s->nfeeds++] = f;
    }
    *out = s;
    return 0;
fail:
    service_free(s);
    return rc;
}

int
service_start(struct service *s, char *err, size_t errsize)
{
    const struct config *c = s->cfg;
    int rc;
    if ((rc = fetch_new(s->loop, c->daemon.concurrency, c->daemon.per_host, &s->fetch)) < 0) {
        snprintf(err, errsize, "fetch engine: %s", strerror(-rc));
        return rc;
    }
    /* the WAL checkpointed beside the writer's commits, not inside them
     * (a thread: started here with the others, not by service_new) */
    (void)store_set_cache(s->wstore, STORE_WRITER_CACHE_KIB); /* else SQLite's 2 MB: slower */
    if (store_checkpoint_async(s->wstore) < 0)
        log_warnx("event=checkpoints outcome=in_commits error=%s",
                  LOG_QUOTE(store_errmsg(s->wstore)));
    if ((rc = sched_init(s)) < 0) {
        snprintf(err, errsize, "scheduler: %s", uv_strerror(rc));
        return rc;
    }
    if ((rc = cluster_init(s)) < 0) {
        snprintf(err, errsize, "cluster: %s", uv_strerror(rc));
        return rc;
    }
    if ((rc = websub_init(s)) < 0) {
        snprintf(err, errsize, "websub: %s", uv_strerror(rc));
        return rc;
    }
    if ((rc = hub_init(s)) < 0) {
        snprintf(err, errsize, "websub hub: %s", strerror(-rc));
        return rc;
    }
    if ((rc = uv_timer_init(s->loop, &s->prune)) < 0) {
        snprintf(err, errsize, "retention timer: %s", uv_strerror(rc));
        return rc;
    }
    s->prune.data = s;
    s->prune_open = 1;
    s->loaded = service_register_next(s) == INT64_MAX; /* no feed: nothing to load */
    if ((rc = uv_timer_start(&s->prune, on_prune_timer, PRUNE_FIRST_MS, PRUNE_EVERY_MS)) < 0) {
        snprintf(err, errsize, "retention timer: %s", uv_strerror(rc));
        return rc;
    }
    sched_rearm(s);
    return 0;
}

void
service_part_done(struct service *s)
{
    if (--s->parts > 0 || s->stopped == NULL)
        return;
    void (*done)(void *) = s->stopped;
    s->stopped = NULL;
    done(s->stopped_arg);
}

static void
on_prune_closed(uv_handle_t *h)
{
    struct service *s = h->data;
    s->prune_open = 0;
    service_part_done(s);
}

static void
on_fetch_closed(void *arg)
{
    struct service *s = arg;
    /* every fetch callback has fired: let the last jobs finish */
    s->fetch = NULL;
    if (s->sched != NULL)
        sched_stop(s); /* calls service_part_done once closed */
    else
        service_part_done(s);
}

void
service_stop(struct service *s, void (*done)(void *arg), void *arg)
{
    s->stopping = 1;
    s->stopped = done;
    s->stopped_arg = arg;
    s->parts = 1; /* until every part below is under way */
    if (s->prune_open) {
        s->parts++;
        uv_timer_stop(&s->prune);
        uv_close((uv_handle_t *)&s->prune, on_prune_closed);
    }
    if (s->cluster != NULL) {
        s->parts++;
        cluster_stop(s);
    }
    if (s->websub != NULL) {
        s->parts++;
        websub_stop(s);
    }
    s->parts += hub_stop(s);
    if (s->fetch != NULL) {
        s->parts++;
        fetch_close(s->fetch, on_fetch_closed, s);
    } else if (s->sched != NULL) {
        s->parts++;
        sched_stop(s);
    }
    service_part_done(s);
}
