/* tests/test_config.c — daemon/config: SPEC §2's example, every value type,
 * every error message (file:line and key), defaults, FINFEED_CONFIG, and
 * when feeds are checked (interval = auto, [schedule "NAME"]).
 * Inline cases are written to finfeed.conf in a private temporary directory
 * that the tests chdir into, so messages read exactly "finfeed.conf:N: ...". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/cadence/cadence.h"
#include "daemon/config/config.h"

#define CFG FIXTURES "/config/"

static char tmpdir[] = "/tmp/test_config.XXXXXX";

static void
write_conf(const char *name, const char *text)
{
    FILE *fp = fopen(name, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

/* Loads text as ./finfeed.conf; *c is NULL unless it loaded. */
static int
load_text(const char *text, struct config **c, char *err, size_t errsize)
{
    *c = NULL;
    write_conf("finfeed.conf", text);
    return config_load("finfeed.conf", c, err, errsize);
}

/* text must fail with -EINVAL and exactly this message. */
static void
expect_error(const char *text, const char *msg)
{
    struct config *c = NULL;
    char err[512];
    int rc = load_text(text, &c, err, sizeof(err));

    if (rc != -EINVAL || strcmp(err, msg) != 0)
        print_error("input:\n%s\nwant: %s\ngot:  rc=%d %s\n", text, msg, rc, err);
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(err, msg);
    assert_null(c);
}

/* text must load; returns the config. */
static struct config *
expect_ok(const char *text)
{
    struct config *c = NULL;
    char err[512] = "";
    int rc = load_text(text, &c, err, sizeof(err));

    if (rc != 0)
        print_error("input:\n%s\ngot: rc=%d %s\n", text, rc, err);
    assert_int_equal(rc, 0);
    assert_non_null(c);
    return c;
}

static int
group_setup(void **state)
{
    (void)state;
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) != 0)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    unlink("finfeed.conf");
    if (chdir("/") != 0)
        return -1;
    return rmdir(tmpdir);
}

static void
test_spec_example(void **state)
{
    struct config *c = NULL;
    char err[512] = "";
    const struct config_feed *f;

    (void)state;
    assert_int_equal(config_load(CFG "spec_example.conf", &c, err, sizeof(err)), 0);
    assert_string_equal(c->path, CFG "spec_example.conf");
    assert_string_equal(c->daemon.database, "/var/lib/finfeed/finfeed.db");
    assert_string_equal(c->daemon.control_socket, "/run/finfeed/control.sock");
    assert_string_equal(c->daemon.listen, "127.0.0.1:8470");
    {
        char pid[32];
        snprintf(pid, sizeof(pid), ":%ld", (long)getpid());
        assert_true(strlen(c->daemon.node) > strlen(pid));
        assert_string_equal(c->daemon.node + strlen(c->daemon.node) - strlen(pid), pid);
    }
    assert_int_equal(c->output.ntokens, 0);
    assert_null(c->output.tokens);
    assert_int_equal(c->daemon.interval, 15 * 60);
    assert_int_equal(c->daemon.concurrency, 32);
    assert_int_equal(c->daemon.per_host, 2);
    assert_int_equal(c->daemon.timeout, 30);
    assert_int_equal(c->daemon.max_feed_size, 16 << 20);
    assert_string_equal(c->daemon.user_agent, "finfeed/" FINFEED_VERSION);
    assert_int_equal(c->daemon.retention, 90 * 86400);
    assert_int_equal(c->daemon.tombstone_retention, 365 * 86400);
    assert_int_equal(c->daemon.allow_file_urls, 0);
    assert_int_equal(c->daemon.stale_after, 14 * 86400);
    assert_int_equal(c->daemon.ntracking_params, 6);
    assert_string_equal(c->daemon.tracking_params[0], "utm_*");
    assert_string_equal(c->daemon.tracking_params[5], "mc_eid");
    assert_null(c->daemon.tracking_params[6]);

    assert_string_equal(c->output.title, "Finance news");
    assert_string_equal(c->output.link, "http://127.0.0.1:8470/");
    assert_int_equal(c->output.max_entries, 100);
    assert_null(c->output.markdown_dir);
    assert_int_equal(c->output.niframe_hosts, 3);
    assert_string_equal(c->output.iframe_hosts[0], "www.youtube.com");
    assert_string_equal(c->output.iframe_hosts[2], "player.bilibili.com");

    assert_int_equal(c->nfeeds, 1);
    f = config_find_feed(c, "sina-finance-china");
    assert_ptr_equal(f, &c->feeds[0]);
    assert_null(config_find_feed(c, "sina"));
    assert_string_equal(f->name, "sina-finance-china");
    assert_string_equal(f->url, "https://example.com/rss.xml");
    assert_int_equal(f->ncategories, 3);
    assert_string_equal(f->categories[0], "金融");
    assert_string_equal(f->categories[1], "新浪财经");
    assert_string_equal(f->categories[2], "新浪财经－国內");
    assert_null(f->categories[3]);
    assert_string_equal(f->author, "新浪财经");
    assert_string_equal(f->headimg, "https://…/default.png");
    assert_int_equal(f->comments, 0);
    assert_int_equal(f->interval, 600);
    assert_string_equal(f->timezone, "Asia/Shanghai");
    assert_string_equal(f->user_agent, "finfeed/" FINFEED_VERSION " (ops@example.com)");
    assert_int_equal(f->republish, 1);
    assert_string_equal(f->charset, "gb18030");
    assert_string_equal(f->remove, ".appendQr_wrap, .article-editor");
    assert_string_equal(f->remove_text, "^责任编辑");
    assert_int_equal(f->enabled, 1);
    assert_int_equal(f->line, 23);
    config_free(c);
}

static void
check_common_defaults(const struct config *c)
{
    assert_string_equal(c->daemon.listen, "127.0.0.1:8470");
    assert_int_equal(c->daemon.interval, 900);
    assert_int_equal(c->daemon.concurrency, 32);
    assert_int_equal(c->daemon.per_host, 2);
    assert_int_equal(c->daemon.timeout, 30);
    assert_int_equal(c->daemon.max_feed_size, 16 * 1024 * 1024);
    assert_string_equal(c->daemon.user_agent, "finfeed/" FINFEED_VERSION);
    assert_int_equal(c->daemon.retention, 90 * 86400);
    assert_int_equal(c->daemon.tombstone_retention, 365 * 86400);
    assert_int_equal(c->daemon.allow_file_urls, 0);
    assert_int_equal(c->daemon.stale_after, 14 * 86400);
    assert_int_equal(c->daemon.ntracking_params, 11);
    assert_string_equal(c->daemon.tracking_params[10], "ref_src");
    assert_null(c->daemon.tracking_params[11]);
    assert_string_equal(c->output.title, "Finance news");
    assert_string_equal(c->output.link, "http://127.0.0.1:8470/");
    assert_int_equal(c->output.max_entries, 100);
    assert_null(c->output.markdown_dir);
    assert_int_equal(c->output.niframe_hosts, 4);
    assert_string_equal(c->output.iframe_hosts[1], "www.youtube-nocookie.com");
}

static void
test_defaults_without_file(void **state)
{
    struct config *c = NULL;
    char err[256];
    const char *old = getenv("XDG_RUNTIME_DIR");
    char *saved = old ? strdup(old) : NULL;

    (void)state;
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
    assert_int_equal(config_load(NULL, &c, err, sizeof(err)), 0);
    assert_null(c->path);
    assert_string_equal(c->daemon.database, "./finfeed.db");
    assert_string_equal(c->daemon.control_socket, "/run/user/1000/finfeed.sock");
    assert_int_equal(c->nfeeds, 0);
    check_common_defaults(c);
    config_free(c);

    unsetenv("XDG_RUNTIME_DIR");
    assert_int_equal(config_load(NULL, &c, err, sizeof(err)), 0);
    assert_string_equal(c->daemon.control_socket, "./finfeed.sock");
    config_free(c);
    if (saved != NULL)
        setenv("XDG_RUNTIME_DIR", saved, 1);
    free(saved);
}

static void
test_defaults_with_file(void **state)
{
    struct config *c =
        expect_ok("# nothing but a comment\n[feed \"a\"]\nurl = http://a.example/\n");
    const struct config_feed *f = &c->feeds[0];

    (void)state;
    assert_string_equal(c->path, "finfeed.conf");
    assert_string_equal(c->daemon.database, "/var/lib/finfeed/finfeed.db");
    assert_string_equal(c->daemon.control_socket, "/run/finfeed/control.sock");
    check_common_defaults(c);
    assert_int_equal(f->ncategories, 0);
    assert_non_null(f->categories);
    assert_null(f->categories[0]);
    assert_null(f->author);
    assert_null(f->headimg);
    assert_int_equal(f->comments, 0);
    assert_int_equal(f->interval, 900);
    assert_null(f->timezone);
    assert_null(f->user_agent);
    assert_int_equal(f->republish, 1);
    assert_null(f->charset);
    assert_null(f->remove);
    assert_null(f->remove_text);
    assert_int_equal(f->enabled, 1);
    assert_int_equal(f->line, 2);
    config_free(c);

    c = expect_ok("");
    assert_int_equal(c->nfeeds, 0);
    config_free(c);
}

/* The feed interval defaults to [daemon] interval, even when [daemon] comes later. */
static void
test_feed_interval_inherits(void **state)
{
    struct config *c = expect_ok("[feed \"a\"]\nurl = http://a.example/\n"
                                 "[feed \"b\"]\nurl = http://b.example/\ninterval = 2h\n"
                                 "[daemon]\ninterval = 45m\n");

    (void)state;
    assert_int_equal(c->feeds[0].interval, 45 * 60);
    assert_int_equal(c->feeds[1].interval, 2 * 3600);
    config_free(c);
}

static void
test_default_path_env(void **state)
{
    const char *old = getenv("FINFEED_CONFIG");
    char *saved = old ? strdup(old) : NULL;
    const char *p;

    (void)state;
    setenv("FINFEED_CONFIG", "/nonexistent/finfeed.conf", 1);
    assert_string_equal(config_default_path(), "/nonexistent/finfeed.conf");
    setenv("FINFEED_CONFIG", "", 1);
    p = config_default_path();
    unsetenv("FINFEED_CONFIG");
    if (access("/etc/finfeed/finfeed.conf", F_OK) == 0) {
        assert_string_equal(p, "/etc/finfeed/finfeed.conf");
        assert_string_equal(config_default_path(), "/etc/finfeed/finfeed.conf");
    } else {
        assert_null(p);
        assert_null(config_default_path());
    }
    if (saved != NULL)
        setenv("FINFEED_CONFIG", saved, 1);
    free(saved);
}

struct value_case {
    const char *section; /* "daemon", "output" or "feed" */
    const char *key;
    const char *value;
    const char *error; /* NULL: accepted; else the message after "finfeed.conf:N: " */
};

static const struct value_case value_cases[] = {
    /* durations: bare seconds, s m h d */
    {"daemon", "interval", "90", NULL},
    {"daemon", "interval", "30s", NULL},
    {"daemon", "interval", "15m", NULL},
    {"daemon", "interval", "2h", NULL},
    {"daemon", "interval", "7d", NULL},
    {"daemon", "timeout", "abc", "[daemon] timeout: bad duration 'abc'"},
    {"daemon", "timeout", "10x", "[daemon] timeout: bad duration '10x'"},
    {"daemon", "timeout", "15M", "[daemon] timeout: bad duration '15M'"},
    {"daemon", "timeout", "1.5h", "[daemon] timeout: bad duration '1.5h'"},
    {"daemon", "timeout", "-5s", "[daemon] timeout: bad duration '-5s'"},
    {"daemon", "timeout", "5 s", "[daemon] timeout: bad duration '5 s'"},
    {"daemon", "timeout", "m", "[daemon] timeout: bad duration 'm'"},
    {"daemon", "timeout", "5mm", "[daemon] timeout: bad duration '5mm'"},
    {"daemon", "timeout", "0", "[daemon] timeout: bad duration '0' (must be more than 0)"},
    {"daemon", "timeout", "", "[daemon] timeout: empty value"},
    {"daemon", "timeout", "99999999999999999999d",
     "[daemon] timeout: bad duration '99999999999999999999d' (at most 365d)"},
    {"daemon", "timeout", "9999999999999999d",
     "[daemon] timeout: bad duration '9999999999999999d' (at most 365d)"},
    {"daemon", "timeout", "1e400", "[daemon] timeout: bad duration '1e400'"},
    {"daemon", "timeout", "+5s", "[daemon] timeout: bad duration '+5s'"},
    {"daemon", "timeout", "0x10", "[daemon] timeout: bad duration '0x10'"},
    /* durations that would overflow time arithmetic or never come: 365 d at most
     * (issue 10 §3.4: interval = 9223372036854775807 made the daemon fetch in a loop) */
    {"daemon", "interval", "365d", NULL},
    {"daemon", "interval", "31536000", NULL},
    {"daemon", "interval", "8760h", NULL},
    {"daemon", "interval", "366d", "[daemon] interval: bad duration '366d' (at most 365d)"},
    {"daemon", "interval", "8761h", "[daemon] interval: bad duration '8761h' (at most 365d)"},
    {"daemon", "interval", "31536001", "[daemon] interval: bad duration '31536001' (at most 365d)"},
    {"daemon", "interval", "9223372036854775807",
     "[daemon] interval: bad duration '9223372036854775807' (at most 365d)"},
    {"daemon", "interval", "9223372036854775808",
     "[daemon] interval: bad duration '9223372036854775808' (at most 365d)"},
    {"daemon", "timeout", "525601m", "[daemon] timeout: bad duration '525601m' (at most 365d)"},
    {"daemon", "stale_after", "365d", NULL},
    {"daemon", "stale_after", "400d", "[daemon] stale_after: bad duration '400d' (at most 365d)"},
    {"daemon", "stale_after", "forever", "[daemon] stale_after: bad duration 'forever'"},
    {"feed", "interval", "9223372036854775807",
     "feed \"f\": interval: bad duration '9223372036854775807' (at most 365d)"},
    {"feed", "interval", "106751991167301d",
     "feed \"f\": interval: bad duration '106751991167301d' (at most 365d)"},
    {"feed", "interval", "15 m",
     "feed \"f\": interval: bad duration '15 m' (want a duration such as 15m, or auto)"},
    {"feed", "interval", "-15m",
     "feed \"f\": interval: bad duration '-15m' (want a duration such as 15m, or auto)"},
    {"feed", "interval", "", "feed \"f\": interval: empty value"},
    /* retention: longer is fine (archives), and forever means never prune */
    {"daemon", "retention", "0", NULL},
    {"daemon", "retention", "3650d", NULL},
    {"daemon", "retention", "forever", NULL},
    {"daemon", "retention", "Forever", NULL},
    {"daemon", "retention", "99999999999999999999d",
     "[daemon] retention: bad duration '99999999999999999999d' (too large)"},
    {"daemon", "retention", "106751991167301d",
     "[daemon] retention: bad duration '106751991167301d' (too large)"},
    {"daemon", "retention", "-1d",
     "[daemon] retention: bad duration '-1d' (want N, Ns, Nm, Nh, Nd or forever)"},
    {"daemon", "retention", "never",
     "[daemon] retention: bad duration 'never' (want N, Ns, Nm, Nh, Nd or forever)"},
    {"daemon", "retention", "", "[daemon] retention: empty value"},
    /* tombstone_retention: a day at least (a tombstone's last seen is written
     * once an hour at most), no upper bound, forever (or 0) keeps them all */
    {"daemon", "tombstone_retention", "365d", NULL},
    {"daemon", "tombstone_retention", "1d", NULL},
    {"daemon", "tombstone_retention", "24h", NULL},
    {"daemon", "tombstone_retention", "3650d", NULL},
    {"daemon", "tombstone_retention", "forever", NULL},
    {"daemon", "tombstone_retention", "0", NULL},
    {"daemon", "tombstone_retention", "23h",
     "[daemon] tombstone_retention: bad duration '23h' (at least 1d or forever)"},
    {"daemon", "tombstone_retention", "1",
     "[daemon] tombstone_retention: bad duration '1' (at least 1d or forever)"},
    {"daemon", "tombstone_retention", "-365d",
     "[daemon] tombstone_retention: bad duration '-365d' (want N, Ns, Nm, Nh, Nd or forever)"},
    {"daemon", "tombstone_retention", "1y",
     "[daemon] tombstone_retention: bad duration '1y' (want N, Ns, Nm, Nh, Nd or forever)"},
    {"daemon", "tombstone_retention", "99999999999999999999d",
     "[daemon] tombstone_retention: bad duration '99999999999999999999d' (too large)"},
    {"daemon", "tombstone_retention", "", "[daemon] tombstone_retention: empty value"},
    {"daemon", "tombstone_retentions", "365d", "[daemon]: unknown key 'tombstone_retentions'"},
    {"daemon", "stale_after", "0d", NULL},
    {"feed", "interval", "0", "feed \"f\": interval: bad duration '0' (must be more than 0)"},
    {"feed", "interval", "10m", NULL},
    /* sizes: bare bytes, K M G */
    {"daemon", "max_feed_size", "1048576", NULL},
    {"daemon", "max_feed_size", "512K", NULL},
    {"daemon", "max_feed_size", "16M", NULL},
    {"daemon", "max_feed_size", "1g", NULL},
    {"daemon", "max_feed_size", "16MB", "[daemon] max_feed_size: bad size '16MB'"},
    {"daemon", "max_feed_size", "lots", "[daemon] max_feed_size: bad size 'lots'"},
    {"daemon", "max_feed_size", "0", "[daemon] max_feed_size: bad size '0' (must be more than 0)"},
    {"daemon", "max_feed_size", "99999999999G",
     "[daemon] max_feed_size: bad size '99999999999G' (too large)"},
    {"daemon", "max_feed_size", "99999999999999999999",
     "[daemon] max_feed_size: bad size '99999999999999999999' (too large)"},
    {"daemon", "max_feed_size", "1e400", "[daemon] max_feed_size: bad size '1e400'"},
    {"daemon", "max_feed_size", "-1", "[daemon] max_feed_size: bad size '-1'"},
    {"daemon", "max_feed_size", "16 M", "[daemon] max_feed_size: bad size '16 M'"},
    {"daemon", "max_feed_size", "", "[daemon] max_feed_size: empty value"},
    /* numbers */
    {"daemon", "concurrency", "1", NULL},
    {"daemon", "concurrency", "0", "[daemon] concurrency: bad number '0' (want 1 to 10000)"},
    {"daemon", "per_host", "two", "[daemon] per_host: bad number 'two' (want 1 to 10000)"},
    {"daemon", "per_host", "-1", "[daemon] per_host: bad number '-1' (want 1 to 10000)"},
    {"output", "max_entries", "20", NULL},
    {"output", "max_entries", "10e3",
     "[output] max_entries: bad number '10e3' (want 1 to 1000000)"},
    /* booleans */
    {"daemon", "allow_file_urls", "yes", NULL},
    {"daemon", "allow_file_urls", "No", NULL},
    {"daemon", "allow_file_urls", "TRUE", NULL},
    {"daemon", "allow_file_urls", "off", NULL},
    {"daemon", "allow_file_urls", "1", NULL},
    {"feed", "enabled", "0", NULL},
    {"feed", "comments", "maybe", "feed \"f\": comments: bad boolean 'maybe' (want yes or no)"},
    {"feed", "republish", "y", "feed \"f\": republish: bad boolean 'y' (want yes or no)"},
    /* lists */
    {"daemon", "tracking_params", "utm_*, spm,,  fbclid ,", NULL},
    {"daemon", "tracking_params", "", NULL},
    {"daemon", "tracking_params", "a*b", "[daemon] tracking_params: bad parameter 'a*b'"},
    {"output", "iframe_hosts", "www.youtube.com,player.vimeo.com", NULL},
    {"output", "iframe_hosts", "https://www.youtube.com/",
     "[output] iframe_hosts: bad host name 'https://www.youtube.com/'"},
    {"output", "iframe_hosts", "www..youtube.com",
     "[output] iframe_hosts: bad host name 'www..youtube.com'"},
    {"output", "iframe_hosts", ".youtube.com",
     "[output] iframe_hosts: bad host name '.youtube.com'"},
    {"output", "iframe_hosts", "www.youtube.com:443",
     "[output] iframe_hosts: bad host name 'www.youtube.com:443'"},
    {"output", "iframe_hosts", "-x.example.com",
     "[output] iframe_hosts: bad host name '-x.example.com'"},
    {"feed", "categories", "宏观, 股市", NULL},
    /* URLs */
    {"output", "link", "https://news.example.com/feed/", NULL},
    {"output", "link", "news.example.com", "[output] link: bad URL 'news.example.com': Bad scheme"},
    {"output", "link", "file:///srv/x",
     "[output] link: bad URL 'file:///srv/x': want an absolute http or https URL"},
    {"feed", "headimg", "https://img.example.com/a.png", NULL},
    {"feed", "headimg", "", NULL},
    {"feed", "headimg", "/a.png", "feed \"f\": headimg: bad URL '/a.png': Bad scheme"},
    /* listen */
    {"daemon", "listen", "127.0.0.1:8470", NULL},
    {"daemon", "listen", "localhost:80", NULL},
    {"daemon", "listen", "[::1]:8470", NULL},
    {"daemon", "listen", "0.0.0.0:0", NULL},
    {"daemon", "listen", "\"\"", NULL},
    {"daemon", "listen", "", NULL},
    {"daemon", "listen", "8470",
     "[daemon] listen: bad address '8470' (want HOST:PORT, [IPV6]:PORT or \"\")"},
    {"daemon", "listen", "::1:8470",
     "[daemon] listen: bad address '::1:8470' (want HOST:PORT, [IPV6]:PORT or \"\")"},
    {"daemon", "listen", "[::g]:80",
     "[daemon] listen: bad address '[::g]:80' (want HOST:PORT, [IPV6]:PORT or \"\")"},
    {"daemon", "listen", "127.0.0.1:65536",
     "[daemon] listen: bad address '127.0.0.1:65536' (want HOST:PORT, [IPV6]:PORT or \"\")"},
    {"daemon", "listen", "127.0.0.1:",
     "[daemon] listen: bad address '127.0.0.1:' (want HOST:PORT, [IPV6]:PORT or \"\")"},
    /* found only at start before: getaddrinfo() takes these for host names */
    {"daemon", "listen", "256.0.0.1:8470",
     "[daemon] listen: bad address '256.0.0.1:8470' (want HOST:PORT, [IPV6]:PORT or \"\")"},
    {"daemon", "listen", "127.0.1:8470",
     "[daemon] listen: bad address '127.0.1:8470' (want HOST:PORT, [IPV6]:PORT or \"\")"},
    {"daemon", "listen", "local..host:8470",
     "[daemon] listen: bad address 'local..host:8470' (want HOST:PORT, [IPV6]:PORT or \"\")"},
    {"daemon", "listen", "127.0.0.1:+80",
     "[daemon] listen: bad address '127.0.0.1:+80' (want HOST:PORT, [IPV6]:PORT or \"\")"},
    /* time zones */
    {"feed", "timezone", "Asia/Shanghai", NULL},
    {"feed", "timezone", "UTC", NULL},
    {"feed", "timezone", "Asia/Shangai", "feed \"f\": timezone: unknown time zone 'Asia/Shangai'"},
    {"feed", "timezone", "Asia", "feed \"f\": timezone: unknown time zone 'Asia'"},
    {"feed", "timezone", "../../../etc/passwd",
     "feed \"f\": timezone: unknown time zone '../../../etc/passwd'"},
    {"feed", "timezone", "/etc/localtime",
     "feed \"f\": timezone: unknown time zone '/etc/localtime'"},
    {"feed", "timezone", "+08:00", "feed \"f\": timezone: unknown time zone '+08:00'"},
    /* a file under zoneinfo that is no zone: the date parser could not read it */
    {"feed", "timezone", "leapseconds", "feed \"f\": timezone: unknown time zone 'leapseconds'"},
    {"feed", "timezone", "Asia//Shanghai",
     "feed \"f\": timezone: unknown time zone 'Asia//Shanghai'"},
    /* charsets */
    {"feed", "charset", "gb18030", NULL},
    {"feed", "charset", "GB2312", NULL},
    {"feed", "charset", "gbk", NULL},
    {"feed", "charset", "big5", NULL},
    {"feed", "charset", "windows-1252", NULL},
    {"feed", "charset", "klingon", "feed \"f\": charset: unknown charset 'klingon'"},
    {"feed", "charset", "utf-8//TRANSLIT",
     "feed \"f\": charset: unknown charset 'utf-8//TRANSLIT'"},
    /* regular expressions */
    {"feed", "remove_text", "^(责任编辑|来源)[:：]", NULL},
    {"feed", "remove_text", "^责任编辑(", "feed \"f\": remove_text: bad regex '^责任编辑(': "},
    /* cleaning selectors, compiled by the cleaner at read (issue 10 §3.6);
     * its wording is parse/'s: the prefix is checked */
    {"feed", "remove", ".appendQr_wrap, .article-editor", NULL},
    {"feed", "remove", "div, #ad, p.note, [data-ad], [data-x=\"1\"]", NULL},
    {"feed", "remove", "div > p", "feed \"f\": remove: bad selector \"div > p\""},
    {"feed", "remove", "p:first-child", "feed \"f\": remove: bad selector \"p:first-child\""},
    {"feed", "remove", ".a, , .b", "feed \"f\": remove: "},
    {"feed", "remove", "[data-x", "feed \"f\": remove: "},
    /* [output] tokens: NAME:SECRET, secrets never echoed */
    {"output", "tokens", "alice:0123456789abcdef, bob:Zz-._~0123456789abcdef", NULL},
    {"output", "tokens", "", NULL},
    {"output", "tokens", "alice:short",
     "[output] tokens: reader 'alice': secret of 5 characters "
     "(want 16 to 256)"},
    {"output", "tokens", "alice:0123456789abcdef, alice:fedcba9876543210",
     "[output] tokens: reader 'alice' named twice"},
    {"output", "tokens", "alice:0123456789abcdef, bob:0123456789abcdef",
     "[output] tokens: readers 'alice' and 'bob' share a secret"},
    {"output", "tokens", "alice 0123456789abcdef", "[output] tokens: item 1: want NAME:SECRET"},
    {"output", "tokens", "alice:0123456789abcdef,,0123456789abcdef",
     "[output] tokens: item 3: want NAME:SECRET"},
    {"output", "tokens", ":0123456789abcdef",
     "[output] tokens: item 1: bad reader name (want 1 to 64 letters, digits, '.', '_', '-')"},
    {"output", "tokens", "al ice:0123456789abcdef",
     "[output] tokens: item 1: bad reader name (want 1 to 64 letters, digits, '.', '_', '-')"},
    {"output", "tokens", "alice:0123456789abcdef/+=",
     "[output] tokens: reader 'alice': bad secret (want letters, digits, '.', '_', '~', '-')"},
    {"output", "tokens", "alice:0123456789:abcdef",
     "[output] tokens: reader 'alice': bad secret (want letters, digits, '.', '_', '~', '-')"},
    /* [daemon] node */
    {"daemon", "node", "host1", NULL},
    {"daemon", "node", "东京-2 (rack 4)", NULL},
    {"daemon", "node", "", "[daemon] node: empty value"},
    {"daemon", "node", "0123456789012345678901234567890123456789012345678901234567890123", NULL},
    {"daemon", "node", "01234567890123456789012345678901234567890123456789012345678901234",
     "[daemon] node: bad node name (want 1 to 64 bytes, no control character)"},
    /* [daemon] lease and max_rate (SPEC §10) */
    {"daemon", "lease", "5s", NULL},
    {"daemon", "lease", "0", "[daemon] lease: bad duration '0' (must be more than 0)"},
    {"daemon", "lease", "soon", "[daemon] lease: bad duration 'soon'"},
    {"daemon", "max_rate", "10", NULL},
    {"daemon", "max_rate", "0", NULL},
    {"daemon", "max_rate", "-1", "[daemon] max_rate: bad number '-1' (want 0 to 100000)"},
    {"daemon", "max_rate", "100001", "[daemon] max_rate: bad number '100001' (want 0 to 100000)"},
    /* [output] hub and its limits (SPEC §11) */
    {"output", "hub", "builtin", NULL},
    {"output", "hub", "https://hub.example/", NULL},
    {"output", "hub", "", NULL},
    {"output", "hub", "Builtin", "[output] hub: bad URL 'Builtin': Bad scheme (or builtin)"},
    {"output", "hub", "ftp://hub.example/",
     "[output] hub: bad URL 'ftp://hub.example/': want an absolute http or https URL (or builtin)"},
    {"output", "hub_max_subscriptions", "0",
     "[output] hub_max_subscriptions: bad number '0' (want 1 to 1000000)"},
    {"output", "hub_max_per_host", "5", NULL},
    /* strings and paths */
    {"output", "title", "", "[output] title: empty value"},
    {"daemon", "database", "", "[daemon] database: empty value"},
    {"daemon", "user_agent", "", "[daemon] user_agent: empty value"},
    {"feed", "user_agent", "", NULL},
    {"daemon", "control_socket",
     "/run/finfeed/"
     "a-socket-name-that-is-much-longer-than-any-sun-path-allows-because-it-goes-on-and-on-and-on-"
     "and-on.sock",
     "[daemon] control_socket: path '/run/finfeed/a-socket-name-that-is-much-longer-than-any-"
     "sun-path-allows-because-it-goes-on-and-on-and-on-and-on.sock' too long for a unix socket "
     "(max 107 bytes)"},
    /* unknown keys, in each section */
    {"daemon", "intervall", "15m", "[daemon]: unknown key 'intervall'"},
    {"daemon", "Interval", "15m", "[daemon]: unknown key 'Interval'"},
    {"output", "url", "http://x/", "[output]: unknown key 'url'"},
    {"feed", "intervall", "10m", "feed \"f\": unknown key 'intervall'"},
    {"feed", "bad key", "1", "feed \"f\": unknown key 'bad key'"},
};

static void
test_value_types(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
        const struct value_case *vc = &value_cases[i];
        char text[1024], msg[1024];
        int is_feed = strcmp(vc->section, "feed") == 0;
        /* the key line is line 2, after the header; a feed's url comes last */
        snprintf(text, sizeof(text), "[%s]\n%s = %s\n%s", is_feed ? "feed \"f\"" : vc->section,
                 vc->key, vc->value, is_feed ? "url = http://example.com/\n" : "");
        if (vc->error == NULL) {
            config_free(expect_ok(text));
            continue;
        }
        snprintf(msg, sizeof(msg), "finfeed.conf:2: %s", vc->error);
        if (strstr(vc->key, "remove") != NULL) {
            /* regerror()'s wording is libc's, the cleaner's parse/'s: check the prefix only */
            struct config *c;
            char err[512] = "";
            int rc = load_text(text, &c, err, sizeof(err));
            if (rc != -EINVAL || strncmp(err, msg, strlen(msg)) != 0)
                print_error("input:\n%s\nwant: %s...\ngot:  rc=%d %s\n", text, msg, rc, err);
            assert_int_equal(rc, -EINVAL);
            assert_null(c);
            assert_true(strncmp(err, msg, strlen(msg)) == 0);
            assert_true(strlen(err) > strlen(msg));
            continue;
        }
        expect_error(text, msg);
    }
}

static void
test_values_stored(void **state)
{
    struct config *c = expect_ok("[daemon]\n"
                                 "max_feed_size = 512K\n"
                                 "retention = 0\n"
                                 "listen = \"\"\n"
                                 "tracking_params = utm_*, spm,,  fbclid ,\n"
                                 "user_agent = Mozilla/5.0 (finfeed VERSION; VERSION)\n"
                                 "allow_file_urls = On\n"
                                 "[output]\n"
                                 "title = \"Finance # news\"   # the quotes go\n"
                                 "iframe_hosts =\n"
                                 "markdown_dir = posts\n"
                                 "[feed \"f\"]\n"
                                 "url = http://example.com/\n"
                                 "categories = ,宏观 ,, 股市,\n"
                                 "user_agent = \n"
                                 "comments = yes\n");
    const struct config_feed *f = &c->feeds[0];

    (void)state;
    assert_int_equal(c->daemon.max_feed_size, 512 * 1024);
    assert_int_equal(c->daemon.retention, 0);
    assert_null(c->daemon.listen);
    assert_int_equal(c->daemon.ntracking_params, 3);
    assert_string_equal(c->daemon.tracking_params[0], "utm_*");
    assert_string_equal(c->daemon.tracking_params[1], "spm");
    assert_string_equal(c->daemon.tracking_params[2], "fbclid");
    assert_null(c->daemon.tracking_params[3]);
    assert_string_equal(c->daemon.user_agent,
                        "Mozilla/5.0 (finfeed " FINFEED_VERSION "; " FINFEED_VERSION ")");
    assert_int_equal(c->daemon.allow_file_urls, 1);
    assert_string_equal(c->output.title, "Finance # news");
    assert_int_equal(c->output.niframe_hosts, 0);
    assert_null(c->output.iframe_hosts[0]);
    assert_string_equal(c->output.markdown_dir, "./posts");
    assert_int_equal(f->ncategories, 2);
    assert_string_equal(f->categories[0], "宏观");
    assert_string_equal(f->categories[1], "股市");
    assert_null(f->user_agent);
    assert_int_equal(f->comments, 1);
    config_free(c);

    c = expect_ok("[daemon]\nlease = 7s\nmax_rate = 10\n");
    assert_int_equal(c->daemon.lease, 7);
    assert_int_equal(c->daemon.max_rate, 10);
    config_free(c);
    c = expect_ok("[daemon]\n");
    assert_int_equal(c->daemon.lease, 0); /* 2 × timeout + 60 s, where it is used */
    assert_int_equal(c->daemon.max_rate, 0);
    config_free(c);

    c = expect_ok("[output]\nhub = builtin\nhub_max_per_host = 3\n");
    assert_string_equal(c->output.hub, "builtin");
    assert_int_equal(c->output.hub_max_per_host, 3);
    assert_int_equal(c->output.hub_max_subscriptions, 10000);
    config_free(c);
    c = expect_ok("[output]\nhub = http://hub.example/publish\n");
    assert_string_equal(c->output.hub, "http://hub.example/publish");
    config_free(c);
    c = expect_ok("[output]\n");
    assert_null(c->output.hub);
    assert_int_equal(c->output.hub_max_per_host, 100);
    config_free(c);

    c = expect_ok("[daemon]\nnode = host1\n[output]\n"
                  "tokens = alice:0123456789abcdef , bob:fedcba9876543210-x\n");
    assert_string_equal(c->daemon.node, "host1");
    assert_int_equal(c->output.ntokens, 2);
    assert_string_equal(c->output.tokens[0].name, "alice");
    assert_string_equal(c->output.tokens[0].secret, "0123456789abcdef");
    assert_string_equal(c->output.tokens[1].name, "bob");
    assert_string_equal(c->output.tokens[1].secret, "fedcba9876543210-x");
    config_free(c);
}

/* Relative paths are relative to the configuration file's directory. */
static void
test_relative_paths(void **state)
{
    struct config *c = NULL;
    char err[256];

    (void)state;
    assert_int_equal(mkdir("etc", 0700), 0);
    write_conf("etc/f.conf", "[daemon]\ndatabase = data/finfeed.db\ncontrol_socket = /tmp/f.sock\n"
                             "[output]\nmarkdown_dir = ../posts\n");
    assert_int_equal(config_load("etc/f.conf", &c, err, sizeof(err)), 0);
    assert_string_equal(c->daemon.database, "etc/data/finfeed.db");
    assert_string_equal(c->daemon.control_socket, "/tmp/f.sock");
    assert_string_equal(c->output.markdown_dir, "etc/../posts");
    config_free(c);
    unlink("etc/f.conf");
    rmdir("etc");

    c = expect_ok("[daemon]\ndatabase = :memory:\n");
    assert_string_equal(c->daemon.database, ":memory:");
    config_free(c);
    /* a PostgreSQL URI is not a file (SPEC §10) */
    c = expect_ok("[daemon]\ndatabase = postgresql://finfeed@db.example/news?sslmode=require\n");
    assert_string_equal(c->daemon.database, "postgresql://finfeed@db.example/news?sslmode=require");
    config_free(c);
    c = expect_ok("[daemon]\ndatabase = postgres:///finfeed\n");
    assert_string_equal(c->daemon.database, "postgres:///finfeed");
    config_free(c);
}

/* Many feeds: each loads, in order; a name taken 290 feeds earlier is
 * still a duplicate, found where the table of names has grown past its
 * first size (config.c keeps the names in a hash table). */
static void
test_many_feeds(void **state)
{
    (void)state;
    enum { N = 300 };
    size_t cap = N * 64 + 128, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, cap - len, "[feed \"f%d\"]\nurl = http://h%d.example/\n",
                                i, i);
    struct config *c = expect_ok(text);
    assert_int_equal(c->nfeeds, N);
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d", i);
        assert_string_equal(c->feeds[i].name, name);
    }
    config_free(c);
    snprintf(text + len, cap - len, "[feed \"f9\"]\nurl = http://x.example/\n");
    char want[128];
    snprintf(want, sizeof(want), "finfeed.conf:%d: duplicate feed \"f9\" (first at line 19)",
             2 * N + 1);
    expect_error(text, want);
    free(text);
}

static void
test_errors(void **state)
{
    struct config *c = NULL;
    char err[512];

    (void)state;
    assert_int_equal(config_load(CFG "unknown_key.conf", &c, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, CFG "unknown_key.conf:12: feed \"sina\": unknown key 'intervall'");
    assert_null(c);
    assert_int_equal(config_load(CFG "missing_url.conf", &c, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, CFG "missing_url.conf:1: feed \"x\": missing 'url'");

    expect_error("[daemon]\n\n\ntimeout = abc\n",
                 "finfeed.conf:4: [daemon] timeout: bad duration 'abc'");
    expect_error("[feed \"a\"]\nurl = http://a/\n[feed \"b\"]\nurl = http://b/\n[feed \"a\"]\n",
                 "finfeed.conf:5: duplicate feed \"a\" (first at line 1)");
    expect_error("[daemon]\ninterval = 1m\ntimeout = 5s\ninterval = 2m\n",
                 "finfeed.conf:4: [daemon] interval: duplicate key (first at line 2)");
    expect_error("[feed \"a\"]\nurl = http://a/\nurl = http://b/\n",
                 "finfeed.conf:3: feed \"a\": url: duplicate key (first at line 2)");
    expect_error("[daemon]\n[deamon]\ninterval = 1m\n", "finfeed.conf:2: unknown section [deamon]");
    expect_error("[feeds \"a\"]\n", "finfeed.conf:1: unknown section [feeds \"a\"]");
    expect_error("[daemon]\n[output]\n[daemon]\n",
                 "finfeed.conf:3: duplicate section [daemon] (first at line 1)");
    expect_error("[feed sina]\nurl = http://a/\n",
                 "finfeed.conf:1: bad section [feed sina]: write [feed \"NAME\"]");
    expect_error("[feed]\n", "finfeed.conf:1: bad section [feed]: write [feed \"NAME\"]");
    expect_error("[feed \"\"]\n", "finfeed.conf:1: feed name must be 1 to 200 bytes");
    expect_error("[feed \"a\"b\"]\n",
                 "finfeed.conf:1: bad section [feed \"a\"b\"]: write [feed \"NAME\"]");
    expect_error("[daemon\n", "finfeed.conf:1: bad section header '[daemon'");
    expect_error("[daemon] junk\n", "finfeed.conf:1: bad section header '[daemon] junk'");
    expect_error("interval = 1m\n[daemon]\n", "finfeed.conf:1: key 'interval' before any section");
    expect_error("[daemon]\ninterval 15m\n",
                 "finfeed.conf:2: expected 'key = value', got 'interval 15m'");
    expect_error("[daemon]\ninterval: 15m\n",
                 "finfeed.conf:2: expected 'key = value', got 'interval: 15m'");
    expect_error("[daemon]\n= 15m\n", "finfeed.conf:2: expected 'key = value', got '= 15m'");
    expect_error("[feed \"ok\"]\nurl = http://a/\n\n[feed \"x\"]\ncategories = a\n",
                 "finfeed.conf:4: feed \"x\": missing 'url'");
    expect_error("[daemon]\ninterval = 1m\n[feed \"x\"]\n",
                 "finfeed.conf:3: feed \"x\": missing 'url'");
    /* the first error wins, line errors before whole-file checks */
    expect_error("[feed \"x\"]\n[daemon]\ntimeout = never\n",
                 "finfeed.conf:3: [daemon] timeout: bad duration 'never'");
    expect_error("[daemon]\ntitle = \xff\n", "finfeed.conf:2: invalid UTF-8");
    expect_error("[daemon]\ntitle = a\x01 b\n", "finfeed.conf:2: control character 0x01");

    /* a NUL byte cannot hide the rest of a line */
    {
        static const char nul[] = "[daemon]\ninterval = 1m\x00garbage\n";
        FILE *fp = fopen("finfeed.conf", "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, fp), sizeof(nul) - 1);
        assert_int_equal(fclose(fp), 0);
        assert_int_equal(config_load("finfeed.conf", &c, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "finfeed.conf:2: control character 0x00");
    }
}

static void
test_file_urls(void **state)
{
    struct config *c = NULL;
    char err[512];

    (void)state;
    expect_error(
        "[daemon]\nallow_file_urls = no\n[feed \"demo\"]\ncategories = x\n"
        "url = file:///srv/demo.xml\n",
        "finfeed.conf:5: feed \"demo\": url: file URLs need allow_file_urls = yes in [daemon]");
    expect_error(
        "[feed \"demo\"]\nurl = file:///srv/demo.xml\n",
        "finfeed.conf:2: feed \"demo\": url: file URLs need allow_file_urls = yes in [daemon]");
    expect_error("[feed \"demo\"]\nurl = ftp://example.com/feed.xml\n",
                 "finfeed.conf:2: feed \"demo\": url: bad URL 'ftp://example.com/feed.xml': "
                 "want an absolute http, https or file URL");
    expect_error("[feed \"demo\"]\nurl = example.com/feed.xml\n",
                 "finfeed.conf:2: feed \"demo\": url: bad URL 'example.com/feed.xml': Bad scheme");
    expect_error("[daemon]\nallow_file_urls = yes\n[feed \"demo\"]\nurl = file:demo.xml\n",
                 "finfeed.conf:4: feed \"demo\": url: bad URL 'file:demo.xml': "
                 "want an absolute http, https or file URL");

    assert_int_equal(config_load(CFG "file_url_late_allow.conf", &c, err, sizeof(err)), 0);
    assert_string_equal(c->feeds[0].url, "file:///usr/share/finfeed/demo.xml");
    assert_int_equal(c->daemon.allow_file_urls, 1);
    config_free(c);
}

/* '=' and '#' inside values, "#id" selectors, VERSION. */
static void
test_query_url(void **state)
{
    struct config *c = NULL;
    char err[512];
    const struct config_feed *f;

    (void)state;
    assert_int_equal(config_load(CFG "query_url.conf", &c, err, sizeof(err)), 0);
    f = config_find_feed(c, "edgar");
    assert_non_null(f);
    assert_string_equal(f->url,
                        "https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent&type=8-K"
                        "&count=40&output=atom#top");
    assert_string_equal(f->remove, "#ad-box, .share , [data-x=1]");
    assert_string_equal(f->user_agent, "finfeed/" FINFEED_VERSION " (ops@example.com)");
    config_free(c);

    c = expect_ok("[feed \"q\"]\nurl = https://example.com/rss?a=1&b=2\n");
    assert_string_equal(c->feeds[0].url, "https://example.com/rss?a=1&b=2");
    config_free(c);
}

static void
test_crlf_bom(void **state)
{
    struct config *c = NULL;
    char err[512];

    (void)state;
    assert_int_equal(config_load(CFG "crlf_bom.conf", &c, err, sizeof(err)), 0);
    assert_int_equal(c->daemon.interval, 300);
    assert_int_equal(c->daemon.allow_file_urls, 1);
    assert_int_equal(c->nfeeds, 1);
    assert_string_equal(c->feeds[0].url, "file:///srv/feeds/demo.xml");
    assert_int_equal(c->feeds[0].ncategories, 2);
    assert_string_equal(c->feeds[0].categories[0], "金融");
    assert_string_equal(c->feeds[0].categories[1], "demo");
    assert_int_equal(c->feeds[0].line, 6);
    assert_int_equal(c->feeds[0].interval, 300);
    config_free(c);

    /* the BOM is not part of the first section name; CRLF lines count right */
    expect_error("\xef\xbb\xbf[daemon]\r\n\r\ntimeout = x\r\n",
                 "finfeed.conf:3: [daemon] timeout: bad duration 'x'");
}

/* inih r55 cuts lines at 200 bytes and continues indented lines: neither here. */
static void
test_long_and_indented_lines(void **state)
{
    char url[1200], text[1600];
    struct config *c;

    (void)state;
    snprintf(url, sizeof(url), "https://example.com/search?q=");
    while (strlen(url) < 1000)
        strcat(url, "a=1&b=2&");
    snprintf(
        text, sizeof(text),
        "[feed \"long\"]\n    url = %s   # comment\n\tinterval = 5m\n  [daemon]\n  timeout = 9s\n",
        url);
    c = expect_ok(text);
    assert_string_equal(c->feeds[0].url, url);
    assert_int_equal(c->feeds[0].interval, 300);
    assert_int_equal(c->daemon.timeout, 9);
    config_free(c);

    snprintf(text, sizeof(text), "[daemon]\n%0300d = 1\n", 7);
    expect_error(text,
                 "finfeed.conf:2: [daemon]: unknown key '"
                 "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
                 "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
                 "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
                 "000000000000000000000000000000000000000000000000000000000007'");
}

static void
test_comments(void **state)
{
    struct config *c = expect_ok("# a comment\n"
                                 "; another\n"
                                 "   # indented comment\n"
                                 "[output]   # trailing comment on a header\n"
                                 "title = Markets #1 daily\n"
                                 "link = http://x.example/#frag   #\n"
                                 "markdown_dir =                    # unset\n");

    (void)state;
    assert_string_equal(c->output.title, "Markets #1 daily");
    assert_string_equal(c->output.link, "http://x.example/#frag");
    assert_null(c->output.markdown_dir);
    config_free(c);

    /* ';' after a value is text (inih would cut it); inner quotes keep the outer ones */
    c = expect_ok("[output]\ntitle = \"a\" and \"b\"\n[feed \"f\"]\nurl = http://x.example/\n"
                  "remove_text = ^a ;b\n");
    assert_string_equal(c->output.title, "\"a\" and \"b\"");
    assert_string_equal(c->feeds[0].remove_text, "^a ;b");
    config_free(c);
}

/* Values that were checked only at start or not at all (issue 10 §3.4, §3.6):
 * each is an error at read, with file:line, section and key. */
static const struct {
    const char *file;
    const char *error; /* after CFG; a prefix when prefix is set */
    int prefix;
} late_cases[] = {
    {"interval_overflow.conf",
     "interval_overflow.conf:9: feed \"x\": interval: bad duration '9223372036854775807' "
     "(at most 365d)",
     0},
    {"timeout_over_year.conf",
     "timeout_over_year.conf:3: [daemon] timeout: bad duration '366d' (at most 365d)", 0},
    {"bad_remove.conf", "bad_remove.conf:9: feed \"x\": remove: bad selector \"", 1},
    {"bad_listen.conf",
     "bad_listen.conf:3: [daemon] listen: bad address '256.0.0.1:8470' (want HOST:PORT, "
     "[IPV6]:PORT or \"\")",
     0},
    {"bad_timezone.conf",
     "bad_timezone.conf:4: feed \"x\": timezone: unknown time zone 'leapseconds'", 0},
    {"short_secret.conf",
     "short_secret.conf:5: [output] tokens: reader 'bob': secret of 8 characters (want 16 to 256)",
     0},
    {"duplicate_reader.conf", "duplicate_reader.conf:3: [output] tokens: reader 'alice' named twice",
     0},
    {"bad_tokens.conf", "bad_tokens.conf:4: [output] tokens: item 2: want NAME:SECRET", 0},
    {"bad_node.conf",
     "bad_node.conf:3: [daemon] node: bad node name (want 1 to 64 bytes, no control character)", 0},
    {"bad_iframe_host.conf",
     "bad_iframe_host.conf:4: [output] iframe_hosts: bad host name '.vimeo.com'", 0},
};

static void
test_late_errors_at_read(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(late_cases) / sizeof(late_cases[0]); i++) {
        char path[512], want[512], err[512] = "";
        /* a reload loads into a fresh pointer and keeps the old config on error:
         * config_load() must leave *out alone and hand back nothing half-read */
        struct config *old = (struct config *)(void *)&late_cases[i];
        struct config *c = old;
        int rc;

        snprintf(path, sizeof(path), CFG "%s", late_cases[i].file);
        snprintf(want, sizeof(want), CFG "%s", late_cases[i].error);
        rc = config_load(path, &c, err, sizeof(err));
        if (rc != -EINVAL ||
            (late_cases[i].prefix ? strncmp(err, want, strlen(want)) != 0 : strcmp(err, want) != 0))
            print_error("%s\nwant: %s\ngot:  rc=%d %s\n", path, want, rc, err);
        assert_int_equal(rc, -EINVAL);
        assert_ptr_equal(c, old);
        if (late_cases[i].prefix)
            assert_true(strncmp(err, want, strlen(want)) == 0 && strlen(err) > strlen(want));
        else
            assert_string_equal(err, want);
    }
}

/* retention may exceed a year; forever (a compliance archive) is 0: never prune. */
static void
test_retention_forever(void **state)
{
    struct config *c = NULL;
    char err[512] = "";

    (void)state;
    assert_int_equal(config_load(CFG "retention_forever.conf", &c, err, sizeof(err)), 0);
    assert_int_equal(c->daemon.retention, 0);
    assert_int_equal(c->feeds[0].interval, 15 * 60);
    config_free(c);

    c = expect_ok("[daemon]\nretention = 36500d\n");
    assert_int_equal(c->daemon.retention, INT64_C(36500) * 86400);
    assert_int_equal(c->daemon.tombstone_retention, 365 * 86400);
    config_free(c);
    /* tombstones: forever (or 0) keeps them; a value is stored as seconds */
    c = expect_ok("[daemon]\ntombstone_retention = forever\n");
    assert_int_equal(c->daemon.tombstone_retention, 0);
    config_free(c);
    c = expect_ok("[daemon]\nretention = 7d\ntombstone_retention = 30d\n");
    assert_int_equal(c->daemon.retention, 7 * 86400);
    assert_int_equal(c->daemon.tombstone_retention, 30 * 86400);
    config_free(c);
    /* a bad one names the file, its line and the key */
    expect_error("[daemon]\nretention = 7d\n\ntombstone_retention = 12h\n",
                 "finfeed.conf:4: [daemon] tombstone_retention: bad duration '12h'"
                 " (at least 1d or forever)");
    c = expect_ok("[daemon]\ninterval = 365d\ntimeout = 365d\nstale_after = 365d\n"
                  "[feed \"f\"]\nurl = http://example.com/\ninterval = 8760h\n");
    assert_int_equal(c->daemon.interval, CONFIG_DURATION_MAX);
    assert_int_equal(c->daemon.timeout, CONFIG_DURATION_MAX);
    assert_int_equal(c->daemon.stale_after, CONFIG_DURATION_MAX);
    assert_int_equal(c->feeds[0].interval, CONFIG_DURATION_MAX);
    assert_int_equal(CONFIG_DURATION_MAX, 365 * 86400);
    config_free(c);
}

static void
test_missing_file(void **state)
{
    struct config *c = NULL;
    char err[512];

    (void)state;
    assert_int_equal(config_load("/nonexistent/finfeed.conf", &c, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "/nonexistent/finfeed.conf: No such file or directory");
    assert_null(c);
    assert_int_equal(config_load("/", &c, err, sizeof(err)), -EISDIR);
    assert_string_equal(err, "/: Is a directory");
    /* no error buffer is fine */
    assert_int_equal(config_load("/nonexistent/finfeed.conf", &c, NULL, 0), -ENOENT);
    /* a short one is cut, NUL-terminated */
    assert_int_equal(config_load("/nonexistent/finfeed.conf", &c, err, 8), -ENOENT);
    assert_string_equal(err, "/nonexi");
    config_free(NULL);
}

/* Issue 13 §2: interval = auto (in [daemon] or a feed) with its bounds,
 * [schedule "NAME"] sections (hours, holidays as dates or a file, the two
 * intervals), feeds naming them, and each feed's plan. */
static void
test_cadence_keys(void **state)
{
    (void)state;
    write_conf("nyse.holidays", "# NYSE 2025\n2025-01-01\n2025-07-04, 2025-12-25\n");
    struct config *c = expect_ok(
        "[feed \"auto\"]\nurl = http://a.example/\n"
        "[feed \"fixed\"]\nurl = http://b.example/\ninterval = 10m\n"
        "[feed \"tight\"]\nurl = http://c.example/\ninterval = AUTO\nmin_interval = 30s\n"
        "max_interval = 1h\n"
        "[feed \"us\"]\nurl = http://d.example/\nschedule = us-equities\n"
        "[feed \"cn\"]\nurl = http://e.example/\nschedule = cn\ninterval = 5m\n"
        "[daemon]\ninterval = auto\nmax_interval = 2h\n"
        "[schedule \"us-equities\"]\nhours = Mon-Fri 09:30-16:00 America/New_York\n"
        "holidays = nyse.holidays\ninterval = 1m\ninterval_outside = 30m\n"
        "[schedule \"cn\"]\nhours = Mon-Fri 09:30-11:30,13:00-15:00 Asia/Shanghai\n"
        "holidays = 2025-01-28, 2025-01-29\ninterval_outside = auto\n");
    assert_int_equal(c->daemon.interval_auto, 1);
    assert_int_equal(c->daemon.min_interval, 60);
    assert_int_equal(c->daemon.max_interval, 7200);
    assert_int_equal(c->daemon.interval, 7200); /* auto: the longest wait */
    const struct config_feed *f = &c->feeds[0];
    assert_int_equal(f->interval_auto, 1);
    assert_int_equal(f->interval, 7200);
    assert_int_equal(f->min_interval, 60);
    assert_int_equal(f->max_interval, 7200);
    assert_null(f->sched);
    struct cadence_plan p;
    config_feed_plan(f, &p);
    assert_int_equal(p.interval, 0);
    assert_null(p.schedule);
    assert_int_equal(config_feed_longest(f), 7200);
    f = &c->feeds[1];
    assert_int_equal(f->interval_auto, 0);
    assert_int_equal(f->interval, 600);
    config_feed_plan(f, &p);
    assert_int_equal(p.interval, 600);
    assert_int_equal(config_feed_longest(f), 600);
    f = &c->feeds[2];
    assert_int_equal(f->interval_auto, 1);
    assert_int_equal(f->min_interval, 30);
    assert_int_equal(f->max_interval, 3600);
    assert_int_equal(f->interval, 3600);
    /* a schedule: its hours, holidays from the file beside this one */
    assert_int_equal(c->nschedules, 2);
    const struct config_schedule *us = &c->schedules[0];
    assert_string_equal(us->name, "us-equities");
    assert_non_null(us->hours);
    assert_string_equal(cadence_hours_zone(us->hours), "America/New_York");
    assert_int_equal(us->nholidays, 3);
    assert_int_equal(us->interval, 60);
    assert_int_equal(us->interval_outside, 1800);
    assert_int_equal(cadence_holiday(us->hours, INT64_C(1751641200)), 1); /* 2025-07-04 */
    f = &c->feeds[3];
    assert_ptr_equal(f->sched, us);
    config_feed_plan(f, &p);
    assert_string_equal(p.schedule, "us-equities");
    assert_ptr_equal(p.hours, us->hours);
    assert_int_equal(p.inside, 60);
    assert_int_equal(p.outside, 1800);
    assert_int_equal(p.interval, 0); /* its own: auto from [daemon] */
    assert_int_equal(config_feed_longest(f), 1800);
    /* the schedule's interval unset: the feed's own; outside auto */
    f = &c->feeds[4];
    config_feed_plan(f, &p);
    assert_int_equal(p.inside, 300);
    assert_int_equal(p.outside, 0);
    assert_int_equal(c->schedules[1].nholidays, 2);
    assert_int_equal(config_feed_longest(f), 7200);
    config_free(c);

    /* interval_outside defaults to 1h */
    c = expect_ok("[schedule \"s\"]\nhours = daily 00:00-12:00 UTC\n");
    assert_int_equal(c->schedules[0].interval_outside, 3600);
    assert_int_equal(c->schedules[0].nholidays, 0);
    config_free(c);

    /* errors: the file, the line, the section, the key */
    expect_error("[feed \"a\"]\nurl = http://a.example/\nschedule = nyse\n",
                 "finfeed.conf:3: feed \"a\": schedule: no [schedule \"nyse\"] in this file");
    expect_error("[schedule \"s\"]\ninterval = 1m\n",
                 "finfeed.conf:1: schedule \"s\": missing 'hours'");
    expect_error("[schedule \"s\"]\nhours = Mon-Fri 09:30-16:00 America/Nowhere\n",
                 "finfeed.conf:2: schedule \"s\": hours: unknown time zone 'America/Nowhere'");
    expect_error("[schedule \"s\"]\nhours = Mon-Fri 09:30-16:00\n",
                 "finfeed.conf:2: schedule \"s\": hours: no time zone at the end (want … ZONE, "
                 "as in Mon-Fri 09:30-16:00 America/New_York)");
    expect_error("[schedule \"s\"]\nhours = Mon-Fri 16:00-09:30 UTC\n",
                 "finfeed.conf:2: schedule \"s\": hours: time range '16:00-09:30' ends before it "
                 "starts (overnight hours are two groups: Sun-Thu 18:00-24:00; Mon-Fri "
                 "00:00-17:00 ZONE)");
    expect_error("[schedule \"s\"]\nhours = daily 09:00-10:00 UTC\nholidays = 2025-02-30\n",
                 "finfeed.conf:3: schedule \"s\": holidays: bad date '2025-02-30' (want "
                 "YYYY-MM-DD)");
    expect_error("[schedule \"s\"]\nhours = daily 09:00-10:00 UTC\nholidays = none.txt\n",
                 "finfeed.conf:3: schedule \"s\": holidays: none.txt: No such file or directory");
    write_conf("bad.holidays", "2025-01-01\n\n2025-1-2\n");
    expect_error("[schedule \"s\"]\nhours = daily 09:00-10:00 UTC\nholidays = bad.holidays\n",
                 "finfeed.conf:3: schedule \"s\": holidays: bad.holidays:3: bad date '2025-1-2' "
                 "(want YYYY-MM-DD)");
    expect_error("[schedule \"s\"]\nhours = daily 09:00-10:00 UTC\ninterval = often\n",
                 "finfeed.conf:3: schedule \"s\": interval: bad duration 'often' (want a "
                 "duration such as 15m, or auto)");
    expect_error("[schedule \"s\"]\nhours = daily 09:00-10:00 UTC\nopen = 1\n",
                 "finfeed.conf:3: schedule \"s\": unknown key 'open'");
    expect_error("[schedule \"s\"]\nhours = daily 09:00-10:00 UTC\n[schedule \"s\"]\n",
                 "finfeed.conf:3: duplicate schedule \"s\" (first at line 1)");
    expect_error("[schedule s]\n", "finfeed.conf:1: bad section [schedule s]: write [schedule "
                                   "\"NAME\"]");
    expect_error("[daemon]\nmin_interval = 2h\nmax_interval = 1h\n",
                 "finfeed.conf:1: [daemon] min_interval (2h) is above max_interval (1h)");
    expect_error("[feed \"a\"]\nurl = http://a.example/\nmin_interval = 7h\n",
                 "finfeed.conf:1: feed \"a\": min_interval (7h) is above max_interval (6h)");
    unlink("nyse.holidays");
    unlink("bad.holidays");
}

/* ---- instruments (SPEC §12) ---- */

static void
test_tickers_keys(void **state)
{
    (void)state;
    struct config *c = expect_ok("[feed \"maotai\"]\n"
                                 "url = https://example.com/maotai.xml\n"
                                 "tickers = no\n"
                                 "tickers_add = sse:600519, HKEX : 0700, SSE:600519\n"
                                 "[feed \"wire\"]\n"
                                 "url = https://example.com/wire.xml\n");
    assert_int_equal(c->feeds[0].tickers, 0);
    assert_int_equal(c->feeds[0].ntickers_add, 2); /* canonical, each once */
    assert_string_equal(c->feeds[0].tickers_add[0], "SSE:600519");
    assert_string_equal(c->feeds[0].tickers_add[1], "HKEX:0700");
    assert_null(c->feeds[0].tickers_add[2]);
    assert_int_equal(c->feeds[1].tickers, 1); /* default: found in the text */
    assert_int_equal(c->feeds[1].ntickers_add, 0);
    assert_null(c->tickers.dict);
    config_free(c);

    expect_error("[feed \"x\"]\nurl = https://example.com/x\ntickers_add = AAPL\n",
                 "finfeed.conf:3: feed \"x\": tickers_add: bad ticker 'AAPL': not "
                 "EXCHANGE:SYMBOL (no colon)");
    expect_error("[feed \"x\"]\nurl = https://example.com/x\ntickers_add = NASDAQ:AAPL, N:$X\n",
                 "finfeed.conf:3: feed \"x\": tickers_add: bad ticker 'N:$X': SYMBOL: 1 to 15 "
                 "letters, digits or . - _, a letter or digit first");
    expect_error("[feed \"x\"]\nurl = https://example.com/x\ntickers = maybe\n",
                 "finfeed.conf:3: feed \"x\": tickers: bad boolean 'maybe' (want yes or no)");
}

static void
test_tickers_file(void **state)
{
    (void)state;
    write_conf("dict.tsv", "# issuers\n"
                           "NYSE:BABA,HKEX:9988\tAlibaba\t阿里巴巴\r\n"
                           "\n"
                           "NASDAQ:AAPL\tApple\n");
    struct config *c = expect_ok("[tickers]\nfile = dict.tsv\n");
    assert_non_null(c->tickers.file);
    assert_non_null(strstr(c->tickers.file, "/dict.tsv"));
    assert_true(c->tickers.file[0] == '/' || strncmp(c->tickers.file, "./", 2) == 0);
    assert_int_equal(c->tickers.len, strlen(c->tickers.dict));
    assert_non_null(strstr(c->tickers.dict, "NYSE:BABA,HKEX:9988\tAlibaba"));
    config_free(c);

    /* each bad line named by its file and line */
    write_conf("bad.tsv", "NYSE:BABA\tAlibaba\nNASDAQ:AAPL Apple\n");
    expect_error("[tickers]\nfile = bad.tsv\n",
                 "finfeed.conf:2: [tickers] file: ./bad.tsv:2: expected "
                 "EXCHANGE:SYMBOL<TAB>name[<TAB>alias…], found no tab");
    write_conf("bad.tsv", "# x\nNYSE:BABA,9988\tAlibaba\n");
    expect_error("[tickers]\nfile = bad.tsv\n",
                 "finfeed.conf:2: [tickers] file: ./bad.tsv:2: '9988' is not EXCHANGE:SYMBOL");
    write_conf("bad.tsv", "NYSE:BABA\tAlibaba\nFOO:BAR\tFoo\n");
    expect_error("[tickers]\nfile = bad.tsv\n",
                 "finfeed.conf:2: [tickers] file: ./bad.tsv:2: 'FOO:BAR': unknown exchange 'FOO'");
    write_conf("bad.tsv", "NYSE:BABA\tAli\xff\n");
    expect_error("[tickers]\nfile = bad.tsv\n",
                 "finfeed.conf:2: [tickers] file: ./bad.tsv:1: a name is not valid UTF-8 text");
    expect_error("[tickers]\nfile = missing.tsv\n",
                 "finfeed.conf:2: [tickers] file: ./missing.tsv: No such file or directory");
    expect_error("[tickers]\nfile = dict.tsv\n[tickers]\n",
                 "finfeed.conf:3: duplicate section [tickers] (first at line 1)");
    expect_error("[tickers]\ndictionary = dict.tsv\n",
                 "finfeed.conf:2: [tickers]: unknown key 'dictionary'");
    unlink("bad.tsv");
    unlink("dict.tsv");
}

static void
test_watchlists(void **state)
{
    (void)state;
    struct config *c = expect_ok("[watchlist \"china-tech\"]\n"
                                 "tickers = NYSE:BABA, hkex:0700\n"
                                 "keywords = 阿里巴巴, cloud spin-off\n"
                                 "categories = 科技\n"
                                 "feeds = wire\n"
                                 "all_of = tickers: NYSE:BABA, HKEX:0700; keywords: earnings\n"
                                 "all_of = feeds: wire, sina\n"
                                 "none_of = categories: Sponsored, 广告\n"
                                 "[watchlist \"desk\"]\n"
                                 "all_of = tickers: NASDAQ:AAPL\n"
                                 "[feed \"wire\"]\nurl = https://example.com/wire.xml\n"
                                 "[feed \"sina\"]\nurl = https://example.com/sina.xml\n");
    assert_int_equal(c->nwatchlists, 2);
    const struct config_watchlist *w = config_find_watchlist(c, "china-tech");
    assert_non_null(w);
    assert_int_equal(w->line, 1);
    assert_int_equal(w->any.ntickers, 2);
    assert_string_equal(w->any.tickers[1], "HKEX:0700");
    assert_int_equal(w->any.nkeywords, 2);
    assert_string_equal(w->any.keywords[1], "cloud spin-off");
    assert_int_equal(w->any.ncategories, 1);
    assert_int_equal(w->any.nfeeds, 1);
    assert_int_equal(w->any.feeds_line, 5);
    assert_int_equal(w->nall_of, 2);
    assert_int_equal(w->all_of[0].ntickers, 2);
    assert_int_equal(w->all_of[0].nkeywords, 1);
    assert_string_equal(w->all_of[0].keywords[0], "earnings");
    assert_int_equal(w->all_of[0].line, 6);
    assert_int_equal(w->all_of[1].nfeeds, 2);
    assert_int_equal(w->all_of[1].feeds_line, 7);
    assert_int_equal(w->nnone_of, 1);
    assert_int_equal(w->none_of[0].ncategories, 2);
    assert_string_equal(w->none_of[0].categories[1], "广告");
    w = config_find_watchlist(c, "desk");
    assert_non_null(w);
    assert_int_equal(w->nall_of, 1);
    assert_null(config_find_watchlist(c, "nope"));
    config_free(c);

    /* every mistake with its file, line and key */
    expect_error("[watchlist \"x\"]\nfeeds = wire, sinaa\n[feed \"wire\"]\n"
                 "url = https://example.com/wire.xml\n",
                 "finfeed.conf:2: watchlist \"x\": feeds: no feed \"sinaa\" is configured");
    expect_error("[watchlist \"x\"]\ntickers = NYSE:BABA\nnone_of = feeds: gone\n",
                 "finfeed.conf:3: watchlist \"x\": none_of: no feed \"gone\" is configured");
    expect_error("[watchlist \"x\"]\ntickers = BABA\n",
                 "finfeed.conf:2: watchlist \"x\": tickers: bad ticker 'BABA': not "
                 "EXCHANGE:SYMBOL (no colon)");
    expect_error("[watchlist \"x\"]\nall_of = sectors: tech\n",
                 "finfeed.conf:2: watchlist \"x\": all_of: unknown kind 'sectors' (tickers, "
                 "keywords, categories or feeds)");
    expect_error("[watchlist \"x\"]\nall_of = NYSE\n",
                 "finfeed.conf:2: watchlist \"x\": all_of: 'NYSE': write KIND: ITEM, ITEM (KIND "
                 "tickers, keywords, categories or feeds)");
    expect_error("[watchlist \"x\"]\nall_of = tickers: ;\n",
                 "finfeed.conf:2: watchlist \"x\": all_of: tickers: no item");
    expect_error(
        "[watchlist \"x\"]\nkeywords = a b c d e f g h i j k l m n o p q\n",
        "finfeed.conf:2: watchlist \"x\": keywords: keyword 'a b c d e f g h i j k l m n o "
        "p q': 1 to 16 words (every word must occur, as ?q=)");
    expect_error("[watchlist \"x\"]\nnone_of = categories: ads\n",
                 "finfeed.conf:1: watchlist \"x\": names nothing (give tickers, keywords, "
                 "categories, feeds or all_of)");
    expect_error("[watchlist \"x\"]\ntickers = NYSE:BABA\ntickers = HKEX:9988\n",
                 "finfeed.conf:3: watchlist \"x\": tickers: duplicate key (first at line 2)");
    expect_error("[watchlist \"x\"]\ntickers = NYSE:BABA\n[watchlist \"x\"]\n",
                 "finfeed.conf:3: duplicate watchlist \"x\" (first at line 1)");
    expect_error("[watchlist x]\n", "finfeed.conf:1: bad section [watchlist x]: write "
                                    "[watchlist \"NAME\"]");
    expect_error("[watchlist \"x\"]\nticker = NYSE:BABA\n",
                 "finfeed.conf:2: watchlist \"x\": unknown key 'ticker'");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example),
        cmocka_unit_test(test_defaults_without_file),
        cmocka_unit_test(test_defaults_with_file),
        cmocka_unit_test(test_feed_interval_inherits),
        cmocka_unit_test(test_default_path_env),
        cmocka_unit_test(test_value_types),
        cmocka_unit_test(test_values_stored),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_many_feeds),
        cmocka_unit_test(test_file_urls),
        cmocka_unit_test(test_query_url),
        cmocka_unit_test(test_crlf_bom),
        cmocka_unit_test(test_long_and_indented_lines),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_late_errors_at_read),
        cmocka_unit_test(test_retention_forever),
        cmocka_unit_test(test_cadence_keys),
        cmocka_unit_test(test_tickers_keys),
        cmocka_unit_test(test_tickers_file),
        cmocka_unit_test(test_watchlists),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
