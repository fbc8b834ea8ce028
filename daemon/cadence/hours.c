/* daemon/cadence/hours.c — exchange hours (`[schedule "NAME"] hours`): the
 * week of local time ranges in one zone, holidays, and the instants at which
 * it opens and closes. A range of a local day is turned into its instants
 * through the zone (parse_zone_local_to_utc), so DST moves them as it moves
 * the exchange: 09:30 New York is 14:30Z in winter and 13:30Z in summer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/cadence/cadence.h"
#include "parse/parse.h"

#define DAY 86400
#define SCAN_DAYS 400 /* how far ahead an opening is looked for */

struct range {
    int32_t start, end; /* seconds after local midnight, 0 <= start < end <= DAY */
};

struct cadence_hours {
    struct parse_zone *zone;
    struct range ranges[7][CADENCE_RANGES]; /* by weekday, 0 = Sunday */
    int n[7];
    int32_t *holidays; /* local dates, days since 1970-01-01, sorted */
    size_t nholidays;
};

static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- parsing ---- */

/* "mon" (any case, n bytes) → 0..6, or -1. */
static int
day_of(const char *s, size_t n)
{
    for (int i = 0; i < 7; i++)
        if (n == 3 && strncasecmp(s, day_names[i], 3) == 0)
            return i;
    return -1;
}

/* "Mon-Fri,Sat" (nul-terminated) → a bit a weekday in *mask. */
static int
parse_days(const char *s, unsigned *mask, char *why, size_t whysize)
{
    *mask = 0;
    if (strcasecmp(s, "daily") == 0) {
        *mask = 0x7f;
        return 0;
    }
    const char *p = s;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        const char *dash = memchr(p, '-', n);
        int a, b;
        if (dash != NULL) {
            a = day_of(p, (size_t)(dash - p));
            b = day_of(dash + 1, n - (size_t)(dash - p) - 1);
        } else {
            a = b = day_of(p, n);
        }
        if (a < 0 || b < 0) {
            /* name the word at fault: "Fry" of "Mon-Fry" */
            const char *bad = p;
            size_t blen = n;
            if (dash != NULL && a >= 0)
                bad = dash + 1, blen = n - (size_t)(dash - p) - 1;
            else if (dash != NULL && day_of(dash + 1, n - (size_t)(dash - p) - 1) >= 0)
                blen = (size_t)(dash - p);
            snprintf(why, whysize,
                     "bad day '%.*s' (want Mon … Sun, a range such as Mon-Fri, "
                     "or daily)",
                     (int)blen, bad);
            return -EINVAL;
        }
        for (int d = a;; d = (d + 1) % 7) { /* Fri-Mon wraps */
            *mask |= 1u << d;
            if (d == b)
                break;
        }
        p += n;
        if (*p == ',' && *++p == '\0') {
            snprintf(why, whysize, "bad days '%s' (a comma ends them)", s);
            return -EINVAL;
        }
    }
    if (*mask == 0) {
        snprintf(why, whysize, "no day given");
        return -EINVAL;
    }
    return 0;
}

/* "9:30" or "09:30" (n bytes) → seconds; 24:00 only when `end`. */
static int
parse_clock(const char *s, size_t n, int end, int32_t *out)
{
    size_t i = 0;
    int h = 0, m;
    while (i < n && i < 2 && is_digit(s[i]))
        h = h * 10 + (s[i++] - '0');
    if (i == 0 || i + 3 != n || s[i] != ':' || !is_digit(s[i + 1]) || !is_digit(s[i + 2]))
        return -EINVAL;
    m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end)))
        return -EINVAL;
    *out = h * 3600 + m * 60;
    return 0;
}

/* "09:30-11:30,13:00-15:00" (blanks already removed) into the days of mask. */
static int
parse_ranges(struct cadence_hours *h, const char *s, unsigned mask, char *why, size_t whysize)
{
    const char *p = s;
    if (*p == '\0') {
        snprintf(why, whysize, "no time range given (want HH:MM-HH:MM)");
        return -EINVAL;
    }
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        const char *dash = memchr(p, '-', n);
        struct range r;
        if (dash == NULL || parse_clock(p, (size_t)(dash - p), 0, &r.start) < 0 ||
            parse_clock(dash + 1, n - (size_t)(dash - p) - 1, 1, &r.end) < 0) {
            snprintf(why, whysize, "bad time range '%.*s' (want HH:MM-HH:MM, 00:00 to 24:00)",
                     (int)n, p);
            return -EINVAL;
        }
        if (r.end <= r.start) {
            snprintf(why, whysize,
                     "time range '%.*s' ends before it starts (overnight hours are two "
                     "groups: Sun-Thu 18:00-24:00; Mon-Fri 00:00-17:00 ZONE)",
                     (int)n, p);
            return -EINVAL;
        }
        for (int d = 0; d < 7; d++) {
            if (!(mask & (1u << d)))
                continue;
            if (h->n[d] == CADENCE_RANGES) {
                snprintf(why, whysize, "more than %d time ranges on %s", CADENCE_RANGES,
                         day_names[d]);
                return -EINVAL;
            }
            h->ranges[d][h->n[d]++] = r;
        }
        p += n;
        if (*p == ',' && *++p == '\0') {
            snprintf(why, whysize, "bad time ranges '%s' (a comma ends them)", s);
            return -EINVAL;
        }
    }
    return 0;
}

/* One group, "DAYS RANGES" (modifiable, trimmed). */
static int
parse_group(struct cadence_hours *h, char *g, char *why, size_t whysize)
{
    char *sp = g + strcspn(g, " \t");
    if (*sp == '\0') {
        snprintf(why, whysize, "'%s': want DAYS HH:MM-HH:MM[,HH:MM-HH:MM…]", g);
        return -EINVAL;
    }
    *sp++ = '\0';
    unsigned mask;
    int rc = parse_days(g, &mask, why, whysize);
    if (rc < 0)
        return rc;
    /* the ranges, blanks after their commas dropped */
    char *w = sp;
    for (char *r = sp; *r != '\0'; r++)
        if (!is_blank(*r))
            *w++ = *r;
    *w = '\0';
    return parse_ranges(h, sp, mask, why, whysize);
}

int
cadence_hours_parse(const char *text, struct cadence_hours **out, char *why, size_t whysize)
{
    struct cadence_hours *h = calloc(1, sizeof(*h));
    char *copy = strdup(text);
    int rc = 0;
    *out = NULL;
    if (h == NULL || copy == NULL) {
        rc = -ENOMEM;
        goto done;
    }
    size_t len = strlen(copy);
    while (len > 0 && is_blank(copy[len - 1]))
        copy[--len] = '\0';
    char *zone = copy + len;
    while (zone > copy && !is_blank(zone[-1]))
        zone--;
    if (zone == copy || *zone == '\0') {
        snprintf(why, whysize,
                 "want DAYS HH:MM-HH:MM[,HH:MM-HH:MM…] ZONE, as in Mon-Fri "
                 "09:30-16:00 America/New_York");
        rc = -EINVAL;
        goto done;
    }
    if (is_digit(*zone) || strchr(zone, ':') != NULL) {
        snprintf(why, whysize,
                 "no time zone at the end (want … ZONE, as in Mon-Fri "
                 "09:30-16:00 America/New_York)");
        rc = -EINVAL;
        goto done;
    }
    zone[-1] = '\0';
    if ((rc = parse_zone_open(zone, &h->zone)) < 0) {
        if (rc == -EINVAL)
            snprintf(why, whysize, "unknown time zone '%s'", zone);
        goto done;
    }
    for (char *g = copy, *next; g != NULL && rc == 0; g = next) {
        next = strchr(g, ';');
        if (next != NULL)
            *next++ = '\0';
        while (is_blank(*g))
            g++;
        size_t n = strlen(g);
        while (n > 0 && is_blank(g[n - 1]))
            g[--n] = '\0';
        if (n == 0) {
            snprintf(why, whysize, "an empty group (between ';')");
            rc = -EINVAL;
        } else {
            rc = parse_group(h, g, why, whysize);
        }
    }
done:
    free(copy);
    if (rc == 0) {
        *out = h;
        return 0;
    }
    if (rc == -ENOMEM)
        snprintf(why, whysize, "out of memory");
    cadence_hours_free(h);
    return rc;
}

void
cadence_hours_free(struct cadence_hours *h)
{
    if (h == NULL)
        return;
    parse_zone_free(h->zone);
    free(h->holidays);
    free(h);
}

const char *
cadence_hours_zone(const struct cadence_hours *h)
{
    return parse_zone_name(h->zone);
}

static int
cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* "YYYY-MM-DD" (n bytes) → days since 1970-01-01. */
static int
parse_ymd(const char *s, size_t n, int32_t *out)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (i != 4 && i != 7 && !is_digit(s[i]))
            return -EINVAL;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > parse_month_days(y, m))
        return -EINVAL;
    *out = (int32_t)parse_days_from_civil(y, m, d);
    return 0;
}

int
cadence_dates_parse(const char *text, int32_t **days, size_t *n, int *line, char *why,
                    size_t whysize)
{
    int32_t *v = NULL;
    size_t cnt = 0, cap = 0;
    int ln = 1, rc = 0;
    *days = NULL;
    *n = 0;
    for (const char *p = text; *p != '\0' && rc == 0;) {
        if (*p == '#') {
            p += strcspn(p, "\n");
            continue;
        }
        if (*p == '\n' || *p == ',' || *p == '\r' || is_blank(*p)) {
            ln += *p++ == '\n';
            continue;
        }
        size_t len = strcspn(p, " \t\r\n,#");
        int32_t d;
        if (parse_ymd(p, len, &d) < 0) {
            snprintf(why, whysize, "bad date '%.*s' (want YYYY-MM-DD)", (int)(len > 40 ? 40 : len),
                     p);
            *line = ln;
            rc = -EINVAL;
        } else if (cnt == CADENCE_HOLIDAYS) {
            snprintf(why, whysize, "more than %d dates", CADENCE_HOLIDAYS);
            *line = ln;
            rc = -E2BIG;
        } else if (cnt == cap) {
            size_t c = cap ? cap * 2 : 32;
            int32_t *g = realloc(v, c * sizeof(*v));
            if (g == NULL) {
                snprintf(why, whysize, "out of memory");
                rc = -ENOMEM;
            } else {
                v = g, cap = c;
            }
        }
        if (rc == 0)
            v[cnt++] = d;
        p += len;
    }
    if (rc < 0) {
        free(v);
        return rc;
    }
    if (cnt > 0)
        qsort(v, cnt, sizeof(*v), cmp_i32);
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    *days = k > 0 ? v : NULL;
    if (k == 0)
        free(v);
    *n = k;
    return 0;
}

int
cadence_hours_holidays(struct cadence_hours *h, const int32_t *days, size_t n)
{
    int32_t *v = NULL;
    if (n > 0) {
        if ((v = malloc(n * sizeof(*v))) == NULL)
            return -ENOMEM;
        memcpy(v, days, n * sizeof(*v));
        qsort(v, n, sizeof(*v), cmp_i32);
    }
    free(h->holidays);
    h->holidays = v;
    h->nholidays = n;
    return 0;
}

/* ---- instants ---- */

/* The local date (days since 1970-01-01) of instant t. */
static int64_t
local_day(const struct cadence_hours *h, int64_t t)
{
    return floor_div(t + parse_zone_offset(h->zone, t), DAY);
}

static int
is_holiday(const struct cadence_hours *h, int64_t day)
{
    int32_t d = (int32_t)day;
    return h->nholidays > 0 && day == d &&
           bsearch(&d, h->holidays, h->nholidays, sizeof(d), cmp_i32) != NULL;
}

/* Range i of local day `day` as instants [*s, *e). 0, or -1 when the day
 * has no such range (a holiday, another weekday's). */
static int
range_at(const struct cadence_hours *h, int64_t day, int i, int64_t *s, int64_t *e)
{
    int w = parse_weekday(day);
    if (i >= h->n[w] || is_holiday(h, day))
        return -1;
    *s = parse_zone_local_to_utc(h->zone, day * DAY + h->ranges[w][i].start);
    *e = parse_zone_local_to_utc(h->zone, day * DAY + h->ranges[w][i].end);
    return 0;
}

/* The end of the range holding t (the latest, when several do), or -1. */
static int64_t
open_until(const struct cadence_hours *h, int64_t t)
{
    int64_t d = local_day(h, t), until = -1, s, e;
    for (int64_t day = d - 1; day <= d + 1; day++)
        for (int i = 0; i < CADENCE_RANGES; i++)
            if (range_at(h, day, i, &s, &e) == 0 && s <= t && t < e && e > until)
                until = e;
    return until;
}

int
cadence_open(const struct cadence_hours *h, int64_t t)
{
    return open_until(h, t) >= 0;
}

int
cadence_holiday(const struct cadence_hours *h, int64_t t)
{
    return is_holiday(h, local_day(h, t));
}

int64_t
cadence_next_open(const struct cadence_hours *h, int64_t t)
{
    if (cadence_open(h, t))
        return t;
    int64_t d = local_day(h, t), best = INT64_MAX, s, e;
    for (int64_t day = d - 1; day <= d + SCAN_DAYS; day++) {
        for (int i = 0; i < CADENCE_RANGES; i++)
            if (range_at(h, day, i, &s, &e) == 0 && s >= t && s < best)
                best = s;
        /* a later day's ranges start later */
        if (best != INT64_MAX && day >= d)
            break;
    }
    return best;
}

int64_t
cadence_next_close(const struct cadence_hours *h, int64_t t)
{
    int64_t until;
    /* ranges that touch are one opening: a week of them, at most */
    for (int n = 0; n < 7 * CADENCE_RANGES + 2 && (until = open_until(h, t)) > t; n++)
        t = until;
    return t;
}

char *
cadence_local(const struct cadence_hours *h, int64_t t, char *buf, size_t size)
{
    int64_t local = t + parse_zone_offset(h->zone, t);
    int64_t day = floor_div(local, DAY), sec = local - day * DAY;
    snprintf(buf, size, "%s %02d:%02d", day_names[parse_weekday(day)], (int)(sec / 3600),
             (int)(sec % 3600 / 60));
    return buf;
}
