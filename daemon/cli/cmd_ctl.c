/* daemon/cli/cmd_ctl.c — the control client: `finfeed refresh`, `status` and
 * `reload` send one line to the daemon's control socket (SPEC §5.3) and
 * print the reply, as it came (--json) or as a table. Exit 3 when no
 * daemon answers. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/cadence/cadence.h"
#include "daemon/cli/cli.h"
#include "daemon/emit/emit_text.h"
#include "daemon/config/config.h"

#define REPLY_MAX (16 << 20)

struct ctl_args {
    const char *cfg, *sock;
    int json, no_wait;
    char line[4096];
    size_t len;
};

/* Parse the common options; the rest (feed names) are appended to a->line.
 * Returns -1 on a usage error, 1 for --help, 0 otherwise. */
static int
parse_args(const struct cli_command *cmd, int argc, char **argv, struct ctl_args *a,
           int max_names)
{
    int names = 0, m;
    const char *v;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(cmd, stdout);
            return 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
        } else if (strcmp(argv[i], "--no-wait") == 0 && max_names > 1) {
            a->no_wait = 1;
        } else if ((m = cli_config_option(argc, argv, &i, &v)) != 0) {
            if (m < 0)
                return -1;
            a->cfg = v;
        } else if ((m = cli_value(argc, argv, &i, "-s", &v)) != 0 ||
                   (m = cli_value(argc, argv, &i, "--socket", &v)) != 0) {
            if (m < 0)
                return -1;
            a->sock = v;
        } else if (argv[i][0] == '-') {
            cli_fail(cmd, "unknown option '%s'", argv[i]);
            return -1;
        } else {
            if (++names > max_names || strpbrk(argv[i], " \t\r\n") != NULL) {
                cli_fail(cmd, "bad argument '%s'", argv[i]);
                return -1;
            }
            size_t k = strlen(argv[i]);
            if (a->len + k + 2 >= sizeof(a->line)) {
                fprintf(stderr, "finfeed %s: too many feed names\n", argv[0]);
                return -1;
            }
            a->line[a->len++] = ' ';
            memcpy(a->line + a->len, argv[i], k);
            a->len += k;
            a->line[a->len] = '\0';
        }
    }
    return 0;
}

/* Send `line`, read one reply line. Returns the parsed reply, or NULL with
 * *exit set (3: no daemon, 1: broken reply). */
static json_t *
ask(const struct ctl_args *a, const char *line, int *exit_code)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct config *cfg = NULL;
    if (a->sock != NULL) {
        snprintf(path, sizeof(path), "%s", a->sock);
    } else {
        if ((cfg = cli_config(a->cfg)) == NULL) {
            *exit_code = 2;
            return NULL;
        }
        snprintf(path, sizeof(path), "%s", cfg->daemon.control_socket);
        config_free(cfg);
    }
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        fprintf(stderr, "finfeed: no daemon answers on %s (%s); is `finfeed daemon` running?\n",
                path, strerror(errno));
        if (fd >= 0)
            close(fd);
        *exit_code = 3;
        return NULL;
    }
    size_t n = strlen(line);
    char *msg = malloc(n + 2);
    if (msg == NULL) {
        close(fd);
        *exit_code = 1;
        return NULL;
    }
    memcpy(msg, line, n);
    msg[n] = '\n';
    ssize_t w = send(fd, msg, n + 1, MSG_NOSIGNAL);
    free(msg);
    if (w != (ssize_t)(n + 1)) {
        fprintf(stderr, "finfeed: %s: %s\n", path, strerror(errno));
        close(fd);
        *exit_code = 3;
        return NULL;
    }
    struct emit_buf reply = {0};
    for (;;) {
        if (emit_buf_reserve(&reply, 4096) < 0 || reply.cap > REPLY_MAX) {
            free(reply.data);
            close(fd);
            *exit_code = 1;
            return NULL;
        }
        ssize_t r = read(fd, reply.data + reply.len, reply.cap - reply.len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        reply.len += (size_t)r;
        reply.data[reply.len] = '\0';
        if (memchr(reply.data + reply.len - (size_t)r, '\n', (size_t)r) != NULL)
            break;
    }
    close(fd);
    char *buf = reply.data;
    size_t len = reply.len;
    json_error_t jerr;
    json_t *o = buf ? json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &jerr) : NULL;
    if (o == NULL) {
        fprintf(stderr, "finfeed: the daemon's reply could not be read%s\n",
                len == 0 ? " (connection closed)" : "");
        *exit_code = len == 0 ? 3 : 1;
    } else if (a->json) {
        fwrite(buf, 1, len, stdout);
        if (len > 0 && buf[len - 1] != '\n')
            fputc('\n', stdout);
    }
    free(buf);
    return o;
}

static int
failed(json_t *o)
{
    if (json_is_true(json_object_get(o, "ok")))
        return 0;
    const char *e = json_string_value(json_object_get(o, "error"));
    fprintf(stderr, "finfeed: the daemon says: %s\n", e ? e : "error");
    return 1;
}

static const char *
s_or(json_t *o, const char *k, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v && *v ? v : dflt;
}

static long
i_of(json_t *o, const char *k)
{
    return (long)json_integer_value(json_object_get(o, k));
}

int
cmd_refresh(const struct cli_command *cmd, int argc, char **argv)
{
    struct ctl_args a = {0};
    int rc = parse_args(cmd, argc, argv, &a, 1 << 20);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    char line[4200];
    snprintf(line, sizeof(line), "refresh%s%s", a.no_wait ? " --no-wait" : "", a.line);
    int exit_code = 0;
    json_t *o = ask(&a, line, &exit_code);
    if (o == NULL)
        return exit_code;
    if (a.json || failed(o)) {
        rc = json_is_true(json_object_get(o, "ok")) ? 0 : 1;
        json_decref(o);
        return rc;
    }
    json_t *queued = json_object_get(o, "queued"), *feeds = json_object_get(o, "feeds"), *f;
    size_t i;
    if (queued != NULL) {
        printf("queued %zu feeds\n", json_array_size(queued));
    } else {
        printf("%-24s %-13s %4s %5s %5s  %s\n", "FEED", "STATUS", "HTTP", "NEW", "DUP", "ERROR");
        json_array_foreach(feeds, i, f)
        {
            printf("%-24s %-13s %4ld %5ld %5ld  %s\n", s_or(f, "feed", "?"),
                   s_or(f, "status", "?"), i_of(f, "http"), i_of(f, "new"),
                   i_of(f, "duplicates"), s_or(f, "error", ""));
            if (strcmp(s_or(f, "status", ""), "error") == 0)
                rc = 1;
        }
    }
    json_decref(o);
    return rc;
}

int
cmd_status(const struct cli_command *cmd, int argc, char **argv)
{
    struct ctl_args a = {0};
    int rc = parse_args(cmd, argc, argv, &a, 1);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    char line[4200];
    snprintf(line, sizeof(line), "status%s", a.line);
    int exit_code = 0;
    json_t *o = ask(&a, line, &exit_code);
    if (o == NULL)
        return exit_code;
    if (a.json || failed(o)) {
        rc = json_is_true(json_object_get(o, "ok")) ? 0 : 1;
        json_decref(o);
        return rc;
    }
    json_t *feeds = json_object_get(o, "feeds"), *f;
    size_t i;
    printf("node %s\n", s_or(o, "node", "?"));
    /* new columns go after ARTICLES: scripts read the first seven */
    printf("%-24s %-9s %4s %-20s %-20s %6s %8s %7s %-16s %-20s %6s  %-40s  %s\n", "FEED",
           "STATE", "HTTP", "LAST FETCH", "NEXT FETCH", "ERRORS", "ARTICLES", "LAG", "OWNER",
           "LEASE UNTIL", "TOKEN", "NEXT BECAUSE", "ERROR");
    json_array_foreach(feeds, i, f)
    {
        char lag[24] = "-";
        if (json_is_integer(json_object_get(f, "lag_median")))
            cadence_span(i_of(f, "lag_median"), lag, sizeof(lag));
        printf("%-24s %-9s %4ld %-20s %-20s %6ld %8ld %7s %-16s %-20s %6ld  %-40s  %s\n",
               s_or(f, "feed", "?"), s_or(f, "state", "?"), i_of(f, "http"),
               s_or(f, "last_fetch", "never"), s_or(f, "next_fetch", "-"), i_of(f, "errors"),
               i_of(f, "articles"), lag, s_or(f, "owner", "-"), s_or(f, "lease_until", "-"),
               i_of(f, "token"), s_or(f, "next_reason", "-"), s_or(f, "error", ""));
    }
    json_decref(o);
    return 0;
}

int
cmd_reload(const struct cli_command *cmd, int argc, char **argv)
{
    struct ctl_args a = {0};
    int rc = parse_args(cmd, argc, argv, &a, 0);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    int exit_code = 0;
    json_t *o = ask(&a, "reload", &exit_code);
    if (o == NULL)
        return exit_code;
    rc = failed(o);
    if (!rc && !a.json)
        printf("reloaded: %ld feeds\n", i_of(o, "feeds"));
    json_decref(o);
    return rc;
}
