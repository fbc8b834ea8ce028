/* daemon/cli/cmd_parse_date.c — `finfeed parse-date [--tz ZONE]`: one date string a
 * line on stdin, one "YYYY-MM-DDTHH:MM:SSZ" or "invalid" a line on stdout, each
 * flushed at once so the command can serve as a co-process. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/cli/cli.h"
#include "parse/parse.h"

int
cmd_parse_date(const struct cli_command *cmd, int argc, char **argv)
{
    const char *tz = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        const char *val;
        int r = cli_value(argc, argv, &i, "--tz", &val);
        if (r < 0)
            return 2;
        if (r > 0) {
            tz = val;
            continue;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(cmd, stdout);
            return 0;
        }
        cli_fail(cmd, "unknown argument '%s'", argv[i]);
        return 2;
    }
    if (tz != NULL) {
        /* parse.h has no zone lookup of its own: a zone-less date tells. */
        int64_t t;
        if (*tz == '\0' || parse_date("2000-01-01 00:00:00", tz, &t) < 0) {
            fprintf(stderr, "finfeed parse-date: unknown time zone '%s'\n", tz);
            return 2;
        }
    }

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        char iso[32];
        int64_t t;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if ((size_t)n == strlen(line) && parse_date(line, tz, &t) == 0)
            puts(parse_date_iso(t, iso, sizeof(iso)));
        else
            puts("invalid"); /* also a line with a NUL byte in it */
        if (fflush(stdout) != 0) {
            perror("finfeed parse-date: stdout");
            rc = 1;
            break;
        }
    }
    if (rc == 0 && ferror(stdin)) {
        perror("finfeed parse-date: stdin");
        rc = 1;
    }
    free(line);
    return rc;
}
