/* daemon/service/service.c — `finfeed daemon`: the loop that owns everything. Opens
 * the store, builds the feeds from the configuration (with their state from
 * the store), starts the fetch engine, scheduler, control socket and HTTP
 * server; SIGHUP/reload re-read the configuration; SIGTERM/SIGINT stop
 * within seconds with the database closed cleanly; sd_notify READY, STATUS
 * and WATCHDOG (only while the store answers). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "daemon/cli/cli.h"
#include "daemon/cli/cmd.h"
#include "daemon/ctl/ctl.h"
#include "daemon/service/service_int.h"
#include "daemon/http/http.h"
#include "daemon/log/log.h"
#include "daemon/service/sched.h"
#include "fetch/fetch.h"

#define PRUNE_FIRST_MS (60 * 1000)        /* a minute after start */
#define PRUNE_EVERY_MS (6 * 3600 * 1000)  /* then four times a day */

const double fetch_bucket_bounds[FETCH_BUCKETS] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

static const char daemon_usage[] =
    "usage: finfeed daemon [-c FILE] [-v]\n"
    "\n"
    "Run the daemon in the foreground (systemd runs exactly this): fetch the configured\n"
    "feeds on schedule, store and deduplicate their articles, serve the cleaned feed over\n"
    "HTTP and answer the control socket (finfeed refresh, status, reload).\n"
    "  -c FILE   configuration (default $FINFEED_CONFIG, /etc/finfeed/finfeed.conf)\n"
    "  -v        debug logging\n";

/* Everything of a running daemon that only this file touches. */
struct runner {
    struct daemon d;
    uv_loop_t loop;
    uv_signal_t sig_hup, sig_term, sig_int;
    uv_timer_t watchdog;
    uv_timer_t prune;        /* retention, every PRUNE_EVERY */
    uint64_t watchdog_usec;
    struct config **retired; /* replaced configurations still borrowed by feeds */
    size_t nretired;
    int parts;               /* subsystems still shutting down */
    char status[128];        /* the last STATUS= line sent */
    uint64_t status_at;      /* uv_now() of the last STATUS= computation */
    int exit_code;
};

const char *
feed_outcome_name(enum feed_outcome o)
{
    static const char *const names[OUT_N] = {"ok", "not-modified", "error", "gone"};
    return o < OUT_N ? names[o] : "error";
}

const char *
feed_state(const struct feed_run *f, int64_t now, int64_t stale_after)
{
    if (f->last == OUT_GONE)
        return "gone";
    if (!f->enabled)
        return "disabled";
    if (!f->fetched && f->last_fetch == 0)
        return "new";
    if (f->last == OUT_ERROR)
        return "error";
    if (stale_after > 0 && f->newest > 0 && now - f->newest > stale_after)
        return "stale";
    return "ok";
}

struct feed_run *
daemon_feed(struct daemon *d, const char *name)
{
    for (size_t i = 0; i < d->nfeeds; i++)
        if (!d->feeds[i]->removed && strcmp(d->feeds[i]->name, name) == 0)
            return d->feeds[i];
    return NULL;
}

static void
feed_free(struct feed_run *f)
{
    if (f == NULL)
        return;
    ingest_feed_close(&f->ing);
    free(f->name);
    free(f->url);
    free(f->etag);
    free(f->last_modified);
    free(f);
}

/* A feed_run for configured feed `cf`, with its state from the store. */
static int
feed_new(struct daemon *d, const struct config_feed *cf, struct feed_run **out, char *err,
         size_t errsize)
{
    struct feed_run *f = calloc(1, sizeof(*f));
    struct store_feed_state st;
    int rc;
    if (f == NULL || (f->name = strdup(cf->name)) == NULL || (f->url = strdup(cf->url)) == NULL) {
        feed_free(f);
        return -ENOMEM;
    }
    f->cf = cf;
    if ((rc = ingest_feed_init(&f->ing, d->rstore, d->cfg, cf, cf->name, err, errsize)) < 0) {
        feed_free(f);
        return rc;
    }
    f->id = f->ing.feed_id;
    f->enabled = cf->enabled;
    if (store_feed_state_get(d->rstore, f->id, &st) == 0) {
        if (st.url != NULL && strcmp(st.url, f->url) != 0) { /* moved by a 301/308 */
            free(f->url);
            f->url = st.url, st.url = NULL;
        }
        f->etag = st.etag, st.etag = NULL;
        f->last_modified = st.last_modified, st.last_modified = NULL;
        f->last_fetch = st.last_fetch;
        f->next_fetch = st.next_fetch;
        f->newest = st.newest;
        f->http = st.http;
        f->errors = (int)st.errors;
        if (st.error)
            snprintf(f->error, sizeof(f->error), "%s", st.error);
        if (st.status != NULL) {
            for (int o = 0; o < OUT_N; o++)
                if (strcmp(st.status, feed_outcome_name((enum feed_outcome)o)) == 0)
                    f->last = (enum feed_outcome)o;
        }
        if (!st.enabled) /* answered 410 before: stays off */
            f->enabled = 0, f->last = OUT_GONE;
        store_feed_state_clear(&st);
    }
    store_count(d->rstore, f->id, &f->articles);
    *out = f;
    return 0;
}

static void
set_status(struct daemon *d)
{
    struct runner *rn = (struct runner *)d;
    /* at most once a second while fetches run (it counts the articles) */
    uint64_t t = uv_now(d->loop);
    if (rn->status_at != 0 && t - rn->status_at < 1000 && sched_busy(d))
        return;
    rn->status_at = t;
    size_t errors = 0, ok = 0;
    for (size_t i = 0; i < d->nfeeds; i++) {
        if (d->feeds[i]->removed)
            continue;
        if (d->feeds[i]->last == OUT_ERROR && d->feeds[i]->fetched)
            errors++;
        else if (d->feeds[i]->fetched)
            ok++;
    }
    long articles = 0;
    store_count(d->rstore, 0, &articles);
    struct runner *r = (struct runner *)d;
    char line[sizeof(r->status)];
    snprintf(line, sizeof(line), "%zu feeds (%zu ok, %zu failing), %ld articles", d->nfeeds, ok,
             errors, articles);
    if (strcmp(line, r->status) == 0)
        return; /* only changes are worth a message */
    memcpy(r->status, line, sizeof(line));
    sd_notifyf(0, "STATUS=%s", line);
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

int
daemon_reload(struct daemon *d, char *err, size_t errsize)
{
    struct runner *r = (struct runner *)d;
    struct config *cfg = NULL;
    int rc = config_load(d->cfg_path, &cfg, err, errsize);
    if (rc < 0) {
        log_warnx("event=reload outcome=refused error=\"%s\"", err);
        return rc;
    }
    sd_notify(0, "RELOADING=1");
    make_markdown_dir(cfg);
    struct feed_run **feeds = calloc(cfg->nfeeds + d->nfeeds + 1, sizeof(*feeds));
    struct config **ret = realloc(r->retired, (r->nretired + 1) * sizeof(*ret));
    if (feeds == NULL || ret == NULL) {
        free(feeds);
        if (ret)
            r->retired = ret;
        config_free(cfg);
        snprintf(err, errsize, "out of memory");
        return -ENOMEM;
    }
    r->retired = ret;
    size_t n = 0, added = 0, kept = 0;
    struct config *old = d->cfg;
    d->cfg = cfg;
    for (size_t i = 0; i < cfg->nfeeds; i++) {
        const struct config_feed *cf = &cfg->feeds[i];
        struct feed_run *f = daemon_feed(d, cf->name);
        if (f != NULL) {
            kept++;
            int moved = strcmp(f->cf->url, cf->url) != 0;
            f->cf = cf;
            f->enabled = cf->enabled && (f->last != OUT_GONE || moved);
            if (moved) {
                free(f->url);
                f->url = strdup(cf->url);
                free(f->etag);
                free(f->last_modified);
                f->etag = f->last_modified = NULL;
                f->next_fetch = 0;
                if (f->last == OUT_GONE)
                    f->last = OUT_OK, f->fetched = 0;
            }
            if (!f->in_flight) { /* a running ingest still reads the old options */
                struct ingest_feed ing;
                char why[512];
                if (ingest_feed_init(&ing, d->rstore, cfg, cf, cf->name, why, sizeof(why)) == 0) {
                    ingest_feed_close(&f->ing);
                    f->ing = ing;
                } else {
                    log_warnx("event=reload feed=%s error=\"%s\"", cf->name, why);
                }
            }
            feeds[n++] = f;
        } else {
            char why[512];
            if (feed_new(d, cf, &f, why, sizeof(why)) < 0) {
                log_warnx("event=reload feed=%s error=\"%s\"", cf->name, why);
                continue;
            }
            feeds[n++] = f;
            added++;
        }
    }
    size_t removed = 0;
    for (size_t i = 0; i < d->nfeeds; i++) {
        struct feed_run *f = d->feeds[i];
        int still = 0;
        for (size_t k = 0; k < n; k++)
            still |= feeds[k] == f;
        if (still)
            continue;
        removed++;
        f->removed = 1;
        f->enabled = 0;
        if (f->in_flight)
            feeds[n++] = f; /* freed when its fetch finishes */
        else
            feed_free(f);
    }
    free(d->feeds);
    d->feeds = feeds;
    d->nfeeds = n;
    r->retired[r->nretired++] = old;
    if (d->http != NULL)
        http_invalidate(d->http);
    sched_rearm(d);
    sd_notify(0, "READY=1");
    set_status(d);
    log_info("event=reload outcome=ok feeds=%zu added=%zu removed=%zu kept=%zu", cfg->nfeeds,
             added, removed, kept);
    return 0;
}

/* Called by the scheduler when a feed's fetch has finished. */
void
daemon_after_fetch(struct daemon *d, struct feed_run *f)
{
    if (f->removed) {
        for (size_t i = 0; i < d->nfeeds; i++)
            if (d->feeds[i] == f) {
                memmove(&d->feeds[i], &d->feeds[i + 1], (d->nfeeds - i - 1) * sizeof(f));
                d->nfeeds--;
                break;
            }
        feed_free(f);
        return;
    }
    if (f->cf != NULL && f->ing.defaults.categories != (const char *const *)f->cf->categories) {
        /* reloaded while fetching: take the new options now */
        struct ingest_feed ing;
        char why[512];
        if (ingest_feed_init(&ing, d->rstore, d->cfg, f->cf, f->name, why, sizeof(why)) == 0) {
            ingest_feed_close(&f->ing);
            f->ing = ing;
        }
    }
    set_status(d);
}

/* ---- signals, watchdog, shutdown ---- */

static void
part_done(struct runner *r)
{
    if (--r->parts > 0)
        return;
    uv_close((uv_handle_t *)&r->sig_hup, NULL);
    uv_close((uv_handle_t *)&r->sig_term, NULL);
    uv_close((uv_handle_t *)&r->sig_int, NULL);
    uv_close((uv_handle_t *)&r->watchdog, NULL);
    uv_close((uv_handle_t *)&r->prune, NULL);
}

static void
on_part_closed(void *arg)
{
    part_done(arg);
}

static void
on_sched_stopped(struct daemon *d)
{
    part_done((struct runner *)d);
}

static void
on_fetch_closed(void *arg)
{
    struct runner *r = arg;
    /* every fetch callback has fired: let the last jobs finish */
    sched_stop(&r->d, on_sched_stopped);
}

static void
stop(struct runner *r, const char *why)
{
    struct daemon *d = &r->d;
    if (d->stopping)
        return;
    d->stopping = 1;
    log_info("event=stop reason=%s", why);
    sd_notify(0, "STOPPING=1");
    uv_timer_stop(&r->watchdog);
    uv_timer_stop(&r->prune);
    r->parts = 1; /* the scheduler, after the fetch engine */
    if (d->ctl != NULL) {
        r->parts++;
        ctl_stop(d->ctl, on_part_closed, r);
        d->ctl = NULL;
    }
    if (d->http != NULL) {
        r->parts++;
        http_stop(d->http, on_part_closed, r);
        d->http = NULL;
    }
    fetch_close(d->fetch, on_fetch_closed, r);
}

static void
on_uv_signal(uv_signal_t *s, int signum)
{
    struct runner *r = s->data;
    if (signum == SIGHUP) {
        char err[512];
        if (!r->d.stopping)
            daemon_reload(&r->d, err, sizeof(err));
        return;
    }
    stop(r, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void
on_watchdog(uv_timer_t *t)
{
    struct runner *r = t->data;
    /* WATCHDOG=1 only while the store answers: a wedged database gets us restarted */
    if (store_generation(r->d.rstore) >= 0 && r->d.store_ok)
        sd_notify(0, "WATCHDOG=1");
}

/* Retention (SPEC §7): old articles go, their dedup keys stay. In the worker,
 * in order with the ingest jobs. */
struct prune_job {
    int64_t cutoff;
    long deleted;
    int rc;
    char err[256];
    void (*done)(void *arg, int rc, long deleted, const char *err);
    void *arg;
};

static void
prune_fn(struct daemon *d, void *arg)
{
    struct prune_job *j = arg;
    j->rc = store_prune(d->wstore, j->cutoff, &j->deleted);
    if (j->rc < 0)
        snprintf(j->err, sizeof(j->err), "%s", store_errmsg(d->wstore));
}

static void
prune_after(struct daemon *d, void *arg)
{
    struct prune_job *j = arg;
    (void)d;
    if (j->rc < 0)
        log_warnx("event=prune error=\"%s\"", j->err);
    else if (j->deleted > 0)
        log_info("event=prune deleted=%ld", j->deleted);
    if (j->done)
        j->done(j->arg, j->rc, j->deleted, j->err);
    free(j);
}

int
daemon_prune(struct daemon *d, void (*done)(void *arg, int rc, long deleted, const char *err),
             void *arg)
{
    struct prune_job *j;
    if (d->cfg->daemon.retention <= 0) {
        if (done)
            done(arg, 0, 0, "");
        return 0;
    }
    if ((j = calloc(1, sizeof(*j))) == NULL)
        return -ENOMEM;
    j->cutoff = (int64_t)time(NULL) - d->cfg->daemon.retention;
    j->done = done;
    j->arg = arg;
    if (sched_job(d, prune_fn, prune_after, j) < 0) {
        free(j);
        return -ENOMEM;
    }
    return 0;
}

static void
on_prune_timer(uv_timer_t *t)
{
    struct runner *r = t->data;
    if (!r->d.stopping)
        daemon_prune(&r->d, NULL, NULL);
}

/* ---- main ---- */

static int
start(struct runner *r, char *err, size_t errsize)
{
    struct daemon *d = &r->d;
    int rc;
    make_markdown_dir(d->cfg);
    if ((rc = store_open(d->cfg->daemon.database, &d->rstore, err, errsize)) < 0 ||
        (rc = store_open(d->cfg->daemon.database, &d->wstore, err, errsize)) < 0)
        return rc;
    if (d->cfg->daemon.ntracking_params > 0) {
        store_set_tracking_params(d->rstore, (const char *const *)d->cfg->daemon.tracking_params,
                                  d->cfg->daemon.ntracking_params);
        store_set_tracking_params(d->wstore, (const char *const *)d->cfg->daemon.tracking_params,
                                  d->cfg->daemon.ntracking_params);
    }
    d->store_ok = 1;
    d->feeds = calloc(d->cfg->nfeeds + 1, sizeof(*d->feeds));
    if (d->feeds == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < d->cfg->nfeeds; i++) {
        struct feed_run *f;
        if ((rc = feed_new(d, &d->cfg->feeds[i], &f, err, errsize)) < 0)
            return rc;
        d->feeds[d->nfeeds++] = f;
    }
    if ((rc = fetch_new(d->loop, d->cfg->daemon.concurrency, d->cfg->daemon.per_host,
                        &d->fetch)) < 0) {
        snprintf(err, errsize, "fetch engine: %s", strerror(-rc));
        return rc;
    }
    if ((rc = sched_init(d)) < 0) {
        snprintf(err, errsize, "scheduler: %s", uv_strerror(rc));
        return rc;
    }
    if ((rc = ctl_start(d, d->cfg->daemon.control_socket, &d->ctl, err, errsize)) < 0)
        return rc;
    if (d->cfg->daemon.listen != NULL &&
        (rc = http_start(d, d->cfg->daemon.listen, &d->http, err, errsize)) < 0)
        return rc;
    return 0;
}

int
cmd_daemon(int argc, char **argv)
{
    struct runner *r = calloc(1, sizeof(*r));
    struct daemon *d = &r->d;
    const char *cfg_path = NULL, *v;
    char err[1024];
    int verbose = 0, m, rc;
    if (r == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(daemon_usage, stdout);
            free(r);
            return 0;
        } else if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if ((m = cli_config_option(argc, argv, &i, &v)) != 0) {
            if (m < 0) {
                free(r);
                return 2;
            }
            cfg_path = v;
        } else {
            fprintf(stderr, "finfeed daemon: unknown argument '%s'\n%s", argv[i], daemon_usage);
            free(r);
            return 2;
        }
    }
    log_init(verbose);
    if (cfg_path == NULL)
        cfg_path = config_default_path();
    if (config_load(cfg_path, &d->cfg, err, sizeof(err)) < 0) {
        log_warnx("event=start outcome=refused error=\"%s\"", err);
        fprintf(stderr, "finfeed: %s\n", err);
        free(r);
        return 2;
    }
    d->cfg_path = cfg_path ? strdup(cfg_path) : NULL;
    d->metrics.started = (int64_t)time(NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    uv_loop_init(&r->loop);
    d->loop = &r->loop;
    r->exit_code = 0;

    uv_signal_init(d->loop, &r->sig_hup);
    uv_signal_init(d->loop, &r->sig_term);
    uv_signal_init(d->loop, &r->sig_int);
    uv_timer_init(d->loop, &r->watchdog);
    uv_timer_init(d->loop, &r->prune);
    r->sig_hup.data = r->sig_term.data = r->sig_int.data = r->watchdog.data = r->prune.data = r;
    uv_signal_start(&r->sig_hup, on_uv_signal, SIGHUP);
    uv_signal_start(&r->sig_term, on_uv_signal, SIGTERM);
    uv_signal_start(&r->sig_int, on_uv_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);

    if ((rc = start(r, err, sizeof(err))) < 0) {
        log_warnx("event=start outcome=failed error=\"%s\"", err);
        fprintf(stderr, "finfeed: %s\n", err);
        r->exit_code = 1;
        if (d->fetch != NULL && d->sched != NULL) {
            stop(r, "start failed");
        } else {
            if (d->ctl) {
                ctl_stop(d->ctl, NULL, NULL);
                d->ctl = NULL;
            }
            if (d->fetch != NULL)
                fetch_close(d->fetch, NULL, NULL);
            if (d->sched != NULL)
                sched_stop(d, NULL);
            r->parts = 1;
            part_done(r);
        }
    } else {
        if (sd_watchdog_enabled(0, &r->watchdog_usec) > 0 && r->watchdog_usec > 0)
            uv_timer_start(&r->watchdog, on_watchdog, r->watchdog_usec / 2000,
                           r->watchdog_usec / 2000);
        char where[300] = "";
        if (d->http != NULL)
            snprintf(where, sizeof(where), " http=http://%s/feed.atom", d->cfg->daemon.listen);
        log_info("event=start version=%s feeds=%zu database=%s control=%s%s", FINFEED_VERSION,
                 d->nfeeds, d->cfg->daemon.database, d->cfg->daemon.control_socket, where);
        sd_notify(0, "READY=1");
        set_status(d);
        sched_rearm(d);
        uv_timer_start(&r->prune, on_prune_timer, PRUNE_FIRST_MS, PRUNE_EVERY_MS);
    }
    uv_run(d->loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < d->nfeeds; i++)
        feed_free(d->feeds[i]);
    free(d->feeds);
    store_close(d->wstore);
    store_close(d->rstore);
    if (uv_loop_close(d->loop) != 0) {
        uv_run(d->loop, UV_RUN_DEFAULT);
        uv_loop_close(d->loop);
    }
    for (size_t i = 0; i < r->nretired; i++)
        config_free(r->retired[i]);
    free(r->retired);
    config_free(d->cfg);
    free(d->cfg_path);
    curl_global_cleanup();
    if (r->exit_code == 0)
        log_info("event=stopped");
    rc = r->exit_code;
    free(r);
    return rc;
}
