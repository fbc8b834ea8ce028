/* parse/date/date_lex_int.h — inside the date parser: the cursor, the date as
 * read before its range checks, and the lexer and field readers (date_lex.c)
 * that the grammar of the forms (date.c) is built from. */
#ifndef FINFEED_PARSE_DATE_LEX_INT_H
#define FINFEED_PARSE_DATE_LEX_INT_H

#include <stddef.h>

#define CST_MARK 100000 /* zone_names: "CST", China or US Central by context */

struct cur {
    const char *p; /* into a NUL-terminated, trimmed copy of the input */
};

struct word {
    const char *s;
    size_t len;
};

enum zone_kind { ZONE_NONE, ZONE_OFFSET, ZONE_CST };

/* A date as read, before range checks. */
struct dt {
    int year, mon, day;
    int hour, min, sec;
    int ampm;   /* 0, 1 = AM, 2 = PM */
    int zone;   /* enum zone_kind */
    int offset; /* seconds east of UTC, for ZONE_OFFSET */
    int kst;    /* a Korean form: no zone means +09:00 */
};

static inline int
is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* Letters of any script: ASCII letters and every byte of a UTF-8 sequence. */
static inline int
is_word_byte(int ch)
{
    return ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') || ch >= 0x80;
}

static inline int
peek(const struct cur *c)
{
    return (unsigned char)*c->p;
}

static inline int
skip_ws(struct cur *c)
{
    int n = 0;
    while (*c->p == ' ' || *c->p == '\t') {
        c->p++;
        n++;
    }
    return n;
}

/* A run of digits: how many (0 when none); the value of the first nine in *v. */
static inline int
read_digits(struct cur *c, int *v)
{
    int n = 0, x = 0;
    while (is_digit(peek(c))) {
        if (n < 9)
            x = x * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    *v = x;
    return n;
}

/* One or two digits. */
static inline int
read_1or2(struct cur *c, int *v)
{
    int n = read_digits(c, v);
    return n == 1 || n == 2 ? 0 : -1;
}

/* Consume `ch` when it is next. */
static inline int
eat(struct cur *c, int ch)
{
    if (peek(c) != ch)
        return 0;
    c->p++;
    return 1;
}

/* Consume `lit` when the input starts with it. */
static inline int
match(struct cur *c, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(c->p, lit, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

/* ---- date_lex.c ----
 * Each reader starts at c->p and, on success, returns 0 with c->p past what
 * it read and the field set in d; -1 otherwise (c->p may have moved). */

/* A word (letters of any script) into w. */
int date_read_word(struct cur *c, struct word *w);
/* Whether w is `name`, ASCII letters compared case-insensitively: 1 or 0. */
int date_word_is(const struct word *w, const char *name);
/* Whether w names a weekday (English, Greek, Hungarian): 1 or 0. */
int date_is_weekday(const struct word *w);
/* A month name, with an optional abbreviation dot, into d->mon. */
int date_read_month(struct cur *c, struct dt *d);
/* A two-digit year v as a year (RFC 5322 §4.3: < 50 → 20YY, else 19YY). */
int date_yy_year(int v);
/* ±HHMM, ±HH:MM, ±HH, ±H at a sign. */
int date_read_offset(struct cur *c, struct dt *d);
/* A numeric offset, a zone abbreviation (optionally followed by an offset:
 * "GMT+8"), "Etc/GMT", or a military letter. */
int date_read_zone(struct cur *c, struct dt *d);
/* H[H]:MM[:SS][.fraction]; `loose` also takes one-digit minutes and seconds
 * (RFC 822 dates as written by hand-made feeds). Fractions are dropped. */
int date_read_time(struct cur *c, struct dt *d, int loose);
/* ISO 8601 basic time after 'T': HH, HHMM, HHMMSS[.fraction]. */
int date_read_time_basic(struct cur *c, struct dt *d);
/* Day `doy` (1-based) of d->year → d->mon and d->day. */
int date_set_ordinal(struct dt *d, int doy);
/* "AM"/"PM" and their Korean and Chinese forms (a Korean one implies KST). */
int date_read_ampm(struct cur *c, struct dt *d);

#endif
