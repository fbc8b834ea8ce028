/* daemon/cli/cli.h — the command line: one table of commands, each with its
 * usage text (the only copy, for `finfeed --help`, `finfeed CMD --help` and
 * every usage error), and the helpers the commands parse arguments with. */
#ifndef FINFEED_CLI_H
#define FINFEED_CLI_H

#include <stddef.h>
#include <stdio.h>

/* One subcommand. run returns the process exit status: 0 ok, 1 runtime
 * failure, 2 usage or configuration, 3 no daemon (SPEC §1). */
struct cli_command {
    const char *name;
    int (*run)(const struct cli_command *cmd, int argc, char **argv);
    const char *synopsis; /* what follows "finfeed " in a usage line; may hold more lines */
    const char *summary;  /* one line for `finfeed --help` */
    const char *details;  /* the rest of `finfeed CMD --help`: what it does, options */
};

extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;

/* The command called `name`, or NULL. */
const struct cli_command *cli_find(const char *name);
/* "usage: finfeed SYNOPSIS", a blank line and the details, into fp. */
void cli_usage(const struct cli_command *cmd, FILE *fp);
/* Every command's synopsis and summary (`finfeed --help`), into fp. */
void cli_overview(FILE *fp);
/* "finfeed CMD: MESSAGE" and the command's usage on stderr (exit 2 follows). */
void cli_fail(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Match argv[*i] against option `name` taking a value, given as "--name VALUE"
 * or "--name=VALUE". Returns 1 and stores the (borrowed) value in *val,
 * advancing *i past a separate value; 0 when argv[*i] is another argument;
 * -1 when the value is missing (a message is printed on stderr). */
int cli_value(int argc, char **argv, int *i, const char *name, const char **val);

/* cli_value for the configuration option, spelled "-c FILE" or "--config FILE"
 * (either with "=FILE" too). Same returns. */
int cli_config_option(int argc, char **argv, int *i, const char **val);

/* Load the configuration for a subcommand: `path` from -c, else
 * $FINFEED_CONFIG, else /etc/finfeed/finfeed.conf when it exists, else the
 * built-in defaults. Prints the error ("FILE:LINE: …") on stderr and returns
 * NULL on failure (exit 2). */
struct config *cli_config(const char *path);

/* ---- the commands, each in its cmd_*.c ---- */

int cmd_parse(const struct cli_command *cmd, int argc, char **argv);
int cmd_parse_date(const struct cli_command *cmd, int argc, char **argv);
int cmd_ingest(const struct cli_command *cmd, int argc, char **argv);
int cmd_export(const struct cli_command *cmd, int argc, char **argv);
int cmd_migrate(const struct cli_command *cmd, int argc, char **argv);
int cmd_prune(const struct cli_command *cmd, int argc, char **argv);
int cmd_daemon(const struct cli_command *cmd, int argc, char **argv);
int cmd_refresh(const struct cli_command *cmd, int argc, char **argv);
int cmd_status(const struct cli_command *cmd, int argc, char **argv);
int cmd_reload(const struct cli_command *cmd, int argc, char **argv);
int cmd_opml(const struct cli_command *cmd, int argc, char **argv);
int cmd_backup(const struct cli_command *cmd, int argc, char **argv);
int cmd_restore(const struct cli_command *cmd, int argc, char **argv);
int cmd_check(const struct cli_command *cmd, int argc, char **argv);

#endif
