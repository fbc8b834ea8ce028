/* daemon/cli/cli.c — argument and configuration helpers shared by the subcommands. */
#include <stdio.h>
#include <string.h>

#include "daemon/cli/cli.h"
#include "daemon/config/config.h"

int
cli_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "finfeed: option %s needs a value\n", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int
cli_config_option(int argc, char **argv, int *i, const char **val)
{
    int m = cli_value(argc, argv, i, "-c", val);
    return m != 0 ? m : cli_value(argc, argv, i, "--config", val);
}

struct config *
cli_config(const char *path)
{
    struct config *c = NULL;
    char err[512];
    if (path == NULL)
        path = config_default_path();
    if (config_load(path, &c, err, sizeof(err)) < 0) {
        fprintf(stderr, "finfeed: %s\n", err);
        return NULL;
    }
    return c;
}
