/* bench/ingest_bench.c — the in-process figure of bench/ingest: every feed of
 * a configuration whose url is file://… ingested by one process through the
 * same code as `finfeed ingest` (daemon/ingest.c → store/), one document and
 * one transaction a feed, sequentially — what the daemon does on a refresh,
 * without the cost of starting one process per feed. Prints the counts and
 * the CPU and wall seconds. usage: ingest_bench CONFIG */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/config.h"
#include "daemon/ingest.h"
#include "store/store.h"

static double
now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    struct config *cfg = NULL;
    struct store *s = NULL;
    struct store_counts total = {0};
    char err[512];
    int rc = 1;
    if (argc != 2) {
        fprintf(stderr, "usage: ingest_bench CONFIG\n");
        return 2;
    }
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (config_load(argv[1], &cfg, err, sizeof(err)) < 0 ||
        store_open(cfg->daemon.database, &s, err, sizeof(err)) < 0) {
        fprintf(stderr, "ingest_bench: %s\n", err);
        goto out;
    }
    if (cfg->daemon.ntracking_params > 0)
        store_set_tracking_params(s, (const char *const *)cfg->daemon.tracking_params,
                                  cfg->daemon.ntracking_params);
    for (size_t i = 0; i < cfg->nfeeds; i++) {
        const struct config_feed *cf = &cfg->feeds[i];
        struct ingest_feed f;
        struct store_counts c;
        struct parse_report rep;
        if (strncmp(cf->url, "file://", 7) != 0)
            continue;
        FILE *fp = fopen(cf->url + 7, "rb");
        if (fp == NULL) {
            perror(cf->url + 7);
            goto out;
        }
        if (ingest_feed_init(&f, s, cfg, cf, cf->name, err, sizeof(err)) < 0 ||
            ingest_document(s, &f, fp, NULL, 0, NULL, (int64_t)time(NULL), &c, &rep, err,
                            sizeof(err)) < 0) {
            fprintf(stderr, "ingest_bench: %s: %s\n", cf->name, err);
            fclose(fp);
            ingest_feed_close(&f);
            goto out;
        }
        fclose(fp);
        ingest_feed_close(&f);
        total.new_ += c.new_;
        total.updated += c.updated;
        total.duplicates += c.duplicates;
        total.unchanged += c.unchanged;
    }
    store_close(s);
    s = NULL;
    printf("new %ld updated %ld duplicates %ld unchanged %ld cpu %.3f wall %.3f\n", total.new_,
           total.updated, total.duplicates, total.unchanged, now(CLOCK_PROCESS_CPUTIME_ID) - c0,
           now(CLOCK_MONOTONIC) - w0);
    rc = 0;
out:
    store_close(s);
    config_free(cfg);
    return rc;
}
