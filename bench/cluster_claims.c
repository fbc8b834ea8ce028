/* bench/cluster_claims.c — the PostgreSQL schedule alone, through the store's
 * API (store.h, SPEC §10): claims/s (batches of --batch due feeds out of
 * --feeds, FOR UPDATE SKIP LOCKED) and completions/s (store_feed_complete),
 * with --jobs processes claiming at once, as nodes do. Checks that no feed
 * is claimed twice and none is left. Built and run by bench/cluster.
 *
 * usage: cluster_claims URI [--feeds N] [--batch N] [--jobs N] [--hosts N]
 *                           [--per-host N] [--complete-seconds S] */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

struct opts {
    const char *uri;
    long feeds, batch, jobs, hosts, per_host;
    double complete_s;
};

/* What each job reports, in shared memory. */
struct job_result {
    long claimed, statements, completed, stale, errors;
    double claim_s, complete_s;
};

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
open_store(const char *uri, struct store **s)
{
    char err[512];
    int rc = store_open(uri, s, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "cluster_claims: %s\n", err);
    return rc;
}

/* The feeds, created (or found) in batches of 1000 per transaction; their
 * ids into ids (ascending as created), all listed by this node. */
static int
make_feeds(struct store *s, const struct opts *o, int64_t *ids)
{
    char name[64], url[128];
    int64_t *intervals = NULL;
    int rc = 0;
    double t0 = now_s();

    for (long i = 0; i < o->feeds; i++) {
        if (i % 1000 == 0 && (rc = store_begin(s)) < 0)
            goto out;
        snprintf(name, sizeof(name), "c%07ld", i);
        snprintf(url, sizeof(url), "http://h%ld.bench.example/feed/%ld.xml", i % o->hosts, i);
        if ((rc = store_feed_ensure(s, name, url, &ids[i])) < 0)
            goto out;
        if ((i % 1000 == 999 || i == o->feeds - 1) && (rc = store_commit(s)) < 0)
            goto out;
    }
    intervals = malloc(sizeof(*intervals) * (size_t)o->feeds);
    if (intervals == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (long i = 0; i < o->feeds; i++)
        intervals[i] = 900;
    printf("  %ld feeds on %ld hosts created in %.1f s\n", o->feeds, o->hosts, now_s() - t0);
    t0 = now_s();
    rc = store_feeds_listed(s, ids, intervals, (size_t)o->feeds);
    printf("  … listed (store_feeds_listed) in %.1f s\n", now_s() - t0);
out:
    if (rc < 0)
        fprintf(stderr, "cluster_claims: making feeds: %s (%s)\n", strerror(-rc),
                store_errmsg(s));
    free(intervals);
    return rc;
}

static long
index_of(const int64_t *ids, long n, int64_t id)
{
    long lo = 0, hi = n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (ids[mid] == id)
            return mid;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* One job (a node): claim until nothing is due, then complete its claims
 * for at most o->complete_s seconds. seen counts each feed's claims across
 * every job. */
static int
job(const struct opts *o, const int64_t *ids, unsigned char *seen, struct job_result *r,
    int go_fd)
{
    struct store *s = NULL;
    struct store_claim *batch = NULL, *mine = NULL;
    struct store_feed_state st = {0};
    char node[32], c;
    size_t n, cap = 0;
    int rc;

    snprintf(node, sizeof(node), "bench-%d", (int)getpid());
    if ((rc = open_store(o->uri, &s)) < 0)
        return 1;
    batch = calloc((size_t)o->batch, sizeof(*batch));
    if (batch == NULL)
        goto fail;
    if (read(go_fd, &c, 1) != 0) /* the barrier: the parent closes the pipe */
        goto fail;

    struct store_claim_opts co = {
        .node = node,
        .feed_ids = ids,
        .n_ids = (size_t)o->feeds,
        .lease = 3600,
        .limit = (size_t)o->batch,
        .per_host = o->per_host,
        .max_rate = 0,
    };
    double t0 = now_s();
    for (;;) {
        rc = store_claim(s, &co, batch, &n);
        r->statements++;
        if (rc < 0) {
            fprintf(stderr, "cluster_claims: store_claim: %s (%s)\n", strerror(-rc),
                    store_errmsg(s));
            r->errors++;
            break;
        }
        if (n == 0)
            break;
        if (r->claimed + (long)n > (long)cap) {
            cap = cap ? cap * 2 : 4096;
            while ((long)cap < r->claimed + (long)n)
                cap *= 2;
            struct store_claim *m = realloc(mine, cap * sizeof(*mine));
            if (m == NULL)
                goto fail;
            mine = m;
        }
        for (size_t i = 0; i < n; i++) {
            long at = index_of(ids, o->feeds, batch[i].feed_id);
            if (at >= 0)
                __atomic_fetch_add(&seen[at], 1, __ATOMIC_RELAXED);
            mine[r->claimed + (long)i] = batch[i];
        }
        r->claimed += (long)n;
        if (r->statements == 1)
            printf("  job %d: first claim of %zu in %.3f s\n", (int)getpid(), n, now_s() - t0);
    }
    r->claim_s = now_s() - t0;

    st.status = "ok";
    st.etag = "\"bench\"";
    st.http = 200;
    t0 = now_s();
    for (long i = 0; i < r->claimed; i++) {
        st.last_fetch = 0;
        rc = store_feed_complete(s, mine[i].feed_id, mine[i].token, &st, 900);
        if (rc == -ESTALE)
            r->stale++;
        else if (rc < 0)
            r->errors++;
        else
            r->completed++;
        if ((i & 63) == 63 && now_s() - t0 > o->complete_s)
            break;
    }
    r->complete_s = now_s() - t0;
    free(mine);
    free(batch);
    store_close(s);
    return r->errors ? 1 : 0;
fail:
    free(mine);
    free(batch);
    store_close(s);
    return 1;
}

static long
arg_long(const char *v, const char *name)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || x < 0) {
        fprintf(stderr, "cluster_claims: %s: bad number '%s'\n", name, v);
        exit(2);
    }
    return x;
}

int
main(int argc, char **argv)
{
    struct opts o = {.feeds = 100000, .batch = 100, .jobs = 1, .hosts = 1000, .complete_s = 10};
    struct store *s = NULL;
    int64_t *ids = NULL;
    unsigned char *seen;
    struct job_result *res;
    int go[2], bad = 0;

    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && o.uri == NULL)
            o.uri = argv[i];
        else if (i + 1 < argc && strcmp(argv[i], "--feeds") == 0)
            o.feeds = arg_long(argv[++i], "--feeds");
        else if (i + 1 < argc && strcmp(argv[i], "--batch") == 0)
            o.batch = arg_long(argv[++i], "--batch");
        else if (i + 1 < argc && strcmp(argv[i], "--jobs") == 0)
            o.jobs = arg_long(argv[++i], "--jobs");
        else if (i + 1 < argc && strcmp(argv[i], "--hosts") == 0)
            o.hosts = arg_long(argv[++i], "--hosts");
        else if (i + 1 < argc && strcmp(argv[i], "--per-host") == 0)
            o.per_host = arg_long(argv[++i], "--per-host");
        else if (i + 1 < argc && strcmp(argv[i], "--complete-seconds") == 0)
            o.complete_s = (double)arg_long(argv[++i], "--complete-seconds");
        else {
            fprintf(stderr, "usage: cluster_claims URI [--feeds N] [--batch N] [--jobs N]"
                            " [--hosts N] [--per-host N] [--complete-seconds S]\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines as they come, into a file too */
    if (o.uri == NULL || o.feeds < 1 || o.batch < 1 || o.jobs < 1 || o.hosts < 1) {
        fprintf(stderr, "cluster_claims: a URI, and counts of at least 1\n");
        return 2;
    }
    ids = calloc((size_t)o.feeds, sizeof(*ids));
    seen = mmap(NULL, (size_t)o.feeds, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    res = mmap(NULL, sizeof(*res) * (size_t)o.jobs, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ids == NULL || seen == MAP_FAILED || res == MAP_FAILED || pipe(go) < 0) {
        fprintf(stderr, "cluster_claims: out of memory\n");
        return 1;
    }
    memset(res, 0, sizeof(*res) * (size_t)o.jobs);
    if (open_store(o.uri, &s) < 0 || make_feeds(s, &o, ids) < 0)
        return 1;
    store_close(s);
    for (long i = 1; i < o.feeds; i++) {
        if (ids[i] <= ids[i - 1]) { /* index_of's binary search wants them ascending */
            fprintf(stderr, "cluster_claims: feed ids not ascending as created\n");
            return 1;
        }
    }

    for (long j = 0; j < o.jobs; j++) {
        pid_t p = fork();
        if (p < 0) {
            perror("cluster_claims: fork");
            return 1;
        }
        if (p == 0) {
            close(go[1]);
            _exit(job(&o, ids, seen, &res[j], go[0]));
        }
    }
    close(go[0]);
    sleep(1); /* every job connected */
    close(go[1]);
    for (long j = 0; j < o.jobs; j++) {
        int status;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            bad = 1;
    }

    long claimed = 0, stmts = 0, completed = 0, stale = 0, twice = 0, never = 0;
    double claim_s = 0, complete_s = 0;
    for (long j = 0; j < o.jobs; j++) {
        claimed += res[j].claimed;
        stmts += res[j].statements;
        completed += res[j].completed;
        stale += res[j].stale;
        claim_s = res[j].claim_s > claim_s ? res[j].claim_s : claim_s;
        complete_s = res[j].complete_s > complete_s ? res[j].complete_s : complete_s;
    }
    for (long i = 0; i < o.feeds; i++) {
        twice += seen[i] > 1;
        never += seen[i] == 0;
    }
    printf("  jobs %ld, batch %ld, per_host %ld: claimed %ld in %.2f s (%ld statements):"
           " %.0f claims/s\n",
           o.jobs, o.batch, o.per_host, claimed, claim_s, stmts,
           claim_s > 0 ? (double)claimed / claim_s : 0.0);
    printf("  completed %ld in %.2f s: %.0f completions/s (%ld refused as stale)\n", completed,
           complete_s, complete_s > 0 ? (double)completed / complete_s : 0.0, stale);
    printf("RESULT jobs=%ld batch=%ld per_host=%ld feeds=%ld claimed=%ld claim_s=%.3f"
           " completed=%ld complete_s=%.3f twice=%ld never=%ld\n",
           o.jobs, o.batch, o.per_host, o.feeds, claimed, claim_s, completed, complete_s, twice,
           never);
    if (twice || stale) {
        fprintf(stderr, "cluster_claims: %ld feeds claimed twice, %ld completions refused\n",
                twice, stale);
        bad = 1;
    }
    if (o.per_host == 0 && never) {
        fprintf(stderr, "cluster_claims: %ld due feeds never claimed\n", never);
        bad = 1;
    }
    free(ids);
    return bad;
}
