/* tests/test_cadence.c — daemon/cadence/: when a feed is checked next, as
 * pure functions with a fake clock (every instant is given): exchange hours
 * and their errors, DST in New York (March and November), Shanghai's lunch
 * break, overnight groups, holidays (lists and files' text), the adaptive
 * interval (steady, quiet, burst, too few dates), the step that applies at
 * an instant, and the words the status shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/cadence/cadence.h"

/* Instants (UTC) of 2025 used below. */
#define FRI_MAR7_1430Z INT64_C(1741357800) /* 09:30 EST: the opening */
#define FRI_MAR7_2100Z INT64_C(1741381200) /* 16:00 EST: the close */
#define SAT_MAR8_1200Z INT64_C(1741435200)
#define MON_MAR10_1330Z INT64_C(1741613400) /* 09:30 EDT, after spring forward */
#define MON_MAR10_2000Z INT64_C(1741636800) /* 16:00 EDT */
#define FRI_OCT31_1330Z INT64_C(1761917400) /* 09:30 EDT */
#define FRI_OCT31_2000Z INT64_C(1761940800)
#define MON_NOV3_1430Z INT64_C(1762180200) /* 09:30 EST, after fall back */
#define MON_NOV3_2100Z INT64_C(1762203600)

static struct cadence_hours *
hours(const char *text)
{
    struct cadence_hours *h = NULL;
    char why[256] = "";
    int rc = cadence_hours_parse(text, &h, why, sizeof(why));
    if (rc != 0)
        print_error("'%s': %s\n", text, why);
    assert_int_equal(rc, 0);
    return h;
}

/* The error of a bad `hours` text contains `want`. */
static void
hours_bad(const char *text, const char *want)
{
    struct cadence_hours *h = NULL;
    char why[256] = "";
    assert_int_equal(cadence_hours_parse(text, &h, why, sizeof(why)), -EINVAL);
    assert_null(h);
    if (strstr(why, want) == NULL)
        print_error("'%s': got '%s', want '%s'\n", text, why, want);
    assert_non_null(strstr(why, want));
}

static void
test_hours_parse(void **state)
{
    (void)state;
    struct cadence_hours *h = hours("Mon-Fri 09:30-16:00 America/New_York");
    assert_string_equal(cadence_hours_zone(h), "America/New_York");
    cadence_hours_free(h);
    /* blanks, case, single digits, lists, groups, daily, UTC */
    cadence_hours_free(hours("  mon-FRI  9:30-11:30, 13:00-15:00   Asia/Shanghai "));
    cadence_hours_free(hours("Mon,Wed,Fri 10:00-12:00; Sat 10:00-11:00 Europe/London"));
    cadence_hours_free(hours("daily 00:00-24:00 UTC"));
    cadence_hours_free(hours("Fri-Mon 08:00-09:00 Asia/Tokyo"));

    hours_bad("", "want DAYS");
    hours_bad("Mon-Fri", "want DAYS");
    hours_bad("Mon-Fri 09:30-16:00", "no time zone at the end");
    hours_bad("Mon-Fri 09:30-16:00 America/Nowhere", "unknown time zone 'America/Nowhere'");
    hours_bad("Mon-Fri 09:30-16:00 ../../etc/passwd", "unknown time zone");
    hours_bad("Mon-Fry 09:30-16:00 UTC", "bad day 'Fry'");
    hours_bad("Monday 09:30-16:00 UTC", "bad day 'Monday'");
    hours_bad("Mon, 09:30-16:00 UTC", "bad day");
    hours_bad("Mon-Fri 9:30 UTC", "bad time range '9:30'");
    hours_bad("Mon-Fri 09:60-16:00 UTC", "bad time range");
    hours_bad("Mon-Fri 24:00-24:00 UTC", "bad time range");
    hours_bad("Mon-Fri 09:30-25:00 UTC", "bad time range");
    hours_bad("Mon-Fri 16:00-09:30 UTC", "ends before it starts");
    hours_bad("Mon-Fri 09:30-16:00, UTC", "a comma ends them");
    hours_bad("Mon-Fri 09:30-16:00; ; Sat 10:00-11:00 UTC", "an empty group");
    hours_bad("Mon 01:00-02:00,02:00-03:00,03:00-04:00,04:00-05:00,05:00-06:00,06:00-07:00,"
              "07:00-08:00,08:00-09:00,09:00-10:00 UTC",
              "more than 8 time ranges on Mon");
}

/* New York across both DST changes of 2025: the opening follows the wall
 * clock, 14:30Z in winter, 13:30Z in summer. */
static void
test_new_york_dst(void **state)
{
    (void)state;
    struct cadence_hours *h = hours("Mon-Fri 09:30-16:00 America/New_York");
    char buf[32];

    /* Friday 7 March, EST */
    assert_int_equal(cadence_open(h, FRI_MAR7_1430Z - 1), 0);
    assert_int_equal(cadence_open(h, FRI_MAR7_1430Z), 1);
    assert_int_equal(cadence_open(h, FRI_MAR7_2100Z - 1), 1);
    assert_int_equal(cadence_open(h, FRI_MAR7_2100Z), 0);
    assert_int_equal(cadence_next_open(h, FRI_MAR7_1430Z - 3600), FRI_MAR7_1430Z);
    assert_int_equal(cadence_next_open(h, FRI_MAR7_1430Z + 60), FRI_MAR7_1430Z + 60);
    assert_int_equal(cadence_next_close(h, FRI_MAR7_1430Z + 60), FRI_MAR7_2100Z);
    assert_int_equal(cadence_next_close(h, SAT_MAR8_1200Z), SAT_MAR8_1200Z);
    /* the weekend, clocks forward on Sunday: Monday opens at 13:30Z */
    assert_int_equal(cadence_open(h, SAT_MAR8_1200Z), 0);
    assert_int_equal(cadence_next_open(h, FRI_MAR7_2100Z), MON_MAR10_1330Z);
    assert_int_equal(cadence_next_open(h, SAT_MAR8_1200Z), MON_MAR10_1330Z);
    assert_int_equal(cadence_open(h, MON_MAR10_1330Z - 1), 0);
    assert_int_equal(cadence_open(h, MON_MAR10_1330Z), 1);
    assert_int_equal(cadence_next_close(h, MON_MAR10_1330Z), MON_MAR10_2000Z);
    assert_string_equal(cadence_local(h, MON_MAR10_1330Z, buf, sizeof(buf)), "Mon 09:30");
    assert_string_equal(cadence_local(h, FRI_MAR7_2100Z, buf, sizeof(buf)), "Fri 16:00");
    /* clocks back on Sunday 2 November: Monday opens at 14:30Z */
    assert_int_equal(cadence_open(h, FRI_OCT31_1330Z), 1);
    assert_int_equal(cadence_next_close(h, FRI_OCT31_1330Z), FRI_OCT31_2000Z);
    assert_int_equal(cadence_next_open(h, FRI_OCT31_2000Z), MON_NOV3_1430Z);
    assert_int_equal(cadence_open(h, MON_NOV3_1430Z - 1), 0);
    assert_int_equal(cadence_next_close(h, MON_NOV3_1430Z), MON_NOV3_2100Z);
    assert_string_equal(cadence_local(h, MON_NOV3_1430Z, buf, sizeof(buf)), "Mon 09:30");
    cadence_hours_free(h);
}

/* Shanghai: two sessions, a lunch break between (UTC+8, no DST). */
static void
test_shanghai_lunch(void **state)
{
    (void)state;
    struct cadence_hours *h = hours("Mon-Fri 09:30-11:30,13:00-15:00 Asia/Shanghai");
    int64_t mon = INT64_C(1741564800); /* 2025-03-10T00:00:00Z, 08:00 local */
    int64_t am = mon + 5400, lunch = mon + 12600, pm = mon + 18000, close = mon + 25200;
    assert_int_equal(cadence_open(h, mon), 0);
    assert_int_equal(cadence_next_open(h, mon), am);
    assert_int_equal(cadence_open(h, am), 1);
    assert_int_equal(cadence_next_close(h, am + 1), lunch);
    assert_int_equal(cadence_open(h, lunch), 0);
    assert_int_equal(cadence_open(h, lunch + 3600), 0); /* 12:30 local */
    assert_int_equal(cadence_next_open(h, lunch), pm);
    assert_int_equal(cadence_next_close(h, pm), close);
    assert_int_equal(cadence_open(h, close), 0);
    /* after Friday's close: Monday's 09:30 */
    int64_t fri_close = close + 4 * 86400;
    assert_int_equal(cadence_next_open(h, fri_close), am + 7 * 86400);
    cadence_hours_free(h);
}

/* Overnight hours as two groups touch at midnight: one opening. */
static void
test_overnight(void **state)
{
    (void)state;
    struct cadence_hours *h = hours("Sun-Thu 18:00-24:00; Mon-Fri 00:00-17:00 America/Chicago");
    int64_t sun_1800 = INT64_C(1741561200); /* 2025-03-09 18:00 CDT, the DST day */
    int64_t mon_1700 = INT64_C(1741644000); /* 2025-03-10 17:00 CDT */
    assert_int_equal(cadence_open(h, sun_1800 - 1), 0);
    assert_int_equal(cadence_next_open(h, sun_1800 - 7200), sun_1800);
    assert_int_equal(cadence_open(h, sun_1800 + 6 * 3600), 1); /* Monday 00:00 */
    assert_int_equal(cadence_next_close(h, sun_1800), mon_1700);
    assert_int_equal(cadence_next_open(h, mon_1700), mon_1700 + 3600); /* Mon 18:00 */
    cadence_hours_free(h);
}

static void
test_holidays(void **state)
{
    (void)state;
    int32_t *days = NULL;
    size_t n = 0;
    int line = 0;
    char why[128];
    const char *file = "# NYSE 2025\n2025-07-04\n\n2025-01-01, 2025-12-25  # Christmas\n"
                       "2025-07-04\r\n";
    assert_int_equal(cadence_dates_parse(file, &days, &n, &line, why, sizeof(why)), 0);
    assert_int_equal(n, 3);           /* sorted, each once */
    assert_int_equal(days[0], 20089); /* 2025-01-01 */
    assert_int_equal(days[1], 20273); /* 2025-07-04 */
    assert_int_equal(days[2], 20447); /* 2025-12-25 */

    struct cadence_hours *h = hours("Mon-Fri 09:30-16:00 America/New_York");
    assert_int_equal(cadence_hours_holidays(h, days, n), 0);
    free(days);
    int64_t thu_close = INT64_C(1751572800), fri = INT64_C(1751641200); /* 16:00, 11:00 EDT */
    int64_t mon_open = INT64_C(1751895000);                             /* 07-07 09:30 EDT */
    assert_int_equal(cadence_open(h, fri), 0);
    assert_int_equal(cadence_holiday(h, fri), 1);
    assert_int_equal(cadence_holiday(h, thu_close), 0);
    assert_int_equal(cadence_next_open(h, thu_close), mon_open);
    cadence_hours_free(h);

    /* empty; bad dates name their line */
    assert_int_equal(cadence_dates_parse("# none\n", &days, &n, &line, why, sizeof(why)), 0);
    assert_int_equal(n, 0);
    assert_null(days);
    assert_int_equal(
        cadence_dates_parse("2025-01-01\n2025-02-30\n", &days, &n, &line, why, sizeof(why)),
        -EINVAL);
    assert_int_equal(line, 2);
    assert_string_equal(why, "bad date '2025-02-30' (want YYYY-MM-DD)");
    assert_int_equal(cadence_dates_parse("\n\n2025-1-1", &days, &n, &line, why, sizeof(why)),
                     -EINVAL);
    assert_int_equal(line, 3);
    assert_int_equal(cadence_dates_parse("2025-13-01", &days, &n, &line, why, sizeof(why)),
                     -EINVAL);
    assert_int_equal(cadence_dates_parse("tomorrow", &days, &n, &line, why, sizeof(why)), -EINVAL);
}

/* Every holiday of a year: the schedule never opens within the scan. */
static void
test_never_open(void **state)
{
    (void)state;
    struct cadence_hours *h = hours("Mon 09:00-10:00 UTC");
    int32_t all[420];
    for (int i = 0; i < 420; i++)
        all[i] = 20089 + i;
    assert_int_equal(cadence_hours_holidays(h, all, 420), 0);
    assert_int_equal(cadence_next_open(h, INT64_C(20089) * 86400), INT64_MAX);
    cadence_hours_free(h);
}

#define NOW INT64_C(1741613400)

static void
test_auto(void **state)
{
    (void)state;
    int64_t d[40];
    char why[128];
    /* one item every 10 minutes, the last a minute ago: 5m */
    for (int i = 0; i < 20; i++)
        d[i] = NOW - 60 - 600 * i;
    assert_int_equal(cadence_auto(d, 20, NOW, 60, 21600, why, sizeof(why)), 300);
    assert_string_equal(why, "auto: 5m from 6.0 items/h");
    /* in any order, the same */
    int64_t r[20];
    for (int i = 0; i < 20; i++)
        r[i] = d[(i * 7) % 20];
    assert_int_equal(cadence_auto(r, 20, NOW, 60, 21600, why, sizeof(why)), 300);
    /* quiet for 4 hours since: backs off to 2h; for 2 days: 6h (max) */
    assert_int_equal(cadence_auto(d, 20, NOW + 4 * 3600 - 60, 60, 21600, why, sizeof(why)),
                     2 * 3600);
    assert_string_equal(why, "auto: 2h, quiet for 4h");
    assert_int_equal(cadence_auto(d, 20, NOW + 2 * 86400, 60, 21600, why, sizeof(why)), 21600);
    assert_string_equal(why, "auto: 6h (max), quiet for 2d");
    /* a burst: hourly items, then five a minute apart: tightens at once (1m, min) */
    for (int i = 0; i < 20; i++)
        d[i] = NOW - 3600 * (i + 1);
    assert_int_equal(cadence_auto(d, 20, NOW, 60, 21600, why, sizeof(why)), 1800);
    assert_string_equal(why, "auto: 30m from 1.0 items/h");
    for (int i = 0; i < 5; i++)
        d[20 + i] = NOW - 30 - 60 * i;
    assert_int_equal(cadence_auto(d, 25, NOW, 60, 21600, why, sizeof(why)), 60);
    assert_string_equal(why, "auto: 1m (min) from 60 items/h");
    /* two close items alone are no burst */
    assert_int_equal(cadence_auto(d, 22, NOW, 60, 21600, why, sizeof(why)), 1800);
    /* items of one second count once: a batch of ten every 2 hours */
    for (int i = 0; i < 40; i++)
        d[i] = NOW - 7200 * (i / 10);
    assert_int_equal(cadence_auto(d, 40, NOW, 60, 21600, why, sizeof(why)), 3600);
    assert_string_equal(why, "auto: 1h from 0.5 items/h");
    /* a daily feed, clamped by its own bounds */
    for (int i = 0; i < 5; i++)
        d[i] = NOW - 86400 * i;
    assert_int_equal(cadence_auto(d, 5, NOW, 60, 3600, why, sizeof(why)), 3600);
    assert_string_equal(why, "auto: 1h (max) from 1.0 items/d");
    /* too few dates: 15m, clamped */
    assert_int_equal(cadence_auto(d, 2, NOW, 60, 21600, why, sizeof(why)), 900);
    assert_string_equal(why, "auto: 15m, too few dated items");
    assert_int_equal(cadence_auto(NULL, 0, NOW, 1200, 21600, why, sizeof(why)), 1200);
    int64_t same[3] = {NOW, NOW, NOW};
    assert_int_equal(cadence_auto(same, 3, NOW, 60, 21600, why, sizeof(why)), 900);
    /* only the newest 20 count: an old slow past is forgotten */
    for (int i = 0; i < 40; i++)
        d[i] = i < 21 ? NOW - 120 * i : NOW - 120 * 20 - 86400 * (i - 20);
    assert_int_equal(cadence_auto(d, 40, NOW, 10, 21600, why, sizeof(why)), 60);
    /* a date in the future (a publisher's clock ahead) is no silence */
    for (int i = 0; i < 20; i++)
        d[i] = NOW + 300 - 600 * i;
    assert_int_equal(cadence_auto(d, 20, NOW, 60, 21600, why, sizeof(why)), 300);
}

static void
test_step(void **state)
{
    (void)state;
    struct cadence_hours *h = hours("Mon-Fri 09:30-16:00 America/New_York");
    struct cadence_plan p = {.interval = 900,
                             .min_interval = 60,
                             .max_interval = 21600,
                             .schedule = "us-equities",
                             .hours = h,
                             .inside = 60,
                             .outside = 3600};
    struct cadence_step st;
    char why[128];
    int64_t dates[1] = {0};

    cadence_step(&p, MON_MAR10_1330Z + 600, &st);
    assert_string_equal(st.label, "schedule us-equities: open");
    assert_int_equal(st.interval, 60);
    assert_int_equal(st.opens, 0);
    assert_int_equal(cadence_interval(&st, dates, 0, MON_MAR10_1330Z, why, sizeof(why)), 60);
    assert_string_equal(why, "every 1m");

    cadence_step(&p, SAT_MAR8_1200Z, &st);
    assert_string_equal(st.label, "schedule us-equities: closed");
    assert_int_equal(st.interval, 3600);
    assert_int_equal(st.opens, MON_MAR10_1330Z);
    assert_int_equal(st.open_jitter, 6);
    assert_string_equal(st.opens_label, "opens Mon 09:30");

    /* Monday 10 March a holiday: Tuesday's opening */
    int32_t mon = 20157;
    assert_int_equal(cadence_hours_holidays(h, &mon, 1), 0);
    cadence_step(&p, MON_MAR10_1330Z + 600, &st);
    assert_string_equal(st.label, "schedule us-equities: closed (holiday)");
    assert_int_equal(st.opens, MON_MAR10_1330Z + 86400);
    assert_string_equal(st.opens_label, "opens Tue 09:30");

    /* auto inside: jitter from min_interval; no schedule: the feed's own */
    p.inside = 0;
    cadence_step(&p, SAT_MAR8_1200Z, &st);
    assert_int_equal(st.open_jitter, 6);
    p.schedule = NULL;
    p.interval = 0;
    cadence_step(&p, SAT_MAR8_1200Z, &st);
    assert_string_equal(st.label, "");
    assert_int_equal(st.interval, 0);
    assert_int_equal(st.opens, 0);
    assert_int_equal(cadence_interval(&st, dates, 0, SAT_MAR8_1200Z, why, sizeof(why)), 900);
    assert_string_equal(why, "auto: 15m, too few dated items");
    cadence_hours_free(h);
}

static void
test_words(void **state)
{
    (void)state;
    char b[24];
    assert_string_equal(cadence_span(0, b, sizeof(b)), "0s");
    assert_string_equal(cadence_span(-5, b, sizeof(b)), "0s");
    assert_string_equal(cadence_span(45, b, sizeof(b)), "45s");
    assert_string_equal(cadence_span(90, b, sizeof(b)), "1m30s");
    assert_string_equal(cadence_span(3600, b, sizeof(b)), "1h");
    assert_string_equal(cadence_span(3605, b, sizeof(b)), "1h");
    assert_string_equal(cadence_span(5400, b, sizeof(b)), "1h30m");
    assert_string_equal(cadence_span(2 * 86400 + 6 * 3600 + 59, b, sizeof(b)), "2d6h");
    int64_t v[] = {5, 1, 9, 3};
    assert_int_equal(cadence_median(v, 4), 4);
    assert_int_equal(cadence_median(v, 3), 3); /* v is sorted now: of 1 3 5 */
    assert_int_equal(cadence_median(v, 0), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hours_parse),    cmocka_unit_test(test_new_york_dst),
        cmocka_unit_test(test_shanghai_lunch), cmocka_unit_test(test_overnight),
        cmocka_unit_test(test_holidays),       cmocka_unit_test(test_never_open),
        cmocka_unit_test(test_auto),           cmocka_unit_test(test_step),
        cmocka_unit_test(test_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
