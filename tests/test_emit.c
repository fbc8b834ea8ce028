/* tests/test_emit.c — daemon/emit_feed.c: Atom, RSS and JSON Feed read back by
 * real consumers (tests/check_feed.py: feedparser without bozo, every MUST of
 * RFC 4287 and JSON Feed 1.1), byte-exact against tests/fixtures/emit/, hostile
 * strings (control characters, invalid UTF-8, "]]>"), no entries, determinism.
 * FINFEED_UPDATE_FIXTURES=1 rewrites the expected documents. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

#include <errno.h>
#include <dirent.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/emit/emit.h"
#include "daemon/emit/emit_text.h"
#include "store/store.h"

#define EMIT_DIR FIXTURES "/emit/"
#define CHECKER FIXTURES "/../check_feed.py"
#define PYTHON "/usr/bin/python3"

/* Set when feed validation could not run: the test then exits 77, a skip for
 * ctest, or 1 under make check (FINFEED_REQUIRE_ALL, tests/need.sh). */
static int checks_skipped;

extern char **environ;

static const struct emit_feed_info info = {
    .title = "finfeed — 金融",
    .link = "http://127.0.0.1:8470/",
    .self = NULL, /* per format, in render() */
    .id = NULL,
    .subtitle = "Cleaned & merged <finance> news",
};

/* The cases of tests/fixtures/emit/cases.expect.json, newest first. */
static const struct store_article cases[] = {
    {
        /* Chinese title with ASCII quotes, '&', '<'; a link with a query;
         * a body with "]]>"; categories with '&'; two sources. */
        .id = 4,
        .uid = "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
        .title = "疫情“持续”胶着 & \"长春\" 'x' <累计>确诊",
        .link = "https://finance.sina.com.cn/china/2022-04-04/doc.shtml?a=1&b=2",
        .guid = "https://finance.sina.com.cn/china/2022-04-04/doc.shtml",
        .author = "新浪财经",
        .headimg = "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png",
        .thumbnail = NULL,
        .summary = "长春累计确诊20000例 & 社会面清零再推进",
        .body = "<div><p>长春累计确诊 <b>20000</b> 例 &amp; a ]]> b</p>"
                "<p><a href=\"https://example.com/?a=1&amp;b=2\">\"link\"</a></p>"
                "<img src=\"https://n.sinaimg.cn/x.jpg\" referrerpolicy=\"no-referrer\"></div>",
        .categories_json = "[\"金融\",\"Markets & Stocks\",\"<tag>\"]",
        .sources_json = "[\"新浪财经－国內\",\"财联社 电报\"]",
        .feed = "新浪财经－国內",
        .date = 1649040626,    /* 2022-04-04T02:50:26Z */
        .updated = 1649145600, /* 2022-04-05T08:00:00Z: the feed's updated */
        .first_seen = 1649040700,
    },
    {
        /* Empty author, no image, no link, no categories, no summary. */
        .id = 3,
        .uid = "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        .title = "No author, no image",
        .link = "",
        .guid = "urn:finfeed:abc",
        .author = "",
        .headimg = "",
        .thumbnail = "",
        .summary = "",
        .body = "<p>plain</p>",
        .categories_json = "[]",
        .sources_json = "[\"wire\"]",
        .feed = "wire",
        .date = 1649041800, /* 2022-04-04T03:10:00Z */
        .updated = 1649041800,
        .date_rejected = 1, /* the CMS said 1970: kept in JSON's _finfeed */
        .rejected_date = 0,
    },
    {
        /* Control characters in the title and the author; a thumbnail. */
        .id = 2,
        .uid = "urn:uuid:6fa459ea-ee8a-3ca4-894e-db77e160355e",
        .title = "Ctl\x01\x02 in\x08 title\x1b!",
        .link = "https://example.com/ctl",
        .guid = "g2",
        .author = "Reuters\x0c",
        .headimg = "https://example.com/img/photo.WEBP?w=640#x",
        .thumbnail = "https://example.com/img/thumb.gif",
        .summary = "tab\there\x01",
        .body = "<p>text\x03 with\x1f controls</p>",
        .categories_json = "[\"A&B\"]",
        .sources_json = "[\"example\"]",
        .feed = "example",
        .date = 1640995199, /* 2021-12-31T23:59:59Z */
        .updated = 0,       /* never updated: date */
    },
    {
        /* Invalid UTF-8 in title, body and category; bad JSON columns. */
        .id = 1,
        .uid = "urn:uuid:9c5b94b1-35ad-49bb-b118-8e8fc24abf80",
        .title = "Bad \xc3 byte \xff end",
        .link = "https://example.com/bad",
        .guid = "g1",
        .author = "A\xe4uthor",
        .headimg = "https://example.com/a",
        .thumbnail = NULL,
        .summary = "sum \xed\xa0\x80 mary",
        .body = "<p>caf\xe9 \xf0\x9f\x98 \xef\xbf\xbe\xc0\x80 ok \xe2\x82\xac</p>",
        .categories_json = "not json",
        .sources_json = "{\"a\":1}",
        .feed = "bad feed/name",
        .date = 1640995100,
        .updated = 1640995100,
    },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const char *const ext[] = {"atom", "rss", "json"};

struct ctx {
    char dir[64]; /* private temporary directory */
    int checker;  /* 1: /usr/bin/python3 with feedparser is there */
};

/* Render n articles; the document (caller frees) and its length. */
static char *
render(enum emit_format f, const struct store_article *arts, size_t n, size_t *len)
{
    struct emit_writer *w = NULL;
    struct emit_feed_info fi = info;
    char *doc = NULL;
    static const char *const self[] = {"http://127.0.0.1:8470/feed.atom",
                                       "http://127.0.0.1:8470/feed.rss",
                                       "http://127.0.0.1:8470/feed.json"};

    fi.self = self[f];
    assert_int_equal(emit_writer_new(f, &fi, &w), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(emit_writer_add(w, &arts[i]), 0);
    assert_int_equal(emit_writer_finish(w, &doc, len), 0);
    assert_non_null(doc);
    assert_int_equal(strlen(doc), *len);
    emit_writer_free(w);
    return doc;
}

static void
write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static char *
read_file(const char *path, size_t *len)
{
    return test_slurp(path, len);
}

/* Exit status of `python3 check_feed.py FORMAT FILE [EXPECT]`. */
static int
run_checker(const char *fmt, const char *file, const char *expect)
{
    char *argv[] = {PYTHON, CHECKER, (char *)fmt, (char *)file, (char *)expect, NULL};
    pid_t pid;
    int status;

    assert_int_equal(posix_spawn(&pid, PYTHON, NULL, NULL, argv, environ), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Write doc to DIR/name and have check_feed.py validate it. */
static void
check(struct ctx *c, enum emit_format f, const char *doc, size_t len, const char *name,
      const char *expect)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", c->dir, name);
    write_file(path, doc, len);
    int rc = c->checker ? run_checker(ext[f], path, expect) : 0;
    if (rc != 0)
        print_error("check_feed.py %s %s failed (exit %d); the document stays there\n", ext[f],
                    path, rc);
    assert_int_equal(rc, 0);
    unlink(path);
}

static int
setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    strcpy(c->dir, "/tmp/test_emit.XXXXXX");
    if (mkdtemp(c->dir) == NULL) {
        free(c);
        return -1;
    }
    c->checker =
        access(PYTHON, X_OK) == 0 && system(PYTHON " -c 'import feedparser' 2>/dev/null") == 0;
    if (!c->checker) {
        print_message("[ SKIPPED  ] feed validation: %s with python3-feedparser is missing\n",
                      PYTHON);
        checks_skipped = 1;
    }
    *state = c;
    return 0;
}

static int
teardown(void **state)
{
    struct ctx *c = *state;
    rmdir(c->dir);
    free(c);
    return 0;
}

/* doc with every FINFEED_VERSION replaced by "@VERSION@": fixtures outlive
 * version bumps. New string. */
static char *
unversioned(const char *doc)
{
    const char *v = FINFEED_VERSION, *p;
    size_t vn = strlen(v), n = 0;
    char *out = malloc(strlen(doc) * 2 + 16);
    assert_non_null(out);
    while ((p = strstr(doc, v)) != NULL) {
        memcpy(out + n, doc, (size_t)(p - doc));
        n += (size_t)(p - doc);
        memcpy(out + n, "@VERSION@", 9);
        n += 9;
        doc = p + vn;
    }
    strcpy(out + n, doc);
    return out;
}

static void
render_cases(void **state, enum emit_format f)
{
    struct ctx *c = *state;
    char name[64], path[256];
    size_t len, want_len;

    char *doc = render(f, cases, NCASES, &len);
    char *got = unversioned(doc);
    snprintf(name, sizeof(name), "cases.%s", ext[f]);
    snprintf(path, sizeof(path), EMIT_DIR "%s", name);
    if (getenv("FINFEED_UPDATE_FIXTURES") != NULL)
        write_file(path, got, strlen(got));
    char *want = read_file(path, &want_len);
    if (want == NULL)
        fail_msg("missing %s (FINFEED_UPDATE_FIXTURES=1 writes it)", path);
    assert_string_equal(got, want);
    check(c, f, doc, len, name, EMIT_DIR "cases.expect.json");
    free(want);
    free(got);
    free(doc);
}

static void
test_atom(void **state)
{
    render_cases(state, EMIT_ATOM);
}

static void
test_rss(void **state)
{
    render_cases(state, EMIT_RSS);
}

static void
test_json(void **state)
{
    render_cases(state, EMIT_JSON);
}

/* Emitted links lose the tracking parameters (SPEC §5.2; issue 12 §1), the
 * rest as the publisher wrote it: tests/fixtures/emit/tracking_links.tsv in
 * all three formats; without a store to ask (tracking NULL) links stay. */
static void
test_tracking_links(void **state)
{
    (void)state;
    struct store *s;
    char err[256];
    assert_int_equal(store_open(":memory:", &s, err, sizeof(err)), 0);
    char *tsv = read_file(EMIT_DIR "tracking_links.tsv", NULL);
    assert_non_null(tsv);
    char *in[16], *want[16], *save = NULL;
    size_t n = 0;
    for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        if (*line == '#' || tab == NULL)
            continue;
        assert_true(n < 16);
        *tab = '\0';
        in[n] = line;
        want[n++] = tab + 1;
    }
    assert_true(n >= 9);
    for (int f = EMIT_ATOM; f <= EMIT_JSON; f++) {
        for (int with = 0; with < 2; with++) {
            struct emit_writer *w = NULL;
            struct emit_feed_info fi = info;
            fi.self = "http://127.0.0.1:8470/feed";
            fi.tracking = with ? s : NULL;
            assert_int_equal(emit_writer_new((enum emit_format)f, &fi, &w), 0);
            for (size_t i = 0; i < n; i++) {
                struct store_article a = cases[2];
                a.link = in[i];
                assert_int_equal(emit_writer_add(w, &a), 0);
            }
            char *doc;
            size_t len;
            assert_int_equal(emit_writer_finish(w, &doc, &len), 0);
            emit_writer_free(w);
            for (size_t i = 0; i < n; i++) {
                const char *link = with ? want[i] : in[i];
                if (f == EMIT_JSON) {
                    json_t *d = json_loads(doc, 0, NULL);
                    json_t *it = json_array_get(json_object_get(d, "items"), i);
                    assert_string_equal(json_string_value(json_object_get(it, "url")), link);
                    json_decref(d);
                    continue;
                }
                /* XML: '&' written "&amp;"; the link, then its closing quote or tag */
                struct emit_buf x = {0};
                emit_buf_adds(&x, f == EMIT_ATOM ? "href=\"" : "<link>");
                for (const char *p = link; *p; p++)
                    emit_buf_adds(&x, *p == '&' ? "&amp;" : (char[]){*p, '\0'});
                emit_buf_adds(&x, f == EMIT_ATOM ? "\"" : "</link>");
                if (strstr(doc, x.data) == NULL)
                    fail_msg("%s: no %s in\n%s", ext[f], x.data, doc);
                free(x.data);
            }
            free(doc);
        }
    }
    free(tsv);
    store_close(s);
}

/* No entries: a valid document in each format, dated now. */
/* WebSub discovery (SPEC §11): a hub given is advertised in each format,
 * beside rel="self"; none, no hub link. */
static void
test_hub_links(void **state)
{
    (void)state;
    for (int f = EMIT_ATOM; f <= EMIT_JSON; f++) {
        for (int with = 0; with < 2; with++) {
            struct emit_writer *w = NULL;
            struct emit_feed_info fi = info;
            char *doc;
            size_t len;
            fi.self = "http://127.0.0.1:8470/feeds/a%20b.atom";
            fi.hub = with ? "http://127.0.0.1:8470/hub?x=1&y=2" : NULL;
            assert_int_equal(emit_writer_new((enum emit_format)f, &fi, &w), 0);
            assert_int_equal(emit_writer_add(w, &cases[0]), 0);
            assert_int_equal(emit_writer_finish(w, &doc, &len), 0);
            emit_writer_free(w);
            if (f == EMIT_JSON) {
                json_t *d = json_loads(doc, 0, NULL);
                assert_non_null(d);
                json_t *hubs = json_object_get(d, "hubs");
                assert_string_equal(json_string_value(json_object_get(d, "feed_url")), fi.self);
                if (with) {
                    assert_int_equal(json_array_size(hubs), 1);
                    json_t *h = json_array_get(hubs, 0);
                    assert_string_equal(json_string_value(json_object_get(h, "type")), "WebSub");
                    assert_string_equal(json_string_value(json_object_get(h, "url")), fi.hub);
                } else {
                    assert_null(hubs);
                }
                json_decref(d);
            } else {
                const char *want =
                    f == EMIT_ATOM
                        ? "  <link rel=\"hub\" href=\"http://127.0.0.1:8470/hub?x=1&amp;y=2\"/>\n"
                        : "    <atom:link rel=\"hub\" "
                          "href=\"http://127.0.0.1:8470/hub?x=1&amp;y=2\"/>\n";
                assert_true((strstr(doc, want) != NULL) == with);
                assert_non_null(strstr(doc, "rel=\"self\""));
                assert_true((strstr(doc, "rel=\"hub\"") != NULL) == with);
            }
            free(doc);
        }
    }
}

static void
test_empty(void **state)
{
    struct ctx *c = *state;
    size_t len;
    char name[32], now[32];
    time_t t = time(NULL);
    struct tm tm;

    for (int f = EMIT_ATOM; f <= EMIT_JSON; f++) {
        char *doc = render((enum emit_format)f, NULL, 0, &len);
        snprintf(name, sizeof(name), "empty.%s", ext[f]);
        check(c, (enum emit_format)f, doc, len, name, EMIT_DIR "empty.expect.json");
        if (f == EMIT_ATOM) {
            gmtime_r(&t, &tm);
            strftime(now, sizeof(now), "<updated>%Y-%m-%dT", &tm);
            assert_non_null(strstr(doc, now));
        }
        free(doc);
    }
}

/* Same input, same bytes (the HTTP ETag is a hash of the document). */
static void
test_deterministic(void **state)
{
    (void)state;
    size_t l1, l2;
    for (int f = EMIT_ATOM; f <= EMIT_JSON; f++) {
        char *a = render((enum emit_format)f, cases, NCASES, &l1);
        char *b = render((enum emit_format)f, cases, NCASES, &l2);
        assert_int_equal(l1, l2);
        assert_memory_equal(a, b, l1);
        free(a);
        free(b);
    }
}

/* Every string is filtered: invalid UTF-8 becomes U+FFFD (one per maximal
 * ill-formed subpart), C0 controls, U+FFFE and U+FFFF are dropped. */
static void
test_filter(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } t[] = {
        {"a\x01"
         "b\x1f"
         "c\x7f",
         "abc\x7f"},
        {"tab\tlf\ncr\r", "tab\tlf\ncr\r"},
        {"\xc3(", "\xef\xbf\xbd("},
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
        {"\xf0\x9f\x98 x", "\xef\xbf\xbd x"},                     /* truncated */
        {"\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"x\xef\xbf\xbey\xef\xbf\xbfz", "xyz"},
        {"end\xe2\x82", "end\xef\xbf\xbd"},
        {"\xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd 中",
         "\xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd 中"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct store_article a = cases[1];
        size_t len;
        a.title = t[i].in;
        char *doc = render(EMIT_JSON, &a, 1, &len);
        json_t *root = json_loads(doc, 0, NULL);
        assert_non_null(root);
        const char *title = json_string_value(
            json_object_get(json_array_get(json_object_get(root, "items"), 0), "title"));
        assert_non_null(title);
        assert_string_equal(title, t[i].out);
        json_decref(root);
        free(doc);
    }
    /* In XML: no raw control characters, no "]]>", nothing unescaped. */
    for (int f = EMIT_ATOM; f <= EMIT_RSS; f++) {
        size_t len;
        char *doc = render((enum emit_format)f, cases, NCASES, &len);
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)doc[i];
            assert_true(ch >= 0x20 || ch == '\t' || ch == '\n');
        }
        assert_null(strstr(doc, "]]>"));
        assert_null(strstr(doc, "<p>"));
        assert_non_null(strstr(doc, "&lt;p&gt;"));
        assert_non_null(strstr(doc, "?a=1&amp;b=2"));
        assert_null(strstr(doc, "?a=1&b=2"));
        free(doc);
    }
}

/* Article fields that are NULL or hold bad JSON never crash a writer. */
static void
test_nulls(void **state)
{
    struct ctx *c = *state;
    struct store_article a = {.id = 9,
                              .uid = "urn:uuid:00000000-0000-0000-0000-000000000009",
                              .date = 1649040626,
                              .updated = 1649040626};
    size_t len;
    for (int f = EMIT_ATOM; f <= EMIT_JSON; f++) {
        char *doc = render((enum emit_format)f, &a, 1, &len);
        check(c, (enum emit_format)f, doc, len, "nulls", NULL);
        free(doc);
    }
    a.categories_json = "[1, null, \"ok\", [\"x\"], \"\"]";
    a.sources_json = "[\"only\"]";
    char *doc = render(EMIT_ATOM, &a, 1, &len);
    assert_non_null(strstr(doc, "<category term=\"ok\"/>"));
    assert_null(strstr(doc, "<category term=\"\"/>"));
    assert_non_null(strstr(doc, "<title>only</title>"));
    check(c, EMIT_ATOM, doc, len, "nulls", NULL);
    free(doc);

    /* Fields with nothing left once filtered count as absent; dates out of
     * range are clamped to years 0001-9999. */
    a.uid = "\x02";
    a.link = "\x01\x1f";
    a.headimg = "\x03";
    a.date = INT64_MIN;
    a.updated = INT64_MAX;
    for (int f = EMIT_ATOM; f <= EMIT_JSON; f++) {
        doc = render((enum emit_format)f, &a, 1, &len);
        assert_non_null(strstr(doc, "urn:finfeed:article:9"));
        assert_null(strstr(doc, f == EMIT_RSS ? "<enclosure" : "enclosure"));
        assert_null(strstr(doc, f == EMIT_JSON ? "\"url\""
                                               : "rel=\"alternate\" type=\"text/html\" href=\"\""));
        if (f == EMIT_RSS) {
            assert_non_null(strstr(doc, "<pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate>"));
            assert_non_null(strstr(doc, "<lastBuildDate>Fri, 31 Dec 9999 23:59:59 GMT<"));
        } else {
            assert_non_null(strstr(doc, "0001-01-01T00:00:00Z"));
            assert_non_null(strstr(doc, "9999-12-31T23:59:59Z"));
        }
        check(c, (enum emit_format)f, doc, len, "nulls", NULL);
        free(doc);
    }
}

/* The enclosure's type comes from the image path's extension. */
static void
test_image_type(void **state)
{
    (void)state;
    static const struct {
        const char *url, *type;
    } t[] = {
        {"https://x.cn/a/b.PNG?w=1", "image/png"},     {"https://x.cn/a.gif#frag", "image/gif"},
        {"https://x.cn/a.webp", "image/webp"},         {"https://x.cn/a.svg", "image/svg+xml"},
        {"https://x.cn/dir.png/img", "image/jpeg"},    {"https://x.cn", "image/jpeg"},
        {"https://x.cn/a.jpeg?x=y.png", "image/jpeg"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct store_article a = cases[1];
        char want[128];
        size_t len;
        a.headimg = t[i].url;
        char *doc = render(EMIT_RSS, &a, 1, &len);
        snprintf(want, sizeof(want), "\" type=\"%s\" length=\"0\"/>", t[i].type);
        if (strstr(doc, want) == NULL)
            fail_msg("%s: no %s in\n%s", t[i].url, want, doc);
        free(doc);
    }
}

static void
test_names(void **state)
{
    (void)state;
    assert_int_equal(emit_format_of("atom"), EMIT_ATOM);
    assert_int_equal(emit_format_of("rss"), EMIT_RSS);
    assert_int_equal(emit_format_of("json"), EMIT_JSON);
    assert_int_equal(emit_format_of("markdown"), -1);
    assert_int_equal(emit_format_of("ATOM "), -1);
    assert_int_equal(emit_format_of(NULL), -1);
    assert_string_equal(emit_content_type(EMIT_ATOM), "application/atom+xml; charset=utf-8");
    assert_string_equal(emit_content_type(EMIT_RSS), "application/rss+xml; charset=utf-8");
    assert_string_equal(emit_content_type(EMIT_JSON), "application/feed+json; charset=utf-8");
}

/* A writer is finished once; adding afterwards is refused. */
static void
test_finish_once(void **state)
{
    (void)state;
    struct emit_writer *w = NULL;
    char *doc = NULL;
    size_t len;
    assert_int_equal(emit_writer_new(EMIT_ATOM, &info, &w), 0);
    assert_int_equal(emit_writer_finish(w, &doc, &len), 0);
    assert_int_equal(emit_writer_add(w, &cases[0]), -EINVAL);
    char *again = (char *)"x";
    assert_int_equal(emit_writer_finish(w, &again, &len), -EINVAL);
    assert_null(again);
    emit_writer_free(w);
    free(doc);
    emit_writer_free(NULL);
}

/* 10,000 entries with 4 KB bodies, each format: complete, and timed (the
 * HTTP server renders on every store change). feedparser, much slower than
 * the writers, reads the first 300 of them. */
static void
test_many(void **state)
{
    struct ctx *c = *state;
    enum { N = 10000, CHECKED = 300 };
    static const char *const mark[] = {"<entry>", "<item>", "\"_finfeed\""};
    struct store_article *arts = calloc(N, sizeof(*arts));
    char(*uid)[64] = calloc(N, 64);
    char body[4096];
    size_t n = 0;

    assert_non_null(arts);
    assert_non_null(uid);
    while (n < sizeof(body) - 200)
        n += (size_t)snprintf(
            body + n, sizeof(body) - n,
            "<p>长春累计确诊20000例 &amp; <a href=\"https://e.com/?a=%zu\">x</a></p>", n);
    for (size_t i = 0; i < N; i++) {
        arts[i] = cases[0];
        snprintf(uid[i], 64, "urn:uuid:00000000-0000-0000-0000-%012zu", i);
        arts[i].uid = uid[i];
        arts[i].body = body;
        arts[i].date -= (int64_t)i * 60;
    }
    for (int f = EMIT_ATOM; f <= EMIT_JSON; f++) {
        struct timespec t0, t1;
        size_t len, count = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        char *doc = render((enum emit_format)f, arts, N, &len);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        print_message("[   INFO   ] %s: %d entries, %zu bytes in %.1f ms\n", ext[f], N, len,
                      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                          (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
        /* By hand: sanitizers' strstr runs strlen on the haystack each call. */
        for (size_t i = 0, m = strlen(mark[f]); i + m <= len; i++)
            count += doc[i] == mark[f][0] && memcmp(doc + i, mark[f], m) == 0;
        assert_int_equal(count, N);
        free(doc);
        doc = render((enum emit_format)f, arts, CHECKED, &len);
        check(c, (enum emit_format)f, doc, len, "many", NULL);
        free(doc);
    }
    free(uid);
    free(arts);
}

/* ---- Markdown posts in a directory (emit_markdown_write, SPEC §5.4) ---- */

struct post {
    char name[256];
    ino_t ino;
    struct timespec mtime;
};

/* The entries of dir (dot files too: a temporary file left over counts),
 * sorted by name; their number. */
static int
posts(const char *dir, struct post *out, int max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        assert_true(n < max);
        struct stat st;
        char *path = test_fmt("%s/%s", dir, e->d_name);
        snprintf(out[n].name, sizeof(out[n].name), "%s", e->d_name);
        assert_int_equal(stat(path, &st), 0);
        free(path);
        out[n].ino = st.st_ino;
        out[n].mtime = st.st_mtim;
        n++;
    }
    closedir(d);
    for (int i = 0; i < n; i++) /* by name */
        for (int j = i + 1; j < n; j++)
            if (strcmp(out[j].name, out[i].name) < 0) {
                struct post t = out[i];
                out[i] = out[j];
                out[j] = t;
            }
    return n;
}

static void
rm_dir(const char *dir)
{
    struct post p[16];
    int n = posts(dir, p, 16);
    for (int i = 0; i < n; i++) {
        char *path = test_fmt("%s/%s", dir, p[i].name);
        assert_int_equal(unlink(path), 0);
        free(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

static char *
post_text(const char *dir, const char *name)
{
    char *path = test_fmt("%s/%s", dir, name);
    char *s = test_slurp(path, NULL);
    assert_non_null(s);
    free(path);
    return s;
}

static int
write_post(const char *dir, const struct store_article *a)
{
    int written = -1;
    assert_int_equal(emit_markdown_write(dir, a, &written), 0);
    return written;
}

/* Bug 2 of issue 10: two articles of one day whose links end in the same
 * slug are two posts; a post keeps the name it was first written under, an
 * update replaces it atomically, and a file of another article is never
 * overwritten. */
static void
test_markdown_posts(void **state)
{
    struct ctx *c = *state;
    char dir[128];
    struct post p[16], q[16];
    struct store_article a = cases[1], b = cases[1];

    snprintf(dir, sizeof(dir), "%s/posts", c->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    a.id = 10;
    a.uid = "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    a.title = "Story A";
    a.link = "http://a.example/2024/story";
    a.date = 1717408800; /* 2024-06-03T10:00:00Z */
    b.id = 11;
    b.uid = "urn:uuid:6fa459ea-ee8a-3ca4-894e-db77e160355e";
    b.title = "Story B";
    b.link = "http://b.example/other/story";
    b.date = 1717412400; /* the same day */

    assert_int_equal(write_post(dir, &a), 1);
    assert_int_equal(write_post(dir, &b), 1);
    assert_int_equal(posts(dir, p, 16), 2);
    /* the first keeps the plain name, the second is told apart by its uid */
    assert_string_equal(p[0].name, "2024-06-03-story-6fa459ea.md");
    assert_string_equal(p[1].name, "2024-06-03-story.md");
    char *ta = post_text(dir, p[1].name), *tb = post_text(dir, p[0].name);
    assert_non_null(strstr(ta, "title: 'Story A'\n"));
    assert_non_null(strstr(tb, "title: 'Story B'\n"));
    free(tb);

    /* again: nothing written, nothing touched */
    assert_int_equal(write_post(dir, &b), 0);
    assert_int_equal(write_post(dir, &a), 0);
    assert_int_equal(posts(dir, q, 16), 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(q[i].name, p[i].name);
        assert_true(q[i].ino == p[i].ino);
        assert_memory_equal(&q[i].mtime, &p[i].mtime, sizeof(q[i].mtime));
    }

    /* an update of A replaces A's own file by a rename (a new inode), no
     * temporary file is left, B's post is untouched */
    a.title = "Story A, corrected";
    assert_int_equal(write_post(dir, &a), 1);
    assert_int_equal(posts(dir, q, 16), 2);
    assert_string_equal(q[1].name, "2024-06-03-story.md");
    assert_true(q[1].ino != p[1].ino);
    assert_true(q[0].ino == p[0].ino);
    assert_memory_equal(&q[0].mtime, &p[0].mtime, sizeof(q[0].mtime));
    char *t2 = post_text(dir, q[1].name);
    assert_non_null(strstr(t2, "title: 'Story A, corrected'\n"));
    free(t2);
    /* B updated: its own file, whichever was written first */
    b.title = "Story B, corrected";
    assert_int_equal(write_post(dir, &b), 1);
    assert_int_equal(posts(dir, p, 16), 2);
    assert_string_equal(p[0].name, "2024-06-03-story-6fa459ea.md");
    tb = post_text(dir, p[0].name);
    assert_non_null(strstr(tb, "title: 'Story B, corrected'\n"));
    free(tb);
    /* the link of A changes (a publisher moves the page): the post keeps
     * the name it was first written under */
    a.link = "http://a.example/2024/story-moved";
    a.title = "Story A, moved";
    assert_int_equal(write_post(dir, &a), 1);
    assert_int_equal(posts(dir, q, 16), 2);
    assert_string_equal(q[1].name, "2024-06-03-story.md");
    t2 = post_text(dir, q[1].name);
    assert_non_null(strstr(t2, "title: 'Story A, moved'\n"));
    free(t2);
    assert_int_equal(write_post(dir, &a), 0);
    rm_dir(dir);

    /* a file that is not this article's, under the name it would take: left
     * as it is, the article goes beside it */
    assert_int_equal(mkdir(dir, 0755), 0);
    char *path = test_fmt("%s/2024-06-03-story.md", dir);
    write_file(path, "---\ntitle: 'hand-written'\n---\n\nmine\n", 36);
    free(path);
    a = cases[1];
    a.uid = "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    a.link = "http://a.example/2024/story";
    a.date = 1717408800;
    a.title = "Story A";
    assert_int_equal(write_post(dir, &a), 1);
    assert_int_equal(write_post(dir, &a), 0);
    assert_int_equal(posts(dir, p, 16), 2);
    assert_string_equal(p[0].name, "2024-06-03-story-1b4e28ba.md");
    char *own = post_text(dir, p[1].name);
    assert_string_equal(own, "---\ntitle: 'hand-written'\n---\n\nmine\n");
    free(own);
    /* the post itself: the layout of §5.4 byte for byte, then the marker */
    char *doc = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&doc, &len);
    assert_non_null(mem);
    assert_int_equal(emit_markdown_stored(mem, &a), 0);
    assert_int_equal(fclose(mem), 0);
    char *text = post_text(dir, p[0].name);
    assert_memory_equal(text, doc, len);
    assert_string_equal(text + len,
                        "\n[//]: # (finfeed urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427)\n");
    free(text);
    rm_dir(dir);

    /* a post an older finfeed wrote (no mark, exactly this article's bytes)
     * is adopted under its name; a link planted under the name is not */
    assert_int_equal(mkdir(dir, 0755), 0);
    path = test_fmt("%s/2024-06-03-story.md", dir);
    write_file(path, doc, len);
    assert_int_equal(write_post(dir, &a), 1);
    assert_int_equal(posts(dir, p, 16), 1);
    assert_string_equal(p[0].name, "2024-06-03-story.md");
    assert_int_equal(write_post(dir, &a), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    assert_int_equal(write_post(dir, &a), 1);
    assert_int_equal(posts(dir, p, 16), 2);
    assert_string_equal(p[0].name, "2024-06-03-story-1b4e28ba.md");
    free(path);
    free(doc);
    free(ta);
    rm_dir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_atom),
        cmocka_unit_test(test_rss),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_tracking_links),
        cmocka_unit_test(test_hub_links),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_image_type),
        cmocka_unit_test(test_finish_once),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_markdown_posts),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    if (rc == 0 && checks_skipped)
        rc = getenv("FINFEED_REQUIRE_ALL") != NULL ? 1 : 77;
    return rc;
}
