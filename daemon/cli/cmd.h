/* daemon/cli/cmd.h — subcommand entry points called by main.c. Each returns the
 * process exit status (0 ok, 1 runtime failure, 2 usage/configuration, 3 no daemon). */
#ifndef FINFEED_CMD_H
#define FINFEED_CMD_H

int cmd_parse(int argc, char **argv);
int cmd_parse_date(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_refresh(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_opml(int argc, char **argv);

#endif
