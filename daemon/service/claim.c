/* daemon/service/claim.c — the schedule every node shares (SPEC §10). The
 * store's feeds table says what is due; this node claims due feeds of its
 * own configuration in batches (a lease and a fencing token each), extends
 * the leases of its running fetches, finishes each claim with its token,
 * lists its feeds (the union of configurations), marks refreshed feeds due
 * and waits for whichever node fetches them, and hears the other nodes'
 * changes through the store's notifications (with a slow poll behind
 * them). The node completing a fetch makes the feed's next check (issue 13
 * §2) from the store's items of the feed, in the worker. Every query runs
 * in the worker (sched_job); on SQLite the same calls schedule the one
 * node. Loop thread only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/cadence/cadence.h"
#include "daemon/log/log.h"
#include "daemon/service/service_int.h"

#define NOTIFY_MIN_MS 250      /* at most one notification per node per 250 ms */
#define POLL_GEN_MS 30000      /* the slow poll behind the notifications */
#define CLAIM_POLL_MS 10000    /* look for due feeds at least this often */
#define CLAIM_HELD_MS 200      /* due feeds held back by per_host or max_rate:
                                * look again this soon (a fetch here ending
                                * looks at once) */
#define WAIT_POLL_MS 300       /* a refresh waiting on another node's fetch */
#define HEARTBEAT_S 60         /* list this node's feeds at least this often */
#define RELISTEN_MAX_S 30      /* backoff of a lost listening connection */

struct cluster {
    uv_timer_t lease_timer;  /* extends the leases of running claims */
    uv_timer_t notify_timer; /* coalesces NOTIFY */
    uv_timer_t gen_timer;    /* slow poll of the store generation */
    uv_timer_t wait_timer;   /* refresh waiters */
    uv_timer_t relisten_timer; /* a lost listening connection made anew */
    uv_poll_t poll;          /* the listening connection's socket */
    int handles;             /* initialised and not closed yet */
    int poll_open;
    struct store *lstore;    /* listening connection (PostgreSQL), loop thread */
    int listen_ok;           /* notifications work on this backend */
    int listen_busy;         /* a (re)listen job is queued */
    int listen_errors;
    int claiming;            /* a claim job is queued */
    uint64_t next_claim_ms;  /* uv_now() before which no claim is needed */
    int claim_errors;
    int64_t next_heartbeat;  /* Unix seconds (local); 0: at the next claim */
    int changed;             /* articles changed since the last NOTIFY */
    int notify_armed;
    int refreshing;          /* a due-now job is queued */
    int polling;             /* a waiters' poll job is queued */
    int64_t gen_seen;        /* store generation at the last poll, -1 unknown */
    int scan_now;            /* look for feeds other nodes list, at the next claim */
    int listed;              /* this node's listing is in the store */
    int announce;            /* tell the others this node listed its feeds */
    int64_t start_db;        /* database clock at the first claim (0: not yet) */
    int64_t offset;          /* database clock − this node's, at the last claim */
    struct dropped {         /* feeds a reload dropped: not another node's */
        char *name;          /* unless one lists them after `at` */
        int64_t at;          /* Unix seconds, local */
    } *dropped;
    size_t ndropped;
    int gen_busy;
    int stopping;
};

#define NTIMERS 5
static void relisten(struct service *s);
static void on_relisten_timer(uv_timer_t *t);
static void refresh_flush(struct service *s);
static void on_wait_timer(uv_timer_t *t);

int64_t
cluster_lease(const struct config *cfg)
{
    return cfg->daemon.lease > 0 ? cfg->daemon.lease : 2 * cfg->daemon.timeout + 60;
}

static uint64_t
now_ms(struct service *s)
{
    return uv_now(s->loop);
}

/* The feed with store id `id`, not removed, or NULL. */
static struct feed_run *
feed_by_id(struct service *s, int64_t id)
{
    for (size_t i = 0; i < s->nfeeds; i++)
        if (s->feeds[i]->id == id && !s->feeds[i]->removed)
            return s->feeds[i];
    return NULL;
}

static void
set_str(char **slot, const char *v)
{
    if (v == NULL)
        return;
    char *c = strdup(v);
    if (c == NULL)
        return;
    free(*slot);
    *slot = c;
}

static int
outcome_of(const char *status, enum service_outcome *o)
{
    for (int i = 0; status != NULL && i < SERVICE_OUTCOMES; i++)
        if (strcmp(status, service_outcome_name((enum service_outcome)i)) == 0) {
            *o = (enum service_outcome)i;
            return 1;
        }
    return 0;
}

/* What another node's fetch left in the store, into f (its status). */
static void
apply_state(struct feed_run *f, const struct store_feed_state *st)
{
    set_str(&f->url, st->url);
    free(f->etag);
    f->etag = st->etag ? strdup(st->etag) : NULL;
    free(f->last_modified);
    f->last_modified = st->last_modified ? strdup(st->last_modified) : NULL;
    if (st->last_fetch > f->last_fetch) {
        f->last_fetch = st->last_fetch;
        f->http = st->http;
        f->errors = (int)st->errors;
        snprintf(f->error, sizeof(f->error), "%s", st->error ? st->error : "");
        outcome_of(st->status, &f->last);
    }
    if (st->newest > f->newest)
        f->newest = st->newest;
    f->first_ok = st->first_ok;
    f->lag_median = st->lag_median;
    f->lag_n = st->lag_n;
}

static void
apply_lease(struct feed_run *f, const struct store_feed_lease *l, int64_t offset)
{
    snprintf(f->owner, sizeof(f->owner), "%s", l->owner ? l->owner : "");
    f->lease_until = l->owner ? l->lease_until : 0;
    if (!f->claimed && !f->in_flight)
        f->token = l->token;
    f->next_fetch = l->next_fetch - offset;
    f->unlisted = !l->enabled && f->last != SERVICE_GONE;
    /* whoever completed it last said why, and what its lag is */
    snprintf(f->next_why, sizeof(f->next_why), "%s", l->next_why ? l->next_why : "");
    f->lag_median = l->lag_median;
    f->lag_n = l->lag_n;
}

/* ---- claiming ---- */

struct claim_job {
    char *node;
    int64_t *ids, *intervals; /* the feeds this node lists (claims, listing) */
    size_t n_ids;
    int64_t *all;             /* and those another node lists: leases read */
    size_t n_all;
    int scan, announce;       /* read every feed's name (the union); NOTIFY "listed" */
    int64_t *names_id;        /* scan: every feed of the store */
    char **names;
    size_t n_names, cap_names;
    struct store_feed_lease *names_lease;
    int heartbeat;
    int64_t lease;
    size_t limit;
    long per_host, max_rate;
    long slack;               /* storing_slack, when the claim was asked */
    struct store_claim *claims;
    struct store_feed_state *states;
    size_t n;
    struct store_feed_lease *leases; /* n_ids, when drained */
    int drained;
    int64_t db_now;
    int rc;
    char err[256];
};

static void
claim_job_free(struct claim_job *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; j->states != NULL && i < j->n; i++)
        store_feed_state_clear(&j->states[i]);
    if (j->leases != NULL)
        store_feed_lease_clear(j->leases, j->n_all);
    free(j->leases);
    if (j->names_lease != NULL)
        store_feed_lease_clear(j->names_lease, j->n_names);
    free(j->names_lease);
    for (size_t i = 0; i < j->n_names; i++)
        free(j->names[i]);
    free(j->names);
    free(j->names_id);
    free(j->all);
    free(j->states);
    free(j->claims);
    free(j->ids);
    free(j->intervals);
    free(j->node);
    free(j);
}

struct claim_job;
static void adopt_foreign(struct service *s, const struct claim_job *j, int64_t offset);
static void learn_state(struct service *s, int64_t *ids, size_t n);

static int
on_feed_name(void *arg, int64_t id, const char *name)
{
    struct claim_job *j = arg;
    if (j->n_names == j->cap_names) {
        size_t cap = j->cap_names ? 2 * j->cap_names : 64;
        int64_t *ids = realloc(j->names_id, cap * sizeof(*ids));
        if (ids != NULL)
            j->names_id = ids;
        char **names = realloc(j->names, cap * sizeof(*names));
        if (names != NULL)
            j->names = names;
        if (ids == NULL || names == NULL)
            return -ENOMEM;
        j->cap_names = cap;
    }
    if ((j->names[j->n_names] = strdup(name)) == NULL)
        return -ENOMEM;
    j->names_id[j->n_names++] = id;
    return 0;
}

static int
claim_fn(struct service *s, void *arg)
{
    struct claim_job *j = arg;
    struct store *w = s->wstore;
    int rc = store_now(w, &j->db_now);
    /* this node's listing, kept in the store: a claim then names the node,
     * not its thousands of feeds */
    if (rc == 0 && j->heartbeat)
        rc = store_node_listed(w, j->node, j->ids, j->intervals, j->n_ids);
    if (rc == 0 && j->heartbeat && j->announce)
        store_notify(w, "listed"); /* -ENOTSUP on SQLite; a lost one: the next scan */
    if (rc == 0 && j->scan && (rc = store_feed_names(w, on_feed_name, j)) == 0 &&
        (j->names_lease = calloc(j->n_names + 1, sizeof(*j->names_lease))) == NULL)
        rc = -ENOMEM;
    if (rc == 0 && j->scan)
        rc = store_feed_leases(w, j->names_id, j->n_names, j->names_lease);
    if (rc == 0 && j->limit > 0) {
        /* the slack less the documents of the writer's open group, whose
         * leases this claim (inside the group) already sees ended */
        long docs = sched_group_docs(s), slack = j->slack > docs ? j->slack - docs : 0;
        struct store_claim_opts o = {.node = j->node, .feed_ids = NULL,
                                     .lease = j->lease, .limit = j->limit,
                                     .per_host = j->per_host + slack,
                                     .max_rate = (double)j->max_rate};
        rc = store_claim(w, &o, j->claims, &j->n);
    }
    for (size_t i = 0; rc == 0 && i < j->n; i++)
        rc = store_feed_state_get(w, j->claims[i].feed_id, &j->states[i]);
    j->drained = j->n < j->limit || j->limit == 0;
    if (rc == 0 && j->drained)
        rc = store_feed_leases(w, j->all, j->n_all, j->leases);
    if (rc < 0)
        snprintf(j->err, sizeof(j->err), "%s", store_errmsg(w));
    j->rc = rc;
    return rc;
}

/* A claim this node will not fetch (the feed went in a reload): give it
 * back at once, its state as it was. */
struct release_job {
    int64_t feed_id, token;
    struct store_feed_state st;
};

static int
release_fn(struct service *s, void *arg)
{
    struct release_job *j = arg;
    int rc = store_feed_complete(s->wstore, j->feed_id, j->token, &j->st, 0);
    return rc == -ESTALE ? 0 : rc;
}

static void
release_after(struct service *s, void *arg)
{
    (void)s;
    struct release_job *j = arg;
    store_feed_state_clear(&j->st);
    free(j);
}

static void
release(struct service *s, int64_t feed_id, int64_t token, struct store_feed_state *st)
{
    struct release_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return; /* the lease runs out instead */
    j->feed_id = feed_id;
    j->token = token;
    j->st = *st;
    memset(st, 0, sizeof(*st)); /* taken */
    if (sched_job(s, release_fn, release_after, j) < 0)
        release_after(s, j);
}

static int64_t
claim_backoff_ms(int errors)
{
    return errors >= 6 ? RELISTEN_MAX_S * 1000 : (int64_t)1000 << (errors - 1);
}

static void
claim_after(struct service *s, void *arg)
{
    struct claim_job *j = arg;
    struct cluster *c = s->cluster;
    uint64_t now = now_ms(s);
    c->claiming = 0;
    service_store_result(s, j->rc, j->err);
    if (j->rc < 0) {
        c->claim_errors++;
        c->next_claim_ms = now + (uint64_t)claim_backoff_ms(c->claim_errors);
        if (j->heartbeat)
            c->next_heartbeat = 0;
        log_warnx("event=claim error=%s retry_in=%lldms", LOG_QUOTE(j->err),
                  (long long)claim_backoff_ms(c->claim_errors));
        /* claims taken before the failure run out with their lease */
        claim_job_free(j);
        sched_rearm(s);
        return;
    }
    c->claim_errors = 0;
    int64_t offset = j->db_now - (int64_t)time(NULL); /* database clock − ours */
    c->offset = offset;
    if (c->start_db == 0)
        c->start_db = j->db_now;
    if (j->scan)
        adopt_foreign(s, j, offset);
    for (size_t i = 0; i < j->n; i++) {
        const struct store_claim *cl = &j->claims[i];
        struct feed_run *f = feed_by_id(s, cl->feed_id);
        if (f == NULL || !f->enabled || f->in_flight || f->claimed || s->stopping) {
            release(s, cl->feed_id, cl->token, &j->states[i]);
            continue;
        }
        apply_state(f, &j->states[i]);
        f->claimed = 1;
        f->fenced = 0;
        f->token = cl->token;
        snprintf(f->owner, sizeof(f->owner), "%s", s->cfg->daemon.node);
        f->lease_until = cl->lease_until;
        int64_t wait = cl->start_at_ms - cl->now_ms;
        f->start_ms = now + (uint64_t)(wait > 0 ? wait : 0);
        sched_claimed(s);
    }
    if (j->drained) {
        int64_t next = INT64_MAX;
        for (size_t i = 0; i < j->n_all; i++) {
            struct feed_run *f = feed_by_id(s, j->leases[i].feed_id);
            if (f == NULL || j->leases[i].feed_id == 0)
                continue;
            apply_lease(f, &j->leases[i], offset);
            if (f->foreign || f->claimed || f->in_flight || !j->leases[i].enabled)
                continue;
            int64_t when = j->leases[i].next_fetch;
            if (j->leases[i].owner != NULL && j->leases[i].lease_until > when)
                when = j->leases[i].lease_until; /* another node's: free at its end */
            if (when < next)
                next = when;
        }
        uint64_t wake = now + CLAIM_POLL_MS;
        if (next != INT64_MAX) {
            int64_t in = next - j->db_now; /* seconds, database clock */
            /* due now but not claimed: the limits hold it (or another node
             * just took it); no spinning on the claim. This node's first
             * listing claims nothing (it comes before): the claim follows
             * at once (at start, 200 ms of every first refresh) */
            uint64_t at = now + (uint64_t)(in > 0                        ? in * 1000
                                           : j->heartbeat && j->limit == 0 ? 0
                                                                           : CLAIM_HELD_MS);
            if (at < wake)
                wake = at;
        }
        c->next_claim_ms = wake;
    } else {
        c->next_claim_ms = now; /* more may be due */
    }
    claim_job_free(j);
    service_notify(s, SERVICE_FETCHED); /* owners and leases changed */
    sched_rearm(s);
}

/* Feeds of the store that another live node lists (SPEC §10: the union is
 * served): known here from now on, shown, served and refreshable. Listed
 * since this node started (a feed a previous run listed is not another
 * node's) and since a reload here dropped it. */
static void
adopt_foreign(struct service *s, const struct claim_job *j, int64_t offset)
{
    struct cluster *c = s->cluster;
    int64_t *adopted = NULL;
    size_t n = 0;
    for (size_t i = 0; i < j->n_names; i++) {
        const struct store_feed_lease *l = &j->names_lease[i];
        struct feed_run *f;
        if (l->feed_id == 0 || !l->enabled || l->listed_at <= c->start_db ||
            service_feed(s, j->names[i]) != NULL)
            continue;
        int dropped_since = 0;
        for (size_t k = 0; k < c->ndropped; k++)
            if (strcmp(c->dropped[k].name, j->names[i]) == 0 &&
                l->listed_at <= c->dropped[k].at + offset)
                dropped_since = 1;
        if (dropped_since)
            continue;
        if (service_feed_foreign(s, l->feed_id, j->names[i], &f) < 0) {
            log_warnx("event=claim error=\"out of memory\"");
            break;
        }
        apply_lease(f, l, offset);
        f->last_fetch = l->last_fetch;
        log_info("event=feed-listed-elsewhere feed=%s", f->name);
        if (adopted == NULL)
            adopted = calloc(j->n_names - i, sizeof(*adopted));
        if (adopted != NULL)
            adopted[n++] = l->feed_id;
    }
    /* their URL, validators and last outcome, for status: read in a job */
    if (n > 0)
        learn_state(s, adopted, n);
    else
        free(adopted);
}

void
cluster_dropped(struct service *s, const char *name)
{
    struct cluster *c = s->cluster;
    if (c == NULL)
        return;
    int64_t now = (int64_t)time(NULL);
    for (size_t k = 0; k < c->ndropped; k++)
        if (strcmp(c->dropped[k].name, name) == 0) {
            c->dropped[k].at = now;
            return;
        }
    struct dropped *d = realloc(c->dropped, (c->ndropped + 1) * sizeof(*d));
    if (d == NULL)
        return;
    c->dropped = d;
    if ((d[c->ndropped].name = strdup(name)) == NULL)
        return;
    d[c->ndropped++].at = now;
}

/* This node lists f and may fetch it: registered, configured enabled (a
 * 410 is the store's to say), not dropped by a reload. */
static int
claimable(const struct feed_run *f)
{
    return f->id != 0 && !f->removed && f->cf != NULL && f->cf->enabled;
}

/* url's scheme and authority ("http://user@Host:8080"), its length in *len;
 * the whole of url when it has no "://". Never coarser than the store's
 * host (which drops the scheme, user and port, and folds case). */
static const char *
url_authority(const char *url, size_t *len)
{
    const char *p = strstr(url, "://");
    *len = p == NULL ? strlen(url) : (size_t)(p + 3 - url) + strcspn(p + 3, "/?#");
    return url;
}

#define SLACK_HOSTS 8

/* How far a claim may pass per_host: the store counts a host's leases
 * alive, and a fetched document keeps its lease until it is stored, but
 * per_host bounds the fetches in flight (SPEC §10). The fewest of this
 * node's documents being stored on any host it may claim on now (hosts
 * as url_authority: never coarser than the store's, so no host gets more
 * than per_host fetches in flight), 0 past SLACK_HOSTS such hosts. */
static long
storing_slack(const struct service *s)
{
    const char *host[SLACK_HOSTS];
    size_t hlen[SLACK_HOSTS], nh = 0;
    long count[SLACK_HOSTS];
    for (size_t i = 0; i < s->nfeeds; i++) {
        const struct feed_run *f = s->feeds[i];
        if (!claimable(f) || f->in_flight || f->claimed)
            continue;
        const char *urls[2] = {f->url, f->cf->url};
        for (int u = 0; u < 2; u++) {
            size_t len, k;
            const char *a;
            if (urls[u] == NULL)
                continue;
            a = url_authority(urls[u], &len);
            for (k = 0; k < nh && (hlen[k] != len || memcmp(host[k], a, len) != 0); k++)
                ;
            if (k < nh)
                continue;
            if (nh == SLACK_HOSTS)
                return 0;
            host[nh] = a, hlen[nh] = len, count[nh++] = 0;
        }
    }
    for (size_t i = 0; i < s->nfeeds && nh > 0; i++) {
        const struct feed_run *f = s->feeds[i];
        size_t len;
        if (!f->storing || f->url == NULL)
            continue;
        const char *a = url_authority(f->url, &len);
        for (size_t k = 0; k < nh; k++)
            if (hlen[k] == len && memcmp(host[k], a, len) == 0)
                count[k]++;
    }
    long least = 0;
    for (size_t k = 0; k < nh; k++)
        if (k == 0 || count[k] < least)
            least = count[k];
    return least;
}

void
cluster_claim(struct service *s, uint64_t now, uint64_t *wake)
{
    struct cluster *c = s->cluster;
    const struct config *cfg = s->cfg;
    long limit = cfg->daemon.concurrency, busy = sched_slots_used(s);
    int64_t local = (int64_t)time(NULL);
    *wake = UINT64_MAX;
    if (c == NULL || c->stopping || s->stopping)
        return;
    refresh_flush(s); /* refreshes of feeds registered meanwhile */
    int heartbeat = local >= c->next_heartbeat;
    int scan = heartbeat || c->scan_now;
    long free_slots = limit - busy;
    long batch = limit / 4 > 1 ? limit / 4 : 1;
    /* while documents are being stored, claim the whole batch at once (on
     * PostgreSQL a claim is a transaction of its own, between two groups) */
    if (sched_storing(s) > 0)
        batch = limit;
    int want = now >= c->next_claim_ms && free_slots > 0 &&
               (free_slots >= batch || busy == 0 || c->next_claim_ms == 0);
    if (!c->claiming && !want && !scan) {
        /* not due yet: at its time; due but too few slots free for a
         * batch: the fetch that ends next re-arms (no spinning) */
        if (free_slots > 0 && c->next_claim_ms > now)
            *wake = c->next_claim_ms;
        if (c->next_heartbeat > local &&
            now + (uint64_t)(c->next_heartbeat - local) * 1000 < *wake)
            *wake = now + (uint64_t)(c->next_heartbeat - local) * 1000;
        return;
    }
    if (c->claiming)
        return; /* its after re-arms */
    size_t n = 0, n_all = 0;
    for (size_t i = 0; i < s->nfeeds; i++) {
        n += claimable(s->feeds[i]);
        n_all += claimable(s->feeds[i]) || (s->feeds[i]->foreign && !s->feeds[i]->removed);
    }
    if (n_all == 0 && !scan) {
        c->next_claim_ms = now + CLAIM_POLL_MS;
        *wake = c->next_claim_ms;
        return;
    }
    struct claim_job *j = calloc(1, sizeof(*j));
    /* claims only once this node's listing is in the store (the first
     * heartbeat, after registration) */
    size_t limit_now = want && n > 0 && (heartbeat || c->listed) ? (size_t)free_slots : 0;
    if (j == NULL || (j->ids = calloc(n + 1, sizeof(*j->ids))) == NULL ||
        (j->intervals = calloc(n + 1, sizeof(*j->intervals))) == NULL ||
        (j->all = calloc(n_all + 1, sizeof(*j->all))) == NULL ||
        (j->node = strdup(cfg->daemon.node)) == NULL ||
        (limit_now > 0 && ((j->claims = calloc(limit_now, sizeof(*j->claims))) == NULL ||
                           (j->states = calloc(limit_now, sizeof(*j->states))) == NULL)) ||
        (j->leases = calloc(n_all + 1, sizeof(*j->leases))) == NULL)
        goto nomem;
    for (size_t i = 0; i < s->nfeeds; i++) {
        struct feed_run *f = s->feeds[i];
        if (f->foreign && !f->removed)
            j->all[j->n_all++] = f->id;
        if (!claimable(f))
            continue;
        j->all[j->n_all++] = f->id;
        j->ids[j->n_ids] = f->id;
        j->intervals[j->n_ids++] = f->cf ? config_feed_longest(f->cf) : cfg->daemon.interval;
    }
    j->heartbeat = heartbeat && n > 0;
    j->scan = scan;
    j->announce = j->heartbeat && c->announce;
    j->lease = cluster_lease(cfg);
    j->limit = limit_now;
    j->per_host = cfg->daemon.per_host;
    j->slack = limit_now > 0 ? storing_slack(s) : 0;
    j->max_rate = cfg->daemon.max_rate;
    /* on SQLite inside the writer's open group, not ending it */
    if (sched_job_joins(s, claim_fn, claim_after, j) < 0)
        goto nomem;
    c->claiming = 1;
    c->scan_now = 0;
    if (j->heartbeat)
        c->listed = 1;
    if (j->announce)
        c->announce = 0;
    if (j->heartbeat) {
        int64_t every = HEARTBEAT_S;
        for (size_t i = 0; i < j->n_ids; i++)
            if (j->intervals[i] / 2 < every)
                every = j->intervals[i] / 2 > 1 ? j->intervals[i] / 2 : 1;
        c->next_heartbeat = local + every;
    }
    return;
nomem:
    claim_job_free(j);
    log_warnx("event=claim error=\"out of memory\"");
    c->next_claim_ms = now + 1000;
    *wake = c->next_claim_ms;
}

void
cluster_reload(struct service *s)
{
    if (s->cluster != NULL) {
        s->cluster->next_heartbeat = 0;
        s->cluster->next_claim_ms = 0;
        s->cluster->announce = 1;
    }
}

/* ---- finishing a claim ---- */

/* A feed's newest items read at a completion: its rate (the newest 20 dated
 * ones) and a day's lags. */
#define ITEMS_READ 256
#define LAG_DAY 86400

struct complete_job {
    struct feed_run *f; /* loop thread only: kept alive by f->in_flight */
    int64_t feed_id, token;
    struct store_feed_state st;
    /* the next check's inputs (issue 13 §2): the plan's step at the end of
     * the fetch (database clock), what the fetch asked */
    struct cadence_step step;
    struct fetch_ask ask;
    int errors;
    int64_t offset;     /* database clock − this node's */
    int read_items;     /* the items are needed: auto, new articles, a day's lag */
    /* results, read by complete_after */
    struct store_feed_item *items;
    int64_t next_in;    /* seconds from when it was written */
    int64_t next;       /* the next check, database clock */
    char why[128];
    size_t nlags;       /* of ask.lags, that count for the histogram */
    int rc;
    char err[256];
};

/* The articles of items[0..n) that count for lag (issue 13 §1): first seen
 * by this feed after its first successful fetch (in seconds: one fetched
 * again within that second is taken for the backlog), their date believed,
 * first seen at or after `since` (and at or before `until`); their lags
 * (first seen − date, at least 0) into out. Returns the count. */
static size_t
lags_of(const struct store_feed_item *items, size_t n, int64_t first_ok, int64_t since,
        int64_t until, int64_t *out)
{
    size_t k = 0;
    for (size_t i = 0; first_ok > 0 && i < n; i++) {
        const struct store_feed_item *it = &items[i];
        if (!it->first_source || !it->believed || it->first_seen <= first_ok ||
            it->first_seen < since || it->first_seen > until)
            continue;
        out[k++] = it->first_seen > it->date ? it->first_seen - it->date : 0;
    }
    return k;
}

static int
complete_fn(struct service *s, void *arg)
{
    struct complete_job *j = arg;
    size_t n = 0;
    int64_t first_ok = 0, dates[ITEMS_READ], lags[ITEMS_READ];
    /* the feed's newest items, from the store (whichever node stored them) */
    if (j->read_items &&
        store_feed_items(s->wstore, j->feed_id, j->items, ITEMS_READ, &n, &first_ok) < 0)
        n = 0; /* the completion below fails the same way, or works without */
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        if (j->items[i].believed)
            dates[nd++] = j->items[i].date;
    int64_t now = j->ask.now + j->offset; /* the fetch's end, database clock */
    char iv_why[96];
    int64_t iv = cadence_interval(&j->step, dates, nd, now, iv_why, sizeof(iv_why));
    struct service_next_in in = {
        .now = now, .kind = j->ask.kind, .errors = j->errors > 0 ? j->errors : 1,
        .retry_after = j->ask.retry_after, .ttl_min = j->ask.ttl_min, .max_age = j->ask.max_age,
        .interval = iv, .why = iv_why, .label = j->step.label, .opens = j->step.opens,
        .open_jitter = j->step.open_jitter, .opens_label = j->step.opens_label,
        .rnd = j->ask.rnd};
    j->next = service_next_check(&in, j->why, sizeof(j->why));
    if (!j->st.enabled)
        snprintf(j->why, sizeof(j->why), "disabled: 410 Gone");
    /* the median lag of the day before this fetch (unread: none before,
     * none new, as it was) */
    if (j->read_items) {
        j->st.lag_n = (long)lags_of(j->items, n, first_ok, j->ask.now - LAG_DAY, j->ask.now, lags);
        j->st.lag_median = cadence_median(lags, (size_t)j->st.lag_n);
    }
    /* this fetch's articles count when the feed had a successful fetch
     * before (a new feed's backlog is not lag) */
    j->nlags = j->ask.kind == SERVICE_NEXT_OK && first_ok > 0 ? j->ask.nlags : 0;
    j->st.next_why = strdup(j->why);
    /* from when it is written: the time this job waited in the queue is not
     * added to the interval */
    int64_t at = (int64_t)time(NULL) + j->offset;
    j->next_in = j->next > at ? j->next - at : 0;
    j->rc = store_feed_complete(s->wstore, j->feed_id, j->token, &j->st, j->next_in);
    if (j->rc < 0)
        snprintf(j->err, sizeof(j->err), "%s", store_errmsg(s->wstore));
    return j->rc == -ESTALE ? 0 : j->rc;
}



static void complete_free(struct complete_job *j);

/* The group the state was written in did not commit (sched_job_grouped). */
static void
complete_fail(void *arg, int rc, const char *err)
{
    struct complete_job *j = arg;
    if (j->rc < 0)
        return;
    j->rc = rc == -ESTALE ? -EIO : rc;
    snprintf(j->err, sizeof(j->err), "%s", err);
}

static void
complete_after(struct service *s, void *arg)
{
    struct complete_job *j = arg;
    struct feed_run *f = j->f;
    service_store_result(s, j->rc == -ESTALE ? 0 : j->rc, j->err);
    if (j->rc == 0)
        service_store_wrote(s);
    if (j->rc == -ESTALE)
        log_warnx("event=fenced feed_id=%lld token=%lld outcome=\"lease lost: the state of this "
                  "fetch was not written\"",
                  (long long)j->feed_id, (long long)j->token);
    else if (j->rc < 0)
        log_warnx("event=state-save feed_id=%lld error=%s", (long long)j->feed_id,
                  LOG_QUOTE(j->err));
    f->completing = 0;
    if (j->rc == 0) {
        f->owner[0] = '\0';
        f->lease_until = 0;
        if (j->st.first_ok > 0 && f->first_ok == 0)
            f->first_ok = j->st.first_ok;
    }
    /* the next check as the worker made it (this node's clock), and why */
    f->next_fetch = j->next - j->offset;
    snprintf(f->next_why, sizeof(f->next_why), "%s", j->why);
    f->lag_median = j->st.lag_median;
    f->lag_n = j->st.lag_n;
    service_observe_lags(f, j->ask.lags, j->nlags);
    if (j->ask.kind == SERVICE_NEXT_ERROR)
        log_info("event=retry feed=%s next_in=%llds why=%s", f->name, (long long)j->next_in,
                 LOG_QUOTE(j->why));
    else
        log_debug("event=next feed=%s next_in=%llds why=%s", f->name, (long long)j->next_in,
                  LOG_QUOTE(j->why));
    /* a refresh that came before this claim is answered by it; one that came
     * later (after = -1 still: its due-now job is queued behind) is not, nor
     * any when the store refused the result: the poll asks who fetched it */
    int64_t done = j->rc == 0 ? j->token : 0;
    complete_free(j);
    service_notify(s, SERVICE_FETCHED); /* its next check, reason and lag changed */
    service_answer_waiters(s, f, done); /* may free f */
    if (!s->cluster->stopping) {
        uv_timer_start(&s->cluster->wait_timer, on_wait_timer, WAIT_POLL_MS, 0);
        /* the lease is free now, and a refresh that came during the fetch
         * made the feed due again: claim after this, whatever a claim that
         * ran before it concluded */
        s->cluster->next_claim_ms = 0;
        sched_rearm(s);
    }
}

int64_t
cluster_offset(const struct service *s)
{
    return s->cluster != NULL ? s->cluster->offset : 0;
}

/* How f is checked: its configuration's plan; a feed its hub pushes is
 * polled at its max_interval alone (SPEC §11, sched_interval); a feed a
 * reload dropped while it ran, the built-in 15 minutes. */
static void
plan_of(const struct service *s, const struct feed_run *f, struct cadence_plan *p)
{
    if (f->cf != NULL && f->ws_hub != NULL) {
        *p = (struct cadence_plan){.interval = sched_interval(f),
                                   .min_interval = f->cf->min_interval,
                                   .max_interval = f->cf->max_interval};
        return;
    }
    if (f->cf != NULL) {
        config_feed_plan(f->cf, p);
        return;
    }
    *p = (struct cadence_plan){.interval = s->cfg->daemon.interval_auto ? 900
                                                                        : s->cfg->daemon.interval,
                               .min_interval = s->cfg->daemon.min_interval,
                               .max_interval = s->cfg->daemon.max_interval};
}

/* The completion of f's claim as cluster_complete writes it, its state read
 * from `as` (f itself, or what f will be once its document is stored), or
 * NULL (no memory; ask->lags is not taken either way). */
static struct complete_job *
complete_new(struct service *s, struct feed_run *f, const struct feed_run *as,
             const struct fetch_ask *ask)
{
    struct complete_job *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->items = calloc(ITEMS_READ, sizeof(*j->items))) == NULL) {
        free(j);
        return NULL;
    }
    j->f = f;
    j->feed_id = f->id;
    j->token = f->token;
    j->ask = *ask;
    j->errors = as->errors;
    j->offset = cluster_offset(s);
    /* the plan's step at the fetch's end, database clock: read here, where
     * the configuration lives; the worker gets plain data */
    struct cadence_plan plan;
    plan_of(s, f, &plan);
    cadence_step(&plan, ask->now + j->offset, &j->step);
    if (f->ws_hub != NULL)
        snprintf(j->step.label, sizeof(j->step.label), "pushed by its hub, polled");
    /* a fixed interval, no new article and no lag of the day to slide: the
     * completion reads nothing (a round of 304s costs what it did) */
    j->read_items = j->step.interval == 0 || ask->nlags > 0 || f->lag_n > 0;
    j->st.lag_median = f->lag_median;
    j->st.lag_n = f->lag_n;
    if ((as->last == SERVICE_OK || as->last == SERVICE_NOT_MODIFIED) &&
        ask->kind == SERVICE_NEXT_OK)
        j->st.first_ok = as->last_fetch; /* kept only when it is the first */
    j->st.url = as->url ? strdup(as->url) : NULL;
    j->st.etag = as->etag ? strdup(as->etag) : NULL;
    j->st.last_modified = as->last_modified ? strdup(as->last_modified) : NULL;
    j->st.status = strdup(service_outcome_name(as->last));
    j->st.error = as->error[0] ? strdup(as->error) : NULL;
    j->st.last_fetch = as->last_fetch;
    j->st.newest = as->newest;
    j->st.http = as->http;
    j->st.errors = as->errors;
    j->st.enabled = as->last != SERVICE_GONE;
    return j;
}

static void
complete_free(struct complete_job *j)
{
    store_feed_state_clear(&j->st);
    free(j->items);
    free(j->ask.lags);
    free(j);
}

void
cluster_complete(struct service *s, struct feed_run *f, const struct fetch_ask *ask)
{
    struct complete_job *j = NULL;
    if (s->cluster != NULL)
        s->cluster->next_claim_ms = 0; /* a slot is free: claim (after this job) */
    if (f->id == 0 || f->token == 0 || (j = complete_new(s, f, f, ask)) == NULL) {
        free(ask->lags);
        service_answer_waiters(s, f, 0);
        return;
    }
    if (sched_job_grouped(s, complete_fn, complete_after, complete_fail, j) < 0) {
        complete_free(j);
        service_answer_waiters(s, f, 0);
        return;
    }
    f->completing = 1;
}

struct complete_job *
cluster_complete_ahead(struct service *s, struct feed_run *f, const struct feed_run *as,
                       const struct fetch_ask *ask)
{
    if (f->id == 0 || f->token == 0)
        return NULL;
    return complete_new(s, f, as, ask);
}

int
cluster_complete_write(struct service *s, struct complete_job *j, int64_t newest, long ttl,
                       int64_t *lags, size_t nlags)
{
    if (newest > j->st.newest)
        j->st.newest = newest;
    j->ask.ttl_min = ttl;
    j->ask.lags = lags;
    j->ask.nlags = nlags;
    if (nlags > 0)
        j->read_items = 1;
    return complete_fn(s, j);
}

void
cluster_complete_done(struct service *s, struct complete_job *j, int rc, const char *err)
{
    if (s->cluster != NULL)
        s->cluster->next_claim_ms = 0; /* a slot is free: claim */
    if (rc < 0)
        complete_fail(j, rc, err);
    complete_after(s, j);
}

void
cluster_complete_drop(struct complete_job *j)
{
    if (j != NULL)
        complete_free(j);
}

/* ---- leases of running fetches ---- */

struct extend_job {
    size_t n;
    int64_t *ids, *tokens, lease;
    int *stale;
    int rc;
    char err[256];
};

static int
extend_fn(struct service *s, void *arg)
{
    struct extend_job *j = arg;
    int rc = 0;
    for (size_t i = 0; i < j->n && rc >= 0; i++) {
        int r = store_lease_extend(s->wstore, j->ids[i], j->tokens[i], j->lease);
        if (r == -ESTALE)
            j->stale[i] = 1;
        else
            rc = r;
    }
    if (rc < 0)
        snprintf(j->err, sizeof(j->err), "%s", store_errmsg(s->wstore));
    j->rc = rc;
    return rc;
}

static void
extend_after(struct service *s, void *arg)
{
    struct extend_job *j = arg;
    service_store_result(s, j->rc, j->err);
    for (size_t i = 0; i < j->n; i++) {
        struct feed_run *f = feed_by_id(s, j->ids[i]);
        if (!j->stale[i] || f == NULL || f->token != j->tokens[i] || f->fenced)
            continue;
        f->fenced = 1;
        log_warnx("event=fenced feed=%s token=%lld outcome=\"lease lost: another node "
                  "claimed it; this fetch will write nothing\"",
                  f->name, (long long)f->token);
    }
    free(j->ids);
    free(j->tokens);
    free(j->stale);
    free(j);
}

static void
on_lease_timer(uv_timer_t *t)
{
    struct service *s = t->data;
    size_t n = 0;
    for (size_t i = 0; i < s->nfeeds; i++)
        n += (s->feeds[i]->in_flight || s->feeds[i]->claimed) && s->feeds[i]->token > 0;
    if (n == 0 || s->stopping)
        return;
    struct extend_job *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->ids = calloc(n, sizeof(int64_t))) == NULL ||
        (j->tokens = calloc(n, sizeof(int64_t))) == NULL ||
        (j->stale = calloc(n, sizeof(int))) == NULL)
        goto nomem;
    for (size_t i = 0; i < s->nfeeds; i++) {
        struct feed_run *f = s->feeds[i];
        if ((f->in_flight || f->claimed) && f->token > 0) {
            j->ids[j->n] = f->id;
            j->tokens[j->n++] = f->token;
        }
    }
    j->lease = cluster_lease(s->cfg);
    if (sched_job(s, extend_fn, extend_after, j) == 0)
        return;
nomem:
    if (j != NULL) {
        free(j->ids);
        free(j->tokens);
        free(j->stale);
    }
    free(j);
}

/* ---- notifications ---- */


static void
on_notification(void *arg, const char *what)
{
    struct service *s = arg;
    struct cluster *c = s->cluster;
    if (strcmp(what, "articles") == 0) {
        s->generation++;
        service_notify(s, SERVICE_FETCHED);
    } else if (strcmp(what, "due") == 0) {
        c->next_claim_ms = 0;
    } else if (strcmp(what, "listed") == 0) {
        c->scan_now = 1; /* a node started or reloaded: the union may have grown */
    }
    /* any news may answer a refresh waiting on another node */
    uv_timer_start(&c->wait_timer, on_wait_timer, 0, 0);
}

static void on_listen_closed(uv_handle_t *h);

static void
listen_lost(struct service *s, const char *why)
{
    struct cluster *c = s->cluster;
    log_warnx("event=listen error=%s", LOG_QUOTE(why));
    if (c->poll_open) {
        uv_poll_stop(&c->poll);
        c->poll_open = 0;
        uv_close((uv_handle_t *)&c->poll, on_listen_closed); /* then the connection */
    }
    c->listen_errors++;
    uv_timer_start(&c->relisten_timer, on_relisten_timer,
                   (uint64_t)claim_backoff_ms(c->listen_errors), 0);
}

static void
on_listen_readable(uv_poll_t *p, int status, int events)
{
    (void)events;
    struct service *s = p->data;
    struct cluster *c = s->cluster;
    if (status < 0) {
        listen_lost(s, uv_strerror(status));
        return;
    }
    int rc = store_notifications(c->lstore, on_notification, s);
    if (rc < 0)
        listen_lost(s, store_errmsg(c->lstore));
    else
        sched_rearm(s);
}

static void
on_listen_closed(uv_handle_t *h)
{
    struct service *s = h->data;
    struct cluster *c = s->cluster;
    store_close(c->lstore);
    c->lstore = NULL;
    if (--c->handles == 0 && c->stopping)
        service_part_done(s);
}

struct listen_job {
    char *where;
    struct store *st;
    int fd;
    int rc;
    char err[256];
};

/* Opens a connection of its own, off the loop: no query of the writer's. */
static int
listen_fn(struct service *s, void *arg)
{
    (void)s;
    struct listen_job *j = arg;
    int rc = store_open(j->where, &j->st, j->err, sizeof(j->err));
    if (rc == 0 && (rc = store_listen(j->st)) < 0 && rc != -ENOTSUP)
        snprintf(j->err, sizeof(j->err), "%s", store_errmsg(j->st));
    j->fd = rc;
    j->rc = rc < 0 ? rc : 0;
    return 1; /* its own connection: says nothing of the writer's */
}

static void
listen_after(struct service *s, void *arg)
{
    struct listen_job *j = arg;
    struct cluster *c = s->cluster;
    c->listen_busy = 0;
    if (j->rc == -ENOTSUP) { /* SQLite: one node, nothing to hear */
        store_close(j->st);
        c->listen_ok = 0;
    } else if (j->rc < 0 || c->stopping) {
        store_close(j->st);
        if (!c->stopping) {
            c->listen_errors++;
            int64_t back = claim_backoff_ms(c->listen_errors);
            log_warnx("event=listen error=%s retry_in=%lldms", LOG_QUOTE(j->err),
                      (long long)back);
            uv_timer_start(&c->relisten_timer, on_relisten_timer, (uint64_t)back, 0);
        }
    } else if (uv_poll_init(s->loop, &c->poll, j->fd) < 0) {
        store_close(j->st);
        uv_timer_start(&c->relisten_timer, on_relisten_timer, 5000, 0);
    } else {
        c->lstore = j->st;
        c->poll.data = s;
        c->poll_open = 1;
        c->handles++;
        c->listen_ok = 1;
        if (c->listen_errors > 0)
            log_info("event=listen outcome=ok");
        c->listen_errors = 0;
        uv_poll_start(&c->poll, UV_READABLE, on_listen_readable);
        /* whatever was missed while not listening */
        s->generation++;
        c->next_claim_ms = 0;
        service_notify(s, SERVICE_FETCHED);
        sched_rearm(s);
    }
    free(j->where);
    free(j);
}

static void
relisten(struct service *s)
{
    struct cluster *c = s->cluster;
    if (c->listen_busy || c->poll_open || c->lstore != NULL || c->stopping)
        return;
    struct listen_job *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->where = strdup(s->cfg->daemon.database)) == NULL) {
        free(j);
        return;
    }
    c->listen_busy = 1;
    if (sched_job(s, listen_fn, listen_after, j) < 0) {
        c->listen_busy = 0;
        free(j->where);
        free(j);
        uv_timer_start(&c->relisten_timer, on_relisten_timer, 1000, 0);
    }
}

static void
on_relisten_timer(uv_timer_t *t)
{
    struct service *s = t->data;
    if (!s->stopping && !s->cluster->stopping)
        relisten(s);
}

static int
notify_fn(struct service *s, void *arg)
{
    int rc = store_notify(s->wstore, (const char *)arg);
    return rc == -ENOTSUP ? 1 : rc;
}

static void
notify_after(struct service *s, void *arg)
{
    (void)s;
    (void)arg;
}

static void
on_notify_timer(uv_timer_t *t)
{
    struct service *s = t->data;
    struct cluster *c = s->cluster;
    c->notify_armed = 0;
    if (!c->changed || s->stopping)
        return;
    c->changed = 0;
    /* after every job queued so far: never inside an ingest's transaction */
    if (sched_job(s, notify_fn, notify_after, (void *)"articles") == 0) {
        c->notify_armed = 1; /* the next one no sooner than NOTIFY_MIN_MS */
        uv_timer_start(&c->notify_timer, on_notify_timer, NOTIFY_MIN_MS, 0);
    }
}

void
cluster_changed(struct service *s)
{
    struct cluster *c = s->cluster;
    if (c == NULL || !c->listen_ok)
        return;
    c->changed = 1;
    if (!c->notify_armed) {
        c->notify_armed = 1;
        uv_timer_start(&c->notify_timer, on_notify_timer, 0, 0);
    }
}

/* The slow poll: another node's change whose notification was lost, or
 * another writer of the same SQLite file. */
struct gen_job {
    int64_t gen;
};

static int
gen_fn(struct service *s, void *arg)
{
    struct gen_job *j = arg;
    j->gen = store_generation(s->wstore);
    return j->gen < 0 ? (int)j->gen : 0;
}

static void
gen_after(struct service *s, void *arg)
{
    struct gen_job *j = arg;
    struct cluster *c = s->cluster;
    c->gen_busy = 0;
    if (j->gen >= 0) {
        if (c->gen_seen >= 0 && j->gen != c->gen_seen) {
            s->generation++;
            service_notify(s, SERVICE_FETCHED);
        }
        c->gen_seen = j->gen;
    }
    free(j);
}

static void
on_gen_timer(uv_timer_t *t)
{
    struct service *s = t->data;
    struct cluster *c = s->cluster;
    struct gen_job *j;
    if (c->gen_busy || s->stopping || (j = calloc(1, sizeof(*j))) == NULL)
        return;
    if (sched_job(s, gen_fn, gen_after, j) == 0)
        c->gen_busy = 1;
    else
        free(j);
}

/* ---- refresh ---- */

struct due_job {
    size_t n;
    int64_t *ids, *tokens;
    int rc;
    char err[256];
};

static int
due_fn(struct service *s, void *arg)
{
    struct due_job *j = arg;
    int rc = store_feed_due_now(s->wstore, j->ids, j->n, j->tokens);
    if (rc == 0) {
        int n = store_notify(s->wstore, "due"); /* wake the other nodes */
        (void)n; /* -ENOTSUP on SQLite; a lost one: they poll */
    } else {
        snprintf(j->err, sizeof(j->err), "%s", store_errmsg(s->wstore));
    }
    j->rc = rc;
    return rc;
}

static void
due_after(struct service *s, void *arg)
{
    struct due_job *j = arg;
    struct cluster *c = s->cluster;
    c->refreshing = 0;
    service_store_result(s, j->rc, j->err);
    for (size_t i = 0; i < j->n; i++) {
        struct feed_run *f = feed_by_id(s, j->ids[i]);
        if (f == NULL)
            continue;
        for (struct service_wait *w = f->waiters; w != NULL; w = w->next)
            if (w->after < 0)
                w->after = j->rc == 0 ? j->tokens[i] : INT64_MIN;
        if (j->rc < 0) { /* the refresh could not even be asked for: it failed */
            f->last = SERVICE_ERROR;
            snprintf(f->error, sizeof(f->error), "refresh: %.240s", j->err);
            service_answer_waiters(s, f, INT64_MAX); /* the store cannot: say so now */
        }
    }
    free(j->ids);
    free(j->tokens);
    free(j);
    c->next_claim_ms = 0;
    uv_timer_start(&c->wait_timer, on_wait_timer, WAIT_POLL_MS, 0);
    sched_rearm(s);
}

/* The refreshes asked for in this loop turn, in one job. */
static void
refresh_flush(struct service *s)
{
    struct cluster *c = s->cluster;
    size_t n = 0;
    if (c->refreshing)
        return; /* its after starts the next */
    for (size_t i = 0; i < s->nfeeds; i++)
        n += s->feeds[i]->refresh && s->feeds[i]->id != 0;
    if (n == 0)
        return;
    struct due_job *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->ids = calloc(n, sizeof(int64_t))) == NULL ||
        (j->tokens = calloc(n, sizeof(int64_t))) == NULL)
        goto nomem;
    for (size_t i = 0; i < s->nfeeds && j->n < n; i++)
        if (s->feeds[i]->refresh && s->feeds[i]->id != 0) {
            s->feeds[i]->refresh = 0;
            j->ids[j->n++] = s->feeds[i]->id;
        }
    if (sched_job(s, due_fn, due_after, j) == 0) {
        c->refreshing = 1;
        return;
    }
nomem:
    if (j != NULL) {
        free(j->ids);
        free(j->tokens);
    }
    free(j);
}

/* Waiters on feeds this node is not fetching: ask the store whether
 * another node has. */
struct wait_job {
    size_t n;
    int64_t *ids;
    struct store_feed_lease *leases;
    struct store_feed_state *states;
    int64_t db_now;
    int rc;
    char err[256];
};

static void
wait_job_free(struct wait_job *j)
{
    if (j == NULL)
        return;
    if (j->leases != NULL)
        store_feed_lease_clear(j->leases, j->n);
    for (size_t i = 0; j->states != NULL && i < j->n; i++)
        store_feed_state_clear(&j->states[i]);
    free(j->leases);
    free(j->states);
    free(j->ids);
    free(j);
}

static int
wait_fn(struct service *s, void *arg)
{
    struct wait_job *j = arg;
    int rc = store_feed_leases(s->wstore, j->ids, j->n, j->leases);
    for (size_t i = 0; rc == 0 && i < j->n; i++)
        rc = store_feed_state_get(s->wstore, j->ids[i], &j->states[i]);
    if (rc == 0)
        rc = store_now(s->wstore, &j->db_now);
    if (rc < 0)
        snprintf(j->err, sizeof(j->err), "%s", store_errmsg(s->wstore));
    j->rc = rc;
    return rc;
}

/* Feeds this node just learned of (another node lists them): what the
 * store says of them, for status. Takes ids. */
static void
learned_after(struct service *s, void *arg)
{
    struct wait_job *j = arg;
    service_store_result(s, j->rc, j->err);
    for (size_t i = 0; j->rc == 0 && i < j->n; i++) {
        struct feed_run *f = feed_by_id(s, j->ids[i]);
        if (f != NULL && f->foreign && !f->in_flight && !f->claimed && !f->completing)
            apply_state(f, &j->states[i]);
    }
    wait_job_free(j);
}

static void
learn_state(struct service *s, int64_t *ids, size_t n)
{
    struct wait_job *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->leases = calloc(n, sizeof(*j->leases))) == NULL ||
        (j->states = calloc(n, sizeof(*j->states))) == NULL) {
        if (j != NULL)
            free(j->leases);
        free(j);
        free(ids);
        return; /* status shows them without a URL until a fetch */
    }
    j->ids = ids;
    j->n = n;
    if (sched_job(s, wait_fn, learned_after, j) < 0)
        wait_job_free(j);
}

static int
waiting_elsewhere(const struct feed_run *f)
{
    if (f->in_flight || f->claimed || f->completing || f->removed)
        return 0;
    for (const struct service_wait *w = f->waiters; w != NULL; w = w->next)
        if (w->after >= 0)
            return 1;
    return 0;
}

static void
wait_after(struct service *s, void *arg)
{
    struct wait_job *j = arg;
    struct cluster *c = s->cluster;
    c->polling = 0;
    service_store_result(s, j->rc, j->err);
    if (j->rc == 0) {
        int64_t offset = j->db_now - (int64_t)time(NULL);
        for (size_t i = 0; i < j->n; i++) {
            struct feed_run *f = feed_by_id(s, j->ids[i]);
            if (f == NULL || j->leases[i].feed_id == 0)
                continue;
            apply_lease(f, &j->leases[i], offset);
            if (f->in_flight || f->claimed || f->completing)
                continue;
            apply_state(f, &j->states[i]);
            f->fetched = 1;
            service_answer_waiters(s, f, j->leases[i].done_token);
        }
    }
    wait_job_free(j);
    for (size_t i = 0; i < s->nfeeds; i++)
        if (waiting_elsewhere(s->feeds[i])) {
            uv_timer_start(&c->wait_timer, on_wait_timer, WAIT_POLL_MS, 0);
            break;
        }
}

static void
on_wait_timer(uv_timer_t *t)
{
    struct service *s = t->data;
    struct cluster *c = s->cluster;
    if (s->stopping || c->stopping)
        return;
    refresh_flush(s);
    if (c->polling)
        return;
    size_t n = 0;
    for (size_t i = 0; i < s->nfeeds; i++)
        n += waiting_elsewhere(s->feeds[i]);
    if (n == 0)
        return;
    struct wait_job *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->ids = calloc(n, sizeof(int64_t))) == NULL ||
        (j->leases = calloc(n, sizeof(*j->leases))) == NULL ||
        (j->states = calloc(n, sizeof(*j->states))) == NULL)
        goto nomem;
    for (size_t i = 0; i < s->nfeeds && j->n < n; i++)
        if (waiting_elsewhere(s->feeds[i]))
            j->ids[j->n++] = s->feeds[i]->id;
    if (sched_job(s, wait_fn, wait_after, j) == 0) {
        c->polling = 1;
        return;
    }
nomem:
    wait_job_free(j);
    uv_timer_start(&c->wait_timer, on_wait_timer, 1000, 0);
}

int
cluster_refresh(struct service *s, struct feed_run *f, struct service_wait *w)
{
    struct cluster *c = s->cluster;
    if (w != NULL) {
        w->after = -1;
        w->next = f->waiters;
        f->waiters = w;
    }
    if (f->in_flight || f->claimed || f->completing) {
        if (w != NULL)
            w->after = f->token - 1; /* joins this node's running fetch */
        return 0;
    }
    f->refresh = 1;
    /* the other refreshes of this turn (`refresh` of every feed) join it */
    uv_timer_start(&c->wait_timer, on_wait_timer, 0, 0);
    return 0;
}

/* ---- lifecycle ---- */

int
cluster_init(struct service *s)
{
    struct cluster *c = calloc(1, sizeof(*c));
    int rc = 0;
    if (c == NULL)
        return -ENOMEM;
    uv_timer_t *timers[NTIMERS] = {&c->lease_timer, &c->notify_timer, &c->gen_timer,
                                   &c->wait_timer, &c->relisten_timer};
    for (int i = 0; i < NTIMERS; i++) {
        if ((rc = uv_timer_init(s->loop, timers[i])) < 0)
            break;
        timers[i]->data = s;
        c->handles++;
    }
    c->gen_seen = -1;
    c->announce = 1;
    s->cluster = c;
    if (rc < 0)
        return rc;
    int64_t lease = cluster_lease(s->cfg);
    uint64_t every = (uint64_t)(lease > 3 ? lease / 3 : 1) * 1000;
    uv_timer_start(&c->lease_timer, on_lease_timer, every, every);
    uv_timer_start(&c->gen_timer, on_gen_timer, POLL_GEN_MS, POLL_GEN_MS);
    relisten(s);
    return 0;
}

static void
on_cluster_closed(uv_handle_t *h)
{
    struct service *s = h->data;
    if (--s->cluster->handles == 0)
        service_part_done(s);
}

void
cluster_stop(struct service *s)
{
    struct cluster *c = s->cluster;
    uv_timer_t *timers[NTIMERS] = {&c->lease_timer, &c->notify_timer, &c->gen_timer,
                                   &c->wait_timer, &c->relisten_timer};
    int timers_open = c->handles - c->poll_open;
    c->stopping = 1;
    if (c->handles == 0) {
        service_part_done(s);
        return;
    }
    for (int i = 0; i < NTIMERS && i < timers_open; i++) {
        uv_timer_stop(timers[i]);
        uv_close((uv_handle_t *)timers[i], on_cluster_closed);
    }
    if (c->poll_open) {
        uv_poll_stop(&c->poll);
        c->poll_open = 0;
        uv_close((uv_handle_t *)&c->poll, on_listen_closed);
    }
}

void
cluster_free(struct service *s)
{
    if (s->cluster == NULL)
        return;
    store_close(s->cluster->lstore);
    for (size_t k = 0; k < s->cluster->ndropped; k++)
        free(s->cluster->dropped[k].name);
    free(s->cluster->dropped);
    free(s->cluster);
    s->cluster = NULL;
}
