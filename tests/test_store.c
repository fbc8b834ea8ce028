/* tests/test_store.c — store/: every dedup rule of SPEC §7 with positive and
 * negative cases, canonical links, title keys, sources and republish, the
 * output query and its filters, retention with tombstones, migrations from
 * every earlier schema (tests/fixtures/store/v1.sql), locked databases; then
 * `finfeed ingest`, `export` and `prune` end to end through the binary on
 * three sources carrying the same stories (tests/fixtures/store/); a store
 * copied from SQLite to the backend under test and back (store_copy, and
 * `finfeed migrate` through the binary); a feed's newest items and its
 * freshness state (issue 13).
 *
 * One suite, two backends: with FINFEED_TEST_PG=1 (test_store_pg, run by
 * tests/pg_run.sh under pg_virtualenv) every test that is not about SQLite
 * files runs on the PostgreSQL server the PG* variables name, each in a
 * database of its own; without it, on SQLite. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/store.h"

#define STORE_FIX FIXTURES "/store/"
#define CHECKER FIXTURES "/../check_feed.py"
#define PYTHON "/usr/bin/python3"

#define T0 1649040626 /* 2022-04-04T02:50:26Z */
#define HOUR 3600

extern char **environ;

/* ---- the backend under test ---- */

static int use_pg;        /* FINFEED_TEST_PG=1: PostgreSQL, else SQLite */
static PGconn *pg_admin;  /* to the server's maintenance database (PGDATABASE) */
static int pg_databases;  /* databases made by pg_database() … */
static int pg_dropped;    /* … the first this many dropped (at the end of a group) */

static void tmp_path(char *buf, size_t size, const char *name);

/* Run `sql` on the PostgreSQL connection c; fails the test on error. */
static void
pg_sql(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
}

/* A fresh PostgreSQL database, its URI into buf (host, port and user from
 * the PG* variables). UTF-8 with a UTF-8 character type, as the store wants
 * it (pg_trgm finds no Chinese otherwise); pg_trgm itself comes with the
 * store's first migration. */
static void
pg_database(char *buf, size_t size)
{
    char sql[256];
    snprintf(buf, size, "postgresql:///finfeed_test_%ld_%d", (long)getpid(), ++pg_databases);
    snprintf(sql, sizeof(sql),
             "CREATE DATABASE finfeed_test_%ld_%d TEMPLATE template0 ENCODING 'UTF8'"
             " LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'",
             (long)getpid(), pg_databases);
    pg_sql(pg_admin, sql);
}

/* Where a test's store lives: a new PostgreSQL database, or the SQLite file
 * `name` in the test directory. */
static void
db_where(char *buf, size_t size, const char *name)
{
    if (use_pg)
        pg_database(buf, size);
    else
        tmp_path(buf, size, name);
}

/* Run `sql` on the store at `where` (a SQLite file or a PostgreSQL URI),
 * beside any open handle. */
static void
sql_file(const char *where, const char *sql)
{
    if (strncmp(where, "postgresql://", 13) == 0) {
        PGconn *c = PQconnectdb(where);
        if (PQstatus(c) != CONNECTION_OK)
            fail_msg("%s: %s", where, PQerrorMessage(c));
        pg_sql(c, sql);
        PQfinish(c);
        return;
    }
    sqlite3 *db;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(where, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", where, msg);
    sqlite3_close(db);
}

static void
on_pq_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static int
setup_backend(void **state)
{
    (void)state;
    const char *v = getenv("FINFEED_TEST_PG");
    use_pg = v != NULL && strcmp(v, "1") == 0;
    if (!use_pg)
        return 0;
    /* no server is a failure, never a skip: tests/pg_run.sh starts one */
    pg_admin = PQconnectdb("");
    if (PQstatus(pg_admin) != CONNECTION_OK) {
        fprintf(stderr, "test_store: FINFEED_TEST_PG=1 but no PostgreSQL server: %s",
                PQerrorMessage(pg_admin));
        return -1;
    }
    PQsetNoticeProcessor(pg_admin, on_pq_notice, NULL);
    return 0;
}

static int teardown_tmp(void **state);

static int
teardown_backend(void **state)
{
    if (pg_admin != NULL) {
        for (int i = pg_dropped + 1; i <= pg_databases; i++) {
            char sql[128];
            snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS finfeed_test_%ld_%d WITH (FORCE)",
                     (long)getpid(), i);
            PQclear(PQexec(pg_admin, sql));
        }
        pg_dropped = pg_databases;
        PQfinish(pg_admin);
        pg_admin = NULL;
    }
    return teardown_tmp(state);
}

/* ---- helpers ---- */

/* A new, empty store of the backend under test (SQLite: in memory). */
static struct store *
mem_store(void)
{
    struct store *s = NULL;
    char err[512], where[512] = ":memory:";
    if (use_pg)
        pg_database(where, sizeof(where));
    int rc = store_open(where, &s, err, sizeof(err));
    if (rc != 0)
        fail_msg("store_open: %s", err);
    return s;
}

static void
art(struct parse_article *a, const char *guid, const char *title, const char *link,
    const char *body, int64_t date)
{
    memset(a, 0, sizeof(*a));
    a->guid = (char *)guid;
    a->title = (char *)title;
    a->link = (char *)link;
    a->body = (char *)body;
    a->date = date;
    a->author = (char *)"";
}

static enum store_outcome
add_r(struct store *s, int64_t feed, const struct parse_article *a, int republish, int64_t now)
{
    enum store_outcome out = (enum store_outcome) - 1;
    assert_int_equal(store_begin(s), 0);
    int rc = store_add(s, feed, a, republish, now, &out);
    if (rc != 0)
        fail_msg("store_add: %d %s", rc, store_errmsg(s));
    assert_int_equal(store_commit(s), 0);
    return out;
}

static enum store_outcome
add(struct store *s, int64_t feed, const struct parse_article *a, int64_t now)
{
    return add_r(s, feed, a, 1, now);
}

static int64_t
feed(struct store *s, const char *name)
{
    int64_t id = 0;
    assert_int_equal(store_feed_ensure(s, name, NULL, &id), 0);
    assert_true(id > 0);
    return id;
}

static long
count(struct store *s)
{
    long n = -1;
    assert_int_equal(store_count(s, 0, &n), 0);
    return n;
}

/* What store_articles gave, copied. */
struct row {
    int64_t id, date, updated;
    char *uid, *title, *body, *sources, *feed;
};
struct rows {
    struct row r[32];
    int n;
};

static int
on_row(void *arg, const struct store_article *a)
{
    struct rows *rs = arg;
    assert_true(rs->n < 32);
    struct row *r = &rs->r[rs->n++];
    r->id = a->id;
    r->date = a->date;
    r->updated = a->updated;
    r->uid = strdup(a->uid);
    r->title = strdup(a->title);
    r->body = strdup(a->body);
    r->sources = strdup(a->sources_json);
    r->feed = strdup(a->feed);
    return 0;
}

/* store_articles callback: counts articles and rejected publisher dates. */
struct rejected {
    int n, nrejected;
    int64_t value; /* the last rejected date seen */
};

static int
on_rejected(void *arg, const struct store_article *a)
{
    struct rejected *r = arg;
    r->n++;
    if (a->date_rejected) {
        r->nrejected++;
        r->value = a->rejected_date;
    }
    return 0;
}

static void
rows_free(struct rows *rs)
{
    for (int i = 0; i < rs->n; i++) {
        free(rs->r[i].uid);
        free(rs->r[i].title);
        free(rs->r[i].body);
        free(rs->r[i].sources);
        free(rs->r[i].feed);
    }
    rs->n = 0;
}

static void
fetch(struct store *s, const struct store_query *q, struct rows *rs)
{
    memset(rs, 0, sizeof(*rs));
    int rc = store_articles(s, q, on_row, rs);
    if (rc != 0)
        fail_msg("store_articles: %d %s", rc, store_errmsg(s));
}

/* Number of articles a query gives. */
static int
nquery(struct store *s, const struct store_query *q)
{
    struct rows rs;
    fetch(s, q, &rs);
    int n = rs.n;
    rows_free(&rs);
    return n;
}

static int
ntext(struct store *s, const char *text)
{
    struct store_query q = {.text = text};
    return nquery(s, &q);
}

/* ---- bodies for rule 4 ---- */

static const char *const rrr[] = {
    "中国人民银行决定于4月25日下调金融机构存款准备金率0.25个百分点，释放长期资金约5300亿元。",
    "央行有关负责人表示，此次降准是为了支持实体经济发展，促进综合融资成本稳中有降。",
    "对没有跨省经营的城商行和存款准备金率高于5%的农商行，再额外多降0.25个百分点。",
    "分析人士指出，降准有助于优化金融机构资金结构，增强金融服务实体经济的能力。",
    "市场人士认为，本次降准幅度略低于预期，但释放了稳增长的积极信号，有利于稳定市场预期。",
    "央行表示，将继续实施稳健的货币政策，保持流动性合理充裕，不搞大水漫灌。",
    "截至发稿，沪指小幅收涨，银行板块表现平稳，国债期货全线上涨。",
    "此前，国务院常务会议提出，适时运用降准等货币政策工具，进一步加大金融对实体经济的支持。",
    "数据显示，今年以来人民币贷款保持较快增长，企业中长期贷款占比持续提升。",
    "专家预计，二季度货币政策仍有进一步宽松的空间，结构性工具将继续发挥作用。",
};

/* Two stories from the same sentence templates as the bench generator's
 * cn_sentence(), with other companies, sectors and figures. */
static const char *const tmpl_a[] = {
    "今日早盘，沪指上涨1.23%，报3056.78点，成交额4521亿元。",
    "贵州茅台公告称，拟以不超过20亿元回购股份，回购价格不超过每股1850.00元。",
    "中金公司研报认为，稳增长政策持续发力，半导体板块未来6个月有望获得12.5%以上的超额收益。",
    "北向资金全天净买入约126.35亿元，白酒板块获主力资金净流入23.41亿元，五粮液上涨3.21%。",
    "数据显示，2023年3月制造业采购经理指数为50.8%，较上月上升1.2个百分点。",
    "截至收盘，恒生指数收涨0.56%，报17023.45点，成交额8810亿元。",
};
static const char *const tmpl_b[] = {
    "尾盘，创业板指下跌0.87%，报2104.55点，成交额3318亿元。",
    "宁德时代公告称，拟以不超过45亿元回购股份，回购价格不超过每股266.80元。",
    "华泰证券研报认为，外资配置意愿回升，光伏板块未来3个月有望获得8.7%以上的超额收益。",
    "北向资金全天净卖出约58.12亿元，银行板块获主力资金净流出11.07亿元，招商银行下跌1.45%。",
    "数据显示，2022年11月社会消费品零售总额同比增速为-5.9%，较上月下降0.4个百分点。",
    "开盘后，沪深300走低1.02%，报3521.06点，成交额2977亿元。",
};

/* "<p>" paragraphs joined; `skip` (or -1) left out; `figure` (or NULL)
 * replaced for the first occurrence of `with`. New string. */
static char *
body_of(const char *const *paras, size_t n, int skip, const char *figure, const char *with)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(paras[i]) + 8 + (with ? strlen(with) : 0);
    char *b = malloc(len), *w = b;
    assert_non_null(b);
    *w = '\0';
    for (size_t i = 0; i < n; i++) {
        if ((int)i == skip)
            continue;
        w += sprintf(w, "<p>%s</p>", paras[i]);
    }
    if (figure != NULL) {
        char *at = strstr(b, figure);
        assert_non_null(at);
        size_t fl = strlen(figure), wl = strlen(with);
        memmove(at + wl, at + fl, strlen(at + fl) + 1);
        memcpy(at, with, wl);
    }
    return b;
}

/* Plain text as the store sees it: tags dropped. */
static char *
text_of(const char *html)
{
    char *t = parse_html_text(html);
    assert_non_null(t);
    return t;
}

static double
similarity(const char *html_a, const char *html_b)
{
    char *a = text_of(html_a), *b = text_of(html_b);
    double j = store_similarity(a, b);
    free(a);
    free(b);
    return j;
}

/* ---- rule 1: same feed, same guid ---- */

static void
test_rule1_guid(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f1 = feed(s, "sina"), f2 = feed(s, "wire");
    struct parse_article a, b;
    struct rows rs;
    char *body = body_of(rrr, 10, -1, NULL, NULL);

    art(&a, "g1", "央行宣布下调存款准备金率0.25个百分点", "https://a.example/rrr.html", body, T0);
    assert_int_equal(add(s, f1, &a, T0 + 60), STORE_NEW);
    assert_int_equal(add(s, f1, &a, T0 + 120), STORE_UNCHANGED);
    fetch(s, NULL, &rs);
    assert_int_equal(rs.n, 1);
    char *uid = strdup(rs.r[0].uid);
    assert_int_equal(rs.r[0].updated, T0 + 60);
    /* urn:uuid: and an RFC 9562 version 7 UUID */
    assert_int_equal(strlen(uid), 45);
    assert_memory_equal(uid, "urn:uuid:", 9);
    assert_true(uid[17] == '-' && uid[22] == '-' && uid[27] == '-' && uid[32] == '-');
    assert_true(uid[23] == '7' && strchr("89ab", uid[28]) != NULL);
    rows_free(&rs);

    /* changed title: updated in place, updated moves, uid stays */
    a.title = (char *)"央行宣布下调存款准备金率0.25个百分点（更新）";
    assert_int_equal(add(s, f1, &a, T0 + 600), STORE_UPDATED);
    fetch(s, NULL, &rs);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.r[0].uid, uid);
    assert_string_equal(rs.r[0].title, "央行宣布下调存款准备金率0.25个百分点（更新）");
    assert_int_equal(rs.r[0].updated, T0 + 600);
    rows_free(&rs);
    /* changed body */
    a.body = (char *)"<p>更正：释放长期资金约5300亿元。</p>";
    assert_int_equal(add(s, f1, &a, T0 + 900), STORE_UPDATED);
    fetch(s, NULL, &rs);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.r[0].uid, uid);
    assert_string_equal(rs.r[0].body, "<p>更正：释放长期资金约5300亿元。</p>");
    assert_int_equal(rs.r[0].updated, T0 + 900);
    rows_free(&rs);
    assert_int_equal(add(s, f1, &a, T0 + 1000), STORE_UNCHANGED);
    art(&b, NULL, "no guid", NULL, "<p>x</p>", T0);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_add(s, f1, &b, 1, T0, NULL), -EINVAL);
    store_rollback(s);

    /* the same guid in another feed is not rule 1: a different story there
     * is a new article */
    art(&b, "g1", "Gold hits a record as haven demand rises", "https://b.example/gold",
        "<p>Gold rose to a record.</p>", T0);
    assert_int_equal(add(s, f2, &b, T0 + 60), STORE_NEW);
    assert_int_equal(count(s), 2);

    /* a duplicate source changing its copy does not overwrite the article */
    art(&b, "w-rrr", "降准0.25个百分点", "http://A.example/rrr.html?utm_source=x", "<p>copy</p>",
        T0 + HOUR);
    assert_int_equal(add(s, f2, &b, T0 + 2000), STORE_DUPLICATE);
    b.title = (char *)"降准0.25个百分点，释放资金5300亿元";
    b.body = (char *)"<p>the wire's rewritten copy</p>";
    assert_int_equal(add(s, f2, &b, T0 + 3000), STORE_UNCHANGED);
    struct store_query q = {.feed = "sina"};
    fetch(s, &q, &rs);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.r[0].uid, uid);
    assert_string_equal(rs.r[0].title, "央行宣布下调存款准备金率0.25个百分点（更新）");
    assert_string_equal(rs.r[0].body, "<p>更正：释放长期资金约5300亿元。</p>");
    assert_string_equal(rs.r[0].sources, "[\"sina\",\"wire\"]");
    rows_free(&rs);
    assert_int_equal(count(s), 2);

    /* keys are data, never syntax: quotes, backslashes, braces, commas */
    int64_t f3 = feed(s, "odd");
    art(&a, "a\"b\\c{d},e\"", "Quotes \"and\" \\backslashes\\ {in}, keys",
        "https://odd.example/a?q=\"x\"&b={1,2}", "<p>odd</p>", T0);
    assert_int_equal(add(s, f3, &a, T0), STORE_NEW);
    assert_int_equal(add(s, f3, &a, T0), STORE_UNCHANGED);
    assert_int_equal(count(s), 3);
    free(uid);
    free(body);
    store_close(s);
}

/* ---- rule 2: canonical links ---- */

static void
test_canonical_link(void **state)
{
    (void)state;
    struct store *s = mem_store();
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"https://example.com/a/b.html", "https://example.com/a/b.html"},
        {"HTTPS://WWW.Example.COM/Path/X.html", "https://www.example.com/Path/X.html"},
        {"http://example.com/a", "https://example.com/a"},
        {"http://example.com:80/a", "https://example.com/a"},
        {"https://example.com:443/a", "https://example.com/a"},
        {"https://example.com:8443/a", "https://example.com:8443/a"},
        {"http://example.com:8080/a", "https://example.com:8080/a"},
        {"https://example.com/a#comments", "https://example.com/a"},
        {"https://example.com./a", "https://example.com/a"},
        {"https://user:pw@example.com/a", "https://example.com/a"},
        {"https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x",
         "https://example.com/a"},
        {"https://example.com/a?id=7&spm=a2c.b&fbclid=IwAR0&gclid=Cj0&mc_cid=1&mc_eid=2",
         "https://example.com/a?id=7"},
        {"https://example.com/a?UTM_Source=rss&id=7", "https://example.com/a?id=7"},
        {"https://example.com/a?b=2&a=1&c=3", "https://example.com/a?a=1&b=2&c=3"},
        {"https://example.com/a?b=2&utm_x=1&a=1#top", "https://example.com/a?a=1&b=2"},
        {"https://example.com/a?", "https://example.com/a"},
        {"https://example.com", "https://example.com/"},
        {"https://例子.example/a", "https://例子.example/a"},
        /* plain links take a path of their own (dedup.c's plain_link), the
         * rest libcurl's: the same answers (libcurl's, recorded here) */
        {"HTTP://EXAMPLE.COM/A/B?Z=1&Y=2", "https://example.com/A/B?Y=2&Z=1"},
        {"https://example.com?x=1", "https://example.com/?x=1"},
        {"https://example.com/?", "https://example.com/"},
        {"https://example.com/a?#f", "https://example.com/a"},
        {"https://example.com/a?x=1&&y=2&", "https://example.com/a?x=1&y=2"},
        {"https://example.com/a?x=y?z/w#f?g", "https://example.com/a?x=y?z/w"},
        {"https://example.com/a'b(c)*d+e,f;g=h:i@j!k$l~m_n.o-p",
         "https://example.com/a'b(c)*d+e,f;g=h:i@j!k$l~m_n.o-p"},
        {"https://a", "https://a/"},
        {"http://example.com:443/a", "https://example.com:443/a"},
        {"https://example.com/a/./b", "https://example.com/a/b"},
        {"https://example.com/a/../b", "https://example.com/b"},
        {"https://example.com/a/..", "https://example.com/"},
        {"https://example.com/a/.b/..c/...", "https://example.com/a/.b/..c/..."},
        {"https://example.com/a//b", "https://example.com/a//b"},
        {"https://0x7f.1/a", "https://127.0.0.1/a"},
        {"https://example.com/%E4%B8%AD?q=%41", "https://example.com/%E4%B8%AD?q=%41"},
        {"https://example.com/a#fr ag", NULL},
        /* not http(s), or not a URL */
        {"ftp://example.com/a", NULL},
        {"mailto:ops@example.com", NULL},
        {"file:///etc/passwd", NULL},
        {"javascript:alert(1)", NULL},
        {"/relative/path", NULL},
        {"example.com/a", NULL},
        {"", NULL},
        {"http://", NULL},
        {"https://exa mple.com/a", NULL},
        {"\x01\xff garbage", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *c = store_canonical_link(s, cases[i].in);
        if (cases[i].out == NULL) {
            if (c != NULL)
                fail_msg("%s: expected NULL, got %s", cases[i].in, c);
        } else if (c == NULL || strcmp(c, cases[i].out) != 0) {
            fail_msg("%s: expected %s, got %s", cases[i].in, cases[i].out, c ? c : "NULL");
        }
        free(c);
    }
    assert_null(store_canonical_link(s, NULL));
    /* http and https, utm or not: one key */
    char *a = store_canonical_link(s, "http://example.com/a?x=1&utm_source=a");
    char *b = store_canonical_link(s, "https://EXAMPLE.com:443/a?utm_medium=b&x=1#frag");
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* a custom tracking list replaces the default */
    const char *const mine[] = {"from", "share_*"};
    assert_int_equal(store_set_tracking_params(s, mine, 2), 0);
    a = store_canonical_link(s, "https://example.com/a?from=tg&share_id=9&utm_source=x&id=1");
    assert_string_equal(a, "https://example.com/a?id=1&utm_source=x");
    free(a);
    assert_int_equal(store_set_tracking_params(s, NULL, 0), 0); /* back to the default */
    a = store_canonical_link(s, "https://example.com/a?from=tg&utm_source=x");
    assert_string_equal(a, "https://example.com/a?from=tg");
    free(a);
    store_close(s);
}

/* Keys made ahead use the tracking parameters the maker copied: the same
 * canonical link (rule 2) as the store makes. Once the store's list changes
 * (a reload), keys made with the old one are made again by the store; an
 * unchanged article leaves its keys with the caller. */
static void
test_prekeys(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f1 = feed(s, "sina");
    const char *const mine[] = {"share_*"};
    struct store_keymaker *km = NULL;
    struct store_prekeys *k[2] = {0};
    struct parse_article a[2];
    enum store_outcome out[2];
    assert_int_equal(store_set_tracking_params(s, mine, 1), 0);
    assert_int_equal(store_keymaker_new(s, &km), 0);
    art(&a[0], "p1", "Copper rallies on supply fears in Chile", "https://p.example/c?share_id=1",
        "<p>Copper rose.</p>", T0);
    art(&a[1], "p2", "Chile mine strike lifts copper", "https://p.example/c?share_id=2",
        "<p>A strike.</p>", T0);
    const struct parse_article *batch[2] = {&a[0], &a[1]};
    for (int i = 0; i < 2; i++)
        assert_int_equal(store_prekeys_make(km, &a[i], &k[i]), 0);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_add_many(s, f1, batch, k, 2, 1, T0, out), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(out[0], STORE_NEW);
    assert_int_equal(out[1], STORE_DUPLICATE); /* share_id dropped by both lists */
    for (int i = 0; i < 2; i++) {
        store_prekeys_free(k[i]);
        k[i] = NULL;
    }
    /* the store's list changes back to the default, which keeps share_id;
     * keys made with the maker's old list would call this a copy of p1 */
    assert_int_equal(store_set_tracking_params(s, NULL, 0), 0);
    art(&a[1], "p3", "Chile mine strike lifts copper", "https://p.example/c?share_id=3",
        "<p>A strike.</p>", T0);
    assert_int_equal(store_prekeys_make(km, &a[1], &k[1]), 0);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_add_many(s, f1, &batch[1], &k[1], 1, 1, T0, out), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(out[0], STORE_NEW); /* remade with the store's list */
    store_prekeys_free(k[1]);
    k[1] = NULL;
    /* unchanged: the keys made ahead are not taken, and freed by the caller */
    store_keymaker_free(km);
    assert_int_equal(store_keymaker_new(s, &km), 0);
    assert_int_equal(store_prekeys_make(km, &a[0], &k[0]), 0);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_add_many(s, f1, batch, k, 1, 1, T0 + 60, out), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(out[0], STORE_UNCHANGED);
    /* and without keys made ahead: the content hash is the same one */
    enum store_outcome o = STORE_NEW;
    assert_int_equal(store_add(s, f1, &a[0], 1, T0 + 120, &o), 0);
    assert_int_equal(o, STORE_UNCHANGED);
    art(&a[0], "p1", "Copper rallies on supply fears in Chile", "https://p.example/c?share_id=1",
        "<p>Copper rose 2%.</p>", T0);
    store_prekeys_free(k[0]);
    assert_int_equal(store_prekeys_make(km, &a[0], &k[0]), 0);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_add_many(s, f1, batch, k, 1, 1, T0 + 180, out), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(out[0], STORE_UPDATED);
    store_prekeys_free(k[0]);
    store_keymaker_free(km);
    store_close(s);
}

static void
test_rule2_link(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f1 = feed(s, "sina"), f2 = feed(s, "cls");
    struct parse_article a, b;
    struct rows rs;

    art(&a, "s-1", "疫情持续胶着：长春累计确诊20000例", "https://finance.example.com/doc-1.shtml",
        "<p>长春市新增本土确诊病例1123例。</p>", T0);
    art(&b, "c-77", "长春疫情最新通报", /* another title, another body */
        "https://finance.example.com/doc-1.shtml?utm_source=rss&utm_medium=feed#c",
        "<p>财联社4月4日电，长春通报疫情。</p>", T0 + 30 * 24 * HOUR);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    assert_int_equal(add(s, f2, &b, T0 + 60), STORE_DUPLICATE); /* any time apart */
    assert_int_equal(count(s), 1);
    fetch(s, NULL, &rs);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.r[0].sources, "[\"sina\",\"cls\"]");
    assert_string_equal(rs.r[0].feed, "sina");
    rows_free(&rs);
    /* the duplicate's guid now points at the article: rule 1 next time */
    assert_int_equal(add(s, f2, &b, T0 + 120), STORE_UNCHANGED);

    /* negative: another path, another query value, another host */
    const char *other[] = {
        "https://finance.example.com/doc-2.shtml",
        "https://finance.example.com/doc-1.shtml?page=2",
        "https://finance.example.org/doc-1.shtml",
    };
    for (size_t i = 0; i < 3; i++) {
        char guid[16], title[64];
        snprintf(guid, sizeof(guid), "c-%zu", i);
        snprintf(title, sizeof(title), "Unrelated story number %zu", i);
        art(&b, guid, title, other[i], "<p>x</p>", T0);
        assert_int_equal(add(s, f2, &b, T0), STORE_NEW);
    }
    /* a site's front page names no story: never rule 2 */
    art(&a, "s-home-1", "Morning markets wrap", "https://finance.example.com/", "<p>one</p>", T0);
    art(&b, "c-home-2", "Evening FX briefing", "http://finance.example.com", "<p>two</p>", T0);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    assert_int_equal(add(s, f2, &b, T0), STORE_NEW);
    assert_int_equal(count(s), 6);
    store_close(s);
}

/* ---- rule 3: normalized title within 48 h ---- */

static void
test_title_key(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
    } same[] = {
        {"ＡＢＣ１２３", "abc123"},
        {"ＡＢＣ１２３：长春疫情（更新）", "abc123长春疫情更新"},
        {"疫情持续胶着：长春累计确诊20000例，社会面清零再推进",
         "疫情持续胶着长春累计确诊20000例社会面清零再推进"},
        {"疫情持续胶着 长春累计确诊20000例 社会面清零再推进",
         "疫情持续胶着长春累计确诊20000例社会面清零再推进"},
        {"《人民日报》评论：“稳增长”——再发力！", "人民日报评论稳增长再发力"},
        {"【快讯】央行、财政部：下调0.25%…", "快讯央行财政部下调025"},
        {"Fed  signals\tpatience, as inflation COOLS!", "fedsignalspatienceasinflationcools"},
        {"S&P 500 hits record (update)", "sp500hitsrecordupdate"},
        {"\xe3\x80\x80全角空格\xe3\x80\x80", "全角空格"},
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        char *k = store_title_key(same[i].a);
        assert_non_null(k);
        if (strcmp(k, same[i].b) != 0)
            fail_msg("title key of '%s' is '%s', expected '%s'", same[i].a, k, same[i].b);
        free(k);
    }
    char *a = store_title_key("长春累计确诊20000例"), *b = store_title_key("长春累计确诊20001例");
    assert_string_not_equal(a, b);
    free(a);
    free(b);
    char *e = store_title_key("");
    assert_string_equal(e, "");
    free(e);
}

static void
test_rule3_title(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f1 = feed(s, "sina"), f2 = feed(s, "wire"), f3 = feed(s, "cls");
    struct parse_article a, b;

    art(&a, "s-1", "ＡＢＣ１２３：长春疫情最新通报（更新）", "https://a.example/1", "<p>a</p>", T0);
    art(&b, "w-1", "abc123 长春疫情最新通报 更新", "https://b.example/x9", "<p>b</p>",
        T0 + 47 * HOUR);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    assert_int_equal(add(s, f2, &b, T0), STORE_DUPLICATE);
    /* before it, too */
    art(&b, "c-1", "ABC123: 长春疫情最新通报（更新）", "https://c.example/y", "<p>c</p>",
        T0 - 40 * HOUR);
    assert_int_equal(add(s, f3, &b, T0), STORE_DUPLICATE);
    assert_int_equal(count(s), 1);

    /* the same title 49 h apart: two stories */
    art(&a, "s-2", "美联储议息会议前瞻：市场押注年内降息", "https://a.example/2", "<p>a</p>", T0);
    art(&b, "w-2", "美联储议息会议前瞻：市场押注年内降息", "https://b.example/2", "<p>b</p>",
        T0 + 49 * HOUR);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    assert_int_equal(add(s, f2, &b, T0), STORE_NEW);
    assert_int_equal(count(s), 3);

    /* short titles never match, in either script */
    static const char *const shorts[] = {"快讯", "午间快讯", "Update", "Breaking!"};
    for (size_t i = 0; i < 4; i++) {
        char g1[16], g2[16], l1[64], l2[64];
        snprintf(g1, sizeof(g1), "s-short-%zu", i);
        snprintf(g2, sizeof(g2), "w-short-%zu", i);
        snprintf(l1, sizeof(l1), "https://a.example/short/%zu", i);
        snprintf(l2, sizeof(l2), "https://b.example/short/%zu", i);
        art(&a, g1, shorts[i], l1, "<p>one</p>", T0);
        art(&b, g2, shorts[i], l2, "<p>two</p>", T0 + HOUR);
        assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
        assert_int_equal(add(s, f2, &b, T0), STORE_NEW);
    }
    assert_int_equal(count(s), 11);
    store_close(s);
}

/* Rule 3 where finance news trips it: recurring column titles ("Market
 * Wrap", "晚间公告汇总") over different stories, and the same wire story
 * reposted under its title with light edits. */

/* Three different evening wraps and one wire story with two light edits. */
static const char *const wrap_a =
    "<p>Stocks rose today as oil fell, with the S&amp;P 500 adding 0.8% and the Nasdaq "
    "climbing 1.2% while Brent crude slid below $80 a barrel.</p>";
static const char *const wrap_b =
    "<p>Stocks fell today as oil rose: the Dow lost 310 points and energy shares led the "
    "market higher only briefly before Treasury yields jumped to 4.6%.</p>";
static const char *const wrap_c =
    "<p>European bourses closed mixed; the DAX edged up 0.1% and the FTSE 100 slipped 0.4% as "
    "miners dragged on London after copper prices retreated.</p>";
static const char *const wire_v1 =
    "<p>The People's Bank of China cut the reserve requirement ratio for banks by 25 basis "
    "points, releasing about 500 billion yuan of long-term liquidity, the central bank said "
    "on Friday.</p>";
static const char *const wire_v2 = /* a figure and a closing clause changed */
    "<p>The People's Bank of China cut the reserve requirement ratio for banks by 25 basis "
    "points, releasing about 530 billion yuan of long-term liquidity, the central bank said "
    "on Friday evening.</p>";
static const char *const wire_v3 = /* a byline and a shortened ending (under 0.85) */
    "<p>BEIJING (Reuters) - The People's Bank of China cut the reserve requirement ratio for "
    "banks by 25 basis points, releasing about 500 billion yuan of long-term liquidity.</p>";

static void
test_rule3_generic_titles(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f1 = feed(s, "reuters"), f2 = feed(s, "cnbc"), f3 = feed(s, "ft");
    struct parse_article a;

    /* generic titles, two and three publishers, different stories: three */
    art(&a, "r-1", "Market Wrap", "https://r.example/wrap-0604", wrap_a, T0);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    art(&a, "c-1", "Market Wrap", "https://c.example/markets/wrap", wrap_b, T0 + HOUR);
    assert_int_equal(add(s, f2, &a, T0), STORE_NEW);
    art(&a, "f-1", "MARKET WRAP:", "https://f.example/content/abc", wrap_c, T0 + 2 * HOUR);
    assert_int_equal(add(s, f3, &a, T0), STORE_NEW);
    assert_int_equal(count(s), 3);
    assert_true(similarity(wrap_a, wrap_b) < 0.5);

    /* the same in Chinese, and a long generic English title */
    art(&a, "r-2", "晚间公告汇总", "https://r.example/cn/1", "<p>贵州茅台：拟以不超过20亿元回购股份，"
        "回购价格不超过每股1850元；宁德时代：一季度净利润同比增长7%。</p>", T0);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    art(&a, "c-2", "晚间公告汇总", "https://c.example/cn/1", "<p>中国平安：董事会审议通过回购方案；"
        "比亚迪：4月新能源汽车销量21万辆，同比增长49%。</p>", T0 + HOUR);
    assert_int_equal(add(s, f2, &a, T0), STORE_NEW);
    art(&a, "r-3", "Stocks making the biggest moves midday", "https://r.example/movers/1",
        "<p>Nvidia, Tesla and Boeing are among the stocks making the biggest moves midday.</p>", T0);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    art(&a, "c-3", "Stocks making the biggest moves midday", "https://c.example/movers/9",
        "<p>Check out the companies headlining: Apple, Disney, Pfizer, Walmart and Ford.</p>", T0);
    assert_int_equal(add(s, f2, &a, T0), STORE_NEW);
    assert_int_equal(count(s), 7);

    /* the same wire story reposted under its title, lightly edited: one */
    assert_true(similarity(wire_v1, wire_v2) >= 0.5);
    assert_true(similarity(wire_v1, wire_v3) >= 0.5 && similarity(wire_v1, wire_v3) < 0.85);
    art(&a, "r-4", "China cuts bank reserve ratio to support growth", "https://r.example/rrr",
        wire_v1, T0);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    art(&a, "c-4", "China cuts bank reserve ratio to support growth",
        "https://c.example/2024/06/04/china-rrr.html", wire_v2, T0 + 5 * HOUR);
    assert_int_equal(add(s, f2, &a, T0), STORE_DUPLICATE);
    art(&a, "f-4", "China Cuts Bank Reserve Ratio to Support Growth", "https://f.example/x/rrr",
        wire_v3, T0 - 20 * HOUR);
    assert_int_equal(add(s, f3, &a, T0), STORE_DUPLICATE);
    assert_int_equal(count(s), 8);

    /* headline-only feeds (no text, or a line under 40 characters): one */
    art(&a, "r-5", "Fed holds rates steady, signals two cuts", "https://r.example/fed-5", "", T0);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    art(&a, "c-5", "Fed holds rates steady; signals two cuts", "https://c.example/fed",
        "<p>Breaking news.</p>", T0 + HOUR);
    assert_int_equal(add(s, f2, &a, T0), STORE_DUPLICATE);
    /* … but a headline-only item does not swallow a story with text */
    art(&a, "f-5", "Fed holds rates steady, signals two cuts", "https://f.example/fed",
        wrap_a, T0 + HOUR);
    assert_int_equal(add(s, f3, &a, T0), STORE_NEW);
    assert_int_equal(count(s), 10);
    store_close(s);
}

static void
test_rule3_column_titles(void **state)
{
    (void)state;
    char path[512], err[512];
    struct store *s = mem_store();
    int64_t fx = feed(s, "fxdesk"), other = feed(s, "other");
    struct parse_article a;

    /* a feed's daily column on five consecutive days, headline-only as well
     * as with text: five articles (the second link makes it a column) */
    for (int day = 0; day < 5; day++) {
        char guid[32], link[64];
        snprintf(guid, sizeof(guid), "fx-%d", day);
        snprintf(link, sizeof(link), "https://fx.example/outlook/2024-06-%02d", day + 3);
        art(&a, guid, "Daily FX Outlook", link, day % 2 ? "" : wrap_a, T0 + day * 24 * HOUR);
        assert_int_equal(add(s, fx, &a, T0 + day * 24 * HOUR), STORE_NEW);
    }
    assert_int_equal(count(s), 5);
    /* the same column title from another publisher, headline-only too */
    art(&a, "o-1", "Daily FX Outlook", "https://other.example/fx", "", T0 + 4 * 24 * HOUR);
    assert_int_equal(add(s, other, &a, T0), STORE_NEW);
    assert_int_equal(count(s), 6);

    /* a column title whose story is really reposted: rule 4 merges it (a
     * long body), rule 3 does not (the same short body stays apart) */
    char *full = body_of(rrr, 10, -1, NULL, NULL);
    art(&a, "fx-long", "Daily FX Outlook", "https://fx.example/outlook/long", full,
        T0 + 5 * 24 * HOUR);
    assert_int_equal(add(s, fx, &a, T0), STORE_NEW);
    art(&a, "o-long", "Daily FX Outlook", "https://other.example/fx-long", full,
        T0 + 5 * 24 * HOUR + HOUR);
    assert_int_equal(add(s, other, &a, T0), STORE_DUPLICATE);
    art(&a, "fx-short", "Daily FX Outlook", "https://fx.example/outlook/short", wire_v1,
        T0 + 6 * 24 * HOUR);
    assert_int_equal(add(s, fx, &a, T0), STORE_NEW);
    art(&a, "o-short", "Daily FX Outlook", "https://other.example/fx-short", wire_v1,
        T0 + 6 * 24 * HOUR + HOUR);
    assert_int_equal(add(s, other, &a, T0), STORE_NEW);
    assert_int_equal(count(s), 9);
    free(full);
    store_close(s);

    /* the column survives a restart: one link before, one after */
    db_where(path, sizeof(path), "column.db");
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    fx = feed(s, "fxdesk");
    other = feed(s, "other");
    art(&a, "m-1", "Morning Briefing: what to watch", "https://fx.example/mb/1", "", T0);
    assert_int_equal(add(s, fx, &a, T0), STORE_NEW);
    store_close(s);
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    art(&a, "m-2", "Morning Briefing: what to watch", "https://fx.example/mb/2", "", T0 + HOUR);
    assert_int_equal(add(s, fx, &a, T0 + HOUR), STORE_NEW);

    /* … and retention: its first article pruned, the column is still known,
     * so another publisher's headline does not match the second one */
    art(&a, "m-3", "Evening Briefing: what to watch", "https://fx.example/eb/1", "", T0);
    assert_int_equal(add(s, fx, &a, T0), STORE_NEW);
    assert_int_equal(store_prune(s, T0 + 1, T0 + 30 * 24 * HOUR, NULL), 0);
    art(&a, "m-4", "Evening Briefing: what to watch", "https://fx.example/eb/2", "",
        T0 + 24 * HOUR);
    assert_int_equal(add(s, fx, &a, T0 + 24 * HOUR), STORE_NEW);
    art(&a, "o-4", "Evening Briefing — what to watch", "https://other.example/eb", "",
        T0 + 25 * HOUR);
    assert_int_equal(add(s, other, &a, T0 + 25 * HOUR), STORE_NEW);
    /* a headline of a feed without a column still matches its repost */
    art(&a, "o-5", "Oil jumps as OPEC+ extends output cuts", "https://other.example/opec", "",
        T0 + 25 * HOUR);
    assert_int_equal(add(s, other, &a, T0 + 25 * HOUR), STORE_NEW);
    art(&a, "fx-5", "Oil jumps as OPEC+ extends output cuts", "https://fx.example/opec", "",
        T0 + 26 * HOUR);
    assert_int_equal(add(s, fx, &a, T0 + 26 * HOUR), STORE_DUPLICATE);
    store_close(s);
}

/* ---- rule 4: near-identical body within 72 h ---- */

static void
test_similarity(void **state)
{
    (void)state;
    assert_true(store_similarity("abcdef", "abcdef") == 1.0);
    assert_true(store_similarity("ab cd ef", "abcdef") == 1.0); /* white space skipped */
    assert_true(store_similarity("abcdef", "uvwxyz") == 0.0);
    /* {abcd, bcde} and {abcd, bcdx}: 1 shared of 3 */
    double j = store_similarity("abcde", "abcdx");
    assert_true(j > 0.33 && j < 0.34);
    /* long texts (their shingles sorted a byte at a time, dedup.c):
     * 197 shingles of 200 letters, one of them missing from the other
     * text; twice the text has 3 more (across the seam), the rest twice */
    char t[201], tt[401];
    uint32_t x = 4242;
    for (int i = 0; i < 200; i++) {
        x = x * 1103515245u + 12345u;
        t[i] = (char)('a' + (x >> 16) % 26);
    }
    t[200] = '\0';
    snprintf(tt, sizeof(tt), "%s%s", t, t);
    j = store_similarity(t, t + 1);
    assert_true(j > 196.0 / 197.0 - 1e-9 && j < 196.0 / 197.0 + 1e-9);
    j = store_similarity(t, tt);
    assert_true(j > 197.0 / 200.0 - 1e-9 && j < 197.0 / 200.0 + 1e-9);
}

static void
test_rule4_body(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f1 = feed(s, "sina"), f2 = feed(s, "wire");
    struct parse_article a, b;
    char *full = body_of(rrr, 10, -1, NULL, NULL);
    char *dropped = body_of(rrr, 10, 6, NULL, NULL);
    char *figure = body_of(rrr, 10, -1, "5300", "5600");
    char *text = text_of(full);
    assert_true(strlen(text) >= 600); /* ≥ 200 characters of 3 bytes */
    free(text);

    double j_drop = similarity(full, dropped), j_fig = similarity(full, figure);
    assert_true(j_drop >= 0.85 && j_drop < 1.0);
    assert_true(j_fig >= 0.85 && j_fig < 1.0);

    /* a repost minus one paragraph, under another title and link */
    art(&a, "s-rrr", "央行宣布下调存款准备金率0.25个百分点", "https://a.example/rrr", full, T0);
    art(&b, "w-rrr", "降准落地：释放长期资金约5300亿元", "https://b.example/pboc-9", dropped,
        T0 + 10 * HOUR);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    assert_int_equal(add(s, f2, &b, T0 + 60), STORE_DUPLICATE);
    /* one figure rewritten */
    art(&b, "w-rrr-2", "Reserve ratio cut frees 560 billion", "https://b.example/pboc-10", figure,
        T0 - 20 * HOUR);
    assert_int_equal(add(s, f2, &b, T0 + 60), STORE_DUPLICATE);
    assert_int_equal(count(s), 1);

    /* the same body more than 72 h apart: another story */
    art(&b, "w-rrr-3", "降准一周年回顾", "https://b.example/pboc-11", full, T0 + 73 * HOUR);
    assert_int_equal(add(s, f2, &b, T0 + 60), STORE_NEW);
    assert_int_equal(count(s), 2);

    /* two stories from the same templates */
    char *ta = body_of(tmpl_a, 6, -1, NULL, NULL), *tb = body_of(tmpl_b, 6, -1, NULL, NULL);
    char *tt = text_of(ta);
    assert_true(strlen(tt) >= 600);
    free(tt);
    double j_tmpl = similarity(ta, tb);
    assert_true(j_tmpl < 0.85);
    art(&a, "s-t1", "贵州茅台：沪深两市震荡走高（101）", "https://a.example/t1", ta, T0);
    art(&b, "w-t2", "宁德时代：A股三大指数集体收跌（102）", "https://b.example/t2", tb, T0 + HOUR);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    assert_int_equal(add(s, f2, &b, T0), STORE_NEW);
    assert_int_equal(count(s), 4);

    /* bodies under 200 characters never match, even when identical */
    const char *shortbody = "<p>北向资金全天净买入约126亿元，连续第五个交易日净流入。</p>";
    art(&a, "s-sh", "北向资金连续五日净流入（一）", "https://a.example/sh1", shortbody, T0);
    art(&b, "w-sh", "Northbound flows, day five", "https://b.example/sh2", shortbody, T0);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    assert_int_equal(add(s, f2, &b, T0), STORE_NEW);
    assert_int_equal(count(s), 6);

    free(ta);
    free(tb);
    free(full);
    free(dropped);
    free(figure);
    store_close(s);
}

/* Many paragraph-drop reposts: LSH must find every one (it is
 * deterministic, but a weak hash family would miss some). */
static void
test_rule4_recall(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f1 = feed(s, "sina"), f2 = feed(s, "wire");
    struct parse_article a, b;
    int found = 0, tried = 0;
    for (int k = 0; k < 10; k++) {
        /* a story: the paragraphs rotated by k, a story number in front */
        const char *paras[11];
        char head[64], g1[32], g2[32], l1[64], l2[64], t1[64], t2[64];
        snprintf(head, sizeof(head), "第%d号报道：央行公开市场操作。", k);
        paras[0] = head;
        for (int i = 0; i < 10; i++)
            paras[i + 1] = rrr[(i + k) % 10];
        char *full = body_of(paras, 11, -1, NULL, NULL);
        char *drop = body_of(paras, 11, 1 + k % 10, NULL, NULL);
        snprintf(g1, sizeof(g1), "s-%d", k);
        snprintf(g2, sizeof(g2), "w-%d", k);
        snprintf(l1, sizeof(l1), "https://a.example/r/%d", k);
        snprintf(l2, sizeof(l2), "https://b.example/r/%d", k);
        snprintf(t1, sizeof(t1), "Story %d from the first source", k);
        snprintf(t2, sizeof(t2), "报道%d（转载）", k);
        art(&a, g1, t1, l1, full, T0 + k * 100 * HOUR);
        art(&b, g2, t2, l2, drop, T0 + k * 100 * HOUR + HOUR);
        if (similarity(full, drop) >= 0.85) {
            tried++;
            assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
            found += add(s, f2, &b, T0) == STORE_DUPLICATE;
        }
        free(full);
        free(drop);
    }
    assert_true(tried >= 8);
    assert_int_equal(found, tried);
    store_close(s);
}

/* ---- sources, republish ---- */

static void
test_sources_republish(void **state)
{
    (void)state;
    struct store *s = mem_store();
    /* the later source gets the smaller id: order must still be by source */
    int64_t later = feed(s, "later"), first = feed(s, "first"), hidden = feed(s, "hidden");
    struct parse_article a, b;
    struct rows rs;

    art(&a, "f-1", "Fed signals patience on rates", "https://x.example/fed", "<p>f</p>", T0);
    art(&b, "l-1", "Fed signals patience on rates", "https://x.example/fed?utm_source=l",
        "<p>l</p>", T0);
    assert_int_equal(add(s, first, &a, T0), STORE_NEW);
    assert_int_equal(add(s, later, &b, T0), STORE_DUPLICATE); /* same second */
    fetch(s, NULL, &rs);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.r[0].sources, "[\"first\",\"later\"]");
    assert_string_equal(rs.r[0].feed, "first");
    rows_free(&rs);

    /* republish = 0: stored and deduplicated, never shown … */
    art(&a, "h-1", "Internal: not for redistribution today", "https://h.example/1", "<p>h</p>", T0);
    assert_int_equal(add_r(s, hidden, &a, 0, T0), STORE_NEW);
    assert_int_equal(count(s), 2);
    struct store_query q = {.feed = "hidden"};
    assert_int_equal(nquery(s, NULL), 1);
    assert_int_equal(nquery(s, &q), 0);
    /* … a copy from another hidden feed changes nothing … */
    art(&b, "h2-1", "Internal: not for redistribution today", "https://h2.example/1", "<p>h</p>",
        T0);
    assert_int_equal(add_r(s, later, &b, 0, T0), STORE_DUPLICATE);
    assert_int_equal(nquery(s, NULL), 1);
    /* … unless a feed that republishes carries it */
    art(&b, "f-9", "Internal: not for redistribution today", "https://h.example/1?utm_x=1",
        "<p>h</p>", T0);
    assert_int_equal(add(s, first, &b, T0), STORE_DUPLICATE);
    assert_int_equal(nquery(s, NULL), 2);
    assert_int_equal(nquery(s, &q), 1);
    fetch(s, &q, &rs);
    assert_string_equal(rs.r[0].sources, "[\"hidden\",\"later\",\"first\"]");
    rows_free(&rs);

    /* a hidden feed's copy of a visible article does not hide it */
    art(&b, "h-2", "Fed signals patience on rates", "https://x.example/fed#h", "<p>h</p>", T0);
    assert_int_equal(add_r(s, hidden, &b, 0, T0), STORE_DUPLICATE);
    assert_int_equal(nquery(s, NULL), 2);
    store_close(s);
}

/* ---- store_add_many: a document's articles at once ---- */

/* batch[0..n) stored in one transaction on `many` with store_add_many and on
 * `one` with store_add an article after another: the same outcomes. Every
 * other article (from the first or the second, turn about) goes with its
 * keys made ahead (store_prekeys_make, as `finfeed ingest`'s parsing thread
 * makes them), the rest without: either way the same. */
static void
add_both(struct store *many, struct store *one, int64_t feed_id, const struct parse_article *a,
         size_t n, int republish, int64_t now, const enum store_outcome *want)
{
    static int turn;
    const struct parse_article *batch[16];
    struct store_prekeys *keys[16] = {0};
    struct store_keymaker *km = NULL;
    enum store_outcome got[16];
    assert_true(n <= 16);
    assert_int_equal(store_keymaker_new(many, &km), 0);
    turn = !turn;
    for (size_t i = 0; i < n; i++) {
        batch[i] = &a[i];
        if ((i + (size_t)turn) % 2 == 0)
            assert_int_equal(store_prekeys_make(km, &a[i], &keys[i]), 0);
    }
    store_keymaker_free(km); /* the keys do not need it */
    assert_int_equal(store_begin(many), 0);
    int rc = store_add_many(many, feed_id, batch, keys, n, republish, now, got);
    for (size_t i = 0; i < n; i++)
        store_prekeys_free(keys[i]);
    if (rc != 0)
        fail_msg("store_add_many: %d %s", rc, store_errmsg(many));
    assert_int_equal(store_commit(many), 0);
    assert_int_equal(store_begin(one), 0);
    for (size_t i = 0; i < n; i++) {
        enum store_outcome o = (enum store_outcome) - 1;
        if ((rc = store_add(one, feed_id, &a[i], republish, now, &o)) != 0)
            fail_msg("store_add: %d %s", rc, store_errmsg(one));
        if (o != got[i] || o != want[i])
            fail_msg("article %zu: store_add %d, store_add_many %d, expected %d", i, o, got[i],
                     want[i]);
    }
    assert_int_equal(store_commit(one), 0);
}

/* Both stores hold the same articles (titles, bodies, sources, in order). */
static void
same_rows(struct store *a, struct store *b)
{
    struct rows ra, rb;
    struct store_query q = {.limit = 32};
    fetch(a, &q, &ra);
    fetch(b, &q, &rb);
    assert_int_equal(ra.n, rb.n);
    for (int i = 0; i < ra.n; i++) {
        assert_string_equal(ra.r[i].title, rb.r[i].title);
        assert_string_equal(ra.r[i].body, rb.r[i].body);
        assert_string_equal(ra.r[i].sources, rb.r[i].sources);
        assert_int_equal(ra.r[i].updated, rb.r[i].updated);
    }
    rows_free(&ra);
    rows_free(&rb);
}

static void
test_add_many(void **state)
{
    (void)state;
    struct store *m = mem_store(), *o = mem_store();
    int64_t f1 = feed(m, "sina"), f2 = feed(m, "wire"), h = feed(m, "hidden");
    assert_int_equal(feed(o, "sina"), f1);
    assert_int_equal(feed(o, "wire"), f2);
    assert_int_equal(feed(o, "hidden"), h);
    char *body = body_of(rrr, 10, -1, NULL, NULL);
    struct parse_article a[8];
    int64_t g0 = store_generation(m);

    /* new ones; a guid twice in one document (the second sees the first:
     * unchanged, then changed); a copy by link under another guid */
    art(&a[0], "g1", "央行宣布下调存款准备金率0.25个百分点", "https://a.example/rrr", body, T0);
    art(&a[1], "g2", "Gold hits a record as haven demand rises", "https://a.example/gold",
        "<p>Gold rose to a record.</p>", T0);
    art(&a[2], "g1", "央行宣布下调存款准备金率0.25个百分点", "https://a.example/rrr", body, T0);
    art(&a[3], "g1", "央行宣布下调存款准备金率0.25个百分点（更新）", "https://a.example/rrr", body,
        T0);
    art(&a[4], "g3", "Gold at a record", "https://a.example/gold?utm_source=x", "<p>copy</p>",
        T0);
    add_both(m, o, f1, a, 5, 1, T0 + 60,
             (enum store_outcome[]){STORE_NEW, STORE_NEW, STORE_UNCHANGED, STORE_UPDATED,
                                    STORE_DUPLICATE});
    assert_int_equal(count(m), 2);
    assert_true(store_generation(m) != g0);
    same_rows(m, o);

    /* the next fetch: unchanged, changed, new; another feed's copies, one
     * of them hidden */
    art(&a[0], "g2", "Gold hits a record as haven demand rises", "https://a.example/gold",
        "<p>Gold rose to a record, again.</p>", T0);
    art(&a[1], "g1", "央行宣布下调存款准备金率0.25个百分点（更新）", "https://a.example/rrr", body,
        T0);
    art(&a[2], "g4", "Oil slides as stocks build", "https://a.example/oil", "<p>Oil fell.</p>",
        T0);
    add_both(m, o, f1, a, 3, 1, T0 + 120,
             (enum store_outcome[]){STORE_UPDATED, STORE_UNCHANGED, STORE_NEW});
    art(&a[0], "w1", "Oil slides as stocks build", "http://A.example/oil#w", "<p>w</p>", T0);
    art(&a[1], "w2", "Internal: not for redistribution", "https://h.example/1", "<p>h</p>", T0);
    add_both(m, o, h, a, 2, 0, T0 + 180, (enum store_outcome[]){STORE_DUPLICATE, STORE_NEW});
    int64_t g1 = store_generation(m);
    /* unchanged, all of them: no change, no new generation */
    add_both(m, o, h, a, 2, 0, T0 + 240, (enum store_outcome[]){STORE_UNCHANGED, STORE_UNCHANGED});
    assert_int_equal(store_generation(m), g1);
    /* a republishing feed's copy shows the hidden one */
    art(&a[0], "w2", "Internal: not for redistribution", "https://h.example/1?utm_x=1", "<p>h</p>",
        T0);
    add_both(m, o, f2, a, 1, 1, T0 + 300, (enum store_outcome[]){STORE_DUPLICATE});
    art(&a[1], "w3", "Oil slides as stocks build", "https://a.example/oil", "<p>w</p>", T0);
    add_both(m, o, f2, a, 2, 1, T0 + 300, (enum store_outcome[]){STORE_UNCHANGED, STORE_DUPLICATE});
    assert_true(store_generation(m) != g1);
    same_rows(m, o);

    /* pruned: tombstones, still listed, never new again */
    assert_int_equal(store_prune(m, T0 + 50 * 24 * HOUR, T0 + 200 * 24 * HOUR, NULL), 0);
    assert_int_equal(store_prune(o, T0 + 50 * 24 * HOUR, T0 + 200 * 24 * HOUR, NULL), 0);
    assert_int_equal(count(m), 0);
    art(&a[0], "g1", "央行宣布下调存款准备金率0.25个百分点（更新）", "https://a.example/rrr", body,
        T0);
    art(&a[1], "g2", "Gold: a new title after the prune", "https://a.example/gold", "<p>n</p>", T0);
    add_both(m, o, f1, a, 2, 1, T0 + 200 * 24 * HOUR,
             (enum store_outcome[]){STORE_UNCHANGED, STORE_UNCHANGED});
    assert_int_equal(count(m), 0);
    same_rows(m, o);

    /* one document whose stories repeat each other: by link, by a
     * near-identical body under another title; a column title (one title,
     * two links); unrelated ones between */
    char *tb = body_of(tmpl_b, 6, -1, NULL, NULL);
    char *tb2 = body_of(tmpl_b, 6, -1, "3318亿元", "3320亿元");
    char *ta = body_of(tmpl_a, 6, -1, NULL, NULL);
    art(&a[0], "d1", "The reserve ratio cut, explained", "https://d.example/1", wire_v1, T0 + HOUR);
    art(&a[1], "d2", "Unrelated: a port strike ends", "https://d.example/2",
        "<p>Dock workers went back to work.</p>", T0 + HOUR);
    art(&a[2], "d3", "The reserve ratio cut, explained", "https://d.example/1?utm_source=x",
        wire_v2, T0 + HOUR);
    art(&a[3], "d4", "创业板指下跌 宁德时代回购", "https://d.example/4", tb, T0 + HOUR);
    art(&a[4], "d5", "尾盘快讯", "https://d.example/5", tb2, T0 + HOUR);
    art(&a[5], "d6", "Market Wrap", "https://d.example/6", wrap_a, T0 + HOUR);
    art(&a[6], "d7", "Market Wrap", "https://d.example/7", wrap_b, T0 + HOUR);
    art(&a[7], "d8", "沪指上涨 茅台回购", "https://d.example/8", ta, T0 + HOUR);
    add_both(m, o, f2, a, 8, 1, T0 + 400,
             (enum store_outcome[]){STORE_NEW, STORE_NEW, STORE_DUPLICATE, STORE_NEW,
                                    STORE_DUPLICATE, STORE_NEW, STORE_NEW, STORE_NEW});
    same_rows(m, o);
    /* and again: a third wrap, and the first one by its link */
    art(&a[0], "d9", "Market Wrap", "https://d.example/9", wrap_c, T0 + HOUR);
    art(&a[1], "d10", "Market Wrap", "https://d.example/6#again", wrap_a, T0 + HOUR);
    add_both(m, o, f2, a, 2, 1, T0 + 500, (enum store_outcome[]){STORE_NEW, STORE_DUPLICATE});
    same_rows(m, o);
    /* a copy from a feed already among the article's sources changes
     * nothing: the generation stays */
    int64_t g2 = store_generation(m);
    art(&a[0], "d11", "Market Wrap", "https://d.example/6#once-more", wrap_a, T0 + HOUR);
    add_both(m, o, f2, a, 1, 1, T0 + 600, (enum store_outcome[]){STORE_DUPLICATE});
    assert_int_equal(store_generation(m), g2);
    free(tb);
    free(tb2);
    free(ta);

    /* an article without a guid fails the batch, as it fails store_add */
    art(&a[0], "g9", "A fine one", "https://a.example/9", "<p>9</p>", T0);
    art(&a[1], NULL, "No guid", NULL, "<p>x</p>", T0);
    const struct parse_article *bad[2] = {&a[0], &a[1]};
    enum store_outcome out[2];
    long before = count(m);
    assert_int_equal(store_begin(m), 0);
    assert_int_equal(store_add_many(m, f1, bad, NULL, 2, 1, T0, out), -EINVAL);
    store_rollback(m);
    assert_int_equal(count(m), before);
    free(body);
    store_close(m);
    store_close(o);
}

/* ---- the output query ---- */

static void
test_query(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f1 = feed(s, "sina"), f2 = feed(s, "wire");
    struct parse_article a;
    struct rows rs;
    char *cats1[] = {"金融", "新浪财经"}, *cats2[] = {"Markets"};

    art(&a, "s-1", "疫情持续胶着：长春累计确诊20000例", "https://a.example/1",
        "<p>长春市新增本土确诊病例<b>1123</b>例，社会面清零攻坚行动进入关键阶段。</p>", T0);
    a.categories = cats1;
    a.ncategories = 2;
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    art(&a, "w-1", "Fed signals patience on rates", "https://b.example/1",
        "<p>Federal Reserve officials signalled <i>patience</i> on interest rates; 50% odds.</p>",
        T0 + HOUR);
    a.categories = cats2;
    a.ncategories = 1;
    assert_int_equal(add(s, f2, &a, T0), STORE_NEW);
    art(&a, "w-2", "Gold hits a record as haven demand rises", "https://b.example/2",
        "<p>Gold rose to a record $2,070 an ounce in Hong Kong trading.</p>", T0 + 2 * HOUR);
    a.categories = cats2;
    a.ncategories = 1;
    assert_int_equal(add(s, f2, &a, T0), STORE_NEW);

    /* newest first */
    fetch(s, NULL, &rs);
    assert_int_equal(rs.n, 3);
    assert_string_equal(rs.r[0].title, "Gold hits a record as haven demand rises");
    assert_string_equal(rs.r[2].title, "疫情持续胶着：长春累计确诊20000例");
    int64_t gold = rs.r[0].id;
    rows_free(&rs);

    struct store_query q = {.feed = "wire"};
    assert_int_equal(nquery(s, &q), 2);
    q = (struct store_query){.feed = "nobody"};
    assert_int_equal(nquery(s, &q), 0);
    q = (struct store_query){.category = "Markets"};
    assert_int_equal(nquery(s, &q), 2);
    q = (struct store_query){.category = "新浪财经"};
    assert_int_equal(nquery(s, &q), 1);
    q = (struct store_query){.category = "Market"}; /* whole categories only */
    assert_int_equal(nquery(s, &q), 0);
    q = (struct store_query){.feed = "wire", .category = "Markets", .limit = 1};
    fetch(s, &q, &rs);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.r[0].id, gold);
    rows_free(&rs);
    q = (struct store_query){.id = gold};
    fetch(s, &q, &rs);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.r[0].title, "Gold hits a record as haven demand rises");
    rows_free(&rs);
    q = (struct store_query){.id = 9999};
    assert_int_equal(nquery(s, &q), 0);

    /* full text: FTS5 trigram for words of 3+ characters, in title and body
     * text (not in tags), any case */
    assert_int_equal(ntext(s, "patience"), 1);
    assert_int_equal(ntext(s, "PATIENCE"), 1);
    assert_int_equal(ntext(s, "signalled patience"), 1); /* every word, any order */
    assert_int_equal(ntext(s, "patience gold"), 0);
    assert_int_equal(ntext(s, "record"), 1);
    assert_int_equal(ntext(s, "社会面"), 1);
    assert_int_equal(ntext(s, "1123"), 1); /* inside <b> */
    assert_int_equal(ntext(s, "span"), 0);
    assert_int_equal(ntext(s, "\"quoted"), 0); /* quotes are text, not syntax */
    /* shorter words by a scan: a 2-character Chinese word */
    assert_int_equal(ntext(s, "长春"), 1);
    assert_int_equal(ntext(s, "长春 社会面"), 1);
    assert_int_equal(ntext(s, "长春 gold"), 0);
    assert_int_equal(ntext(s, "黄金"), 0);
    assert_int_equal(ntext(s, "Fed"), 1);
    assert_int_equal(ntext(s, "%"), 1); /* a literal %, not a wildcard */
    assert_int_equal(ntext(s, "_"), 0);
    assert_int_equal(ntext(s, "  "), 3); /* no words: no filter */
    q = (struct store_query){.text = "a b c d e f g h i j k l m n o p q"};
    assert_int_equal(store_articles(s, &q, on_row, &rs), -EINVAL);
    store_close(s);
}

/* ?q= words are case-insensitive substrings of the title or the body text,
 * whatever their script or length: SQLite's index only narrows the rows
 * (it knows which rows hold a trigram, not where), the text decides. */
static void
test_search_words(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f = feed(s, "wire");
    struct parse_article a;
    art(&a, "w-1", "ÉCONOMIE : la BCE face à l'ÄRGER des marchés", "https://b.example/1",
        "<p>Ο ΔΕΊΚΤΗΣ της ΑΘΉΝΑΣ; abcxyz cdeq; Москва ТОРГИ</p>", T0);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    art(&a, "w-2", "Gold", "https://b.example/2", "<p>en rule \"quoted\" 40%_off</p>", T0 + HOUR);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);

    assert_int_equal(ntext(s, "économie"), 1); /* folded beyond ASCII, both ways */
    assert_int_equal(ntext(s, "Ärger"), 1);
    assert_int_equal(ntext(s, "äR"), 1); /* a short word too */
    assert_int_equal(ntext(s, "αθήνα"), 1);
    assert_int_equal(ntext(s, "москва торги"), 1);
    assert_int_equal(ntext(s, "ТОРГИ"), 1);
    /* every trigram of the word is in the row, but not together */
    assert_int_equal(ntext(s, "abcdeq"), 0);
    assert_int_equal(ntext(s, "abcxyz"), 1);
    assert_int_equal(ntext(s, "bcxyz cdeq"), 1);
    assert_int_equal(ntext(s, "golden"), 0); /* title and body are apart */
    assert_int_equal(ntext(s, "gold"), 1);
    assert_int_equal(ntext(s, "\"quoted\""), 1);
    assert_int_equal(ntext(s, "\"quote\"d"), 0);
    assert_int_equal(ntext(s, "40%_"), 1);
    assert_int_equal(ntext(s, "40%x"), 0);
    /* what the index folds otherwise than towlower (and PostgreSQL's
     * lower()): İ is i; Cherokee, Georgian Mtavruli and Adlam fold too */
    art(&a, "w-3", "İSTANBUL BORSASI", "https://b.example/3",
        "<p>ᏣᎳᎩ ᲗᲑᲘᲚᲘᲡᲘ 𞤀𞤁𞤂𞤃</p>", T0 + 2 * HOUR);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    assert_int_equal(ntext(s, "istanbul"), 1);
    assert_int_equal(ntext(s, "İstanbul borsasi"), 1);
    assert_int_equal(ntext(s, "tanbul"), 1);
    assert_int_equal(ntext(s, "İİİ"), 0); /* asked as ("iii" OR "İİİ" …), no error */
    assert_int_equal(ntext(s, "ꮳꮃꭹ"), 1);
    assert_int_equal(ntext(s, "თბილისი"), 1);
    assert_int_equal(ntext(s, "𞤢𞤣𞤤𞤥"), 1);
    assert_int_equal(ntext(s, "𞤢𞤣𞤤𞤥𞤥"), 0);
    /* FTS5's syntax is only words: quotes, operators, keywords, controls */
    art(&a, "w-4", "Ops", "https://b.example/4",
        "<p>rock AND roll; NEAR(x y) k:v ^z *w (p ☃☃☃ 😀😀😀 e\xcc\x81te \"\"\"</p>",
        T0 + 3 * HOUR);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    const char *once[] = {"and",   "AND",   "or",  "NEAR",  "near(x", "k:v",      "^z",
                          "*w",    "(p",    "☃☃☃", "😀😀😀", "😀😀",     "e\xcc\x81te", "E\xcc\x81TE",
                          "\"\"\"", "\"\"",  "\"q", "d\"",   "v ^z",   "AND NEAR"  , "(",
                          "x y)"};
    for (size_t i = 0; i < sizeof(once) / sizeof(*once); i++)
        if (ntext(s, once[i]) != 1)
            fail_msg("\"%s\": %d rows, not 1", once[i], ntext(s, once[i]));
    const char *none[] = {"\"\"\"\"", "a\"b", "NOT", "\x01\x02\x03", "a\x01" "bc", "😀😀😀😀",
                          "ète", "e\xcc\x81\xcc\x81", "\xef\xbf\xbe\xef\xbf\xbe\xef\xbf\xbe"};
    for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++)
        if (ntext(s, none[i]) != 0)
            fail_msg("\"%s\": %d rows, not 0", none[i], ntext(s, none[i]));
    /* no UTF-8: in no text, on either backend (PostgreSQL would refuse it
     * as text, FTS5 would read it as characters of its own) */
    const char *bytes[] = {"ab\x80" "c", "\x80" "abc", "abc\xff", "\xc0\x80", "\xe0\x80\x80" "abc",
                           "\xed\xa0\x80", "\xf4\x90\x80\x80", "gold \xc3", "\xc3\xa9\x80"};
    for (size_t i = 0; i < sizeof(bytes) / sizeof(*bytes); i++)
        assert_int_equal(ntext(s, bytes[i]), 0);
    /* a keyword so, given by no configuration (its reader checks UTF-8) */
    const char *kw[] = {"ab\x80" "c"}, *turkish[] = {"istanbul"};
    struct store_watch w = {.any = {.keywords = kw, .nkeywords = 1}};
    struct store_query wq = {.watch = &w};
    struct rows rs;
    assert_int_equal(store_articles(s, &wq, on_row, &rs), -EINVAL);
    assert_non_null(strstr(store_errmsg(s), "not UTF-8"));
    w.any.keywords = turkish; /* a watchlist's keywords are searched alike */
    assert_int_equal(nquery(s, &wq), 1);
    /* lower case grows: Ⱥ's 2 bytes are ⱥ's 3 */
    art(&a, "w-5", "ȺȺȺȺȺȺȺȺ", "https://b.example/5", "<p>ⱦⱦⱦⱦ</p>", T0 + 4 * HOUR);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    assert_int_equal(ntext(s, "ⱥⱥⱥⱥⱥⱥⱥⱥ"), 1);
    assert_int_equal(ntext(s, "ȺȺȺȺȺȺȺȺȺ"), 0);
    assert_int_equal(ntext(s, "ȾȾȾȾ ⱥⱥⱥ"), 1);
    assert_int_equal(ntext(s, "e"), 3);
    assert_int_equal(ntext(s, "é"), 1);
    char *huge = malloc(20001); /* a word of 10,000 characters: no match, no trouble */
    for (int i = 0; i < 20000; i += 2)
        memcpy(huge + i, "Ω", 2);
    huge[20000] = '\0';
    assert_int_equal(ntext(s, huge), 0);
    free(huge);
    store_close(s);
}

/* ---- instruments (SPEC §12) ---- */

/* What store_articles gave: titles and tickers, "TITLE=[…]" a line. */
static int
on_ticker_row(void *arg, const struct store_article *a)
{
    fprintf(arg, "%s=%s\n", a->title, a->tickers_json);
    return 0;
}

static char *
ticker_rows(struct store *s, const struct store_query *q)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    int rc = store_articles(s, q, on_ticker_row, fp);
    if (rc != 0)
        fail_msg("store_articles: %d %s", rc, store_errmsg(s));
    assert_int_equal(fclose(fp), 0);
    return buf;
}

/* store_articles with q: "TITLE=[…]" lines, compared with want. */
static void
want_rows(struct store *s, const struct store_query *q, const char *want)
{
    char *got = ticker_rows(s, q);
    if (strcmp(got, want) != 0)
        fail_msg("got:\n%s\nwant:\n%s", got, want);
    free(got);
}

static int
on_top(void *arg, const char *ticker, long n)
{
    char line[64];
    snprintf(line, sizeof(line), "%s %ld;", ticker, n);
    strcat(arg, line);
    return 0;
}

/* Tickers are stored in their order, found by ticker; a duplicate's and
 * an update's are merged into the first article's; pruned with it. */
static void
test_tickers(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t sina = feed(s, "sina"), wire = feed(s, "wire"), cls = feed(s, "cls");
    struct parse_article a;
    char *t1[] = {"SSE:600519", "HKEX:0700"}, *t2[] = {"NASDAQ:AAPL"},
         *t3[] = {"HKEX:0700", "NYSE:BABA", "SSE:600519"}, *t4[] = {"SZSE:000001", "NYSE:BABA"};

    art(&a, "s-1", "贵州茅台与腾讯控股", "https://a.example/1", "<p>茅台（600519）</p>", T0);
    a.tickers = t1;
    a.ntickers = 2;
    assert_int_equal(add(s, sina, &a, T0), STORE_NEW);
    art(&a, "w-1", "Apple sells more phones", "https://b.example/1",
        "<p>Apple (NASDAQ: AAPL) rose.</p>", T0 + HOUR);
    a.tickers = t2;
    a.ntickers = 1;
    assert_int_equal(add(s, wire, &a, T0), STORE_NEW);
    art(&a, "w-2", "Rates: a cut in June", "https://b.example/2",
        "<p>Traders price a rate cut.</p>", T0 + 2 * HOUR);
    assert_int_equal(add(s, wire, &a, T0), STORE_NEW);
    want_rows(s, NULL,
              "Rates: a cut in June=[]\n"
              "Apple sells more phones=[\"NASDAQ:AAPL\"]\n"
              "贵州茅台与腾讯控股=[\"SSE:600519\",\"HKEX:0700\"]\n");

    /* a duplicate (same link) brings its tickers to the first article:
     * the new ones after, each once; the output changes */
    int64_t gen = store_generation(s);
    art(&a, "c-1", "茅台、腾讯", "https://a.example/1?utm_source=cls", "<p>x</p>", T0);
    a.tickers = t3;
    a.ntickers = 3;
    assert_int_equal(add(s, cls, &a, T0 + 60), STORE_DUPLICATE);
    assert_true(store_generation(s) != gen);
    const char *baba[] = {"NYSE:BABA"};
    struct store_query q = {.tickers = baba, .ntickers = 1};
    want_rows(s, &q, "贵州茅台与腾讯控股=[\"SSE:600519\",\"HKEX:0700\",\"NYSE:BABA\"]\n");
    /* the same duplicate again: nothing new */
    gen = store_generation(s);
    assert_int_equal(add(s, cls, &a, T0 + 120), STORE_UNCHANGED);
    assert_int_equal(store_generation(s), gen);
    /* an update keeps the tickers it had and adds its own */
    art(&a, "s-1", "贵州茅台与腾讯控股（更新）", "https://a.example/1", "<p>平安银行</p>", T0);
    a.tickers = t4;
    a.ntickers = 2;
    assert_int_equal(add(s, sina, &a, T0 + 180), STORE_UPDATED);
    want_rows(s, &q,
              "贵州茅台与腾讯控股（更新）=[\"SSE:600519\",\"HKEX:0700\",\"NYSE:BABA\","
              "\"SZSE:000001\"]\n");

    /* any of several; none; with the other filters */
    const char *two[] = {"NASDAQ:AAPL", "SZSE:000001"}, *none[] = {"NYSE:IBM"};
    q = (struct store_query){.tickers = two, .ntickers = 2};
    assert_int_equal(nquery(s, &q), 2);
    q = (struct store_query){.tickers = none, .ntickers = 1};
    assert_int_equal(nquery(s, &q), 0);
    q = (struct store_query){.tickers = two, .ntickers = 2, .feed = "wire"};
    want_rows(s, &q, "Apple sells more phones=[\"NASDAQ:AAPL\"]\n");
    q = (struct store_query){.tickers = two, .ntickers = 2, .text = "平安"};
    assert_int_equal(nquery(s, &q), 1);

    /* the most mentioned since a time: most first, ties by ticker */
    char top[512] = "";
    assert_int_equal(store_top_tickers(s, T0 - HOUR, 10, on_top, top), 0);
    assert_string_equal(top, "HKEX:0700 1;NASDAQ:AAPL 1;NYSE:BABA 1;SSE:600519 1;SZSE:000001 1;");
    art(&a, "w-3", "Tencent and Apple", "https://b.example/3", "<p>y</p>", T0 + 3 * HOUR);
    char *t5[] = {"HKEX:0700", "NASDAQ:AAPL"};
    a.tickers = t5;
    a.ntickers = 2;
    assert_int_equal(add(s, wire, &a, T0), STORE_NEW);
    top[0] = '\0';
    assert_int_equal(store_top_tickers(s, T0 - HOUR, 2, on_top, top), 0);
    assert_string_equal(top, "HKEX:0700 2;NASDAQ:AAPL 2;");
    top[0] = '\0';
    assert_int_equal(store_top_tickers(s, T0 + HOUR, 10, on_top, top), 0); /* by date */
    assert_string_equal(top, "NASDAQ:AAPL 2;HKEX:0700 1;");

    /* pruned with their article: the route and the counts forget them */
    assert_int_equal(store_prune(s, T0 + 30 * 60, T0 + 100 * HOUR, NULL), 0);
    q = (struct store_query){.tickers = baba, .ntickers = 1};
    assert_int_equal(nquery(s, &q), 0);
    top[0] = '\0';
    assert_int_equal(store_top_tickers(s, 0, 10, on_top, top), 0);
    assert_string_equal(top, "NASDAQ:AAPL 2;HKEX:0700 1;");
    store_close(s);
}

/* A watchlist: any of its tickers, keywords, categories, feeds; all_of
 * groups that must each match; none_of groups that may not. */
static void
test_watchlist(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t sina = feed(s, "sina"), wire = feed(s, "wire"), sec = feed(s, "sec");
    struct parse_article a;
    char *aapl[] = {"NASDAQ:AAPL"}, *baba[] = {"NYSE:BABA"}, *hk[] = {"HKEX:9988"};
    char *markets[] = {"Markets"}, *ads[] = {"Sponsored"}, *filings[] = {"Filings"};

    art(&a, "w-1", "Apple beats estimates", "https://b.example/1",
        "<p>Apple said iPhone sales rose.</p>", T0);
    a.tickers = aapl;
    a.ntickers = 1;
    a.categories = markets;
    a.ncategories = 1;
    assert_int_equal(add(s, wire, &a, T0), STORE_NEW);
    art(&a, "w-2", "Alibaba cloud spin-off", "https://b.example/2",
        "<p>Alibaba said its cloud unit would list.</p>", T0 + HOUR);
    a.tickers = baba;
    a.ntickers = 1;
    assert_int_equal(add(s, wire, &a, T0), STORE_NEW);
    art(&a, "s-1", "阿里巴巴港股走强", "https://a.example/1", "<p>阿里巴巴-SW 涨3%。</p>",
        T0 + 2 * HOUR);
    a.tickers = hk;
    a.ntickers = 1;
    assert_int_equal(add(s, sina, &a, T0), STORE_NEW);
    art(&a, "s-2", "央行降准 释放长期资金", "https://a.example/2",
        "<p>中国人民银行决定下调存款准备金率。</p>", T0 + 3 * HOUR);
    assert_int_equal(add(s, sina, &a, T0), STORE_NEW);
    art(&a, "s-3", "Sponsored: open an account", "https://a.example/3",
        "<p>Apple fans: a broker for you.</p>", T0 + 4 * HOUR);
    a.categories = ads;
    a.ncategories = 1;
    assert_int_equal(add(s, sina, &a, T0), STORE_NEW);
    art(&a, "e-1", "10-K: Apple Inc.", "https://sec.example/1", "<p>Annual report.</p>",
        T0 + 5 * HOUR);
    a.tickers = aapl;
    a.ntickers = 1;
    a.categories = filings;
    a.ncategories = 1;
    assert_int_equal(add(s, sec, &a, T0), STORE_NEW);

    /* any of the lists: an issuer's listings (the caller expands them),
     * keywords as ?q= (every word), a category, a feed */
    const char *issuer[] = {"NYSE:BABA", "HKEX:9988"}, *kw[] = {"降准", "iphone sales"},
               *cat[] = {"Filings"}, *fd[] = {"nobody"};
    struct store_watch w = {.any = {.tickers = issuer, .ntickers = 2}};
    struct store_query q = {.watch = &w};
    want_rows(s, &q, "阿里巴巴港股走强=[\"HKEX:9988\"]\nAlibaba cloud spin-off=[\"NYSE:BABA\"]\n");
    w = (struct store_watch){.any = {.keywords = kw, .nkeywords = 2}};
    want_rows(s, &q, "央行降准 释放长期资金=[]\nApple beats estimates=[\"NASDAQ:AAPL\"]\n");
    w = (struct store_watch){.any = {.tickers = issuer,
                                     .ntickers = 2,
                                     .keywords = kw,
                                     .nkeywords = 2,
                                     .categories = cat,
                                     .ncategories = 1,
                                     .feeds = fd,
                                     .nfeeds = 1}};
    assert_int_equal(nquery(s, &q), 5);

    /* "these feeds, but only about these tickers" */
    const char *desk_feeds[] = {"wire", "sec"}, *apple[] = {"NASDAQ:AAPL"};
    struct store_match only_apple = {.tickers = apple, .ntickers = 1};
    w = (struct store_watch){
        .any = {.feeds = desk_feeds, .nfeeds = 2}, .all_of = &only_apple, .nall_of = 1};
    want_rows(s, &q,
              "10-K: Apple Inc.=[\"NASDAQ:AAPL\"]\nApple beats estimates=[\"NASDAQ:AAPL\"]\n");
    /* all_of alone narrows every article; two groups must both match */
    const char *appleword[] = {"apple"};
    struct store_match groups[2] = {{.keywords = appleword, .nkeywords = 1},
                                    {.feeds = desk_feeds, .nfeeds = 2}};
    w = (struct store_watch){.all_of = groups, .nall_of = 1};
    assert_int_equal(nquery(s, &q), 3); /* the wire's, the filing, the advert */
    w = (struct store_watch){.all_of = groups, .nall_of = 2};
    assert_int_equal(nquery(s, &q), 2);
    /* none_of: an advert or a filing is never shown */
    const char *noise[] = {"Sponsored", "Filings"};
    struct store_match no_noise = {.categories = noise, .ncategories = 2};
    w = (struct store_watch){
        .any = {.keywords = appleword, .nkeywords = 1}, .none_of = &no_noise, .nnone_of = 1};
    want_rows(s, &q, "Apple beats estimates=[\"NASDAQ:AAPL\"]\n");
    struct store_match no_sec = {.feeds = (const char *[]){"sec"}, .nfeeds = 1};
    w = (struct store_watch){
        .any = {.tickers = apple, .ntickers = 1}, .none_of = &no_sec, .nnone_of = 1};
    want_rows(s, &q, "Apple beats estimates=[\"NASDAQ:AAPL\"]\n");
    /* with the route's own filters too */
    w = (struct store_watch){.any = {.tickers = issuer, .ntickers = 2}};
    q = (struct store_query){.watch = &w, .feed = "sina"};
    assert_int_equal(nquery(s, &q), 1);
    q = (struct store_query){.watch = &w, .limit = 1};
    want_rows(s, &q, "阿里巴巴港股走强=[\"HKEX:9988\"]\n");

    /* a keyword of too many words, or none, is refused as ?q= is */
    const char *bad[] = {"a b c d e f g h i j k l m n o p q"}, *empty[] = {"  "};
    struct rows rs;
    w = (struct store_watch){.any = {.keywords = bad, .nkeywords = 1}};
    q = (struct store_query){.watch = &w};
    assert_int_equal(store_articles(s, &q, on_row, &rs), -EINVAL);
    assert_non_null(strstr(store_errmsg(s), "more than 16 words"));
    w = (struct store_watch){.any = {.keywords = empty, .nkeywords = 1}};
    assert_int_equal(store_articles(s, &q, on_row, &rs), -EINVAL);
    store_close(s);
}

/* A store made before the tickers' table (SQLite schema 10, PostgreSQL 7)
 * gets it on open; its articles carry none until stored again. */
static void
test_tickers_migrate(void **state)
{
    (void)state;
    char where[512], err[512];
    struct store *s;
    struct parse_article a;
    db_where(where, sizeof(where), "tickers-migrate.db");
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    int64_t f = feed(s, "sina");
    art(&a, "s-1", "Before the tickers", "https://a.example/1", "<p>x</p>", T0);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    store_close(s);
    if (use_pg)
        sql_file(where,
                 "DROP TABLE article_tickers; UPDATE meta SET value = 7 WHERE key = 'schema'");
    else
        sql_file(where, "DROP TABLE article_tickers; DROP TABLE bands;"
                        " ALTER TABLE articles DROP COLUMN bands; PRAGMA user_version = 10");

    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    want_rows(s, NULL, "Before the tickers=[]\n");
    char *t[] = {"NYSE:BABA"};
    art(&a, "s-2", "After the tickers", "https://a.example/2", "<p>y</p>", T0 + HOUR);
    a.tickers = t;
    a.ntickers = 1;
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    const char *baba[] = {"NYSE:BABA"};
    struct store_query q = {.tickers = baba, .ntickers = 1};
    want_rows(s, &q, "After the tickers=[\"NYSE:BABA\"]\n");
    store_close(s);
}

static int user_version(const char *path);
static int64_t sql_int(const char *where, const char *sql);

/* A store made before schema 12 (the full-text index's default hashsize
 * and automerge) gets them on open, and its search finds what it found:
 * words through the index, a two-character word by LIKE. SQLite only
 * (PostgreSQL has no such index settings). */
static void
test_fts_migrate(void **state)
{
    (void)state;
    char where[512], err[512];
    struct store *s;
    struct parse_article a;
    db_where(where, sizeof(where), "fts-migrate.db");
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    int64_t f = feed(s, "sina");
    art(&a, "s-1", "央行宣布下调存款准备金率0.25个百分点", "https://a.example/1",
        "<p>Analysts said the cut frees liquidity.</p>", T0);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    art(&a, "s-2", "Gold hits a record as haven demand rises", "https://a.example/2",
        "<p>Gold rose to a record in Shanghai.</p>", T0 + HOUR);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    store_close(s);
    assert_int_equal(sql_int(where, "SELECT count(*) FROM articles_fts_config"
                                    " WHERE k IN ('hashsize', 'automerge')"), 2);
    sql_file(where, "DELETE FROM articles_fts_config WHERE k IN ('hashsize', 'automerge');"
                    " DROP TABLE bands; ALTER TABLE articles DROP COLUMN bands;"
                    " PRAGMA user_version = 11");

    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    store_close(s);
    assert_int_equal(user_version(where), store_schema_version());
    assert_int_equal(sql_int(where, "SELECT v FROM articles_fts_config WHERE k = 'hashsize'"),
                     8388608);
    assert_int_equal(sql_int(where, "SELECT v FROM articles_fts_config WHERE k = 'automerge'"),
                     8);
    /* schema 14: the index rebuilt, rows and settings kept, detail=none */
    assert_int_equal(sql_int(where, "SELECT count(*) FROM articles_fts"), 2);
    assert_int_equal(sql_int(where, "SELECT count(*) FROM sqlite_master WHERE name = 'articles_fts'"
                                    " AND sql LIKE '%detail=none%'"),
                     1);
    assert_int_equal(sql_int(where, "SELECT count(*) FROM sqlite_master"
                                    " WHERE name LIKE 'articles_fts14%'"),
                     0);
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    struct store_query q = {.text = "shanghai"};
    want_rows(s, &q, "Gold hits a record as haven demand rises=[]\n");
    q.text = "准备金率 LIQUIDITY";
    want_rows(s, &q, "央行宣布下调存款准备金率0.25个百分点=[]\n");
    q.text = "央行";
    want_rows(s, &q, "央行宣布下调存款准备金率0.25个百分点=[]\n");
    /* and what is stored after the migration is found too */
    art(&a, "s-3", "Copper slides on Chilean supply", "https://a.example/3",
        "<p>Copper fell in London.</p>", T0 + 2 * HOUR);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    q.text = "london";
    want_rows(s, &q, "Copper slides on Chilean supply=[]\n");
    store_close(s);
    assert_int_equal(sql_int(where, "SELECT count(*) FROM articles_fts"), 3);
}

/* ---- retention ---- */

static void
test_prune(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f1 = feed(s, "sina"), f2 = feed(s, "wire");
    struct parse_article a, b, c;
    long n = -1;
    char *body = body_of(rrr, 10, -1, NULL, NULL);

    int64_t g0 = store_generation(s);
    art(&a, "s-old", "央行宣布下调存款准备金率0.25个百分点", "https://a.example/old", body, T0);
    art(&b, "s-new", "Gold hits a record as haven demand rises", "https://a.example/new",
        "<p>new</p>", T0 + 100 * 24 * HOUR);
    assert_int_equal(add(s, f1, &a, T0), STORE_NEW);
    int64_t g1 = store_generation(s);
    assert_true(g1 != g0);
    assert_int_equal(add(s, f1, &b, T0), STORE_NEW);
    int64_t g2 = store_generation(s);
    assert_true(g2 != g1);
    /* an unchanged re-ingest does not change the generation */
    assert_int_equal(add(s, f1, &a, T0 + 1), STORE_UNCHANGED);
    assert_int_equal(add(s, f1, &b, T0 + 1), STORE_UNCHANGED);
    assert_int_equal(store_generation(s), g2);
    /* nor does an empty transaction */
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_generation(s), g2);
    /* a new source is a change (the article's sources are shown) */
    art(&c, "w-old", "降准0.25个百分点", "https://a.example/old?utm_source=w", "<p>c</p>", T0);
    assert_int_equal(add(s, f2, &c, T0), STORE_DUPLICATE);
    int64_t g3 = store_generation(s);
    assert_true(g3 != g2);

    /* nothing older than the cutoff: nothing pruned, generation stays */
    assert_int_equal(store_prune(s, T0 - 1, T0 + 200 * 24 * HOUR, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_generation(s), g3);
    assert_int_equal(store_prune(s, T0 + 50 * 24 * HOUR, T0 + 200 * 24 * HOUR, &n), 0);
    assert_int_equal(n, 1);
    assert_true(store_generation(s) != g3);
    assert_int_equal(count(s), 1);
    assert_int_equal(nquery(s, NULL), 1);
    assert_int_equal(ntext(s, "准备金"), 0); /* gone from the index too */

    /* tombstones: the old item, still listed, never comes back as new — nor
     * its copy in another feed (by guid, by link) */
    int64_t g4 = store_generation(s);
    assert_int_equal(add(s, f1, &a, T0 + 200 * 24 * HOUR), STORE_UNCHANGED);
    assert_int_equal(add(s, f2, &c, T0 + 200 * 24 * HOUR), STORE_UNCHANGED);
    art(&c, "x-old", "Another copy", "http://A.EXAMPLE/old#again", "<p>c</p>", T0);
    assert_int_equal(add(s, f2, &c, T0 + 200 * 24 * HOUR), STORE_UNCHANGED);
    assert_int_equal(count(s), 1);
    assert_int_equal(store_generation(s), g4);
    /* the recent one is untouched */
    assert_int_equal(add(s, f1, &b, T0 + 200 * 24 * HOUR), STORE_UNCHANGED);
    assert_int_equal(store_prune(s, T0 + 50 * 24 * HOUR, T0 + 200 * 24 * HOUR, NULL), 0);
    assert_int_equal(count(s), 1);
    free(body);
    store_close(s);
}

/* ---- tombstones expire (tombstone_retention) ---- */

#define DAY (24 * HOUR)

/* One integer from a one-row query on the store at `where` (a SQLite file
 * or a PostgreSQL URI), beside any open handle. */
static int64_t
sql_int(const char *where, const char *sql)
{
    int64_t v = -1;
    if (strncmp(where, "postgresql://", 13) == 0) {
        PGconn *c = PQconnectdb(where);
        if (PQstatus(c) != CONNECTION_OK)
            fail_msg("%s: %s", where, PQerrorMessage(c));
        PGresult *res = PQexec(c, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
            fail_msg("%s: %s", sql, PQresultErrorMessage(res));
        v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        PQfinish(c);
        return v;
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(where, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The number of tombstones last seen at `t`. */
static int64_t
seen_at(const char *where, int64_t t)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tombstones WHERE seen = %lld", (long long)t);
    return sql_int(where, sql);
}

/* A tombstone lives tombstone_retention after an item holding its keys was
 * last seen: pruned articles that feeds keep listing (by guid, by a copy's
 * guid, by link) stay tombstones however long; one no feed lists any more
 * expires, and its item is new when it comes back; a refresh is written at
 * most once an hour; a tombstone that went while its keys were found is
 * made again; column titles outlive their articles' tombstones. */
static void
test_tombstones(void **state)
{
    (void)state;
    char where[512], err[512];
    struct store *s;
    db_where(where, sizeof(where), "tombstones.db");
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    int64_t f1 = feed(s, "sina"), f2 = feed(s, "wire"), f3 = feed(s, "cls");
    int64_t prune_at = T0 + 100 * DAY, later = prune_at + 200 * DAY;
    struct parse_article listed, gone, copy, bylink, relink, live, w1, w2, o1, o2;
    long n = -1;

    art(&listed, "s-listed", "Listed for months after its story", "https://a.example/listed",
        "<p>listed</p>", T0);
    art(&gone, "s-gone", "Dropped from the feed the next day", "https://a.example/gone",
        "<p>gone</p>", T0);
    art(&copy, "w-copy", "The wire's copy of the listed one",
        "https://a.example/listed?utm_source=wire", "<p>copy</p>", T0);
    art(&bylink, "s-bylink", "Known again by its link only", "https://a.example/bylink",
        "<p>bylink</p>", T0);
    art(&relink, "w-relink", "The wire names it otherwise", "https://a.example/bylink#wire",
        "<p>relink</p>", T0 + DAY);
    art(&live, "s-live", "A story still young", "https://a.example/live", "<p>live</p>",
        prune_at);
    /* a column title (two links under one title in one feed), pruned too */
    art(&w1, "s-w1", "Evening Wrap: stocks close mixed", "https://a.example/wrap/1", "", T0);
    art(&w2, "s-w2", "Evening Wrap: stocks close mixed", "https://a.example/wrap/2", "",
        T0 + HOUR);
    assert_int_equal(add(s, f1, &listed, T0), STORE_NEW);
    assert_int_equal(add(s, f1, &gone, T0), STORE_NEW);
    assert_int_equal(add(s, f2, &copy, T0), STORE_DUPLICATE);
    assert_int_equal(add(s, f1, &bylink, T0), STORE_NEW);
    assert_int_equal(add(s, f1, &w1, T0), STORE_NEW);
    assert_int_equal(add(s, f1, &w2, T0 + HOUR), STORE_NEW);
    assert_int_equal(add(s, f1, &live, prune_at), STORE_NEW);
    assert_int_equal(store_prune(s, T0 + 50 * DAY, prune_at, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(count(s), 1);
    assert_int_equal(sql_int(where, "SELECT count(*) FROM tombstones"), 5);
    assert_int_equal(sql_int(where, "SELECT min(seen) FROM tombstones"), prune_at);

    /* 200 days on, feeds still list two of them: the first by its guid and
     * its copy's, the other under a new guid by its link */
    assert_int_equal(add(s, f1, &listed, later), STORE_UNCHANGED);
    assert_int_equal(add(s, f2, &copy, later), STORE_UNCHANGED);
    assert_int_equal(add(s, f2, &relink, later), STORE_UNCHANGED);
    assert_int_equal(seen_at(where, later), 2);
    /* seen again within the hour: not written again; after it, written */
    assert_int_equal(add(s, f1, &listed, later + 50 * 60), STORE_UNCHANGED);
    assert_int_equal(seen_at(where, later), 2);
    assert_int_equal(add(s, f1, &listed, later + 2 * HOUR), STORE_UNCHANGED);
    assert_int_equal(seen_at(where, later + 2 * HOUR), 1);

    /* tombstone_retention 150 days: those last seen at the prune expire
     * (the dropped item, the column's two), those seen since stay */
    int64_t before = later + 3 * HOUR - 150 * DAY;
    assert_int_equal(store_prune_tombstones(s, before, 100, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(store_prune_tombstones(s, before, 100, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(sql_int(where, "SELECT count(*) FROM tombstones"), 2);
    int64_t g = store_generation(s);
    /* still listed: never new, by any of their keys */
    assert_int_equal(add(s, f1, &listed, later + 3 * HOUR), STORE_UNCHANGED);
    assert_int_equal(add(s, f2, &copy, later + 3 * HOUR), STORE_UNCHANGED);
    assert_int_equal(add(s, f1, &bylink, later + 3 * HOUR), STORE_UNCHANGED);
    assert_int_equal(add(s, f2, &relink, later + 3 * HOUR), STORE_UNCHANGED);
    assert_int_equal(store_generation(s), g); /* expiring changed no article */
    /* expired: new again (the documented price), an article of its own */
    assert_int_equal(add(s, f1, &gone, later + 3 * HOUR), STORE_NEW);
    assert_int_equal(add(s, f1, &gone, later + 4 * HOUR), STORE_UNCHANGED);
    assert_int_equal(count(s), 2);
    /* the column title outlived its articles' tombstones: two other
     * publishers' headlines under it stay apart */
    art(&o1, "w-wrap", "Evening Wrap: stocks close mixed", "https://w.example/wrap", "", later);
    art(&o2, "c-wrap", "Evening Wrap — stocks close mixed", "https://c.example/wrap", "",
        later + HOUR);
    assert_int_equal(add(s, f2, &o1, later), STORE_NEW);
    assert_int_equal(add(s, f3, &o2, later + HOUR), STORE_NEW);
    assert_int_equal(count(s), 4);

    /* keys found while their tombstone went (another node expired it
     * meanwhile): the tombstone is made again, so they still expire */
    sql_file(where, "DELETE FROM tombstones");
    assert_int_equal(add(s, f1, &listed, later + 5 * HOUR), STORE_UNCHANGED); /* rule 1 */
    assert_int_equal(sql_int(where, "SELECT count(*) FROM tombstones"), 1);
    art(&relink, "w-relink-2", "The wire names it once more", "https://a.example/bylink",
        "<p>again</p>", T0 + 2 * DAY);
    assert_int_equal(add(s, f2, &relink, later + 5 * HOUR), STORE_UNCHANGED); /* rule 2 */
    assert_int_equal(sql_int(where, "SELECT count(*) FROM tombstones"), 2);
    assert_int_equal(store_prune_tombstones(s, later + 6 * HOUR, 100, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(add(s, f1, &listed, later + 6 * HOUR), STORE_NEW);
    assert_int_equal(add(s, f2, &relink, later + 6 * HOUR), STORE_NEW);
    store_close(s);
}

/* Pruning and expiring go in batches of at most the size asked, each a
 * transaction of its own; a pruned article's id is never given to a new
 * one, whose keys it would inherit: here the newest article pruned, then
 * a new one from the same feed, then the pruned item listed again, which
 * once overwrote the new article with the old item (SQLite handed out the
 * pruned id again). */
static void
test_tombstone_batches(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t f = feed(s, "sina"), prune_at = T0 + 100 * DAY;
    struct parse_article a[7], young, fresh;
    char guid[7][16], title[7][64];
    long n = -1;
    for (int i = 0; i < 7; i++) {
        snprintf(guid[i], sizeof(guid[i]), "g-%d", i);
        snprintf(title[i], sizeof(title[i]), "Story number %d of an old week", i);
        art(&a[i], guid[i], title[i], NULL, "<p>old</p>", T0 + i * HOUR);
        assert_int_equal(add(s, f, &a[i], T0 + i * HOUR), STORE_NEW);
    }
    art(&young, "g-young", "A young story that stays", NULL, "<p>young</p>", prune_at);
    assert_int_equal(add(s, f, &young, prune_at), STORE_NEW);
    assert_int_equal(store_prune_batch(s, T0 + 50 * DAY, prune_at, 0, &n), -EINVAL);
    assert_int_equal(store_prune_tombstones(s, prune_at, -1, &n), -EINVAL);
    assert_int_equal(count(s), 8);
    long want[] = {3, 3, 1, 0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(store_prune_batch(s, T0 + 50 * DAY, prune_at, 3, &n), 0);
        assert_int_equal(n, want[i]);
    }
    assert_int_equal(count(s), 1);
    /* tombstones: none expired yet (all seen at the prune); g-0 seen a day
     * later; then the other six, 1, 3, 2, 0; then g-0 */
    assert_int_equal(store_prune_tombstones(s, prune_at, 3, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(add(s, f, &a[0], prune_at + DAY), STORE_UNCHANGED);
    long max[] = {1, 3, 3, 3}, got[] = {1, 3, 2, 0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(store_prune_tombstones(s, prune_at + DAY, max[i], &n), 0);
        assert_int_equal(n, got[i]);
    }
    assert_int_equal(add(s, f, &a[1], prune_at + DAY), STORE_NEW); /* expired */
    assert_int_equal(store_prune_tombstones(s, prune_at + DAY + 1, 3, &n), 0);
    assert_int_equal(n, 1); /* g-0 */
    for (int i = 0; i < 7; i++)
        assert_int_equal(add(s, f, &a[i], prune_at + 2 * DAY),
                         i == 1 ? STORE_UNCHANGED : STORE_NEW); /* g-1: new a day before */
    assert_int_equal(count(s), 8);
    store_close(s);

    /* the newest article pruned, a new one after it, the pruned item again */
    s = mem_store();
    f = feed(s, "sina");
    assert_int_equal(add(s, f, &a[0], T0), STORE_NEW);
    assert_int_equal(store_prune(s, T0 + 50 * DAY, prune_at, &n), 0);
    assert_int_equal(n, 1);
    art(&fresh, "g-fresh", "A fresh story after the prune", NULL, "<p>fresh</p>", prune_at);
    assert_int_equal(add(s, f, &fresh, prune_at), STORE_NEW);
    assert_int_equal(add(s, f, &a[0], prune_at + HOUR), STORE_UNCHANGED);
    struct rows rs;
    fetch(s, NULL, &rs);
    assert_int_equal(rs.n, 1);
    assert_true(rs.r[0].id > 1);
    assert_string_equal(rs.r[0].title, "A fresh story after the prune");
    rows_free(&rs);
    store_close(s);
}

/* ---- files: migrations, bad files, locks ---- */

static char tmpdir[64];

static void
tmp_path(char *buf, size_t size, const char *name)
{
    if (tmpdir[0] == '\0') {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/finfeed-test-store-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
    }
    snprintf(buf, size, "%s/%s", tmpdir, name);
    unlink(buf);
    char side[600];
    snprintf(side, sizeof(side), "%s-wal", buf);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", buf);
    unlink(side);
}

static char *
slurp(const char *path, size_t *len)
{
    char *buf = test_slurp(path, len);
    if (buf == NULL)
        fail_msg("%s: %s", path, strerror(errno));
    return buf;
}

static void
spew(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

static int
user_version(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int v = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void
test_migrate_v1(void **state)
{
    (void)state;
    char path[512], err[512];
    struct store *s;
    struct rows rs;
    tmp_path(path, sizeof(path), "v1.db");
    char *dump = slurp(STORE_FIX "v1.sql", NULL);
    sql_file(path, dump);
    free(dump);
    assert_int_equal(user_version(path), 1);

    if (store_open(path, &s, err, sizeof(err)) != 0)
        fail_msg("store_open: %s", err);
    store_close(s);
    assert_int_equal(user_version(path), store_schema_version());
    /* and again: nothing left to migrate */
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);

    /* the rows survived, with their output ids; the hidden one stays hidden */
    assert_int_equal(count(s), 3);
    fetch(s, NULL, &rs);
    assert_int_equal(rs.n, 2);
    assert_string_equal(rs.r[0].uid, "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    assert_string_equal(rs.r[0].title, "Fed signals patience on rates");
    assert_string_equal(rs.r[1].uid, "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e");
    assert_string_equal(rs.r[1].sources, "[\"sina\",\"wire\"]");
    rows_free(&rs);
    /* the full-text index was built from the old rows */
    assert_int_equal(ntext(s, "patience"), 1);
    assert_int_equal(ntext(s, "社会面清零"), 1);
    assert_int_equal(ntext(s, "长春"), 1);
    assert_int_equal(ntext(s, "1123"), 1); /* body text, tags dropped */
    /* a feed's first successful fetch: its first article's first sight */
    struct store_feed_item items[4];
    size_t nitems = 0;
    int64_t first_ok = 0;
    assert_int_equal(store_feed_items(s, 1, items, 4, &nitems, &first_ok), 0);
    assert_int_equal(nitems, 2);
    assert_int_equal(first_ok, 1649038100);
    assert_int_equal(store_feed_items(s, 2, items, 4, &nitems, &first_ok), 0);
    assert_int_equal(first_ok, 1649041900);

    /* the dedup keys survived: a copy is a copy, an update keeps the id */
    int64_t sina = feed(s, "sina"), wire = feed(s, "wire"), cls = feed(s, "cls");
    assert_int_equal(sina, 1);
    assert_int_equal(wire, 2);
    struct parse_article a;
    art(&a, "wire-1", "whatever", NULL, "<p>x</p>", T0);
    assert_int_equal(add(s, wire, &a, T0 + 9999), STORE_UNCHANGED);
    art(&a, "cls-5", "Fed: patience", "http://WIRE.example.net/fed-7?utm_source=c", "<p>y</p>", T0);
    assert_int_equal(add(s, cls, &a, T0 + 9999), STORE_DUPLICATE);
    art(&a, "sina-1", "疫情持续胶着：长春累计确诊20000例（更新）", NULL, "<p>更新</p>", T0);
    assert_int_equal(add(s, sina, &a, T0 + 9999), STORE_UPDATED);
    struct store_query q = {.feed = "sina"};
    fetch(s, &q, &rs);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.r[0].uid, "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e");
    assert_string_equal(rs.r[0].title, "疫情持续胶着：长春累计确诊20000例（更新）");
    rows_free(&rs);
    assert_int_equal(ntext(s, "更新"), 1);
    assert_int_equal(ntext(s, "1123"), 0);
    assert_int_equal(count(s), 3);
    store_close(s);
}

/* One text column of one row of the SQLite file at path (caller frees). */
static char *
sql_text1(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    char *v = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_non_null(v);
    return v;
}

/* Schema 13 from schema 12 (tests/fixtures/store/v12.sql: six articles, 88
 * keys, 48 of them bands of three articles, one key row twice): the bands
 * move to their own table and each banded article's row lists them; keys
 * become clustered by article, the identical row once; rule 4 finds the
 * moved bands, and prune deletes them by the row's list. */
static void
test_migrate_v12(void **state)
{
    (void)state;
    char path[512], err[512];
    struct store *s;
    struct parse_article a;
    long problems = -1, deleted = 0;
    tmp_path(path, sizeof(path), "v12.db");
    char *dump = slurp(STORE_FIX "v12.sql", NULL);
    sql_file(path, dump);
    free(dump);
    assert_int_equal(user_version(path), 12);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM keys"), 88);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM keys WHERE kind = 4"), 48);

    if (store_open(path, &s, err, sizeof(err)) != 0)
        fail_msg("store_open: %s", err);
    store_close(s);
    assert_int_equal(user_version(path), store_schema_version());
    assert_int_equal(sql_int(path, "SELECT count(*) FROM keys"), 88 - 48 - 1);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM keys WHERE kind = 4"), 0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM bands"), 48);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM articles WHERE bands IS NOT NULL"), 3);
    assert_int_equal(sql_int(path, "SELECT min(json_array_length(bands)) FROM articles"
                                   " WHERE bands IS NOT NULL"),
                     16);
    /* every band listed by its article's row, and every row's band stored */
    assert_int_equal(sql_int(path, "SELECT count(*) FROM articles a, json_each(a.bands) j"
                                   " WHERE NOT EXISTS (SELECT 1 FROM bands b"
                                   " WHERE b.key = j.value AND b.article_id = a.id)"),
                     0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM bands b WHERE NOT EXISTS"
                                   " (SELECT 1 FROM articles a, json_each(a.bands) j"
                                   " WHERE a.id = b.article_id AND j.value = b.key)"),
                     0);
    assert_int_equal(
        sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'keys_article'"), 0);
    assert_int_equal(store_check(path, NULL, NULL, &problems, err, sizeof(err)), 0);
    assert_int_equal(problems, 0);

    /* a banded article's body again, from another feed, under another title
     * and link: rule 4 finds it through the bands the migration moved */
    int64_t id = sql_int(path, "SELECT min(id) FROM articles WHERE bands IS NOT NULL");
    char q[160];
    snprintf(q, sizeof(q), "SELECT body FROM articles WHERE id = %lld", (long long)id);
    char *body = sql_text1(path, q);
    snprintf(q, sizeof(q), "SELECT date FROM articles WHERE id = %lld", (long long)id);
    int64_t date = sql_int(path, q);
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    int64_t other = feed(s, "other");
    long before = count(s);
    art(&a, "other-1", "A title of its own", "https://other.example/1", body, date + HOUR);
    assert_int_equal(add(s, other, &a, date + 2 * HOUR), STORE_DUPLICATE);
    assert_int_equal(count(s), before);
    /* and a new banded article's bands are listed by its row as it is written */
    char *fresh = body_of(rrr, 10, -1, NULL, NULL);
    art(&a, "other-2", "降准落地：释放长期资金", "https://other.example/2", fresh, date);
    assert_int_equal(add(s, other, &a, date + 2 * HOUR), STORE_NEW);
    store_close(s);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM articles WHERE bands IS NOT NULL"), 4);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM bands"), 64);
    /* its update (a paragraph less) adds the bands it did not have, and
     * its row lists them too */
    char *less = body_of(rrr, 10, 6, NULL, NULL);
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    art(&a, "other-2", "降准落地：释放长期资金", "https://other.example/2", less, date);
    assert_int_equal(add(s, other, &a, date + 3 * HOUR), STORE_UPDATED);
    store_close(s);
    free(less);
    free(fresh);
    free(body);
    int64_t more = sql_int(path, "SELECT count(*) FROM bands");
    assert_true(more > 64 && more <= 64 + 16);
    assert_int_equal(sql_int(path, "SELECT sum(json_array_length(bands)) FROM articles"), more);
    assert_int_equal(store_check(path, NULL, NULL, &problems, err, sizeof(err)), 0);
    assert_int_equal(problems, 0);

    /* prune everything: the bands go with their articles, the exact keys stay
     * (the tombstones) */
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    /* (the fixture's rows were first seen when it was made, in 2026) */
    int64_t far = (int64_t)time(NULL) + 800 * 24 * HOUR;
    assert_int_equal(store_prune(s, far, far, &deleted), 0);
    store_close(s);
    assert_int_equal(deleted, before + 1);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM bands"), 0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM keys WHERE kind = 3"), 0);
    assert_true(sql_int(path, "SELECT count(*) FROM keys WHERE kind = 1") > 0);
    assert_int_equal(store_check(path, NULL, NULL, &problems, err, sizeof(err)), 0);
    assert_int_equal(problems, 0);
}

/* SPEC §3 dates in the store: a publisher's date not believed is kept beside
 * the article's; rows a CMS dated 1970 before schema 4 are repaired; nothing
 * first seen within a day is pruned, whatever its date. */
static void
test_dates_not_believed(void **state)
{
    (void)state;
    char path[512], err[512];
    struct store *s;
    struct rows rs;
    struct parse_article a;
    long n = -1;
    /* the repair of schema 4 is of SQLite files (the v1 fixture, 3 articles,
     * 2 of them shown); PostgreSQL starts at a schema that has the column */
    int v1 = !use_pg;

    /* a v1 database whose CMS said 1970 (and, for another row, 2035) */
    db_where(path, sizeof(path), "dates.db");
    if (v1) {
        char *dump = slurp(STORE_FIX "v1.sql", NULL);
        sql_file(path, dump);
        free(dump);
        sql_file(path, "UPDATE articles SET date = 0 WHERE id = 2;"
                       "UPDATE articles SET date = 2051222400 WHERE id = 1;");
    }
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    if (v1) {
        fetch(s, NULL, &rs);
        assert_int_equal(rs.n, 2);
        for (int i = 0; i < rs.n; i++)
            assert_true(rs.r[i].date == 1649041900 || rs.r[i].date == 1649040700); /* first seen */
        rows_free(&rs);
    }

    /* storing: the rejected date comes back for output */
    int64_t f = feed(s, "cms");
    art(&a, "cms-1", "Epoch-dated story from a broken CMS", "https://cms.example/1", "<p>x</p>",
        T0);
    a.date_rejected = 1;
    a.rejected_date = 0;
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    art(&a, "cms-2", "A story with a date believed", "https://cms.example/2", "<p>y</p>", T0);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    struct rejected r = {.value = -1};
    struct store_query q = {.feed = "cms"};
    assert_int_equal(store_articles(s, &q, on_rejected, &r), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.nrejected, 1);
    assert_int_equal(r.value, 0);
    /* the repaired rows keep what the CMS said */
    r = (struct rejected){.value = -1};
    assert_int_equal(store_articles(s, NULL, on_rejected, &r), 0);
    assert_int_equal(r.nrejected, v1 ? 3 : 1);

    /* prune: a 1970 row first seen an hour ago stays; a day later it goes */
    sql_file(path, "UPDATE articles SET date = 0, first_seen = 1700000000 WHERE guid = 'cms-1'");
    assert_int_equal(store_prune(s, 1700000000 - 90 * 24 * HOUR, 1700000000 + HOUR, &n), 0);
    assert_int_equal(n, v1 ? 4 : 1); /* the 2022 rows, first seen in 2022, go */
    assert_int_equal(count(s), 1);
    assert_int_equal(nquery(s, &q), 1);
    assert_int_equal(store_prune(s, 1700000000 - 90 * 24 * HOUR, 1700000000 + 25 * HOUR, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(count(s), 0);
    store_close(s);
}

/* After the tombstones' migration of a store that had, from before it: a
 * pruned article's keys (id 9, above the newest article's 2), and guid
 * and feed-title keys of a pruned sina item whose id the store gave to the
 * wire's article 2 since (sina is no source of it). Migrated between t0
 * and t1: both are tombstones seen then, the one moved to an id of its own
 * (11: its id + the largest before), the next article's id past them. */
static void
check_migrated_tombstones(const char *where, int64_t t0, int64_t t1)
{
    char err[512];
    struct store *s;
    struct parse_article a;
    long n = -1, problems = -1;
    assert_int_equal(sql_int(where, "SELECT count(*) FROM tombstones"), 2);
    assert_int_equal(sql_int(where, "SELECT min(article_id) FROM tombstones"), 9);
    assert_int_equal(sql_int(where, "SELECT max(article_id) FROM tombstones"), 11);
    assert_true(sql_int(where, "SELECT min(seen) FROM tombstones") >= t0);
    assert_true(sql_int(where, "SELECT max(seen) FROM tombstones") <= t1);
    /* title and body keys of pruned articles gone; the wire's own keys kept */
    assert_int_equal(sql_int(where, "SELECT count(*) FROM keys WHERE kind IN (3, 4)"
                                    " AND article_id = 9"),
                     0);
    assert_int_equal(sql_int(where, "SELECT count(*) FROM keys WHERE article_id = 11"), 2);
    assert_int_equal(sql_int(where, "SELECT count(*) FROM keys WHERE kind = 1 AND article_id = 2"),
                     1);
    assert_int_equal(store_check(where, NULL, NULL, &problems, err, sizeof(err)), 0);
    assert_int_equal(problems, 0);

    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    int64_t sina = feed(s, "sina"), wire = feed(s, "wire");
    assert_int_equal(sina, 1);
    assert_int_equal(wire, 2);
    /* the pruned items, listed again: no news, whichever key finds them */
    art(&a, "sina-reused", "A reused id's old story, listed again", "https://a.example/reused",
        "<p>old</p>", T0);
    assert_int_equal(add(s, sina, &a, t1), STORE_UNCHANGED);
    art(&a, "sina-old", "An old story, listed again", "https://a.example/old", "<p>old</p>", T0);
    assert_int_equal(add(s, sina, &a, t1), STORE_UNCHANGED);
    art(&a, "wire-old", "The wire lists the old story too", "https://a.example/old#w",
        "<p>w</p>", T0);
    assert_int_equal(add(s, wire, &a, t1), STORE_UNCHANGED);
    /* a new article takes an id past every one the keys name */
    art(&a, "sina-new", "A new story after the upgrade", "https://a.example/new", "<p>new</p>",
        t1);
    assert_int_equal(add(s, sina, &a, t1), STORE_NEW);
    struct rows rs;
    struct store_query q = {.limit = 1, .feed = "sina"};
    fetch(s, &q, &rs);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.r[0].id, 12);
    rows_free(&rs);
    /* both expire tombstone_retention after the upgrade, not before */
    assert_int_equal(store_prune_tombstones(s, t0, 100, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_prune_tombstones(s, t1 + 1, 100, &n), 0);
    assert_int_equal(n, 2);
    art(&a, "sina-old", "An old story, listed again", "https://a.example/old", "<p>old</p>", T0);
    assert_int_equal(add(s, sina, &a, t1 + 1), STORE_NEW);
    store_close(s);
}

/* SQLite schema 8 from schema 1 (the v1 fixture with the keys above):
 * tombstones with a last seen, ids never handed out twice. */
static void
test_migrate_tombstones(void **state)
{
    (void)state;
    char path[512], err[512];
    struct store *s;
    tmp_path(path, sizeof(path), "v1-tombstones.db");
    char *dump = slurp(STORE_FIX "v1.sql", NULL);
    sql_file(path, dump);
    free(dump);
    sql_file(path,
             "INSERT INTO keys VALUES(1, '1' || char(31) || 'sina-old', 9, 1640000000);"
             "INSERT INTO keys VALUES(2, 'https://a.example/old', 9, 1640000000);"
             "INSERT INTO keys VALUES(3, 'anoldstorylistedagain', 9, 1640000000);"
             "INSERT INTO keys VALUES(4, 12345, 9, 1640000000);"
             "INSERT INTO keys VALUES(1, '1' || char(31) || 'sina-reused', 2, 1640000000);"
             "INSERT INTO keys VALUES(5, '1' || char(31) || 'areusedidsoldstory' || char(31)"
             " || 'https://a.example/reused', 2, 1640000000);");
    int64_t t0 = (int64_t)time(NULL);
    if (store_open(path, &s, err, sizeof(err)) != 0)
        fail_msg("store_open: %s", err);
    store_close(s);
    /* glibc's time() reads a coarse clock that can lag the database's
     * own by a tick, across a second's boundary */
    int64_t t1 = (int64_t)time(NULL) + 1;
    assert_int_equal(user_version(path), store_schema_version());
    assert_int_equal(sql_int(path, "SELECT value FROM meta WHERE key = 'article_floor'"), 11);
    check_migrated_tombstones(path, t0, t1);
}

static void
test_migrate_v0_and_future(void **state)
{
    (void)state;
    char path[512], err[512];
    struct store *s;

    /* version 0: an empty file (and a path that does not exist yet) */
    tmp_path(path, sizeof(path), "v0.db");
    spew(path, "");
    if (store_open(path, &s, err, sizeof(err)) != 0)
        fail_msg("store_open: %s", err);
    assert_int_equal(count(s), 0);
    store_close(s);
    assert_int_equal(user_version(path), store_schema_version());
    tmp_path(path, sizeof(path), "new.db");
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    store_close(s);
    assert_int_equal(user_version(path), store_schema_version());

    /* a newer finfeed's database is refused, untouched */
    tmp_path(path, sizeof(path), "v99.db");
    sql_file(path, "CREATE TABLE future(x); PRAGMA user_version = 99;");
    s = (struct store *)1;
    assert_int_equal(store_open(path, &s, err, sizeof(err)), -EPROTO);
    assert_null(s);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "schema 99 is newer"));
    assert_int_equal(user_version(path), 99);
}

static void
test_bad_files(void **state)
{
    (void)state;
    char path[512], err[512];
    struct store *s = NULL;

    /* not SQLite at all */
    tmp_path(path, sizeof(path), "text.db");
    spew(path, "[daemon]\ndatabase = this is a configuration file, not a database\n"
               "padding padding padding padding padding padding padding padding padding\n");
    assert_int_equal(store_open(path, &s, err, sizeof(err)), -EIO);
    assert_null(s);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "not a database"));
    char *after = slurp(path, NULL);
    assert_non_null(strstr(after, "this is a configuration file"));
    free(after);

    /* SQLite, but some other program's */
    tmp_path(path, sizeof(path), "other.db");
    sql_file(path, "CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES('x');");
    assert_int_equal(store_open(path, &s, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "not a finfeed database"));
    assert_int_equal(user_version(path), 0);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK); /* left as it was: not WAL */
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete");
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* a directory that does not exist */
    assert_int_equal(store_open("/nonexistent-dir/x/finfeed.db", &s, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent-dir/x/finfeed.db"));
}

/* A second connection reading (BEGIN; SELECT …) while the store writes: WAL
 * lets both go on. */
static void
test_locked_reader(void **state)
{
    (void)state;
    char path[512], err[512];
    struct store *s;
    sqlite3 *db;
    sqlite3_stmt *st;
    struct parse_article a;
    tmp_path(path, sizeof(path), "read.db");
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    int64_t f = feed(s, "sina");
    art(&a, "g1", "First article of the locked test", "https://a.example/1", "<p>1</p>", T0);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM articles", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_reset(st);

    time_t t = time(NULL);
    art(&a, "g2", "Second article of the locked test", "https://a.example/2", "<p>2</p>", T0);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    assert_true(time(NULL) - t < 3); /* did not wait for the reader */
    assert_int_equal(count(s), 2);
    /* the reader still sees its snapshot */
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    t = time(NULL);
    store_close(s);
    assert_true(time(NULL) - t < 3);
}

/* A reader's snapshot keeps the WAL from being reset, so it grows by what is
 * written meanwhile; once the reader is gone the WAL is reset and its file
 * must come back to the journal size limit instead of staying at its peak
 * (bench/soak saw a 164 MiB WAL beside a 30 MiB database, for good). */
static void
test_wal_limit(void **state)
{
    (void)state;
    char path[512], wal[520], err[512], guid[32], title[64], link[64];
    struct store *s;
    sqlite3 *db;
    sqlite3_stmt *st;
    struct parse_article a;
    struct stat sb;
    const long limit = 16L << 20;
    size_t blen = 12000;
    char *body = malloc(blen + 1);
    uint32_t x = 12345;
    assert_non_null(body);
    tmp_path(path, sizeof(path), "wal.db");
    snprintf(wal, sizeof(wal), "%s-wal", path);
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    int64_t f = feed(s, "wal");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM articles", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    sqlite3_finalize(st);
    int n = 0;
    for (; n < 2000 && (stat(wal, &sb) != 0 || sb.st_size <= limit + (4L << 20)); n++) {
        for (size_t i = 0; i < blen; i++) { /* a text of its own: no rule merges two */
            x = x * 1103515245u + 12345u;
            body[i] = (x >> 16) % 7 == 0 ? ' ' : (char)('a' + (x >> 16) % 26);
        }
        memcpy(body, "<p>", 3), memcpy(body + blen - 4, "</p>", 4), body[blen] = '\0';
        snprintf(guid, sizeof(guid), "w%d", n);
        snprintf(title, sizeof(title), "WAL story number %d", n);
        snprintf(link, sizeof(link), "https://wal.example/%d", n);
        art(&a, guid, title, link, body, T0);
        assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    }
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size > limit); /* the reader kept it from being reset */
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* the next commits checkpoint it, reset it and truncate the file */
    for (int i = 0; i < 3; i++) {
        snprintf(guid, sizeof(guid), "after%d", i);
        snprintf(title, sizeof(title), "After the reader, story %d", i);
        snprintf(link, sizeof(link), "https://wal.example/after/%d", i);
        art(&a, guid, title, link, "<p>after</p>", T0);
        assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    }
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size <= limit);
    assert_int_equal(count(s), n + 3);
    store_close(s);
    free(body);
}

/* Another process holding the write lock for a second: the store waits for
 * it, then writes. */
static void
test_locked_writer(void **state)
{
    (void)state;
    char path[512], err[512];
    struct store *s;
    struct parse_article a;
    int ready[2];
    tmp_path(path, sizeof(path), "write.db");
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    int64_t f = feed(s, "sina");
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *db;
        close(ready[0]);
        if (sqlite3_open(path, &db) != SQLITE_OK ||
            sqlite3_exec(db, "BEGIN IMMEDIATE; UPDATE meta SET value = value WHERE 0;", NULL, NULL,
                         NULL) != SQLITE_OK)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(db);
        _exit(0);
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    art(&a, "g1", "Written while another process held the lock", "https://a.example/1", "<p>1</p>",
        T0);
    assert_int_equal(add(s, f, &a, T0), STORE_NEW);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(waited > 0.5 && waited < 9.0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(count(s), 1);
    store_close(s);
}

/* ---- end to end: finfeed ingest, export, prune ---- */

/* Run argv (argv[0] a path) with stdout and stderr into files; the exit
 * status, or -1. */
static int
run(const char *const *argv, const char *out, const char *errf)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

struct e2e {
    char dir[512], conf[600], out[600], err[600];
};

/* `finfeed CMD -c CONF ARGS…` (NULL-terminated), stdout in e->out; asserts
 * the exit status. Returns what it printed (caller frees). */
static char *
finfeed(struct e2e *e, int want, const char *cmd, ...)
{
    const char *argv[16] = {FINFEED_BIN, cmd, "-c", e->conf};
    int n = 4;
    va_list ap;
    va_start(ap, cmd);
    for (const char *a; n < 15 && (a = va_arg(ap, const char *)) != NULL;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int rc = run(argv, e->out, e->err);
    if (rc != want) {
        char *msg = slurp(e->err, NULL);
        fail_msg("finfeed %s %s: exit %d, expected %d: %s", cmd, argv[4] ? argv[4] : "", rc, want,
                 msg);
    }
    return slurp(e->out, NULL);
}

static json_t *
export_json(struct e2e *e)
{
    char *doc = finfeed(e, 0, "export", "--format", "json", NULL);
    json_error_t je;
    json_t *root = json_loads(doc, 0, &je);
    if (root == NULL)
        fail_msg("export --format json: %s: %s", je.text, doc);
    free(doc);
    return root;
}

static size_t
occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* check_feed.py (feedparser without bozo, RFC 4287 / JSON Feed MUSTs). */
static void
check_feed(struct e2e *e, const char *format, const char *file)
{
    char out[700];
    snprintf(out, sizeof(out), "%s/check.out", e->dir);
    const char *argv[] = {PYTHON, CHECKER, format, file, NULL};
    int rc = run(argv, out, out);
    if (rc == 77) {
        fprintf(stderr, "check_feed.py: feedparser missing, %s not validated\n", format);
        return;
    }
    if (rc != 0) {
        char *msg = slurp(out, NULL);
        fail_msg("check_feed.py %s %s: exit %d: %s", format, file, rc, msg);
    }
}

static const char *const stories[] = {
    "疫情持续胶着：长春累计确诊20000例，社会面清零再推进",
    "Fed signals patience on rates as inflation cools",
    "央行宣布下调存款准备金率0.25个百分点",
};

struct md_file {
    char name[256];
    ino_t ino;
    struct timespec mtime;
};

static int
md_list(const char *dir, struct md_file *files, int max)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        assert_true(n < max);
        char path[1024];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        assert_int_equal(stat(path, &st), 0);
        snprintf(files[n].name, sizeof(files[n].name), "%s", de->d_name);
        files[n].ino = st.st_ino;
        files[n].mtime = st.st_mtim;
        n++;
    }
    closedir(d);
    return n;
}

static void
test_cli_end_to_end(void **state)
{
    (void)state;
    struct e2e e;
    char *out;
    snprintf(e.dir, sizeof(e.dir), "/tmp/finfeed-test-e2e-XXXXXX");
    assert_non_null(mkdtemp(e.dir));
    snprintf(e.conf, sizeof(e.conf), "%s/finfeed.conf", e.dir);
    snprintf(e.out, sizeof(e.out), "%s/stdout", e.dir);
    snprintf(e.err, sizeof(e.err), "%s/stderr", e.dir);
    /* SQLite: a file beside the configuration; PostgreSQL: a URI (SPEC §10) */
    char db[600], conf[2048];
    if (use_pg)
        pg_database(db, sizeof(db));
    else
        snprintf(db, sizeof(db), "%.500s/store.db", e.dir);
    snprintf(conf, sizeof(conf),
             "[daemon]\n"
             "database = %s\n"
             "retention = 1d\n"
             "[output]\n"
             "title = Finance news\n"
             "[feed \"sina\"]\n"
             "url = https://finance.example.com/rss.xml\n"
             "categories = 金融\n"
             "[feed \"wire\"]\n"
             "url = https://wire.example.net/atom.xml\n"
             "[feed \"cls\"]\n"
             "url = https://www.example.cn/telegraph.xml\n",
             use_pg ? db : "store.db   # beside this file");
    spew(e.conf, conf);

    /* three sources, the same three stories, one story each of their own */
    out = finfeed(&e, 0, "ingest", "--feed", "sina", STORE_FIX "sina_gbk.xml", NULL);
    assert_string_equal(out, STORE_FIX "sina_gbk.xml: new 4, updated 0, duplicates 0, "
                                       "unchanged 0\n");
    free(out);
    out = finfeed(&e, 0, "ingest", "--feed", "wire", "--json", STORE_FIX "wire.atom", NULL);
    json_t *o = json_loads(out, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "file")), STORE_FIX "wire.atom");
    assert_int_equal(json_integer_value(json_object_get(o, "new")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "updated")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "duplicates")), 3);
    assert_int_equal(json_integer_value(json_object_get(o, "unchanged")), 0);
    json_decref(o);
    free(out);
    /* two files at once, --json: one object a line */
    out = finfeed(&e, 0, "ingest", "--json", "--feed", "cls", STORE_FIX "cls_utm.xml",
                  STORE_FIX "cls_utm.xml", NULL);
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    *nl = '\0';
    o = json_loads(out, 0, NULL);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "new")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "duplicates")), 3);
    json_decref(o);
    o = json_loads(nl + 1, 0, NULL);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "new")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "unchanged")), 4);
    json_decref(o);
    free(out);
    out = finfeed(&e, 0, "ingest", "--feed", "sina", STORE_FIX "sina_gbk.xml", NULL);
    assert_non_null(strstr(out, "new 0, updated 0, duplicates 0, unchanged 4"));
    free(out);

    /* JSON Feed: each story once, with all its sources, first source first */
    json_t *root = export_json(&e);
    json_t *items = json_object_get(root, "items");
    assert_int_equal(json_array_size(items), 6);
    for (size_t k = 0; k < 3; k++) {
        int seen = 0;
        for (size_t i = 0; i < json_array_size(items); i++) {
            json_t *it = json_array_get(items, i);
            if (strcmp(json_string_value(json_object_get(it, "title")), stories[k]) != 0)
                continue;
            seen++;
            char *src = json_dumps(json_object_get(json_object_get(it, "_finfeed"), "sources"),
                                   JSON_COMPACT);
            assert_string_equal(src, "[\"sina\",\"wire\",\"cls\"]");
            free(src);
        }
        assert_int_equal(seen, 1);
    }
    /* the GBK feed's title decoded, its link as sina gave it */
    json_t *first = json_array_get(items, 5);
    assert_string_equal(json_string_value(json_object_get(first, "title")), stories[0]);
    assert_string_equal(json_string_value(json_object_get(first, "url")),
                        "https://finance.example.com/china/2022-04-04/doc-s1.shtml");
    json_decref(root);
    snprintf(e.out, sizeof(e.out), "%s/feed.json", e.dir);
    free(finfeed(&e, 0, "export", "--format", "json", NULL));
    check_feed(&e, "json", e.out);

    /* Atom and RSS: valid, each story once */
    static const char *const formats[] = {"atom", "rss"};
    for (int f = 0; f < 2; f++) {
        snprintf(e.out, sizeof(e.out), "%s/feed.%s", e.dir, formats[f]);
        char *doc = finfeed(&e, 0, "export", "--format", formats[f], NULL);
        check_feed(&e, formats[f], e.out);
        assert_int_equal(occurrences(doc, "<entry>") + occurrences(doc, "<item>"), 6);
        for (size_t k = 0; k < 3; k++) {
            char t[256];
            snprintf(t, sizeof(t), "<title>%s</title>", stories[k]);
            if (strstr(stories[k], "Fed") == NULL)
                assert_int_equal(occurrences(doc, t), 1);
        }
        assert_int_equal(occurrences(doc, "Fed signals patience on rates as inflation cools"), 1);
        free(doc);
    }
    snprintf(e.out, sizeof(e.out), "%s/stdout", e.dir);

    /* filters through the command line */
    out = finfeed(&e, 0, "export", "--format", "json", "--query", "长春", NULL);
    assert_int_equal(occurrences(out, "\"id\":"), 1);
    free(out);
    out = finfeed(&e, 0, "export", "--format", "json", "--feed", "wire", "--limit", "2", NULL);
    assert_int_equal(occurrences(out, "\"id\":"), 2);
    free(out);
    out = finfeed(&e, 0, "export", "--format", "json", "--category", "金融", NULL);
    assert_int_equal(occurrences(out, "\"id\":"), 4); /* sina's configured category */
    free(out);

    /* Markdown: one post a file, named YYYY-MM-DD-SLUG.md; a second run
     * rewrites nothing */
    char md[700];
    struct md_file before[16], after[16];
    snprintf(md, sizeof(md), "%s/posts", e.dir);
    free(finfeed(&e, 0, "export", "--format", "markdown", "--out", md, NULL));
    int n = md_list(md, before, 16);
    assert_int_equal(n, 6);
    for (int i = 0; i < n; i++) {
        const char *nm = before[i].name;
        size_t l = strlen(nm);
        assert_true(l > 14 && strcmp(nm + l - 3, ".md") == 0);
        assert_true(nm[4] == '-' && nm[7] == '-' && nm[10] == '-');
        assert_true(strncmp(nm, "2022-04-", 8) == 0);
    }
    free(finfeed(&e, 0, "export", "--format", "markdown", "--out", md, NULL));
    char *msg = slurp(e.err, NULL);
    assert_non_null(strstr(msg, "0 posts written, 6 unchanged"));
    free(msg);
    assert_int_equal(md_list(md, after, 16), 6);
    for (int i = 0; i < n; i++) {
        int same = 0;
        for (int j = 0; j < n; j++)
            if (strcmp(before[i].name, after[j].name) == 0)
                same = before[i].ino == after[j].ino &&
                       before[i].mtime.tv_sec == after[j].mtime.tv_sec &&
                       before[i].mtime.tv_nsec == after[j].mtime.tv_nsec;
        assert_true(same);
    }

    /* prune with retention 1d: nothing first seen within the last day goes,
     * whatever its date … */
    out = finfeed(&e, 0, "prune", NULL);
    assert_non_null(strstr(out, "pruned 0 articles"));
    free(out);
    /* … but a day later all of 2022 does; the items, still listed by their
     * feeds, never come back */
    sql_file(db, "UPDATE articles SET first_seen = first_seen - 2 * 86400");
    out = finfeed(&e, 0, "prune", NULL);
    assert_non_null(strstr(out, "pruned 6 articles"));
    free(out);
    root = export_json(&e);
    assert_int_equal(json_array_size(json_object_get(root, "items")), 0);
    json_decref(root);
    out = finfeed(&e, 0, "ingest", "--feed", "cls", STORE_FIX "cls_utm.xml", NULL);
    assert_non_null(strstr(out, "new 0, updated 0, duplicates 0, unchanged 4"));
    free(out);
    out = finfeed(&e, 0, "ingest", "--feed", "wire", STORE_FIX "wire.atom", NULL);
    assert_non_null(strstr(out, "new 0, updated 0, duplicates 0, unchanged 4"));
    free(out);
    out = finfeed(&e, 0, "prune", NULL);
    assert_non_null(strstr(out, "pruned 0 articles"));
    free(out);

    /* a configured charset overrides a wrong declaration (SPEC §2) */
    size_t len = 0;
    char *gbk = slurp(STORE_FIX "sina_gbk.xml", &len), path[700];
    char *decl = strstr(gbk, "encoding=\"gbk\"");
    assert_non_null(decl);
    memcpy(decl, "encoding=\"utf\"", 15); /* same length: "utf" is unknown, as bad */
    snprintf(path, sizeof(path), "%s/mislabeled.xml", e.dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(gbk, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    free(gbk);
    snprintf(e.conf, sizeof(e.conf), "%s/charset.conf", e.dir);
    if (use_pg)
        pg_database(db, sizeof(db));
    snprintf(conf, sizeof(conf),
             "[daemon]\ndatabase = %s\n"
             "[feed \"sina\"]\nurl = https://finance.example.com/rss.xml\n"
             "charset = gb18030\n",
             use_pg ? db : "charset.db");
    spew(e.conf, conf);
    out = finfeed(&e, 0, "ingest", "--feed", "sina", path, NULL);
    assert_non_null(strstr(out, "new 4, updated 0"));
    free(out);
    out = finfeed(&e, 0, "export", "--format", "json", NULL);
    assert_non_null(strstr(out, stories[0]));
    assert_non_null(strstr(out, stories[2]));
    free(out);
    snprintf(e.conf, sizeof(e.conf), "%s/finfeed.conf", e.dir);

    /* errors: a feed not in the configuration, a file that is not a feed */
    free(finfeed(&e, 2, "ingest", "--feed", "nobody", STORE_FIX "wire.atom", NULL));
    free(finfeed(&e, 1, "ingest", "--feed", "wire", e.conf, NULL));

    const char *rm[] = {"/bin/rm", "-rf", e.dir, NULL};
    assert_int_equal(run(rm, "/dev/null", "/dev/null"), 0);
}

static int
teardown_tmp(void **state)
{
    (void)state;
    if (tmpdir[0] != '\0') {
        const char *rm[] = {"/bin/rm", "-rf", tmpdir, NULL};
        run(rm, "/dev/null", "/dev/null");
        tmpdir[0] = '\0';
    }
    return 0;
}

/* The daemon's reader never waits for the writer's lock (issue 10 §2): with
 * another connection holding BEGIN IMMEDIATE, a reader with busy timeout 0
 * still reads (WAL), and a write with busy timeout 0 fails at once with
 * -EBUSY instead of waiting STORE_BUSY_TIMEOUT_MS. */
static void
test_busy_timeout(void **state)
{
    (void)state;
    char dir[64], path[128], err[256];
    struct store *w, *r;
    sqlite3 *holder;
    int64_t id;
    long n;
    snprintf(dir, sizeof(dir), "/tmp/finfeed-test-busy-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/db", dir);
    assert_int_equal(store_open(path, &w, err, sizeof(err)), 0);
    assert_int_equal(store_open(path, &r, err, sizeof(err)), 0);
    assert_int_equal(store_set_busy_timeout(r, 0), 0);
    assert_int_equal(store_set_busy_timeout(w, 0), 0);
    assert_int_equal(store_set_busy_timeout(w, -1), -EINVAL);
    assert_int_equal(store_feed_ensure(w, "a", "https://a.example/", &id), 0);
    int64_t g = store_generation(r);
    assert_true(g >= 0);

    assert_int_equal(sqlite3_open(path, &holder), SQLITE_OK);
    assert_int_equal(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_generation(r), g);
    assert_int_equal(store_count(r, 0, &n), 0);
    assert_int_equal(store_begin(w), -EBUSY);
    assert_non_null(strstr(store_errmsg(w), "locked"));
    assert_int_equal(store_feed_ensure(w, "b", NULL, &id), -EBUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
#ifndef FINFEED_SANITIZED
    assert_true(dt < 0.1); /* no wait at all */
#endif
    (void)dt;
    assert_int_equal(sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(store_feed_ensure(w, "b", NULL, &id), 0);
    assert_int_equal(sqlite3_close(holder), SQLITE_OK);
    store_close(r);
    store_close(w);
    const char *files[] = {"db", "db-wal", "db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- store_copy: `finfeed migrate` between the backends ---- */

/* Everything a store shows of its articles (hidden ones too, through
 * their ids), one line each, as a string to compare (caller frees). */
static int
on_dump(void *arg, const struct store_article *a)
{
    fprintf(arg, "%lld|%s|%s|%s|%s|%s|%s|%s|%s|%d|%lld|%lld|%lld|%d|%lld|%s|%s|%s\n",
            (long long)a->id, a->uid, a->title, a->link ? a->link : "-", a->guid,
            a->author ? a->author : "-", a->summary ? a->summary : "-", a->body, a->categories_json,
            a->comments, (long long)a->date, (long long)a->updated, (long long)a->first_seen,
            a->date_rejected, (long long)a->rejected_date, a->sources_json, a->feed,
            a->tickers_json);
    return 0;
}

static char *
dump_store(struct store *s, int nfeeds)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    struct store_query q = {.limit = 1000};
    assert_non_null(fp);
    assert_int_equal(store_articles(s, &q, on_dump, fp), 0);
    for (int64_t id = 1; id <= 20; id++) { /* by id: a hidden article too */
        struct store_query one = {.id = id};
        assert_int_equal(store_articles(s, &one, on_dump, fp), 0);
    }
    for (int64_t f = 1; f <= nfeeds; f++) {
        struct store_feed_state st;
        long n = -1;
        assert_int_equal(store_feed_state_get(s, f, &st), 0);
        assert_int_equal(store_count(s, f, &n), 0);
        fprintf(fp, "feed %lld: %s|%s|%s|%s|%s|%lld|%lld|%lld|%ld|%ld|%d|%ld\n", (long long)f,
                st.url ? st.url : "-", st.etag ? st.etag : "-",
                st.last_modified ? st.last_modified : "-", st.status ? st.status : "-",
                st.error ? st.error : "-", (long long)st.last_fetch, (long long)st.next_fetch,
                (long long)st.newest, st.http, st.errors, st.enabled, n);
        store_feed_state_clear(&st);
    }
    const char *gold[] = {"NYSE:NEM"};
    struct store_query byticker = {.tickers = gold, .ntickers = 1};
    fprintf(fp, "count %ld; search: %d %d %d %d; ticker: %d\n", count(s), ntext(s, "Gold record"),
            ntext(s, "降准"), ntext(s, "market wrap"), ntext(s, "央行"), nquery(s, &byticker));
    /* WebSub: the subscriber's subscription and the built-in hub's reader */
    struct store_websub w;
    if (store_websub_get(s, "copy-cb_1", &w) == 1)
        fprintf(fp, "websub %s|%lld|%s|%s|%s|%d|%lld|%lld|%lld\n", w.callback,
                (long long)w.feed_id, w.topic, w.hub, w.secret, w.state,
                (long long)w.lease_until, (long long)w.lease_s, (long long)w.asked_at);
    store_websub_clear(&w);
    struct store_hub_sub h;
    if (store_hub_get(s, "http://our.example/feed.atom", "http://reader.example/cb", &h) == 1)
        fprintf(fp, "hub %lld|%s|%s|%s|%s|%lld|%lld|%lld|%lld|%s|%d|%d|%lld\n", (long long)h.id,
                h.path, h.host, h.secret ? h.secret : "-", h.callback, (long long)h.lease_until,
                (long long)h.lease_s, (long long)h.changed, (long long)h.seen,
                h.sent ? h.sent : "-", h.fails, h.tries, (long long)h.next_try);
    store_hub_clear(&h);
    assert_int_equal(fclose(fp), 0);
    return buf;
}

struct progress {
    int calls;
    long articles, keys, verify;
};

static void
on_progress(void *arg, const char *stage, long done, long total)
{
    struct progress *p = arg;
    assert_true(done <= total);
    p->calls++;
    if (done == total && strcmp(stage, "articles") == 0)
        p->articles = total;
    if (done == total && strcmp(stage, "keys") == 0)
        p->keys = total;
    if (done == total && strcmp(stage, "verify") == 0)
        p->verify = total;
}

/* After a copy: the copied keys still decide (a tombstone stays a
 * tombstone, a repost is a duplicate by its body's bands, a column title is
 * no title match) and new rows get new ids. */
static void
copy_still_dedups(struct store *s, const struct parse_article *pruned,
                  const struct parse_article *repost, const struct parse_article *column)
{
    struct parse_article n;
    int64_t now = T0 + 100 * 24 * HOUR + 2 * HOUR;
    long before = count(s);
    assert_int_equal(add(s, 1, pruned, now), STORE_UNCHANGED);
    assert_int_equal(add(s, 2, repost, now), STORE_DUPLICATE);
    assert_int_equal(add(s, 2, column, now), STORE_NEW);
    assert_int_equal(count(s), before + 1);
    art(&n, "brand-new", "Oil slides as supply fears ease further", "https://n.example/oil",
        "<p>oil</p>", now);
    assert_int_equal(add(s, 1, &n, now), STORE_NEW);
    struct rows rs;
    struct store_query q = {.limit = 1};
    fetch(s, &q, &rs);
    assert_int_equal(rs.n, 1);
    assert_true(rs.r[0].id > 8); /* past every copied id */
    rows_free(&rs);
    int64_t id = 0;
    assert_int_equal(store_feed_ensure(s, "after the copy", NULL, &id), 0);
    assert_int_equal(id, 4);
}

static void
test_store_copy(void **state)
{
    (void)state;
    char src_path[512], dst_path[512], back_path[512], other_path[512], err[512];
    struct store *src, *dst, *back, *other;
    struct parse_article a, b, c, d, e, g, h, w1, w2, w3;
    struct progress p = {0};
    int64_t day100 = T0 + 100 * 24 * HOUR;
    char *body = body_of(rrr, 10, -1, NULL, NULL), *body_g = body_of(tmpl_a, 6, -1, NULL, NULL);

    /* the source: SQLite, as a user who starts embedded has it */
    tmp_path(src_path, sizeof(src_path), "copy-src.db");
    assert_int_equal(store_open(src_path, &src, err, sizeof(err)), 0);
    int64_t f1 = feed(src, "sina"), f2 = feed(src, "wire"), f3 = feed(src, "cls");
    assert_int_equal(f3, 3);
    char *old_tickers[] = {"SSE:601398"}, *new_tickers[] = {"COMEX:GC", "NYSE:NEM"};
    art(&a, "s-old", "央行宣布下调存款准备金率0.25个百分点", "https://a.example/old", body, T0);
    a.tickers = old_tickers; /* pruned with its article */
    a.ntickers = 1;
    assert_int_equal(add(src, f1, &a, T0), STORE_NEW);
    art(&c, "w-old", "降准0.25个百分点", "https://a.example/old?utm_source=w", "<p>c</p>", T0);
    assert_int_equal(add(src, f2, &c, T0), STORE_DUPLICATE);
    art(&b, "s-new", "Gold hits a record as haven demand rises", "https://a.example/new",
        "<p>new\ttab \\ back\nline</p>", day100);
    b.summary = (char *)"summary";
    b.comments = 7;
    b.tickers = new_tickers; /* copied in their order */
    b.ntickers = 2;
    assert_int_equal(add(src, f1, &b, day100), STORE_NEW);
    art(&d, "s-1970", "A CMS that dates everything 1970", "https://a.example/1970", "<p>d</p>",
        day100);
    d.date_rejected = 1;
    d.rejected_date = 12345;
    assert_int_equal(add(src, f1, &d, day100), STORE_NEW);
    art(&e, "c-hidden", "Kept out of every output at first", "https://c.example/hidden",
        "<p>e</p>", day100);
    assert_int_equal(add_r(src, f3, &e, 0, day100), STORE_NEW);
    art(&g, "c-long", "华泰证券：外资配置意愿回升", "https://c.example/long", body_g, day100);
    assert_int_equal(add(src, f3, &g, day100), STORE_NEW);
    /* a column title: the same title for two links of one feed (kinds 5, 6) */
    art(&w1, "c-w1", "Market Wrap for the evening", "https://c.example/w1", "<p>one</p>",
        day100);
    art(&w2, "c-w2", "Market Wrap for the evening", "https://c.example/w2", "<p>two</p>",
        day100 + HOUR);
    assert_int_equal(add(src, f3, &w1, day100), STORE_NEW);
    assert_int_equal(add(src, f3, &w2, day100 + HOUR), STORE_NEW);
    /* a tombstone: the 1st article pruned, its keys kept */
    assert_int_equal(store_prune(src, T0 + 50 * 24 * HOUR, day100, NULL), 0);
    struct store_feed_state st = {.url = (char *)"https://moved.example/rss",
                                  .etag = (char *)"\"abc\"",
                                  .last_modified = (char *)"Mon, 04 Apr 2022 02:50:26 GMT",
                                  .status = (char *)"error",
                                  .error = (char *)"HTTP 503",
                                  .last_fetch = day100,
                                  .next_fetch = day100 + 900,
                                  .newest = day100 - 60,
                                  .http = 503,
                                  .errors = 2,
                                  .enabled = 1};
    assert_int_equal(store_feed_state_set(src, f1, &st), 0);
    st = (struct store_feed_state){.status = (char *)"gone", .http = 410, .enabled = 0};
    assert_int_equal(store_feed_state_set(src, f2, &st), 0);
    /* WebSub (SPEC §11): a subscription of ours at a publisher's hub, and a
     * reader's at our built-in hub, with its delivery state */
    struct store_websub ws = {.callback = (char *)"copy-cb_1", .feed_id = f1,
                              .topic = (char *)"https://a.example/rss",
                              .hub = (char *)"https://hub.example/",
                              .secret = (char *)"s3cret\ttab", .state = 1,
                              .lease_until = day100 + 86400, .lease_s = 86400,
                              .asked_at = day100 - 5};
    assert_int_equal(store_websub_put(src, &ws), 0);
    struct store_hub_sub hs = {.topic = (char *)"http://our.example/feed.atom",
                               .path = (char *)"/feed.atom",
                               .callback = (char *)"http://reader.example/cb",
                               .host = (char *)"reader.example", .secret = (char *)"k",
                               .lease_s = 3600, .sent = (char *)"abc123"};
    assert_int_equal(store_hub_put(src, &hs, day100), 0);
    assert_int_equal(store_hub_mark(src, day100 + 1), 0);
    char *want = dump_store(src, 3);
    assert_non_null(strstr(want, "websub copy-cb_1|1|https://a.example/rss|"));
    assert_non_null(strstr(want, "hub 1|/feed.atom|reader.example|k|"));
    assert_non_null(strstr(want, "|[\"COMEX:GC\",\"NYSE:NEM\"]\n"));
    assert_null(strstr(want, "SSE:601398"));

    /* into the backend under test, and the same queries answer the same */
    db_where(dst_path, sizeof(dst_path), "copy-dst.db");
    assert_int_equal(store_open(dst_path, &dst, err, sizeof(err)), 0);
    assert_int_equal(store_copy(src, dst, on_progress, &p), 0);
    assert_int_equal(p.articles, count(src));
    assert_true(p.keys > 30);
    assert_true(p.verify > p.keys);
    char *got = dump_store(dst, 3);
    assert_string_equal(got, want);
    free(got);
    /* again: nothing to do, nothing changed */
    int64_t gen = store_generation(dst);
    assert_int_equal(store_copy(src, dst, NULL, NULL), 1);
    assert_int_equal(store_generation(dst), gen);

    /* and back into a fresh SQLite file */
    tmp_path(back_path, sizeof(back_path), "copy-back.db");
    assert_int_equal(store_open(back_path, &back, err, sizeof(err)), 0);
    assert_int_equal(store_copy(dst, back, NULL, NULL), 0);
    got = dump_store(back, 3);
    assert_string_equal(got, want);
    free(got);
    assert_int_equal(store_copy(src, back, NULL, NULL), 1);

    /* a store that holds something else is refused, and left as it is */
    tmp_path(other_path, sizeof(other_path), "copy-other.db");
    assert_int_equal(store_open(other_path, &other, err, sizeof(err)), 0);
    feed(other, "other");
    assert_int_equal(store_copy(other, dst, NULL, NULL), -ENOTEMPTY);
    assert_non_null(strstr(store_errmsg(dst), "not empty"));
    assert_int_equal(store_copy(dst, other, NULL, NULL), -ENOTEMPTY);
    got = dump_store(dst, 3);
    assert_string_equal(got, want);
    free(got);

    /* the copies dedup as the source would */
    art(&h, "w-repost", "外资回流：光伏板块获超额收益", "https://w.example/repost", body_g,
        day100 + HOUR);
    art(&w3, "w-wrap", "Market Wrap for the evening", "https://w.example/w3", "<p>three</p>",
        day100 + HOUR);
    copy_still_dedups(dst, &a, &h, &w3);
    copy_still_dedups(back, &a, &h, &w3);
    copy_still_dedups(src, &a, &h, &w3);
    /* once changed, the destination is no copy any more */
    assert_int_equal(store_copy(other, back, NULL, NULL), -ENOTEMPTY);

    store_close(other);
    store_close(back);
    store_close(dst);
    store_close(src);
    free(want);
    free(body);
    free(body_g);
}

/* `finfeed migrate ARGS…` (NULL-terminated): its exit status, stdout in
 * e->out, stderr in e->err. */
static int
migrate_cli(struct e2e *e, ...)
{
    const char *argv[16] = {FINFEED_BIN, "migrate"};
    int n = 2;
    va_list ap;
    va_start(ap, e);
    for (const char *a; n < 15 && (a = va_arg(ap, const char *)) != NULL;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return run(argv, e->out, e->err);
}

/* `finfeed migrate` through the binary: ingest into SQLite, copy, the
 * copy exports the same feed; again is a no-op that says so; back into a
 * new file; usage and refusals with their exit codes (SPEC §1). */
static void
test_migrate_cli(void **state)
{
    (void)state;
    struct e2e e;
    char db[600], copy[600], back[600], missing[600], conf[2048], conf_copy[600], *out, *err;
    snprintf(e.dir, sizeof(e.dir), "/tmp/finfeed-test-migrate-XXXXXX");
    assert_non_null(mkdtemp(e.dir));
    snprintf(e.conf, sizeof(e.conf), "%s/finfeed.conf", e.dir);
    snprintf(e.out, sizeof(e.out), "%s/stdout", e.dir);
    snprintf(e.err, sizeof(e.err), "%s/stderr", e.dir);
    snprintf(db, sizeof(db), "%.500s/store.db", e.dir);
    snprintf(back, sizeof(back), "%.500s/back.db", e.dir);
    snprintf(missing, sizeof(missing), "%.500s/missing.db", e.dir);
    snprintf(conf_copy, sizeof(conf_copy), "%.500s/copy.conf", e.dir);
    db_where(copy, sizeof(copy), "cli-copy.db");
    const char *feeds = "[feed \"sina\"]\nurl = https://finance.example.com/rss.xml\n"
                        "[feed \"wire\"]\nurl = https://wire.example.net/atom.xml\n"
                        "[feed \"cls\"]\nurl = https://www.example.cn/telegraph.xml\n";
    snprintf(conf, sizeof(conf), "[daemon]\ndatabase = %s\n%s", db, feeds);
    spew(e.conf, conf);
    snprintf(conf, sizeof(conf), "[daemon]\ndatabase = %s\n%s", copy, feeds);
    spew(conf_copy, conf);
    free(finfeed(&e, 0, "ingest", "--feed", "sina", STORE_FIX "sina_gbk.xml", "--feed", "wire",
                 STORE_FIX "wire.atom", "--feed", "cls", STORE_FIX "cls_utm.xml", NULL));
    json_t *want = export_json(&e);

    assert_int_equal(migrate_cli(&e, "--from", db, "--to", copy, NULL), 0);
    out = slurp(e.out, NULL);
    err = slurp(e.err, NULL);
    assert_non_null(strstr(out, "migrate: copied "));
    assert_non_null(strstr(out, ": 3 feeds, "));
    /* stderr is no terminal here: one line a stage, no carriage return */
    assert_non_null(strstr(err, "migrate: feeds 3/3\n"));
    assert_non_null(strstr(err, "migrate: articles "));
    assert_non_null(strstr(err, "migrate: keys "));
    assert_null(strchr(err, '\r'));
    free(out);
    free(err);
    snprintf(e.conf, sizeof(e.conf), "%s", conf_copy);
    json_t *got = export_json(&e);
    assert_true(json_equal(got, want));
    json_decref(got);

    /* again: nothing to do, and it says so */
    assert_int_equal(migrate_cli(&e, "--from", db, "--to", copy, NULL), 0);
    out = slurp(e.out, NULL);
    assert_non_null(strstr(out, "nothing to do"));
    free(out);
    /* back into a new SQLite file */
    assert_int_equal(migrate_cli(&e, "--from", copy, "--to", back, NULL), 0);
    snprintf(conf, sizeof(conf), "[daemon]\ndatabase = %s\n%s", back, feeds);
    spew(e.conf, conf);
    got = export_json(&e);
    assert_true(json_equal(got, want));
    json_decref(got);

    /* usage (2); a source that is not there, never created (1); a
     * destination that holds another store's rows (1) */
    assert_int_equal(migrate_cli(&e, "--from", db, NULL), 2);
    assert_int_equal(migrate_cli(&e, "--to", db, NULL), 2);
    assert_int_equal(migrate_cli(&e, "--from", db, "--to", db, NULL), 2);
    assert_int_equal(migrate_cli(&e, "--from", db, "--to", copy, "extra", NULL), 2);
    assert_int_equal(migrate_cli(&e, "--from", missing, "--to", back, NULL), 1);
    assert_int_equal(access(missing, F_OK), -1);
    free(finfeed(&e, 0, "ingest", "--feed", "wire", STORE_FIX "cls_utm.xml", NULL));
    assert_int_equal(migrate_cli(&e, "--from", db, "--to", back, NULL), 1);
    err = slurp(e.err, NULL);
    assert_non_null(strstr(err, "not empty"));
    free(err);

    json_decref(want);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e.dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the schedule every node shares (SPEC §10) ---- */

/* Two handles on one store of the backend under test (two connections on
 * PostgreSQL, two on one file with SQLite); the where in buf. */
static void
two_stores(char *where, size_t size, const char *name, struct store **a, struct store **b)
{
    char err[512];
    db_where(where, size, name);
    if (store_open(where, a, err, sizeof(err)) != 0 || store_open(where, b, err, sizeof(err)) != 0)
        fail_msg("store_open: %s", err);
}

/* Feeds "NAME0" … on URLs of host HOST (with a port and upper case, so
 * that the stored host is folded). */
static void
sched_feeds(struct store *s, const char *name, const char *host, int n, int64_t *ids)
{
    for (int i = 0; i < n; i++) {
        char fname[64], url[128];
        snprintf(fname, sizeof(fname), "%s%d", name, i);
        snprintf(url, sizeof(url), "https://user@%s:8443/feed/%d.xml", host, i);
        assert_int_equal(store_feed_ensure(s, fname, url, &ids[i]), 0);
    }
}

static struct store_claim_opts
claim_opts(const char *node, const int64_t *ids, size_t n, int64_t lease, size_t limit)
{
    return (struct store_claim_opts){
        .node = node, .feed_ids = ids, .n_ids = n, .lease = lease, .limit = limit};
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

struct claimer {
    struct store *s;
    const char *node;
    const int64_t *ids;
    size_t n_ids;
    pthread_barrier_t *go;
    struct store_claim out[64];
    size_t n;
    int rc;
};

static void *
claim_thread(void *arg)
{
    struct claimer *c = arg;
    struct store_claim_opts o = claim_opts(c->node, c->ids, c->n_ids, 60, 64);
    size_t got = 0;
    pthread_barrier_wait(c->go);
    /* small batches, so that the two threads' claims interleave */
    for (int i = 0; i < 40 && c->rc == 0; i++) {
        o.limit = 2;
        c->rc = store_claim(c->s, &o, c->out + c->n, &got);
        c->n += got;
        if (c->n + 2 > 64)
            break;
    }
    return NULL;
}

/* Two handles (two nodes) claiming at once take disjoint sets, every due
 * feed once; tokens count claims; a lease that runs out makes the feed
 * claimable again; owners and leases show; SQLite does it on one file. */
static void
test_claim(void **state)
{
    (void)state;
    char where[512];
    struct store *a, *b;
    int64_t ids[20], now = 0;
    two_stores(where, sizeof(where), "claim.db", &a, &b);
    sched_feeds(a, "f", "Example.COM", 20, ids);
    assert_int_equal(store_now(a, &now), 0);
    assert_true(now > T0);

    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct claimer ca = {.s = a, .node = "node-a", .ids = ids, .n_ids = 20, .go = &go};
    struct claimer cb = {.s = b, .node = "node-b", .ids = ids, .n_ids = 20, .go = &go};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, claim_thread, &ca), 0);
    assert_int_equal(pthread_create(&tb, NULL, claim_thread, &cb), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&go);
    assert_int_equal(ca.rc, 0);
    assert_int_equal(cb.rc, 0);
    assert_int_equal(ca.n + cb.n, 20);
    int seen[20] = {0};
    for (size_t i = 0; i < ca.n + cb.n; i++) {
        const struct store_claim *c = i < ca.n ? &ca.out[i] : &cb.out[i - ca.n];
        assert_true(c->feed_id >= ids[0] && c->feed_id <= ids[19]);
        assert_int_equal(seen[c->feed_id - ids[0]]++, 0);
        assert_int_equal(c->token, 1);
        assert_true(c->lease_until >= now + 60);
        assert_int_equal(c->urgent, 0);
    }

    /* nothing is due while the leases live */
    struct store_claim out[20];
    size_t n = 99;
    struct store_claim_opts o = claim_opts("node-a", ids, 20, 1, 20);
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 0);

    /* leases: owner, token, lease */
    struct store_feed_lease l[3];
    int64_t which[3] = {ids[0], ids[1], 999999};
    assert_int_equal(store_feed_leases(b, which, 3, l), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(l[i].feed_id, ids[i]);
        assert_non_null(l[i].owner);
        assert_true(strcmp(l[i].owner, "node-a") == 0 || strcmp(l[i].owner, "node-b") == 0);
        assert_true(l[i].lease_until >= now + 60);
        assert_int_equal(l[i].token, 1);
        assert_int_equal(l[i].done_token, 0);
        assert_int_equal(l[i].enabled, 1);
    }
    assert_int_equal(l[2].feed_id, 0);
    assert_null(l[2].owner);
    store_feed_lease_clear(l, 3);

    /* a two-second lease runs out: the feed comes due again, token 2 (leases
     * count whole seconds: one second could end between two claims made
     * at once, as it did under load) */
    int64_t one[1];
    sched_feeds(a, "short", "other.example", 1, one);
    o = claim_opts("node-a", one, 1, 2, 5);
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].token, 1);
    o.node = "node-b";
    assert_int_equal(store_claim(b, &o, out, &n), 0);
    assert_int_equal(n, 0);
    sleep_ms(2300);
    assert_int_equal(store_claim(b, &o, out, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].token, 2);
    assert_int_equal(store_feed_leases(a, one, 1, l), 0);
    assert_string_equal(l[0].owner, "node-b");
    store_feed_lease_clear(l, 1);

    /* complete releases the lease: owner gone, done_token the claim's,
     * next_fetch now + next_in */
    struct store_feed_state st = {.status = (char *)"ok", .http = 200, .enabled = 1,
                                  .etag = (char *)"\"v1\""};
    assert_int_equal(store_feed_complete(b, one[0], 2, &st, 600), 0);
    assert_int_equal(store_feed_leases(a, one, 1, l), 0);
    assert_null(l[0].owner);
    assert_int_equal(l[0].lease_until, 0);
    assert_int_equal(l[0].done_token, 2);
    assert_true(l[0].next_fetch >= now + 600);
    store_feed_lease_clear(l, 1);
    struct store_feed_state got;
    assert_int_equal(store_feed_state_get(a, one[0], &got), 0);
    assert_string_equal(got.etag, "\"v1\"");
    assert_string_equal(got.status, "ok");
    store_feed_state_clear(&got);
    /* not due before next_in: no claim */
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 0);
    /* a claim inside a document is refused */
    assert_int_equal(store_begin(a), 0);
    assert_int_equal(store_claim(a, &o, out, &n), -EINVAL);
    store_rollback(a);

    store_close(a);
    store_close(b);
}

/* per_host counts the live leases of a host whoever holds them, within a
 * batch and across handles; max_rate spaces the starts of one host's
 * claims 1/max_rate apart, continuing across claims and handles. */
static void
test_claim_per_host_rate(void **state)
{
    (void)state;
    char where[512];
    struct store *a, *b;
    int64_t ids[6], other[2];
    two_stores(where, sizeof(where), "per_host.db", &a, &b);
    sched_feeds(a, "h", "busy.example", 6, ids);
    sched_feeds(a, "o", "quiet.example", 2, other);
    int64_t all[8] = {ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], other[0], other[1]};

    struct store_claim out[8];
    size_t n = 0;
    struct store_claim_opts o = claim_opts("node-a", all, 8, 60, 8);
    o.per_host = 2;
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 4); /* two of busy.example, both of quiet.example */
    int busy = 0;
    for (size_t i = 0; i < n; i++)
        busy += out[i].feed_id <= ids[5];
    assert_int_equal(busy, 2);
    /* another node: the host is full */
    struct store_claim more[8];
    o.node = "node-b";
    assert_int_equal(store_claim(b, &o, more, &n), 0);
    assert_int_equal(n, 0);
    /* one completes: one more for the other node */
    struct store_feed_state st = {.status = (char *)"ok", .enabled = 1};
    int64_t done = out[0].feed_id <= ids[5] ? out[0].feed_id : out[1].feed_id <= ids[5] ? out[1].feed_id : out[2].feed_id;
    int64_t tok = 1;
    assert_int_equal(store_feed_complete(a, done, tok, &st, 3600), 0);
    assert_int_equal(store_claim(b, &o, more, &n), 0);
    assert_int_equal(n, 1);
    assert_true(more[0].feed_id <= ids[5]);

    /* max_rate 2/s: starts 500 ms apart, from one batch to the next and
     * from one node to the other */
    int64_t r[4];
    sched_feeds(a, "r", "rate.example", 4, r);
    struct store_claim rc1[2], rc2[2];
    o = claim_opts("node-a", r, 4, 60, 2);
    o.max_rate = 2;
    assert_int_equal(store_claim(a, &o, rc1, &n), 0);
    assert_int_equal(n, 2);
    /* a heartbeat drops the slots already past, never the ones ahead */
    assert_int_equal(store_node_listed(b, "node-b", r, NULL, 4), 0);
    o.node = "node-b";
    assert_int_equal(store_claim(b, &o, rc2, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rc1[1].start_at_ms - rc1[0].start_at_ms, 500);
    assert_int_equal(rc2[0].start_at_ms - rc1[1].start_at_ms, 500);
    assert_int_equal(rc2[1].start_at_ms - rc2[0].start_at_ms, 500);
    assert_true(rc2[1].start_at >= rc2[1].start_at_ms / 1000);
    assert_true(rc2[1].start_at * 1000 >= rc2[1].start_at_ms);
    /* without max_rate: at once */
    int64_t now = 0;
    assert_int_equal(store_now(a, &now), 0);
    assert_true(out[0].start_at <= now + 1);

    store_close(a);
    store_close(b);
}

/* A node whose lease ran out and whose feed another node claimed writes
 * nothing: store_fence and store_feed_complete answer -ESTALE. */
static void
test_fence(void **state)
{
    (void)state;
    char where[512];
    struct store *a, *b;
    int64_t id;
    two_stores(where, sizeof(where), "fence.db", &a, &b);
    sched_feeds(a, "f", "fence.example", 1, &id);
    struct store_claim ca, cb;
    size_t n = 0;
    struct store_claim_opts o = claim_opts("node-a", &id, 1, 2, 1); /* 2 s: whole seconds */
    assert_int_equal(store_claim(a, &o, &ca, &n), 0);
    assert_int_equal(n, 1);
    /* while current: fence, extend work */
    assert_int_equal(store_fence(a, id, ca.token), -EINVAL); /* outside a transaction */
    assert_int_equal(store_begin(a), 0);
    assert_int_equal(store_fence(a, id, ca.token), 0);
    store_rollback(a);
    assert_int_equal(store_lease_extend(a, id, ca.token, 1), 0);
    sleep_ms(2300);
    o.node = "node-b";
    o.lease = 60;
    assert_int_equal(store_claim(b, &o, &cb, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(cb.token, ca.token + 1);

    /* the first node wakes: nothing it writes lands */
    struct parse_article art1;
    art(&art1, "g1", "A story the stale node fetched", "https://fence.example/1", "<p>x</p>", T0);
    assert_int_equal(store_begin(a), 0);
    assert_int_equal(store_fence(a, id, ca.token), -ESTALE);
    store_rollback(a);
    assert_int_equal(store_lease_extend(a, id, ca.token, 60), -ESTALE);
    struct store_feed_state st = {.etag = (char *)"\"stale\"", .status = (char *)"ok", .enabled = 1};
    assert_int_equal(store_feed_complete(a, id, ca.token, &st, 10), -ESTALE);
    struct store_feed_state got;
    assert_int_equal(store_feed_state_get(b, id, &got), 0);
    assert_null(got.etag);
    assert_null(got.status);
    store_feed_state_clear(&got);
    struct store_feed_lease l;
    assert_int_equal(store_feed_leases(a, &id, 1, &l), 0);
    assert_string_equal(l.owner, "node-b");
    assert_int_equal(l.done_token, 0);
    store_feed_lease_clear(&l, 1);
    assert_int_equal(count(b), 0);

    /* the current one writes */
    assert_int_equal(store_begin(b), 0);
    assert_int_equal(store_fence(b, id, cb.token), 0);
    assert_int_equal(store_add(b, id, &art1, 1, T0, NULL), 0);
    assert_int_equal(store_commit(b), 0);
    st.etag = (char *)"\"fresh\"";
    assert_int_equal(store_feed_complete(b, id, cb.token, &st, 10), 0);
    assert_int_equal(store_feed_state_get(a, id, &got), 0);
    assert_string_equal(got.etag, "\"fresh\"");
    store_feed_state_clear(&got);
    assert_int_equal(count(a), 1);
    /* … once */
    assert_int_equal(store_feed_complete(b, id, cb.token, &st, 10), 0);
    assert_int_equal(store_feed_complete(b, id, cb.token + 1, &st, 10), -ESTALE);
    store_close(a);
    store_close(b);
}

/* refresh: store_feed_due_now makes feeds due and urgent, claimed first;
 * one being fetched is claimed again once that fetch completes, so that
 * its done_token passes the token refresh read. */
static void
test_due_now(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t ids[3], tokens[3];
    sched_feeds(s, "d", "due.example", 3, ids);
    struct store_claim out[3];
    size_t n = 0;
    struct store_claim_opts o = claim_opts("node", ids, 3, 60, 3);
    struct store_feed_state st = {.status = (char *)"ok", .enabled = 1};
    assert_int_equal(store_claim(s, &o, out, &n), 0);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_feed_complete(s, out[i].feed_id, out[i].token, &st, 3600), 0);
    assert_int_equal(store_claim(s, &o, out, &n), 0);
    assert_int_equal(n, 0);

    int64_t want[2] = {ids[2], 424242};
    assert_int_equal(store_feed_due_now(s, want, 2, tokens), 0);
    assert_int_equal(tokens[0], 1);
    assert_int_equal(tokens[1], 0);
    assert_int_equal(store_claim(s, &o, out, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].feed_id, ids[2]);
    assert_int_equal(out[0].urgent, 1);
    assert_int_equal(out[0].token, 2);

    /* a refresh while it is being fetched: due again at its completion */
    assert_int_equal(store_feed_due_now(s, want, 1, tokens), 0);
    assert_int_equal(tokens[0], 2);
    assert_int_equal(store_feed_complete(s, ids[2], 2, &st, 3600), 0);
    struct store_feed_lease l;
    assert_int_equal(store_feed_leases(s, want, 1, &l), 0);
    assert_int_equal(l.done_token, 2); /* not past 2: not done yet */
    store_feed_lease_clear(&l, 1);
    assert_int_equal(store_claim(s, &o, out, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].urgent, 1);
    assert_int_equal(store_feed_complete(s, ids[2], out[0].token, &st, 3600), 0);
    assert_int_equal(store_feed_leases(s, want, 1, &l), 0);
    assert_true(l.done_token > tokens[0]);
    store_feed_lease_clear(&l, 1);
    /* and urgent ones first among due ones */
    assert_int_equal(store_feed_due_now(s, ids, 2, NULL), 0);
    assert_int_equal(store_feed_due_now(s, ids + 1, 1, NULL), 0);
    o.limit = 1;
    assert_int_equal(store_claim(s, &o, out, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].urgent, 1);
    store_close(s);
}

/* A feed no node lists for longer than its interval is disabled (articles
 * kept) and enabled again once listed; one a 410 disabled stays so. */
static void
test_feeds_listed(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t ids[3], iv[3] = {1, 1, 1};
    sched_feeds(s, "l", "listed.example", 3, ids);
    assert_int_equal(store_feeds_listed(s, ids, iv, 3), 0);
    struct store_feed_lease l[3];
    assert_int_equal(store_feed_leases(s, ids, 3, l), 0);
    int64_t now = 0;
    assert_int_equal(store_now(s, &now), 0);
    for (int i = 0; i < 3; i++) {
        assert_true(l[i].listed_at >= now - 1 && l[i].listed_at <= now);
        assert_int_equal(l[i].enabled, 1);
    }
    store_feed_lease_clear(l, 3);
    /* feed 2 answers 410 */
    struct store_claim c[3];
    size_t n = 0;
    struct store_claim_opts o = claim_opts("node", ids + 2, 1, 60, 1);
    assert_int_equal(store_claim(s, &o, c, &n), 0);
    assert_int_equal(n, 1);
    struct store_feed_state gone = {.status = (char *)"gone", .http = 410, .enabled = 0};
    assert_int_equal(store_feed_complete(s, ids[2], c[0].token, &gone, 0), 0);

    sleep_ms(2300);
    /* only feed 0 is listed now: feed 1 goes */
    assert_int_equal(store_feeds_listed(s, ids, iv, 1), 0);
    assert_int_equal(store_feed_leases(s, ids, 3, l), 0);
    assert_int_equal(l[0].enabled, 1);
    assert_int_equal(l[1].enabled, 0);
    assert_int_equal(l[2].enabled, 0);
    store_feed_lease_clear(l, 3);
    o = claim_opts("node", ids, 3, 60, 3);
    assert_int_equal(store_claim(s, &o, c, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].feed_id, ids[0]);
    /* listed again: back, but not the gone one */
    assert_int_equal(store_feeds_listed(s, ids, iv, 3), 0);
    assert_int_equal(store_feed_leases(s, ids, 3, l), 0);
    assert_int_equal(l[1].enabled, 1);
    assert_int_equal(l[2].enabled, 0);
    store_feed_lease_clear(l, 3);
    assert_int_equal(store_claim(s, &o, c, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].feed_id, ids[1]);
    store_close(s);
}

/* A node that recorded its listing (store_node_listed) claims without
 * passing its ids (feed_ids NULL): among its own feeds only, in claim
 * order, urgent first; a new listing replaces the old; a node that listed
 * nothing claims nothing. per_host holds when the feeds of a full host come
 * first in a long backlog: the claim reads on past them (one window after
 * another) to the feeds of other hosts. */
static void
test_claim_listing(void **state)
{
    (void)state;
    char where[512];
    struct store *a, *b;
    int64_t busy[10], quiet[3], iv[13];
    two_stores(where, sizeof(where), "listing.db", &a, &b);
    sched_feeds(a, "b", "busy.example", 10, busy);
    sched_feeds(a, "q", "quiet.example", 3, quiet);
    int64_t all[13];
    for (int i = 0; i < 13; i++) {
        all[i] = i < 10 ? busy[i] : quiet[i - 10];
        iv[i] = 3600;
    }
    /* node-a lists busy 0-5, node-b busy 4-9 and the quiet ones */
    assert_int_equal(store_node_listed(a, "node-a", all, iv, 6), 0);
    assert_int_equal(store_node_listed(b, "node-b", all + 4, iv, 9), 0);
    struct store_feed_lease l[13];
    assert_int_equal(store_feed_leases(a, all, 13, l), 0);
    for (int i = 0; i < 13; i++)
        assert_true(l[i].listed_at > 0);
    store_feed_lease_clear(l, 13);

    struct store_claim out[13];
    size_t n = 0;
    struct store_claim_opts o = claim_opts("node-c", NULL, 0, 60, 13);
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 0); /* node-c listed nothing */
    o.node = "node-a";
    o.limit = 3;
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(out[i].feed_id, busy[i]); /* claim order: due, then id */
    /* per_host 5: two more of busy for node-b (3 live), then it reads on
     * past the full host to the quiet ones */
    o.node = "node-b";
    o.limit = 13;
    o.per_host = 5;
    assert_int_equal(store_claim(b, &o, out, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(out[0].feed_id, busy[4]);
    assert_int_equal(out[1].feed_id, busy[5]);
    for (int i = 0; i < 3; i++)
        assert_int_equal(out[2 + i].feed_id, quiet[i]);
    /* node-a's one left, busy 3, is of the full host */
    o.node = "node-a";
    o.limit = 1;
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 0);

    /* a new listing replaces the old: node-a now lists busy 9 alone; a
     * refresh makes it urgent, first */
    assert_int_equal(store_node_listed(a, "node-a", busy + 9, iv, 1), 0);
    struct store_feed_state st = {.status = (char *)"ok", .enabled = 1};
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_feed_complete(a, busy[i], 1, &st, 0), 0);
    assert_int_equal(store_feed_due_now(a, busy + 9, 1, NULL), 0);
    o.per_host = 0;
    o.limit = 13;
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].feed_id, busy[9]);
    assert_int_equal(out[0].urgent, 1);
    /* with ids, as before: among those given, listing or not */
    o.feed_ids = busy;
    o.n_ids = 3;
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 3);
    /* the old call records no listing */
    assert_int_equal(store_feeds_listed(a, busy + 6, iv, 3), 0);
    o = claim_opts("node-d", NULL, 0, 60, 13);
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 0);
    store_close(a);
    store_close(b);
}

/* A claim that reads more than one window: many due feeds, each claim
 * taking a few; every one claimed once, in order, by ids and by listing. */
static void
test_claim_windows(void **state)
{
    (void)state;
    struct store *s = mem_store();
    enum { N = 300 };
    int64_t ids[N], iv[N];
    char host[32];
    for (int i = 0; i < N; i++) {
        snprintf(host, sizeof(host), "h%d.example", i % 7);
        char name[32], url[96];
        snprintf(name, sizeof(name), "w%d", i);
        snprintf(url, sizeof(url), "https://%s/%d.xml", host, i);
        assert_int_equal(store_feed_ensure(s, name, url, &ids[i]), 0);
        iv[i] = 3600;
    }
    assert_int_equal(store_node_listed(s, "n", ids, iv, N), 0);
    struct store_claim out[40];
    size_t n = 0, total = 0;
    int64_t last = 0;
    for (int round = 0; round < 20 && total < N; round++) {
        /* alternately by ids and by listing; per_host 30 on 7 hosts */
        struct store_claim_opts o =
            claim_opts("n", round % 2 ? ids : NULL, round % 2 ? N : 0, 3600, 40);
        o.per_host = 30;
        assert_int_equal(store_claim(s, &o, out, &n), 0);
        for (size_t i = 0; i < n; i++) {
            assert_true(out[i].feed_id > last);
            last = out[i].feed_id;
        }
        total += n;
        if (n < 40)
            break;
    }
    assert_int_equal(total, 7 * 30); /* every host full: 30 leases each */
    store_close(s);
}

/* per_host counts each host's candidates within one claim (SQLite counts
 * them in C as the rows stream): 150 due feeds, 51 on one host and one on
 * each of 99 others; per_host 2 claims two of the busy host and every
 * other host's one, in claim order. */
static void
test_claim_many_hosts(void **state)
{
    (void)state;
    struct store *s = mem_store();
    enum { N = 150 };
    int64_t ids[N], iv[N];
    for (int i = 0; i < N; i++) {
        char name[32], url[96];
        snprintf(name, sizeof(name), "m%d", i);
        snprintf(url, sizeof(url), "https://h%d.example/%d.xml", i < 100 ? i : 0, i);
        assert_int_equal(store_feed_ensure(s, name, url, &ids[i]), 0);
        iv[i] = 3600;
    }
    assert_int_equal(store_node_listed(s, "n", ids, iv, N), 0);
    struct store_claim out[N];
    size_t n = 0;
    struct store_claim_opts o = claim_opts("n", NULL, 0, 3600, N);
    o.per_host = 2;
    assert_int_equal(store_claim(s, &o, out, &n), 0);
    assert_int_equal(n, 101);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(out[i].feed_id, ids[i]);
    assert_int_equal(out[100].feed_id, ids[100]); /* h0's second */
    /* the rest of h0 waits: two live leases */
    assert_int_equal(store_claim(s, &o, out, &n), 0);
    assert_int_equal(n, 0);
    /* the leases of many feeds at once (SQLite: one pass over the table)
     * read as one at a time does: any order, an id twice, an unknown id
     * (feed_id 0) */
    int64_t ask[N + 2];
    for (int i = 0; i < N; i++)
        ask[i] = ids[N - 1 - i];
    ask[N] = ids[3];
    ask[N + 1] = ids[N - 1] + 1000;
    struct store_feed_lease *many = calloc(N + 2, sizeof(*many));
    assert_non_null(many);
    assert_int_equal(store_feed_leases(s, ask, N + 2, many), 0);
    for (int i = 0; i < N + 1; i++) {
        struct store_feed_lease one = {0};
        assert_int_equal(store_feed_leases(s, &ask[i], 1, &one), 0);
        assert_int_equal(many[i].feed_id, ask[i]);
        assert_int_equal(many[i].feed_id, one.feed_id);
        assert_int_equal(many[i].owner != NULL, one.owner != NULL);
        if (one.owner != NULL)
            assert_string_equal(many[i].owner, one.owner);
        assert_int_equal(many[i].lease_until, one.lease_until);
        assert_int_equal(many[i].token, one.token);
        assert_int_equal(many[i].next_fetch, one.next_fetch);
        assert_int_equal(many[i].listed_at, one.listed_at);
        assert_int_equal(many[i].enabled, one.enabled);
        store_feed_lease_clear(&one, 1);
    }
    assert_true(many[N - 1].owner != NULL); /* ids[0], claimed first */
    assert_int_equal(many[N + 1].feed_id, 0);
    store_feed_lease_clear(many, N + 2);
    free(many);
    store_close(s);
}

static void
on_note(void *arg, const char *what)
{
    char *got = arg;
    snprintf(got, 65, "%s", what);
}

/* Handle A listens, handle B notifies: A's socket becomes readable and
 * store_notifications gives the payload. Never inside a transaction.
 * SQLite has one node: -ENOTSUP. */
static void
test_notify(void **state)
{
    (void)state;
    char where[512], got[65] = "";
    struct store *a, *b;
    two_stores(where, sizeof(where), "notify.db", &a, &b);
    assert_int_equal(store_connected(a), 1);
    if (!use_pg) {
        assert_int_equal(store_listen(a), -ENOTSUP);
        assert_int_equal(store_notify(b, "articles"), -ENOTSUP);
        assert_int_equal(store_notifications(a, on_note, got), -ENOTSUP);
        store_close(a);
        store_close(b);
        return;
    }
    int fd = store_listen(a);
    assert_true(fd >= 0);
    assert_int_equal(store_notifications(a, on_note, got), 0);
    assert_int_equal(store_notify(b, "articles"), 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_int_equal(store_notifications(a, on_note, got), 1);
    assert_string_equal(got, "articles");
    assert_int_equal(store_notifications(a, on_note, got), 0);
    /* never inside an ingest transaction; at most 64 bytes */
    assert_int_equal(store_begin(b), 0);
    assert_int_equal(store_notify(b, "due"), -EINVAL);
    store_rollback(b);
    char big[80];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(store_notify(b, big), -EINVAL);
    store_close(a);
    store_close(b);
}

/* Terminate every other session on the store's database and wait till
 * they are gone. */
static void
pg_kick(const char *where)
{
    PGconn *c = PQconnectdb(where);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("%s: %s", where, PQerrorMessage(c));
    pg_sql(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
              " WHERE datname = current_database() AND pid <> pg_backend_pid()");
    for (int i = 0; i < 100; i++) {
        PGresult *r = PQexec(c, "SELECT count(*) FROM pg_stat_activity"
                                " WHERE datname = current_database() AND pid <> pg_backend_pid()");
        int left = atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (left == 0)
            break;
        sleep_ms(50);
    }
    PQfinish(c);
}

/* PostgreSQL: a connection the server dropped is made anew by the next
 * call (outside a transaction, the call works); inside one the
 * transaction is lost (-ECONNRESET until rollback); a listener is told to
 * listen again. SQLite: always connected. */
static void
test_reconnect(void **state)
{
    (void)state;
    char where[512], got[65] = "";
    struct store *a, *b;
    int64_t now = 0, id;
    two_stores(where, sizeof(where), "reconnect.db", &a, &b);
    assert_int_equal(store_feed_ensure(a, "r", "https://r.example/", &id), 0);
    if (!use_pg) {
        assert_int_equal(store_now(a, &now), 0);
        assert_int_equal(store_connected(a), 1);
        store_close(a);
        store_close(b);
        return;
    }
    pg_kick(where);
    assert_int_equal(store_now(a, &now), 0);
    assert_true(now > T0);
    assert_int_equal(store_connected(a), 1);

    /* inside a transaction */
    struct parse_article x, y;
    art(&x, "g", "Reconnected in the middle of a document", "https://r.example/1", "<p>b</p>", T0);
    art(&y, "h", "Stored before the connection went", "https://r.example/2", "<p>c</p>", T0);
    assert_int_equal(store_begin(a), 0);
    assert_int_equal(store_add(a, id, &y, 1, T0, NULL), 0);
    pg_kick(where);
    assert_int_equal(store_add(a, id, &x, 1, T0, NULL), -ECONNRESET);
    assert_int_equal(store_connected(a), 0);
    assert_int_equal(store_add(a, id, &x, 1, T0, NULL), -ECONNRESET);
    store_rollback(a);
    assert_int_equal(count(a), 0);
    assert_int_equal(store_connected(a), 1);
    /* a transaction that has done nothing yet (its BEGIN goes with its
     * first statement) begins again on a new session */
    assert_int_equal(store_begin(a), 0);
    pg_kick(where);
    assert_int_equal(store_add(a, id, &x, 1, T0, NULL), 0);
    assert_int_equal(store_commit(a), 0);
    assert_int_equal(store_connected(a), 1);
    assert_int_equal(count(a), 1);

    /* a listener */
    int fd = store_listen(a);
    assert_true(fd >= 0);
    pg_kick(where);
    assert_int_equal(store_now(b, &now), 0);
    /* the socket says so (readable: the server's farewell, then its end) */
    int rc = 0;
    for (int i = 0; i < 5 && rc == 0; i++) {
        struct pollfd lost = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&lost, 1, 5000), 1);
        rc = store_notifications(a, on_note, got);
    }
    assert_int_equal(rc, -ECONNRESET);
    assert_int_equal(store_connected(a), 0); /* no reconnect where nothing may block */
    fd = store_listen(a);
    assert_true(fd >= 0);
    assert_int_equal(store_notify(b, "due"), 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_int_equal(store_notifications(a, on_note, got), 1);
    assert_string_equal(got, "due");
    store_close(a);
    store_close(b);
}

/* One story stored by two nodes at the same moment, many times: one
 * article with two sources each time (rule 3's title and rule 4's bands
 * looked up under locks; the exact keys unique). A deadlock between the
 * two is redone, as the service does. */
struct ingester {
    struct store *s;
    int64_t feed;
    const char *tag;
    pthread_barrier_t *go;
    int rounds, rc, redone;
    char msg[256];
};

/* A body of its own for round r (rounds must not repeat each other by
 * rule 4): 60 words drawn by r. */
static void
story_body(char *out, size_t size, int r)
{
    static const char *const words[] = {
        "bank",   "rates",  "steady", "inflation", "labour", "market", "quarter", "committee",
        "vote",   "cut",    "bond",   "yield",     "equity", "index",  "rally",   "slump",
        "oil",    "copper", "export", "import",    "growth", "deficit", "budget", "tariff",
        "merger", "profit", "loss",   "guidance",  "shares", "dollar", "euro",    "yuan"};
    uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(r + 1);
    size_t n = (size_t)snprintf(out, size, "<p>");
    for (int i = 0; i < 60 && n + 16 < size; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        n += (size_t)snprintf(out + n, size - n, "%s%s", i ? " " : "", words[x % 32]);
    }
    snprintf(out + n, size - n, " %d.</p>", r);
}

static void *
ingest_thread(void *arg)
{
    struct ingester *g = arg;
    for (int r = 0; r < g->rounds && g->rc == 0; r++) {
        char guid[64], title[160], link[128], body[1024];
        struct parse_article x;
        snprintf(guid, sizeof(guid), "%s-%d", g->tag, r);
        /* even rounds: the same title (rule 3); odd: titles apart, the body
         * alone (rule 4) */
        if (r % 2 == 0)
            snprintf(title, sizeof(title), "Central bank holds rates steady, round %d", r);
        else
            snprintf(title, sizeof(title), "%s: a headline of its own for round %d", g->tag, r);
        snprintf(link, sizeof(link), "https://%s.example/story/%d", g->tag, r);
        story_body(body, sizeof(body), r);
        art(&x, guid, title, link, body, T0 + r);
        pthread_barrier_wait(g->go);
        for (int attempt = 0; attempt < 10; attempt++) {
            int rc = store_begin(g->s);
            if (rc == 0 && (rc = store_add(g->s, g->feed, &x, 1, T0 + r, NULL)) == 0)
                rc = store_commit(g->s);
            if (rc == 0)
                break;
            store_rollback(g->s);
            if (rc != -EDEADLK && rc != -EBUSY) {
                g->rc = rc;
                snprintf(g->msg, sizeof(g->msg), "round %d: %s", r, store_errmsg(g->s));
                break;
            }
            g->redone++;
        }
    }
    return NULL;
}

static void
test_same_story_two_nodes(void **state)
{
    (void)state;
    char where[512];
    struct store *a, *b;
    int64_t fa, fb;
    const int rounds = 40;
    two_stores(where, sizeof(where), "race.db", &a, &b);
    assert_int_equal(store_feed_ensure(a, "wire-a", "https://a.example/feed", &fa), 0);
    assert_int_equal(store_feed_ensure(a, "wire-b", "https://b.example/feed", &fb), 0);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct ingester ga = {.s = a, .feed = fa, .tag = "a", .go = &go, .rounds = rounds};
    struct ingester gb = {.s = b, .feed = fb, .tag = "b", .go = &go, .rounds = rounds};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, ingest_thread, &ga), 0);
    assert_int_equal(pthread_create(&tb, NULL, ingest_thread, &gb), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&go);
    if (ga.rc != 0 || gb.rc != 0)
        fail_msg("store_add: %d %s / %d %s", ga.rc, ga.msg, gb.rc, gb.msg);
    /* one article a round, both feeds a source of each */
    long na = -1, nb = -1;
    assert_int_equal(count(a), rounds);
    assert_int_equal(store_count(a, fa, &na), 0);
    assert_int_equal(store_count(a, fb, &nb), 0);
    assert_int_equal(na, rounds);
    assert_int_equal(nb, rounds);
    store_close(a);
    store_close(b);
}

/* Keys another handle wrote are found. The SQLite writer skips the probes
 * of keys its filter says the store lacks (store/sqlite_filter.c): it must
 * hear of another connection's commits (PRAGMA data_version), find every
 * key once it has grown past its first layer (4,096 keys), and find no
 * key of a document rolled back (the filter still holds it). */
#define GROW_N 1000
static void
test_keys_from_elsewhere(void **state)
{
    (void)state;
    char where[512], guid[32], title[64], link[64];
    struct store *a, *b;
    struct parse_article x;
    two_stores(where, sizeof(where), "elsewhere.db", &a, &b);
    int64_t fa = feed(a, "wire-a"), fb = feed(b, "wire-b");
    art(&x, "a-1", "First story, stored by handle a", "https://news.example/1", "<p>one</p>", T0);
    assert_int_equal(add(a, fa, &x, T0), STORE_NEW);
    art(&x, "b-2", "Second story, stored by handle b", "https://news.example/2", "<p>two</p>", T0);
    assert_int_equal(add(b, fb, &x, T0), STORE_NEW);
    /* b's guid, link and title, each found through a */
    assert_int_equal(add(a, fb, &x, T0 + 60), STORE_UNCHANGED);
    art(&x, "a-3", "Another headline altogether", "https://news.example/2", "<p>three</p>", T0);
    assert_int_equal(add(a, fa, &x, T0 + 60), STORE_DUPLICATE);
    art(&x, "a-4", "Second story, stored by handle b", "https://news.example/4", "<p>four</p>", T0);
    assert_int_equal(add(a, fa, &x, T0 + 60), STORE_DUPLICATE);
    assert_int_equal(count(a), 2);

    /* a thousand articles in one transaction: five keys each */
    assert_int_equal(store_begin(a), 0);
    for (int i = 0; i < GROW_N; i++) {
        snprintf(guid, sizeof(guid), "g-%d", i);
        snprintf(title, sizeof(title), "Growing story number %d", i);
        snprintf(link, sizeof(link), "https://grow.example/%d", i);
        art(&x, guid, title, link, "<p>grown</p>", T0);
        enum store_outcome out;
        assert_int_equal(store_add(a, fa, &x, 1, T0 + 120, &out), 0);
        assert_int_equal(out, STORE_NEW);
    }
    assert_int_equal(store_commit(a), 0);
    for (int i = 0; i < GROW_N; i += GROW_N / 4 - 1) {
        snprintf(guid, sizeof(guid), "g-%d", i);
        snprintf(title, sizeof(title), "Growing story number %d", i);
        snprintf(link, sizeof(link), "https://grow.example/%d", i);
        art(&x, guid, title, link, "<p>grown</p>", T0);
        assert_int_equal(add(a, fa, &x, T0 + 180), STORE_UNCHANGED);
        snprintf(guid, sizeof(guid), "re-%d", i);
        art(&x, guid, "A headline of its own", link, "<p>again</p>", T0);
        assert_int_equal(add(a, fb, &x, T0 + 180), STORE_DUPLICATE);
    }
    assert_int_equal(count(a), GROW_N + 2);

    /* a document undone: its keys name nothing */
    assert_int_equal(store_begin(a), 0);
    art(&x, "gone-1", "A story taken back", "https://gone.example/1", "<p>gone</p>", T0);
    assert_int_equal(store_add(a, fa, &x, 1, T0 + 240, NULL), 0);
    store_rollback(a);
    art(&x, "gone-2", "The same link, told again", "https://gone.example/1", "<p>back</p>", T0);
    assert_int_equal(add(a, fb, &x, T0 + 300), STORE_NEW);
    assert_int_equal(count(b), GROW_N + 3);
    store_close(a);
    store_close(b);
}

/* ---- PostgreSQL only ---- */

/* A database made with other options than pg_database's; its URI in buf. */
static void
pg_database_with(char *buf, size_t size, const char *options)
{
    char sql[512];
    snprintf(buf, size, "postgresql:///finfeed_test_%ld_%d", (long)getpid(), ++pg_databases);
    snprintf(sql, sizeof(sql), "CREATE DATABASE finfeed_test_%ld_%d TEMPLATE template0 %s",
             (long)getpid(), pg_databases, options);
    pg_sql(pg_admin, sql);
}

/* A new article's insert is sent ahead (one round trip saved): when the
 * server refuses it (here: a NUL-free but invalid UTF-8 summary), the next
 * call says so, store_add or store_commit, and the rollback leaves nothing;
 * the handle works on after. */
static void
test_pg_add_ahead(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t feed;
    struct parse_article ok, bad;
    assert_int_equal(store_feed_ensure(s, "ahead", "https://ahead.example/feed", &feed), 0);
    art(&ok, "g-ok", "A story that is stored well", "https://ahead.example/1", "<p>fine</p>", T0);
    art(&bad, "g-bad", "A story the server refuses", "https://ahead.example/2", "<p>x</p>", T0);
    bad.summary = (char *)"bad \xc3\x28 bytes";
    /* refused at commit */
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_add(s, feed, &ok, 1, T0, NULL), 0);
    int rc = store_add(s, feed, &bad, 1, T0, NULL);
    if (rc == 0)
        rc = store_commit(s);
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(store_errmsg(s), "UTF8"));
    store_rollback(s);
    assert_int_equal(count(s), 0);
    /* refused at the next store_add */
    assert_int_equal(store_begin(s), 0);
    rc = store_add(s, feed, &bad, 1, T0, NULL);
    if (rc == 0)
        rc = store_add(s, feed, &ok, 1, T0, NULL);
    assert_int_equal(rc, -EINVAL);
    store_rollback(s);
    assert_int_equal(count(s), 0);
    /* and on after */
    enum store_outcome out;
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_add(s, feed, &ok, 1, T0, &out), 0);
    assert_int_equal(out, STORE_NEW);
    assert_int_equal(store_add(s, feed, &ok, 1, T0, &out), 0);
    assert_int_equal(out, STORE_UNCHANGED);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(count(s), 1);
    store_close(s);
}

/* PostgreSQL schema 5 from schema 4 (made by taking schemas 5, 6 and 7 away), then 6
 * and 7: as SQLite's, and the identity sequence, which a copy had set past
 * the newest article only, past every id the keys name. */
static void
test_pg_migrate_tombstones(void **state)
{
    (void)state;
    char where[512], err[512];
    struct store *s;
    struct parse_article a;
    pg_database(where, sizeof(where));
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    int64_t sina = feed(s, "sina"), wire = feed(s, "wire");
    art(&a, "sina-1", "A sina story of the day", "https://a.example/1", "<p>1</p>", T0);
    assert_int_equal(add(s, sina, &a, T0), STORE_NEW);
    art(&a, "wire-2", "A wire story of the day", "https://a.example/2", "<p>2</p>", T0);
    assert_int_equal(add(s, wire, &a, T0), STORE_NEW);
    store_close(s);
    int newest = (int)sql_int(where, "SELECT value FROM meta WHERE key = 'schema'");
    sql_file(where,
             "DROP TABLE tombstones; DROP INDEX keys_article; DROP TABLE hub_subs;"
             "ALTER TABLE feeds DROP COLUMN first_ok, DROP COLUMN next_why,"
             " DROP COLUMN lag_median, DROP COLUMN lag_n;"
             "DROP TABLE article_tickers;"
             "UPDATE meta SET value = 4 WHERE key = 'schema';"
             "INSERT INTO keys VALUES(1, '1' || chr(31) || 'sina-old', 9, 1640000000),"
             " (2, 'https://a.example/old', 9, 1640000000),"
             " (3, 'anoldstorylistedagain', 9, 1640000000), (4, '12345', 9, 1640000000),"
             " (1, '1' || chr(31) || 'sina-reused', 2, 1640000000),"
             " (5, '1' || chr(31) || 'areusedidsoldstory' || chr(31) || 'https://a.example/reused',"
             " 2, 1640000000);"
             "SELECT setval(pg_get_serial_sequence('articles', 'id'), 2)");
    int64_t t0 = (int64_t)time(NULL);
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    store_close(s);
    /* glibc's time() reads a coarse clock that can lag the database's
     * own by a tick, across a second's boundary */
    int64_t t1 = (int64_t)time(NULL) + 1;
    /* and every migration after it (the hub's, SPEC §12's tickers) */
    assert_int_equal(sql_int(where, "SELECT value FROM meta WHERE key = 'schema'"), newest);
    check_migrated_tombstones(where, t0, t1);
}

/* Versioned migrations in the meta table, another program's tables left
 * alone, a newer schema refused, the encoding pg_trgm needs for Chinese
 * checked at open, errors that name the database but never its password. */
static void
test_pg_schema(void **state)
{
    (void)state;
    char where[512], err[1024];
    struct store *s = NULL;

    /* a new database is migrated once, and opens again as it is */
    pg_database(where, sizeof(where));
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    store_close(s);
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    assert_int_equal(count(s), 0);
    store_close(s);

    /* a newer finfeed's database is refused */
    sql_file(where, "UPDATE meta SET value = 99 WHERE key = 'schema'");
    s = (struct store *)1;
    assert_int_equal(store_open(where, &s, err, sizeof(err)), -EPROTO);
    assert_null(s);
    assert_non_null(strstr(err, where));
    assert_non_null(strstr(err, "schema 99 is newer"));

    /* another program's tables: not touched */
    pg_database(where, sizeof(where));
    sql_file(where, "CREATE TABLE other(x integer)");
    assert_int_equal(store_open(where, &s, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "not a finfeed database"));

    /* pg_trgm finds no Chinese under a C character type: refused, saying how */
    pg_database_with(where, sizeof(where), "ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
    assert_int_equal(store_open(where, &s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "LC_CTYPE 'C.UTF-8'"));
    pg_database_with(where, sizeof(where), "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'");
    assert_int_equal(store_open(where, &s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "SQL_ASCII"));
    /* … and any UTF-8 character type will do */
    pg_database_with(where, sizeof(where), "ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'");
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    store_close(s);

    /* no such database; a password never shows in a message */
    snprintf(where, sizeof(where), "postgresql:///finfeed_no_such_db_%ld", (long)getpid());
    assert_int_equal(store_open(where, &s, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "finfeed_no_such_db"));
    int rc = store_open("postgres://nobody:sekrit@localhost/x?password=sekrit2&connect_timeout=9",
                        &s, err, sizeof(err));
    if (rc != -EACCES && rc != -ENOENT) /* no such role, by password or trust */
        fail_msg("store_open: %d %s", rc, err);
    assert_null(strstr(err, "sekrit"));
    assert_non_null(strstr(err, "postgres://nobody:***@localhost/x?password=***&connect_timeout=9"));
    assert_int_equal(store_open("postgresql:///x?no_such_option=1", &s, err, sizeof(err)), -EINVAL);
}

/* Issue 13: the newest items a feed carries (dates, first seen, believed,
 * first source), newest first and bounded; its first successful fetch,
 * written once; why its next check is when it is and its median lag, kept
 * with its state, written by the completing node and read with the leases. */
static void
test_feed_freshness(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t a = feed(s, "a"), b = feed(s, "b"), first_ok = -1;
    struct store_feed_item it[8];
    size_t n = 99;
    struct parse_article x;
    assert_int_equal(store_feed_items(s, a, it, 8, &n, &first_ok), 0);
    assert_int_equal(n, 0);
    assert_int_equal(first_ok, 0);
    /* a's first fetch: its backlog */
    art(&x, "a1", "Alpha story number one", "http://a.example/1", "<p>one</p>", T0 - 300);
    assert_int_equal(add(s, a, &x, T0), STORE_NEW);
    art(&x, "a2", "Alpha story number two", "http://a.example/2", "<p>two</p>", T0 - 200);
    assert_int_equal(add(s, a, &x, T0), STORE_NEW);
    art(&x, "a3", "Alpha story number three", "http://a.example/3", "<p>three</p>", T0 - 100);
    assert_int_equal(add(s, a, &x, T0), STORE_NEW);
    /* b carries a3 later: a duplicate, first seen by a */
    art(&x, "b1", "Beta copy of three", "http://a.example/3", "<p>copy</p>", T0 - 100);
    assert_int_equal(add(s, b, &x, T0 + 60), STORE_DUPLICATE);
    /* a's next fetch: a new story, and one whose date is not believed */
    art(&x, "a4", "Alpha story number four", "http://a.example/4", "<p>four</p>", T0 + 500);
    assert_int_equal(add(s, a, &x, T0 + 600), STORE_NEW);
    art(&x, "a5", "Alpha story number five", "http://a.example/5", "<p>five</p>", T0 + 600);
    x.date_rejected = 1; /* as the article model says it (SPEC §3) */
    x.rejected_date = T0 + 9999;
    assert_int_equal(add(s, a, &x, T0 + 600), STORE_NEW);
    /* and one without a date: dated when first seen, no publisher's date */
    art(&x, "a6", "Alpha story number six", "http://a.example/6", "<p>six</p>", T0 + 700);
    assert_int_equal(add(s, a, &x, T0 + 700), STORE_NEW);
    assert_int_equal(store_feed_items(s, a, it, 1, &n, &first_ok), 0);
    assert_int_equal(n, 1);
    assert_int_equal(it[0].date, T0 + 700);
    assert_int_equal(it[0].believed, 0);

    assert_int_equal(store_feed_items(s, a, it, 8, &n, &first_ok), 0);
    assert_int_equal(n, 6);
    memmove(it, it + 1, 5 * sizeof(*it)); /* a6 seen: the five before it */
    n--;
    assert_int_equal(first_ok, 0);
    assert_int_equal(it[0].date, T0 + 600); /* a5: first seen stands in */
    assert_int_equal(it[0].believed, 0);
    assert_int_equal(it[0].first_source, 1);
    assert_int_equal(it[1].date, T0 + 500);
    assert_int_equal(it[1].first_seen, T0 + 600);
    assert_int_equal(it[1].believed, 1);
    assert_int_equal(it[4].date, T0 - 300);
    assert_int_equal(it[4].first_seen, T0);
    assert_int_equal(store_feed_items(s, a, it, 3, &n, &first_ok), 0);
    assert_int_equal(n, 3); /* bounded */
    assert_int_equal(it[2].date, T0 + 500);
    assert_int_equal(store_feed_items(s, b, it, 8, &n, &first_ok), 0);
    assert_int_equal(n, 1);
    assert_int_equal(it[0].first_source, 0);
    assert_int_equal(it[0].first_seen, T0); /* the store's, not b's */
    assert_int_equal(it[0].date, T0 - 100);

    /* the first successful fetch is written once; why and lag each time */
    struct store_feed_state st = {.status = (char *)"ok", .enabled = 1, .first_ok = T0,
                                  .next_why = (char *)"every 15m", .lag_median = 42,
                                  .lag_n = 3};
    assert_int_equal(store_feed_state_set(s, a, &st), 0);
    st.first_ok = T0 + 600;
    st.next_why = (char *)"auto: 4m from 11 items/h";
    assert_int_equal(store_feed_state_set(s, a, &st), 0);
    struct store_feed_state got;
    assert_int_equal(store_feed_state_get(s, a, &got), 0);
    assert_int_equal(got.first_ok, T0);
    assert_string_equal(got.next_why, "auto: 4m from 11 items/h");
    assert_int_equal(got.lag_median, 42);
    assert_int_equal(got.lag_n, 3);
    store_feed_state_clear(&got);
    assert_int_equal(store_feed_items(s, a, it, 8, &n, &first_ok), 0);
    assert_int_equal(first_ok, T0);

    /* a claim completed: first_ok set on b (none before), kept on a */
    int64_t ids[2] = {a, b};
    struct store_claim out[2];
    struct store_claim_opts o = claim_opts("node-a", ids, 2, 60, 2);
    assert_int_equal(store_claim(s, &o, out, &n), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < 2; i++) {
        struct store_feed_state done = {.status = (char *)"ok", .enabled = 1,
                                        .first_ok = T0 + 1000, .lag_median = 30 + (int64_t)i,
                                        .lag_n = 1,
                                        .next_why = (char *)"schedule us: closed, opens Mon 09:30"};
        assert_int_equal(store_feed_complete(s, out[i].feed_id, out[i].token, &done, 300), 0);
    }
    struct store_feed_lease l[2];
    memset(l, 0, sizeof(l));
    assert_int_equal(store_feed_leases(s, ids, 2, l), 0);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(l[i].next_why, "schedule us: closed, opens Mon 09:30");
        assert_int_equal(l[i].lag_n, 1);
    }
    assert_int_equal(l[0].lag_median + l[1].lag_median, 61);
    store_feed_lease_clear(l, 2);
    assert_null(l[0].next_why);
    assert_int_equal(store_feed_items(s, a, it, 8, &n, &first_ok), 0);
    assert_int_equal(first_ok, T0);
    assert_int_equal(store_feed_items(s, b, it, 8, &n, &first_ok), 0);
    assert_int_equal(first_ok, T0 + 1000);
    store_close(s);
}

/* WebSub subscriptions (SPEC §11), both backends: by callback id, the
 * feed's rows, intent verified, renewals claimed once, expiry, the replay
 * guard. */
static void
test_websub(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t feed = 0, now = 1700000000;
    struct store_websub w = {.callback = (char *)"0123456789abcdef0123456789abcdef",
                             .topic = (char *)"http://pub.example/a.xml",
                             .hub = (char *)"http://hub.example/",
                             .secret = (char *)"s3cret", .state = STORE_WS_PENDING,
                             .asked_at = now};
    struct store_websub got, out[4];
    size_t n = 9;
    assert_int_equal(store_feed_ensure(s, "ws", "http://pub.example/a.xml", &feed), 0);
    w.feed_id = feed;
    assert_int_equal(store_websub_put(s, &w), 0);
    struct store_websub bad = w;
    bad.callback = (char *)"../etc";
    assert_int_equal(store_websub_put(s, &bad), -EINVAL);
    assert_int_equal(store_websub_get(s, "nope", &got), 0);
    assert_int_equal(store_websub_get(s, "../x", &got), 0);
    assert_int_equal(store_websub_get(s, w.callback, &got), 1);
    assert_string_equal(got.secret, "s3cret");
    assert_string_equal(got.topic, w.topic);
    assert_int_equal(got.feed_id, feed);
    assert_int_equal(got.state, STORE_WS_PENDING);
    store_websub_clear(&got);
    assert_int_equal(store_websub_of_feed(s, feed, out, 4, &n), 0);
    assert_int_equal(n, 1);
    store_websub_clear(&out[0]);
    /* verified with a lease of 1000 s: due for renewal at four fifths */
    assert_int_equal(store_websub_set(s, w.callback, STORE_WS_ACTIVE, now, 1000, 0), 1);
    assert_int_equal(store_websub_set(s, "ffff", STORE_WS_ACTIVE, now, 1000, 0), 0);
    assert_int_equal(store_websub_renewals(s, now + 700, 300, out, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_websub_renewals(s, now + 850, 300, out, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].callback, w.callback);
    store_websub_clear(&out[0]);
    /* claimed: not again within the hold */
    assert_int_equal(store_websub_renewals(s, now + 900, 300, out, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_websub_renewals(s, now + 1160, 300, out, 4, &n), 0);
    assert_int_equal(n, 1);
    store_websub_clear(&out[0]);
    /* a lease run out long ago: forgotten */
    assert_int_equal(store_websub_renewals(s, now + 1000 + 300, 300, out, 4, &n), 0);
    assert_int_equal(store_websub_get(s, w.callback, &got), 0);
    /* replay guard */
    assert_int_equal(store_websub_seen(s, "sha256=ab", now, 0), 0);
    assert_int_equal(store_websub_seen(s, "sha256=ab", now, 1), 0);
    assert_int_equal(store_websub_seen(s, "sha256=ab", now, 1), 0);
    assert_int_equal(store_websub_seen(s, "sha256=ab", now, 0), 1);
    /* unsubscribing, then deleted */
    assert_int_equal(store_websub_put(s, &w), 0);
    assert_int_equal(store_websub_set(s, w.callback, STORE_WS_UNSUBSCRIBING, now, 0, 1), 1);
    assert_int_equal(store_websub_get(s, w.callback, &got), 1);
    assert_int_equal(got.state, STORE_WS_UNSUBSCRIBING);
    store_websub_clear(&got);
    assert_int_equal(store_websub_delete(s, w.callback), 1);
    assert_int_equal(store_websub_delete(s, w.callback), 0);
    store_close(s);
}

/* The built-in hub's subscriptions (SPEC §11), both backends: a verified
 * subscription put and renewed (its delivery state kept), counted against
 * the limits, changes marked, a due delivery claimed once (held, a token),
 * finished with its token only, backoff, leases expiring, dropped. */
static void
test_hub(void **state)
{
    (void)state;
    struct store *s = mem_store();
    int64_t now = 1700000000;
    struct store_hub_sub h = {.topic = (char *)"http://127.0.0.1:8470/feed.atom",
                              .path = (char *)"/feed.atom",
                              .callback = (char *)"http://reader.example/cb?x=1",
                              .host = (char *)"reader.example",
                              .secret = (char *)"s3cret",
                              .lease_s = 1000};
    struct store_hub_sub got, out[4];
    struct store_hub_pass p;
    long total = -1, of_host = -1;
    size_t n = 9;

    struct store_hub_sub bad = h;
    bad.lease_s = 0;
    assert_int_equal(store_hub_put(s, &bad, now), -EINVAL);
    bad = h;
    bad.path = (char *)"feed.atom";
    assert_int_equal(store_hub_put(s, &bad, now), -EINVAL);
    assert_int_equal(store_hub_put(s, &h, now), 0);
    struct store_hub_sub other = h;
    other.sent = (char *)"baseline";
    other.topic = (char *)"http://127.0.0.1:8470/feeds/a.rss";
    other.path = (char *)"/feeds/a.rss";
    other.secret = NULL;
    assert_int_equal(store_hub_put(s, &other, now), 0);
    assert_int_equal(store_hub_get(s, h.topic, "http://nope/", &got), 0);
    assert_int_equal(store_hub_get(s, h.topic, h.callback, &got), 1);
    assert_string_equal(got.path, "/feed.atom");
    assert_string_equal(got.secret, "s3cret");
    assert_int_equal(got.lease_until, now + 1000);
    assert_null(got.sent);
    assert_int_equal(got.changed, 1); /* due once: a change while it was verified */
    assert_int_equal(got.seen, 0);
    store_hub_clear(&got);
    assert_int_equal(store_hub_get(s, other.topic, other.callback, &got), 1);
    assert_null(got.secret);
    assert_string_equal(got.sent, "baseline");
    store_hub_clear(&got);
    /* counted against the limits, but for the pair asked about (a renewal) */
    assert_int_equal(store_hub_count(s, now, "reader.example", "t", "c", &total, &of_host), 0);
    assert_int_equal(total, 2);
    assert_int_equal(of_host, 2);
    assert_int_equal(
        store_hub_count(s, now, "elsewhere.example", h.topic, h.callback, &total, &of_host), 0);
    assert_int_equal(total, 1);
    assert_int_equal(of_host, 0);

    /* new: due once (their first content compared with the one they began with) */
    assert_int_equal(store_hub_claim(s, now, 60, out, 4, &n, &p), 0);
    assert_int_equal(n, 2);
    assert_int_equal(p.live, 2);
    for (size_t i = 0; i < 2; i++) {
        struct store_hub_sub d = out[i];
        d.seen = d.changed;
        assert_int_equal(store_hub_done(s, &d, 0), 1);
        store_hub_clear(&out[i]);
    }
    /* nothing changed: nothing due */
    assert_int_equal(store_hub_claim(s, now, 60, out, 4, &n, &p), 0);
    assert_int_equal(n, 0);
    assert_int_equal(p.live, 2);
    assert_int_equal(p.next, 0);
    /* a change: both due, claimed once */
    assert_int_equal(store_hub_mark(s, now), 0);
    assert_int_equal(store_hub_claim(s, now, 60, out, 1, &n, &p), 0);
    assert_int_equal(n, 1);
    struct store_hub_sub first = out[0];
    assert_int_equal(first.changed, 2);
    assert_int_equal(first.seen, 1);
    assert_int_equal(store_hub_claim(s, now, 60, out, 4, &n, &p), 0);
    assert_int_equal(n, 1);
    assert_true(strcmp(out[0].topic, first.topic) != 0);
    struct store_hub_sub second = out[0];
    assert_int_equal(store_hub_claim(s, now + 1, 60, out, 4, &n, &p), 0);
    assert_int_equal(n, 0); /* both held */
    assert_int_equal(p.next, now + 60);

    /* delivered: seen, its hash kept; a stale token changes nothing */
    struct store_hub_sub d = first;
    d.seen = first.changed;
    d.sent = (char *)"h1";
    d.claim = first.claim - 1;
    assert_int_equal(store_hub_done(s, &d, 0), 0);
    d.claim = first.claim;
    assert_int_equal(store_hub_done(s, &d, 0), 1);
    /* failed: retried after a backoff, not before */
    d = second;
    d.fails = 1;
    d.tries = 1;
    d.next_try = now + 5;
    d.sent = NULL;
    assert_int_equal(store_hub_done(s, &d, 0), 1);
    assert_int_equal(store_hub_claim(s, now + 2, 60, out, 4, &n, &p), 0);
    assert_int_equal(n, 0);
    assert_int_equal(p.next, now + 5);
    assert_int_equal(store_hub_claim(s, now + 5, 60, out, 4, &n, &p), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].topic, second.topic);
    assert_int_equal(out[0].tries, 1);
    assert_true(out[0].claim > second.claim);
    second.claim = out[0].claim;
    store_hub_clear(&out[0]);
    /* dropped (too many failures): gone */
    assert_int_equal(store_hub_done(s, &second, 1), 1);
    assert_int_equal(store_hub_get(s, second.topic, second.callback, &got), 0);
    store_hub_clear(&second);

    /* renewed: lease and secret new, the delivery state kept */
    h.secret = (char *)"n3w";
    h.lease_s = 2000;
    assert_int_equal(store_hub_put(s, &h, now + 10), 0);
    assert_int_equal(store_hub_get(s, h.topic, h.callback, &got), 1);
    assert_string_equal(got.secret, "n3w");
    assert_int_equal(got.lease_until, now + 2010);
    assert_string_equal(got.sent, "h1");
    assert_int_equal(got.seen, 2);
    assert_int_equal(got.changed, 2);
    store_hub_clear(&got);
    store_hub_clear(&first);

    /* a lease run out: no delivery, deleted at the next claim */
    assert_int_equal(store_hub_mark(s, now + 2010), 0); /* the lease is over: not marked */
    assert_int_equal(store_hub_claim(s, now + 2010, 60, out, 4, &n, &p), 0);
    assert_int_equal(n, 0);
    assert_int_equal(p.expired, 1);
    assert_int_equal(p.live, 0);
    assert_int_equal(store_hub_get(s, h.topic, h.callback, &got), 0);

    /* unsubscribed */
    assert_int_equal(store_hub_put(s, &h, now), 0);
    assert_int_equal(store_hub_remove(s, h.topic, h.callback), 1);
    assert_int_equal(store_hub_remove(s, h.topic, h.callback), 0);
    store_close(s);
}

/* Group commit (store_group_begin): the documents of a group are stored
 * when it commits, each whole or not at all; a document rolled back inside
 * the group takes none of the others with it; a group never committed
 * (the process ended) keeps nothing. PostgreSQL commits each document on
 * its own. */
static void
test_group_commit(void **state)
{
    (void)state;
    char where[512], err[512];
    struct store *s;
    struct parse_article a;
    db_where(where, sizeof(where), "group.db");
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    int64_t f = feed(s, "sina");
    int64_t g0 = store_generation(s);
    int grouped = store_group_begin(s);
    assert_int_equal(grouped, use_pg ? 0 : 1);
    assert_int_equal(store_group_begin(s), use_pg ? 0 : -EINVAL);
    art(&a, "d1", "First document's story", "https://a.example/1", "<p>one</p>", T0);
    assert_int_equal(add(s, f, &a, T0 + 60), STORE_NEW);
    assert_int_equal(store_group_open(s), grouped);
    /* a second document, rolled back alone */
    assert_int_equal(store_begin(s), 0);
    art(&a, "d2", "Second document's story", "https://a.example/2", "<p>two</p>", T0);
    assert_int_equal(store_add(s, f, &a, 1, T0 + 60, NULL), 0);
    store_rollback(s);
    art(&a, "d3", "Third document's story", "https://a.example/3", "<p>three</p>", T0);
    assert_int_equal(add(s, f, &a, T0 + 60), STORE_NEW);
    /* rule 4 inside the group: a body stored by an earlier document of the
     * group (its full-text row not written yet) is compared all the same;
     * an update of it replaces its row */
    char *body = body_of(rrr, 10, -1, NULL, NULL);
    int64_t w = feed(s, "wire");
    art(&a, "r1", "央行宣布下调存款准备金率0.25个百分点", "https://a.example/rrr", body, T0);
    assert_int_equal(add(s, f, &a, T0 + 60), STORE_NEW);
    art(&a, "r1", "央行宣布降准0.25个百分点", "https://a.example/rrr", body, T0);
    assert_int_equal(add(s, f, &a, T0 + 60), STORE_UPDATED);
    art(&a, "w1", "降准落地：释放长期资金约5000亿元", "https://wire.example/x", body, T0);
    assert_int_equal(add(s, w, &a, T0 + 60), STORE_DUPLICATE);
    free(body);
    /* nothing of the group is visible to another handle before the commit */
    struct store *r;
    assert_int_equal(store_open(where, &r, err, sizeof(err)), 0);
    long n = -1;
    assert_int_equal(store_count(r, 0, &n), 0);
    assert_int_equal(n, grouped ? 0 : 3);
    assert_int_equal(store_group_commit(s), 0);
    assert_int_equal(store_group_open(s), 0);
    assert_int_equal(store_count(r, 0, &n), 0);
    assert_int_equal(n, 3);
    assert_true(store_generation(r) != g0);
    /* their full-text rows are written with the group: found, once */
    assert_int_equal(ntext(r, "降准"), 1);
    assert_int_equal(ntext(r, "Second"), 0); /* rolled back */
    assert_int_equal(ntext(r, "Third"), 1);
    /* the second document may come again: it was never stored */
    art(&a, "d2", "Second document's story", "https://a.example/2", "<p>two</p>", T0);
    assert_int_equal(store_group_begin(s), grouped);
    assert_int_equal(add(s, f, &a, T0 + 120), STORE_NEW);
    /* … but this group ends with the handle, never committed */
    store_close(s);
    assert_int_equal(store_count(r, 0, &n), 0);
    assert_int_equal(n, grouped ? 3 : 4);
    store_close(r);
}

enum { BIG_N = 1200, BIG_LEN = 4000 };

/* The big document's BIG_N articles (guids big-0…) into the open
 * transaction, each body of its own (no rule merges two) of BIG_LEN bytes,
 * marked "<p>MARK …". */
static void
big_doc(struct store *s, int64_t f, const char *mark, int64_t now, uint32_t *x)
{
    char guid[32], title[64], link[64], *body = malloc(BIG_LEN);
    struct parse_article a;
    assert_non_null(body);
    for (int i = 0; i < BIG_N; i++) {
        snprintf(guid, sizeof(guid), "big-%d", i);
        snprintf(title, sizeof(title), "Big story number %d of the day", i);
        snprintf(link, sizeof(link), "https://big.example/%d", i);
        int n = snprintf(body, BIG_LEN, "<p>%s ", mark);
        for (size_t j = (size_t)n; j < BIG_LEN - 5; j++) {
            *x = *x * 1103515245u + 12345u;
            body[j] = (*x >> 16) % 7 == 0 ? ' ' : (char)('a' + (*x >> 16) % 26);
        }
        memcpy(body + BIG_LEN - 5, "</p>", 5);
        art(&a, guid, title, link, body, T0);
        int e = store_add(s, f, &a, 1, now, NULL);
        if (e != 0)
            fail_msg("%s %d: %d %s", mark, i, e, store_errmsg(s));
    }
    free(body);
}

/* A big document: 1,200 articles of 4 KB in one transaction, then all of
 * them updated in one document of a group and rolled back: undone whole,
 * the group's other document kept. On PostgreSQL (each document its own
 * transaction) the first such document ran out of the shared lock table:
 * 17 similarity locks an article, held to the end (store_add.c,
 * LOCKS_SLOTS). */
static void
test_group_big_undo(void **state)
{
    (void)state;
    char where[512], err[512];
    struct store *s;
    struct parse_article a;
    uint32_t x = 777;
    db_where(where, sizeof(where), "group-big.db");
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    assert_int_equal(store_set_cache(s, STORE_WRITER_CACHE_KIB), 0); /* the writer's */
    int64_t f = feed(s, "big");
    assert_int_equal(store_begin(s), 0);
    big_doc(s, f, "oldmark", T0 + 60, &x);
    assert_int_equal(store_commit(s), 0);
    int grouped = store_group_begin(s);
    assert_int_equal(grouped, use_pg ? 0 : 1);
    art(&a, "small-1", "A small story stored beside it", "https://big.example/small",
        "<p>smallmark</p>", T0);
    assert_int_equal(add(s, f, &a, T0 + 120), STORE_NEW);
    assert_int_equal(store_begin(s), 0);
    big_doc(s, f, "newmark", T0 + 120, &x); /* every article updated … */
    store_rollback(s);                      /* … and undone */
    assert_int_equal(store_group_commit(s), 0);
    assert_int_equal(count(s), BIG_N + 1);
    struct store_query q = {.text = "oldmark", .limit = 5};
    assert_int_equal(nquery(s, &q), 5); /* at most 32 rows fetched here */
    q.text = "newmark";
    assert_int_equal(nquery(s, &q), 0);
    q.text = "smallmark";
    assert_int_equal(nquery(s, &q), 1);
    store_close(s);
}

/* store_checkpoint_async: the WAL is still checkpointed with SQLite's
 * auto-checkpoint replaced by the handle's own thread (the database file
 * grows by the articles), it restarts once the writer pauses
 * (journal_size_limit then holds it at 16 MiB), nothing is lost, and
 * closing stops the thread. PostgreSQL: nothing to do. */
static off_t
file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static void
test_checkpoint_async(void **state)
{
    (void)state;
    char where[512], err[512], wal[600], body[6000], guid[32], title[96], link[96];
    struct store *s;
    struct parse_article a;
    db_where(where, sizeof(where), "ckpt.db");
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    assert_int_equal(store_checkpoint_async(s), 0);
    assert_int_equal(store_checkpoint_async(s), 0); /* once */
    /* the writer's page cache (both backends take it; none is refused) */
    assert_int_equal(store_set_cache(s, 0), -EINVAL);
    assert_int_equal(store_set_cache(s, STORE_WRITER_CACHE_KIB), 0);
    int64_t f = feed(s, "wire");
    if (use_pg) {
        store_close(s);
        return;
    }
    snprintf(wal, sizeof(wal), "%s-wal", where);
    off_t db0 = file_size(where);
    unsigned seed = 7;
    /* 20 groups of 40 documents of 5 KB each: some 4,000 pages of WAL */
    for (int g = 0, k = 0; g < 20; g++) {
        assert_int_equal(store_group_begin(s), 1);
        for (int i = 0; i < 40; i++, k++) {
            size_t n = 0;
            n += (size_t)snprintf(body + n, sizeof(body) - n, "<p>");
            while (n < 5000)
                n += (size_t)snprintf(body + n, sizeof(body) - n, "w%u ", rand_r(&seed) % 100000);
            snprintf(body + n, sizeof(body) - n, "</p>");
            snprintf(guid, sizeof(guid), "g%d", k);
            snprintf(title, sizeof(title), "Story %d about %u", k, rand_r(&seed));
            snprintf(link, sizeof(link), "https://a.example/%d", k);
            art(&a, guid, title, link, body, T0);
            assert_int_equal(add(s, f, &a, T0 + 60), STORE_NEW);
        }
        assert_int_equal(store_group_commit(s), 0);
    }
    /* the thread copies the WAL into the database: the file grows by the
     * articles without the writer doing anything more */
    for (int i = 0; i < 500 && file_size(where) < db0 + (2 << 20); i++)
        sleep_ms(10);
    assert_true(file_size(where) >= db0 + (2 << 20));
    /* with the writer pausing, every frame is copied and a later commit
     * starts the WAL again, cut back to journal_size_limit */
    int restarted = 0;
    for (int i = 0; i < 100 && !restarted; i++) {
        sleep_ms(20);
        snprintf(guid, sizeof(guid), "late%d", i);
        snprintf(title, sizeof(title), "Late story %d", i);
        snprintf(link, sizeof(link), "https://a.example/late/%d", i);
        art(&a, guid, title, link, "<p>late</p>", T0);
        assert_int_equal(add(s, f, &a, T0 + 60), STORE_NEW);
        restarted = file_size(wal) <= (16 << 20);
    }
    assert_true(restarted);
    store_close(s); /* stops the thread */
    assert_int_equal(store_open(where, &s, err, sizeof(err)), 0);
    assert_true(count(s) >= 801);
    store_close(s);
}

/* On SQLite a claim (and a listing) may run inside an open group: a
 * savepoint of the group's transaction, committed with it, seen by
 * another handle only then; a group rolled back takes its claims with it
 * (the feeds are claimed again). PostgreSQL groups nothing: the claim
 * commits at once. */
static void
test_claim_in_group(void **state)
{
    (void)state;
    char where[512];
    struct store *a, *b;
    struct parse_article art1;
    int64_t ids[4];
    struct store_claim out[4];
    size_t n = 0;
    two_stores(where, sizeof(where), "claimgroup.db", &a, &b);
    sched_feeds(a, "f", "example.com", 4, ids);
    int64_t f = feed(a, "docs");
    int grouped = store_group_begin(a);
    assert_int_equal(grouped, use_pg ? 0 : 1);
    art(&art1, "x1", "A document before the claim", "https://a.example/x1", "<p>x</p>", T0);
    assert_int_equal(add(a, f, &art1, T0 + 60), STORE_NEW);
    assert_int_equal(store_group_open(a), grouped);
    int64_t listed[4] = {900, 900, 900, 900};
    assert_int_equal(store_node_listed(a, "node-a", ids, listed, 4), 0);
    struct store_claim_opts o = claim_opts("node-a", ids, 4, 60, 2);
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_group_open(a), grouped); /* the group goes on */
    /* the other handle sees the claims only once the group commits */
    struct store_feed_lease l[1];
    assert_int_equal(store_feed_leases(b, &out[0].feed_id, 1, l), 0);
    assert_true(grouped ? l[0].owner == NULL : l[0].owner != NULL);
    store_feed_lease_clear(l, 1);
    assert_int_equal(store_group_commit(a), 0);
    assert_int_equal(store_feed_leases(b, &out[0].feed_id, 1, l), 0);
    assert_non_null(l[0].owner);
    assert_string_equal(l[0].owner, "node-a");
    store_feed_lease_clear(l, 1);
    assert_int_equal(count(b), 1);
    /* a group rolled back loses its claims: the feeds are due again */
    assert_int_equal(store_group_begin(a), grouped);
    art(&art1, "x2", "A document of a lost group", "https://a.example/x2", "<p>y</p>", T0);
    assert_int_equal(add(a, f, &art1, T0 + 60), STORE_NEW);
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, 2);
    int64_t lost = out[0].feed_id;
    store_group_rollback(a);
    assert_int_equal(store_claim(a, &o, out, &n), 0);
    assert_int_equal(n, grouped ? 2 : 0);
    if (grouped)
        assert_int_equal(out[0].feed_id, lost);
    store_close(a);
    store_close(b);
}

int
main(void)
{
    /* on both backends */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule1_guid),
        cmocka_unit_test(test_canonical_link),
        cmocka_unit_test(test_rule2_link),
        cmocka_unit_test(test_title_key),
        cmocka_unit_test(test_rule3_title),
        cmocka_unit_test(test_rule3_generic_titles),
        cmocka_unit_test(test_rule3_column_titles),
        cmocka_unit_test(test_similarity),
        cmocka_unit_test(test_rule4_body),
        cmocka_unit_test(test_rule4_recall),
        cmocka_unit_test(test_sources_republish),
        cmocka_unit_test(test_add_many),
        cmocka_unit_test(test_prekeys),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_checkpoint_async),
        cmocka_unit_test(test_claim_in_group),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_search_words),
        cmocka_unit_test(test_tickers),
        cmocka_unit_test(test_watchlist),
        cmocka_unit_test(test_tickers_migrate),
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_tombstones),
        cmocka_unit_test(test_tombstone_batches),
        cmocka_unit_test(test_dates_not_believed),
        cmocka_unit_test(test_cli_end_to_end),
        cmocka_unit_test(test_store_copy),
        cmocka_unit_test(test_migrate_cli),
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_claim_per_host_rate),
        cmocka_unit_test(test_claim_many_hosts),
        cmocka_unit_test(test_group_big_undo),
        cmocka_unit_test(test_fence),
        cmocka_unit_test(test_due_now),
        cmocka_unit_test(test_feeds_listed),
        cmocka_unit_test(test_claim_listing),
        cmocka_unit_test(test_claim_windows),
        cmocka_unit_test(test_feed_freshness),
        cmocka_unit_test(test_notify),
        cmocka_unit_test(test_reconnect),
        cmocka_unit_test(test_same_story_two_nodes),
        cmocka_unit_test(test_keys_from_elsewhere),
        cmocka_unit_test(test_websub),
        cmocka_unit_test(test_hub),
    };
    /* about SQLite files only: migrations from the v1 fixture and PRAGMA
     * user_version, files that are not databases, locks */
    const struct CMUnitTest sqlite_tests[] = {
        cmocka_unit_test(test_fts_migrate),
        cmocka_unit_test(test_migrate_v1),
        cmocka_unit_test(test_migrate_v12),
        cmocka_unit_test(test_migrate_tombstones),
        cmocka_unit_test(test_migrate_v0_and_future),
        cmocka_unit_test(test_busy_timeout),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_locked_reader),
        cmocka_unit_test(test_locked_writer),
        cmocka_unit_test(test_wal_limit),
    };
    /* about PostgreSQL only: its schema version, encoding, URIs */
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test(test_pg_schema),
        cmocka_unit_test(test_pg_migrate_tombstones),
        cmocka_unit_test(test_pg_add_ahead),
    };
    int failed = cmocka_run_group_tests_name("store", tests, setup_backend, teardown_backend);
    if (use_pg)
        failed += cmocka_run_group_tests_name("store_pg", pg_tests, setup_backend, teardown_backend);
    else
        failed += cmocka_run_group_tests_name("store_sqlite", sqlite_tests, setup_backend,
                                              teardown_backend);
    return failed;
}
