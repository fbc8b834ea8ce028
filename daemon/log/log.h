/* daemon/log/log.h — one line an event on stderr, key=value fields, with <N>
 * priority prefixes when journald reads us (JOURNAL_STREAM is set). */
#ifndef FINFEED_LOG_H
#define FINFEED_LOG_H

#include <stddef.h>

#if defined(__GNUC__)
#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LOG_PRINTF(a, b)
#endif

/* Decide the prefix style (call once at start; reads JOURNAL_STREAM). */
void log_init(int verbose);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);  /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);

/* A value for a key=value field, quoted as log_quote() does only when it
 * needs it (empty, spaces, quotes, '=', '\'): into buf (size bytes).
 * Returns buf. */
const char *log_q(const char *value, char *buf, size_t size);

/* A logfmt value, always quoted: "…" with inner '"' and '\' escaped as \"
 * and \\ (a newline as \n, a tab as \t), cut to fit size bytes without
 * splitting an escape; size < 3 gives "". Returns buf. Every error= field
 * goes through it: log_warnx("… error=%s", LOG_QUOTE(err)). */
const char *log_quote(const char *value, char *buf, size_t size);
#define LOG_QUOTE_MAX 1024
/* log_quote into a buffer that lives until the end of the enclosing block
 * (a compound literal): for a printf argument. */
#define LOG_QUOTE(v) log_quote((v), (char[LOG_QUOTE_MAX]){0}, LOG_QUOTE_MAX)

#endif
