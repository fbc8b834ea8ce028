/* daemon/cli/cmd_backup.c — `finfeed backup` (a consistent copy of the
 * configured store while a daemon writes to it), `finfeed restore` (a
 * checked backup installed while no daemon runs) and `finfeed check`
 * (integrity and the store's invariants): argument handling and the lines
 * printed; the work is the store's (store_backup, store_restore, store_check). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/cli/cli.h"
#include "daemon/config/config.h"
#include "store/store.h"

struct out {
    const char *verb; /* "backup", "restore", "check": the lines' prefix */
    int tty;          /* stderr is a terminal: one progress line rewritten with \r */
    int quiet_ok;     /* only problems are printed (restore's check of the backup) */
    long feeds, articles;
};

static void
on_progress(void *arg, const char *stage, long done, long total)
{
    struct out *o = arg;
    if (done == total) {
        if (strcmp(stage, "feeds") == 0)
            o->feeds = total;
        else if (strcmp(stage, "articles") == 0)
            o->articles = total;
    }
    if (o->tty)
        fprintf(stderr, "\r%s: %s %ld/%ld\033[K%s", o->verb, stage, done, total,
                done == total ? "\n" : "");
    else if (done == total)
        fprintf(stderr, "%s: %s %ld/%ld\n", o->verb, stage, done, total);
}

static void
on_report(void *arg, int problem, const char *line)
{
    struct out *o = arg;
    if (problem)
        printf("%s: problem: %s\n", o->verb, line);
    else if (!o->quiet_ok)
        printf("%s: %s\n", o->verb, line);
    fflush(stdout);
}

/* Options shared by the three: -c FILE, --force (when allowed), one
 * positional argument. -1 usage error, 1 --help, 0 parsed. */
static int
parse_args(const struct cli_command *cmd, int argc, char **argv, int allow_force, const char **cfg,
           int *force, const char **arg)
{
    const char *v;
    int m;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(cmd, stdout);
            return 1;
        } else if (allow_force && strcmp(argv[i], "--force") == 0) {
            *force = 1;
        } else if ((m = cli_config_option(argc, argv, &i, &v)) != 0) {
            if (m < 0)
                return -1;
            *cfg = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_fail(cmd, "unknown option '%s'", argv[i]);
            return -1;
        } else if (*arg != NULL) {
            cli_fail(cmd, "unexpected argument '%s'", argv[i]);
            return -1;
        } else {
            *arg = argv[i];
        }
    }
    return 0;
}

/* Whether a daemon answers on the configured control socket (a socket
 * file nobody listens on refuses the connection: no daemon). */
static int
daemon_answers(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (path == NULL || strlen(path) >= sizeof(sun.sun_path))
        return 0;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int up = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    close(fd);
    return up;
}

int
cmd_backup(const struct cli_command *cmd, int argc, char **argv)
{
    const char *cfg_path = NULL, *dest = NULL;
    struct out o = {.verb = "backup", .tty = isatty(2), .quiet_ok = 1};
    char err[1024], shown[256];
    int force = 0, rc = parse_args(cmd, argc, argv, 1, &cfg_path, &force, &dest);
    struct config *cfg;
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (dest == NULL || *dest == '\0') {
        cli_fail(cmd, "OUT.db is required");
        return 2;
    }
    if ((cfg = cli_config(cfg_path)) == NULL)
        return 2;
    store_where_shown(cfg->daemon.database, shown, sizeof(shown));
    rc = store_backup(cfg->daemon.database, dest, force ? STORE_BACKUP_FORCE : 0, on_progress,
                      on_report, &o, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "finfeed backup: %s\n", err);
        rc = 1;
    } else {
        printf("backup: %s written from %s, checked: clean\n", dest, shown);
    }
    config_free(cfg);
    return rc;
}

int
cmd_restore(const struct cli_command *cmd, int argc, char **argv)
{
    const char *cfg_path = NULL, *backup = NULL;
    struct out o = {.verb = "restore", .tty = isatty(2), .quiet_ok = 1};
    char err[1024], shown[256];
    int force = 0, rc = parse_args(cmd, argc, argv, 1, &cfg_path, &force, &backup);
    struct config *cfg;
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (backup == NULL || *backup == '\0') {
        cli_fail(cmd, "BACKUP.db is required");
        return 2;
    }
    if ((cfg = cli_config(cfg_path)) == NULL)
        return 2;
    store_where_shown(cfg->daemon.database, shown, sizeof(shown));
    rc = 1;
    /* the store refuses a SQLite file another process has open; the
     * socket says so for PostgreSQL too, and names the daemon */
    if (daemon_answers(cfg->daemon.control_socket)) {
        fprintf(stderr,
                "finfeed restore: a daemon answers on %s: stop it first (systemctl stop"
                " finfeed), then restore\n",
                cfg->daemon.control_socket);
        goto out;
    }
    int had = access(cfg->daemon.database, F_OK) == 0;
    rc = store_restore(backup, cfg->daemon.database, force ? STORE_BACKUP_FORCE : 0, on_progress,
                       on_report, &o, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "finfeed restore: %s\n", err);
        rc = 1;
    } else if (rc == 1) {
        printf("restore: %s already holds exactly %s: nothing to do\n", shown, backup);
        rc = 0;
    } else {
        printf("restore: %s installed as %s%s\n", backup, shown,
               had && strncmp(cfg->daemon.database, "postgres", 8) != 0
                   ? " (the old one kept as .before-restore)"
                   : "");
    }
out:
    config_free(cfg);
    return rc;
}

int
cmd_check(const struct cli_command *cmd, int argc, char **argv)
{
    const char *cfg_path = NULL, *db = NULL;
    struct out o = {.verb = "check", .tty = isatty(2)};
    struct config *cfg = NULL;
    char err[1024], shown[256];
    long problems = 0;
    int rc = parse_args(cmd, argc, argv, 0, &cfg_path, NULL, &db);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (db == NULL) {
        if ((cfg = cli_config(cfg_path)) == NULL)
            return 2;
        db = cfg->daemon.database;
    }
    store_where_shown(db, shown, sizeof(shown));
    printf("check: %s\n", shown);
    if ((rc = store_check(db, on_report, &o, &problems, err, sizeof(err))) < 0) {
        fprintf(stderr, "finfeed check: %s\n", err);
        rc = 1;
    } else if (problems > 0) {
        printf("check: %s: %ld problem%s\n", shown, problems, problems == 1 ? "" : "s");
        rc = 1;
    } else {
        printf("check: %s: clean\n", shown);
    }
    config_free(cfg);
    return rc;
}
