/* daemon/cli/cmd_store.c — the store's subcommands: `finfeed ingest` (files as if
 * fetched for a feed), `finfeed export` (the cleaned feed as Atom, RSS, JSON
 * Feed or Markdown posts) and `finfeed prune` (retention, tombstone_retention). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/cli/cli.h"
#include "daemon/config/config.h"
#include "daemon/emit/emit.h"
#include "daemon/service/ingest.h"
#include "store/store.h"

/* Open the configured store; prints the error. */
static struct store *
open_store(const struct config *cfg)
{
    struct store *s;
    char err[512];
    if (store_open(cfg->daemon.database, &s, err, sizeof(err)) < 0) {
        fprintf(stderr, "finfeed: %s\n", err);
        return NULL;
    }
    if (cfg->daemon.ntracking_params > 0)
        store_set_tracking_params(s, (const char *const *)cfg->daemon.tracking_params,
                                  cfg->daemon.ntracking_params);
    return s;
}

/* `finfeed ingest` reads the next files while the store writes this one: a
 * thread parses up to AHEAD documents ahead (service_ingest_parse), making
 * their articles' dedup keys too (store_prekeys_make), so that the parsing
 * and the database's work overlap. Each file is still stored
 * in its turn, a savepoint each inside a group's transaction (GROUP_DOCS),
 * exactly as one after another. 32 ahead, not 2: the parsing thread keeps
 * working while a group commits (~80 ms each), so that the writer finds
 * documents waiting after it (it waited 0.5 s of a run for them with 2,
 * 0.2 s with 32, on a loaded machine; 1.7 MiB more at the peak). */
#define AHEAD 32

struct ahead_doc {
    int open_errno;           /* the file could not be opened: errno */
    int refused;              /* the feed's options were refused: p.err says why */
    struct service_parsed p;
};

struct ahead {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const struct config *cfg;
    struct service_tickers *tickers; /* the instruments' extractor (SPEC §12), borrowed */
    const struct store_keymaker *keymaker; /* dedup keys made here (SPEC §7), borrowed */
    char **files;
    const char **feeds;
    int nfiles;
    struct ahead_doc doc[AHEAD]; /* file i's in doc[i % AHEAD] while made - taken */
    int made, taken;             /* files parsed, files stored */
    int stop;                    /* the storing side gave up */
    /* the parsing side's own feed options (never the storing side's) */
    struct service_ingest f;
    const char *current;
};

/* Parse file i into *d with q's own feed options. */
static void
ahead_make(struct ahead *q, int i, struct ahead_doc *d)
{
    memset(d, 0, sizeof(*d));
    if (q->current == NULL || strcmp(q->current, q->feeds[i]) != 0) {
        service_ingest_close(&q->f);
        q->current = q->feeds[i];
        if (service_ingest_init(&q->f, NULL, q->cfg, config_find_feed(q->cfg, q->current),
                                q->current, d->p.err, sizeof(d->p.err)) < 0) {
            q->current = NULL;
            d->refused = 1;
            d->p.rc = -EINVAL;
            return;
        }
        service_ingest_set_tickers(&q->f, q->tickers); /* tickers found as it parses */
        q->f.keymaker = q->keymaker; /* and the dedup keys made */
    }
    FILE *fp = strcmp(q->files[i], "-") == 0 ? stdin : fopen(q->files[i], "rb");
    if (fp == NULL) {
        d->open_errno = errno;
        return;
    }
    service_ingest_parse(&q->f, fp, NULL, 0, NULL, (int64_t)time(NULL), &d->p);
    if (fp != stdin)
        fclose(fp);
}

static void *
ahead_run(void *arg)
{
    struct ahead *q = arg;
    for (int i = 0; i < q->nfiles; i++) {
        struct ahead_doc d;
        pthread_mutex_lock(&q->mu);
        while (!q->stop && q->made - q->taken >= AHEAD)
            pthread_cond_wait(&q->cv, &q->mu);
        int stop = q->stop;
        pthread_mutex_unlock(&q->mu);
        if (stop)
            break;
        ahead_make(q, i, &d);
        pthread_mutex_lock(&q->mu);
        q->doc[i % AHEAD] = d;
        q->made++;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
    }
    return NULL;
}

/* File i's document (i == q->taken), parsed by the thread, or here when
 * there is none (threaded 0). */
static void
ahead_take(struct ahead *q, int threaded, int i, struct ahead_doc *d)
{
    if (!threaded) {
        ahead_make(q, i, d);
        q->taken++;
        return;
    }
    pthread_mutex_lock(&q->mu);
    while (q->made <= i)
        pthread_cond_wait(&q->cv, &q->mu);
    *d = q->doc[i % AHEAD];
    q->taken++;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* Stop the thread (threaded) and free what it made and nobody took. */
static void
ahead_end(struct ahead *q, int threaded, pthread_t th)
{
    if (threaded) {
        pthread_mutex_lock(&q->mu);
        q->stop = 1;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
        pthread_join(th, NULL);
    }
    for (int i = q->taken; i < q->made; i++)
        service_parsed_clear(&q->doc[i % AHEAD].p);
    service_ingest_close(&q->f);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
}

/* Documents stored in one transaction (store_group_begin), each in a
 * savepoint: at most GROUP_DOCS of them, or what GROUP_MS of storing
 * holds, then a COMMIT. A file's line is printed once its group has
 * committed, so that every line printed is stored. */
#define GROUP_DOCS 256
#ifndef GROUP_MS /* -DGROUP_MS=…: callgrind runs fifty times slower */
#define GROUP_MS 1000
#endif

struct done {
    int file;
    struct store_counts c;
};

static void
print_counts(const char *file, const struct store_counts *c, int json)
{
    if (json) {
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "file", file, "new",
                              (json_int_t)c->new_, "updated", (json_int_t)c->updated,
                              "duplicates", (json_int_t)c->duplicates, "unchanged",
                              (json_int_t)c->unchanged);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        printf("%s: new %ld, updated %ld, duplicates %ld, unchanged %ld\n", file, c->new_,
               c->updated, c->duplicates, c->unchanged);
    }
}

/* Commit the open group, print its files' lines (done[0..*n)), empty it:
 * 0, or -1 when the commit failed (its files named on stderr, none stored). */
static int
group_end(struct store *s, char **files, struct done *done, int *n, int json)
{
    int rc = store_group_commit(s);
    for (int i = 0; i < *n; i++)
        if (rc < 0)
            fprintf(stderr, "finfeed ingest: %s: not stored: %s\n", files[done[i].file],
                    store_errmsg(s));
        else
            print_counts(files[done[i].file], &done[i].c, json);
    fflush(stdout);
    *n = 0;
    return rc < 0 ? -1 : 0;
}

static int64_t
ms_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int
cmd_ingest(const struct cli_command *cmd, int argc, char **argv)
{
    const char *cfg_path = NULL, *feed = NULL, *v;
    int json = 0, nfiles = 0, rc = 2, m;
    /* files[i] is read for feed feeds[i]: each --feed applies to the files after it */
    char **files = calloc((size_t)argc, sizeof(char *));
    const char **feeds = calloc((size_t)argc, sizeof(char *));
    struct config *cfg = NULL;
    struct store *s = NULL;
    struct service_ingest f = {0};
    struct service_tickers *tickers = NULL;
    struct store_keymaker *keymaker = NULL;
    const char *current = NULL;
    char err[512];
    struct ahead q = {0};
    pthread_t th;
    int threaded = 0, ahead_started = 0, grouped = 0, ndone = 0;
    int64_t group_start = 0;
    struct done *done = calloc(GROUP_DOCS, sizeof(*done));
    if (files == NULL || feeds == NULL || done == NULL) {
        free(files);
        free(feeds);
        free(done);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(cmd, stdout);
            rc = 0;
            goto out;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if ((m = cli_value(argc, argv, &i, "--feed", &v)) != 0) {
            if (m < 0)
                goto out;
            feed = v;
        } else if ((m = cli_config_option(argc, argv, &i, &v)) != 0) {
            if (m < 0)
                goto out;
            cfg_path = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_fail(cmd, "unknown option '%s'", argv[i]);
            goto out;
        } else if (feed == NULL) {
            cli_fail(cmd, "%s: --feed NAME must come first", argv[i]);
            goto out;
        } else {
            feeds[nfiles] = feed;
            files[nfiles++] = argv[i];
        }
    }
    if (feed == NULL || nfiles == 0) {
        cli_fail(cmd, "%s", feed ? "no FILE given" : "--feed NAME is required");
        goto out;
    }
    if ((cfg = cli_config(cfg_path)) == NULL)
        goto out;
    for (int i = 0; i < nfiles; i++)
        if (config_find_feed(cfg, feeds[i]) == NULL && cfg->path != NULL) {
            fprintf(stderr, "finfeed ingest: %s: no feed \"%s\"\n", cfg->path, feeds[i]);
            goto out;
        }
    rc = 1;
    if ((s = open_store(cfg)) == NULL)
        goto out;
    if (service_tickers_new(cfg, &tickers, err, sizeof(err)) < 0) { /* SPEC §12 */
        fprintf(stderr, "finfeed ingest: %s\n", err);
        goto out;
    }
    if (store_keymaker_new(s, &keymaker) < 0) {
        fprintf(stderr, "finfeed ingest: out of memory\n");
        goto out;
    }
    (void)store_set_cache(s, STORE_WRITER_CACHE_KIB); /* a smaller one works, slower */
    rc = 0;
    if (service_ingest_init(&f, s, cfg, config_find_feed(cfg, feeds[0]), feeds[0], err,
                            sizeof(err)) < 0) {
        fprintf(stderr, "finfeed ingest: %s\n", err);
        rc = 2;
        goto out;
    }
    current = feeds[0];
    /* libxml2 is set up (service_ingest_init made a cleaner) before a
     * second thread parses */
    q.cfg = cfg;
    q.tickers = tickers;
    q.keymaker = keymaker;
    q.files = files;
    q.feeds = feeds;
    q.nfiles = nfiles;
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cv, NULL);
    ahead_started = 1;
    threaded = nfiles > 1 && pthread_create(&th, NULL, ahead_run, &q) == 0;
    for (int i = 0; i < nfiles; i++) {
        struct store_counts c;
        struct ahead_doc d;
        if (strcmp(current, feeds[i]) != 0) {
            service_ingest_close(&f);
            current = feeds[i];
            if (service_ingest_init(&f, s, cfg, config_find_feed(cfg, current), current, err,
                                 sizeof(err)) < 0) {
                fprintf(stderr, "finfeed ingest: %s\n", err);
                rc = 2;
                goto out;
            }
        }
        ahead_take(&q, threaded, i, &d);
        if (d.refused) {
            fprintf(stderr, "finfeed ingest: %s\n", d.p.err);
            rc = 2;
            goto out;
        }
        if (d.open_errno != 0) {
            fprintf(stderr, "finfeed ingest: %s: %s\n", files[i], strerror(d.open_errno));
            rc = 1;
            continue;
        }
        if (!grouped) {
            if ((grouped = store_group_begin(s)) < 0) {
                fprintf(stderr, "finfeed ingest: %s\n", strerror(-grouped));
                rc = 1;
                goto out;
            }
            group_start = ms_now();
        }
        int r = service_ingest_store(s, &f, &d.p, &c, err, sizeof(err));
        service_parsed_clear(&d.p); /* kept by a deadlock: not redone here */
        if (r < 0) {
            fprintf(stderr, "finfeed ingest: %s: feed \"%s\": %s\n", files[i], f.name, err);
            rc = 1;
        } else {
            if (d.p.report.problems)
                fprintf(stderr, "finfeed ingest: %s: recovered: %s\n", files[i],
                        d.p.report.message);
            done[ndone++] = (struct done){i, c};
        }
        if (grouped && (ndone == GROUP_DOCS || i == nfiles - 1 ||
                        ms_now() - group_start >= GROUP_MS)) {
            grouped = 0;
            /* a failed group may have taken feeds registered in it along:
             * stop rather than store under their ids */
            if (group_end(s, files, done, &ndone, json) < 0) {
                rc = 1;
                goto out;
            }
        } else if (!grouped) {
            if (r == 0) /* committed on its own */
                print_counts(files[i], &c, json);
            fflush(stdout);
            ndone = 0;
        }
    }
out:
    if (ahead_started)
        ahead_end(&q, threaded, th);
    if (grouped && group_end(s, files, done, &ndone, json) < 0)
        rc = 1;
    service_ingest_close(&f);
    service_tickers_unref(tickers);
    store_keymaker_free(keymaker);
    store_close(s);
    free(done);
    config_free(cfg);
    free(files);
    free(feeds);
    return rc;
}

struct export_ctx {
    struct emit_writer *w;
    const char *dir;
    long written, kept;
    int error;
};

static int
on_article(void *arg, const struct store_article *a)
{
    struct export_ctx *x = arg;
    if (x->w != NULL)
        return emit_writer_add(x->w, a) < 0 ? (x->error = -ENOMEM) : 0;
    /* markdown: one post a file; an unchanged post is not rewritten */
    int written = 0;
    int rc = emit_markdown_write(x->dir, a, &written);
    if (rc < 0) {
        char name[256];
        emit_markdown_name_stored(a, name, sizeof(name));
        fprintf(stderr, "finfeed export: %s/%s: %s\n", x->dir, name, strerror(-rc));
        return x->error = rc;
    }
    if (written)
        x->written++;
    else
        x->kept++;
    return 0;
}

#define EXPORT_TICKERS_MAX 64

/* --ticker's values (repeated, or comma lists) into t[*n], canonical, each
 * once. 0, or -1 with the reason on stderr. */
static int
export_tickers(const char *v, char t[][PARSE_TICKER_LEN], size_t *n)
{
    for (const char *p = v; *p != '\0';) {
        size_t len = strcspn(p, ",");
        char one[64], canon[PARSE_TICKER_LEN];
        const char *reason = "too long";
        snprintf(one, sizeof(one), "%.*s", (int)(len < sizeof(one) ? len : sizeof(one) - 1), p);
        if (len >= sizeof(one) || parse_ticker_syntax(one, canon, sizeof(canon), &reason) < 0) {
            fprintf(stderr, "finfeed export: --ticker: '%s': %s\n", one, reason);
            return -1;
        }
        int dup = 0;
        for (size_t i = 0; i < *n && !dup; i++)
            dup = strcmp(t[i], canon) == 0;
        if (!dup && *n == EXPORT_TICKERS_MAX) {
            fprintf(stderr, "finfeed export: --ticker: at most %d\n", EXPORT_TICKERS_MAX);
            return -1;
        }
        if (!dup)
            memcpy(t[(*n)++], canon, sizeof(canon));
        p += len + (p[len] == ',');
    }
    return 0;
}

int
cmd_export(const struct cli_command *cmd, int argc, char **argv)
{
    const char *cfg_path = NULL, *format = NULL, *dir = NULL, *v, *watch_name = NULL;
    struct store_query q = {0};
    struct config *cfg = NULL;
    struct store *s = NULL;
    struct export_ctx x = {0};
    char tickers[EXPORT_TICKERS_MAX][PARSE_TICKER_LEN];
    const char *ticker_ptrs[EXPORT_TICKERS_MAX];
    size_t ntickers = 0;
    struct service_tickers *extractor = NULL;
    struct service_watchlist *watchlists = NULL, *wl = NULL;
    size_t nwatchlists = 0;
    struct store_watch watch = {0};
    int rc = 2, m;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(cmd, stdout);
            return 0;
        } else if ((m = cli_value(argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0)
                return 2;
            format = v;
        } else if ((m = cli_value(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0)
                return 2;
            dir = v;
        } else if ((m = cli_value(argc, argv, &i, "--feed", &v)) != 0) {
            if (m < 0)
                return 2;
            q.feed = v;
        } else if ((m = cli_value(argc, argv, &i, "--category", &v)) != 0) {
            if (m < 0)
                return 2;
            q.category = v;
        } else if ((m = cli_value(argc, argv, &i, "--query", &v)) != 0) {
            if (m < 0)
                return 2;
            q.text = v;
        } else if ((m = cli_value(argc, argv, &i, "--ticker", &v)) != 0) {
            if (m < 0 || export_tickers(v, tickers, &ntickers) < 0)
                return 2;
        } else if ((m = cli_value(argc, argv, &i, "--watchlist", &v)) != 0) {
            if (m < 0)
                return 2;
            watch_name = v;
        } else if ((m = cli_value(argc, argv, &i, "--limit", &v)) != 0) {
            char *end;
            if (m < 0)
                return 2;
            q.limit = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || q.limit <= 0) {
                fprintf(stderr, "finfeed export: --limit: not a positive number: '%s'\n", v);
                return 2;
            }
        } else if ((m = cli_config_option(argc, argv, &i, &v)) != 0) {
            if (m < 0)
                return 2;
            cfg_path = v;
        } else {
            cli_fail(cmd, "unknown argument '%s'", argv[i]);
            return 2;
        }
    }
    int fmt = format ? emit_format_of(format) : -1;
    int markdown = format && strcmp(format, "markdown") == 0;
    if (fmt < 0 && !markdown) {
        cli_fail(cmd, "--format must be atom, rss, json or markdown");
        return 2;
    }
    if (markdown && dir == NULL) {
        fprintf(stderr, "finfeed export: --format markdown needs --out DIR\n");
        return 2;
    }
    if ((cfg = cli_config(cfg_path)) == NULL)
        return 2;
    if (q.limit <= 0)
        q.limit = markdown ? 1000000 : cfg->output.max_entries;
    /* instruments (SPEC §12): any of the tickers; a watchlist's predicate,
     * its tickers expanded to their issuers' listings as the daemon does */
    for (size_t i = 0; i < ntickers; i++)
        ticker_ptrs[i] = tickers[i];
    q.tickers = ticker_ptrs;
    q.ntickers = ntickers;
    if (watch_name != NULL) {
        char err[512];
        if (config_find_watchlist(cfg, watch_name) == NULL) {
            fprintf(stderr, "finfeed export: %s: no watchlist \"%s\"\n",
                    cfg->path ? cfg->path : "built-in configuration", watch_name);
            goto out;
        }
        rc = 1;
        if (service_tickers_new(cfg, &extractor, err, sizeof(err)) < 0 ||
            service_watchlists_new(cfg, extractor, &watchlists, &nwatchlists) < 0) {
            fprintf(stderr, "finfeed export: %s\n", extractor ? "out of memory" : err);
            goto out;
        }
        for (size_t i = 0; i < nwatchlists; i++)
            if (strcmp(watchlists[i].name, watch_name) == 0)
                wl = &watchlists[i];
        if (service_watchlist_query(wl, &watch) < 0)
            goto out;
        q.watch = &watch;
    }
    rc = 1;
    if ((s = open_store(cfg)) == NULL)
        goto out;
    if (markdown) {
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            fprintf(stderr, "finfeed export: %s: %s\n", dir, strerror(errno));
            goto out;
        }
        x.dir = dir;
    } else {
        char self[1024];
        if (wl != NULL)
            snprintf(self, sizeof(self), "%swatchlists/%s.%s", cfg->output.link, wl->name, format);
        else if (ntickers == 1)
            snprintf(self, sizeof(self), "%stickers/%s.%s", cfg->output.link, tickers[0], format);
        else
            snprintf(self, sizeof(self), "%sfeed.%s", cfg->output.link, format);
        struct emit_feed_info info = {
            .title = cfg->output.title, .link = cfg->output.link, .self = self, .tracking = s};
        if (emit_writer_new((enum emit_format)fmt, &info, &x.w) < 0)
            goto out;
    }
    int r = store_articles(s, &q, on_article, &x);
    if (r < 0 || x.error < 0) {
        fprintf(stderr, "finfeed export: %s\n", r < 0 ? store_errmsg(s) : strerror(-x.error));
        goto out;
    }
    if (x.w != NULL) {
        char *doc;
        size_t len;
        if (emit_writer_finish(x.w, &doc, &len) < 0)
            goto out;
        int ok = fwrite(doc, 1, len, stdout) == len && fflush(stdout) == 0;
        free(doc);
        if (!ok)
            goto out;
    } else {
        fprintf(stderr, "finfeed export: %s: %ld posts written, %ld unchanged\n", dir, x.written,
                x.kept);
    }
    rc = 0;
out:
    emit_writer_free(x.w);
    store_close(s);
    service_watchlist_query_free(&watch);
    service_watchlists_free(watchlists, nwatchlists);
    service_tickers_unref(extractor);
    config_free(cfg);
    return rc;
}

int
cmd_prune(const struct cli_command *cmd, int argc, char **argv)
{
    const char *cfg_path = NULL, *v;
    int m;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(cmd, stdout);
            return 0;
        } else if ((m = cli_config_option(argc, argv, &i, &v)) != 0) {
            if (m < 0)
                return 2;
            cfg_path = v;
        } else {
            cli_fail(cmd, "unknown argument '%s'", argv[i]);
            return 2;
        }
    }
    struct config *cfg = cli_config(cfg_path);
    if (cfg == NULL)
        return 2;
    int rc = 1;
    struct store *s = open_store(cfg);
    int64_t now = (int64_t)time(NULL);
    long n = 0, all = 0;
    if (s != NULL) {
        if (cfg->daemon.retention <= 0) {
            printf("retention is forever: nothing pruned\n");
            rc = 0;
        } else if (store_prune(s, now - cfg->daemon.retention, now, &n) < 0) {
            fprintf(stderr, "finfeed prune: %s\n", store_errmsg(s));
        } else {
            printf("pruned %ld articles older than %lld days (dedup keys kept)\n", n,
                   (long long)(cfg->daemon.retention / 86400));
            rc = 0;
        }
    }
    if (rc == 0 && cfg->daemon.tombstone_retention <= 0) {
        printf("tombstone_retention is forever: no tombstone expired\n");
    } else if (rc == 0) {
        /* batch by batch: a daemon on the same store waits for one at most */
        do {
            if (store_prune_tombstones(s, now - cfg->daemon.tombstone_retention,
                                       STORE_PRUNE_BATCH, &n) < 0) {
                fprintf(stderr, "finfeed prune: %s\n", store_errmsg(s));
                rc = 1;
                break;
            }
            all += n;
        } while (n == STORE_PRUNE_BATCH);
        if (rc == 0)
            printf("expired %ld tombstones no feed listed for %lld days\n", all,
                   (long long)(cfg->daemon.tombstone_retention / 86400));
    }
    store_close(s);
    config_free(cfg);
    return rc;
}
