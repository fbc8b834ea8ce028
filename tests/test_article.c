/* tests/test_article.c — the article model (parse/article.c, SPEC §3) and the
 * Markdown post (daemon/emit_markdown.c, SPEC §5.4): the seed post rebuilt
 * byte for byte from a feed around its article (tests/fixtures/article/seed.*),
 * every rule of the model in its order of precedence, YAML safety of the front
 * matter (read back with PyYAML when it is installed), cleaning idempotence
 * through the model, post file names, and `finfeed parse --articles`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/emit/emit.h"
#include "parse/parse.h"

#define ART FIXTURES "/article/"
#define SEED SHARED_DIR "/seeds/000_e8fc8e791bb6fafd.txt"
#define PYTHON "/usr/bin/python3"
#define QR_IMG "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"
#define MAX_ARTICLES 16

extern char **environ;

/* ---- helpers ---- */

static char *
slurp(const char *path, size_t *len)
{
    char *buf = test_slurp(path, len);
    if (buf == NULL)
        fail_msg("%s: %s", path, strerror(errno));
    return buf;
}

static char *
write_temp(const char *text)
{
    char *path = strdup("/tmp/test_article.XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

struct run {
    int status; /* exit code, or 128 + signal */
    char *out;  /* stdout */
    size_t out_len;
    char *err; /* stderr */
};

/* Run `prog` with argv (NULL-terminated) and collect its output through
 * temporary files (no pipe deadlock on big outputs). */
static void
run_prog(const char *prog, char *const *argv, struct run *r)
{
    char out_path[] = "/tmp/test_article.out.XXXXXX", err_path[] = "/tmp/test_article.err.XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    assert_true(out_fd >= 0 && err_fd >= 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, prog, &fa, NULL, argv, environ), 0);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    posix_spawn_file_actions_destroy(&fa);
    close(out_fd);
    close(err_fd);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->out = slurp(out_path, &r->out_len);
    r->err = slurp(err_path, NULL);
    unlink(out_path);
    unlink(err_path);
}

static void
run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

/* `finfeed parse MODE [-c CONF --feed NAME] FILE`, exit 0 expected. */
static char *
finfeed_parse(const char *mode, const char *conf, const char *feed, const char *file)
{
    char *argv[10];
    int i = 0;
    argv[i++] = "finfeed";
    argv[i++] = "parse";
    argv[i++] = (char *)mode;
    if (conf != NULL) {
        argv[i++] = "-c";
        argv[i++] = (char *)conf;
        argv[i++] = "--feed";
        argv[i++] = (char *)feed;
    }
    argv[i++] = (char *)file;
    argv[i] = NULL;
    struct run r;
    run_prog(FINFEED_BIN, argv, &r);
    if (r.status != 0)
        fail_msg("finfeed parse %s %s: exit %d: %s", mode, file, r.status, r.err);
    free(r.err);
    return r.out;
}

/* Articles of a document, made in-process as the daemon makes them. */
struct got {
    const struct parse_article_defaults *d;
    struct parse_article *a[MAX_ARTICLES];
    size_t n;
};

static int
on_entry(void *arg, const struct parse_feed *feed, struct parse_entry *e)
{
    struct got *g = arg;
    assert_true(g->n < MAX_ARTICLES);
    assert_int_equal(parse_article_make(feed, e, g->d, &g->a[g->n]), 0);
    assert_non_null(g->a[g->n]);
    g->n++;
    return 0;
}

static void
articles(const char *doc, const char *tz, const char *base, const struct parse_article_defaults *d,
         struct got *g)
{
    struct parse_opts opts = {.base_url = base, .timezone = tz};
    memset(g, 0, sizeof(*g));
    g->d = d;
    assert_int_equal(parse_feed_mem(doc, strlen(doc), &opts, on_entry, g, NULL, NULL), 0);
}

static void
got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        parse_article_free(g->a[i]);
    g->n = 0;
}

#define RSS_OPEN                                                                                   \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\""                           \
    " xmlns:content=\"http://purl.org/rss/1.0/modules/content/\""                                  \
    " xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel>"
#define RSS_CLOSE "</channel></rss>"
#define ATOM_OPEN                                                                                  \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
#define ATOM_CLOSE "</feed>"

/* The one article of an RSS channel (`channel`: its own elements, then items). */
static struct parse_article *
rss_one_tz(const char *channel, const char *item, const char *tz,
           const struct parse_article_defaults *d)
{
    char *doc = test_fmt(RSS_OPEN "%s<item>%s</item>" RSS_CLOSE, channel, item);
    struct got g;
    articles(doc, tz, NULL, d, &g);
    free(doc);
    assert_int_equal(g.n, 1);
    return g.a[0];
}

static struct parse_article *
rss_one(const char *item, const struct parse_article_defaults *d)
{
    return rss_one_tz("<title>Chan</title><link>https://chan.example/</link>", item, NULL, d);
}

static struct parse_article *
atom_one(const char *feed, const char *entry, const struct parse_article_defaults *d)
{
    char *doc = test_fmt(ATOM_OPEN "%s<entry>%s</entry>" ATOM_CLOSE, feed, entry);
    struct got g;
    articles(doc, NULL, NULL, d, &g);
    free(doc);
    assert_int_equal(g.n, 1);
    return g.a[0];
}

static size_t
utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Every byte sequence of s is well-formed UTF-8. */
static int
utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80             ? 1
                   : (*p & 0xE0) == 0xC0 ? 2
                   : (*p & 0xF0) == 0xE0 ? 3
                   : (*p & 0xF8) == 0xF0 ? 4
                                         : 0;
        if (n == 0)
            return 0;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        p += n;
    }
    return 1;
}

static char *
markdown(const struct parse_article *a)
{
    char *doc = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&doc, &len);
    assert_non_null(mem);
    assert_int_equal(emit_markdown(mem, a), 0);
    assert_int_equal(fclose(mem), 0);
    return doc;
}

/* The body of a post: what follows the front matter's closing "---\n\n". */
static const char *
post_body(const char *md)
{
    assert_true(strncmp(md, "---\n", 4) == 0);
    const char *end = strstr(md + 3, "\n---\n\n");
    assert_non_null(end);
    return end + 6;
}

/* ---- YAML read back ---- */

static const char yaml_script[] =
    "import sys, json, yaml\n"
    "posts = open(sys.argv[1], encoding='utf-8').read().split('\\n%%%\\n')\n"
    "out = []\n"
    "for p in posts:\n"
    "    assert p.startswith('---\\n'), 'no front matter'\n"
    "    end = p.index('\\n---\\n', 3)\n"
    "    out.append(yaml.safe_load(p[4:end + 1]))\n"
    "print(json.dumps(out, ensure_ascii=False, default=str))\n";

static int
have_pyyaml(void)
{
    static int have = -1;
    if (have < 0) {
        have = 0;
        if (access(PYTHON, X_OK) == 0) {
            struct run r;
            char *argv[] = {"python3", "-c", "import yaml", NULL};
            run_prog(PYTHON, argv, &r);
            have = r.status == 0;
            run_free(&r);
        }
        if (!have)
            print_message("python3-yaml not installed: front matter checked as bytes only\n");
    }
    return have;
}

/* The front matters of `n` posts, as PyYAML reads them: a JSON array of
 * objects (caller decrefs), or NULL without PyYAML. A post that YAML cannot
 * read fails the test. */
static json_t *
yaml_read(char *const *posts, size_t n)
{
    if (!have_pyyaml())
        return NULL;
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(posts[i]) + 5;
    char *all = calloc(1, total);
    assert_non_null(all);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(all, "%%%\n");
        strcat(all, posts[i]);
    }
    char *file = write_temp(all);
    free(all);
    char *argv[] = {"python3", "-c", (char *)yaml_script, file, NULL};
    struct run r;
    run_prog(PYTHON, argv, &r);
    unlink(file);
    free(file);
    if (r.status != 0)
        fail_msg("YAML front matter does not read back: %s", r.err);
    json_error_t err;
    json_t *arr = json_loads(r.out, 0, &err);
    if (arr == NULL)
        fail_msg("python output: %s: %s", err.text, r.out);
    run_free(&r);
    assert_int_equal(json_array_size(arr), n);
    return arr;
}

static const char *
jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("key '%s' is not a string", key);
    return json_string_value(v);
}

/* ==== 1. The seed post ==== */

/* The seed file: "\n---\n<front matter>---\n<body>". */
struct seed {
    char *text;
    const char *fm; /* "---\n…---\n" */
    size_t fm_len;
    const char *body; /* everything after the second "---" line */
};

static void
seed_load(struct seed *s)
{
    s->text = slurp(SEED, NULL);
    const char *first = strstr(s->text, "---\n");
    assert_non_null(first);
    assert_true(first == s->text + 1 && s->text[0] == '\n');
    const char *second = strstr(first + 4, "\n---\n");
    assert_non_null(second);
    s->fm = first;
    s->fm_len = (size_t)(second + 5 - first);
    s->body = second + 5;
}

/* seed.xml carries the seed's title and body verbatim, and no image but the
 * QR code of .appendQr_wrap. */
static void
test_seed_fixture_is_the_seed(void **state)
{
    (void)state;
    struct seed s;
    seed_load(&s);
    char *xml = slurp(ART "seed.xml", NULL);
    char *cdata = test_fmt("<![CDATA[%s]]>", s.body);
    assert_non_null(strstr(xml, cdata));
    assert_non_null(
        strstr(xml, "<title>疫情持续胶着：长春累计确诊20000例，社会面清零再推进</title>"));
    assert_non_null(strstr(xml, "<pubDate>2022-04-04 10:50:26</pubDate>"));
    assert_non_null(strstr(xml, "<language>zh-cn</language>"));
    assert_null(strstr(xml, "<media:"));
    assert_null(strstr(xml, "<enclosure"));
    const char *img = strstr(xml, "<img");
    assert_non_null(img);
    assert_null(strstr(img + 1, "<img"));
    const char *qr = strstr(xml, "appendQr_wrap\">");
    assert_non_null(qr);
    assert_true(qr < img && strstr(qr, "</div>") > img);
    free(cdata);
    free(xml);
    free(s.text);
}

/* The centerpiece: a feed configured like the seed's source, carrying the
 * seed's article, gives the seed's front matter byte for byte and a body that
 * keeps every paragraph while losing the comments, the style block, the QR
 * block, the editor line and the non-standard attributes. */
static void
test_seed_markdown(void **state)
{
    (void)state;
    struct seed s;
    seed_load(&s);
    char *md = finfeed_parse("--markdown", ART "seed.conf", "sina", ART "seed.xml");

    /* front matter: from the first "---" line through the second */
    if (strncmp(md, s.fm, s.fm_len) != 0)
        fail_msg("front matter differs:\n--- got\n%.*s\n--- seed\n%.*s", (int)s.fm_len, md,
                 (int)s.fm_len, s.fm);
    assert_memory_equal(md + s.fm_len, "\n<div>", 6);
    const char *body = md + s.fm_len;

    /* every paragraph of the seed, verbatim (full-width spaces included) */
    static const char open[] = "<p cms-style=\"font-L\">";
    size_t paragraphs = 0;
    for (const char *p = strstr(s.body, open); p != NULL; p = strstr(p + 1, open)) {
        const char *text = p + strlen(open), *end = strstr(text, "</p>");
        assert_non_null(end);
        char *want = test_fmt("<p>%.*s</p>", (int)(end - text), text);
        if (strstr(body, want) == NULL)
            fail_msg("paragraph lost: %s", want);
        assert_true(strncmp(text, "\xe3\x80\x80\xe3\x80\x80", 6) == 0); /* 　　 */
        free(want);
        paragraphs++;
    }
    assert_int_equal(paragraphs, 14);
    assert_non_null(strstr(body, "<p>　　据长春市卫健委通报，4月3日0-24时，"));

    /* and nothing else of the page */
    static const char *const gone[] = {
        "<!--",     "-->",       "<style",   "appendQr",       "343233024.png",
        "海量资讯", "<img",      "责任编辑", "article-editor", "cms-style",
        "clearfix", "font-size", "蒋晓桐",
    };
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
        if (strstr(body, gone[i]) != NULL)
            fail_msg("body still has \"%s\"", gone[i]);
    assert_null(strchr(body, '{'));

    /* the whole post, byte for byte */
    size_t n;
    char *expected = slurp(ART "seed.expected.md", &n);
    assert_int_equal(strlen(md), n);
    assert_string_equal(md, expected);
    /* the expectation is the seed's front matter and the fixture's body */
    assert_memory_equal(expected, s.fm, s.fm_len);

    /* PyYAML reads the front matter as the seed's */
    char *posts[] = {md};
    json_t *y = yaml_read(posts, 1);
    if (y != NULL) {
        json_t *o = json_array_get(y, 0);
        assert_string_equal(jstr(o, "title"),
                            "疫情持续胶着：长春累计确诊20000例，社会面清零再推进");
        json_t *cats = json_object_get(o, "categories");
        assert_int_equal(json_array_size(cats), 3);
        assert_string_equal(json_string_value(json_array_get(cats, 2)), "新浪财经－国內");
        assert_string_equal(jstr(o, "author"), "新浪财经");
        assert_true(json_is_false(json_object_get(o, "comments")));
        assert_string_equal(jstr(o, "date"), "Mon, 04 Apr 2022 02:50:26 GMT");
        assert_string_equal(jstr(o, "headimg"), QR_IMG);
        assert_string_equal(jstr(o, "thumbnail"), QR_IMG);
        json_decref(y);
    }
    free(expected);
    free(md);
    free(s.text);
}

/* The seed's article as a model: the removed QR block's image never becomes
 * the head image (a different configured headimg shows which rule gave it);
 * without the configuration the date still reads in Beijing time (zh-cn). */
static void
test_seed_articles(void **state)
{
    (void)state;
    char *conf = write_temp("[feed \"sina\"]\n"
                            "url = https://finance.sina.com.cn/china/rss.xml\n"
                            "headimg = https://example.com/configured.png\n"
                            "remove = .appendQr_wrap, .article-editor\n");
    char *out = finfeed_parse("--articles", conf, "sina", ART "seed.xml");
    json_error_t err;
    json_t *arr = json_loads(out, 0, &err);
    assert_non_null(arr);
    assert_int_equal(json_array_size(arr), 1);
    json_t *a = json_array_get(arr, 0);
    assert_string_equal(jstr(a, "headimg"), "https://example.com/configured.png");
    assert_string_equal(jstr(a, "thumbnail"), "https://example.com/configured.png");
    assert_string_equal(jstr(a, "date"), "2022-04-04T02:50:26Z");
    assert_string_equal(jstr(a, "author"), "新浪财经－国內"); /* the feed title: none configured */
    assert_string_equal(jstr(a, "source"), "sina");
    assert_string_equal(jstr(a, "guid"),
                        "https://finance.sina.com.cn/china/2022-04-04/doc-imcwiwst0262883.shtml");
    const char *summary = jstr(a, "summary");
    assert_int_equal(utf8_chars(summary), 200);
    assert_true(strncmp(summary, "原标题 疫情持续胶着", strlen("原标题 疫情持续胶着")) == 0);
    json_decref(arr);
    free(out);
    unlink(conf);
    free(conf);

    /* no configuration: no cleaning rules, so the QR image is the first <img>
     * of the body; the date is Beijing time because the feed is zh-cn */
    out = finfeed_parse("--articles", NULL, NULL, ART "seed.xml");
    arr = json_loads(out, 0, &err);
    assert_non_null(arr);
    a = json_array_get(arr, 0);
    assert_string_equal(jstr(a, "date"), "2022-04-04T02:50:26Z");
    assert_string_equal(jstr(a, "headimg"), QR_IMG);
    assert_non_null(strstr(jstr(a, "body"), "海量资讯"));
    assert_null(json_object_get(a, "source"));
    json_decref(arr);
    free(out);
}

/* ==== 2. The rules of SPEC §3, in their order of precedence ==== */

static void
test_title_html(void **state)
{
    (void)state;
    /* tags stripped (phrasing tags join the words, block tags part them),
     * entities decoded once */
    struct parse_article *a =
        rss_one("<title>长春&lt;b&gt;累计&lt;/b&gt;确诊 &amp;amp; &lt;a href=\"x\"&gt;Fed&lt;/a&gt;"
                "&lt;br&gt;rates &amp;lt;up&amp;gt; &amp;#8212; &amp;eacute;</title>",
                NULL);
    assert_string_equal(a->title, "长春累计确诊 & Fed rates <up> — é");
    parse_article_free(a);
    /* a '>' inside an attribute value is no end of tag */
    a = rss_one("<title>&lt;span title=\"a&gt;b\"&gt;x&lt;/span&gt;y</title>", NULL);
    assert_string_equal(a->title, "xy");
    parse_article_free(a);
    /* Atom type="html" and type="xhtml" */
    a = atom_one("<title>F</title>",
                 "<title type=\"html\">&lt;p&gt;One&lt;/p&gt;&lt;p&gt;Two &amp;amp; "
                 "three&lt;/p&gt;</title><id>x</id>",
                 NULL);
    assert_string_equal(a->title, "One Two & three");
    parse_article_free(a);
    a = atom_one("<title>F</title>",
                 "<title type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">"
                 "A <b>bold</b> move</div></title><id>x</id>",
                 NULL);
    assert_string_equal(a->title, "A bold move");
    parse_article_free(a);
}

static void
test_title_plain(void **state)
{
    (void)state;
    /* a text construct is text: markup characters stay as they are */
    struct parse_article *a = atom_one(
        "<title>F</title>", "<title type=\"text\">a &lt;b&gt; &amp;amp; c</title><id>x</id>", NULL);
    assert_string_equal(a->title, "a <b> &amp; c");
    parse_article_free(a);
}

static void
test_title_whitespace(void **state)
{
    (void)state;
    /* runs of ASCII white space, U+3000, NBSP and line breaks collapse to one
     * space; both ends trimmed */
    struct parse_article *a =
        rss_one("<title>\n\t 疫情\xe3\x80\x80\xe3\x80\x80持续\xc2\xa0\xc2\xa0胶着&#160;x"
                "\r\n  y \xe3\x80\x80</title>",
                NULL);
    assert_string_equal(a->title, "疫情 持续 胶着 x y");
    parse_article_free(a);
    /* in an HTML title, the references too */
    a = rss_one("<title>&lt;b&gt;a&lt;/b&gt;&amp;nbsp;&amp;nbsp;b&amp;#12288;&amp;#x3000;c "
                "&amp;#x2003; d</title>",
                NULL);
    assert_string_equal(a->title, "a b c d");
    parse_article_free(a);
    a = rss_one("<title>line one\nline two</title>", NULL);
    assert_string_equal(a->title, "line one line two");
    parse_article_free(a);
}

static void
test_title_from_body(void **state)
{
    (void)state;
    /* empty → the first 80 characters of the body text */
    struct parse_article *a =
        rss_one("<title></title><description>&lt;p&gt;Short &lt;b&gt;body&lt;/b&gt; "
                "text.&lt;/p&gt;</description>",
                NULL);
    assert_string_equal(a->title, "Short body text.");
    parse_article_free(a);
    /* no title element, only white space, only tags: all empty */
    static const char *const empty[] = {"", "<title>  \xe3\x80\x80 </title>",
                                        "<title>&lt;b&gt;&lt;/b&gt;</title>"};
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        /* 100 CJK characters (3 bytes each): cut at 80, on a boundary */
        char body[512] = "";
        for (int k = 0; k < 100; k++)
            strcat(body, k % 10 == 9 ? "例" : "长");
        char *item = test_fmt("%s<description>%s</description>", empty[i], body);
        a = rss_one(item, NULL);
        assert_int_equal(utf8_chars(a->title), 80);
        assert_int_equal(strlen(a->title), 240);
        assert_true(utf8_valid(a->title));
        assert_memory_equal(a->title, body, 240);
        parse_article_free(a);
        free(item);
    }
    /* the cut is at a character boundary for mixed widths, and a cut after a
     * space does not leave it */
    char body[256] = "";
    for (int k = 0; k < 79; k++)
        strcat(body, k % 2 ? "é" : "a");
    strcat(body, " 𝄞tail");
    char *item = test_fmt("<description>%s</description>", body);
    a = rss_one(item, NULL);
    assert_int_equal(utf8_chars(a->title), 79);
    assert_true(utf8_valid(a->title));
    parse_article_free(a);
    free(item);
    /* no title and no body: the link's last segment (never empty) */
    a = rss_one("<link>https://x.example/a</link>", NULL);
    assert_string_equal(a->title, "a");
    assert_string_equal(a->body, "");
    parse_article_free(a);
}

static void
test_link_absolute(void **state)
{
    (void)state;
    /* xml:base (Atom) */
    struct parse_article *a = atom_one(
        "<title>F</title>",
        "<id>x</id><link xml:base=\"https://ex.org/blog/\" rel=\"alternate\" href=\"p/1.html\"/>",
        NULL);
    assert_string_equal(a->link, "https://ex.org/blog/p/1.html");
    parse_article_free(a);
    /* the document's URL */
    char *doc = test_fmt(RSS_OPEN "<title>C</title><item><link>/news/2.html</link></item>" RSS_CLOSE);
    struct got g;
    articles(doc, NULL, "https://feeds.example/rss/all.xml", NULL, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.a[0]->link, "https://feeds.example/news/2.html");
    got_free(&g);
    free(doc);
    /* neither: the channel's link */
    a = rss_one("<link>a/3.html</link><description>&lt;img src=\"../i.jpg\"&gt;</description>",
                NULL);
    assert_string_equal(a->link, "https://chan.example/a/3.html");
    assert_string_equal(a->headimg, "https://chan.example/i.jpg"); /* and the body's URLs */
    parse_article_free(a);
    /* an absolute link as it is; a javascript: link is no link */
    a = rss_one("<link>https://x.example/y?a=1&amp;b=2</link>", NULL);
    assert_string_equal(a->link, "https://x.example/y?a=1&b=2");
    parse_article_free(a);
    a = rss_one("<title>t</title><link>javascript:alert(1)</link>", NULL);
    assert_null(a->link);
    parse_article_free(a);
    /* no link at all */
    a = rss_one("<title>t</title>", NULL);
    assert_null(a->link);
    parse_article_free(a);
}

static void
test_guid(void **state)
{
    (void)state;
    /* id first */
    struct parse_article *a =
        rss_one("<guid isPermaLink=\"false\">id-1</guid><link>https://x.example/1</link>", NULL);
    assert_string_equal(a->guid, "id-1");
    parse_article_free(a);
    a = atom_one("<title>F</title>", "<id>tag:x,2022:1</id><link href=\"https://x.example/1\"/>",
                 NULL);
    assert_string_equal(a->guid, "tag:x,2022:1");
    parse_article_free(a);
    /* else the link */
    a = rss_one("<link>https://x.example/2</link>", NULL);
    assert_string_equal(a->guid, "https://x.example/2");
    parse_article_free(a);
    /* else a hash of title and date: the same for the same item, different
     * for a different title or date */
    static const char *const items[] = {
        "<title>Same</title><pubDate>Mon, 04 Apr 2022 10:00:00 GMT</pubDate>",
        "<title>Same</title><pubDate>Mon, 04 Apr 2022 10:00:00 GMT</pubDate>",
        "<title>Other</title><pubDate>Mon, 04 Apr 2022 10:00:00 GMT</pubDate>",
        "<title>Same</title><pubDate>Mon, 04 Apr 2022 10:00:01 GMT</pubDate>",
        "<title>Same</title>",
    };
    char *guid[5];
    for (size_t i = 0; i < 5; i++) {
        a = rss_one(items[i], NULL);
        assert_true(strncmp(a->guid, "urn:finfeed:", 12) == 0);
        assert_int_equal(strlen(a->guid), 12 + 16);
        guid[i] = strdup(a->guid);
        parse_article_free(a);
    }
    assert_string_equal(guid[0], guid[1]);
    for (size_t i = 2; i < 5; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(guid[i], guid[j]);
    for (size_t i = 0; i < 5; i++)
        free(guid[i]);
}

/* The title and the date are hashed apart: "x1" at 23 is not "x" at 123. */
static void
test_guid_hash_parts(void **state)
{
    (void)state;
    struct parse_entry e1 = {.title = "x1", .published = 23, .updated = PARSE_NO_DATE};
    struct parse_entry e2 = {.title = "x", .published = 123, .updated = PARSE_NO_DATE};
    struct parse_article *a1, *a2;
    assert_int_equal(parse_article_make(NULL, &e1, NULL, &a1), 0);
    assert_int_equal(parse_article_make(NULL, &e2, NULL, &a2), 0);
    assert_string_not_equal(a1->guid, a2->guid);
    /* the updated date stands in for a missing published one */
    struct parse_entry e3 = {.title = "x", .published = PARSE_NO_DATE, .updated = 123};
    struct parse_article *a3;
    assert_int_equal(parse_article_make(NULL, &e3, NULL, &a3), 0);
    assert_string_equal(a3->guid, a2->guid);
    parse_article_free(a1);
    parse_article_free(a2);
    parse_article_free(a3);
}

static void
test_categories(void **state)
{
    (void)state;
    const char *conf[] = {"金融", "新浪财经", "新浪财经－国內"};
    struct parse_article_defaults d = {.categories = conf, .ncategories = 3};
    struct parse_article *a = rss_one("<category>Markets</category><category>新浪财经</category>"
                                      "<category> Stocks\n &amp; Bonds </category>"
                                      "<category>Markets</category><category>金融</category>"
                                      "<category>Stocks &amp; Bonds</category><category/>",
                                      &d);
    static const char *const want[] = {"金融", "新浪财经", "新浪财经－国內", "Markets",
                                       "Stocks & Bonds"};
    assert_int_equal(a->ncategories, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(a->categories[i], want[i]);
    parse_article_free(a);
    /* Atom terms; a configured list repeated in itself appears once */
    const char *twice[] = {"A", "B", "A"};
    struct parse_article_defaults d2 = {.categories = twice, .ncategories = 3};
    a = atom_one("<title>F</title>",
                 "<id>x</id><category term=\"C\"/><category term=\"B\" label=\"Bee\"/>", &d2);
    assert_int_equal(a->ncategories, 3);
    assert_string_equal(a->categories[0], "A");
    assert_string_equal(a->categories[1], "B");
    assert_string_equal(a->categories[2], "C");
    parse_article_free(a);
    /* none at all */
    a = rss_one("<title>t</title>", NULL);
    assert_int_equal(a->ncategories, 0);
    parse_article_free(a);
}

static void
test_author(void **state)
{
    (void)state;
    struct parse_article_defaults conf = {.author = "Desk"};
    struct parse_article *a;
    /* RSS e-mail form: the name part, even with an author configured */
    a = rss_one("<author>ed@example.com (Jane Roe)</author>", &conf);
    assert_string_equal(a->author, "Jane Roe");
    parse_article_free(a);
    /* dc:creator */
    a = rss_one("<dc:creator>张三</dc:creator>", &conf);
    assert_string_equal(a->author, "张三");
    parse_article_free(a);
    a = rss_one("<dc:creator>\n  Zhang\n  San\n</dc:creator>", NULL);
    assert_string_equal(a->author, "Zhang San");
    parse_article_free(a);
    /* Atom: the entry's own author before the feed's */
    a = atom_one("<title>F</title><author><name>Feed Author</name></author>",
                 "<id>x</id><author><name>Entry Author</name><email>e@x.org</email></author>",
                 &conf);
    assert_string_equal(a->author, "Entry Author");
    parse_article_free(a);
    /* Atom: the feed's author, inherited (RFC 4287 §4.2.1), before the
     * configured one */
    a = atom_one("<title>F</title><author><name>Feed Author</name><email>f@x.org</email></author>",
                 "<id>x</id>", &conf);
    assert_string_equal(a->author, "Feed Author");
    parse_article_free(a);
    /* RSS: a channel's managingEditor is not the entries' author */
    a = rss_one_tz("<title>Chan</title><managingEditor>boss@x.org (Boss)</managingEditor>",
                   "<title>t</title>", NULL, &conf);
    assert_string_equal(a->author, "Desk");
    parse_article_free(a);
    /* configured */
    a = rss_one("<title>t</title>", &conf);
    assert_string_equal(a->author, "Desk");
    parse_article_free(a);
    a = atom_one("<title>F</title>", "<id>x</id>", &conf);
    assert_string_equal(a->author, "Desk");
    parse_article_free(a);
    /* the feed's title as the last resort */
    a = rss_one("<title>t</title>", NULL);
    assert_string_equal(a->author, "Chan");
    parse_article_free(a);
    /* nothing: "" (never NULL) */
    a = rss_one_tz("", "<title>t</title>", NULL, NULL);
    assert_non_null(a->author);
    assert_string_equal(a->author, "");
    parse_article_free(a);
}

/* Double-encoded UTF-8 (issue 12 §1): each text field repaired as a unit when
 * all of it is mojibake; real Latin-1, CJK, a field mixing a mojibake word
 * with a real "é" (one unit: left alone), links and ids stay as written. */
static void
test_mojibake(void **state)
{
    (void)state;
    char *doc = slurp(ART "mojibake.xml", NULL);
    struct got g;
    articles(doc, NULL, NULL, NULL, &g);
    free(doc);
    assert_int_equal(g.n, 6);
    struct parse_article **a = g.a;
    assert_string_equal(a[0]->title, "F\u00f6rderprogramme");
    assert_string_equal(a[0]->author, "M\u00fcller");
    assert_int_equal(a[0]->ncategories, 1);
    assert_string_equal(a[0]->categories[0], "Caf\u00e9");
    assert_string_equal(a[0]->body, "<p>La junta orden\u00f3 el cierre</p><p>\u00ab Cotizaciones \u00bb</p>");
    assert_string_equal(a[0]->summary, "La junta orden\u00f3 el cierre \u00ab Cotizaciones \u00bb");
    assert_string_equal(a[0]->link, "https://news.example/a?x=\u00c3\u00a9");
    assert_string_equal(a[0]->guid, "\u00c3\u00a9-1");
    assert_string_equal(a[1]->title, "Voil\u00e0");
    assert_string_equal(a[2]->title, "\u201cquotes\u201d");
    assert_string_equal(a[3]->title, "\u592e\u884c\u00e2\u20ac\u0153\u964d\u51c6\u00e2\u20ac");
    assert_string_equal(a[3]->body, "<p>\u592e\u884c\u00e2\u20ac\u0153\u964d\u51c6\u00e2\u20ac F\u00c3\u00b6rder</p>");
    assert_string_equal(a[4]->title, "Caf\u00e9");
    assert_string_equal(a[4]->author, "M\u00fcller");
    assert_string_equal(a[4]->categories[0], "na\u00efve");
    assert_string_equal(a[4]->body, "<p>Caf\u00e9 M\u00fcller na\u00efve</p>");
    assert_string_equal(a[5]->title, "Caf\u00e9 F\u00c3\u00b6rderprogramme");
    got_free(&g);
}

static void
test_date(void **state)
{
    (void)state;
    struct parse_article_defaults d = {.now = 1700000000};
    char iso[32];
    struct parse_article *a;
    /* published before updated */
    a = atom_one("<title>F</title>",
                 "<id>x</id><updated>2022-04-05T00:00:00Z</updated>"
                 "<published>2022-04-04T10:50:26+08:00</published>",
                 &d);
    assert_string_equal(parse_date_iso(a->date, iso, sizeof(iso)), "2022-04-04T02:50:26Z");
    parse_article_free(a);
    /* updated; before dc:date */
    a = atom_one("<title>F</title>",
                 "<id>x</id><dc:date>2022-01-01T00:00:00Z</dc:date>"
                 "<updated>2022-04-05T01:02:03Z</updated>",
                 &d);
    assert_string_equal(parse_date_iso(a->date, iso, sizeof(iso)), "2022-04-05T01:02:03Z");
    parse_article_free(a);
    /* dc:date */
    a = rss_one("<dc:date>2022-04-04T10:50:26+08:00</dc:date>", &d);
    assert_string_equal(parse_date_iso(a->date, iso, sizeof(iso)), "2022-04-04T02:50:26Z");
    parse_article_free(a);
    /* RSS pubDate before dc:date */
    a = rss_one("<dc:date>2022-01-01T00:00:00Z</dc:date>"
                "<pubDate>Mon, 04 Apr 2022 02:50:26 GMT</pubDate>",
                &d);
    assert_string_equal(parse_date_iso(a->date, iso, sizeof(iso)), "2022-04-04T02:50:26Z");
    parse_article_free(a);
    /* none (or unreadable): first seen */
    a = rss_one("<title>t</title>", &d);
    assert_int_equal(a->date, 1700000000);
    parse_article_free(a);
    a = rss_one("<pubDate>not a date</pubDate>", &d);
    assert_int_equal(a->date, 1700000000);
    parse_article_free(a);
    /* a zone-less date: the feed's timezone; zh-CN, zh-TW feeds default to
     * Beijing and Taipei time, others to UTC */
    static const struct {
        const char *lang, *tz, *want;
    } zones[] = {
        {"zh-cn", NULL, "2022-04-04T02:50:26Z"},
        {"zh-CN", NULL, "2022-04-04T02:50:26Z"},
        {"zh", NULL, "2022-04-04T02:50:26Z"},
        {"zh-TW", NULL, "2022-04-04T02:50:26Z"},
        {"en-us", NULL, "2022-04-04T10:50:26Z"},
        {NULL, NULL, "2022-04-04T10:50:26Z"},
        {"zh-cn", "Asia/Tokyo", "2022-04-04T01:50:26Z"},
        {"en", "America/New_York", "2022-04-04T14:50:26Z"},
        {"zh-cn", "UTC", "2022-04-04T10:50:26Z"},
    };
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        char *chan = zones[i].lang ? test_fmt("<title>C</title><language>%s</language>", zones[i].lang)
                                   : test_fmt("<title>C</title>");
        a = rss_one_tz(chan, "<pubDate>2022-04-04 10:50:26</pubDate>", zones[i].tz, &d);
        if (strcmp(parse_date_iso(a->date, iso, sizeof(iso)), zones[i].want) != 0)
            fail_msg("language %s, zone %s: %s, not %s", zones[i].lang, zones[i].tz, iso,
                     zones[i].want);
        parse_article_free(a);
        free(chan);
    }
    /* the Chinese form, and a zone given in the date wins over the feed's */
    a = rss_one_tz("<language>zh-cn</language>", "<pubDate>2022年04月04日 10:50</pubDate>", NULL,
                   &d);
    assert_string_equal(parse_date_iso(a->date, iso, sizeof(iso)), "2022-04-04T02:50:00Z");
    parse_article_free(a);
    a = rss_one_tz("<language>zh-cn</language>",
                   "<pubDate>Mon, 04 Apr 2022 10:50:26 +0000</pubDate>", NULL, &d);
    assert_string_equal(parse_date_iso(a->date, iso, sizeof(iso)), "2022-04-04T10:50:26Z");
    parse_article_free(a);
}

/* Dates a reader cannot trust (SPEC §3): before 1995 or more than 10 minutes
 * past first seen become first seen; the publisher's value is kept apart.
 * Each fixture item's category says which it must be. */
static void
test_date_believed(void **state)
{
    (void)state;
    const int64_t seen = 1717416000; /* 2024-06-03T12:00:00Z */
    struct parse_article_defaults d = {.now = seen};
    char iso[32];
    struct got g;
    char *doc = slurp(ART "dates.xml", NULL);
    articles(doc, NULL, NULL, &d, &g);
    assert_int_equal(g.n, 8);
    for (size_t i = 0; i < g.n; i++) {
        struct parse_article *a = g.a[i];
        assert_int_equal(a->ncategories, 1);
        if (strcmp(a->categories[0], "first-seen") == 0) {
            if (a->date != seen)
                fail_msg("'%s': date %s, expected first seen", a->title,
                         parse_date_iso(a->date, iso, sizeof(iso)));
            assert_true(a->date_rejected);
        } else {
            assert_true(a->date != seen);
            assert_false(a->date_rejected);
        }
    }
    /* the publisher's value is kept as it was */
    assert_string_equal(parse_date_iso(g.a[0]->rejected_date, iso, sizeof(iso)),
                        "1970-01-01T00:00:00Z");
    assert_string_equal(parse_date_iso(g.a[6]->rejected_date, iso, sizeof(iso)),
                        "2029-06-03T12:00:00Z");
    assert_string_equal(parse_date_iso(g.a[3]->date, iso, sizeof(iso)), "1995-01-01T00:00:00Z");
    assert_string_equal(parse_date_iso(g.a[7]->date, iso, sizeof(iso)), "2024-06-03T01:30:00Z");
    got_free(&g);
    free(doc);

    /* the same rule for updated: a bad published falls back to it */
    doc = slurp(ART "dates_updated.xml", NULL);
    articles(doc, NULL, NULL, &d, &g);
    assert_int_equal(g.n, 3);
    assert_string_equal(parse_date_iso(g.a[0]->date, iso, sizeof(iso)), "2024-06-03T10:00:00Z");
    assert_string_equal(parse_date_iso(g.a[0]->rejected_date, iso, sizeof(iso)),
                        "1970-01-01T00:00:00Z");
    assert_int_equal(g.a[1]->date, seen);
    assert_string_equal(parse_date_iso(g.a[1]->rejected_date, iso, sizeof(iso)),
                        "2035-01-01T00:00:00Z");
    assert_int_equal(g.a[2]->date, seen);
    got_free(&g);
    free(doc);

    /* finfeed parse --articles shows both (first seen is now: 1970 is out) */
    char *out = finfeed_parse("--articles", NULL, NULL, ART "dates.xml");
    json_error_t err;
    json_t *arr = json_loads(out, 0, &err);
    assert_non_null(arr);
    json_t *first = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(first, "publisher_date")),
                        "1970-01-01T00:00:00Z");
    assert_true(strncmp(json_string_value(json_object_get(first, "date")), "1970", 4) != 0);
    assert_null(json_object_get(json_array_get(arr, 7), "publisher_date"));
    json_decref(arr);
    free(out);
}

/* A title never comes out empty: body text → the image's alt → the link's
 * last segment made readable → "(untitled) — FEED TITLE, DATE". */
static void
test_title_never_empty(void **state)
{
    (void)state;
    struct got g;
    char *doc = slurp(ART "image_only.xml", NULL);
    struct parse_article_defaults d = {.now = 1717416000, .source = "pics"};
    articles(doc, NULL, NULL, &d, &g);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.a[0]->title, "沪指午后翻红 成交额破万亿");
    assert_string_equal(g.a[1]->title, "tesla cuts prices again");
    /* an id without a letter is no title: the feed's title and the day */
    assert_string_equal(g.a[2]->title, "(untitled) \xe2\x80\x94 图说财经, 2024-06-03");
    assert_string_equal(g.a[3]->title, "(untitled) \xe2\x80\x94 图说财经, 2024-06-03");
    for (size_t i = 0; i < g.n; i++)
        assert_non_null(strstr(g.a[i]->body, "<img"));
    got_free(&g);
    free(doc);

    /* percent escapes and separators; a bad escape or bytes are dropped */
    static const struct {
        const char *link, *title;
    } links[] = {
        {"https://x.example/news/fed_holds%20rates+steady/", "fed holds rates steady"},
        {"https://x.example/a/%E5%A4%AE%E8%A1%8C%E9%99%8D%E5%87%86.html", "央行降准"},
        {"https://x.example/a/%FF%FEabc", "(untitled) \xe2\x80\x94 Chan, 2023-11-14"},
        {"https://x.example/", "(untitled) \xe2\x80\x94 Chan, 2023-11-14"},
        {"https://x.example/2024/06/03/", "(untitled) \xe2\x80\x94 Chan, 2023-11-14"},
    };
    struct parse_article_defaults d2 = {.now = 1700000000};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        char *item = test_fmt("<link>%s</link><description>&lt;img src=\"x.png\"&gt;</description>",
                              links[i].link);
        struct parse_article *a = rss_one(item, &d2);
        if (strcmp(a->title, links[i].title) != 0)
            fail_msg("%s: title '%s', expected '%s'", links[i].link, a->title, links[i].title);
        parse_article_free(a);
        free(item);
    }
    /* no feed title either: the feed's name; nothing at all: the day alone */
    struct parse_article_defaults d3 = {.now = 1700000000, .source = "wire"};
    char *bare = test_fmt(RSS_OPEN "<item><guid>g</guid></item>" RSS_CLOSE);
    articles(bare, NULL, NULL, &d3, &g);
    assert_string_equal(g.a[0]->title, "(untitled) \xe2\x80\x94 wire, 2023-11-14");
    got_free(&g);
    articles(bare, NULL, NULL, &d2, &g);
    assert_string_equal(g.a[0]->title, "(untitled) \xe2\x80\x94 2023-11-14");
    got_free(&g);
    free(bare);
}

/* Atom content of an XML media type is data: SEC EDGAR filings read as
 * their summary; XML alone becomes a definition list. */
static void
test_body_xml_data(void **state)
{
    (void)state;
    struct got g;
    char *doc = slurp(ART "edgar.xml", NULL);
    articles(doc, NULL, NULL, NULL, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.a[0]->body, "<b>Filed:</b> 2016-02-29 <b>AccNo:</b> "
                                      "0001564590-16-013646 <b>Size:</b> 15 MB");
    assert_string_equal(g.a[0]->summary, "Filed: 2016-02-29 AccNo: 0001564590-16-013646 Size: 15 MB");
    assert_null(strstr(g.a[0]->body, "161467834"));
    const char *b = g.a[1]->body;
    assert_non_null(strstr(b, "<dl><dt>accession-number</dt><dd>0001564590-16-011111</dd>"
                              "<dt>filing-date</dt><dd>2016-02-10</dd>"));
    assert_non_null(strstr(b, "<dt>filing-href</dt><dd><a href=\"https://www.sec.gov/Archives/"
                              "edgar/data/1/000156459016011111/0001564590-16-011111-index.htm\">"));
    assert_non_null(strstr(b, "<dt>items-desc</dt><dd>items 2.02 and 9.01</dd></dl>"));
    assert_string_equal(g.a[1]->title, "8-K - Current report");
    got_free(&g);
    free(doc);

    /* finfeed parse --json still shows the content as the feed gave it */
    char *out = finfeed_parse("--json", NULL, NULL, ART "edgar.xml");
    assert_non_null(strstr(out, "accession-number"));
    free(out);
    /* an XHTML or text/html content stays prose; text/plain stays text */
    struct parse_article *a =
        atom_one("<title>F</title>",
                 "<id>x</id><summary>short</summary><content type=\"application/xhtml+xml\">"
                 "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Long <b>prose</b> body</p></div>"
                 "</content>",
                 NULL);
    assert_non_null(strstr(a->body, "<b>prose</b>"));
    parse_article_free(a);
}

static void
test_headimg(void **state)
{
    (void)state;
    struct parse_cleaner *cl;
    struct parse_clean_opts co = {.remove = ".ad"};
    char err[128];
    assert_int_equal(parse_cleaner_new(&co, &cl, err, sizeof(err)), 0);
    struct parse_article_defaults conf = {.headimg = "https://conf.example/default.png",
                                          .cleaner = cl};
    struct parse_article_defaults none = {.cleaner = cl};
    static const char body_img[] =
        "<description>&lt;p&gt;x&lt;img src=\"https://chan.example/body.jpg\"&gt;&lt;/p&gt;"
        "</description>";
    struct parse_article *a;

    /* media:content image first of all */
    char *item = test_fmt("<media:content url=\"https://m.example/media.jpg\" medium=\"image\"/>"
                     "<enclosure url=\"https://m.example/enc.jpg\" type=\"image/jpeg\" "
                     "length=\"1\"/>%s",
                     body_img);
    a = rss_one(item, &conf);
    assert_string_equal(a->headimg, "https://m.example/media.jpg");
    parse_article_free(a);
    free(item);
    /* a video is no head image: the image enclosure */
    item =
        test_fmt("<media:content url=\"https://m.example/v.mp4\" medium=\"video\" type=\"video/mp4\"/>"
            "<enclosure url=\"https://m.example/enc.jpg\" type=\"image/jpeg\" length=\"1\"/>%s",
            body_img);
    a = rss_one(item, &conf);
    assert_string_equal(a->headimg, "https://m.example/enc.jpg");
    parse_article_free(a);
    free(item);
    /* an audio enclosure is none either: the body's first image */
    item = test_fmt("<enclosure url=\"https://m.example/a.mp3\" type=\"audio/mpeg\" length=\"1\"/>%s",
               body_img);
    a = rss_one(item, &conf);
    assert_string_equal(a->headimg, "https://chan.example/body.jpg");
    parse_article_free(a);
    free(item);
    /* the first <img> of the CLEANED body: a tracking pixel, an image in a
     * removed block, a script's image and a data: image come before it */
    a = rss_one("<link>https://chan.example/news/1.html</link><description><![CDATA["
                "<img src=\"https://t.example/pixel.gif\" width=\"1\" height=\"1\">"
                "<div class=\"ad\"><img src=\"https://ads.example/banner.jpg\"></div>"
                "<script>document.write('<img src=\"https://x.example/s.jpg\">')</script>"
                "<img src=\"data:image/png;base64,iVBORw0KGgo=\">"
                "<p><img data-src=\"img/real.jpg?w=1&amp;h=2\" src=\"lazy.gif\"></p>"
                "<img src=\"https://chan.example/second.jpg\">]]></description>",
                &conf);
    assert_string_equal(a->headimg, "https://chan.example/news/img/real.jpg?w=1&h=2");
    assert_null(strstr(a->body, "pixel.gif"));
    assert_null(strstr(a->body, "banner.jpg"));
    parse_article_free(a);
    /* the configured one */
    a = rss_one("<description>no image</description>", &conf);
    assert_string_equal(a->headimg, "https://conf.example/default.png");
    parse_article_free(a);
    /* a javascript: media image is no image */
    a = rss_one("<media:content url=\"javascript:alert(1)\" medium=\"image\"/>", &conf);
    assert_string_equal(a->headimg, "https://conf.example/default.png");
    parse_article_free(a);
    /* none */
    a = rss_one("<description>no image</description>", &none);
    assert_null(a->headimg);
    assert_null(a->thumbnail);
    parse_article_free(a);
    /* Atom: an image enclosure link */
    a = atom_one("<title>F</title>",
                 "<id>x</id><link rel=\"enclosure\" type=\"image/png\" "
                 "href=\"https://m.example/atom.png\"/>",
                 &conf);
    assert_string_equal(a->headimg, "https://m.example/atom.png");
    parse_article_free(a);
    parse_cleaner_free(cl);
}

/* media:content outranks an image enclosure wherever it stands. */
static void
test_headimg_media_before_enclosure(void **state)
{
    (void)state;
    struct parse_article *a =
        rss_one("<enclosure url=\"https://m.example/enc.jpg\" type=\"image/jpeg\" length=\"1\"/>"
                "<media:content url=\"https://m.example/media.jpg\" medium=\"image\"/>",
                NULL);
    /* media:content comes first whatever the element order (SPEC §3) */
    assert_string_equal(a->headimg, "https://m.example/media.jpg");
    parse_article_free(a);
}

static void
test_thumbnail(void **state)
{
    (void)state;
    struct parse_article_defaults conf = {.headimg = "https://conf.example/default.png"};
    struct parse_article *a;
    /* media:thumbnail */
    a = rss_one("<media:thumbnail url=\"https://m.example/t.jpg\"/>"
                "<media:content url=\"https://m.example/big.jpg\" medium=\"image\"/>",
                &conf);
    assert_string_equal(a->thumbnail, "https://m.example/t.jpg");
    assert_string_equal(a->headimg, "https://m.example/big.jpg");
    parse_article_free(a);
    /* inside a media:group */
    a = rss_one("<media:group><media:content url=\"https://m.example/g.jpg\" type=\"image/jpeg\"/>"
                "<media:thumbnail url=\"https://m.example/gt.jpg\"/></media:group>",
                &conf);
    assert_string_equal(a->thumbnail, "https://m.example/gt.jpg");
    assert_string_equal(a->headimg, "https://m.example/g.jpg");
    parse_article_free(a);
    /* else the head image, whichever rule gave it */
    a = rss_one("<description>&lt;img src=\"https://chan.example/b.jpg\"&gt;</description>", &conf);
    assert_string_equal(a->thumbnail, "https://chan.example/b.jpg");
    parse_article_free(a);
    a = rss_one("<title>t</title>", &conf);
    assert_string_equal(a->thumbnail, "https://conf.example/default.png");
    parse_article_free(a);
    /* a data: thumbnail is none */
    a = rss_one("<media:thumbnail url=\"data:image/png;base64,AAAA\"/>", &conf);
    assert_string_equal(a->thumbnail, "https://conf.example/default.png");
    parse_article_free(a);
}

static void
test_comments_source(void **state)
{
    (void)state;
    struct parse_article_defaults on = {.comments = 1, .source = "sina"};
    struct parse_article *a = rss_one("<title>t</title><comments>https://x/c</comments>", &on);
    assert_int_equal(a->comments, 1);
    assert_string_equal(a->source, "sina");
    parse_article_free(a);
    /* default false, no source */
    a = rss_one("<title>t</title><comments>https://x/c</comments>", NULL);
    assert_int_equal(a->comments, 0);
    assert_null(a->source);
    parse_article_free(a);
}

static void
test_body_richest(void **state)
{
    (void)state;
    struct parse_article *a;
    /* content:encoded richer than description */
    a = rss_one("<description>teaser</description><content:encoded>&lt;p&gt;The full "
                "story.&lt;/p&gt;</content:encoded>",
                NULL);
    assert_string_equal(a->body, "<p>The full story.</p>");
    parse_article_free(a);
    /* a description richer than a stub content:encoded */
    a = rss_one("<content:encoded>&lt;p&gt;x&lt;/p&gt;</content:encoded><description>&lt;p&gt;"
                "The whole article.&lt;/p&gt;</description>",
                NULL);
    assert_string_equal(a->body, "<p>The whole article.</p>");
    parse_article_free(a);
    /* Atom content before summary */
    a = atom_one("<title>F</title>",
                 "<id>x</id><summary>s</summary><content type=\"html\">&lt;p&gt;Content "
                 "body&lt;/p&gt;</content>",
                 NULL);
    assert_string_equal(a->body, "<p>Content body</p>");
    parse_article_free(a);
    /* cleaned: scripts, handlers and styles go */
    a = rss_one("<description><![CDATA[<p onclick=\"evil()\" style=\"color:red\">ok</p>"
                "<script>alert(1)</script><a href=\"javascript:x()\">l</a>]]></description>",
                NULL);
    assert_null(strstr(a->body, "script"));
    assert_null(strstr(a->body, "onclick"));
    assert_null(strstr(a->body, "style"));
    assert_null(strstr(a->body, "javascript:"));
    assert_non_null(strstr(a->body, "<p>ok</p>"));
    parse_article_free(a);
    /* none: "" */
    a = rss_one("<title>t</title>", NULL);
    assert_non_null(a->body);
    assert_string_equal(a->body, "");
    parse_article_free(a);
}

static void
test_body_plain_escaped(void **state)
{
    (void)state;
    /* a text body is text: escaped, never parsed as HTML */
    struct parse_article *a =
        atom_one("<title>F</title>",
                 "<id>x</id><content type=\"text\">1 &lt; 2 &amp;&amp; "
                 "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;not bold&lt;/b&gt;</content>",
                 NULL);
    assert_string_equal(a->body, "1 &lt; 2 &amp;&amp; &lt;script&gt;alert(1)&lt;/script&gt; "
                                 "&lt;b&gt;not bold&lt;/b&gt;");
    assert_string_equal(a->summary, "1 < 2 && <script>alert(1)</script> <b>not bold</b>");
    parse_article_free(a);
}

static void
test_summary(void **state)
{
    (void)state;
    /* plain text of the body, entities decoded, tags gone */
    struct parse_article *a = rss_one(
        "<description>&lt;p&gt;A &amp;amp; B&lt;/p&gt;&lt;p&gt;C&lt;b&gt;D&lt;/b&gt;&lt;/p&gt;"
        "</description>",
        NULL);
    assert_string_equal(a->summary, "A & B CD");
    parse_article_free(a);
    /* 200 characters, cut at a character boundary */
    char body[2048] = "&lt;p&gt;";
    for (int k = 0; k < 250; k++)
        strcat(body, k % 7 == 6 ? "。" : "长");
    strcat(body, "&lt;/p&gt;");
    char *item = test_fmt("<description>%s</description>", body);
    a = rss_one(item, NULL);
    assert_int_equal(utf8_chars(a->summary), 200);
    assert_int_equal(strlen(a->summary), 600);
    assert_true(utf8_valid(a->summary));
    assert_null(strchr(a->summary, '<'));
    parse_article_free(a);
    free(item);
    /* a short body whole */
    a = rss_one("<description>short</description>", NULL);
    assert_string_equal(a->summary, "short");
    parse_article_free(a);
}

/* `finfeed parse --articles` of a fixture against its expected articles
 * (compared as JSON values). */
static void
expect_articles(const char *conf, const char *feed, const char *xml, const char *expected)
{
    char *out = finfeed_parse("--articles", conf, feed, xml);
    json_error_t err;
    json_t *got = json_loads(out, 0, &err);
    if (got == NULL)
        fail_msg("not JSON: %s", err.text);
    json_t *want = json_load_file(expected, 0, &err);
    if (want == NULL)
        fail_msg("%s: %s", expected, err.text);
    assert_int_equal(json_array_size(got), json_array_size(want));
    for (size_t i = 0; i < json_array_size(want); i++) {
        if (!json_equal(json_array_get(got, i), json_array_get(want, i))) {
            char *g = json_dumps(json_array_get(got, i), JSON_INDENT(1));
            fail_msg("%s: article %zu differs:\n%s", xml, i, g);
        }
    }
    json_decref(got);
    json_decref(want);
    free(out);
}

/* Bugs found by this suite, each with the input that showed it
 * (tests/fixtures/article/fixed.*), through the command line. */
static void
test_fixed_fixture(void **state)
{
    (void)state;
    expect_articles(ART "fixed.conf", "fixed", ART "fixed.xml", ART "fixed.expected.json");
}

/* Plain-text fields that carry markup (issue 12 §1, tests/fixtures/article/
 * markup.*): author, categories, enclosure type through the text rule of
 * titles before the "Name (email)" split — a dc:creator of
 * <script>alert("x")</script> is no author (it used to come out as
 * "<script>alert"). In `parse --articles`, and in the JSON Feed the store
 * emits after `finfeed ingest`. */
static void
test_markup_fields(void **state)
{
    (void)state;
    expect_articles(ART "markup.conf", "markup", ART "markup.xml", ART "markup.expected.json");

    char dir[] = "/tmp/test_article.markup.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *conf_src = slurp(ART "markup.conf", NULL);
    char *conf_text = test_fmt("[daemon]\ndatabase = %s/store.db\n%s", dir, conf_src);
    char *conf = test_fmt("%s/markup.conf", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs(conf_text, f);
    fclose(f);
    char *ingest[] = {"finfeed", "ingest", "-c", conf, "--feed", "markup", ART "markup.xml", NULL};
    struct run r;
    run_prog(FINFEED_BIN, ingest, &r);
    assert_int_equal(r.status, 0);
    run_free(&r);
    char *export[] = {"finfeed", "export", "-c", conf, "--format", "json", NULL};
    run_prog(FINFEED_BIN, export, &r);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, "script"));
    assert_null(strstr(r.out, "alert"));
    assert_null(strstr(r.out, "<"));
    json_error_t err;
    json_t *doc = json_loads(r.out, 0, &err), *items = json_object_get(doc, "items");
    assert_int_equal(json_array_size(items), 3);
    static const char *const authors[] = {"Markup Wire", "Jane Roe", "AT&T News & Views"};
    for (size_t i = 0; i < 3; i++) {
        json_t *a = json_array_get(json_object_get(json_array_get(items, i), "authors"), 0);
        assert_string_equal(json_string_value(json_object_get(a, "name")), authors[i]);
    }
    json_t *tags = json_object_get(json_array_get(items, 0), "tags");
    assert_int_equal(json_array_size(tags), 1);
    assert_string_equal(json_string_value(json_array_get(tags, 0)), "Markets & Bonds");
    json_decref(doc);
    run_free(&r);
    static const char *const files[] = {"store.db", "store.db-wal", "store.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        char *p = test_fmt("%s/%s", dir, files[i]);
        unlink(p);
        free(p);
    }
    unlink(conf);
    rmdir(dir);
    free(conf);
    free(conf_text);
    free(conf_src);
}

/* ==== 3. YAML safety of the front matter ==== */

static struct parse_article
article_with(char *title, char *author, char **cats, size_t ncats)
{
    struct parse_article a = {
        .title = title,
        .link = "https://x.example/news/a.html",
        .guid = "g",
        .categories = cats,
        .ncategories = ncats,
        .author = author,
        .date = 1649040626,
        .comments = 0,
        .summary = "",
        .body = "<p>b</p>",
    };
    return a;
}

static void
test_yaml_titles(void **state)
{
    (void)state;
    static const struct {
        const char *title; /* as given */
        const char *line;  /* the title line written */
        const char *read;  /* what YAML reads back */
    } cases[] = {
        {"It's \"quoted\"", "title: 'It''s \"quoted\"'", "It's \"quoted\""},
        {"'", "title: ''''", "'"},
        {"- starts with a dash", "title: '- starts with a dash'", "- starts with a dash"},
        {": starts with a colon", "title: ': starts with a colon'", ": starts with a colon"},
        {"# starts with a hash", "title: '# starts with a hash'", "# starts with a hash"},
        {"key: value # comment", "title: 'key: value # comment'", "key: value # comment"},
        {"line one\nline two\r\nthree", "title: 'line one line two  three'",
         "line one line two  three"},
        {"ctl\x01\x7f\xc2\x85x", "title: 'ctl x'", "ctl x"},
        {"sep\xe2\x80\xa8x\xe2\x80\xa9y", "title: 'sep x y'", "sep x y"},
        {"bad \xff\xfe utf8", "title: 'bad \xef\xbf\xbd\xef\xbf\xbd utf8'",
         "bad \xef\xbf\xbd\xef\xbf\xbd utf8"},
        {"", "title: ''", ""},
        {"{{ page.title }} {% raw %}", "title: '{{ page.title }} {% raw %}'",
         "{{ page.title }} {% raw %}"},
        {"---", "title: '---'", "---"},
        {"yes", "title: 'yes'", "yes"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    char *posts[sizeof(cases) / sizeof(cases[0])];
    for (size_t i = 0; i < n; i++) {
        struct parse_article a = article_with((char *)cases[i].title, "", NULL, 0);
        posts[i] = markdown(&a);
        char *line = test_fmt("---\n%s\n", cases[i].line);
        if (strncmp(posts[i], line, strlen(line)) != 0)
            fail_msg("title %zu written as:\n%s", i, posts[i]);
        free(line);
    }
    json_t *y = yaml_read(posts, n);
    for (size_t i = 0; y != NULL && i < n; i++)
        assert_string_equal(jstr(json_array_get(y, i), "title"), cases[i].read);
    json_decref(y);
    for (size_t i = 0; i < n; i++)
        free(posts[i]);

    /* through the model: a title's newline is collapsed before it is written */
    struct parse_article *a = rss_one("<title>'Quoted'\n- dash: #x</title>", NULL);
    char *md = markdown(a);
    assert_true(strncmp(md, "---\ntitle: '''Quoted'' - dash: #x'\n", 35) == 0);
    free(md);
    parse_article_free(a);
}

static void
test_yaml_scalars(void **state)
{
    (void)state;
    /* author and categories are plain when YAML reads them back as the same
     * string, quoted otherwise */
    static const struct {
        const char *s, *written;
    } cases[] = {
        {"新浪财经", "新浪财经"},
        {"Wire Desk", "Wire Desk"},
        {"C#", "C#"},
        {"it's", "it's"},
        {"a:b", "a:b"},
        {"yes", "'yes'"},
        {"No", "'No'"},
        {"TRUE", "'TRUE'"},
        {"off", "'off'"},
        {"y", "'y'"},
        {"null", "'null'"},
        {"~", "'~'"},
        {"- x", "'- x'"},
        {"-x", "'-x'"},
        {"a: b", "'a: b'"},
        {"a #b", "'a #b'"},
        {"ends:", "'ends:'"},
        {"123", "'123'"},
        {"1.5", "'1.5'"},
        {".inf", "'.inf'"},
        {"+1", "'+1'"},
        {"0x1F", "'0x1F'"},
        {"2022-04-04", "'2022-04-04'"},
        {"#tag", "'#tag'"},
        {" leading", "' leading'"},
        {"trailing ", "'trailing '"},
        {"[x]", "'[x]'"},
        {"{x}", "'{x}'"},
        {"&anchor", "'&anchor'"},
        {"*alias", "'*alias'"},
        {"!tag", "'!tag'"},
        {"|", "'|'"},
        {">", "'>'"},
        {"%x", "'%x'"},
        {"@x", "'@x'"},
        {"`x", "'`x'"},
        {"\"x\"", "'\"x\"'"},
        {"'x'", "'''x'''"},
        {"=", "'='"},
        {"<<", "'<<'"},
        {"?x", "'?x'"},
        {",x", "',x'"},
        {"tab\there", "'tab here'"},
        {"nl\nhere", "'nl here'"},
        {"ctl\x01", "'ctl'"},
        {"ls\xe2\x80\xa8x", "'ls x'"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    char *posts[2 * sizeof(cases) / sizeof(cases[0])];
    for (size_t i = 0; i < n; i++) {
        /* as the author */
        struct parse_article a = article_with("t", (char *)cases[i].s, NULL, 0);
        posts[2 * i] = markdown(&a);
        char *line = test_fmt("\nauthor: %s\n", cases[i].written);
        if (strstr(posts[2 * i], line) == NULL)
            fail_msg("author \"%s\" not written as %s:\n%s", cases[i].s, cases[i].written,
                     posts[2 * i]);
        free(line);
        /* as a category, after one that is plain */
        char *cats[] = {"金融", (char *)cases[i].s};
        a = article_with("t", "", cats, 2);
        posts[2 * i + 1] = markdown(&a);
        line = test_fmt("\ncategories: \n - 金融\n - %s\n", cases[i].written);
        if (strstr(posts[2 * i + 1], line) == NULL)
            fail_msg("category \"%s\" not written as %s:\n%s", cases[i].s, cases[i].written,
                     posts[2 * i + 1]);
        free(line);
    }
    json_t *y = yaml_read(posts, 2 * n);
    for (size_t i = 0; y != NULL && i < n; i++) {
        /* what YAML reads: the string (white space and control characters as
         * written) */
        const char *w = cases[i].written;
        char *want = *w == '\'' ? strndup(w + 1, strlen(w) - 2) : strdup(w);
        for (char *q; (q = strstr(want, "''")) != NULL;)
            memmove(q, q + 1, strlen(q));
        json_t *o = json_array_get(y, 2 * i);
        json_t *au = json_object_get(o, "author");
        if (!json_is_string(au) || strcmp(json_string_value(au), want) != 0)
            fail_msg("author \"%s\" reads back as %s", cases[i].s,
                     json_is_string(au) ? json_string_value(au) : "a non-string");
        json_t *cats = json_object_get(json_array_get(y, 2 * i + 1), "categories");
        assert_int_equal(json_array_size(cats), 2);
        json_t *c = json_array_get(cats, 1);
        if (!json_is_string(c) || strcmp(json_string_value(c), want) != 0)
            fail_msg("category \"%s\" reads back as a non-string or changed", cases[i].s);
        free(want);
    }
    json_decref(y);
    for (size_t i = 0; i < 2 * n; i++)
        free(posts[i]);
}

static void
test_yaml_braces(void **state)
{
    (void)state;
    /* Hexo's template syntax in the body: every brace as a reference */
    struct parse_article *a =
        rss_one("<title>{{ t }}</title><description>&lt;p&gt;{{ site.title }} {% raw %}x{% endraw "
                "%} {#c#} }}{{&lt;/p&gt;&lt;a href=\"https://x.example/{id}\"&gt;l&lt;/a&gt;"
                "</description>",
                NULL);
    char *md = markdown(a);
    const char *body = post_body(md);
    assert_null(strchr(body, '{'));
    assert_null(strchr(body, '}'));
    assert_non_null(strstr(body,
                           "&#123;&#123; site.title &#125;&#125; &#123;% raw %&#125;x"
                           "&#123;% endraw %&#125; &#123;#c#&#125; &#125;&#125;&#123;&#123;"));
    /* the front matter is YAML, where a quoted brace is a brace */
    assert_non_null(strstr(md, "\ntitle: '{{ t }}'\n"));
    parse_article_free(a);
    free(md);
}

static void
test_yaml_optional_keys(void **state)
{
    (void)state;
    /* every key, in the seed's order */
    char *cats[] = {"金融", "Markets"};
    struct parse_article a = article_with("T", "新浪财经", cats, 2);
    a.headimg = "https://img.example/h.png";
    a.thumbnail = "https://img.example/t'.png";
    a.comments = 1;
    a.body = "<p>x</p>";
    char *md = markdown(&a);
    assert_string_equal(md, "---\n"
                            "title: 'T'\n"
                            "categories: \n"
                            " - 金融\n"
                            " - Markets\n"
                            "headimg: 'https://img.example/h.png'\n"
                            "author: 新浪财经\n"
                            "comments: true\n"
                            "date: Mon, 04 Apr 2022 02:50:26 GMT\n"
                            "thumbnail: 'https://img.example/t''.png'\n"
                            "---\n"
                            "\n"
                            "<p>x</p>\n");
    free(md);
    /* empty or absent: left out, categories included */
    a = article_with("T", "", NULL, 0);
    a.headimg = "";
    a.thumbnail = NULL;
    md = markdown(&a);
    assert_string_equal(md, "---\n"
                            "title: 'T'\n"
                            "comments: false\n"
                            "date: Mon, 04 Apr 2022 02:50:26 GMT\n"
                            "---\n"
                            "\n"
                            "<p>b</p>\n");
    char *posts[] = {md};
    json_t *y = yaml_read(posts, 1);
    if (y != NULL) {
        json_t *o = json_array_get(y, 0);
        assert_int_equal(json_object_size(o), 3);
        assert_null(json_object_get(o, "categories"));
        assert_null(json_object_get(o, "author"));
        assert_null(json_object_get(o, "headimg"));
        assert_null(json_object_get(o, "thumbnail"));
        json_decref(y);
    }
    free(md);
    a.author = NULL; /* a stored article may have none */
    md = markdown(&a);
    assert_null(strstr(md, "author"));
    free(md);
}

/* Every post of a whole feed reads back, and a post's date is RFC 1123. */
static void
test_yaml_feed(void **state)
{
    (void)state;
    char *out = finfeed_parse("--markdown", ART "full.conf", "wire", ART "full.xml");
    char *posts[8];
    size_t n = 0;
    for (char *p = out, *sep; p != NULL && n < 8; p = sep) {
        sep = strstr(p, "\n%%%\n");
        if (sep != NULL) {
            sep[1] = '\0';
            sep += 5;
        }
        posts[n++] = p;
    }
    assert_int_equal(n, 3);
    assert_non_null(strstr(posts[0], "\ndate: Mon, 04 Apr 2022 02:50:26 GMT\n"));
    assert_non_null(strstr(posts[1], "\ndate: Mon, 04 Apr 2022 16:00:00 GMT\n"));
    assert_non_null(strstr(posts[2], "\ndate: Tue, 05 Apr 2022 00:00:00 GMT\n"));
    json_t *y = yaml_read(posts, n);
    if (y != NULL) {
        assert_string_equal(jstr(json_array_get(y, 0), "title"), "Stocks rally as \"Fed\" holds");
        assert_true(json_is_true(json_object_get(json_array_get(y, 1), "comments")));
        assert_string_equal(jstr(json_array_get(y, 2), "title"),
                            "(untitled) \xe2\x80\x94 Wire & Co, 2022-04-05");
        json_decref(y);
    }
    free(out);
}

/* ==== 4. Cleaning through the model is idempotent ==== */

static void
test_clean_idempotent(void **state)
{
    (void)state;
    struct parse_cleaner *cl;
    struct parse_clean_opts co = {.remove = ".appendQr_wrap, .article-editor, .ad",
                                  .remove_text = "^责任编辑"};
    char err[128];
    assert_int_equal(parse_cleaner_new(&co, &cl, err, sizeof(err)), 0);
    struct parse_article_defaults d = {.cleaner = cl};
    static const char *const docs[] = {ART "seed.xml", ART "full.xml", ART "fixed.xml"};
    size_t checked = 0;
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        char *doc = slurp(docs[i], NULL);
        struct got g;
        articles(doc, NULL, NULL, &d, &g);
        for (size_t k = 0; k < g.n; k++, checked++) {
            struct parse_article *a = g.a[k];
            char *again = NULL;
            assert_int_equal(parse_clean(cl, a->body, strlen(a->body), a->link, &again), 0);
            if (strcmp(again, a->body) != 0)
                fail_msg("%s, article %zu: cleaning again changed the body:\n%s\n---\n%s", docs[i],
                         k, a->body, again);
            free(again);
        }
        got_free(&g);
        free(doc);
    }
    assert_true(checked >= 11);
    /* and bodies made to be hard */
    static const char *const bodies[] = {
        "<p>a<p>b<div>c</p></div>",
        "<table><tr><td>1<td>2</table><ul><li>x<li>y</ul>",
        "<img src=x onerror=alert(1)><svg><script>x</script></svg><math></math>",
        "<a href=\"/rel?a=1&b=2\">l</a><img data-original=\"lazy.jpg\" srcset=\"a.jpg 1x, b.jpg "
        "2x\">",
        "&lt;script&gt; &amp;amp; &#x3000;&#12288; &nbsp; &copy; &unknown; & <",
        "<div class=\"ad\"><p>gone</p></div><p>责任编辑：某某</p><p>kept</p>",
        "<!-- c --><style>p{}</style><![CDATA[x]]><p>\xe3\x80\x80\xe3\x80\x80text</p>",
        "<iframe src=\"https://www.youtube.com/embed/x\"></iframe><b><i>nested</b></i>",
        "<pre>  keep\n  spaces</pre><p></p><span> </span>",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct parse_entry e = {.content = (char *)bodies[i],
                                .content_html = 1,
                                .link = "https://x.example/news/1.html",
                                .published = 0,
                                .updated = PARSE_NO_DATE};
        struct parse_article *a;
        assert_int_equal(parse_article_make(NULL, &e, &d, &a), 0);
        char *again = NULL;
        assert_int_equal(parse_clean(cl, a->body, strlen(a->body), a->link, &again), 0);
        if (strcmp(again, a->body) != 0)
            fail_msg("body %zu: cleaning again changed it:\n%s\n---\n%s", i, a->body, again);
        free(again);
        parse_article_free(a);
    }
    parse_cleaner_free(cl);
}

/* ==== 5. Post file names ==== */

static void
assert_safe_name(const char *name)
{
    regex_t re;
    assert_int_equal(
        regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z0-9]+(-[a-z0-9]+)*\\.md$", REG_EXTENDED), 0);
    int ok = regexec(&re, name, 0, NULL, 0) == 0;
    regfree(&re);
    if (!ok || strchr(name, '/') != NULL || strstr(name, "..") != NULL || strlen(name) > 100)
        fail_msg("unsafe post name: \"%s\"", name);
}

static struct parse_article
named(char *link, char *guid, int64_t date)
{
    struct parse_article a = {.title = "t",
                              .link = link,
                              .guid = guid,
                              .date = date,
                              .author = "",
                              .body = "",
                              .summary = ""};
    return a;
}

static void
test_name_seed(void **state)
{
    (void)state;
    char *doc = slurp(ART "seed.xml", NULL);
    char n1[256], n2[256];
    struct got g;
    articles(doc, NULL, NULL, NULL, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(emit_markdown_name(g.a[0], n1, sizeof(n1)),
                        "2022-04-04-doc-imcwiwst0262883.md");
    got_free(&g);
    /* stable: the same article parsed again, with another configuration */
    struct parse_article_defaults d = {.author = "x", .now = 1700000000};
    articles(doc, "Asia/Shanghai", NULL, &d, &g);
    assert_string_equal(emit_markdown_name(g.a[0], n2, sizeof(n2)), n1);
    got_free(&g);
    free(doc);
    /* the date is the article's (UTC) day */
    struct parse_article a = named("https://x.example/news/fed-holds-rates.html", "g", 1649030399);
    assert_string_equal(emit_markdown_name(&a, n1, sizeof(n1)), "2022-04-03-fed-holds-rates.md");
    /* a directory index: the directory names the article */
    a = named("https://x.example/2022/04/fed-holds/index.html", "g", 1649040626);
    assert_string_equal(emit_markdown_name(&a, n1, sizeof(n1)), "2022-04-04-fed-holds.md");
    a = named("https://x.example/2022/04/fed-holds/", "g", 1649040626);
    assert_string_equal(emit_markdown_name(&a, n1, sizeof(n1)), "2022-04-04-fed-holds.md");
}

static void
test_name_fallback_and_query(void **state)
{
    (void)state;
    char n1[256], n2[256], n3[256];
    /* no link, or one whose last segment gives no slug: a hash of the guid,
     * stable, different for different guids */
    struct parse_article a = named(NULL, "urn:finfeed:0123456789abcdef", 1649040626);
    emit_markdown_name(&a, n1, sizeof(n1));
    emit_markdown_name(&a, n2, sizeof(n2));
    assert_string_equal(n1, n2);
    assert_int_equal(strlen(n1), strlen("2022-04-04-") + 16 + 3);
    assert_safe_name(n1);
    a.guid = "urn:finfeed:0123456789abcdee";
    emit_markdown_name(&a, n3, sizeof(n3));
    assert_string_not_equal(n1, n3);
    a = named("https://x.example/", "urn:finfeed:0123456789abcdef", 1649040626);
    assert_string_equal(emit_markdown_name(&a, n2, sizeof(n2)), n1);
    a = named("https://x.example/a/1.html", "urn:finfeed:0123456789abcdef", 1649040626);
    assert_string_equal(emit_markdown_name(&a, n2, sizeof(n2)), n1);
    /* the segment of a query link names a script: two articles of one day
     * must not share a file */
    a = named("https://x.example/news/detail.php?id=1", "g1", 1649040626);
    emit_markdown_name(&a, n1, sizeof(n1));
    a = named("https://x.example/news/detail.php?id=2", "g2", 1649040626);
    emit_markdown_name(&a, n2, sizeof(n2));
    assert_string_not_equal(n1, n2);
    assert_true(strncmp(n1, "2022-04-04-detail-", 18) == 0);
    assert_safe_name(n1);
    assert_safe_name(n2);
    /* a fragment is not a query */
    a = named("https://x.example/news/fed-holds#comments", "g", 1649040626);
    assert_string_equal(emit_markdown_name(&a, n1, sizeof(n1)), "2022-04-04-fed-holds.md");
}

static void
test_name_hostile(void **state)
{
    (void)state;
    static const char *const links[] = {
        "http://x/../../etc/passwd",
        "http://x/%2e%2e/",
        "http://x/%2e%2e",
        "http://x/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "http://x/..",
        "http://x/...",
        "http://x/a/..%2f..%2f",
        "http://x/..\\..\\windows\\system32",
        "http://x/.hidden",
        "http://x/a/.../b/..../",
        "../../etc/passwd",
        "/etc/passwd",
        "file:///etc/passwd",
        "javascript:alert(1)//x/../y",
        "http:///",
        "http://x/%00%0a",
        "http://x/\xe4\xb8\xad\xe6\x96\x87\xe6\xa0\x87\xe9\xa2\x98",
        "http://x/"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.html",
        "http://x/a?b=../../c",
        "http://x/index.html",
        "http://x/../index.html",
        "",
    };
    static const int64_t dates[] = {1649040626,     0,         -1,       -62135596800LL,
                                    253402300799LL, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        for (size_t k = 0; k < sizeof(dates) / sizeof(dates[0]); k++) {
            char name[256], again[256];
            struct parse_article a = named((char *)links[i], (char *)links[i], dates[k]);
            emit_markdown_name(&a, name, sizeof(name));
            if (k < 5) /* dates a file name can carry */
                assert_safe_name(name);
            else if (strchr(name, '/') != NULL || strstr(name, "..") != NULL)
                fail_msg("unsafe post name: \"%s\"", name);
            assert_string_equal(emit_markdown_name(&a, again, sizeof(again)), name);
        }
    }
    /* a guid that is a hostile path: hashed, never copied */
    char name[256];
    struct parse_article a = named(NULL, "../../etc/passwd", 1649040626);
    assert_safe_name(emit_markdown_name(&a, name, sizeof(name)));
}

/* ==== 6. `finfeed parse --articles` ==== */

static void
test_articles_json(void **state)
{
    (void)state;
    char *out = finfeed_parse("--articles", ART "full.conf", "wire", ART "full.xml");
    json_error_t err;
    json_t *arr = json_loads(out, 0, &err);
    if (!json_is_array(arr))
        fail_msg("not a JSON array: %s\n%s", err.text, out);
    assert_int_equal(json_array_size(arr), 3);

    /* every field of the model, from the entry */
    json_t *a = json_array_get(arr, 0);
    static const char *const keys[] = {"title",    "link",    "guid",    "categories",
                                       "author",   "date",    "headimg", "thumbnail",
                                       "comments", "summary", "body",    "source"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (json_object_get(a, keys[i]) == NULL)
            fail_msg("no \"%s\" in %s", keys[i], out);
    assert_int_equal(json_object_size(a), 12);
    assert_string_equal(jstr(a, "title"), "Stocks rally as \"Fed\" holds");
    assert_string_equal(jstr(a, "link"),
                        "https://wire.example/markets/stocks-rally-fed-holds.html?utm_source=rss");
    assert_string_equal(jstr(a, "guid"), "wire-2022-0001");
    json_t *cats = json_object_get(a, "categories");
    assert_int_equal(json_array_size(cats), 3);
    assert_string_equal(json_string_value(json_array_get(cats, 0)), "Finance");
    assert_string_equal(json_string_value(json_array_get(cats, 1)), "Markets");
    assert_string_equal(json_string_value(json_array_get(cats, 2)), "Stocks");
    assert_string_equal(jstr(a, "author"), "Ann Lee");
    assert_string_equal(jstr(a, "date"), "2022-04-04T02:50:26Z");
    assert_string_equal(jstr(a, "headimg"), "https://img.wire.example/rally.jpg");
    assert_string_equal(jstr(a, "thumbnail"), "https://img.wire.example/rally-small.jpg");
    assert_true(json_is_true(json_object_get(a, "comments")));
    assert_string_equal(jstr(a, "summary"), "Shares rose on Monday.");
    assert_string_equal(jstr(a, "body"),
                        "<div><p>Shares <b>rose</b> on Monday.</p><p><img "
                        "src=\"https://wire.example/charts/spx.png\" alt=\"chart\" "
                        "referrerpolicy=\"no-referrer\"></p></div>");
    assert_string_equal(jstr(a, "source"), "wire");

    /* the configured defaults */
    a = json_array_get(arr, 1);
    assert_int_equal(json_object_size(a), 12);
    assert_string_equal(jstr(a, "guid"), "https://wire.example/markets/defaults");
    assert_int_equal(json_array_size(json_object_get(a, "categories")), 2);
    assert_string_equal(jstr(a, "author"), "Wire Desk");
    assert_string_equal(jstr(a, "date"), "2022-04-04T16:00:00Z"); /* America/New_York */
    assert_string_equal(jstr(a, "headimg"), "https://wire.example/logo.png");
    assert_string_equal(jstr(a, "thumbnail"), "https://wire.example/logo.png");
    assert_string_equal(jstr(a, "body"), "Nothing but text: 1 &lt; 2 &amp;&amp; 3 &gt; 2.");
    assert_string_equal(jstr(a, "summary"), "Nothing but text: 1 < 2 && 3 > 2.");

    /* nothing in the entry: no link; the rest still there */
    a = json_array_get(arr, 2);
    assert_null(json_object_get(a, "link"));
    assert_string_equal(jstr(a, "title"), "(untitled) \xe2\x80\x94 Wire & Co, 2022-04-05");
    assert_true(strncmp(jstr(a, "guid"), "urn:finfeed:", 12) == 0);
    assert_string_equal(jstr(a, "body"), "");
    assert_string_equal(jstr(a, "summary"), "");
    assert_string_equal(jstr(a, "date"), "2022-04-05T00:00:00Z");
    json_decref(arr);
    free(out);

    /* without a configuration: no source, comments false, feed title as author */
    out = finfeed_parse("--articles", NULL, NULL, ART "full.xml");
    arr = json_loads(out, 0, &err);
    assert_non_null(arr);
    a = json_array_get(arr, 1);
    assert_null(json_object_get(a, "source"));
    assert_true(json_is_false(json_object_get(a, "comments")));
    assert_string_equal(jstr(a, "author"), "Wire & Co");
    assert_int_equal(json_array_size(json_object_get(a, "categories")), 0);
    assert_null(json_object_get(a, "headimg"));
    assert_string_equal(jstr(a, "date"), "2022-04-04T12:00:00Z"); /* en-us: UTC */
    json_decref(arr);
    free(out);
}

static void
test_articles_json_empty(void **state)
{
    (void)state;
    char *file = write_temp("<rss version=\"2.0\"><channel><title>x</title></channel></rss>");
    char *out = finfeed_parse("--articles", NULL, NULL, file);
    json_error_t err;
    json_t *arr = json_loads(out, 0, &err);
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 0);
    json_decref(arr);
    free(out);
    out = finfeed_parse("--markdown", NULL, NULL, file);
    assert_string_equal(out, "");
    free(out);
    unlink(file);
    free(file);
}

/* ---- instruments (SPEC §12) ---- */

/* A stand-in for the extractor: every "$WORD" of the title and the body
 * text is "US:WORD", in order, each once; what it was given is kept. */
struct finder {
    char title[256], body[256];
    int calls;
};

static int
fake_find(const void *arg, const char *title, const char *body_text, char ***out, size_t *n)
{
    struct finder *f = (struct finder *)arg;
    f->calls++;
    snprintf(f->title, sizeof(f->title), "%s", title);
    snprintf(f->body, sizeof(f->body), "%s", body_text);
    *out = NULL;
    *n = 0;
    for (int part = 0; part < 2; part++)
        for (const char *p = part ? body_text : title; (p = strchr(p, '$')) != NULL;) {
            size_t len = strspn(++p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
            char *t = test_fmt("US:%.*s", (int)len, p);
            int dup = 0;
            for (size_t i = 0; i < *n; i++)
                dup |= strcmp((*out)[i], t) == 0;
            if (len == 0 || dup) {
                free(t);
                continue;
            }
            *out = realloc(*out, (*n + 1) * sizeof(char *));
            assert_non_null(*out);
            (*out)[(*n)++] = t;
        }
    return 0;
}

static void
test_tickers(void **state)
{
    (void)state;
    struct finder f = {0};
    const char *add[] = {"SSE:600519", "US:AAPL"};
    struct parse_article_defaults d = {.find_tickers = fake_find, .find_tickers_arg = &f};
    const char *item = "<title>$NVDA &amp; $AAPL</title>"
                       "<description>&lt;p&gt;Up: &lt;b&gt;$TSM&lt;/b&gt;, $NVDA.&lt;/p&gt;"
                       "</description>";

    /* the finder reads the title and the body's plain text */
    struct parse_article *a = rss_one(item, &d);
    assert_int_equal(f.calls, 1);
    assert_string_equal(f.title, "$NVDA & $AAPL");
    assert_string_equal(f.body, "Up: $TSM, $NVDA.");
    assert_int_equal(a->ntickers, 3);
    assert_string_equal(a->tickers[0], "US:NVDA");
    assert_string_equal(a->tickers[1], "US:AAPL");
    assert_string_equal(a->tickers[2], "US:TSM");
    parse_article_free(a);

    /* tickers_add first, in order; each ticker once */
    d.tickers_add = add;
    d.ntickers_add = 2;
    a = rss_one(item, &d);
    assert_int_equal(a->ntickers, 4);
    assert_string_equal(a->tickers[0], "SSE:600519");
    assert_string_equal(a->tickers[1], "US:AAPL");
    assert_string_equal(a->tickers[2], "US:NVDA");
    assert_string_equal(a->tickers[3], "US:TSM");
    parse_article_free(a);

    /* tickers = no: nothing from the text, tickers_add still */
    d.no_tickers = 1;
    f.calls = 0;
    a = rss_one(item, &d);
    assert_int_equal(f.calls, 0);
    assert_int_equal(a->ntickers, 2);
    parse_article_free(a);

    /* no finder, no tickers_add: none */
    a = rss_one(item, NULL);
    assert_int_equal(a->ntickers, 0);
    assert_null(a->tickers);
    char *md = markdown(a);
    assert_null(strstr(md, "tickers"));
    free(md);
    parse_article_free(a);
}

/* The front matter lists the tickers after the categories, laid out as
 * they are; PyYAML reads them back as strings. */
static void
test_tickers_markdown(void **state)
{
    (void)state;
    const char *add[] = {"NASDAQ:AAPL", "HKEX:0700"};
    const char *cats[] = {"Markets"};
    struct parse_article_defaults d = {
        .tickers_add = add, .ntickers_add = 2, .categories = cats, .ncategories = 1};
    struct parse_article *a = rss_one("<title>Apple and Tencent</title>"
                                      "<pubDate>Mon, 04 Apr 2022 02:50:26 GMT</pubDate>",
                                      &d);
    char *md = markdown(a);
    assert_string_equal(md, "---\n"
                            "title: 'Apple and Tencent'\n"
                            "categories: \n"
                            " - Markets\n"
                            "tickers: \n"
                            " - NASDAQ:AAPL\n"
                            " - HKEX:0700\n"
                            "author: Chan\n"
                            "comments: false\n"
                            "date: Mon, 04 Apr 2022 02:50:26 GMT\n"
                            "---\n\n\n");
    char *posts[] = {md};
    json_t *y = yaml_read(posts, 1);
    if (y != NULL) {
        json_t *t = json_object_get(json_array_get(y, 0), "tickers");
        assert_int_equal(json_array_size(t), 2);
        assert_string_equal(json_string_value(json_array_get(t, 0)), "NASDAQ:AAPL");
        assert_string_equal(json_string_value(json_array_get(t, 1)), "HKEX:0700");
        json_decref(y);
    }
    free(md);
    parse_article_free(a);
}

static void
test_ticker_syntax(void **state)
{
    (void)state;
    char out[PARSE_TICKER_LEN];
    const char *why = NULL;
    assert_int_equal(parse_ticker_syntax("NASDAQ:AAPL", out, sizeof(out), &why), 0);
    assert_string_equal(out, "NASDAQ:AAPL");
    assert_int_equal(parse_ticker_syntax(" nyse : brk.b ", out, sizeof(out), &why), 0);
    assert_string_equal(out, "NYSE:BRK.B");
    assert_int_equal(parse_ticker_syntax("hkex:0700", out, sizeof(out), NULL), 0);
    assert_string_equal(out, "HKEX:0700");
    assert_int_equal(parse_ticker_syntax("SSE:600519", out, sizeof(out), NULL), 0);
    static const char *const bad[] = {
        "AAPL",
        ":AAPL",
        "NASDAQ:",
        "9X:AAPL",
        "NAS DAQ:AAPL",
        "NASDAQ:AA PL",
        "NASDAQ:.A",
        "NASDAQ:AAPL:X",
        "ABCDEFGHIJKLMNOP:A",
        "A:ABCDEFGHIJKLMNOP",
        "NASDAQ:A$",
        "",
        "纳斯达克:AAPL",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (parse_ticker_syntax(bad[i], out, sizeof(out), &why) != -EINVAL)
            fail_msg("'%s' was taken", bad[i]);
        assert_non_null(why);
    }
    assert_int_equal(parse_ticker_syntax("NASDAQ:AAPL", out, 8, &why), -EINVAL);
    assert_int_equal(parse_ticker_syntax(NULL, out, sizeof(out), &why), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_fixture_is_the_seed),
        cmocka_unit_test(test_seed_markdown),
        cmocka_unit_test(test_seed_articles),
        cmocka_unit_test(test_tickers),
        cmocka_unit_test(test_tickers_markdown),
        cmocka_unit_test(test_ticker_syntax),
        cmocka_unit_test(test_title_html),
        cmocka_unit_test(test_title_plain),
        cmocka_unit_test(test_title_whitespace),
        cmocka_unit_test(test_title_from_body),
        cmocka_unit_test(test_link_absolute),
        cmocka_unit_test(test_guid),
        cmocka_unit_test(test_guid_hash_parts),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_author),
        cmocka_unit_test(test_mojibake),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_date_believed),
        cmocka_unit_test(test_title_never_empty),
        cmocka_unit_test(test_body_xml_data),
        cmocka_unit_test(test_headimg),
        cmocka_unit_test(test_headimg_media_before_enclosure),
        cmocka_unit_test(test_thumbnail),
        cmocka_unit_test(test_comments_source),
        cmocka_unit_test(test_body_richest),
        cmocka_unit_test(test_body_plain_escaped),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_fixed_fixture),
        cmocka_unit_test(test_markup_fields),
        cmocka_unit_test(test_yaml_titles),
        cmocka_unit_test(test_yaml_scalars),
        cmocka_unit_test(test_yaml_braces),
        cmocka_unit_test(test_yaml_optional_keys),
        cmocka_unit_test(test_yaml_feed),
        cmocka_unit_test(test_clean_idempotent),
        cmocka_unit_test(test_name_seed),
        cmocka_unit_test(test_name_fallback_and_query),
        cmocka_unit_test(test_name_hostile),
        cmocka_unit_test(test_articles_json),
        cmocka_unit_test(test_articles_json_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
