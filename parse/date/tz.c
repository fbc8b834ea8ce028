/* parse/date/tz.c — time zones for the date parser: TZif files of the system tz
 * database and their POSIX TZ footer, read directly (no TZ/mktime, which are
 * process-global), plus the zones of Chinese feeds answered without a read;
 * and the same zones loaded once for the exchange hours of the schedule
 * (parse_zone_*, parse.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse/date/date_int.h"
#include "parse/parse.h"

#define TZIF_MAX 16384 /* the largest TZif file in tzdata is under 4 KiB */
#define ZONE_NAME_MAX 100

/* ---- time zones: TZif files and their POSIX TZ footer ---- */

/* Zones whose offset has not changed since `since` (tzdata): a date in them
 * needs no file read, which covers the Chinese feeds that make up most of the
 * zone-less dates. `china` marks the zones where "CST" means China Standard
 * Time (SPEC §3). */
static const struct fixed_zone fixed_zones[] = {
    /* clang-format off */
    {"UTC", 0, 0, 0}, {"Etc/UTC", 0, 0, 0}, {"GMT", 0, 0, 0}, {"Etc/GMT", 0, 0, 0},
    {"UCT", 0, 0, 0}, {"Etc/UCT", 0, 0, 0}, {"Universal", 0, 0, 0}, {"Etc/Universal", 0, 0, 0},
    {"Zulu", 0, 0, 0}, {"Etc/Zulu", 0, 0, 0},
    /* China's DST ended in September 1991; Hong Kong's, Macau's, Taiwan's in 1979 */
    {"Asia/Shanghai", 28800, 1992, 1}, {"Asia/Chongqing", 28800, 1992, 1},
    {"Asia/Chungking", 28800, 1992, 1}, {"Asia/Harbin", 28800, 1992, 1}, {"PRC", 28800, 1992, 1},
    {"Asia/Hong_Kong", 28800, 1980, 1}, {"Hongkong", 28800, 1980, 1},
    {"Asia/Macau", 28800, 1980, 1}, {"Asia/Macao", 28800, 1980, 1},
    {"Asia/Taipei", 28800, 1980, 1}, {"ROC", 28800, 1980, 1},
    {"Asia/Seoul", 32400, 1989, 0}, {"ROK", 32400, 1989, 0},
    {"Asia/Tokyo", 32400, 1952, 0}, {"Japan", 32400, 1952, 0},
    /* clang-format on */
};

const struct fixed_zone *
date_fixed_zone(const char *tz)
{
    for (size_t i = 0; i < sizeof(fixed_zones) / sizeof(fixed_zones[0]); i++)
        if (strcmp(tz, fixed_zones[i].name) == 0)
            return &fixed_zones[i];
    return NULL;
}

/* One rule date of a POSIX TZ string: Jn, n or Mm.w.d, and the local time. */
struct tzrule_date {
    char kind; /* 'J', 'N' or 'M' */
    int n, m, w, d;
    int time; /* seconds after local midnight, -167h..167h */
};

/* The TZif footer (RFC 8536 §3.3): rules for times after the last transition. */
struct tzrule {
    int std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    struct tzrule_date start, end;
};

/* A parsed TZif file; pointers into the caller's buffer. */
struct tzif {
    const unsigned char *times; /* timecnt big-endian transition times, tsize bytes each */
    const unsigned char *idx;   /* timecnt indexes into types */
    const unsigned char *types; /* typecnt ttinfo records: int32 utoff, isdst, desigidx */
    uint32_t timecnt, typecnt;
    int tsize; /* 4 (version 1 data) or 8 */
    int has_rule;
    struct tzrule rule;
};

static int
tz_digits(const char **p, int max, int *v)
{
    int n = 0;
    *v = 0;
    while (**p >= '0' && **p <= '9' && n < 4) {
        *v = *v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n > 0 && *v <= max ? 0 : -1;
}

/* "<+08>" or at least three letters. */
static int
tz_name(const char **p)
{
    const char *s = *p;
    if (*s == '<') {
        s = strchr(s, '>');
        if (s == NULL)
            return -1;
        *p = s + 1;
        return 0;
    }
    while ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z')
        s++;
    if (s - *p < 3)
        return -1;
    *p = s;
    return 0;
}

/* [+-]hh[:mm[:ss]] in seconds; the caller decides what the sign means. */
static int
tz_hms(const char **p, int maxh, int *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (**p == '+' || **p == '-')
        sign = *(*p)++ == '-' ? -1 : 1;
    if (tz_digits(p, maxh, &h) < 0)
        return -1;
    if (**p == ':') {
        (*p)++;
        if (tz_digits(p, 59, &m) < 0)
            return -1;
        if (**p == ':') {
            (*p)++;
            if (tz_digits(p, 59, &s) < 0)
                return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int
tz_rule_date(const char **p, struct tzrule_date *r)
{
    r->time = 7200; /* POSIX default: 02:00 */
    if (**p == 'J') {
        (*p)++;
        r->kind = 'J';
        if (tz_digits(p, 365, &r->n) < 0 || r->n < 1)
            return -1;
    } else if (**p == 'M') {
        (*p)++;
        r->kind = 'M';
        if (tz_digits(p, 12, &r->m) < 0 || r->m < 1 || *(*p)++ != '.' ||
            tz_digits(p, 5, &r->w) < 0 || r->w < 1 || *(*p)++ != '.' || tz_digits(p, 6, &r->d) < 0)
            return -1;
    } else {
        r->kind = 'N';
        if (tz_digits(p, 365, &r->n) < 0)
            return -1;
    }
    if (**p == '/')
        return (*p)++, tz_hms(p, 167, &r->time); /* RFC 8536 §3.3.1 allows -167..167 h */
    return 0;
}

/* Parse a POSIX TZ string such as "EST5EDT,M3.2.0,M11.1.0" or "<+08>-8". */
static int
tz_rule_parse(const char *s, struct tzrule *r)
{
    int off;
    memset(r, 0, sizeof(*r));
    if (tz_name(&s) < 0 || tz_hms(&s, 24, &off) < 0)
        return -1;
    r->std_off = -off; /* POSIX offsets count west of Greenwich */
    if (*s == '\0')
        return 0;
    if (tz_name(&s) < 0)
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (tz_hms(&s, 24, &off) < 0)
            return -1;
        r->dst_off = -off;
    }
    if (*s == '\0') {
        /* No rule given: the US rules, as glibc and tzcode assume. */
        r->start = (struct tzrule_date){.kind = 'M', .m = 3, .w = 2, .d = 0, .time = 7200};
        r->end = (struct tzrule_date){.kind = 'M', .m = 11, .w = 1, .d = 0, .time = 7200};
        return 0;
    }
    if (*s++ != ',' || tz_rule_date(&s, &r->start) < 0 || *s++ != ',' ||
        tz_rule_date(&s, &r->end) < 0)
        return -1;
    return *s == '\0' ? 0 : -1;
}

/* Local seconds (as if UTC) at which rule date r falls in `year`. */
static int64_t
tz_rule_local(const struct tzrule_date *r, int64_t year)
{
    int64_t day = days_from_civil(year, 1, 1);
    if (r->kind == 'J') {
        day += r->n - 1 + (is_leap(year) && r->n >= 60);
    } else if (r->kind == 'N') {
        day += r->n;
    } else {
        int64_t first = days_from_civil(year, r->m, 1);
        int dd = (r->d - weekday(first) + 7) % 7 + (r->w - 1) * 7;
        if (dd >= month_days(year, r->m))
            dd -= 7; /* week 5 means the last one */
        day = first + dd;
    }
    return day * 86400 + r->time;
}

static int
tz_rule_offset(const struct tzrule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t y;
    int m, d;
    civil_from_days(floor_div(t + r->std_off, 86400), &y, &m, &d);
    /* The start time is given in standard time, the end time in DST. */
    int64_t start = tz_rule_local(&r->start, y) - r->std_off;
    int64_t end = tz_rule_local(&r->end, y) - r->dst_off;
    if (start < end)
        return t >= start && t < end ? r->dst_off : r->std_off;
    return t >= end && t < start ? r->std_off : r->dst_off; /* southern hemisphere */
}

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
tzif_time(const struct tzif *z, uint32_t i)
{
    const unsigned char *p = z->times + (size_t)i * z->tsize;
    if (z->tsize == 4)
        return (int32_t)be32(p);
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int
tzif_type_off(const struct tzif *z, uint32_t type)
{
    return (int32_t)be32(z->types + (size_t)type * 6);
}

/* Check and index a TZif file (RFC 8536). For version 2+ files the 64-bit
 * data and the footer are used, so dates after 2037 follow the rule. */
static int
tzif_parse(const unsigned char *buf, size_t len, struct tzif *z)
{
    const unsigned char *p = buf, *end = buf + len;
    uint32_t cnt[6]; /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
    memset(z, 0, sizeof(*z));
    z->tsize = 4;
    for (int pass = 0; pass < 2; pass++) {
        if ((size_t)(end - p) < 44 || memcmp(p, "TZif", 4) != 0)
            return -EINVAL;
        for (int i = 0; i < 6; i++)
            cnt[i] = be32(p + 20 + 4 * i);
        if (cnt[3] > 65536 || cnt[4] == 0 || cnt[4] > 256 || cnt[2] > 65536 || cnt[5] > 65536 ||
            cnt[0] > cnt[4] || cnt[1] > cnt[4])
            return -EINVAL;
        uint64_t size = (uint64_t)cnt[3] * (z->tsize + 1) + (uint64_t)cnt[4] * 6 + cnt[5] +
                        (uint64_t)cnt[2] * (z->tsize + 4) + cnt[1] + cnt[0];
        if (size > (uint64_t)(end - p - 44))
            return -EINVAL;
        if (pass == 0 && p[4] >= '2') {
            p += 44 + size; /* skip the 32-bit data */
            z->tsize = 8;
            continue;
        }
        if (cnt[2] != 0)
            return -EINVAL; /* "right/" zones count leap seconds: not civil time */
        z->times = p + 44;
        z->idx = z->times + (size_t)cnt[3] * z->tsize;
        z->types = z->idx + cnt[3];
        z->timecnt = cnt[3];
        z->typecnt = cnt[4];
        p += 44 + size;
        break;
    }
    for (uint32_t i = 0; i < z->timecnt; i++)
        if (z->idx[i] >= z->typecnt)
            return -EINVAL;
    for (uint32_t i = 0; i < z->typecnt; i++) {
        int off = tzif_type_off(z, i);
        if (off <= -26 * 3600 || off >= 26 * 3600)
            return -EINVAL;
    }
    if (z->tsize == 8 && p < end && *p == '\n') {
        const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
        char footer[128];
        if (nl != NULL && nl - p - 1 > 0 && (size_t)(nl - p - 1) < sizeof(footer)) {
            memcpy(footer, p + 1, (size_t)(nl - p - 1));
            footer[nl - p - 1] = '\0';
            z->has_rule = tz_rule_parse(footer, &z->rule) == 0;
        }
    }
    return 0;
}

/* Offset (seconds east) in effect at UTC instant t. */
static int
tzif_offset(const struct tzif *z, int64_t t)
{
    if (z->timecnt == 0)
        return z->has_rule ? tz_rule_offset(&z->rule, t) : tzif_type_off(z, 0);
    if (t < tzif_time(z, 0))
        return tzif_type_off(z, 0); /* RFC 8536 §3.2: before the first transition, type 0 */
    uint32_t lo = 0, hi = z->timecnt;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tzif_time(z, mid) <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (lo == z->timecnt - 1 && z->has_rule)
        return tz_rule_offset(&z->rule, t);
    return tzif_type_off(z, z->idx[lo]);
}

/* Local wall time (seconds, as if UTC) → UTC. Around a transition the offsets
 * two days before and after are the candidates. A repeated local time (DST
 * ends) is its first occurrence; a skipped one (DST starts) is read with the
 * offset before the change, so 02:30 on a spring-forward night is 03:30 DST,
 * as mktime and most libraries do. */
static int64_t
tzif_local_to_utc(const struct tzif *z, int64_t local)
{
    int before = tzif_offset(z, local - 2 * 86400);
    int after = tzif_offset(z, local + 2 * 86400);
    int64_t tb = local - before, ta = local - after;
    if (tzif_offset(z, tb) == before)
        return tb; /* when both fit, tb is the earlier instant */
    if (tzif_offset(z, ta) == after)
        return ta;
    return tb;
}

/* An IANA name that cannot leave the zoneinfo directory. */
static int
zone_name_ok(const char *name)
{
    size_t n = 0;
    int comp_start = 1;
    for (const char *p = name; *p != '\0'; p++, n++) {
        char ch = *p;
        if (n >= ZONE_NAME_MAX)
            return 0;
        if (ch == '/') {
            if (comp_start)
                return 0;
            comp_start = 1;
            continue;
        }
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '+'))
            return 0;
        comp_start = 0;
    }
    return n > 0 && !comp_start;
}

/* Read the TZif file of zone `name` into buf. */
static int
tzif_load(const char *name, unsigned char *buf, size_t cap, size_t *len)
{
    char path[sizeof(FINFEED_ZONEINFO) + ZONE_NAME_MAX + 2];
    if (!zone_name_ok(name))
        return -EINVAL;
    snprintf(path, sizeof(path), "%s/%s", FINFEED_ZONEINFO, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -EINVAL;
    size_t n = 0;
    int rc = 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -EINVAL; /* a directory, a FIFO: not a zone */
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (rc == 0 && n == cap)
        rc = -EINVAL; /* too big to be a zone file */
    close(fd);
    *len = n;
    return rc;
}

int
date_zone_local_to_utc(const char *tz, int year, int64_t local, int64_t *out)
{
    if (tz == NULL || *tz == '\0') {
        *out = local;
        return 0;
    }
    const struct fixed_zone *f = date_fixed_zone(tz);
    if (f != NULL && year >= f->since) {
        *out = local - f->offset;
        return 0;
    }
    unsigned char buf[TZIF_MAX];
    size_t len;
    struct tzif z;
    if (tzif_load(tz, buf, sizeof(buf), &len) < 0 || tzif_parse(buf, len, &z) < 0)
        return -EINVAL;
    *out = tzif_local_to_utc(&z, local);
    return 0;
}

/* ---- loaded zones (parse.h): one read, then offsets from memory ---- */

struct parse_zone {
    char name[ZONE_NAME_MAX + 1];
    int fixed;            /* 1: `offset` always (UTC, or a fixed zone without its file) */
    int offset;           /* seconds east, when fixed */
    struct tzif tz;       /* when not fixed: pointers into data */
    unsigned char data[]; /* the TZif file */
};

static int
utc_alias(const char *name)
{
    const struct fixed_zone *f = date_fixed_zone(name);
    return f != NULL && f->offset == 0 && f->since == 0;
}

int
parse_zone_open(const char *name, struct parse_zone **out)
{
    *out = NULL;
    if (name == NULL || !zone_name_ok(name))
        return -EINVAL;
    unsigned char *buf = malloc(TZIF_MAX);
    size_t len = 0;
    struct parse_zone *z = NULL;
    int rc = buf == NULL ? -ENOMEM : 0;
    if (rc == 0 && !utc_alias(name) && tzif_load(name, buf, TZIF_MAX, &len) == 0) {
        if ((z = calloc(1, sizeof(*z) + len)) == NULL) {
            rc = -ENOMEM;
        } else {
            memcpy(z->data, buf, len);
            if (tzif_parse(z->data, len, &z->tz) < 0)
                rc = -EINVAL;
        }
    } else if (rc == 0) {
        /* no file needed (UTC), or none readable: a zone of fixed offset */
        const struct fixed_zone *f = date_fixed_zone(name);
        if (f == NULL)
            rc = -EINVAL;
        else if ((z = calloc(1, sizeof(*z))) == NULL)
            rc = -ENOMEM;
        else
            z->fixed = 1, z->offset = f->offset;
    }
    free(buf);
    if (rc < 0) {
        free(z);
        return rc;
    }
    snprintf(z->name, sizeof(z->name), "%s", name);
    *out = z;
    return 0;
}

void
parse_zone_free(struct parse_zone *z)
{
    free(z);
}

const char *
parse_zone_name(const struct parse_zone *z)
{
    return z->name;
}

int
parse_zone_offset(const struct parse_zone *z, int64_t t)
{
    return z->fixed ? z->offset : tzif_offset(&z->tz, t);
}

int64_t
parse_zone_local_to_utc(const struct parse_zone *z, int64_t local)
{
    return z->fixed ? local - z->offset : tzif_local_to_utc(&z->tz, local);
}
