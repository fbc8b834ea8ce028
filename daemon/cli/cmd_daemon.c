/* daemon/cli/cmd_daemon.c — `finfeed daemon`: the loop and what runs on it.
 * Starts the service, then, once it has loaded its feeds' state from the
 * store (in its worker), the control socket and the HTTP server; SIGHUP
 * reloads, SIGTERM/SIGINT stop within seconds with the database closed
 * cleanly; sd_notify READY, STATUS (from the service's counters, on each
 * change it reports) and WATCHDOG (only while the store answers). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "daemon/cli/cli.h"
#include "daemon/config/config.h"
#include "daemon/ctl/ctl.h"
#include "daemon/http/http.h"
#include "daemon/log/log.h"
#include "daemon/service/service.h"
#include "store/store.h"

struct runner {
    uv_loop_t loop;
    uv_signal_t sig_hup, sig_term, sig_int;
    uv_timer_t watchdog;
    int handles;             /* of the above, initialised */
    uint64_t watchdog_usec;
    struct service *svc;
    struct ctl *ctl;
    struct http *http;
    char *control, *listen, *database; /* for the servers, started once loaded */
    char *node;                        /* [daemon] node, for the start line */
    int serving;             /* the servers are started */
    int stopping;
    int parts;               /* subsystems still shutting down */
    char status[128];        /* the last STATUS= line sent */
    uint64_t status_at;      /* uv_now() of the last STATUS= computation */
    int exit_code;
};

/* STATUS=: feeds, how many fail, articles; at most once a second while
 * fetches run (it walks every feed, and this runs at each stored
 * document: a million steps a refresh of 1,000 feeds), and only when it
 * changed. */
static void
send_status(struct runner *r)
{
    struct service_stats st;
    long articles = 0;
    char line[sizeof(r->status)];
    uint64_t t = uv_now(&r->loop);
    if (r->status_at != 0 && t - r->status_at < 1000 && service_busy(r->svc))
        return;
    service_stats(r->svc, &st);
    r->status_at = t;
    (void)service_articles(r->svc, &articles); /* 0 when the store does not answer */
    snprintf(line, sizeof(line), "%zu feeds (%zu ok, %zu failing), %ld articles", st.feeds,
             st.feeds_ok, st.feeds_failing, articles);
    if (strcmp(line, r->status) == 0)
        return;
    memcpy(r->status, line, sizeof(line));
    sd_notifyf(0, "STATUS=%s", line);
}

static int start_servers(struct runner *r, char *err, size_t errsize);
static void stop(struct runner *r, const char *why);

static void
on_service_event(void *arg, enum service_event ev)
{
    struct runner *r = arg;
    char err[1024];
    if (!r->serving) { /* the servers wait for the feeds' state */
        if (r->stopping || !service_loaded(r->svc))
            return;
        if (start_servers(r, err, sizeof(err)) < 0) {
            log_warnx("event=start outcome=failed error=%s", LOG_QUOTE(err));
            fprintf(stderr, "finfeed: %s\n", err);
            r->exit_code = 1;
            stop(r, "start failed");
        }
        return;
    }
    if (ev == SERVICE_RELOADED) { /* a reload through the control socket too */
        sd_notify(0, "RELOADING=1");
        sd_notify(0, "READY=1");
    }
    send_status(r);
}

/* ---- shutdown ---- */

static void
part_done(struct runner *r)
{
    if (--r->parts > 0)
        return;
    uv_signal_t *sigs[] = {&r->sig_hup, &r->sig_term, &r->sig_int};
    for (int i = 0; i < 3 && i < r->handles; i++)
        uv_close((uv_handle_t *)sigs[i], NULL);
    if (r->handles > 3)
        uv_close((uv_handle_t *)&r->watchdog, NULL);
}

static void
on_part_closed(void *arg)
{
    part_done(arg);
}

static void
stop(struct runner *r, const char *why)
{
    if (r->stopping)
        return;
    r->stopping = 1;
    log_info("event=stop reason=%s", why);
    sd_notify(0, "STOPPING=1");
    if (r->handles > 3)
        uv_timer_stop(&r->watchdog);
    r->parts = 1; /* until every part below is under way */
    if (r->ctl != NULL) {
        r->parts++;
        ctl_stop(r->ctl, on_part_closed, r);
        r->ctl = NULL;
    }
    if (r->http != NULL) {
        r->parts++;
        http_stop(r->http, on_part_closed, r);
        r->http = NULL;
    }
    if (r->svc != NULL) {
        r->parts++;
        service_unwatch(r->svc, on_service_event, r);
        service_stop(r->svc, on_part_closed, r);
    }
    part_done(r);
}

static void
on_uv_signal(uv_signal_t *s, int signum)
{
    struct runner *r = s->data;
    if (signum == SIGHUP) {
        char err[512];
        if (!r->stopping)
            service_reload(r->svc, err, sizeof(err)); /* logs either way */
        return;
    }
    stop(r, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void
on_watchdog(uv_timer_t *t)
{
    struct runner *r = t->data;
    /* the loop answers: a database outage is no reason to restart (and lose
     * the cached output); the nodes reconnect on their own */
    if (service_health(r->svc, NULL, 0) >= 0)
        sd_notify(0, "WATCHDOG=1");
}

/* ---- start ---- */

static int
init_handles(struct runner *r, char *err, size_t errsize)
{
    uv_signal_t *sigs[] = {&r->sig_hup, &r->sig_term, &r->sig_int};
    const int signums[] = {SIGHUP, SIGTERM, SIGINT};
    int rc;
    for (int i = 0; i < 3; i++) {
        if ((rc = uv_signal_init(&r->loop, sigs[i])) < 0)
            goto fail;
        r->handles++;
        sigs[i]->data = r;
        if ((rc = uv_signal_start(sigs[i], on_uv_signal, signums[i])) < 0)
            goto fail;
    }
    if ((rc = uv_timer_init(&r->loop, &r->watchdog)) < 0)
        goto fail;
    r->handles++;
    r->watchdog.data = r;
    return 0;
fail:
    snprintf(err, errsize, "signal and timer handles: %s", uv_strerror(rc));
    return rc;
}

/* The control socket and the HTTP server, READY=1: once the service has
 * loaded its feeds, so that the first answers tell their saved state. */
static int
start_servers(struct runner *r, char *err, size_t errsize)
{
    struct service_stats st;
    int rc;
    r->serving = 1;
    if ((rc = ctl_start(&r->loop, r->svc, r->control, &r->ctl, err, errsize)) < 0 ||
        (r->listen != NULL &&
         (rc = http_start(&r->loop, r->svc, r->listen, &r->http, err, errsize)) < 0))
        return rc;
    char where[300] = "";
    if (r->listen != NULL)
        snprintf(where, sizeof(where), " http=http://%s/feed.atom", r->listen);
    char db[512];
    service_stats(r->svc, &st);
    char node[2 * CONFIG_NODE_MAX + 8];
    log_info("event=start version=%s node=%s feeds=%zu database=%s control=%s%s", FINFEED_VERSION,
             log_q(r->node, node, sizeof(node)), st.feeds,
             store_where_shown(r->database, db, sizeof(db)), r->control, where);
    sd_notify(0, "READY=1");
    send_status(r);
    return 0;
}

static int
start(struct runner *r, struct config *cfg, const char *cfg_path, char *err, size_t errsize)
{
    /* what the server parts need of cfg, before the service takes it */
    r->control = strdup(cfg->daemon.control_socket);
    r->listen = cfg->daemon.listen ? strdup(cfg->daemon.listen) : NULL;
    r->database = strdup(cfg->daemon.database);
    r->node = strdup(cfg->daemon.node);
    int rc;
    if (r->control == NULL || r->database == NULL || r->node == NULL || (cfg->daemon.listen && r->listen == NULL)) {
        config_free(cfg);
        snprintf(err, errsize, "out of memory");
        return -ENOMEM;
    }
    if ((rc = init_handles(r, err, errsize)) < 0) {
        config_free(cfg);
        return rc;
    }
    if ((rc = service_new(&r->loop, cfg, cfg_path, &r->svc, err, errsize)) < 0 ||
        (rc = service_start(r->svc, err, errsize)) < 0)
        return rc;
    if ((rc = service_watch(r->svc, on_service_event, r)) < 0) {
        snprintf(err, errsize, "%s", strerror(-rc));
        return rc;
    }
    if (sd_watchdog_enabled(0, &r->watchdog_usec) > 0 && r->watchdog_usec > 0 &&
        (rc = uv_timer_start(&r->watchdog, on_watchdog, r->watchdog_usec / 2000,
                             r->watchdog_usec / 2000)) < 0) {
        snprintf(err, errsize, "watchdog: %s", uv_strerror(rc));
        return rc;
    }
    if (service_loaded(r->svc)) /* else on its event */
        return start_servers(r, err, errsize);
    return 0;
}

int
cmd_daemon(const struct cli_command *cmd, int argc, char **argv)
{
    struct runner *r = calloc(1, sizeof(*r));
    struct config *cfg = NULL;
    const char *cfg_path = NULL, *v;
    char err[1024];
    int verbose = 0, m, rc;
    if (r == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(cmd, stdout);
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
            cli_fail(cmd, "unknown argument '%s'", argv[i]);
            free(r);
            return 2;
        }
    }
    log_init(verbose);
    if (cfg_path == NULL)
        cfg_path = config_default_path();
    if (config_load(cfg_path, &cfg, err, sizeof(err)) < 0) {
        log_warnx("event=start outcome=refused error=%s", LOG_QUOTE(err));
        fprintf(stderr, "finfeed: %s\n", err);
        free(r);
        return 2;
    }
    if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
        fprintf(stderr, "finfeed: libcurl: %s\n", curl_easy_strerror((CURLcode)rc));
        config_free(cfg);
        free(r);
        return 1;
    }
    if ((rc = uv_loop_init(&r->loop)) < 0) {
        fprintf(stderr, "finfeed: libuv: %s\n", uv_strerror(rc));
        config_free(cfg);
        curl_global_cleanup();
        free(r);
        return 1;
    }
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) { /* a reply to a client gone: EPIPE */
        fprintf(stderr, "finfeed: SIGPIPE: %s\n", strerror(errno));
        config_free(cfg);
        uv_loop_close(&r->loop);
        curl_global_cleanup();
        free(r);
        return 1;
    }
    if (start(r, cfg, cfg_path, err, sizeof(err)) < 0) {
        log_warnx("event=start outcome=failed error=%s", LOG_QUOTE(err));
        fprintf(stderr, "finfeed: %s\n", err);
        r->exit_code = 1;
        stop(r, "start failed");
    }
    uv_run(&r->loop, UV_RUN_DEFAULT);
    service_free(r->svc);
    if (uv_loop_close(&r->loop) != 0) {
        uv_run(&r->loop, UV_RUN_DEFAULT);
        if ((rc = uv_loop_close(&r->loop)) != 0)
            log_warnx("event=stop error=\"loop: %s\"", uv_strerror(rc));
    }
    free(r->control);
    free(r->listen);
    free(r->database);
    free(r->node);
    curl_global_cleanup();
    if (r->exit_code == 0)
        log_info("event=stopped");
    rc = r->exit_code;
    free(r);
    return rc;
}
