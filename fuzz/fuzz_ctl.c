/* fuzz/fuzz_ctl.c — libFuzzer target for the control protocol's request line
 * parser (daemon/ctl: ctl_split). The input is what a client writes: cut into
 * lines as the server does (at '\n', at most 4095 bytes a line, trailing CRs
 * dropped, a line holding a NUL is empty), each split into words. Aborts when
 * an accepted line's words, joined by one space, differ from the line with its
 * blank runs squeezed and its ends trimmed, or when a word is empty or holds
 * a blank. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ctl/ctl_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINE_MAX_BYTES 4096 /* daemon/ctl/ctl.c: a line and its '\n' */
#define ARGS_MAX 64         /* process()'s argv */

static void
fail(const char *why, const char *line)
{
    fprintf(stderr, "fuzz_ctl: %s\n--- line ---\n%s\n", why, line);
    abort();
}

/* The line with each run of blanks made one space, the ends trimmed. */
static void
squeeze(const char *s, size_t n, char *out)
{
    size_t k = 0;
    int blank = 1; /* drops leading blanks */
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ' || s[i] == '\t') {
            blank = 1;
            continue;
        }
        if (blank && k > 0)
            out[k++] = ' ';
        blank = 0;
        out[k++] = s[i];
    }
    out[k] = '\0';
}

static void
check_line(const char *line, size_t n)
{
    char buf[LINE_MAX_BYTES], want[LINE_MAX_BYTES], got[LINE_MAX_BYTES + ARGS_MAX];
    char *argv[ARGS_MAX];

    while (n > 0 && line[n - 1] == '\r')
        n--;
    if (memchr(line, '\0', n) != NULL)
        n = 0; /* malformed: answered "empty request" */
    memcpy(buf, line, n);
    buf[n] = '\0';
    squeeze(buf, n, want);
    int argc = ctl_split(buf, argv, ARGS_MAX);
    if (argc < 0) /* refused as a whole */
        return;
    if (argc > ARGS_MAX)
        fail("more words than argv holds", want);
    size_t k = 0;
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);
        if (len == 0)
            fail("empty word", want);
        if (strpbrk(argv[i], " \t") != NULL)
            fail("blank inside a word", want);
        if (argv[i] < buf || argv[i] + len > buf + n)
            fail("word outside the line", want);
        if (i > 0)
            got[k++] = ' ';
        memcpy(got + k, argv[i], len);
        k += len;
    }
    got[k] = '\0';
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "--- words, joined ---\n%s\n", got);
        fail("words do not re-join to the line", want);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) /* no newline yet: the server waits for more */
            break;
        if (nl - p < LINE_MAX_BYTES) /* longer: skipped with an error reply */
            check_line(p, (size_t)(nl - p));
        p = nl + 1;
    }
    return 0;
}
