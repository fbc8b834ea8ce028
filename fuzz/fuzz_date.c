/* fuzz/fuzz_date.c — libFuzzer target for the date parser: any bytes, as a
 * NUL-terminated string, through parse_date in UTC and in Asia/Shanghai. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const zones[] = {NULL, "Asia/Shanghai"};
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        int64_t t;
        char iso[32];
        if (parse_date(s, zones[i], &t) != 0)
            continue;
        parse_date_iso(t, iso, sizeof(iso));
        sink += strlen(iso);
        /* What parse_date_iso writes for years 1..9999 must read back as the
         * same instant. */
        int64_t back;
        if (iso[0] != '-' && strlen(iso) == 20 && strncmp(iso, "0000", 4) != 0 &&
            (parse_date(iso, NULL, &back) != 0 || back != t))
            __builtin_trap();
    }
    free(s);
    return 0;
}
