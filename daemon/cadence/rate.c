/* daemon/cadence/rate.c — the adaptive interval (`interval = auto`) from a
 * feed's item dates, the rule that applies at an instant (a schedule open or
 * closed, or the feed's own interval), and the words the status shows for
 * them ("auto: 4m from 11 items/h", "schedule us-equities: closed"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/cadence/cadence.h"

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t
cadence_median(int64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_i64);
    if (n % 2 == 1)
        return v[n / 2];
    return v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

char *
cadence_span(int64_t s, char *buf, size_t size)
{
    static const struct {
        int64_t secs;
        char unit;
    } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    size_t len = 0;
    int used = 0;
    if (s <= 0) {
        snprintf(buf, size, "0s");
        return buf;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < 4 && used < 2 && len < size; i++) {
        int64_t q = s / units[i].secs;
        if (q == 0) {
            if (used > 0)
                break; /* "1h" then nothing, never "1h0m5s" */
            continue;
        }
        int w = snprintf(buf + len, size - len, "%lld%c", (long long)q, units[i].unit);
        if (w < 0)
            break;
        len += (size_t)w;
        s -= q * units[i].secs;
        used++;
    }
    return buf;
}

/* The publishing rate of one item every `gap` seconds, in words. */
static void
rate_words(int64_t gap, char *buf, size_t size)
{
    double per_h = 3600.0 / (double)(gap > 0 ? gap : 1);
    if (per_h >= 9.95)
        snprintf(buf, size, "%.0f items/h", per_h);
    else if (per_h >= 0.095)
        snprintf(buf, size, "%.1f items/h", per_h);
    else if (per_h * 24 >= 9.95)
        snprintf(buf, size, "%.0f items/d", per_h * 24);
    else
        snprintf(buf, size, "%.1f items/d", per_h * 24);
}

int64_t
cadence_auto(const int64_t *dates, size_t n, int64_t now, int64_t min, int64_t max, char *why,
             size_t whysize)
{
    int64_t top[CADENCE_HISTORY]; /* the newest distinct dates, newest first */
    size_t k = 0;
    char a[24], b[24], r[32];
    for (size_t i = 0; i < n; i++) {
        int64_t d = dates[i];
        size_t at = 0;
        while (at < k && top[at] > d)
            at++;
        if ((at < k && top[at] == d) || at == CADENCE_HISTORY)
            continue; /* the same second once; older than the newest 20 */
        if (k < CADENCE_HISTORY)
            k++;
        memmove(&top[at + 1], &top[at], (k - 1 - at) * sizeof(*top));
        top[at] = d;
    }
    if (k < 3) {
        int64_t iv = CADENCE_UNKNOWN < min ? min : CADENCE_UNKNOWN > max ? max : CADENCE_UNKNOWN;
        snprintf(why, whysize, "auto: %s, too few dated items", cadence_span(iv, a, sizeof(a)));
        return iv;
    }
    int64_t gaps[CADENCE_HISTORY], recent[CADENCE_RECENT - 1], gap = INT64_MAX;
    for (size_t i = 0; i + 1 < k; i++)
        gaps[i] = top[i] - top[i + 1]; /* >= 1: distinct dates */
    if (k >= CADENCE_RECENT) {
        memcpy(recent, gaps, sizeof(recent));
        gap = cadence_median(recent, CADENCE_RECENT - 1);
    }
    int64_t all = cadence_median(gaps, k - 1);
    if (all < gap)
        gap = all; /* the recent gaps count when they are the smaller: a burst */
    int64_t quiet = now - top[0], e = quiet > gap ? quiet : gap;
    int64_t iv = e / 2, clamped = iv < min ? -1 : iv > max ? 1 : 0;
    iv = clamped < 0 ? min : clamped > 0 ? max : iv;
    const char *bound = clamped < 0 ? " (min)" : clamped > 0 ? " (max)" : "";
    if (quiet > gap) {
        snprintf(why, whysize, "auto: %s%s, quiet for %s", cadence_span(iv, a, sizeof(a)), bound,
                 cadence_span(quiet, b, sizeof(b)));
    } else {
        rate_words(gap, r, sizeof(r));
        snprintf(why, whysize, "auto: %s%s from %s", cadence_span(iv, a, sizeof(a)), bound, r);
    }
    return iv;
}

void
cadence_step(const struct cadence_plan *p, int64_t now, struct cadence_step *out)
{
    char local[32];
    memset(out, 0, sizeof(*out));
    out->min = p->min_interval;
    out->max = p->max_interval;
    out->interval = p->interval;
    if (p->schedule == NULL || p->hours == NULL)
        return;
    if (cadence_open(p->hours, now)) {
        out->interval = p->inside;
        snprintf(out->label, sizeof(out->label), "schedule %.60s: open", p->schedule);
        return;
    }
    out->interval = p->outside;
    snprintf(out->label, sizeof(out->label), "schedule %.60s: closed%s", p->schedule,
             cadence_holiday(p->hours, now) ? " (holiday)" : "");
    int64_t opens = cadence_next_open(p->hours, now);
    if (opens == INT64_MAX)
        return;
    out->opens = opens;
    /* feeds due at the opening spread over a tenth of the interval inside */
    out->open_jitter = (p->inside > 0 ? p->inside : p->min_interval) / 10;
    snprintf(out->opens_label, sizeof(out->opens_label), "opens %s",
             cadence_local(p->hours, opens, local, sizeof(local)));
}

int64_t
cadence_interval(const struct cadence_step *st, const int64_t *dates, size_t n, int64_t now,
                 char *why, size_t whysize)
{
    char a[24];
    if (st->interval > 0) {
        snprintf(why, whysize, "every %s", cadence_span(st->interval, a, sizeof(a)));
        return st->interval;
    }
    return cadence_auto(dates, n, now, st->min, st->max, why, whysize);
}
