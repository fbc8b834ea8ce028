/* parse/date/date_int.h — inside the date room: the calendar arithmetic and the
 * time zone lookups (tz.c) that the date parser (date.c, date_lex.c) builds on. */
#ifndef FINFEED_PARSE_DATE_INT_H
#define FINFEED_PARSE_DATE_INT_H

#include <stdint.h>

#ifndef FINFEED_ZONEINFO
#define FINFEED_ZONEINFO "/usr/share/zoneinfo"
#endif

/* ---- calendar (proleptic Gregorian, H. Hinnant's algorithms) ---- */

static inline int
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static inline int
month_days(int64_t y, int m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static inline int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days since 1970-01-01 of year y, month m (1..12), day d. */
static inline int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static inline void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday. 1970-01-01 was a Thursday. */
static inline int
weekday(int64_t days)
{
    return (int)(((days + 4) % 7 + 7) % 7);
}

/* A zone whose offset has not changed since `since` (tzdata), answered
 * without reading its file; `china`: "CST" there means China Standard Time. */
struct fixed_zone {
    const char *name;
    int offset; /* seconds east of UTC */
    int since;  /* first local year with only this offset */
    int china;
};

/* The fixed zone named tz, or NULL. Static data. */
const struct fixed_zone *date_fixed_zone(const char *tz);

/* Local wall time `local` (seconds, as if UTC) of local year `year` in zone tz
 * (NULL or "" = UTC; an IANA name read from the system tz database) → UTC in
 * *out. Returns 0, or -EINVAL for an unknown or unsafe zone name. Thread-safe:
 * no global state, no allocation. */
int date_zone_local_to_utc(const char *tz, int year, int64_t local, int64_t *out);

#endif
