/* daemon/cli/cmd_migrate.c — `finfeed migrate --from SRC --to DST`: a whole
 * store copied into an empty one of either backend (store_copy), with a
 * progress line on stderr. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/cli/cli.h"
#include "store/store.h"

struct progress {
    int tty;              /* stderr is a terminal: one line rewritten with \r */
    long feeds, articles; /* the totals of those stages, for the summary */
};

static void
on_store_progress(void *arg, const char *stage, long done, long total)
{
    struct progress *p = arg;
    if (done == total) {
        if (strcmp(stage, "feeds") == 0)
            p->feeds = total;
        else if (strcmp(stage, "articles") == 0)
            p->articles = total;
    }
    if (p->tty)
        fprintf(stderr, "\rmigrate: %s %ld/%ld\033[K%s", stage, done, total,
                done == total ? "\n" : "");
    else if (done == total)
        fprintf(stderr, "migrate: %s %ld/%ld\n", stage, done, total);
}

int
cmd_migrate(const struct cli_command *cmd, int argc, char **argv)
{
    const char *from = NULL, *to = NULL, *v;
    char err[512], shown_from[256], shown_to[256];
    struct store *src = NULL, *dst = NULL;
    struct progress p = {.tty = isatty(2)};
    struct stat st;
    int m, rc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(cmd, stdout);
            return 0;
        } else if ((m = cli_value(argc, argv, &i, "--from", &v)) != 0) {
            if (m < 0)
                return 2;
            from = v;
        } else if ((m = cli_value(argc, argv, &i, "--to", &v)) != 0) {
            if (m < 0)
                return 2;
            to = v;
        } else {
            cli_fail(cmd, "unexpected argument '%s'", argv[i]);
            return 2;
        }
    }
    if (from == NULL || to == NULL || *from == '\0' || *to == '\0') {
        cli_fail(cmd, "%s is required", from == NULL || *from == '\0' ? "--from SRC" : "--to DST");
        return 2;
    }
    store_where_shown(from, shown_from, sizeof(shown_from));
    store_where_shown(to, shown_to, sizeof(shown_to));
    if (strcmp(from, to) == 0) {
        cli_fail(cmd, "--from and --to name the same store (%s)", shown_from);
        return 2;
    }
    /* opening a SQLite path creates it: a source that is not there is a
     * mistake, never an empty store to copy */
    if (strncmp(from, "postgres", 8) != 0 && stat(from, &st) < 0) {
        fprintf(stderr, "finfeed migrate: %s: %s\n", shown_from, strerror(errno));
        return 1;
    }
    if (store_open(from, &src, err, sizeof(err)) < 0) {
        fprintf(stderr, "finfeed migrate: %s\n", err);
        return 1;
    }
    if (store_open(to, &dst, err, sizeof(err)) < 0) {
        fprintf(stderr, "finfeed migrate: %s\n", err);
        store_close(src);
        return 1;
    }
    rc = store_copy(src, dst, on_store_progress, &p);
    if (rc == 1) {
        printf("migrate: %s already holds a copy of %s: nothing to do\n", shown_to, shown_from);
        rc = 0;
    } else if (rc == 0) {
        printf("migrate: copied %s to %s: %ld feeds, %ld articles\n", shown_from, shown_to,
               p.feeds, p.articles);
    } else {
        fprintf(stderr, "finfeed migrate: %s: %s\n", shown_to, store_errmsg(dst));
        rc = 1;
    }
    store_close(dst);
    store_close(src);
    return rc;
}
