/* parse/mojibake.c — double-encoded UTF-8 taken back ("FÃ¶rderprogramme" →
 * "Förderprogramme"): the field as a unit, conservatively (mojibake_int.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/mojibake_int.h"

/* windows-1252 0x80–0x9F; 0 where the code page leaves a hole (0x81, 0x8D,
 * 0x8F, 0x90, 0x9D), whose bytes a Latin-1 step keeps as U+0081… instead. */
static const uint16_t cp1252_c1[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

/* Next code point of valid UTF-8 at *p (advanced), or -1. */
static int32_t
next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    int32_t c;
    int n;
    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        c = s[0] & 0x1F, n = 1;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        c = s[0] & 0x0F, n = 2;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        c = s[0] & 0x07, n = 3;
    else
        return -1;
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *p = s + n + 1;
    return c;
}

/* The byte a Latin-1 / windows-1252 step made code point c from, or -1. */
static int
back_to_byte(int32_t c)
{
    if (c >= 0 && c <= 0xFF)
        return c;
    for (int i = 0; i < 32; i++)
        if (cp1252_c1[i] == c)
            return 0x80 + i;
    return -1;
}

/* 1 when the n bytes at s are valid UTF-8 holding a multi-byte sequence. */
static int
utf8_with_multibyte(const unsigned char *s, size_t n)
{
    int multi = 0;
    const unsigned char *p = s, *end = s + n;
    while (p < end) {
        const unsigned char *q = p;
        int32_t c = next_cp(&q);
        if (c < 0 || q > end || c == 0)
            return 0;
        multi |= c >= 0x80;
        p = q;
    }
    return multi;
}

int
parse_mojibake_repair(char *s)
{
    if (s == NULL)
        return 0;
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    int high = 0;
    /* first pass: every character must map back to a byte */
    while (*p) {
        int32_t c = next_cp(&p);
        if (c < 0 || back_to_byte(c) < 0)
            return 0;
        high |= c >= 0x80;
        n++;
    }
    if (!high)
        return 0; /* ASCII: nothing to undo */
    unsigned char *bytes = malloc(n + 1);
    if (bytes == NULL)
        return 0; /* left as it came: a repair is never required */
    size_t k = 0;
    p = (const unsigned char *)s;
    while (*p)
        bytes[k++] = (unsigned char)back_to_byte(next_cp(&p));
    bytes[k] = '\0'; /* next_cp stops at it */
    int ok = utf8_with_multibyte(bytes, k);
    if (ok) { /* k <= n <= len: it fits */
        memcpy(s, bytes, k);
        s[k] = '\0';
    }
    free(bytes);
    return ok;
}
