/* daemon/cli/commands.c — the command table: every subcommand's name, entry
 * point and usage text, written once here and printed by `finfeed --help`,
 * `finfeed CMD --help` and the usage errors of each command. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/cli/cli.h"

const struct cli_command cli_commands[] = {
    {"parse", cmd_parse,
     "parse [--json|--articles|--markdown] [-c FILE --feed NAME] [--base URL]\n"
     "                     [--charset CS] [--tz ZONE] FILE|-",
     "parse one feed document offline and print it",
     "Parse one feed document (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed) and print it.\n"
     "  --json           the decoded parse as JSON (default)\n"
     "  --articles       the normalized, cleaned articles as a JSON array\n"
     "  --markdown       each article as a Markdown post, separated by a line %%%\n"
     "  -c FILE          configuration file (default $FINFEED_CONFIG, /etc/finfeed/finfeed.conf)\n"
     "  --feed NAME      apply feed NAME's configuration (timezone, charset)\n"
     "  --base URL       the document's URL, for relative links\n"
     "  --charset CS     the charset of the HTTP Content-Type\n"
     "  --tz ZONE        zone for dates without one (default: from the feed's language, else "
     "UTC)\n"},
    {"parse-date", cmd_parse_date, "parse-date [--tz ZONE]",
     "normalize date strings read on standard input",
     "Read one date string a line on standard input; print it in UTC as\n"
     "YYYY-MM-DDTHH:MM:SSZ, or \"invalid\", one line each, in order.\n"
     "  --tz ZONE   IANA zone for dates that carry none (default UTC); in\n"
     "              Asia/Shanghai, Asia/Hong_Kong, Asia/Taipei \"CST\" means +08:00\n"},
    {"ingest", cmd_ingest, "ingest [-c FILE] --feed NAME [--json] FILE... [--feed NAME2 FILE...]...",
     "store feed documents as if fetched",
     "Parse each FILE as if fetched for feed NAME (its configuration applies) and store it;\n"
     "print one line a file with its counts (--json: one object a line). A --feed applies\n"
     "to the files after it, so one run can ingest many feeds.\n"},
    {"export", cmd_export,
     "export [-c FILE] --format atom|rss|json|markdown [--out DIR] [--feed NAME]\n"
     "                      [--category CAT] [--query TEXT] [--limit N]",
     "render the cleaned feed from the store",
     "Render the cleaned feed from the store to stdout, newest first; markdown writes one\n"
     "YYYY-MM-DD-SLUG.md post a file into DIR (rewritten only when the article changed).\n"},
    {"prune", cmd_prune, "prune [-c FILE]", "delete articles older than the retention",
     "Delete articles older than [daemon] retention; their dedup keys stay as tombstones, so\n"
     "an old item still listed by a feed never comes back as new. Then expire the tombstones\n"
     "no feed has listed for [daemon] tombstone_retention. In short batches, so a running\n"
     "daemon waits for none of them long.\n"},
    {"migrate", cmd_migrate, "migrate --from SRC --to DST",
     "copy a whole store into an empty one (SQLite <-> PostgreSQL)",
     "Copy the store SRC into the empty store DST, each a SQLite file or a postgresql:// URI:\n"
     "feeds with their fetch state, articles with their ids, uids and dates, sources and\n"
     "the dedup keys (tombstones included). One transaction, checked before it commits: an\n"
     "interrupted copy leaves DST empty, and running it again starts over. A DST that\n"
     "already holds exactly SRC's rows is left alone (exit 0); one that holds anything\n"
     "else is refused (exit 1). Progress on stderr.\n"
     "  --from SRC   the store to read (a SQLite file must exist)\n"
     "  --to DST     the store to write (a SQLite file is created)\n"},
    {"backup", cmd_backup, "backup [-c FILE] [--force] OUT.db",
     "copy the store consistently while the daemon runs",
     "Write a consistent copy of the configured store to the SQLite file OUT.db while a\n"
     "daemon keeps writing to it: SQLite's online backup API (one snapshot, page steps,\n"
     "retried while the database is busy); a PostgreSQL store is copied from one snapshot\n"
     "into a SQLite file of the same schema, so every backup has one format. Written to a\n"
     "temporary file beside OUT.db, checked (as `finfeed check`), synced and only then\n"
     "renamed into place. Progress on stderr.\n"
     "  -c FILE   configuration (default $FINFEED_CONFIG, /etc/finfeed/finfeed.conf)\n"
     "  --force   replace an existing OUT.db\n"},
    {"restore", cmd_restore, "restore [-c FILE] [--force] BACKUP.db",
     "install a backup as the store (daemon stopped)",
     "Check BACKUP.db (as `finfeed check`; a backup with a problem is refused), then\n"
     "install it as the configured store. The daemon must be stopped: refused while its\n"
     "control socket answers or another process has the SQLite database open. SQLite: the\n"
     "old database (with its -wal) is kept as DATABASE.before-restore. PostgreSQL: the\n"
     "backup is copied into the configured database, which must be empty.\n"
     "  -c FILE   configuration (default $FINFEED_CONFIG, /etc/finfeed/finfeed.conf)\n"
     "  --force   replace an existing DATABASE.before-restore\n"},
    {"check", cmd_check, "check [-c FILE] [DB]", "check the store's integrity and invariants",
     "Check the configured store, or DB (a SQLite file or a postgresql:// URI): SQLite's\n"
     "PRAGMA integrity_check and the FTS5 index's integrity-check, then the store's own\n"
     "invariants (a known schema version; every article has a source, its first feed among\n"
     "them, and its guid key; sources and keys name existing feeds and articles, or are\n"
     "tombstones of pruned articles). Prints what it found; exit 0 clean, 1 problems.\n"
     "The index check holds SQLite's write lock while it reads: a daemon's writes wait.\n"},
    {"daemon", cmd_daemon, "daemon [-c FILE] [-v]", "run the daemon in the foreground",
     "Run the daemon in the foreground (systemd runs exactly this): fetch the configured\n"
     "feeds on schedule, store and deduplicate their articles, serve the cleaned feed over\n"
     "HTTP and answer the control socket (finfeed refresh, status, reload).\n"
     "  -c FILE   configuration (default $FINFEED_CONFIG, /etc/finfeed/finfeed.conf)\n"
     "  -v        debug logging\n"},
    {"refresh", cmd_refresh, "refresh [-c FILE | -s SOCKET] [--no-wait] [--json] [FEED...]",
     "ask the daemon to fetch now",
     "Ask the daemon to fetch now (all enabled feeds when none is named); wait for the\n"
     "result and print each feed's outcome. --no-wait returns at once.\n"},
    {"status", cmd_status, "status [-c FILE | -s SOCKET] [--json] [FEED]",
     "show each feed's state from the daemon",
     "Each feed's state: last fetch, HTTP status, next fetch, errors, article count.\n"},
    {"reload", cmd_reload, "reload [-c FILE | -s SOCKET]",
     "make the daemon re-read its configuration",
     "Make the daemon re-read its configuration (as SIGHUP does).\n"},
    {"opml", cmd_opml,
     "opml export [-c FILE]\n"
     "       finfeed opml import [-c FILE] OPML_FILE",
     "export or import subscriptions as OPML",
     "export: print the configured feeds as OPML 2.0.\n"
     "import: read another reader's subscriptions and print them as [feed] sections to\n"
     "        append to the configuration (names not already configured; folders become\n"
     "        categories). Nothing is written.\n"},
};

const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_command *
cli_find(const char *name)
{
    for (size_t i = 0; i < cli_ncommands; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

void
cli_usage(const struct cli_command *cmd, FILE *fp)
{
    fprintf(fp, "usage: finfeed %s\n\n%s", cmd->synopsis, cmd->details);
}

void
cli_overview(FILE *fp)
{
    fprintf(fp, "usage: finfeed COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < cli_ncommands; i++)
        fprintf(fp, "  %-11s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fprintf(fp, "\n`finfeed COMMAND --help` shows a command's usage; `finfeed --version` the "
                "version.\n");
}

void
cli_fail(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "finfeed %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cli_usage(cmd, stderr);
}
