/* daemon/cli/cli.h — small helpers shared by the subcommands' argument parsing. */
#ifndef FINFEED_CLI_H
#define FINFEED_CLI_H

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

#endif
