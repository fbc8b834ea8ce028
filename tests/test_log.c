/* tests/test_log.c — daemon/log/: logfmt quoting of values (log_quote,
 * LOG_QUOTE) and the lines the log functions write (one line an event, an
 * error="…" field a logfmt reader can split), read back from stderr
 * redirected to a temporary file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log/log.h"

/* The value of key in a logfmt line, unquoted and unescaped, into out; -1
 * when the key is missing or its quoted value is not closed. A reader's
 * view: key=bare or key="…" with \" and \\ inside. */
static int
logfmt_get(const char *line, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key), n = 0;
    const char *p = line;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        const char *k = p;
        while (*p != '\0' && *p != '=' && *p != ' ')
            p++;
        int match = (size_t)(p - k) == klen && strncmp(k, key, klen) == 0;
        if (*p != '=')
            continue;
        p++;
        n = 0;
        if (*p == '"') {
            for (p++; *p != '"'; p++) {
                if (*p == '\0')
                    return -1;
                if (*p == '\\' && p[1] != '\0')
                    p++;
                if (match && n + 1 < size)
                    out[n++] = *p;
            }
            p++;
            if (*p != ' ' && *p != '\0')
                return -1; /* junk after the closing quote: a quote inside was not escaped */
        } else {
            for (; *p != ' ' && *p != '\0'; p++)
                if (match && n + 1 < size)
                    out[n++] = *p;
        }
        if (match) {
            out[n] = '\0';
            return 0;
        }
    }
    return -1;
}

static void
test_quote(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(log_quote("plain", buf, sizeof(buf)), "\"plain\"");
    assert_string_equal(log_quote("", buf, sizeof(buf)), "\"\"");
    assert_string_equal(log_quote(NULL, buf, sizeof(buf)), "\"\"");
    assert_string_equal(log_quote("feed \"c000\": x", buf, sizeof(buf)),
                        "\"feed \\\"c000\\\": x\"");
    assert_string_equal(log_quote("C:\\tmp", buf, sizeof(buf)), "\"C:\\\\tmp\"");
    assert_string_equal(log_quote("a\nb\tc", buf, sizeof(buf)), "\"a\\nb\\tc\"");
    /* LOG_QUOTE: a buffer of its own each time */
    char line[256];
    snprintf(line, sizeof(line), "a=%s b=%s", LOG_QUOTE("x\"y"), LOG_QUOTE("z"));
    assert_string_equal(line, "a=\"x\\\"y\" b=\"z\"");
}

/* Cut to fit: still closed, and never half an escape. */
static void
test_quote_truncated(void **state)
{
    (void)state;
    char buf[8], out[16];
    for (size_t size = 3; size <= sizeof(buf); size++) {
        const char *v[] = {"\"\"\"\"\"\"\"\"", "\\\\\\\\\\\\", "abcdefghij", "a\"b\"c\"d"};
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
            char line[32];
            log_quote(v[i], buf, size);
            assert_true(strlen(buf) < size);
            snprintf(line, sizeof(line), "k=%s", buf);
            assert_int_equal(logfmt_get(line, "k", out, sizeof(out)), 0);
            assert_true(strncmp(out, v[i], strlen(out)) == 0); /* a prefix of the value */
        }
    }
    log_quote("abc", buf, 2); /* too small for the quotes: empty, terminated */
    assert_string_equal(buf, "");
}

/* What log_warnx / log_warn write, read back from stderr. */
static char *
capture(void (*emit)(void))
{
    static char text[4096];
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    assert_non_null(tmp);
    assert_true(saved >= 0);
    fflush(stderr);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    emit();
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(text, 1, sizeof(text) - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    return text;
}

static void
emit_quoted(void)
{
    const char *err = "feed \"c000\": attempt to write a \\readonly\\ database";
    log_warnx("event=start outcome=failed error=%s", LOG_QUOTE(err));
}

static void
emit_errno(void)
{
    errno = ENOENT;
    log_warn("event=open path=%s", "/x");
}

static void
test_lines(void **state)
{
    (void)state;
    char v[256];
    log_init(0);
    char *line = capture(emit_quoted);
    assert_non_null(strchr(line, '\n'));
    assert_int_equal(strchr(line, '\n')[1], '\0'); /* one line */
    *strchr(line, '\n') = '\0';
    assert_int_equal(logfmt_get(line, "event", v, sizeof(v)), 0);
    assert_string_equal(v, "start");
    assert_int_equal(logfmt_get(line, "error", v, sizeof(v)), 0);
    assert_string_equal(v, "feed \"c000\": attempt to write a \\readonly\\ database");
    assert_int_equal(logfmt_get(line, "level", v, sizeof(v)), 0);
    assert_string_equal(v, "warn");

    line = capture(emit_errno);
    line[strcspn(line, "\n")] = '\0';
    assert_int_equal(logfmt_get(line, "error", v, sizeof(v)), 0);
    assert_string_equal(v, strerror(ENOENT));
    assert_int_equal(logfmt_get(line, "path", v, sizeof(v)), 0);
    assert_string_equal(v, "/x");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_quote_truncated),
        cmocka_unit_test(test_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
