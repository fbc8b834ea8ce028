/* parse/date/date.c — date strings → Unix seconds (parse_date), Unix seconds → ISO 8601
 * (parse_date_iso), a feed language's default zone (parse_zone_for_language).
 * Local times are converted with the system's TZif files (RFC 8536), read here
 * directly: libc's TZ/mktime state is process-global, this needs no lock, no
 * allocation and never touches the environment. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "parse/date/date_int.h"
#include "parse/parse.h"

/* What parse_date reads (anything else, and trailing garbage, is -EINVAL):
 *
 *  RFC 822/1123/2822   [Wkd[,]] D Mon YY[YY] [H:MM[:SS] [zone]]  ("Fri,24 Nov 2023 …",
 *                      "Mon, 13 Feb, 2012 …", full month names, 3-digit years + 1900)
 *  RFC 850             Weekday, DD-Mon-YY HH:MM:SS zone
 *  asctime / Twitter   Wkd Mon D HH:MM:SS [zone] YYYY
 *  JavaScript Date     Wkd Mon DD YYYY HH:MM:SS GMT+0200 (comment)
 *  Perforce            Wkd, YYYY/MM/DD HH:MM:SS zone
 *  ISO 8601 / RFC 3339 / W3C-DTF
 *                      YYYY, YYYY-MM, YYYY-MM-DD, YYYYMMDD, YYYY-DDD, YYYYDDD, then
 *                      T HH:MM[:SS[.f]] or T HHMM[SS[.f]], zone Z / ±HH[[:]MM]; the
 *                      ISO 8601:2000 truncated forms -YYMM, -YY-MM, YYMMDD, YY-MM-DD,
 *                      0YDDD (five digits not starting with 0 read as a year > 9999);
 *                      "YYYY-MM-DD HH:MM[:SS[.f]] [zone]" (MSSQL), YYYY-0MM-DD
 *  Chinese feeds       YYYY/MM/DD, YYYY.MM.DD (Yicai), YYYY年MM月DD日[ ]HH:MM[:SS],
 *                      上午/下午 (AM/PM) before the time
 *  Korean              YYYY년 MM월 DD일 HH:MM:SS, YYYY-MM-DD 오전|오후 HH:MM:SS
 *                      (no zone: KST, +09:00)
 *  Greek, Hungarian    month and weekday names ("Κυρ, 11 Ιούλ 2004", "2004-július-13T9:15")
 *
 * Zones: ±HHMM, ±HH:MM, ±HH, ±H; UT UTC GMT Z and US, European and Asian
 * abbreviations (zone_names below); "GMT+8"; "Etc/GMT"; the military letters,
 * which RFC 5322 §4.3 says to read as +0000 (RFC 822 had their signs backwards);
 * an RFC 822 "(comment)" after the zone. Two-digit years: < 50 → 20YY, else 19YY
 * (RFC 5322 §4.3). Fields are range-checked: Feb 30, hour 24, minute 60 fail; a
 * leap second :60 is read as :59 (same minute, so the order of items holds).
 * Results must lie in 0000-01-01T00:00:00Z … 9999-12-31T23:59:59Z. */

#define DATE_MAX_LEN 256 /* longer input is not a date */
#define T_MIN (-62167219200LL) /* 0000-01-01T00:00:00Z */
#define T_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

/* ---- lexing ---- */

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

#define CST_MARK 100000

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

static int
is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* Letters of any script: ASCII letters and every byte of a UTF-8 sequence. */
static int
is_word_byte(int ch)
{
    return ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') || ch >= 0x80;
}

static int
peek(const struct cur *c)
{
    return (unsigned char)*c->p;
}

static int
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
static int
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
static int
read_1or2(struct cur *c, int *v)
{
    int n = read_digits(c, v);
    return n == 1 || n == 2 ? 0 : -1;
}

static int
read_word(struct cur *c, struct word *w)
{
    w->s = c->p;
    while (is_word_byte(peek(c)))
        c->p++;
    w->len = (size_t)(c->p - w->s);
    return w->len > 0 ? 0 : -1;
}

static int
word_is(const struct word *w, const char *name)
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
        if (word_is(w, t[i].name)) {
            *num = t[i].num;
            return 0;
        }
    return -1;
}

static int
is_weekday(const struct word *w)
{
    for (size_t i = 0; i < sizeof(weekday_names) / sizeof(weekday_names[0]); i++)
        if (word_is(w, weekday_names[i]))
            return 1;
    return 0;
}

/* A month name, with an optional abbreviation dot. */
static int
read_month(struct cur *c, struct dt *d)
{
    struct word w;
    if (read_word(c, &w) < 0 ||
        lookup(&w, month_names, sizeof(month_names) / sizeof(month_names[0]), &d->mon) < 0)
        return -1;
    if (peek(c) == '.')
        c->p++;
    return 0;
}

/* Consume `ch` when it is next. */
static int
eat(struct cur *c, int ch)
{
    if (peek(c) != ch)
        return 0;
    c->p++;
    return 1;
}

/* Consume `lit` when the input starts with it. */
static int
match(struct cur *c, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(c->p, lit, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

/* ---- fields ---- */

static int
yy_year(int v)
{
    return v < 50 ? 2000 + v : 1900 + v; /* RFC 5322 §4.3 */
}

/* ±HHMM, ±HH:MM, ±HH, ±H at a sign. */
static int
read_offset(struct cur *c, struct dt *d)
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
static int
read_zone(struct cur *c, struct dt *d)
{
    struct word w;
    int minutes;
    if (peek(c) == '+' || peek(c) == '-')
        return read_offset(c, d);
    if (read_word(c, &w) < 0)
        return -1;
    if (word_is(&w, "etc") && peek(c) == '/') {
        c->p++;
        if (read_word(c, &w) < 0 ||
            !(word_is(&w, "gmt") || word_is(&w, "utc") || word_is(&w, "uct") ||
              word_is(&w, "universal") || word_is(&w, "zulu")))
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
        (word_is(&w, "gmt") || word_is(&w, "utc") || word_is(&w, "ut")))
        return read_offset(c, d);
    d->zone = minutes == CST_MARK ? ZONE_CST : ZONE_OFFSET;
    d->offset = minutes == CST_MARK ? 0 : minutes * 60;
    return 0;
}

/* H[H]:MM[:SS][.fraction]; `loose` also takes one-digit minutes and seconds
 * (RFC 822 dates as written by hand-made feeds). Fractions are dropped. */
static int
read_time(struct cur *c, struct dt *d, int loose)
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
static int
read_time_basic(struct cur *c, struct dt *d)
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
static int
set_ordinal(struct dt *d, int doy)
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
static int
read_ampm(struct cur *c, struct dt *d)
{
    static const struct {
        const char *word;
        int ampm, kst;
    } markers[] = {{"오전", 1, 1}, {"오후", 2, 1}, {"上午", 1, 0},
                   {"下午", 2, 0}, {"am", 1, 0},   {"pm", 2, 0}};
    struct cur save = *c;
    struct word w;
    if (read_word(c, &w) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
        if (word_is(&w, markers[i].word)) {
            d->ampm = markers[i].ampm;
            d->kst |= markers[i].kst;
            return 0;
        }
    *c = save;
    return -1;
}

/* ---- ISO 8601 and the numeric forms ---- */

/* After a complete date: nothing, or a time ('T', or spaces; none needed after
 * a CJK 日), then a zone. */
static int
iso_time(struct cur *c, struct dt *d, int cjk)
{
    if (peek(c) == '\0')
        return 0;
    if (peek(c) == 'T' || peek(c) == 't') {
        c->p++;
        const char *q = c->p;
        while (is_digit((unsigned char)*q))
            q++;
        if ((*q == ':' ? read_time(c, d, 0) : read_time_basic(c, d)) < 0)
            return -1;
    } else {
        if (skip_ws(c) == 0 && !cjk)
            return -1;
        if (read_ampm(c, d) == 0)
            skip_ws(c);
        if (read_time(c, d, 1) < 0)
            return -1;
    }
    if (peek(c) == 'Z' || peek(c) == 'z') {
        c->p++;
        d->zone = ZONE_OFFSET;
        d->offset = 0;
    } else if (peek(c) == '+' || peek(c) == '-') {
        if (read_offset(c, d) < 0)
            return -1;
    } else if (skip_ws(c) > 0) {
        if (d->ampm == 0 && read_ampm(c, d) == 0)
            skip_ws(c);
        if (peek(c) != '\0' && read_zone(c, d) < 0)
            return -1;
    }
    return peek(c) == '\0' ? 0 : -1;
}

/* YYYY年MM月DD日 (Chinese) or YYYY년 MM월 DD일 (Korean), after the year. */
static int
iso_cjk(struct cur *c, struct dt *d)
{
    int korean = match(c, "년");
    if (!korean && !match(c, "年"))
        return -1;
    skip_ws(c);
    if (read_1or2(c, &d->mon) < 0)
        return -1;
    skip_ws(c);
    if (!match(c, korean ? "월" : "月"))
        return -1;
    skip_ws(c);
    if (read_1or2(c, &d->day) < 0)
        return -1;
    skip_ws(c);
    if (!match(c, korean ? "일" : "日") && (korean || !match(c, "号")))
        return -1;
    d->kst = korean;
    if (skip_ws(c) > 0 && peek(c) == '\0')
        return 0;
    return iso_time(c, d, 1);
}

/* After "YYYY-": MM, MM-DD, 0MM-DD, DDD, or a month name and -D. */
static int
iso_extended(struct cur *c, struct dt *d)
{
    int v, n;
    if (is_word_byte(peek(c))) { /* Hungarian: 2004-július-13 */
        if (read_month(c, d) < 0 || !eat(c, '-') || read_1or2(c, &d->day) < 0)
            return -1;
        return iso_time(c, d, 0);
    }
    const char *s = c->p;
    n = read_digits(c, &v);
    if (n == 3 && peek(c) == '-' && s[0] == '0') {
        d->mon = v; /* feedparser's YYYY-0MM-DD, "2003-012-31" */
    } else if (n == 3) {
        if (set_ordinal(d, v) < 0)
            return -1;
        return iso_time(c, d, 0);
    } else if (n == 1 || n == 2) {
        d->mon = v;
        if (peek(c) != '-') {
            d->day = 1; /* YYYY-MM: no time may follow */
            return peek(c) == '\0' ? 0 : -1;
        }
    } else {
        return -1;
    }
    c->p++;
    if (read_1or2(c, &d->day) < 0)
        return -1;
    return iso_time(c, d, 0);
}

static int
parse_iso(struct cur *c, struct dt *d)
{
    const char *start = c->p;
    int v, n, sep;
    if (peek(c) == '-') { /* ISO 8601:2000 truncated: -YYMM, -YY-MM */
        c->p++;
        n = read_digits(c, &v);
        if (n == 4) {
            d->year = yy_year(v / 100);
            d->mon = v % 100;
        } else if (n == 2 && peek(c) == '-') {
            c->p++;
            d->year = yy_year(v);
            if (read_digits(c, &d->mon) != 2)
                return -1;
        } else {
            return -1;
        }
        d->day = 1;
        return peek(c) == '\0' ? 0 : -1;
    }
    n = read_digits(c, &v);
    switch (n) {
    case 4:
        d->year = v;
        sep = peek(c);
        if (sep == '\0') {
            d->mon = d->day = 1;
            return 0;
        }
        if (sep == '-') {
            c->p++;
            return iso_extended(c, d);
        }
        if (sep == '/' || sep == '.') { /* 2022/04/04, 2022.04.04 (Chinese feeds) */
            c->p++;
            if (read_1or2(c, &d->mon) < 0 || !eat(c, sep) || read_1or2(c, &d->day) < 0)
                return -1;
            return iso_time(c, d, 0);
        }
        return iso_cjk(c, d);
    case 8: /* YYYYMMDD */
        d->year = v / 10000;
        d->mon = v / 100 % 100;
        d->day = v % 100;
        break;
    case 7: /* YYYYDDD */
        d->year = v / 1000;
        if (set_ordinal(d, v % 1000) < 0)
            return -1;
        break;
    case 6: /* YYMMDD */
        d->year = yy_year(v / 10000);
        d->mon = v / 100 % 100;
        d->day = v % 100;
        break;
    case 5:
        /* YYDDD; five digits not starting with 0 read as a year past 9999
         * (feedparser's W3C-DTF tests expect "22013" to fail). */
        if (start[0] != '0')
            return -1;
        d->year = yy_year(v / 1000);
        if (set_ordinal(d, v % 1000) < 0)
            return -1;
        break;
    case 2: /* YY-MM-DD */
        d->year = yy_year(v);
        if (!eat(c, '-') || read_digits(c, &d->mon) != 2 || !eat(c, '-') ||
            read_digits(c, &d->day) != 2)
            return -1;
        break;
    default:
        return -1;
    }
    return iso_time(c, d, 0);
}

/* ---- RFC 822 and the word forms ---- */

/* After the time: [AM|PM] [zone] [(comment)], then the end. */
static int
rfc_zone_tail(struct cur *c, struct dt *d)
{
    int ws = skip_ws(c);
    if (peek(c) == '\0')
        return 0;
    if (ws > 0 && read_ampm(c, d) == 0)
        ws = skip_ws(c);
    if (peek(c) != '\0' && peek(c) != '(') {
        if (ws == 0 && peek(c) != '+' && peek(c) != '-')
            return -1;
        if (read_zone(c, d) < 0)
            return -1;
        skip_ws(c);
    }
    if (peek(c) == '(') { /* RFC 822 comment: "-0800 (PST)" */
        const char *close = strchr(c->p, ')');
        if (close == NULL || memchr(c->p + 1, '(', (size_t)(close - c->p - 1)) != NULL)
            return -1;
        c->p = close + 1;
        skip_ws(c);
    }
    return peek(c) == '\0' ? 0 : -1;
}

/* After the date: the end, or a time and what may follow it. */
static int
rfc_tail(struct cur *c, struct dt *d)
{
    if (peek(c) == '\0')
        return 0;
    if (skip_ws(c) == 0 || read_time(c, d, 1) < 0)
        return -1;
    return rfc_zone_tail(c, d);
}

static int
rfc_year(struct cur *c, struct dt *d)
{
    int v, n = read_digits(c, &v);
    if (n == 2)
        d->year = yy_year(v);
    else if (n == 3)
        d->year = 1900 + v; /* RFC 5322 §4.3 */
    else if (n == 4)
        d->year = v;
    else
        return -1;
    return 0;
}

/* "24 Nov 2023 …", "06-Nov-94 …" (RFC 850), "2006/09/15 …" (Perforce). */
static int
rfc_day_first(struct cur *c, struct dt *d)
{
    int v, n = read_digits(c, &v);
    if (n == 4 && peek(c) == '/') {
        d->year = v;
        c->p++;
        if (read_1or2(c, &d->mon) < 0 || !eat(c, '/') || read_1or2(c, &d->day) < 0)
            return -1;
        return rfc_tail(c, d);
    }
    if (n != 1 && n != 2)
        return -1;
    d->day = v;
    if (peek(c) == '-') {
        c->p++;
        if (read_month(c, d) < 0 || !eat(c, '-') || rfc_year(c, d) < 0)
            return -1;
        return rfc_tail(c, d);
    }
    if (skip_ws(c) == 0 || read_month(c, d) < 0)
        return -1;
    int comma = peek(c) == ',';
    if (comma)
        c->p++;
    if ((skip_ws(c) == 0 && !comma) || rfc_year(c, d) < 0)
        return -1;
    return rfc_tail(c, d);
}

/* "Nov 6 08:49:37 1994" (asctime), "Jul 15 01:16:00 +0000 2012" (Twitter),
 * "Aug 30 2012 17:26:16 +0200" (JavaScript), "June 10, 2013 10:30 PM". */
static int
rfc_month_first(struct cur *c, struct dt *d)
{
    if (read_month(c, d) < 0 || skip_ws(c) == 0 || read_1or2(c, &d->day) < 0)
        return -1;
    if (peek(c) == ',')
        c->p++;
    if (skip_ws(c) == 0)
        return -1;
    const char *q = c->p;
    while (is_digit((unsigned char)*q))
        q++;
    if (*q != ':') {
        if (read_digits(c, &d->year) != 4)
            return -1;
        return rfc_tail(c, d);
    }
    if (read_time(c, d, 1) < 0 || skip_ws(c) == 0)
        return -1;
    if (!is_digit(peek(c)) && (read_zone(c, d) < 0 || skip_ws(c) == 0))
        return -1;
    if (read_digits(c, &d->year) != 4)
        return -1;
    return peek(c) == '\0' ? 0 : -1;
}

static int
parse_rfc(struct cur *c, struct dt *d)
{
    if (is_word_byte(peek(c))) {
        struct cur save = *c;
        struct word w;
        read_word(c, &w);
        if (is_weekday(&w)) {
            if (peek(c) == '.')
                c->p++;
            int ws = skip_ws(c);
            if (peek(c) == ',') {
                c->p++;
                ws = 1;
                skip_ws(c);
            }
            if (ws == 0)
                return -1;
        } else {
            *c = save; /* no weekday: "Nov 6 …" */
        }
    }
    if (is_digit(peek(c)))
        return rfc_day_first(c, d);
    if (is_word_byte(peek(c)))
        return rfc_month_first(c, d);
    return -1;
}

/* ---- checks and conversion ---- */

static int
zone_is_china(const char *tz)
{
    const struct fixed_zone *f = tz != NULL ? date_fixed_zone(tz) : NULL;
    return f != NULL && f->china;
}

static int
dt_finish(struct dt *d, const char *tz, int64_t *out)
{
    if (d->year < 0 || d->year > 9999 || d->mon < 1 || d->mon > 12 || d->day < 1 ||
        d->day > month_days(d->year, d->mon))
        return -EINVAL;
    if (d->ampm != 0) {
        if (d->hour > 12)
            return -EINVAL;
        d->hour = d->hour % 12 + (d->ampm == 2 ? 12 : 0);
    }
    if (d->hour > 23 || d->min > 59 || d->sec > 60)
        return -EINVAL;
    int sec = d->sec == 60 ? 59 : d->sec; /* leap second, see the top of the file */
    int64_t local =
        days_from_civil(d->year, d->mon, d->day) * 86400 + d->hour * 3600 + d->min * 60 + sec;
    int64_t t;
    if (d->zone == ZONE_OFFSET)
        t = local - d->offset;
    else if (d->zone == ZONE_CST)
        t = local - (zone_is_china(tz) ? 8 * 3600 : -6 * 3600);
    else if (d->kst)
        t = local - 9 * 3600;
    else if (date_zone_local_to_utc(tz, d->year, local, &t) < 0)
        return -EINVAL;
    if (t < T_MIN || t > T_MAX)
        return -EINVAL;
    *out = t;
    return 0;
}

/* On failure *out is PARSE_NO_DATE. An unknown `tz` fails only dates that need it. */
int
parse_date(const char *s, const char *tz, int64_t *out)
{
    char buf[DATE_MAX_LEN + 1];
    struct cur c;
    struct dt d;
    int rc = -EINVAL;

    if (out == NULL)
        return -EINVAL;
    *out = PARSE_NO_DATE;
    if (s == NULL)
        return -EINVAL;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t len = strnlen(s, DATE_MAX_LEN + 1);
    if (len > DATE_MAX_LEN)
        return -EINVAL;
    while (len > 0 &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    if (len == 0)
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';

    memset(&d, 0, sizeof(d));
    c.p = buf;
    if (parse_iso(&c, &d) == 0) {
        rc = dt_finish(&d, tz, out);
    } else {
        memset(&d, 0, sizeof(d));
        c.p = buf;
        if (parse_rfc(&c, &d) == 0)
            rc = dt_finish(&d, tz, out);
    }
    if (rc < 0)
        *out = PARSE_NO_DATE;
    return rc;
}

/* Out-of-range values are clamped to 0000-01-01T00:00:00Z and
 * 9999-12-31T23:59:59Z, so the output always has the documented shape (and
 * PARSE_NO_DATE prints as the year 0). A short buffer gets what fits. */
char *
parse_date_iso(int64_t t, char *buf, size_t size)
{
    int64_t y;
    int m, d;
    if (buf == NULL || size == 0)
        return buf;
    if (t < T_MIN)
        t = T_MIN;
    if (t > T_MAX)
        t = T_MAX;
    int64_t days = floor_div(t, 86400);
    int secs = (int)(t - days * 86400);
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d, secs / 3600, secs / 60 % 60,
             secs % 60);
    return buf;
}

/* Compare one language subtag, case-insensitively. */
static int
subtag_is(const char *s, size_t n, const char *tag)
{
    struct word w = {s, n};
    return word_is(&w, tag);
}

/* BCP 47 tags ("zh", "zh-CN", "zh_TW", "zh-Hant-HK"): the region decides,
 * else the script (Hans → Shanghai, Hant → Taipei), else plain zh → Shanghai. */
const char *
parse_zone_for_language(const char *lang)
{
    const char *script = NULL;
    if (lang == NULL)
        return NULL;
    while (*lang == ' ' || *lang == '\t')
        lang++;
    size_t len = strlen(lang);
    while (len > 0 && (lang[len - 1] == ' ' || lang[len - 1] == '\t'))
        len--;
    if (len < 2 || !subtag_is(lang, 2, "zh") || (len > 2 && lang[2] != '-' && lang[2] != '_'))
        return NULL;
    for (size_t i = 3; i < len;) {
        size_t j = i;
        while (j < len && lang[j] != '-' && lang[j] != '_')
            j++;
        if (subtag_is(lang + i, j - i, "cn") || subtag_is(lang + i, j - i, "sg"))
            return "Asia/Shanghai";
        if (subtag_is(lang + i, j - i, "hk") || subtag_is(lang + i, j - i, "mo"))
            return "Asia/Hong_Kong";
        if (subtag_is(lang + i, j - i, "tw"))
            return "Asia/Taipei";
        if (subtag_is(lang + i, j - i, "hans"))
            script = "Asia/Shanghai";
        else if (subtag_is(lang + i, j - i, "hant"))
            script = "Asia/Taipei";
        else if (j - i == 2 || (j - i == 3 && is_digit((unsigned char)lang[i])))
            return NULL; /* another region: zh-US, zh-419 */
        i = j + 1;
    }
    if (script != NULL)
        return script;
    return len == 2 ? "Asia/Shanghai" : NULL;
}
