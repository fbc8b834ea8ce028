/* daemon/main.c — the finfeed binary: dispatches subcommands (like git).
 * The only file allowed to exit the process. */
#include <stdio.h>
#include <string.h>

#include "daemon/cli/cmd.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static const struct command commands[] = {
    {"parse", cmd_parse,
     "parse [--json|--articles|--markdown] [-c FILE --feed NAME] [--base URL] [--charset CS] FILE|-"},
    {"parse-date", cmd_parse_date, "parse-date [--tz ZONE]"},
    {"ingest", cmd_ingest, "ingest [-c FILE] --feed NAME [--json] FILE..."},
    {"export", cmd_export,
     "export [-c FILE] --format atom|rss|json|markdown [--out DIR] [--feed NAME]\n"
     "                 [--category CAT] [--query TEXT] [--limit N]"},
    {"prune", cmd_prune, "prune [-c FILE]"},
    {"daemon", cmd_daemon, "daemon [-c FILE] [-v]"},
    {"refresh", cmd_refresh, "refresh [FEED...] [--no-wait] [--json] [-c FILE | -s SOCKET]"},
    {"status", cmd_status, "status [FEED] [--json] [-c FILE | -s SOCKET]"},
    {"reload", cmd_reload, "reload [-c FILE | -s SOCKET]"},
    {"opml", cmd_opml, "opml export [-c FILE] | opml import [-c FILE] OPML_FILE"},
};

static void
usage(FILE *fp)
{
    fprintf(fp, "usage: finfeed COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(fp, "  finfeed %s\n", commands[i].usage);
    fprintf(fp, "  finfeed --version\n\nEvery command takes --help.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("finfeed %s\n", FINFEED_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "finfeed: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
