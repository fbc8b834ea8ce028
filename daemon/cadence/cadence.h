/* daemon/cadence/cadence.h — when a feed is checked next (issue 13 §2), as
 * pure functions: exchange hours with their holidays (`[schedule "NAME"]`),
 * the adaptive interval from a feed's item dates (`interval = auto`), the
 * rule that applies at an instant, and durations in words. No clock (every
 * `now` is the caller's), no global state, no I/O but reading a schedule's
 * zone once when its hours are parsed: thread-safe, tested with a fake
 * clock. The configuration parses with it; the service decides with it. */
#ifndef FINFEED_CADENCE_H
#define FINFEED_CADENCE_H

#include <stddef.h>
#include <stdint.h>

#define CADENCE_RANGES 8           /* time ranges a day, at most */
#define CADENCE_HOLIDAYS 10000     /* dates of one schedule, at most */
#define CADENCE_HISTORY 20         /* newest items whose gaps give the rate */
#define CADENCE_RECENT 6           /* … and the newest of them, for a burst */
#define CADENCE_UNKNOWN 900        /* auto's interval without a rate (then clamped) */
#define CADENCE_MIN_INTERVAL 60    /* auto's bounds by default: 1m … */
#define CADENCE_MAX_INTERVAL 21600 /* … 6h */
#define CADENCE_OUTSIDE 3600       /* a schedule's interval_outside by default */

/* ---- exchange hours ---- */

/* A week of opening hours in one zone, with holidays: parsed once, then
 * read-only (any number of threads may ask it). */
struct cadence_hours;

/* Parse `hours` text: one or more groups separated by ';', then the zone:
 *   Mon-Fri 09:30-16:00 America/New_York
 *   Mon-Fri 09:30-11:30,13:00-15:00 Asia/Shanghai
 *   Sun-Thu 18:00-24:00; Mon-Fri 00:00-17:00 America/Chicago
 * Days: Mon … Sun (any case), ranges of them (Mon-Fri; Fri-Mon wraps),
 * comma lists (Mon,Wed,Fri), or `daily`. Times: H:MM or HH:MM local wall
 * time, start before end, 24:00 only as an end (overnight hours are two
 * groups). The zone: an IANA name of the system tz database, read now
 * (parse_zone_open). Into *out (the caller's, cadence_hours_free). Returns
 * 0; -EINVAL with the reason in why ("bad day 'Fry' (want Mon … Sun or
 * daily)"); -ENOMEM. */
int cadence_hours_parse(const char *text, struct cadence_hours **out, char *why, size_t whysize);
void cadence_hours_free(struct cadence_hours *h);
/* The zone's name. */
const char *cadence_hours_zone(const struct cadence_hours *h);

/* Dates in `text` (YYYY-MM-DD, separated by commas, blanks or new lines; `#`
 * starts a comment to the end of its line) → *days (days since 1970-01-01,
 * sorted, each once; the caller frees it), count in *n (0: *days NULL).
 * Returns 0; -EINVAL with the reason in why and the 1-based line of the bad
 * date in *line; -E2BIG past CADENCE_HOLIDAYS; -ENOMEM. */
int cadence_dates_parse(const char *text, int32_t **days, size_t *n, int *line, char *why,
                        size_t whysize);
/* The schedule is closed all day on these local dates (copied; replaces any
 * before). Returns 0 or -ENOMEM. */
int cadence_hours_holidays(struct cadence_hours *h, const int32_t *days, size_t n);

/* 1 when open at instant t (Unix seconds), else 0. */
int cadence_open(const struct cadence_hours *h, int64_t t);
/* 1 when t falls on a holiday (a local date of the zone), else 0. */
int cadence_holiday(const struct cadence_hours *h, int64_t t);
/* The first instant at or after t when it is open: t itself when open;
 * INT64_MAX when it never opens within 400 days (holidays all year). */
int64_t cadence_next_open(const struct cadence_hours *h, int64_t t);
/* The first instant at or after t when it is closed: t itself when closed;
 * ranges that touch (a day's 24:00 and the next day's 00:00) are one. */
int64_t cadence_next_close(const struct cadence_hours *h, int64_t t);
/* t as the zone's local "Mon 09:30" into buf. Returns buf. */
char *cadence_local(const struct cadence_hours *h, int64_t t, char *buf, size_t size);

/* ---- the adaptive interval ---- */

/* `interval = auto`: the interval from the dates of a feed's items (Unix
 * seconds, any order, duplicates fine; believed publisher dates only),
 * `now`, and its bounds [min, max] (min <= max). The items published at
 * one second count once; of the CADENCE_HISTORY newest, the median gap
 * between them — or that of the CADENCE_RECENT newest, when smaller (a
 * burst tightens at once) — is the feed's gap; when it has been silent
 * for longer than that gap, the silence is (a feed that goes quiet backs
 * off). Half of it, clamped to [min, max], is the interval. Fewer than 3
 * distinct dates: CADENCE_UNKNOWN, clamped. The reason in why ("auto: 4m
 * from 11 items/h", "auto: 3h, quiet for 6h", "auto: 1m (min) from 90
 * items/h", "auto: 15m, too few dated items"). */
int64_t cadence_auto(const int64_t *dates, size_t n, int64_t now, int64_t min, int64_t max,
                     char *why, size_t whysize);

/* ---- the rule at an instant ---- */

/* How a feed is checked, from its configuration. Borrowed pointers. */
struct cadence_plan {
    int64_t interval;     /* fixed seconds (> 0), or 0: auto */
    int64_t min_interval; /* auto's bounds, seconds, 1 <= min <= max */
    int64_t max_interval;
    const char *schedule;              /* [schedule "NAME"] it follows, or NULL */
    const struct cadence_hours *hours; /* … its hours (with schedule) */
    int64_t inside;                    /* the schedule's interval while open, 0: auto */
    int64_t outside;                   /* … while closed, 0: auto */
};

/* What applies at one instant: plain data, copied into a worker's job. */
struct cadence_step {
    int64_t interval; /* fixed seconds, or 0: auto within [min, max] */
    int64_t min, max;
    int64_t opens;        /* closed: the next opening (an instant), else 0 */
    int64_t open_jitter;  /* after an opening: jitter of up to this, seconds */
    char label[96];       /* "schedule us-equities: closed", "" without one */
    char opens_label[48]; /* "opens Mon 09:30", when opens */
};

/* The step of plan p at instant now. */
void cadence_step(const struct cadence_plan *p, int64_t now, struct cadence_step *out);

/* The step's interval at `now` (fixed, or cadence_auto of the item dates),
 * its reason in why ("every 15m", or auto's). */
int64_t cadence_interval(const struct cadence_step *st, const int64_t *dates, size_t n, int64_t now,
                         char *why, size_t whysize);

/* ---- words and numbers ---- */

/* seconds as "45s", "4m", "1h30m", "2d6h" (two units at most, rounded
 * down); negative as 0s. Returns buf. */
char *cadence_span(int64_t seconds, char *buf, size_t size);
/* The median of v[0..n) (sorted in place): the middle value, or the mean of
 * the two middle ones; 0 when n is 0. */
int64_t cadence_median(int64_t *v, size_t n);

#endif
