/* parse/buf_int.h — a growable byte buffer shared inside parse/ (not exported). */
#ifndef FINFEED_PARSE_BUF_INT_H
#define FINFEED_PARSE_BUF_INT_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    char *data; /* NUL-terminated when len < cap; owned */
    size_t len;
    size_t cap;
};

static inline int
buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

static inline int
buf_add(struct buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return -ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static inline int
buf_adds(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

static inline int
buf_addc(struct buf *b, char c)
{
    return buf_add(b, &c, 1);
}

static inline void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Code point c (at most U+10FFFF) as UTF-8 into o; returns its length. */
static inline size_t
utf8_encode(uint32_t c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static inline int
buf_add_utf8(struct buf *b, uint32_t c)
{
    char u[4];
    return buf_add(b, u, utf8_encode(c, u));
}

/* Hand the contents to the caller (NUL-terminated, never NULL on success). */
static inline char *
buf_steal(struct buf *b)
{
    if (b->data == NULL && buf_reserve(b, 0) < 0)
        return NULL;
    char *p = b->data;
    p[b->len] = '\0';
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

static inline void
buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

#endif
