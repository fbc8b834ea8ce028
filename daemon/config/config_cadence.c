/* daemon/config/config_cadence.c — the keys of issue 13 §2, when feeds are
 * checked: a schedule's `hours` and `holidays` (a list of dates or a file of
 * them), the whole-file checks of schedules and of each feed's cadence
 * (`interval = auto` and its bounds, `schedule = NAME`), and each feed's plan
 * for daemon/cadence/. Kept apart from config_value.c's generic types. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/cadence/cadence.h"
#include "daemon/config/config_int.h"

#define HOLIDAYS_MAX_FILE (1 << 20) /* bytes: a list of dates */

int
config_hours_set(const char *v, struct cadence_hours **out, char *why, size_t whysize)
{
    struct cadence_hours *h = NULL;
    int rc = cadence_hours_parse(v, &h, why, whysize);
    if (rc < 0)
        return rc;
    cadence_hours_free(*out);
    *out = h;
    return 0;
}

/* The file at path, NUL-terminated, into *out. */
static int
slurp(const char *path, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    size_t n = 0, cap = 4096;
    char *buf = NULL;
    int rc = 0;
    if (fd < 0)
        return -errno;
    for (;;) {
        if (buf == NULL || n + 1 == cap) {
            char *g = buf == NULL ? malloc(cap) : realloc(buf, cap *= 2);
            if (g == NULL) {
                rc = -ENOMEM;
                break;
            }
            buf = g;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > HOLIDAYS_MAX_FILE) {
            rc = -EFBIG;
            break;
        }
    }
    close(fd);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n) != NULL) {
        free(buf);
        return -EINVAL; /* not text */
    }
    *out = buf;
    return 0;
}

int
config_holidays_set(const char *v, const char *path, int32_t **days, size_t *n, char *why,
                    size_t whysize)
{
    char *text = NULL, msg[200];
    int32_t *d = NULL;
    size_t cnt = 0;
    int line = 0, rc;
    if (path != NULL && (rc = slurp(path, &text)) < 0) {
        if (rc == -ENOMEM)
            return rc;
        snprintf(why, whysize, "%s: %s", v,
                 rc == -EFBIG    ? "larger than 1 MiB"
                 : rc == -EINVAL ? "not a text file of dates"
                                 : strerror(-rc));
        return -EINVAL;
    }
    rc = cadence_dates_parse(path != NULL ? text : v, &d, &cnt, &line, msg, sizeof(msg));
    free(text);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0) {
        if (path != NULL)
            snprintf(why, whysize, "%s:%d: %s", v, line, msg);
        else
            snprintf(why, whysize, "%s", msg);
        return -EINVAL;
    }
    free(*days);
    *days = d;
    *n = cnt;
    return 0;
}

static const struct config_schedule *
find_schedule(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nschedules; i++)
        if (strcmp(c->schedules[i].name, name) == 0)
            return &c->schedules[i];
    return NULL;
}

/* "[daemon] min_interval (2h) is above max_interval (1h)" into why. */
static int
bounds_check(const char *who, int64_t min, int64_t max, char *why, size_t whysize)
{
    char a[24], b[24];
    if (min <= max)
        return 0;
    snprintf(why, whysize, "%s min_interval (%s) is above max_interval (%s)", who,
             cadence_span(min, a, sizeof(a)), cadence_span(max, b, sizeof(b)));
    return -EINVAL;
}

int
config_cadence_finish(struct config *c, const int *sched_line, int daemon_line, int *line,
                      char *why, size_t whysize)
{
    char who[256];
    if (bounds_check("[daemon]", c->daemon.min_interval, c->daemon.max_interval, why, whysize) <
        0) {
        *line = daemon_line;
        return -EINVAL;
    }
    if (c->daemon.interval_auto)
        c->daemon.interval = c->daemon.max_interval;
    for (size_t i = 0; i < c->nschedules; i++) {
        struct config_schedule *s = &c->schedules[i];
        if (s->hours == NULL) {
            snprintf(why, whysize, "schedule \"%s\": missing 'hours'", s->name);
            *line = s->line;
            return -EINVAL;
        }
        if (cadence_hours_holidays(s->hours, s->holidays, s->nholidays) < 0)
            return -ENOMEM;
        if (s->interval_outside == 0 && !s->outside_auto)
            s->interval_outside = CADENCE_OUTSIDE;
    }
    for (size_t i = 0; i < c->nfeeds; i++) {
        struct config_feed *f = &c->feeds[i];
        snprintf(who, sizeof(who), "feed \"%s\":", f->name);
        if (f->interval == 0 && !f->interval_auto) {
            f->interval = c->daemon.interval;
            f->interval_auto = c->daemon.interval_auto;
        }
        if (f->min_interval == 0)
            f->min_interval = c->daemon.min_interval;
        if (f->max_interval == 0)
            f->max_interval = c->daemon.max_interval;
        if (bounds_check(who, f->min_interval, f->max_interval, why, whysize) < 0) {
            *line = f->line;
            return -EINVAL;
        }
        if (f->interval_auto)
            f->interval = f->max_interval;
        if (f->schedule != NULL && (f->sched = find_schedule(c, f->schedule)) == NULL) {
            snprintf(why, whysize, "feed \"%s\": schedule: no [schedule \"%s\"] in this file",
                     f->name, f->schedule);
            *line = sched_line[i] > 0 ? sched_line[i] : f->line;
            return -EINVAL;
        }
    }
    return 0;
}

void
config_cadence_free(struct config *c)
{
    for (size_t i = 0; i < c->nschedules; i++) {
        free(c->schedules[i].name);
        cadence_hours_free(c->schedules[i].hours);
        free(c->schedules[i].holidays);
    }
    free(c->schedules);
    for (size_t i = 0; i < c->nfeeds; i++)
        free(c->feeds[i].schedule);
}

void
config_feed_plan(const struct config_feed *f, struct cadence_plan *out)
{
    const struct config_schedule *s = f->sched;
    int64_t own = f->interval_auto ? 0 : f->interval;
    memset(out, 0, sizeof(*out));
    out->interval = own;
    out->min_interval = f->min_interval;
    out->max_interval = f->max_interval;
    if (s == NULL)
        return;
    out->schedule = s->name;
    out->hours = s->hours;
    out->inside = s->interval_auto ? 0 : s->interval > 0 ? s->interval : own;
    out->outside = s->outside_auto ? 0 : s->interval_outside;
}

int64_t
config_feed_longest(const struct config_feed *f)
{
    struct cadence_plan p;
    config_feed_plan(f, &p);
    int64_t longest = p.interval > 0 ? p.interval : p.max_interval;
    if (p.schedule != NULL) {
        int64_t in = p.inside > 0 ? p.inside : p.max_interval;
        int64_t out = p.outside > 0 ? p.outside : p.max_interval;
        longest = in > out ? in : out;
    }
    return longest;
}
