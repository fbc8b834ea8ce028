/* tests/test_url.c — parse_url_resolve (parse/url.c): RFC 3986 §5.4 examples,
 * non-ASCII and escapes kept as written, and the fallbacks (no base, a base
 * that is not absolute, a reference libxml2 cannot read). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"

static void
resolves(const char *base, const char *ref, const char *want)
{
    char *got = parse_url_resolve(base, ref);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("resolve(%s, %s) = %s, want %s", base ? base : "NULL", ref, got, want);
    free(got);
}

/* RFC 3986 §5.4.1 normal examples, and §5.4.2 abnormal ones. */
static void
test_rfc3986(void **state)
{
    (void)state;
    const char *b = "http://a/b/c/d;p?q";
    static const char *const cases[][2] = {
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        resolves(b, cases[i][0], cases[i][1]);
}

static void
test_kept_as_written(void **state)
{
    (void)state;
    /* non-ASCII is not percent-encoded */
    resolves("http://any.test/", "\xC3\x80", "http://any.test/\xC3\x80");
    resolves("http://any.test/a/b", "新闻/图片.jpg", "http://any.test/a/新闻/图片.jpg");
    resolves("http://例子.test/a/", "b", "http://例子.test/a/b");
    /* escapes stay escapes, stray characters stay */
    resolves("http://any.test/a/", "x%2Fy?q=%20&r=%C3%80",
             "http://any.test/a/x%2Fy?q=%20&r=%C3%80");
    resolves("http://any.test/a/", "a b|c\"d", "http://any.test/a/a b|c\"d");
    resolves("http://any.test/a/", "50%off", "http://any.test/a/50%off");
    resolves("http://any.test/a/", "x[1]#f#g", "http://any.test/a/x[1]#f#g");
    /* absolute references as they are */
    resolves("http://any.test/a/", "HTTPS://Example.test/%7e", "HTTPS://Example.test/%7e");
    resolves("http://any.test/a/", "mailto:a@b.test", "mailto:a@b.test");
    resolves("http://[::1]:8080/a/", "b", "http://[::1]:8080/a/b");
    /* a first segment with a colon is a path, not a scheme */
    resolves("http://any.test/a/", "0x:y", "http://any.test/a/0x:y");
}

static void
test_fallbacks(void **state)
{
    (void)state;
    resolves(NULL, "rel/x", "rel/x");
    resolves("relative/base", "x", "x");
    resolves("", "x", "x");
    resolves("http:", "x", "x");
    assert_null(parse_url_resolve("http://a/", NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3986),
        cmocka_unit_test(test_kept_as_written),
        cmocka_unit_test(test_fallbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
