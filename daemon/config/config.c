/* daemon/config/config.c — reads the configuration file (SPEC §2): lines, sections,
 * error messages, whole-file checks, and the public API. inih runs the
 * section/key loop; on_ini_read() feeds it one normalised line at a time,
 * because Debian's inih r55 passes no line number to its handler, cuts lines
 * at 200 bytes, continues indented lines and knows only `;` comments. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "daemon/config/config_int.h"

#define CONFIG_MAX_FILE (16 << 20) /* bytes: a configuration, not a database */
#define CONFIG_MAX_KEY 64          /* longer keys are unknown keys, never passed to inih */
#define CONFIG_MAX_NAME 200        /* bytes of a feed name */

/* What on_ini_read() hands inih as the section header, by enum config_section. */
static const char *const section_names[] = {"", "daemon", "output", "feed", "schedule", "tickers",
                                             "watchlist"};

/* One config_load() of a file: the text, where the reader is, the first error. */
struct parse_state {
    struct config *c;              /* being filled */
    const char *file;              /* as given, for messages */
    char *dir;                     /* the file's directory, for relative paths; owned */
    char *text;                    /* the whole file, NUL-terminated lines cut in place; owned */
    size_t len, pos;               /* of text */
    int lineno;                    /* of the line on_ini_read() returned last */
    enum config_section kind;      /* of the current section */
    int daemon_line;               /* where [daemon] was, 0: not yet */
    int output_line;               /* where [output] was, 0: not yet */
    int tickers_line;              /* where [tickers] was, 0: not yet */
    int key_line[CONFIG_MAX_KEYS]; /* per key of the current section: where set, 0: not yet */
    int *url_line;                 /* per feed: line of its url, parallel to c->feeds; owned */
    int *sched_line;               /* per feed: line of its schedule key; owned */
    size_t feeds_cap;              /* allocated items of c->feeds and url_line */
    /* c->feeds by name: an open-addressing table of index + 1 (0: empty),
     * nbyname slots (a power of two, at most half full); owned. A linear
     * search for duplicates was 500,000 strcmp for 1,000 feeds */
    size_t *byname, nbyname;
    char *value;                   /* of the current key line, unquoted; points into text */
    int rc;                        /* first error: 0, -EINVAL, -ENOMEM */
    char *err;                     /* the caller's message buffer, or NULL */
    size_t errsize;                /* of err */
};

static void fail(struct parse_state *st, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error only: "FILE:LINE: message". */
static void
fail(struct parse_state *st, int line, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (st->rc != 0)
        return;
    st->rc = -EINVAL;
    if (st->err == NULL || st->errsize == 0)
        return;
    if (line > 0)
        n = snprintf(st->err, st->errsize, "%s:%d: ", st->file, line);
    else
        n = snprintf(st->err, st->errsize, "%s: ", st->file);
    if (n < 0 || (size_t)n >= st->errsize)
        return;
    va_start(ap, fmt);
    vsnprintf(st->err + n, st->errsize - (size_t)n, fmt, ap);
    va_end(ap);
}

static void
fail_nomem(struct parse_state *st)
{
    if (st->rc != 0)
        return;
    st->rc = -ENOMEM;
    if (st->err != NULL && st->errsize > 0)
        snprintf(st->err, st->errsize, "%s: out of memory", st->file);
}

/* 0 when s[0..n) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static int
check_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char b = s[i];
        size_t len;
        unsigned cp;

        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xc2 && b <= 0xdf)
            len = 2, cp = b & 0x1f;
        else if (b >= 0xe0 && b <= 0xef)
            len = 3, cp = b & 0x0f;
        else if (b >= 0xf0 && b <= 0xf4)
            len = 4, cp = b & 0x07;
        else
            return -1;
        if (n - i < len)
            return -1;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        i += len;
    }
    return 0;
}

/* Cuts a trailing comment: a '#' after a blank and before a blank or the
 * end, outside double quotes ("#id" selectors and URL fragments stay). */
static void
strip_comment(char *s)
{
    int quoted = 0;

    for (char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '#' && !quoted && p > s && config_is_space(p[-1]) &&
                 (p[1] == '\0' || config_is_space(p[1]))) {
            *p = '\0';
            return;
        }
    }
}

/* "[daemon]", "[output]" or "feed \"NAME\"": the subject of a message. */
static const char *
where(const struct parse_state *st, char *buf, size_t size)
{
    switch (st->kind) {
    case CONFIG_SEC_DAEMON:
        return "[daemon]";
    case CONFIG_SEC_OUTPUT:
        return "[output]";
    case CONFIG_SEC_FEED:
        snprintf(buf, size, "feed \"%s\"", st->c->feeds[st->c->nfeeds - 1].name);
        return buf;
    case CONFIG_SEC_SCHEDULE:
        snprintf(buf, size, "schedule \"%s\"", st->c->schedules[st->c->nschedules - 1].name);
        return buf;
    case CONFIG_SEC_TICKERS:
        return "[tickers]";
    case CONFIG_SEC_WATCHLIST:
        snprintf(buf, size, "watchlist \"%s\"", st->c->watchlists[st->c->nwatchlists - 1].name);
        return buf;
    case CONFIG_SEC_NONE:
        break;
    }
    return "(no section)";
}

/* "[daemon] KEY" or "feed \"NAME\": KEY": who a message about a key is
 * about. A feed's name is quoted text, hence the colon after it. */
static const char *
where_key(const struct parse_state *st, const char *key, char *buf, size_t size)
{
    char wbuf[CONFIG_MAX_NAME + 16];
    const char *w = where(st, wbuf, sizeof(wbuf));

    snprintf(buf, size, "%s%s %s", w,
             st->kind == CONFIG_SEC_FEED || st->kind == CONFIG_SEC_SCHEDULE ||
                     st->kind == CONFIG_SEC_WATCHLIST
                 ? ":"
                 : "",
             key);
    return buf;
}

/* The slot of feed `name` in st->byname: its own, or the empty one it
 * would take. */
static size_t *
byname_slot(const struct parse_state *st, size_t *table, size_t n, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    size_t i = (size_t)h & (n - 1);
    while (table[i] != 0 && strcmp(st->c->feeds[table[i] - 1].name, name) != 0)
        i = (i + 1) & (n - 1);
    return &table[i];
}

/* The feed named `name`, or NULL. */
static const struct config_feed *
feed_named(const struct parse_state *st, const char *name)
{
    if (st->nbyname == 0)
        return NULL;
    size_t *slot = byname_slot(st, st->byname, st->nbyname, name);
    return *slot ? &st->c->feeds[*slot - 1] : NULL;
}

/* c->feeds[i] into st->byname, grown as it fills. 0 or -ENOMEM. */
static int
byname_add(struct parse_state *st, size_t i)
{
    if (2 * (i + 1) > st->nbyname) {
        size_t n = st->nbyname ? 2 * st->nbyname : 64;
        size_t *table = calloc(n, sizeof(*table));
        if (table == NULL)
            return -ENOMEM;
        for (size_t j = 0; j < i; j++)
            *byname_slot(st, table, n, st->c->feeds[j].name) = j + 1;
        free(st->byname);
        st->byname = table;
        st->nbyname = n;
    }
    *byname_slot(st, st->byname, st->nbyname, st->c->feeds[i].name) = i + 1;
    return 0;
}

/* Appends a feed with its defaults; its interval stays 0 until the whole
 * file is read, because [daemon] interval may come later. */
static int
feed_add(struct parse_state *st, const char *name, int line)
{
    struct config *c = st->c;
    struct config_feed *f;

    if (c->nfeeds == st->feeds_cap) {
        size_t cap = st->feeds_cap ? st->feeds_cap * 2 : 8;
        struct config_feed *feeds = realloc(c->feeds, cap * sizeof(*feeds));
        if (feeds == NULL)
            return -ENOMEM;
        c->feeds = feeds;
        int *lines = realloc(st->url_line, cap * sizeof(*lines));
        if (lines == NULL)
            return -ENOMEM;
        st->url_line = lines;
        if ((lines = realloc(st->sched_line, cap * sizeof(*lines))) == NULL)
            return -ENOMEM;
        st->sched_line = lines;
        st->feeds_cap = cap;
    }
    f = &c->feeds[c->nfeeds];
    memset(f, 0, sizeof(*f));
    f->name = strdup(name);
    f->categories = calloc(1, sizeof(*f->categories));
    if (f->name == NULL || f->categories == NULL) {
        free(f->name);
        free(f->categories);
        return -ENOMEM;
    }
    f->republish = 1;
    f->enabled = 1;
    f->tickers = 1;
    f->line = line;
    st->url_line[c->nfeeds] = 0;
    st->sched_line[c->nfeeds] = 0;
    c->nfeeds++;
    return byname_add(st, c->nfeeds - 1);
}

/* Appends a [schedule "NAME"] (issue 13 §2); checked once the file is read. */
static int
schedule_add(struct parse_state *st, const char *name, int line)
{
    struct config *c = st->c;
    struct config_schedule *grown = realloc(c->schedules, (c->nschedules + 1) * sizeof(*grown));
    if (grown == NULL)
        return -ENOMEM;
    c->schedules = grown;
    memset(&grown[c->nschedules], 0, sizeof(*grown));
    if ((grown[c->nschedules].name = strdup(name)) == NULL)
        return -ENOMEM;
    grown[c->nschedules].line = line;
    c->nschedules++;
    return 0;
}

/* [tickers] and [watchlist "NAME"] (SPEC §12): 1 when `inner` (the
 * header's text) is one of them and was handled (0 written to *rc, or the
 * parse has failed), 0 when it is another section. */
static int
instruments_section(struct parse_state *st, char *inner, char *out, size_t outsize, int *rc)
{
    *rc = 0;
    if (strcmp(inner, "tickers") == 0) {
        if (st->tickers_line != 0) {
            fail(st, st->lineno, "duplicate section [tickers] (first at line %d)",
                 st->tickers_line);
            *rc = -EINVAL;
            return 1;
        }
        st->tickers_line = st->lineno;
        st->kind = CONFIG_SEC_TICKERS;
        snprintf(out, outsize, "[%s]\n", section_names[st->kind]);
        return 1;
    }
    if (strncmp(inner, "watchlist", 9) != 0 ||
        (inner[9] != '\0' && inner[9] != '"' && !config_is_space(inner[9])))
        return 0;
    struct config *c = st->c;
    char *name = config_trim(inner + 9), *end = name + strlen(name);
    if (end - name < 2 || name[0] != '"' || end[-1] != '"' ||
        memchr(name + 1, '"', (size_t)(end - name - 2)) != NULL) {
        fail(st, st->lineno, "bad section [%s]: write [watchlist \"NAME\"]", inner);
        *rc = -EINVAL;
        return 1;
    }
    *--end = '\0';
    name++;
    if (*name == '\0' || strlen(name) > CONFIG_MAX_NAME) {
        fail(st, st->lineno, "watchlist name must be 1 to %d bytes", CONFIG_MAX_NAME);
        *rc = -EINVAL;
        return 1;
    }
    const struct config_watchlist *dup = config_find_watchlist(c, name);
    if (dup != NULL) {
        fail(st, st->lineno, "duplicate watchlist \"%s\" (first at line %d)", name, dup->line);
        *rc = -EINVAL;
        return 1;
    }
    struct config_watchlist *grown = realloc(c->watchlists, (c->nwatchlists + 1) * sizeof(*grown));
    if (grown == NULL || (name = strdup(name)) == NULL) {
        if (grown != NULL)
            c->watchlists = grown;
        fail_nomem(st);
        *rc = -ENOMEM;
        return 1;
    }
    c->watchlists = grown;
    memset(&grown[c->nwatchlists], 0, sizeof(*grown));
    grown[c->nwatchlists].name = name;
    grown[c->nwatchlists].line = st->lineno;
    c->nwatchlists++;
    memset(st->key_line, 0, sizeof(st->key_line));
    st->kind = CONFIG_SEC_WATCHLIST;
    snprintf(out, outsize, "[%s]\n", section_names[st->kind]);
    return 1;
}

/* Handles "[...]" (trimmed, comment cut); writes the canonical header for
 * inih into out. 0 or the parse has failed. */
static int
section_start(struct parse_state *st, char *line, char *out, size_t outsize)
{
    size_t n = strlen(line);
    char *inner, *name, *end;
    int rc;

    if (line[n - 1] != ']') {
        fail(st, st->lineno, "bad section header '%s'", line);
        return -EINVAL;
    }
    line[n - 1] = '\0';
    inner = config_trim(line + 1);
    memset(st->key_line, 0, sizeof(st->key_line));
    if (strcmp(inner, "daemon") == 0 || strcmp(inner, "output") == 0) {
        int *seen = inner[0] == 'd' ? &st->daemon_line : &st->output_line;
        if (*seen != 0) {
            fail(st, st->lineno, "duplicate section [%s] (first at line %d)", inner, *seen);
            return -EINVAL;
        }
        *seen = st->lineno;
        st->kind = inner[0] == 'd' ? CONFIG_SEC_DAEMON : CONFIG_SEC_OUTPUT;
        snprintf(out, outsize, "[%s]\n", section_names[st->kind]);
        return 0;
    }
    if (instruments_section(st, inner, out, outsize, &rc))
        return rc;
    /* [feed "NAME"] or [schedule "NAME"] */
    const char *kw = strncmp(inner, "schedule", 8) == 0 ? "schedule" : "feed";
    size_t kwlen = strlen(kw);
    if (strncmp(inner, kw, kwlen) != 0 ||
        (inner[kwlen] != '\0' && inner[kwlen] != '"' && !config_is_space(inner[kwlen]))) {
        fail(st, st->lineno, "unknown section [%s]", inner);
        return -EINVAL;
    }
    name = config_trim(inner + kwlen);
    end = name + strlen(name);
    if (end - name < 2 || name[0] != '"' || end[-1] != '"' ||
        memchr(name + 1, '"', (size_t)(end - name - 2)) != NULL) {
        fail(st, st->lineno, "bad section [%s]: write [%s \"NAME\"]", inner, kw);
        return -EINVAL;
    }
    *--end = '\0';
    name = name + 1;
    if (*name == '\0' || strlen(name) > CONFIG_MAX_NAME) {
        fail(st, st->lineno, "%s name must be 1 to %d bytes", kw, CONFIG_MAX_NAME);
        return -EINVAL;
    }
    if (kw[0] == 's') {
        for (size_t i = 0; i < st->c->nschedules; i++) {
            if (strcmp(st->c->schedules[i].name, name) == 0) {
                fail(st, st->lineno, "duplicate schedule \"%s\" (first at line %d)", name,
                     st->c->schedules[i].line);
                return -EINVAL;
            }
        }
        if (schedule_add(st, name, st->lineno) < 0) {
            fail_nomem(st);
            return -ENOMEM;
        }
        st->kind = CONFIG_SEC_SCHEDULE;
        snprintf(out, outsize, "[%s]\n", section_names[CONFIG_SEC_SCHEDULE]);
        return 0;
    }
    const struct config_feed *dup = feed_named(st, name);
    if (dup != NULL) {
        fail(st, st->lineno, "duplicate feed \"%s\" (first at line %d)", name, dup->line);
        return -EINVAL;
    }
    rc = feed_add(st, name, st->lineno);
    if (rc < 0) {
        fail_nomem(st);
        return rc;
    }
    st->kind = CONFIG_SEC_FEED;
    snprintf(out, outsize, "[%s]\n", section_names[CONFIG_SEC_FEED]);
    return 0;
}

/*
 * inih's reader (fgets-like): returns the next physical line, normalised,
 * so that inih's line count is ours and its quirks never apply: comments
 * and blanks cut, headers checked and made canonical, a key line reduced to
 * "key=" with the real value left in st->value for on_ini_pair(), which
 * inih calls before it reads again. NULL at the end or after an error.
 */
static char *
on_ini_read(char *str, int num, void *stream)
{
    struct parse_state *st = stream;
    char *line, *nl, *eq, *key, *value;
    size_t n;
    char wbuf[CONFIG_MAX_NAME + 16];

    if (num < CONFIG_MAX_KEY + 8) /* an inih built with a tiny INI_MAX_LINE */
        fail(st, 0, "inih's line buffer is too small");
    if (st->rc != 0 || st->pos >= st->len)
        return NULL;
    line = st->text + st->pos;
    nl = memchr(line, '\n', st->len - st->pos);
    n = nl != NULL ? (size_t)(nl - line) : st->len - st->pos;
    st->pos += n + (nl != NULL);
    line[n] = '\0';
    st->lineno++;
    if (n > 0 && line[n - 1] == '\r')
        line[--n] = '\0';
    if (st->lineno == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
        line += 3, n -= 3;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)line[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            fail(st, st->lineno, "control character 0x%02x", ch);
            return NULL;
        }
    }
    if (check_utf8((const unsigned char *)line, n) != 0) {
        fail(st, st->lineno, "invalid UTF-8");
        return NULL;
    }
    line = config_trim(line);
    if (line[0] == '#' || line[0] == ';' || line[0] == '\0') {
        snprintf(str, (size_t)num, "\n");
        return str;
    }
    strip_comment(line);
    line = config_trim(line);
    if (line[0] == '[')
        return section_start(st, line, str, (size_t)num) == 0 ? str : NULL;

    eq = strchr(line, '=');
    if (eq == NULL || eq == line) {
        fail(st, st->lineno, "expected 'key = value', got '%s'", line);
        return NULL;
    }
    *eq = '\0';
    key = config_trim(line);
    value = config_trim(eq + 1);
    if (st->kind == CONFIG_SEC_NONE) {
        fail(st, st->lineno, "key '%s' before any section", key);
        return NULL;
    }
    n = strlen(key);
    for (size_t i = 0; i < n; i++) {
        if (n > CONFIG_MAX_KEY || !(config_is_alnum(key[i]) || key[i] == '_' || key[i] == '-')) {
            fail(st, st->lineno, "%s: unknown key '%s'", where(st, wbuf, sizeof(wbuf)), key);
            return NULL;
        }
    }
    n = strlen(value);
    if (n >= 2 && value[0] == '"' && value[n - 1] == '"' && memchr(value + 1, '"', n - 2) == NULL) {
        value[n - 1] = '\0';
        value++;
    }
    st->value = value;
    snprintf(str, (size_t)num, "%s=\n", key);
    return str;
}

/* The line of a watchlist's key just set: its feeds' line, or the line of
 * the group all_of or none_of just added. */
static void
watchlist_key_line(struct config_watchlist *w, const char *key, int line)
{
    struct config_match *g = NULL;
    if (strcmp(key, "feeds") == 0)
        w->any.feeds_line = line;
    else if (strcmp(key, "all_of") == 0)
        g = &w->all_of[w->nall_of - 1];
    else if (strcmp(key, "none_of") == 0)
        g = &w->none_of[w->nnone_of - 1];
    if (g != NULL) {
        g->line = line;
        g->feeds_line = g->nfeeds > 0 ? line : 0;
    }
}

/* inih's handler, called once per key line just after on_ini_read()
 * returned it: the section and value inih passes are the canonical ones,
 * the real value is st->value. 1 to go on, 0 on error. */
static int
on_ini_pair(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    char wbuf[CONFIG_MAX_NAME + CONFIG_MAX_KEY + 16], kbuf[CONFIG_MAX_NAME + CONFIG_MAX_KEY + 16];
    char why[512];
    const char *w = where(st, wbuf, sizeof(wbuf));
    void *base = st->c;
    int i, rc;

    (void)value;
    assert(st->kind != CONFIG_SEC_NONE && strcmp(section, section_names[st->kind]) == 0);
    if (st->kind == CONFIG_SEC_FEED)
        base = &st->c->feeds[st->c->nfeeds - 1];
    else if (st->kind == CONFIG_SEC_SCHEDULE)
        base = &st->c->schedules[st->c->nschedules - 1];
    else if (st->kind == CONFIG_SEC_WATCHLIST)
        base = &st->c->watchlists[st->c->nwatchlists - 1];
    i = config_key_find(st->kind, name);
    if (i < 0) {
        fail(st, st->lineno, "%s: unknown key '%s'", w, name);
        return 0;
    }
    if (st->key_line[i] != 0 && !config_key_repeats(st->kind, i)) {
        fail(st, st->lineno, "%s: duplicate key (first at line %d)",
             where_key(st, name, kbuf, sizeof(kbuf)), st->key_line[i]);
        return 0;
    }
    st->key_line[i] = st->lineno;
    rc = config_key_set(st->kind, i, base, st->dir, st->value, why, sizeof(why));
    if (rc == -ENOMEM) {
        fail_nomem(st);
        return 0;
    }
    if (rc < 0) {
        fail(st, st->lineno, "%s: %s", where_key(st, name, kbuf, sizeof(kbuf)), why);
        return 0;
    }
    if (st->kind == CONFIG_SEC_FEED && strcmp(name, "url") == 0)
        st->url_line[st->c->nfeeds - 1] = st->lineno;
    if (st->kind == CONFIG_SEC_FEED && strcmp(name, "schedule") == 0)
        st->sched_line[st->c->nfeeds - 1] = st->lineno;
    if (st->kind == CONFIG_SEC_WATCHLIST) /* where its feeds were named, for finish() */
        watchlist_key_line(base, name, st->lineno);
    return 1;
}

/* Checks that need the whole file: [daemon] may follow the feeds. */
static void
finish(struct parse_state *st)
{
    struct config *c = st->c;

    for (size_t i = 0; i < c->nfeeds && st->rc == 0; i++) {
        struct config_feed *f = &c->feeds[i];

        if (f->url == NULL)
            fail(st, f->line, "feed \"%s\": missing 'url'", f->name);
        else if (strncasecmp(f->url, "file:", 5) == 0 && !c->daemon.allow_file_urls)
            fail(st, st->url_line[i],
                 "feed \"%s\": url: file URLs need allow_file_urls = yes in [daemon]", f->name);
    }
    if (st->rc == 0) {
        /* intervals inherited, auto's bounds, schedules (issue 13 §2) */
        char why[512];
        int line = 0, rc = config_cadence_finish(c, st->sched_line, st->daemon_line, &line, why,
                                                 sizeof(why));
        if (rc == -ENOMEM)
            fail_nomem(st);
        else if (rc < 0)
            fail(st, line, "%s", why);
    }
    if (st->rc == 0) { /* watchlists name configured feeds (SPEC §12) */
        char why[512];
        int line = 0, rc = config_watchlists_finish(c, &line, why, sizeof(why));
        if (rc < 0)
            fail(st, line, "%s", why);
    }
}

/* The whole file, NUL-terminated, into *out (len bytes before the NUL). */
static int
read_file(const char *path, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *text = NULL;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    for (;;) {
        if (n + 1 >= cap || text == NULL) {
            char *t;
            if (text != NULL)
                cap *= 2;
            if (cap > CONFIG_MAX_FILE + 2) {
                rc = -EFBIG;
                goto done;
            }
            t = realloc(text, cap);
            if (t == NULL) {
                rc = -ENOMEM;
                goto done;
            }
            text = t;
        }
        ssize_t got = read(fd, text + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = -errno;
            goto done;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    text[n] = '\0';
    *out = text;
    *len = n;
    text = NULL;
done:
    free(text);
    close(fd);
    return rc;
}

int
config_load(const char *path, struct config **out, char *err, size_t errsize)
{
    struct parse_state st = {.file = path, .err = err, .errsize = errsize};
    struct config *c = NULL;
    const char *slash;
    int rc;

    if (err != NULL && errsize > 0)
        err[0] = '\0';
    rc = config_new_defaults(path, &c);
    if (rc < 0) {
        if (err != NULL && errsize > 0)
            snprintf(err, errsize, "%s: out of memory", path != NULL ? path : "config");
        goto done;
    }
    if (path == NULL)
        goto done;

    rc = read_file(path, &st.text, &st.len);
    if (rc < 0) {
        if (err != NULL && errsize > 0)
            snprintf(err, errsize, "%s: %s", path,
                     rc == -EFBIG ? "larger than 16 MiB" : strerror(-rc));
        goto done;
    }
    slash = strrchr(path, '/');
    st.dir = slash == NULL   ? strdup(".")
             : slash == path ? strdup("/")
                             : strndup(path, (size_t)(slash - path));
    if (st.dir == NULL) {
        fail_nomem(&st);
    } else {
        st.c = c;
        rc = ini_parse_stream(on_ini_read, &st, on_ini_pair, &st);
        if (rc == -2)
            fail_nomem(&st);
        else if (rc != 0)
            fail(&st, rc, "syntax error"); /* no-op after our own error */
        if (st.rc == 0)
            finish(&st);
    }
    rc = st.rc;
done:
    if (rc == 0) {
        *out = c;
        c = NULL;
    }
    config_free(c);
    free(st.url_line);
    free(st.sched_line);
    free(st.byname);
    free(st.dir);
    free(st.text);
    return rc;
}

void
config_free(struct config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nfeeds; i++) {
        struct config_feed *f = &c->feeds[i];
        free(f->name);
        free(f->url);
        config_list_free(f->categories);
        free(f->author);
        free(f->headimg);
        free(f->timezone);
        free(f->user_agent);
        free(f->charset);
        free(f->remove);
        free(f->remove_text);
        config_list_free(f->tickers_add);
    }
    config_cadence_free(c);
    free(c->feeds);
    config_instruments_free(c);
    config_tokens_free(c->output.tokens, c->output.ntokens);
    config_list_free(c->output.iframe_hosts);
    free(c->output.markdown_dir);
    free(c->daemon.public_url);
    free(c->output.link);
    free(c->output.hub);
    free(c->output.title);
    config_list_free(c->daemon.tracking_params);
    free(c->daemon.node);
    free(c->daemon.user_agent);
    free(c->daemon.listen);
    free(c->daemon.control_socket);
    free(c->daemon.database);
    free(c->path);
    free(c);
}

const struct config_feed *
config_find_feed(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nfeeds; i++)
        if (strcmp(c->feeds[i].name, name) == 0)
            return &c->feeds[i];
    return NULL;
}

const char *
config_default_path(void)
{
    static const char system_path[] = "/etc/finfeed/finfeed.conf";
    const char *env = getenv("FINFEED_CONFIG");

    if (env != NULL && env[0] != '\0')
        return env;
    if (access(system_path, F_OK) == 0)
        return system_path;
    return NULL;
}
