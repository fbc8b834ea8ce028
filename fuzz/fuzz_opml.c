/* fuzz/fuzz_opml.c — libFuzzer target for `finfeed opml import`
 * (daemon/cli/cmd_opml.c: import_opml, its XML walk, feed names and values).
 * The command's file is compiled in here to reach its static reader without a
 * new API; its stdout goes to a temporary file, its stderr to /dev/null. The
 * command says "append them to your configuration": aborts unless a
 * configuration followed by what it printed loads (config_load). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

static FILE *fuzz_devnull;
#undef stderr
#define stderr fuzz_devnull
#include "daemon/cli/cmd_opml.c"
#undef stderr

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A configuration the import must extend: its names are taken already. */
static const char base_conf[] = "[daemon]\n"
                                "database = :memory:\n"
                                "[output]\n"
                                "title = Fuzz\n"
                                "[feed \"example\"]\n"
                                "url = http://example.com/feed.xml\n"
                                "[feed \"f\"]\n"
                                "url = https://f.test/\n"
                                "categories = a, b\n";

static char dir[64], in_path[96], out_path[96];
static struct config *base_cfg;

static void
fail(const char *why, const char *detail)
{
    fprintf(stderr, "fuzz_opml: %s\n%s\n", why, detail);
    abort();
}

static void
cleanup(void)
{
    unlink(in_path);
    unlink(out_path);
    rmdir(dir);
}

static void
write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fail("write", strerror(errno));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    (void)argc, (void)argv;
    snprintf(dir, sizeof(dir), "/tmp/finfeed-fuzz-opml.XXXXXX");
    if (mkdtemp(dir) == NULL)
        fail("mkdtemp", strerror(errno));
    snprintf(in_path, sizeof(in_path), "%s/in.opml", dir);
    snprintf(out_path, sizeof(out_path), "%s/out.conf", dir);
    atexit(cleanup);
    write_file(out_path, base_conf, sizeof(base_conf) - 1);
    if (config_load(out_path, &base_cfg, err, sizeof(err)) != 0)
        fail("base_cfg configuration", err);
    /* libFuzzer reports on stderr; stdout is the command's output */
    if ((fuzz_devnull = fopen("/dev/null", "w")) == NULL || freopen(out_path, "w", stdout) == NULL)
        fail("redirect", strerror(errno));
    xmlInitParser();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_file(in_path, data, size);
    if (fflush(stdout) != 0 || ftruncate(fileno(stdout), 0) != 0 || fseek(stdout, 0, SEEK_SET) != 0)
        fail("truncate", strerror(errno));
    fputs(base_conf, stdout);
    int rc = import_opml(base_cfg, in_path);
    if (fflush(stdout) != 0)
        fail("flush", strerror(errno));
    if (rc != 0)
        return 0; /* not an OPML document */

    struct config *c = NULL;
    char err[1024];
    if (config_load(out_path, &c, err, sizeof(err)) != 0) {
        char text[4096];
        FILE *f = fopen(out_path, "r");
        size_t n = f != NULL ? fread(text, 1, sizeof(text) - 1, f) : 0;
        text[n] = '\0';
        if (f != NULL)
            fclose(f);
        fprintf(stderr, "--- configuration ---\n%s\n", text);
        fail("the import does not load as configuration", err);
    }
    if (c->nfeeds < base_cfg->nfeeds)
        fail("feeds lost", "");
    config_free(c);
    return 0;
}
