/* daemon/service/policy.h — when a feed is fetched next (SPEC §6, issue 13), as plain
 * functions of numbers: no loop, no clock, no random source of their own
 * (the caller draws `rnd`), so tests/test_sched.c checks them directly. All
 * time arithmetic saturates: no interval, however large, wraps into the past. */
#ifndef FINFEED_SERVICE_POLICY_H
#define FINFEED_SERVICE_POLICY_H

#include <stdint.h>

#define SERVICE_DAY (24 * 3600)     /* cap of the error backoff, seconds */
#define SERVICE_TTL_CAP (6 * 3600)  /* cap of what ttl, max-age and Retry-After ask, seconds */

/* a + b for b >= 0, at most INT64_MAX. */
int64_t service_time_add(int64_t a, int64_t b);

/* Next fetch after a success at `now`: `interval`, but never sooner than
 * the feed's <ttl> (minutes, 0 none) or Cache-Control max-age (seconds, <= 0
 * none) ask, those capped at 6 h; plus up to 10% jitter (rnd % (span + 1)). */
int64_t service_next_ok(int64_t now, int64_t interval, long ttl_min, long max_age, uint64_t rnd);

/* Next fetch after failure number `errors` (>= 1): interval × 2^(errors−1),
 * capped at 24 h, plus up to 20% jitter (the sum capped at 24 h again); a
 * Retry-After (seconds, <= 0 none) that asks for later wins, capped at 24 h. */
int64_t service_next_error(int64_t now, int64_t interval, int errors, long retry_after,
                           uint64_t rnd);

/* The built-in WebSub hub's retries (SPEC §11). A delivery failed: it was
 * attempt `tries` (>= 1) of the present content, and the subscription's
 * `fails`-th (>= 1) failure in a row. Returns the seconds to wait before
 * the next attempt — 5 s, 30 s, 2 min, 10 min — or 0 after the fifth: that
 * content is given up (the next change is tried afresh). *drop is set to 1
 * once the subscription failed SERVICE_HUB_DROP_FAILS times in a row (a
 * callback gone for good: the subscription is removed), else 0. */
#define SERVICE_HUB_DROP_FAILS 10
int64_t service_hub_retry(int tries, int fails, int *drop);

/* What a finished fetch asks of the next check (issue 13 §2). */
enum service_next_kind {
    SERVICE_NEXT_OK,    /* 200 or 304: the interval, ttl, max-age, a schedule's opening */
    SERVICE_NEXT_ERROR, /* the backoff, Retry-After */
    SERVICE_NEXT_NOW,   /* no fetch was made (shutting down): due again at once */
};

/* Everything the next check is made of, as plain data (borrowed strings). */
struct service_next_in {
    int64_t now;             /* when the fetch ended, Unix seconds */
    enum service_next_kind kind;
    int errors;              /* ERROR: consecutive failures, >= 1 */
    long retry_after;        /* ERROR: a 429's or 503's Retry-After, seconds (<= 0 none) */
    long ttl_min;            /* OK: the feed's <ttl>, minutes (<= 0 none) */
    long max_age;            /* OK: Cache-Control max-age, seconds (<= 0 none) */
    int64_t interval;        /* the interval that applies (cadence_interval), seconds */
    const char *why;         /* … and its reason ("every 15m", "auto: 4m from …") */
    const char *label;       /* a schedule's state ("schedule us: closed"), "" or NULL */
    int64_t opens;           /* a closed schedule's next opening, 0 none */
    int64_t open_jitter;     /* … jitter after it, seconds */
    const char *opens_label; /* … in words ("opens Mon 09:30") */
    uint64_t rnd;            /* the caller's draw, for the jitter */
};

/* The next check (Unix seconds) and its reason in why (size bytes):
 * after a success, service_next_ok's rule, but a closed schedule's opening
 * wins when it comes sooner than the interval (then jitter of up to
 * open_jitter) — never sooner than ttl or max-age ask ("…; ttl asks 1h");
 * after a failure, service_next_error's ("backoff: 3 errors", or
 * "Retry-After: 2m" when that decided); NOW: `now`. Reasons: "every 15m",
 * "auto: 4m from 11 items/h", "schedule us: open, every 1m", "schedule us:
 * closed, opens Mon 09:30". */
int64_t service_next_check(const struct service_next_in *in, char *why, size_t size);

/* Milliseconds from `now` until `when` (Unix seconds) for a uv timer: 0 when
 * due, at most a day (the timer re-arms when it fires). */
uint64_t service_timer_ms(int64_t now, int64_t when);

#endif
