/* daemon/log/log.c — logging to stderr, one line an event (SPEC §8). Under
 * journald (JOURNAL_STREAM set) each line starts with its syslog priority
 * <N>; otherwise with a UTC timestamp. The only mutable state is the style
 * chosen once by log_init() in main, before any thread starts. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log/log.h"

static struct {
    int journal;
    int verbose;
} log_style;

void
log_init(int verbose)
{
    const char *js = getenv("JOURNAL_STREAM");
    log_style.journal = js != NULL && *js != '\0';
    log_style.verbose = verbose;
}

static void
vlog(int prio, const char *level, const char *fmt, va_list ap, const char *suffix)
{
    char line[2048];
    int n = 0;
    if (log_style.journal) {
        n = snprintf(line, sizeof(line), "<%d>", prio);
    } else {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
    }
    n += snprintf(line + n, sizeof(line) - (size_t)n, "level=%s ", level);
    if (n < (int)sizeof(line))
        n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    if (suffix != NULL && n < (int)sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, " error=%s", LOG_QUOTE(suffix));
    if (n >= (int)sizeof(line))
        n = (int)sizeof(line) - 1;
    for (int i = 0; i < n; i++) /* one event, one line */
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    fprintf(stderr, "%.*s\n", n, line);
}

void
log_warn(const char *fmt, ...)
{
    int e = errno;
    va_list ap;
    va_start(ap, fmt);
    vlog(4, "warn", fmt, ap, strerror(e));
    va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(4, "warn", fmt, ap, NULL);
    va_end(ap);
}

void
log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(6, "info", fmt, ap, NULL);
    va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
    if (!log_style.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(7, "debug", fmt, ap, NULL);
    va_end(ap);
}

/* The letter after '\' that stands for c inside a quoted value, or 0. */
static char
escape_of(char c)
{
    switch (c) {
    case '"':
    case '\\':
        return c;
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    default:
        return 0;
    }
}

const char *
log_quote(const char *v, char *buf, size_t size)
{
    size_t n = 0;
    if (size < 3) {
        if (size > 0)
            buf[0] = '\0';
        return buf;
    }
    buf[n++] = '"';
    for (; v != NULL && *v != '\0'; v++) {
        char esc = escape_of(*v);
        if (n + (esc ? 2 : 1) + 2 > size) /* room for it, the closing quote and NUL */
            break;
        if (esc) {
            buf[n++] = '\\';
            buf[n++] = esc;
        } else {
            buf[n++] = *v;
        }
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}

const char *
log_q(const char *v, char *buf, size_t size)
{
    if (v != NULL && *v != '\0' && strpbrk(v, " \t\r\n\"=\\") == NULL) {
        snprintf(buf, size, "%s", v);
        return buf;
    }
    return log_quote(v, buf, size);
}
