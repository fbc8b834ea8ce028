/* parse/date/date_lex.c — the date parser's lexer and field readers: digits,
 * words, month and weekday names (English, Greek, Hungarian), zone names and
 * offsets, times with AM/PM (上午/下午, 오전/오후), two-digit years. */
#include <stdint.h>
#include <string.h>

#include "parse/date/date_int.h"
#include "parse/date/date_lex_int.h"

struct name_num {
    const char *name; /* ASCII compared case-insensitively; other bytes exactly */
    int num;
};

static const struct name_num month_names[] = {
    /* clang-format off */
    {"jan", 1}, {"january", 1}, {"feb", 2}, {"february", 2}, {"mar", 3}, {"march", 3},
    {"apr", 4}, {"april", 4}, {"may", 5}, {"jun", 6}, {"june", 6}, {"jul", 7}, {"july", 7},
    {"aug", 8}, {"august", 8}, {"sep", 9}, {"sept", 9}, {"september", 9}, {"oct", 10},
    {"october", 10}, {"nov", 11}, {"november", 11}, {"dec", 12}, {"december", 12},
    /* Greek abbreviations, with the misspellings feedparser found in feeds */
    {"Ιαν", 1}, {"Φεβ", 2}, {"Μαρ", 3}, {"Μάρ", 3}, {"Μάώ", 3}, {"Μαώ", 3}, {"Απρ", 4},
    {"Μάι", 5}, {"Μαϊ", 5}, {"Μαι", 5}, {"Μαΐ", 5}, {"Ιούν", 6}, {"Ιουν", 6}, {"Ιον", 6},
    {"Ιούλ", 7}, {"Ιουλ", 7}, {"Ιολ", 7}, {"Αύγ", 8}, {"Αυγ", 8}, {"Σεπ", 9}, {"Οκτ", 10},
    {"Νοέ", 11}, {"Νοε", 11}, {"Δεκ", 12},
    /* Hungarian (november, december as in English) */
    {"január", 1}, {"február", 2}, {"februári", 2}, {"március", 3}, {"április", 4},
    {"május", 5}, {"máujus", 5}, {"június", 6}, {"július", 7}, {"augusztus", 8},
    {"szeptember", 9}, {"október", 10},
    /* clang-format on */
};

static const char *const weekday_names[] = {
    /* clang-format off */
    "sun", "mon", "tue", "wed", "thu", "fri", "sat", "sunday", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "tues", "thur", "thurs",
    "Κυρ", "Δευ", "Τρι", "Τρί", "Τετ", "Πεμ", "Πέμ", "Παρ", "Σαβ", "Σάβ",
    "hétfő", "kedd", "szerda", "csütörtök", "péntek", "szombat", "vasárnap",
    /* clang-format on */
};

/* Zone abbreviations, minutes east of UTC. AT/ET/CT/MT/PT as feeds write them. */
static const struct name_num zone_names[] = {
    {"ut", 0},         {"utc", 0},     {"gmt", 0},     {"uct", 0},     {"wet", 0},
    {"west", 60},      {"bst", 60},    {"cet", 60},    {"cest", 120},  {"met", 60},
    {"mest", 120},     {"mez", 60},    {"mesz", 120},  {"eet", 120},   {"eest", 180},
    {"msk", 180},      {"msd", 240},   {"ist", 330},   {"est", -300},  {"edt", -240},
    {"cst", CST_MARK}, {"cdt", -300},  {"mst", -420},  {"mdt", -360},  {"pst", -480},
    {"pdt", -420},     {"ast", -240},  {"adt", -180},  {"at", -240},   {"et", -300},
    {"ct", -360},      {"mt", -420},   {"pt", -480},   {"akst", -540}, {"akdt", -480},
    {"hst", -600},     {"hast", -600}, {"hadt", -540}, {"nst", -210},  {"ndt", -150},
    {"jst", 540},      {"kst", 540},   {"hkt", 480},   {"bjt", 480},   {"sgt", 480},
    {"pht", 480},      {"wib", 420},   {"awst", 480},  {"acst", 570},  {"acdt", 630},
    {"aest", 600},     {"aedt", 660},  {"nzst", 720},  {"nzdt", 780},
};

int
date_read_word(struct cur *c, struct word *w)
{
    w->s = c->p;
    while (is_word_byte(peek(c)))
        c->p++;
    w->len = (size_t)(c->p - w->s);
    return w->len > 0 ? 0 : -1;
}

int
date_word_is(const struct word *w, const char *name)
{
    size_t n = strlen(name);
    if (n != w->len)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)w->s[i], b = (unsigned char)name[i];
        if (a >= 'A' && a <= 'Z')
            a |= 0x20;
        if (b >= 'A' && b <= 'Z')
            b |= 0x20;
        if (a != b)
            return 0;
    }
    return 1;
}

static int
lookup(const struct word *w, const struct name_num *t, size_t n, int *num)
{
    for (size_t i = 0; i < n; i++)
        if (date_word_is(w, t[i].name)) {
            *num = t[i].num;
            return 0;
        }
    return -1;
}

int
date_is_weekday(const struct word *w)
{
    for (size_t i = 0; i < sizeof(weekday_names) / sizeof(weekday_names[0]); i++)
        if (date_word_is(w, weekday_names[i]))
            return 1;
    return 0;
}

/* A month name, with an optional abbreviation dot. */
int
date_read_month(struct cur *c, struct dt *d)
{
    struct word w;
    if (date_read_word(c, &w) < 0 ||
        lookup(&w, month_names, sizeof(month_names) / sizeof(month_names[0]), &d->mon) < 0)
        return -1;
    if (peek(c) == '.')
        c->p++;
    return 0;
}

/* ---- fields ---- */

int
date_yy_year(int v)
{
    return v < 50 ? 2000 + v : 1900 + v; /* RFC 5322 §4.3 */
}

/* ±HHMM, ±HH:MM, ±HH, ±H at a sign. */
int
date_read_offset(struct cur *c, struct dt *d)
{
    int sign = *c->p++ == '-' ? -1 : 1;
    int v, h, m = 0;
    int n = read_digits(c, &v);
    if (n == 4) {
        h = v / 100;
        m = v % 100;
    } else if (n == 1 || n == 2) {
        h = v;
        if (peek(c) == ':') {
            c->p++;
            if (read_digits(c, &m) != 2)
                return -1;
        }
    } else {
        return -1;
    }
    if (h > 23 || m > 59)
        return -1;
    d->zone = ZONE_OFFSET;
    d->offset = sign * (h * 3600 + m * 60);
    return 0;
}

/* A numeric offset, a zone abbreviation (optionally followed by an offset:
 * "GMT+8"), "Etc/GMT", or a military letter. */
int
date_read_zone(struct cur *c, struct dt *d)
{
    struct word w;
    int minutes;
    if (peek(c) == '+' || peek(c) == '-')
        return date_read_offset(c, d);
    if (date_read_word(c, &w) < 0)
        return -1;
    if (date_word_is(&w, "etc") && peek(c) == '/') {
        c->p++;
        if (date_read_word(c, &w) < 0 ||
            !(date_word_is(&w, "gmt") || date_word_is(&w, "utc") || date_word_is(&w, "uct") ||
              date_word_is(&w, "universal") || date_word_is(&w, "zulu")))
            return -1;
        d->zone = ZONE_OFFSET;
        d->offset = 0;
        return 0;
    }
    if (w.len == 1 && (*w.s | 0x20) != 'j' && (*w.s | 0x20) >= 'a' && (*w.s | 0x20) <= 'z') {
        d->zone = ZONE_OFFSET; /* military letter: +0000 by RFC 5322 §4.3 */
        d->offset = 0;
        return 0;
    }
    if (lookup(&w, zone_names, sizeof(zone_names) / sizeof(zone_names[0]), &minutes) < 0)
        return -1;
    if (minutes == 0 && (peek(c) == '+' || peek(c) == '-') &&
        (date_word_is(&w, "gmt") || date_word_is(&w, "utc") || date_word_is(&w, "ut")))
        return date_read_offset(c, d);
    d->zone = minutes == CST_MARK ? ZONE_CST : ZONE_OFFSET;
    d->offset = minutes == CST_MARK ? 0 : minutes * 60;
    return 0;
}

/* H[H]:MM[:SS][.fraction]; `loose` also takes one-digit minutes and seconds
 * (RFC 822 dates as written by hand-made feeds). Fractions are dropped. */
int
date_read_time(struct cur *c, struct dt *d, int loose)
{
    int v, n;
    if (read_1or2(c, &d->hour) < 0 || peek(c) != ':')
        return -1;
    c->p++;
    n = read_digits(c, &v);
    if (n != 2 && !(loose && n == 1))
        return -1;
    d->min = v;
    if (peek(c) == ':') {
        c->p++;
        n = read_digits(c, &v);
        if (n != 2 && !(loose && n == 1))
            return -1;
        d->sec = v;
        if ((peek(c) == '.' || peek(c) == ',') && is_digit((unsigned char)c->p[1])) {
            c->p++;
            read_digits(c, &v);
        }
    }
    return 0;
}

/* ISO 8601 basic time after 'T': HH, HHMM, HHMMSS[.fraction]. */
int
date_read_time_basic(struct cur *c, struct dt *d)
{
    int v, n = read_digits(c, &v);
    if (n == 2) {
        d->hour = v;
    } else if (n == 4) {
        d->hour = v / 100;
        d->min = v % 100;
    } else if (n == 6) {
        d->hour = v / 10000;
        d->min = v / 100 % 100;
        d->sec = v % 100;
        if ((peek(c) == '.' || peek(c) == ',') && is_digit((unsigned char)c->p[1])) {
            c->p++;
            read_digits(c, &v);
        }
    } else {
        return -1;
    }
    return 0;
}

/* Day `doy` (1-based) of d->year → month and day. */
int
date_set_ordinal(struct dt *d, int doy)
{
    if (doy < 1 || doy > (is_leap(d->year) ? 366 : 365))
        return -1;
    d->mon = 1;
    while (doy > month_days(d->year, d->mon))
        doy -= month_days(d->year, d->mon++);
    d->day = doy;
    return 0;
}

/* "AM"/"PM" and their Korean and Chinese forms (a Korean one implies KST). */
int
date_read_ampm(struct cur *c, struct dt *d)
{
    static const struct {
        const char *word;
        int ampm, kst;
    } markers[] = {{"오전", 1, 1}, {"오후", 2, 1}, {"上午", 1, 0},
                   {"下午", 2, 0}, {"am", 1, 0},   {"pm", 2, 0}};
    struct cur save = *c;
    struct word w;
    if (date_read_word(c, &w) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
        if (date_word_is(&w, markers[i].word)) {
            d->ampm = markers[i].ampm;
            d->kst |= markers[i].kst;
            return 0;
        }
    *c = save;
    return -1;
}
