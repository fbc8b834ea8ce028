/* daemon/config/config_value.c — the keys of each section (SPEC §2): their types,
 * defaults and checks, and the conversion of one value into struct config.
 * config.c reads the file and calls config_key_set() for every key line. */
#include <arpa/inet.h>
#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/cadence/cadence.h"
#include "daemon/config/config_int.h"
#include "parse/parse.h"

enum vtype {
    V_STRING,    /* any text */
    V_PATH,      /* file name, relative to the configuration's directory */
    V_DATABASE,  /* V_PATH, or a postgresql:// (postgres://) URI kept as is */
    V_SOCKET,    /* V_PATH that fits in sun_path */
    V_AGENT,     /* User-Agent, "VERSION" expanded */
    V_DURATION,  /* int64_t seconds: N, Ns, Nm, Nh, Nd */
    V_SIZE,      /* int64_t bytes: N, NK, NM, NG (binary) */
    V_LONG,      /* long in [min, max] */
    V_BOOL,      /* int 0/1 */
    V_LIST,      /* comma list of any text */
    V_HOSTS,     /* comma list of host names */
    V_PARAMS,    /* comma list of query parameter names, trailing '*' allowed */
    V_URL,       /* absolute http(s) URL */
    V_FEED_URL,  /* absolute http(s) or file URL */
    V_LISTEN,    /* HOST:PORT, [V6]:PORT, or empty: NULL */
    V_ZONE,      /* IANA time zone name */
    V_CHARSET,   /* iconv charset name */
    V_REGEX,     /* POSIX extended regular expression */
    V_SELECTORS, /* the cleaner's selector list (SPEC §4) */
    V_NODE,      /* a node's name: printable, 1 to CONFIG_NODE_MAX bytes */
    V_TOKENS,    /* comma list of NAME:SECRET, struct config_token */
    V_HUB,       /* "builtin", or an absolute http(s) URL (WebSub hub) */
    V_INTERVAL,  /* V_DURATION, or "auto": int flag at noff (config_cadence.c) */
    V_HOURS,     /* exchange hours, struct cadence_hours * */
    V_HOLIDAYS,  /* dates, or a file of them: int32_t days, count at noff */
};

#define K_OPTIONAL 1 /* an empty value stores NULL instead of being an error */
#define K_FOREVER 2  /* V_DURATION: "forever" (and 0, whatever min) stores 0 */

struct key_rule {
    const char *name;
    enum vtype type;
    int flags;   /* K_* */
    size_t off;  /* of the field in struct config or struct config_feed */
    size_t noff; /* of the item count, for lists */
    int64_t min; /* V_DURATION, V_SIZE, V_LONG */
    int64_t max; /* V_LONG; V_DURATION when > 0 */
};

#define D(field) offsetof(struct config, field)
#define F(field) offsetof(struct config_feed, field)
#define S(field) offsetof(struct config_schedule, field)

static const struct key_rule daemon_keys[] = {
    {"database", V_DATABASE, 0, D(daemon.database), 0, 0, 0},
    {"control_socket", V_SOCKET, 0, D(daemon.control_socket), 0, 0, 0},
    {"listen", V_LISTEN, 0, D(daemon.listen), 0, 0, 0},
    {"interval", V_INTERVAL, 0, D(daemon.interval), D(daemon.interval_auto), 1,
     CONFIG_DURATION_MAX},
    {"concurrency", V_LONG, 0, D(daemon.concurrency), 0, 1, 10000},
    {"per_host", V_LONG, 0, D(daemon.per_host), 0, 1, 10000},
    {"timeout", V_DURATION, 0, D(daemon.timeout), 0, 1, CONFIG_DURATION_MAX},
    {"max_feed_size", V_SIZE, 0, D(daemon.max_feed_size), 0, 1, 0},
    {"user_agent", V_AGENT, 0, D(daemon.user_agent), 0, 0, 0},
    {"retention", V_DURATION, K_FOREVER, D(daemon.retention), 0, 0, 0},
    {"tombstone_retention", V_DURATION, K_FOREVER, D(daemon.tombstone_retention), 0, 86400, 0},
    {"allow_file_urls", V_BOOL, 0, D(daemon.allow_file_urls), 0, 0, 0},
    {"stale_after", V_DURATION, 0, D(daemon.stale_after), 0, 0, CONFIG_DURATION_MAX},
    {"tracking_params", V_PARAMS, 0, D(daemon.tracking_params), D(daemon.ntracking_params), 0, 0},
    {"node", V_NODE, 0, D(daemon.node), 0, 0, 0},
    {"lease", V_DURATION, 0, D(daemon.lease), 0, 1, CONFIG_DURATION_MAX},
    {"max_rate", V_LONG, 0, D(daemon.max_rate), 0, 0, 100000},
    /* WebSub (SPEC §11) */
    {"public_url", V_URL, K_OPTIONAL, D(daemon.public_url), 0, 0, 0},
    {"allow_private_hubs", V_BOOL, 0, D(daemon.allow_private_hubs), 0, 0, 0},
    /* issue 13 §2: interval = auto's bounds */
    {"min_interval", V_DURATION, 0, D(daemon.min_interval), 0, 1, CONFIG_DURATION_MAX},
    {"max_interval", V_DURATION, 0, D(daemon.max_interval), 0, 1, CONFIG_DURATION_MAX},
};

static const struct key_rule output_keys[] = {
    {"title", V_STRING, 0, D(output.title), 0, 0, 0},
    {"link", V_URL, 0, D(output.link), 0, 0, 0},
    {"max_entries", V_LONG, 0, D(output.max_entries), 0, 1, 1000000},
    {"markdown_dir", V_PATH, K_OPTIONAL, D(output.markdown_dir), 0, 0, 0},
    {"iframe_hosts", V_HOSTS, 0, D(output.iframe_hosts), D(output.niframe_hosts), 0, 0},
    {"tokens", V_TOKENS, 0, D(output.tokens), D(output.ntokens), 0, 0},
    /* WebSub for our own feeds (SPEC §11) */
    {"hub", V_HUB, K_OPTIONAL, D(output.hub), 0, 0, 0},
    {"hub_max_subscriptions", V_LONG, 0, D(output.hub_max_subscriptions), 0, 1, 1000000},
    {"hub_max_per_host", V_LONG, 0, D(output.hub_max_per_host), 0, 1, 1000000},
};

static const struct key_rule feed_keys[] = {
    {"url", V_FEED_URL, 0, F(url), 0, 0, 0},
    {"categories", V_LIST, 0, F(categories), F(ncategories), 0, 0},
    {"author", V_STRING, K_OPTIONAL, F(author), 0, 0, 0},
    {"headimg", V_URL, K_OPTIONAL, F(headimg), 0, 0, 0},
    {"comments", V_BOOL, 0, F(comments), 0, 0, 0},
    {"interval", V_INTERVAL, 0, F(interval), F(interval_auto), 1, CONFIG_DURATION_MAX},
    {"timezone", V_ZONE, K_OPTIONAL, F(timezone), 0, 0, 0},
    {"user_agent", V_AGENT, K_OPTIONAL, F(user_agent), 0, 0, 0},
    {"republish", V_BOOL, 0, F(republish), 0, 0, 0},
    {"charset", V_CHARSET, K_OPTIONAL, F(charset), 0, 0, 0},
    {"remove", V_SELECTORS, K_OPTIONAL, F(remove), 0, 0, 0},
    {"remove_text", V_REGEX, K_OPTIONAL, F(remove_text), 0, 0, 0},
    {"enabled", V_BOOL, 0, F(enabled), 0, 0, 0},
    /* issue 13 §2: auto's bounds, exchange hours */
    {"min_interval", V_DURATION, 0, F(min_interval), 0, 1, CONFIG_DURATION_MAX},
    {"max_interval", V_DURATION, 0, F(max_interval), 0, 1, CONFIG_DURATION_MAX},
    {"schedule", V_STRING, K_OPTIONAL, F(schedule), 0, 0, 0},
};

/* [schedule "NAME"] (issue 13 §2) */
static const struct key_rule schedule_keys[] = {
    {"hours", V_HOURS, 0, S(hours), 0, 0, 0},
    {"holidays", V_HOLIDAYS, 0, S(holidays), S(nholidays), 0, 0},
    {"interval", V_INTERVAL, 0, S(interval), S(interval_auto), 1, CONFIG_DURATION_MAX},
    {"interval_outside", V_INTERVAL, 0, S(interval_outside), S(outside_auto), 1,
     CONFIG_DURATION_MAX},
};

#undef D
#undef F
#undef S

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(NELEM(daemon_keys) <= CONFIG_MAX_KEYS && NELEM(output_keys) <= CONFIG_MAX_KEYS &&
                   NELEM(feed_keys) <= CONFIG_MAX_KEYS && NELEM(schedule_keys) <= CONFIG_MAX_KEYS,
               "CONFIG_MAX_KEYS too small");

/* The key table of each enum config_section. */
static const struct {
    const struct key_rule *keys;
    size_t n;
} sections[] = {
    [CONFIG_SEC_NONE] = {NULL, 0},
    [CONFIG_SEC_DAEMON] = {daemon_keys, NELEM(daemon_keys)},
    [CONFIG_SEC_OUTPUT] = {output_keys, NELEM(output_keys)},
    [CONFIG_SEC_FEED] = {feed_keys, NELEM(feed_keys)},
    [CONFIG_SEC_SCHEDULE] = {schedule_keys, NELEM(schedule_keys)},
};

static const char *const default_tracking_params[] = {
    "utm_*", "spm",    "fbclid", "gclid", "mc_cid",  "mc_eid",
    "yclid", "igshid", "_hsenc", "_hsmi", "ref_src",
};
static const char *const default_iframe_hosts[] = {
    "www.youtube.com",
    "www.youtube-nocookie.com",
    "player.vimeo.com",
    "player.bilibili.com",
};

static int
is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* Cuts leading and trailing blanks, in place. */
char *
config_trim(char *s)
{
    size_t n;

    while (config_is_space(*s))
        s++;
    n = strlen(s);
    while (n > 0 && config_is_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Digits only, no sign: -EINVAL; more than INT64_MAX: -ERANGE. */
static int
parse_uint(const char *s, int64_t *out, const char **end)
{
    int64_t n = 0;
    int rc = 0;

    if (!is_digit(*s))
        return -EINVAL;
    for (; is_digit(*s); s++) {
        if (n > (INT64_MAX - (*s - '0')) / 10)
            rc = -ERANGE; /* read on: "99999999999999999999x" is -EINVAL */
        else
            n = n * 10 + (*s - '0');
    }
    if (rc < 0)
        return rc;
    *out = n;
    *end = s;
    return 0;
}

/* "N" with an optional one-letter unit; mult gives the unit's factor.
 * -EINVAL for bad syntax, -ERANGE when the result exceeds INT64_MAX. */
static int
parse_scaled(const char *s, int64_t (*mult)(char), int64_t *out)
{
    const char *end = s;
    int64_t n = 0, m = 1;
    int rc = parse_uint(s, &n, &end);

    if (rc == -ERANGE) /* syntax first: find where the digits end */
        for (end = s; is_digit(*end); end++)
            ;
    else if (rc < 0)
        return rc;
    if (*end != '\0') {
        m = mult(*end);
        if (m == 0 || end[1] != '\0')
            return -EINVAL;
    }
    if (rc < 0 || n > INT64_MAX / m)
        return -ERANGE;
    *out = n * m;
    return 0;
}

static int64_t
duration_unit(char u)
{
    switch (u) {
    case 's':
        return 1;
    case 'm':
        return 60;
    case 'h':
        return 3600;
    case 'd':
        return 86400;
    }
    return 0;
}

static int64_t
size_unit(char u)
{
    switch (u) {
    case 'K':
    case 'k':
        return INT64_C(1) << 10;
    case 'M':
    case 'm':
        return INT64_C(1) << 20;
    case 'G':
    case 'g':
        return INT64_C(1) << 30;
    }
    return 0;
}

static int
parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < NELEM(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, 0;
    }
    return -EINVAL;
}

/* A DNS name (labels of 1 to 63 letters, digits and '-', not at either end
 * of a label) or a dotted IPv4 literal; digits and dots alone must be the
 * latter, or getaddrinfo() would look "256.0.0.1" up as a name. */
static int
is_host_name(const char *s, size_t n)
{
    char v4[INET_ADDRSTRLEN];
    struct in_addr a4;
    size_t label = 0;
    int numeric = 1;

    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!config_is_alnum(s[i]) && s[i] != '-')
            return 0;
        if (label == 0 && s[i] == '-')
            return 0;
        numeric &= is_digit(s[i]);
        label++;
    }
    if (!numeric)
        return 1;
    if (n >= sizeof(v4))
        return 0;
    memcpy(v4, s, n);
    v4[n] = '\0';
    return inet_pton(AF_INET, v4, &a4) == 1;
}

/* HOST:PORT, [IPV6]:PORT; port 0..65535 (0: the system picks one). */
static int
check_listen(const char *s)
{
    const char *colon;
    const char *end;
    int64_t port;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        char v6[INET6_ADDRSTRLEN];
        struct in6_addr a6;
        size_t n = close != NULL ? (size_t)(close - s - 1) : 0;

        if (close == NULL || close[1] != ':' || n == 0 || n >= sizeof(v6))
            return -EINVAL;
        memcpy(v6, s + 1, n);
        v6[n] = '\0';
        if (inet_pton(AF_INET6, v6, &a6) != 1)
            return -EINVAL;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL ||
            !is_host_name(s, (size_t)(colon - s)))
            return -EINVAL;
    }
    if (parse_uint(colon + 1, &port, &end) < 0 || *end != '\0' || port > 65535)
        return -EINVAL;
    return 0;
}

/* An absolute URL libcurl can parse, of an accepted scheme; a file URL
 * needs an absolute path. why gets the reason. */
static int
check_url(const char *s, int allow_file, char *why, size_t whysize)
{
    CURLU *u = curl_url();
    CURLUcode uc;
    char *scheme = NULL, *path = NULL;
    int rc = -EINVAL;

    if (u == NULL)
        return -ENOMEM;
    uc = curl_url_set(u, CURLUPART_URL, s, 0);
    if (uc != CURLUE_OK) {
        snprintf(why, whysize, "bad URL '%s': %s", s, curl_url_strerror(uc));
        goto done;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        snprintf(why, whysize, "bad URL '%s'", s);
        goto done;
    }
    if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)
        rc = 0;
    else if (allow_file && strcmp(scheme, "file") == 0 && path[0] == '/')
        rc = 0;
    else
        snprintf(why, whysize, "bad URL '%s': want an absolute %s URL", s,
                 allow_file ? "http, https or file" : "http or https");
done:
    curl_free(path);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* A zone the date parser can read: parse/tz.c reads the TZif files itself
 * (a "leapseconds" or "zone1970.tab" under zoneinfo is a file but no zone),
 * so ask it with a zoneless date instead of looking for a file. */
static int
check_zone(const char *s)
{
    int64_t t;

    if (s[0] == '/' || s[0] == '\0' || strstr(s, "..") != NULL)
        return -EINVAL;
    for (const char *p = s; *p != '\0'; p++)
        if (!config_is_alnum(*p) && strchr("/_+-", *p) == NULL)
            return -EINVAL;
    return parse_date("2024-06-01 12:00:00", s, &t) == 0 ? 0 : -EINVAL;
}

/* A name iconv knows. The GB family is always accepted: the parser reads
 * gb2312 and gbk as gb18030, their superset, as browsers do. */
static int
check_charset(const char *s)
{
    static const char *const gb[] = {"gb2312", "gbk", "x-gbk", "cp936", "gb18030"};
    iconv_t cd;

    for (const char *p = s; *p != '\0'; p++)
        if (!config_is_alnum(*p) && strchr("-_.:", *p) == NULL)
            return -EINVAL;
    for (size_t i = 0; i < NELEM(gb); i++)
        if (strcasecmp(s, gb[i]) == 0)
            return 0;
    cd = iconv_open("UTF-8", s);
    if (cd == (iconv_t)-1)
        return -EINVAL;
    iconv_close(cd);
    return 0;
}

/* dir/s unless s is absolute (or SQLite's ":memory:"). */
static char *
resolve_path(const char *dir, const char *s)
{
    char *p;
    size_t n;

    if (s[0] == '/' || dir == NULL || strcmp(s, ":memory:") == 0)
        return strdup(s);
    n = strlen(dir) + 1 + strlen(s) + 1;
    p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, s);
    return p;
}

/* s with every "VERSION" replaced by FINFEED_VERSION. */
static char *
expand_version(const char *s)
{
    static const char tok[] = "VERSION";
    size_t count = 0, vlen = strlen(FINFEED_VERSION), n;
    char *out, *o;

    for (const char *p = s; (p = strstr(p, tok)) != NULL; p += sizeof(tok) - 1)
        count++;
    n = strlen(s) + count * vlen + 1;
    out = malloc(n);
    if (out == NULL)
        return NULL;
    o = out;
    for (const char *p = s;;) {
        const char *hit = strstr(p, tok);
        size_t k = hit != NULL ? (size_t)(hit - p) : strlen(p);
        memcpy(o, p, k);
        o += k;
        if (hit == NULL)
            break;
        memcpy(o, FINFEED_VERSION, vlen);
        o += vlen;
        p = hit + sizeof(tok) - 1;
    }
    *o = '\0';
    return out;
}

void
config_list_free(char **items)
{
    if (items == NULL)
        return;
    for (char **p = items; *p != NULL; p++)
        free(*p);
    free(items);
}

/* Copies count strings into a new NULL-terminated array. */
static char **
list_dup(const char *const *src, size_t count)
{
    char **items = calloc(count + 1, sizeof(*items));

    if (items == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        items[i] = strdup(src[i]);
        if (items[i] == NULL) {
            config_list_free(items);
            return NULL;
        }
    }
    return items;
}

/* Splits s (modified) at commas, trims, drops empty items and checks each
 * one for V_HOSTS / V_PARAMS. */
static int
parse_list(char *s, enum vtype type, char ***out, size_t *nout, char *why, size_t whysize)
{
    size_t cap = 1, n = 0;
    char **list;
    int rc = 0;

    for (const char *p = s; *p != '\0'; p++)
        cap += *p == ',';
    list = calloc(cap + 1, sizeof(*list));
    if (list == NULL)
        return -ENOMEM;
    for (char *tok = s, *next; tok != NULL; tok = next) {
        char *comma = strchr(tok, ',');
        const char *star;

        next = comma != NULL ? comma + 1 : NULL;
        if (comma != NULL)
            *comma = '\0';
        tok = config_trim(tok);
        if (*tok == '\0')
            continue;
        star = strchr(tok, '*');
        if ((type == V_HOSTS && !is_host_name(tok, strlen(tok))) ||
            (type == V_PARAMS && (strpbrk(tok, " \t&=#") != NULL || (star && star[1] != '\0')))) {
            snprintf(why, whysize, "bad %s '%s'", type == V_HOSTS ? "host name" : "parameter", tok);
            rc = -EINVAL;
            goto done;
        }
        list[n] = strdup(tok);
        if (list[n] == NULL) {
            rc = -ENOMEM;
            goto done;
        }
        n++;
    }
    config_list_free(*out);
    *out = list;
    *nout = n;
    list = NULL;
done:
    config_list_free(list);
    return rc;
}

void
config_tokens_free(struct config_token *t, size_t n)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(t[i].name);
        free(t[i].secret);
    }
    free(t);
}

/* Whether s[0..n) is made of the characters of set only (and letters and digits). */
static int
all_of(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!config_is_alnum((unsigned char)s[i]) && strchr(set, s[i]) == NULL)
            return 0;
    return 1;
}

/* [output] tokens: `NAME:SECRET, ...` (s is modified). Messages name the
 * reader or the item's position, never a secret: they end up in logs. An
 * empty value stores no token (the output is open). */
static int
parse_tokens(char *s, struct config_token **out, size_t *nout, char *why, size_t whysize)
{
    size_t cap = 1, n = 0, item = 0;
    struct config_token *t;
    int rc = -EINVAL;

    for (const char *p = s; *p != '\0'; p++)
        cap += *p == ',';
    if ((t = calloc(cap, sizeof(*t))) == NULL)
        return -ENOMEM;
    for (char *tok = s, *next; tok != NULL; tok = next) {
        char *comma = strchr(tok, ','), *colon;
        size_t nlen, slen;

        next = comma != NULL ? comma + 1 : NULL;
        if (comma != NULL)
            *comma = '\0';
        tok = config_trim(tok);
        item++;
        if (*tok == '\0')
            continue;
        colon = strchr(tok, ':');
        if (colon == NULL) {
            snprintf(why, whysize, "item %zu: want NAME:SECRET", item);
            goto done;
        }
        nlen = (size_t)(colon - tok);
        slen = strlen(colon + 1);
        if (nlen == 0 || nlen > CONFIG_READER_MAX || !all_of(tok, nlen, "._-")) {
            snprintf(why, whysize,
                     "item %zu: bad reader name (want 1 to %d letters, digits, '.', '_', '-')",
                     item, CONFIG_READER_MAX);
            goto done;
        }
        *colon = '\0';
        if (slen < CONFIG_SECRET_MIN || slen > CONFIG_SECRET_MAX) {
            snprintf(why, whysize, "reader '%s': secret of %zu characters (want %d to %d)", tok,
                     slen, CONFIG_SECRET_MIN, CONFIG_SECRET_MAX);
            goto done;
        }
        if (!all_of(colon + 1, slen, "._~-")) {
            snprintf(why, whysize,
                     "reader '%s': bad secret (want letters, digits, '.', '_', '~', '-')", tok);
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            if (strcmp(t[i].name, tok) == 0) {
                snprintf(why, whysize, "reader '%s' named twice", tok);
                goto done;
            }
            if (strcmp(t[i].secret, colon + 1) == 0) {
                snprintf(why, whysize, "readers '%s' and '%s' share a secret", t[i].name, tok);
                goto done;
            }
        }
        t[n].name = strdup(tok);
        t[n].secret = strdup(colon + 1);
        n++;
        if (t[n - 1].name == NULL || t[n - 1].secret == NULL) {
            rc = -ENOMEM;
            goto done;
        }
    }
    config_tokens_free(*out, *nout);
    *out = n > 0 ? t : NULL;
    *nout = n;
    if (n == 0)
        free(t);
    return 0;
done:
    config_tokens_free(t, n);
    return rc;
}

/* [daemon] node: shown in logs, /metrics labels, JSON and HTML (each
 * escapes it), so only length and control characters matter here (the file
 * reader has refused invalid UTF-8 already). */
static int
check_node(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > CONFIG_NODE_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return -EINVAL;
    return 0;
}

/* The default node name: "HOSTNAME:PID", cut to CONFIG_NODE_MAX bytes. */
static char *
default_node(void)
{
    char host[256] = "";
    char buf[CONFIG_NODE_MAX + 1];
    char pid[24];
    size_t room;

    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    for (char *p = host; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '_';
    snprintf(pid, sizeof(pid), ":%ld", (long)getpid());
    room = sizeof(buf) - 1 - strlen(pid);
    snprintf(buf, sizeof(buf), "%.*s%s", (int)room, host, pid);
    return strdup(buf);
}

/* A V_DURATION or V_SIZE value into field: never wraps, never above r->max
 * (when set), so the time arithmetic downstream cannot overflow. */
static int
set_scaled(const struct key_rule *r, char *field, const char *v, char *why, size_t whysize)
{
    const char *what = r->type == V_SIZE ? "size" : "duration";
    int64_t n = 0;
    int rc = parse_scaled(v, r->type == V_SIZE ? size_unit : duration_unit, &n);
    int forever = rc == 0 && n == 0 && (r->flags & K_FOREVER); /* `0`: as `forever` */

    if (rc == 0 && r->max > 0 && n > r->max)
        rc = -ERANGE;
    if (rc == -ERANGE && r->max > 0 && r->max % 86400 == 0)
        snprintf(why, whysize, "bad %s '%s' (at most %" PRId64 "d)", what, v, r->max / 86400);
    else if (rc == -ERANGE && r->max > 0)
        snprintf(why, whysize, "bad %s '%s' (at most %" PRId64 "s)", what, v, r->max);
    else if (rc == -ERANGE)
        snprintf(why, whysize, "bad %s '%s' (too large)", what, v);
    else if (rc < 0 && (r->flags & K_FOREVER))
        snprintf(why, whysize, "bad %s '%s' (want N, Ns, Nm, Nh, Nd or forever)", what, v);
    else if (rc < 0)
        snprintf(why, whysize, "bad %s '%s'", what, v);
    else if (n < r->min && !forever && r->min > 1 && r->min % 86400 == 0)
        snprintf(why, whysize, "bad %s '%s' (at least %" PRId64 "d%s)", what, v, r->min / 86400,
                 (r->flags & K_FOREVER) ? " or forever" : "");
    else if (n < r->min && !forever)
        snprintf(why, whysize, "bad %s '%s' (must be more than 0)", what, v);
    else {
        *(int64_t *)(void *)field = n;
        return 0;
    }
    return -EINVAL;
}

/* Compiles a selector list (V_SELECTORS) or a regular expression (V_REGEX)
 * the way the cleaner will, so that a feed is never dropped at start or on a
 * reload for a rule the file could have been refused for (issue 10 §3.6). */
static int
check_cleaning(const struct key_rule *r, const char *v, char *why, size_t whysize)
{
    struct parse_clean_opts co = {0};
    struct parse_cleaner *cl = NULL;
    char msg[384] = "";
    size_t klen = strlen(r->name);
    const char *m = msg;
    int rc;

    if (r->type == V_SELECTORS)
        co.remove = v;
    else
        co.remove_text = v;
    rc = parse_cleaner_new(&co, &cl, msg, sizeof(msg));
    parse_cleaner_free(cl);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0) {
        /* the cleaner names the key itself ("remove: ..."): once is enough */
        if (strncmp(m, r->name, klen) == 0 && m[klen] == ':' && m[klen + 1] == ' ')
            m += klen + 2;
        snprintf(why, whysize, "%s", m[0] != '\0' ? m : "rejected by the cleaner");
        return -EINVAL;
    }
    return 0;
}

/* Stores v (modifiable) into the field of rule r in base. 0; -EINVAL with
 * the reason in why; -ENOMEM. */
static int
set_value(const struct key_rule *r, void *base, const char *dir, char *v, char *why, size_t whysize)
{
    char *field = (char *)base + r->off;
    char **sp = (char **)(void *)field;
    char *s = NULL;
    int64_t n;
    regex_t re;
    int rc;

    if (v[0] == '\0' && r->type != V_LISTEN && r->type != V_LIST && r->type != V_HOSTS &&
        r->type != V_PARAMS && r->type != V_TOKENS && r->type != V_HOLIDAYS) {
        if (!(r->flags & K_OPTIONAL)) {
            snprintf(why, whysize, "empty value");
            return -EINVAL;
        }
        free(*sp);
        *sp = NULL;
        return 0;
    }
    switch (r->type) {
    case V_INTERVAL: /* issue 13 §2 */
        if (strcasecmp(v, "auto") == 0) {
            *(int64_t *)(void *)field = 0;
            *(int *)(void *)((char *)base + r->noff) = 1;
            return 0;
        }
        if ((rc = set_scaled(r, field, v, why, whysize)) < 0) {
            size_t wl = strlen(why);
            if (wl > 0 && why[wl - 1] == '\'') /* bad syntax: say what else is right */
                snprintf(why + wl, whysize - wl, " (want a duration such as 15m, or auto)");
            return rc;
        }
        *(int *)(void *)((char *)base + r->noff) = 0;
        return 0;
    case V_HOURS:
        return config_hours_set(v, (struct cadence_hours **)(void *)field, why, whysize);
    case V_HOLIDAYS:
        /* dates as they are, else a file of them beside the configuration */
        if (v[0] != '\0' && !is_digit(v[0]) && (s = resolve_path(dir, v)) == NULL)
            return -ENOMEM;
        rc = config_holidays_set(v, s, (int32_t **)(void *)field,
                                 (size_t *)(void *)((char *)base + r->noff), why, whysize);
        free(s);
        return rc;
    case V_DURATION:
    case V_SIZE:
        if ((r->flags & K_FOREVER) && strcasecmp(v, "forever") == 0) {
            *(int64_t *)(void *)field = 0;
            return 0;
        }
        return set_scaled(r, field, v, why, whysize);
    case V_LONG: {
        const char *end;
        if (parse_uint(v, &n, &end) < 0 || *end != '\0' || n < r->min || n > r->max) {
            snprintf(why, whysize, "bad number '%s' (want %" PRId64 " to %" PRId64 ")", v, r->min,
                     r->max);
            return -EINVAL;
        }
        *(long *)(void *)field = (long)n;
        return 0;
    }
    case V_BOOL:
        if (parse_bool(v, (int *)(void *)field) < 0) {
            snprintf(why, whysize, "bad boolean '%s' (want yes or no)", v);
            return -EINVAL;
        }
        return 0;
    case V_LIST:
    case V_HOSTS:
    case V_PARAMS:
        return parse_list(v, r->type, (char ***)(void *)field,
                          (size_t *)(void *)((char *)base + r->noff), why, whysize);
    case V_TOKENS:
        return parse_tokens(v, (struct config_token **)(void *)field,
                            (size_t *)(void *)((char *)base + r->noff), why, whysize);
    case V_NODE:
        if (check_node(v) < 0) {
            snprintf(why, whysize, "bad node name (want 1 to %d bytes, no control character)",
                     CONFIG_NODE_MAX);
            return -EINVAL;
        }
        break;
    case V_HUB:
        if (strcmp(v, "builtin") == 0)
            break;
        rc = check_url(v, 0, why, whysize);
        if (rc < 0) {
            size_t used = strlen(why);
            snprintf(why + used, whysize - used, " (or builtin)");
            return rc;
        }
        break;
    case V_URL:
    case V_FEED_URL:
        rc = check_url(v, r->type == V_FEED_URL, why, whysize);
        if (rc < 0)
            return rc;
        break;
    case V_LISTEN:
        if (v[0] == '\0') {
            free(*sp);
            *sp = NULL;
            return 0;
        }
        if (check_listen(v) < 0) {
            snprintf(why, whysize, "bad address '%s' (want HOST:PORT, [IPV6]:PORT or \"\")", v);
            return -EINVAL;
        }
        break;
    case V_ZONE:
        if (check_zone(v) < 0) {
            snprintf(why, whysize, "unknown time zone '%s'", v);
            return -EINVAL;
        }
        break;
    case V_CHARSET:
        if (check_charset(v) < 0) {
            snprintf(why, whysize, "unknown charset '%s'", v);
            return -EINVAL;
        }
        break;
    case V_SELECTORS:
        rc = check_cleaning(r, v, why, whysize);
        if (rc < 0)
            return rc;
        break;
    case V_REGEX:
        rc = regcomp(&re, v, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &re, msg, sizeof(msg));
            snprintf(why, whysize, "bad regex '%s': %s", v, msg);
            return -EINVAL;
        }
        regfree(&re);
        break;
    case V_DATABASE:
    case V_PATH:
    case V_SOCKET:
        /* a libpq URI selects PostgreSQL (SPEC §10): not a file, kept as is */
        if (r->type == V_DATABASE &&
            (strncasecmp(v, "postgresql://", 13) == 0 || strncasecmp(v, "postgres://", 11) == 0))
            break;
        s = resolve_path(dir, v);
        if (s == NULL)
            return -ENOMEM;
        if (r->type == V_SOCKET && strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            snprintf(why, whysize, "path '%s' too long for a unix socket (max %zu bytes)", s,
                     sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
            free(s);
            return -EINVAL;
        }
        break;
    case V_AGENT:
        s = expand_version(v);
        if (s == NULL)
            return -ENOMEM;
        break;
    case V_STRING:
        break;
    }
    if (s == NULL && (s = strdup(v)) == NULL)
        return -ENOMEM;
    free(*sp);
    *sp = s;
    return 0;
}

int
config_key_find(enum config_section sec, const char *name)
{
    for (size_t i = 0; i < sections[sec].n; i++)
        if (strcmp(sections[sec].keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

int
config_key_set(enum config_section sec, int i, void *base, const char *dir, char *v, char *why,
               size_t whysize)
{
    assert(i >= 0 && (size_t)i < sections[sec].n);
    return set_value(&sections[sec].keys[i], base, dir, v, why, whysize);
}

int
config_new_defaults(const char *path, struct config **out)
{
    struct config *c = calloc(1, sizeof(*c));
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int rc = -ENOMEM;

    if (c == NULL)
        return -ENOMEM;
    if (path != NULL) {
        c->path = strdup(path);
        c->daemon.database = strdup("/var/lib/finfeed/finfeed.db");
        c->daemon.control_socket = strdup("/run/finfeed/control.sock");
        if (c->path == NULL)
            goto done;
    } else {
        c->daemon.database = strdup("./finfeed.db");
        c->daemon.control_socket = xdg != NULL && xdg[0] == '/' ? resolve_path(xdg, "finfeed.sock")
                                                                : strdup("./finfeed.sock");
    }
    c->daemon.listen = strdup("127.0.0.1:8470");
    c->daemon.interval = 15 * 60;
    c->daemon.concurrency = 32;
    c->daemon.per_host = 2;
    c->daemon.timeout = 30;
    c->daemon.max_feed_size = INT64_C(16) << 20;
    c->daemon.user_agent = strdup("finfeed/" FINFEED_VERSION);
    c->daemon.retention = 90 * 86400;
    c->daemon.tombstone_retention = 365 * 86400;
    c->daemon.stale_after = 14 * 86400;
    c->daemon.tracking_params = list_dup(default_tracking_params, NELEM(default_tracking_params));
    c->daemon.ntracking_params = NELEM(default_tracking_params);
    c->daemon.node = default_node();
    c->daemon.min_interval = CADENCE_MIN_INTERVAL;
    c->daemon.max_interval = CADENCE_MAX_INTERVAL;
    c->output.title = strdup("Finance news");
    c->output.link = strdup("http://127.0.0.1:8470/");
    c->output.max_entries = 100;
    c->output.hub_max_subscriptions = 10000;
    c->output.hub_max_per_host = 100;
    c->output.iframe_hosts = list_dup(default_iframe_hosts, NELEM(default_iframe_hosts));
    c->output.niframe_hosts = NELEM(default_iframe_hosts);
    if (c->daemon.database == NULL || c->daemon.control_socket == NULL ||
        c->daemon.listen == NULL || c->daemon.user_agent == NULL ||
        c->daemon.tracking_params == NULL || c->daemon.node == NULL || c->output.title == NULL || c->output.link == NULL ||
        c->output.iframe_hosts == NULL)
        goto done;
    *out = c;
    c = NULL;
    rc = 0;
done:
    config_free(c);
    return rc;
}
