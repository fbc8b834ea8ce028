/* daemon/config/config.h — the configuration file (SPEC §2): where it is, what it
 * says, and every default. A loaded configuration is a plain data record,
 * read-only after config_load() and owned by whoever loaded it. */
#ifndef FINFEED_CONFIG_H
#define FINFEED_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct cadence_hours;
struct cadence_plan;

/*
 * File syntax, beyond SPEC §2:
 * - one `key = value` a line; indentation is ignored (an indented line is
 *   never a continuation of the one before); `#` or `;` first on a line is a
 *   comment; so is ` # ...` after a value: a `#` preceded by white space and
 *   followed by white space or the end of the line ("#id" selectors survive),
 *   outside double quotes;
 * - a value in one pair of double quotes loses them: `listen = ""`,
 *   `title = "Markets # daily"`;
 * - CRLF line endings and a UTF-8 BOM are accepted; invalid UTF-8 and
 *   control characters are errors; lines have no length limit;
 * - `[daemon]`, `[output]`, each `[feed "NAME"]` and each `[schedule "NAME"]`
 *   appear at most once;
 *   a key appears at most once in its section.
 *
 * Defaults. Without any file (config_load(NULL)): database `./finfeed.db`,
 * control socket `$XDG_RUNTIME_DIR/finfeed.sock` (else `./finfeed.sock`).
 * With a file that omits them: database `/var/lib/finfeed/finfeed.db` and
 * control socket `/run/finfeed/control.sock`, the paths of SPEC §2's example
 * and of the systemd unit (StateDirectory, RuntimeDirectory). Everything else
 * defaults to the values of SPEC §2's example either way.
 *
 * Relative paths in a file (database, control_socket, markdown_dir) are
 * relative to the directory of that file, not to the working directory, so
 * a configuration means the same under systemd and in a shell. The stored
 * path is that directory joined with the value (not canonicalised); the
 * database name `:memory:` is kept as is, and so is a database that is a
 * PostgreSQL URI (`postgresql://…` or `postgres://…`, SPEC §10).
 */

/* The longest interval, timeout or stale_after (seconds): 365 d. Longer is
 * an error at read, so `now + interval` can never overflow nor a feed wait
 * for ever; only retention may be longer (or `forever`). */
#define CONFIG_DURATION_MAX (365 * 86400)

#define CONFIG_NODE_MAX 64     /* bytes of [daemon] node */
#define CONFIG_SECRET_MIN 16   /* characters of a reader's secret, at least */
#define CONFIG_SECRET_MAX 256  /* and at most */
#define CONFIG_READER_MAX 64   /* bytes of a reader's name */

/* One reader of [output] tokens: `NAME:SECRET`. NAME is 1 to
 * CONFIG_READER_MAX of [A-Za-z0-9._-], unique; SECRET is CONFIG_SECRET_MIN
 * to CONFIG_SECRET_MAX of [A-Za-z0-9._~-] (RFC 3986 unreserved: it goes in
 * a query string and in a Basic credential as it is), unique too, so that a
 * secret names its reader. Both owned by the struct config. */
struct config_token {
    char *name;   /* logged as reader=NAME; never the secret */
    char *secret; /* never logged, never in an error message */
};

/* One `[feed "NAME"]` section. Strings are owned by the struct config that
 * holds the feed; NULL means "not set, inherit or use the entry's own". */
struct config_feed {
    char *name;         /* the quoted NAME, never empty */
    char *url;          /* absolute http, https or file URL (file only with allow_file_urls) */
    char **categories;  /* NULL-terminated, ncategories items, trimmed, none empty */
    size_t ncategories; /* may be 0 */
    char *author;       /* used when an entry names no author, or NULL */
    char *headimg;      /* absolute http(s) URL used when an entry has no image, or NULL */
    int comments;       /* bool, default 0 */
    int64_t interval;   /* seconds, 1 to CONFIG_DURATION_MAX; default: daemon.interval */
    char *timezone;     /* IANA name parse_date() can read, for zoneless dates, or NULL */
    char *user_agent;   /* per-feed User-Agent ("VERSION" expanded), or NULL: daemon.user_agent */
    int republish;      /* bool, default 1; 0: store and deduplicate, never re-emit */
    char *charset;      /* iconv name forcing the body's charset, or NULL: as declared */
    char *remove;       /* selector list for the cleaner (SPEC §4), compiled by
                         * parse_cleaner_new() at read, or NULL */
    char *remove_text;  /* POSIX extended regex (checked with regcomp), or NULL */
    int enabled;        /* bool, default 1 */
    int line;           /* line of the section header, for messages */
    /* when it is checked (issue 13 §2), see struct config_schedule */
    int interval_auto;  /* interval = auto: follows the feed's publishing rate
                         * (cadence_auto) within [min_interval, max_interval];
                         * interval then holds max_interval (the longest wait).
                         * Inherited with interval from [daemon] when unset */
    int64_t min_interval, max_interval; /* auto's bounds, seconds, 1 to
                         * CONFIG_DURATION_MAX, min <= max; default: [daemon]'s */
    char *schedule;     /* name of the [schedule] it follows, or NULL */
    const struct config_schedule *sched; /* that schedule, resolved at read
                         * (borrowed from the config), or NULL */
};

/* One `[schedule "NAME"]` section (issue 13 §2): exchange hours. Owned by
 * the struct config. A feed with `schedule = NAME` is checked every
 * `interval` while open and every `interval_outside` while closed, and at
 * the opening when that comes first. */
struct config_schedule {
    char *name;                   /* the quoted NAME, never empty */
    struct cadence_hours *hours;  /* `hours` (required), parsed with its zone,
                                   * `holidays` attached at read */
    int32_t *holidays;            /* `holidays`: local dates (days since
                                   * 1970-01-01), sorted, nholidays of them */
    size_t nholidays;
    int64_t interval;             /* seconds while open; 0 with interval_auto
                                   * unset: the feed's own interval */
    int interval_auto;            /* interval = auto */
    int64_t interval_outside;     /* seconds while closed (CADENCE_OUTSIDE: 1h) */
    int outside_auto;             /* interval_outside = auto */
    int line;                     /* line of the section header */
};

struct config {
    char *path; /* the file read, as given to config_load(); NULL: built-in defaults */
    struct {
        char *database;        /* SQLite file or postgresql:// URI, never NULL */
        char *control_socket;  /* unix socket path, shorter than sun_path, never NULL */
        char *listen;          /* "HOST:PORT" or "[V6]:PORT" (port 0: any), NULL: HTTP disabled */
        int64_t interval;      /* default fetch interval, seconds, 1 to CONFIG_DURATION_MAX (15m) */
        long concurrency;      /* fetches in flight, all hosts, >= 1 (32) */
        long per_host;         /* fetches in flight per host, >= 1 (2) */
        int64_t timeout;       /* whole transfer, seconds, 1 to CONFIG_DURATION_MAX (30s) */
        int64_t max_feed_size; /* bytes after decompression, 1 to INT64_MAX (16M = 16 MiB) */
        char *user_agent;      /* "VERSION" expanded to FINFEED_VERSION, never NULL */
        int64_t retention;     /* seconds >= 0, no upper bound (90d); 0 (`0` or
                                * `forever`): never prune */
        int64_t tombstone_retention; /* seconds a pruned article's dedup keys are kept
                                      * after an item holding them was last seen:
                                      * 0 (`0` or `forever`) or >= 1d, no upper
                                      * bound (365d) */
        int allow_file_urls;   /* bool (0) */
        int64_t stale_after;   /* seconds, 0 to CONFIG_DURATION_MAX (14d); 0: never stale */
        char **tracking_params;  /* NULL-terminated; a trailing '*' matches any suffix */
        size_t ntracking_params; /* may be 0 */
        char *node;            /* this node's name (SPEC §10): printable UTF-8, no control
                                * character, 1 to CONFIG_NODE_MAX bytes; never NULL
                                * (default "HOSTNAME:PID") */
        int64_t lease;         /* seconds a claim on a feed lasts (SPEC §10), 1 to
                                * CONFIG_DURATION_MAX; 0 (unset): 2 × timeout + 60 */
        long max_rate;         /* requests a second to one host, across every node
                                * sharing the store, 0 to 100000 (0: no limit) */
        /* WebSub (SPEC §11) */
        char *public_url;      /* absolute http(s) URL at which hubs reach this daemon
                                * (its callbacks: PUBLIC_URL/websub/ID), or NULL: no
                                * WebSub subscriber */
        int allow_private_hubs; /* bool (0): hub and callback URLs may be loopback or
                                 * private addresses (tests, an internal hub) */
        /* issue 13 §2: `interval = auto` and its bounds (the feeds' defaults) */
        int interval_auto;     /* interval = auto; interval holds max_interval */
        int64_t min_interval;  /* seconds (1m) */
        int64_t max_interval;  /* seconds (6h) */
    } daemon;
    struct {
        char *title;          /* feed title, never NULL ("Finance news") */
        char *link;           /* absolute http(s) URL ("http://127.0.0.1:8470/") */
        long max_entries;     /* entries per rendered feed, >= 1 (100) */
        char *markdown_dir;   /* directory for Markdown posts, or NULL: none written */
        char **iframe_hosts;  /* NULL-terminated host names whose iframes the cleaner keeps */
        size_t niframe_hosts; /* may be 0 */
        struct config_token *tokens; /* readers allowed to read the output, ntokens items */
        size_t ntokens;              /* 0: the output is open to anyone who reaches it */
        /* WebSub for our own feeds (SPEC §11) */
        char *hub;                  /* "builtin" (this daemon is the hub, at LINK/hub), an
                                     * absolute http(s) URL (a hub pinged on change), or
                                     * NULL: no hub */
        long hub_max_subscriptions; /* the built-in hub's subscriptions, all callbacks,
                                     * 1 to 1000000 (10000) */
        long hub_max_per_host;      /* … of one callback host, 1 to 1000000 (100) */
    } output;
    struct config_feed *feeds; /* in file order */
    size_t nfeeds;
    struct config_schedule *schedules; /* in file order */
    size_t nschedules;
};

/*
 * Reads the configuration file at path (borrowed; NULL: built-in defaults,
 * no feeds) and checks every value. On success stores a new config in *out,
 * which the caller frees with config_free(). On failure *out is untouched
 * and err (errsize bytes, always NUL-terminated when errsize > 0) holds one
 * line without a newline, naming the file as given, the line, the section
 * and the key:
 *   finfeed.conf:12: feed "sina": unknown key 'intervall'
 *   finfeed.conf:3: [daemon] timeout: bad duration 'abc'
 *   finfeed.conf:7: feed "x": interval: bad duration '400d' (at most 365d)
 *   finfeed.conf:9: feed "x": remove: bad selector "div > p": ...
 *   finfeed.conf:20: feed "x": missing 'url'
 * Every value is checked here, with the code that will use it (the cleaner
 * compiles remove, the date parser reads timezone): a file that loads never
 * fails later for what it says, so a reload applies whole or not at all.
 * Returns 0; -EINVAL for any error in the file's content; the negative errno
 * of open/read (-ENOENT, -EACCES, ...) with "PATH: strerror" in err;
 * -ENOMEM. Never prints, never exits. Reads the environment (XDG_RUNTIME_DIR
 * for the built-in control socket).
 */
int config_load(const char *path, struct config **out, char *err, size_t errsize);

/* Frees c and everything it owns. NULL is fine. */
void config_free(struct config *c);

/* The feed called name, or NULL. Borrowed from c. */
const struct config_feed *config_find_feed(const struct config *c, const char *name);

/* How feed f is checked (issue 13 §2), as the plan of daemon/cadence/: its
 * interval or auto with its bounds, and its schedule's hours and intervals.
 * Pointers borrowed from f's configuration. */
void config_feed_plan(const struct config_feed *f, struct cadence_plan *out);
/* The longest f may wait between two checks, seconds (fixed interval, auto's
 * max_interval, the longer of a schedule's two): what a node's listing of it
 * is good for (SPEC §10). */
int64_t config_feed_longest(const struct config_feed *f);

/*
 * The configuration file to read when no -c is given (SPEC §1):
 * $FINFEED_CONFIG when set and non-empty (returned even if the file does not
 * exist: config_load() then fails with -ENOENT, which is the point), else
 * "/etc/finfeed/finfeed.conf" when it exists, else NULL for the built-in
 * defaults. The string is borrowed (static or the environment's).
 */
const char *config_default_path(void);

#endif
