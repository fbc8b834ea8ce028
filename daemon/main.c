/* daemon/main.c — the finfeed binary: dispatches subcommands (like git)
 * through the command table of daemon/cli/. The only file allowed to exit
 * the process. */
#include <stdio.h>
#include <string.h>

#include "daemon/cli/cli.h"

int
main(int argc, char **argv)
{
    const struct cli_command *cmd;

    if (argc < 2) {
        cli_overview(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("finfeed %s\n", FINFEED_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        cli_overview(stdout);
        return 0;
    }
    if ((cmd = cli_find(argv[1])) != NULL)
        return cmd->run(cmd, argc - 1, argv + 1);
    fprintf(stderr, "finfeed: unknown command '%s'\n", argv[1]);
    cli_overview(stderr);
    return 2;
}
