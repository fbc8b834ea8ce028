/* tests/test_util.h — helpers shared by the cmocka suites (header-only;
 * include after <cmocka.h>). */
#ifndef FINFEED_TEST_UTIL_H
#define FINFEED_TEST_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A whole file in a NUL-terminated buffer (caller frees), its length in *len
 * (may be NULL); NULL when the file cannot be opened. */
static inline char *
test_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0, r;
    do {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 16384;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        r = fread(buf + n, 1, 4096, fp);
        n += r;
    } while (r > 0);
    fclose(fp);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

/* Monotonic seconds, for a test that times its work. */
static inline double
test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A formatted string on the heap (caller frees). */
static inline char *test_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static inline char *
test_fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

/* Whether a test asserts a time bound (a guard against quadratic work, never
 * a speed target): not under sanitizers (the build says so, or
 * FINFEED_SANITIZED is set in the environment). */
static inline int
test_timed(void)
{
#if defined(FINFEED_SANITIZED) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 0;
#else
    const char *e = getenv("FINFEED_SANITIZED");
    return e == NULL || *e == '\0' || strcmp(e, "0") == 0;
#endif
}

#endif
