/* daemon/config/config_int.h — shared by daemon/config/config.c (the file: lines, sections,
 * messages) and daemon/config/config_value.c (the keys: types, defaults, checks).
 * Included by nobody else. */
#ifndef FINFEED_CONFIG_INT_H
#define FINFEED_CONFIG_INT_H

#include <stddef.h>

#include "daemon/config/config.h"

enum config_section {
    CONFIG_SEC_NONE,
    CONFIG_SEC_DAEMON,
    CONFIG_SEC_OUTPUT,
    CONFIG_SEC_FEED,
    CONFIG_SEC_SCHEDULE,
};

#define CONFIG_MAX_KEYS 32 /* at least the number of keys of the longest section */

static inline int
config_is_space(int ch)
{
    return ch == ' ' || ch == '\t';
}

/* ASCII only, whatever the locale. */
static inline int
config_is_alnum(int ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* Cuts leading and trailing blanks of s in place; returns the new start. */
char *config_trim(char *s);

/* The index (< CONFIG_MAX_KEYS) of the key called name in section sec, or -1. */
int config_key_find(enum config_section sec, const char *name);

/*
 * Checks v, the value of key i (from config_key_find) of section sec, and
 * stores it into base: the struct config, or for CONFIG_SEC_FEED the struct
 * config_feed. The previous value is freed. v is borrowed and may be modified
 * (lists are split in place); relative paths are joined to dir (NULL: kept).
 * Returns 0; -EINVAL with the reason, such as "bad duration 'abc'", in why
 * (whysize bytes); -ENOMEM.
 */
int config_key_set(enum config_section sec, int i, void *base, const char *dir, char *v, char *why,
                   size_t whysize);

/* A new config holding the defaults documented in config.h: those of a file
 * (path, copied) or, with path NULL, the built-in ones. 0 or -ENOMEM. */
int config_new_defaults(const char *path, struct config **out);

/* Frees n tokens and the array. NULL is fine. */
void config_tokens_free(struct config_token *t, size_t n);

/* Frees a NULL-terminated string array and its strings. NULL is fine. */
void config_list_free(char **items);

/* ---- config_cadence.c: when feeds are checked (issue 13 §2) ---- */

/* `hours` of a schedule: parsed (cadence_hours_parse) into *out, replacing
 * (and freeing) what it held. 0; -EINVAL with the reason in why; -ENOMEM. */
int config_hours_set(const char *v, struct cadence_hours **out, char *why, size_t whysize);
/* `holidays`: the dates of v itself, or, when path is not NULL, of the file
 * at path (v as written, for messages): into *days and *n, replacing what
 * they held. 0; -EINVAL with the reason in why ("FILE:3: bad date …",
 * "FILE: No such file or directory"); -ENOMEM. */
int config_holidays_set(const char *v, const char *path, int32_t **days, size_t *n, char *why,
                        size_t whysize);
/* After the whole file: each schedule has its hours (holidays attached);
 * each feed inherits interval (or auto) and the bounds from [daemon],
 * bounds in order, its schedule found. sched_line[i]: the line of feed
 * i's `schedule` key (0 none); daemon_line: of [daemon] (0 none). 0, or
 * -EINVAL with the line in *line and the message ("feed \"x\": …") in why;
 * -ENOMEM. */
int config_cadence_finish(struct config *c, const int *sched_line, int daemon_line, int *line,
                          char *why, size_t whysize);
/* Frees c's schedules and the feeds' schedule names. */
void config_cadence_free(struct config *c);

#endif
