/* daemon/service/policy.c — next-fetch times after a success or a failure,
 * and the timer delay, in saturating arithmetic (see policy.h); and the pure
 * parts of service.h: a feed's state in words, outcome names, the histogram
 * bounds, the ISO time format; the next check with its reason (issue 13). */
#include <stdio.h>
#include <string.h>

#include "daemon/cadence/cadence.h"
#include "daemon/service/policy.h"
#include "daemon/service/service.h"
#include "parse/parse.h"

const double service_bucket_bounds[SERVICE_BUCKETS] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
const double service_lag_bounds[SERVICE_LAG_BUCKETS] = {1,    5,    15,   30,    60,   120,  300,
                                                        600,  1800, 3600, 7200, 21600, 86400};

const char *
service_outcome_name(enum service_outcome o)
{
    static const char *const names[SERVICE_OUTCOMES] = {"ok", "not-modified", "error", "gone"};
    return o < SERVICE_OUTCOMES ? names[o] : "error";
}

const char *
service_feed_state(const struct service_feed *f, int64_t now, int64_t stale_after)
{
    if (f->last == SERVICE_GONE)
        return "gone";
    if (!f->enabled || f->unlisted)
        return "disabled";
    if (!f->fetched && f->last_fetch == 0)
        return "new";
    if (f->last == SERVICE_ERROR)
        return "error";
    /* unsigned difference: exact for now > newest, whatever the values */
    if (stale_after > 0 && f->newest > 0 && now > f->newest &&
        (uint64_t)now - (uint64_t)f->newest > (uint64_t)stale_after)
        return "stale";
    return "ok";
}

char *
service_time_iso(int64_t t, char *buf, size_t size)
{
    return parse_date_iso(t, buf, size);
}

int64_t
service_time_add(int64_t a, int64_t b)
{
    if (b <= 0)
        return b < 0 && a < INT64_MIN - b ? INT64_MIN : a + b;
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* Up to `span` seconds (span >= 0), from the caller's draw. */
static int64_t
jitter(int64_t span, uint64_t rnd)
{
    if (span <= 0)
        return 0;
    return (int64_t)(rnd % ((uint64_t)span + 1));
}

/* What the feed's <ttl> (minutes) and max-age (seconds) ask, capped at 6 h;
 * *by_ttl: 1 when the ttl is what asks. */
static int64_t
asked_of(long ttl_min, long max_age, int *by_ttl)
{
    int64_t asked = ttl_min > 0 ? (ttl_min > SERVICE_TTL_CAP / 60 ? SERVICE_TTL_CAP
                                                                   : (int64_t)ttl_min * 60)
                                : 0;
    *by_ttl = asked > 0;
    if (max_age > asked) {
        asked = max_age;
        *by_ttl = 0;
    }
    if (asked > SERVICE_TTL_CAP)
        asked = SERVICE_TTL_CAP;
    return asked;
}

int64_t
service_next_ok(int64_t now, int64_t interval, long ttl_min, long max_age, uint64_t rnd)
{
    int by_ttl;
    int64_t want = interval > 0 ? interval : 0;
    int64_t asked = asked_of(ttl_min, max_age, &by_ttl);
    if (asked > want)
        want = asked;
    return service_time_add(service_time_add(now, want), jitter(want / 10, rnd));
}

int64_t
service_next_check(const struct service_next_in *in, char *why, size_t size)
{
    const char *label = in->label != NULL ? in->label : "";
    const char *sep = label[0] != '\0' ? ", " : "";
    char a[24];
    if (in->kind == SERVICE_NEXT_NOW) {
        snprintf(why, size, "due again: the fetch was not made");
        return in->now;
    }
    if (in->kind == SERVICE_NEXT_ERROR) {
        int64_t plain = service_next_error(in->now, in->interval, in->errors, -1, in->rnd);
        int64_t t = service_next_error(in->now, in->interval, in->errors, in->retry_after, in->rnd);
        if (t > plain)
            snprintf(why, size, "Retry-After: %s", cadence_span(t - in->now, a, sizeof(a)));
        else
            snprintf(why, size, "backoff: %d error%s", in->errors, in->errors == 1 ? "" : "s");
        return t;
    }
    int by_ttl;
    int64_t want = in->interval > 0 ? in->interval : 0, span = want / 10;
    int64_t asked = asked_of(in->ttl_min, in->max_age, &by_ttl);
    if (in->opens > 0 && in->opens - in->now < want) {
        /* a closed schedule opens before the interval is out */
        want = in->opens > in->now ? in->opens - in->now : 0;
        span = in->open_jitter > 0 ? in->open_jitter : 0;
        snprintf(why, size, "%s%s%s", label, sep, in->opens_label ? in->opens_label : "opens");
    } else {
        snprintf(why, size, "%s%s%s", label, sep, in->why ? in->why : "");
    }
    if (asked > want) {
        size_t n = strlen(why);
        want = asked;
        span = asked / 10;
        snprintf(why + n, size - n, "; %s asks %s", by_ttl ? "ttl" : "max-age",
                 cadence_span(asked, a, sizeof(a)));
    }
    return service_time_add(service_time_add(in->now, want), jitter(span, in->rnd));
}

int64_t
service_next_error(int64_t now, int64_t interval, int errors, long retry_after, uint64_t rnd)
{
    int64_t delay = interval > 0 ? interval : 0;
    for (int i = 1; i < errors && delay < SERVICE_DAY; i++)
        delay *= 2; /* below a day before, so no overflow */
    if (delay > SERVICE_DAY)
        delay = SERVICE_DAY;
    delay += jitter(delay / 5, rnd);
    if (delay > SERVICE_DAY)
        delay = SERVICE_DAY;
    if (retry_after > 0) {
        int64_t ra = retry_after > SERVICE_DAY ? SERVICE_DAY : retry_after;
        if (ra > delay)
            delay = ra;
    }
    return service_time_add(now, delay);
}

uint64_t
service_timer_ms(int64_t now, int64_t when)
{
    if (when <= now)
        return 0;
    /* when > now: the difference fits in 64 unsigned bits, never in a signed one for sure */
    uint64_t d = (uint64_t)when - (uint64_t)now;
    return (d > SERVICE_DAY ? SERVICE_DAY : d) * 1000;
}

int64_t
service_hub_retry(int tries, int fails, int *drop)
{
    static const int64_t wait[] = {5, 30, 120, 600};
    *drop = fails >= SERVICE_HUB_DROP_FAILS;
    if (tries < 1 || (size_t)tries > sizeof(wait) / sizeof(wait[0]))
        return 0;
    return wait[tries - 1];
}
