/* fuzz/fuzz_config.c — libFuzzer target for the configuration reader
 * (daemon/config: config_load). The input is written to a file in a
 * temporary folder and read back. Aborts unless the file either loads into a
 * configuration that keeps config.h's promises, or fails with -EINVAL and a
 * message "FILE:LINE: ..." whose line is one of the file's (-ENOMEM aside). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char dir[64], path[96];

static void
fail(const char *why, const char *err)
{
    fprintf(stderr, "fuzz_config: %s\n--- message ---\n%s\n", why, err);
    abort();
}

static void
cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(dir, sizeof(dir), "/tmp/finfeed-fuzz-config.XXXXXX");
    if (mkdtemp(dir) == NULL)
        fail("mkdtemp", strerror(errno));
    snprintf(path, sizeof(path), "%s/finfeed.conf", dir);
    atexit(cleanup);
    return 0;
}

static void
check_loaded(const struct config *c)
{
    if (c->daemon.database == NULL || c->daemon.control_socket == NULL ||
        c->daemon.user_agent == NULL || c->daemon.node == NULL || c->output.title == NULL ||
        c->output.link == NULL)
        fail("a never-NULL field is NULL", "");
    if (c->daemon.interval < 1 || c->daemon.interval > CONFIG_DURATION_MAX ||
        c->daemon.timeout < 1 || c->daemon.timeout > CONFIG_DURATION_MAX ||
        c->daemon.stale_after < 0 || c->daemon.stale_after > CONFIG_DURATION_MAX ||
        c->daemon.retention < 0 || c->daemon.max_feed_size < 1 || c->daemon.concurrency < 1 ||
        c->daemon.per_host < 1 || c->output.max_entries < 1 || c->daemon.lease < 0 ||
        c->daemon.lease > CONFIG_DURATION_MAX)
        fail("a number out of its range", "");
    size_t node = strlen(c->daemon.node);
    if (node < 1 || node > CONFIG_NODE_MAX)
        fail("node name length", c->daemon.node);
    for (size_t i = 0; i < c->output.ntokens; i++) {
        size_t n = strlen(c->output.tokens[i].secret);
        if (n < CONFIG_SECRET_MIN || n > CONFIG_SECRET_MAX)
            fail("secret length", c->output.tokens[i].name);
    }
    for (size_t i = 0; i < c->nfeeds; i++) {
        const struct config_feed *f = &c->feeds[i];
        if (f->name == NULL || f->name[0] == '\0' || f->url == NULL)
            fail("feed without name or url", f->name ? f->name : "");
        if (f->interval < 1 || f->interval > CONFIG_DURATION_MAX)
            fail("feed interval out of range", f->name);
        if (config_find_feed(c, f->name) != f)
            fail("feed names not unique", f->name);
        for (size_t k = 0; k < f->ncategories; k++)
            if (f->categories[k] == NULL || f->categories[k][0] == '\0')
                fail("empty category", f->name);
        if (f->categories != NULL && f->categories[f->ncategories] != NULL)
            fail("categories not NULL-terminated", f->name);
    }
}

/* "PATH:LINE: " with 1 <= LINE <= lines. */
static void
check_message(const char *err, size_t lines)
{
    size_t n = strlen(path);
    if (strncmp(err, path, n) != 0 || err[n] != ':')
        fail("message does not name the file", err);
    char *end;
    errno = 0;
    unsigned long line = strtoul(err + n + 1, &end, 10);
    if (end == err + n + 1 || errno != 0 || *end != ':' || end[1] != ' ')
        fail("message names no line", err);
    if (line < 1 || line > lines)
        fail("message names a line the file does not have", err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        fail("open", strerror(errno));
    if (write(fd, data, size) != (ssize_t)size)
        fail("write", strerror(errno));
    close(fd);

    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';

    struct config *c = NULL;
    char err[1024];
    int rc = config_load(path, &c, err, sizeof(err));
    if (rc == 0) {
        if (c == NULL)
            fail("loaded but no config", "");
        if (err[0] != '\0')
            fail("loaded with a message", err);
        check_loaded(c);
        config_free(c);
    } else if (rc == -EINVAL) {
        if (c != NULL)
            fail("failed but *out set", err);
        check_message(err, lines);
    } else if (rc != -ENOMEM) {
        fail("unexpected error code", err);
    }
    return 0;
}
