/* daemon/service/policy.h — when a feed is fetched next (SPEC §6), as plain
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

/* Milliseconds from `now` until `when` (Unix seconds) for a uv timer: 0 when
 * due, at most a day (the timer re-arms when it fires). */
uint64_t service_timer_ms(int64_t now, int64_t when);

#endif
