/* bench/cluster_claims.c — the PostgreSQL schedule alone, through the store's
 * API (store.h, SPEC §10): claims/s (batches of --batch due feeds out of
 * --feeds, FOR UPDATE SKIP LOCKED) and completions/s (store_feed_complete),
 * with --jobs processes claiming at once, as nodes do. Checks that no feed
 * is claimed twice and none is left. Built and run by bench/cluster.
 * --listing: the node's feeds recorded once (store_node_listed) and each
 * claim made without them (feed_ids NULL), as a node does; otherwise each
 * claim is given the whole list. CPU of the claim phase: the jobs' own and
 * every PostgreSQL server process's on this machine (from /proc).
 *
 * usage: cluster_claims URI [--feeds N] [--batch N] [--jobs N] [--hosts N]
 *                           [--per-host N] [--complete-seconds S] [--listing] */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

/* Weak: a store library from before store_node_listed still links, and
 * is measured by ids alone (bench/cluster's before). */
#pragma weak store_node_listed
int store_node_listed(struct store *s, const char *node, const int64_t *feed_ids,
                      const int64_t *intervals, size_t n);

struct opts {
    const char *uri;
    long feeds, batch, jobs, hosts, per_host;
    double complete_s;
    int listing; /* claims without ids, among the node's listing */
};

/* What each job reports, in shared memory. */
struct job_result {
    long claimed, statements, completed, stale, errors;
    double claim_s, complete_s;
    double claim_cpu; /* user + system seconds of the job while it claimed */
};

static double
cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds (user + system) of every PostgreSQL server process alive now
 * (command line "postgres: …"), as bench/cluster's pg_ticks. */
static double
pg_cpu_s(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    long ticks = 0, hz = sysconf(_SC_CLK_TCK);
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[300], buf[1024];
        FILE *f;
        size_t len;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        if (strncmp(buf, "postgres:", 9) != 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *p = strrchr(buf, ')');
        long ut = 0, st = 0;
        /* after ") ": state, then 10 fields, then utime and stime */
        if (p != NULL && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld",
                                &ut, &st) == 2)
            ticks += ut + st;
    }
    if (d != NULL)
        closedir(d);
    return hz > 0 ? (double)ticks / (double)hz : 0;
}

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
    if (rc == 0 && o->listing) {
        /* every job a node of its own name (bench-PID), so each lists */
        for (long j = 0; j < o->jobs && rc == 0; j++) {
            char node[32];
            snprintf(node, sizeof(node), "bench-%ld", j);
            t0 = now_s();
            rc = store_node_listed(s, node, ids, intervals, (size_t)o->feeds);
            printf("  … as node %s (store_node_listed) in %.1f s\n", node, now_s() - t0);
        }
    }
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
job(const struct opts *o, long jn, const int64_t *ids, unsigned char *seen, struct job_result *r,
    int go_fd, int claimed_fd, int go2_fd)
{
    struct store *s = NULL;
    struct store_claim *batch = NULL, *mine = NULL;
    struct store_feed_state st = {0};
    char node[32], c;
    size_t n, cap = 0;
    int rc, told = 0;

    snprintf(node, sizeof(node), "bench-%ld", jn);
    if ((rc = open_store(o->uri, &s)) < 0)
        goto fail;
    batch = calloc((size_t)o->batch, sizeof(*batch));
    if (batch == NULL)
        goto fail;
    if (read(go_fd, &c, 1) != 0) /* the barrier: the parent closes the pipe */
        goto fail;

    struct store_claim_opts co = {
        .node = node,
        .feed_ids = o->listing ? NULL : ids,
        .n_ids = o->listing ? 0 : (size_t)o->feeds,
        .lease = 3600,
        .limit = (size_t)o->batch,
        .per_host = o->per_host,
        .max_rate = 0,
    };
    double t0 = now_s(), c0 = cpu_s();
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
    r->claim_cpu = cpu_s() - c0;
    /* every job done claiming before any completes: the parent reads the
     * server's CPU between the two */
    told = 1;
    if (write(claimed_fd, "c", 1) != 1 || read(go2_fd, &c, 1) != 0)
        goto fail;

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
    if (!told && write(claimed_fd, "x", 1) != 1) /* the parent counts every job */
        told = 1;
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
    int go[2], done_p[2], go2[2], bad = 0;

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
        else if (strcmp(argv[i], "--listing") == 0)
            o.listing = 1;
        else {
            fprintf(stderr, "usage: cluster_claims URI [--feeds N] [--batch N] [--jobs N]"
                            " [--hosts N] [--per-host N] [--complete-seconds S] [--listing]\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines as they come, into a file too */
    if (o.listing && store_node_listed == NULL) {
        fprintf(stderr, "cluster_claims: --listing: this store library has no store_node_listed\n");
        return 2;
    }
    if (o.uri == NULL || o.feeds < 1 || o.batch < 1 || o.jobs < 1 || o.hosts < 1) {
        fprintf(stderr, "cluster_claims: a URI, and counts of at least 1\n");
        return 2;
    }
    ids = calloc((size_t)o.feeds, sizeof(*ids));
    seen = mmap(NULL, (size_t)o.feeds, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    res = mmap(NULL, sizeof(*res) * (size_t)o.jobs, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ids == NULL || seen == MAP_FAILED || res == MAP_FAILED || pipe(go) < 0 ||
        pipe(done_p) < 0 || pipe(go2) < 0) {
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
            close(go2[1]);
            close(done_p[0]);
            _exit(job(&o, j, ids, seen, &res[j], go[0], done_p[1], go2[0]));
        }
    }
    close(go[0]);
    close(go2[0]);
    close(done_p[1]);
    sleep(1); /* every job connected */
    double pg0 = pg_cpu_s();
    close(go[1]);
    char c;
    for (long j = 0; j < o.jobs; j++) /* a job that failed closes its end: EOF */
        if (read(done_p[0], &c, 1) != 1)
            break;
    double pg_claim = pg_cpu_s() - pg0;
    close(go2[1]);
    for (long j = 0; j < o.jobs; j++) {
        int status;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            bad = 1;
    }

    long claimed = 0, stmts = 0, completed = 0, stale = 0, twice = 0, never = 0;
    double claim_s = 0, complete_s = 0, claim_cpu = 0;
    for (long j = 0; j < o.jobs; j++) {
        claimed += res[j].claimed;
        stmts += res[j].statements;
        completed += res[j].completed;
        stale += res[j].stale;
        claim_cpu += res[j].claim_cpu;
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
    printf("  claim CPU: jobs %.2f s, PostgreSQL %.2f s (%s)\n", claim_cpu, pg_claim,
           o.listing ? "claims among the node's listing" : "each claim given every id");
    printf("  completed %ld in %.2f s: %.0f completions/s (%ld refused as stale)\n", completed,
           complete_s, complete_s > 0 ? (double)completed / complete_s : 0.0, stale);
    printf("RESULT jobs=%ld batch=%ld per_host=%ld feeds=%ld claimed=%ld claim_s=%.3f"
           " completed=%ld complete_s=%.3f twice=%ld never=%ld claim_cpu=%.2f pg_cpu=%.2f"
           " mode=%s\n",
           o.jobs, o.batch, o.per_host, o.feeds, claimed, claim_s, completed, complete_s, twice,
           never, claim_cpu, pg_claim, o.listing ? "listing" : "ids");
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
