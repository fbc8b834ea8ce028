/* parse/date/date.c — date strings → Unix seconds (parse_date): the grammar of
 * each form, on the lexer of date_lex.c; Unix seconds → ISO 8601 (parse_date_iso);
 * a feed language's default zone (parse_zone_for_language); the calendar's
 * day arithmetic for the rest of finfeed (parse_days_from_civil, …). Local times go
 * through tz.c, which reads the TZif files itself: no TZ/mktime global state. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "parse/date/date_int.h"
#include "parse/date/date_lex_int.h"
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
        if ((*q == ':' ? date_read_time(c, d, 0) : date_read_time_basic(c, d)) < 0)
            return -1;
    } else {
        if (skip_ws(c) == 0 && !cjk)
            return -1;
        if (date_read_ampm(c, d) == 0)
            skip_ws(c);
        if (date_read_time(c, d, 1) < 0)
            return -1;
    }
    if (peek(c) == 'Z' || peek(c) == 'z') {
        c->p++;
        d->zone = ZONE_OFFSET;
        d->offset = 0;
    } else if (peek(c) == '+' || peek(c) == '-') {
        if (date_read_offset(c, d) < 0)
            return -1;
    } else if (skip_ws(c) > 0) {
        if (d->ampm == 0 && date_read_ampm(c, d) == 0)
            skip_ws(c);
        if (peek(c) != '\0' && date_read_zone(c, d) < 0)
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
        if (date_read_month(c, d) < 0 || !eat(c, '-') || read_1or2(c, &d->day) < 0)
            return -1;
        return iso_time(c, d, 0);
    }
    const char *s = c->p;
    n = read_digits(c, &v);
    if (n == 3 && peek(c) == '-' && s[0] == '0') {
        d->mon = v; /* feedparser's YYYY-0MM-DD, "2003-012-31" */
    } else if (n == 3) {
        if (date_set_ordinal(d, v) < 0)
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
            d->year = date_yy_year(v / 100);
            d->mon = v % 100;
        } else if (n == 2 && peek(c) == '-') {
            c->p++;
            d->year = date_yy_year(v);
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
        if (date_set_ordinal(d, v % 1000) < 0)
            return -1;
        break;
    case 6: /* YYMMDD */
        d->year = date_yy_year(v / 10000);
        d->mon = v / 100 % 100;
        d->day = v % 100;
        break;
    case 5:
        /* YYDDD; five digits not starting with 0 read as a year past 9999
         * (feedparser's W3C-DTF tests expect "22013" to fail). */
        if (start[0] != '0')
            return -1;
        d->year = date_yy_year(v / 1000);
        if (date_set_ordinal(d, v % 1000) < 0)
            return -1;
        break;
    case 2: /* YY-MM-DD */
        d->year = date_yy_year(v);
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
    if (ws > 0 && date_read_ampm(c, d) == 0)
        ws = skip_ws(c);
    if (peek(c) != '\0' && peek(c) != '(') {
        if (ws == 0 && peek(c) != '+' && peek(c) != '-')
            return -1;
        if (date_read_zone(c, d) < 0)
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
    if (skip_ws(c) == 0 || date_read_time(c, d, 1) < 0)
        return -1;
    return rfc_zone_tail(c, d);
}

static int
rfc_year(struct cur *c, struct dt *d)
{
    int v, n = read_digits(c, &v);
    if (n == 2)
        d->year = date_yy_year(v);
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
        if (date_read_month(c, d) < 0 || !eat(c, '-') || rfc_year(c, d) < 0)
            return -1;
        return rfc_tail(c, d);
    }
    if (skip_ws(c) == 0 || date_read_month(c, d) < 0)
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
    if (date_read_month(c, d) < 0 || skip_ws(c) == 0 || read_1or2(c, &d->day) < 0)
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
    if (date_read_time(c, d, 1) < 0 || skip_ws(c) == 0)
        return -1;
    if (!is_digit(peek(c)) && (date_read_zone(c, d) < 0 || skip_ws(c) == 0))
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
        date_read_word(c, &w);
        if (date_is_weekday(&w)) {
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
    return date_word_is(&w, tag);
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

int64_t
parse_days_from_civil(int64_t y, int m, int d)
{
    return days_from_civil(y, m, d);
}

void
parse_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    civil_from_days(days, y, m, d);
}

int
parse_weekday(int64_t days)
{
    return weekday(days);
}

int
parse_month_days(int64_t y, int m)
{
    return month_days(y, m);
}
