/* daemon/log/log.h — one line an event on stderr, key=value fields, with <N>
 * priority prefixes when journald reads us (JOURNAL_STREAM is set). */
#ifndef FINFEED_LOG_H
#define FINFEED_LOG_H

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

/* Quote a value for a key=value field when it needs it (spaces, quotes,
 * '='): into buf (size bytes). Returns buf. */
const char *log_q(const char *value, char *buf, size_t size);

#endif
