/* tests/test_decode.c — the byte-level input pipeline (parse/input/: decode.c, charset.c, xmlfix_*.c):
 * charset sniffing and labels, decoding of each charset to clean UTF-8, XML repair.
 * Every case asserts exact output bytes, and that feeding the input in any chunks
 * (one byte at a time included) gives the same bytes as one call. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "parse/input/decode_int.h"
#include "parse/input/xmlfix_int.h"
#include "parse/parse.h"

#define FFFD "\xEF\xBF\xBD"

static const size_t chunks[] = {0, 1, 2, 3, 5, 7, 64}; /* 0: one call */

/* Decode n bytes from `cs` fed `chunk` bytes a call; returns the output (owned). */
static char *
dec(const char *cs, const char *in, size_t n, size_t chunk, size_t *len, size_t *errors)
{
    struct decoder *d;
    struct buf out = {0};

    assert_int_equal(decoder_new(cs, &d), 0);
    if (chunk == 0)
        chunk = n ? n : 1;
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        assert_int_equal(decoder_run(d, in + off, k, 0, &out), 0);
    }
    assert_int_equal(decoder_run(d, "", 0, 1, &out), 0);
    *errors = decoder_errors(d);
    decoder_free(d);
    *len = out.len;
    return buf_steal(&out);
}

static void
check_dec_n(const char *cs, const char *in, size_t n, const char *want, size_t want_errors)
{
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        size_t len, errors;
        char *got = dec(cs, in, n, chunks[i], &len, &errors);
        if (len != strlen(want) || memcmp(got, want, len) != 0)
            fail_msg("%s, chunk %zu: got \"%s\", want \"%s\"", cs, chunks[i], got, want);
        assert_int_equal(errors, want_errors);
        free(got);
    }
    size_t errors = 99;
    assert_int_equal(decode_validate(cs, in, n, &errors), 0);
    assert_int_equal(errors, want_errors);
}

#define check_dec(cs, in, want, nerr) check_dec_n(cs, in, sizeof(in) - 1, want, nerr)

/* ---- labels and sniffing ---- */

static void
test_canonical(void **state)
{
    static const char *const pairs[][2] = {
        {"gb2312", "GB18030"},        {"GBK", "GB18030"},          {"x-gbk", "GB18030"},
        {"cp936", "GB18030"},         {"GB_2312-80", "GB18030"},   {"gb18030", "GB18030"},
        {"big5", "BIG5-HKSCS"},       {"Big5-HKSCS", "BIG5-HKSCS"}, {"shift_jis", "CP932"},
        {"SJIS", "CP932"},            {"ms_kanji", "CP932"},       {"windows-31j", "CP932"},
        {"euc-kr", "CP949"},          {"euc-jp", "EUC-JP-MS"},     {"iso-8859-1", "WINDOWS-1252"},
        {"latin1", "WINDOWS-1252"},   {"US-ASCII", "WINDOWS-1252"}, {"utf8", "UTF-8"},
        {" UTF-8 ", "UTF-8"},         {"koi8-r", "KOI8-R"},        {"windows-1251", "WINDOWS-1251"},
        {"cp1251", "WINDOWS-1251"},   {"iso-8859-2", "ISO-8859-2"}, {"ISO-8859-5", "ISO-8859-5"},
        {"iso-8859-9", "WINDOWS-1254"}, {"tis-620", "WINDOWS-874"}, {"utf-16", "UTF-16LE"},
        {"UTF-16BE", "UTF-16BE"},     {"utf-32le", "UTF-32LE"},    {"iso-2022-jp", "ISO-2022-JP"},
        {"ibm850", "IBM850"},
    };
    char out[48], again[48];

    (void)state;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        assert_int_equal(decode_canonical(pairs[i][0], out, sizeof out), 0);
        assert_string_equal(out, pairs[i][1]);
        /* canonical names map to themselves, and decoders exist for them */
        assert_int_equal(decode_canonical(out, again, sizeof again), 0);
        assert_string_equal(again, out);
        struct decoder *d;
        assert_int_equal(decoder_new(out, &d), 0);
        decoder_free(d);
    }
    assert_int_equal(decode_canonical("no-such-charset", out, sizeof out), -EINVAL);
    assert_int_equal(decode_canonical("utf-8//TRANSLIT", out, sizeof out), -EINVAL);
    assert_int_equal(decode_canonical("", out, sizeof out), -EINVAL);
    assert_int_equal(decode_canonical("   ", out, sizeof out), -EINVAL);
    assert_int_equal(decode_canonical("gbk", out, 4), -EINVAL); /* "GB18030" does not fit */
    struct decoder *d = (struct decoder *)1;
    assert_int_equal(decoder_new("x-unknown", &d), -EINVAL);
    assert_null(d);
}

static void
test_sniff_bom(void **state)
{
    struct decode_sniff s;

    (void)state;
    static const char u8[] = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"gbk\"?>";
    decode_sniff(u8, sizeof u8 - 1, &s);
    assert_string_equal(s.bom, "UTF-8");
    assert_int_equal(s.bom_len, 3);
    assert_string_equal(s.decl, "GB18030");
    decode_sniff("\xFF\xFE<\0?\0", 6, &s);
    assert_string_equal(s.bom, "UTF-16LE");
    assert_int_equal(s.bom_len, 2);
    assert_string_equal(s.decl, "UTF-16LE");
    decode_sniff("\xFE\xFF\0<\0?", 6, &s);
    assert_string_equal(s.bom, "UTF-16BE");
    assert_int_equal(s.bom_len, 2);
    decode_sniff("\xFF\xFE\0\0<\0\0\0", 8, &s);
    assert_string_equal(s.bom, "UTF-32LE");
    assert_int_equal(s.bom_len, 4);
    decode_sniff("\0\0\xFE\xFF\0\0\0<", 8, &s);
    assert_string_equal(s.bom, "UTF-32BE");
    assert_int_equal(s.bom_len, 4);
    decode_sniff("\xFF", 1, &s); /* too short for anything */
    assert_string_equal(s.bom, "");
    assert_int_equal(s.bom_len, 0);
    assert_string_equal(s.decl, "");
}

static void
test_sniff_decl(void **state)
{
    static const char le[] = "<\0?\0x\0m\0l\0 \0v\0e\0r\0s\0i\0o\0n\0=\0'\0\x31\0'\0?\0>\0";
    static const char be[] = "\0<\0?\0x\0m\0l";
    struct decode_sniff s;

    (void)state;
    decode_sniff(le, sizeof le - 1, &s);
    assert_string_equal(s.bom, "");
    assert_string_equal(s.decl, "UTF-16LE");
    decode_sniff(be, sizeof be - 1, &s);
    assert_string_equal(s.decl, "UTF-16BE");
    decode_sniff("<\0\0\0?\0\0\0", 8, &s);
    assert_string_equal(s.decl, "UTF-32LE");
    decode_sniff("\0\0\0<\0\0\0?", 8, &s);
    assert_string_equal(s.decl, "UTF-32BE");

    static const struct {
        const char *doc, *decl;
    } cases[] = {
        {"<?xml version=\"1.0\" encoding=\"GB2312\"?><rss/>", "GB18030"},
        {"<?xml version='1.0' encoding='big5' standalone='yes'?>", "BIG5-HKSCS"},
        {"\n\n  <?xml version=\"1.0\" encoding = \"Shift_JIS\" ?>", "CP932"},
        {"<br />\n<b>Warning</b>: x<br />\n<?xml version=\"1.0\" encoding=\"euc-kr\"?>", "CP949"},
        {"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", "WINDOWS-1252"},
        {"<?xml version=\"1.0\" encoding=\"utf-16\"?>", ""}, /* a lie on 8-bit bytes */
        {"<?xml version=\"1.0\" encoding=\"x-klingon\"?>", ""},
        {"<?xml version=\"1.0\"?><rss/>", ""},
        {"<rss version=\"2.0\"/>", ""},
        {"<?xml-stylesheet href=\"a.xsl\" encoding=\"gbk\"?><rss/>", ""},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        decode_sniff(cases[i].doc, strlen(cases[i].doc), &s);
        assert_string_equal(s.bom, "");
        assert_string_equal(s.decl, cases[i].decl);
    }
}

/* ---- UTF-8 ---- */

static void
test_utf8_clean(void **state)
{
    (void)state;
    check_dec("UTF-8", "<a>\t新浪财经\r\n caf\xC3\xA9 \xF0\x9F\x98\x80 \x7F</a>",
              "<a>\t新浪财经\r\n caf\xC3\xA9 \xF0\x9F\x98\x80 \x7F</a>", 0);
    check_dec("UTF-8", "", "", 0);
    /* U+0080–U+009F, U+FDD0 and U+10FFFF are XML characters */
    check_dec("UTF-8", "\xC2\x80\xEF\xB7\x90\xF4\x8F\xBF\xBF", "\xC2\x80\xEF\xB7\x90\xF4\x8F\xBF\xBF", 0);
}

static void
test_utf8_invalid(void **state)
{
    (void)state;
    check_dec("UTF-8", "a\xFF" "b", "a" FFFD "b", 1);
    check_dec("UTF-8", "\xC3(", FFFD "(", 1);
    check_dec("UTF-8", "\xC0\xAF", FFFD FFFD, 2);                 /* overlong */
    check_dec("UTF-8", "\xE0\x80\x80", FFFD FFFD FFFD, 3);        /* overlong */
    check_dec("UTF-8", "\xED\xA0\x80x", FFFD FFFD FFFD "x", 3);   /* a surrogate */
    check_dec("UTF-8", "\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD, 4); /* past U+10FFFF */
    check_dec("UTF-8", "\xE6\x96x", FFFD "x", 1);                 /* cut short: one U+FFFD */
    check_dec("UTF-8", "\xF0\x9F\x98", FFFD, 1);                  /* cut by the end */
    check_dec("UTF-8", "\x80\xBF", FFFD FFFD, 2);                 /* lone continuations */
    check_dec("UTF-8", "\xF8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD, 5);
    check_dec("UTF-8", "\xE6\x96\xB0\xE6\x96", "新" FFFD, 1);
}

static void
test_utf8_chunk_boundary(void **state)
{
    struct decoder *d;
    struct buf out = {0};

    (void)state;
    assert_int_equal(decoder_new("UTF-8", &d), 0);
    assert_int_equal(decoder_run(d, "ab\xE6\x96", 4, 0, &out), 0);
    assert_int_equal(out.len, 2); /* the cut character waits */
    assert_memory_equal(out.data, "ab", 2);
    assert_int_equal(decoder_run(d, "\xB0" "c\xF0", 3, 0, &out), 0);
    assert_string_equal(out.data, "ab新c");
    assert_int_equal(decoder_run(d, "\x9F\x98\x80", 3, 0, &out), 0);
    assert_string_equal(out.data, "ab新c\xF0\x9F\x98\x80");
    assert_int_equal(decoder_run(d, "\xE6", 1, 0, &out), 0);
    assert_int_equal(decoder_run(d, "", 0, 1, &out), 0); /* the end flushes it */
    assert_string_equal(out.data, "ab新c\xF0\x9F\x98\x80" FFFD);
    assert_int_equal(decoder_errors(d), 1);
    decoder_free(d);
    buf_free(&out);
}

static void
test_utf8_forbidden(void **state)
{
    (void)state;
    check_dec_n("UTF-8", "a\0b\x01" "c\x08\x0B\x0C\x1F" "d\te\nf\rg", 16, "abcd\te\nf\rg", 0);
    check_dec("UTF-8", "x\xEF\xBF\xBEy\xEF\xBF\xBFz\xEF\xBF\xBD", "xyz" FFFD, 0);
    check_dec("UTF-8", "\x1B[0m<a/>", "[0m<a/>", 0);
}

/* ---- other charsets ---- */

static void
test_gbk(void **state)
{
    (void)state;
    /* 新浪财经 in GBK, then 镕 (E946: in GBK and GB18030, not GB2312) */
    check_dec("gbk", "\xD0\xC2\xC0\xCB\xB2\xC6\xBE\xAD\xE9\x46", "新浪财经镕", 0);
    check_dec("GB2312", "<t>\xD0\xC2\xC0\xCB \xE9\x46</t>", "<t>新浪 镕</t>", 0);
    /* a four-byte GB18030 sequence: U+20000 */
    check_dec("GB18030", "a\x95\x32\x82\x36" "b", "a\xF0\xA0\x80\x80" "b", 0);
    /* bad bytes: one U+FFFD each, and the ASCII after a lead byte survives */
    check_dec("gbk", "\xD0\xC2\xFF\xD0<", "新" FFFD FFFD "<", 2);
    check_dec("gbk", "\xD0\xC2\xD0", "新" FFFD, 1); /* cut by the end */
    check_dec("gbk", "a\x01" "b\x00" "c", "abc", 0);
}

static void
test_big5(void **state)
{
    (void)state;
    /* 財經新聞; 㗎 (9DEE, HKSCS); A1C3 ￣ (only CP950 knows it); C6A1 ① (HKSCS,
     * where CP950 has a private-use code point) */
    check_dec("big5", "\xB0\x5D\xB8\x67\xB7\x73\xBB\x44 \x9D\xEE\xA1\xC3\xC6\xA1",
              "財經新聞 㗎\xEF\xBF\xA3①", 0);
    check_dec("big5", "\xB0\x5D\xFF\xA1", "財" FFFD FFFD, 2); /* a bad byte; a cut lead */
}

static void
test_shift_jis(void **state)
{
    (void)state;
    /* 日本語, then ① (NEC extension) and the wave dash as U+FF5E, as browsers do */
    check_dec("Shift_JIS", "\x93\xFA\x96\x7B\x8C\xEA\x87\x40\x81\x60", "日本語①\xEF\xBD\x9E", 0);
    check_dec("sjis", "\xB1\xB2", "\xEF\xBD\xB1\xEF\xBD\xB2", 0); /* half-width katakana */
}

static void
test_japanese_other(void **state)
{
    (void)state;
    /* EUC-JP as windows does it: the wave dash is U+FF5E, ① (NEC row 13) exists */
    check_dec("euc-jp", "\xC6\xFC\xCB\xDC\xB8\xEC\xA1\xC1\xAD\xA1", "日本語\xEF\xBD\x9E①", 0);
    /* ISO-2022-JP keeps state between calls: escape sequences may be cut anywhere */
    check_dec("iso-2022-jp", "a\x1B$BF|K\\8l\x1B(Bb", "a日本語b", 0);
}

static void
test_euc_kr(void **state)
{
    (void)state;
    /* 한국어, then 똠 (8C63: only in the UHC superset windows-949) */
    check_dec("euc-kr", "\xC7\xD1\xB1\xB9\xBE\xEE\x8C\x63", "한국어똠", 0);
}

static void
test_single_byte(void **state)
{
    (void)state;
    /* ISO-8859-1 is read as windows-1252: 0x93/0x94 are curly quotes, 0x80 the
     * euro, and the hole 0x81 is U+0081 (WHATWG) */
    check_dec("iso-8859-1", "\x93hi\x94 \x80 caf\xE9 \x81",
              "\xE2\x80\x9Chi\xE2\x80\x9D \xE2\x82\xAC caf\xC3\xA9 \xC2\x81", 0);
    check_dec("windows-1252", "a\x01" "b\x00" "c", "abc", 0);
    check_dec("windows-1251", "\xCF\xF0\xE8\xE2\xE5\xF2, \xEC\xE8\xF0", "Привет, мир", 0);
    check_dec("koi8-r", "\xF0\xD2\xC9\xD7\xC5\xD4", "Привет", 0);
    check_dec("iso-8859-2", "\xA3\xF3" "d\xBC", "\xC5\x81\xC3\xB3" "d\xC5\xBA", 0);
    /* ISO-8859-3 leaves 0xA5 undefined */
    check_dec("iso-8859-3", "a\xA5" "b", "a" FFFD "b", 1);
}

static void
test_utf16(void **state)
{
    static const char le[] = "\xFF\xFE<\0a\0>\0\xE9\0\x34\xD8\x1E\xDD<\0/\0a\0>\0";
    static const char be[] = "\xFE\xFF\0<\0a\0>\0\xE9\xD8\x34\xDD\x1E\0<\0/\0a\0>";
    struct decode_sniff s;

    (void)state;
    decode_sniff(le, sizeof le - 1, &s);
    check_dec_n(s.bom, le + s.bom_len, sizeof le - 1 - s.bom_len, "<a>é𝄞</a>", 0);
    decode_sniff(be, sizeof be - 1, &s);
    check_dec_n(s.bom, be + s.bom_len, sizeof be - 1 - s.bom_len, "<a>é𝄞</a>", 0);
    /* a lone surrogate, a reversed pair, an odd last byte */
    check_dec("UTF-16LE", "\x34\xD8" "a\0", FFFD "a", 1);
    check_dec("UTF-16LE", "\x1E\xDD\x34\xD8", FFFD FFFD, 2);
    check_dec("UTF-16BE", "\0a\0", "a" FFFD, 1);
    check_dec("UTF-16LE", "\x01\0\t\0\xFF\xFF", "\t", 0); /* forbidden characters */
}

static void
test_utf16_sniffed(void **state)
{
    static const char doc[] =
        "<\0?\0x\0m\0l\0 \0v\0e\0r\0s\0i\0o\0n\0=\0\"\0\x31\0.\0\x30\0\"\0 \0"
        "e\0n\0c\0o\0d\0i\0n\0g\0=\0\"\0U\0T\0F\0-\0\x31\0\x36\0\"\0?\0>\0"
        "<\0t\0>\0\xB0\x65\x6A\x6D<\0/\0t\0>\0";
    struct decode_sniff s;

    (void)state;
    decode_sniff(doc, sizeof doc - 1, &s);
    assert_string_equal(s.bom, "");
    assert_int_equal(s.bom_len, 0);
    assert_string_equal(s.decl, "UTF-16LE");
    check_dec_n(s.decl, doc, sizeof doc - 1,
                "<?xml version=\"1.0\" encoding=\"UTF-16\"?><t>新浪</t>", 0);
}

static void
test_utf32(void **state)
{
    static const char le[] = "\xFF\xFE\0\0<\0\0\0\xE9\0\0\0\x1E\xD1\x01\0";
    struct decode_sniff s;

    (void)state;
    decode_sniff(le, sizeof le - 1, &s);
    assert_string_equal(s.bom, "UTF-32LE");
    check_dec_n(s.bom, le + 4, sizeof le - 5, "<é𝄞", 0);
    check_dec("UTF-32BE", "\0\0\0a\0\x11\0\0\0\0\xD8\0\0\0\0", "a" FFFD FFFD FFFD, 3);
}

static void
test_validate(void **state)
{
    static const char gbk[] = "<t>\xD0\xC2\xC0\xCB\xB2\xC6\xBE\xAD</t>";
    size_t errors;
    struct decoder *d;

    (void)state;
    assert_int_equal(decode_validate("UTF-8", gbk, sizeof gbk - 1, &errors), 0);
    assert_true(errors > 0);
    assert_int_equal(decode_validate("gbk", gbk, sizeof gbk - 1, &errors), 0);
    assert_int_equal(errors, 0);
    assert_int_equal(decode_validate("x-nothing", gbk, sizeof gbk - 1, &errors), -EINVAL);
    /* streaming: a decoder with no output counts the same */
    assert_int_equal(decoder_new("UTF-8", &d), 0);
    for (size_t i = 0; i < sizeof gbk - 1; i++)
        assert_int_equal(decoder_run(d, gbk + i, 1, 0, NULL), 0);
    assert_int_equal(decoder_run(d, "", 0, 1, NULL), 0);
    assert_int_equal(decoder_errors(d), 4);
    decoder_free(d);
}

/* ---- xmlfix ---- */

static char *
fix(const char *in, size_t n, size_t chunk, unsigned *problems)
{
    struct xmlfix *x;
    struct buf out = {0};

    assert_int_equal(xmlfix_new(&x), 0);
    if (chunk == 0)
        chunk = n ? n : 1;
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        assert_int_equal(xmlfix_run(x, in + off, k, 0, &out), 0);
    }
    assert_int_equal(xmlfix_run(x, "", 0, 1, &out), 0);
    *problems = xmlfix_problems(x);
    xmlfix_free(x);
    return buf_steal(&out);
}

static void
check_fix(const char *in, const char *want, unsigned want_problems)
{
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        unsigned problems;
        char *got = fix(in, strlen(in), chunks[i], &problems);
        if (strcmp(got, want) != 0)
            fail_msg("chunk %zu:\n got \"%s\"\nwant \"%s\"", chunks[i], got, want);
        assert_int_equal(problems, want_problems);
        free(got);
    }
}

static void
test_fix_clean(void **state)
{
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>"
        "<title>A &amp; B &lt;3 &gt; &quot;x&quot; &apos;y&apos; &#38; &#x26; &#X41;</title>"
        "<link>http://a.example/?a=1&amp;b=2</link></channel></rss>\n";
    (void)state;
    check_fix("<rss/>", "<rss/>", 0);
    check_fix("", "", 0);
    check_fix(doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>"
                   "<title>A &amp; B &lt;3 &gt; &quot;x&quot; &apos;y&apos; &#38; &#x26; &#x41;</title>"
                   "<link>http://a.example/?a=1&amp;b=2</link></channel></rss>\n",
              PARSE_P_ENTITIES); /* only &#X41; was touched */
}

static void
test_fix_bare_amp(void **state)
{
    (void)state;
    check_fix("<a>AT&T & co &; &#; &#x; &#12a; &nbsp &</a>",
              "<a>AT&amp;T &amp; co &amp;; &amp;#; &amp;#x; &amp;#12a; &amp;nbsp &amp;</a>",
              PARSE_P_ENTITIES);
    check_fix("<a href=\"http://x.example/?a=1&b=2&amp;c=3\" title='Q&A'>x</a>",
              "<a href=\"http://x.example/?a=1&amp;b=2&amp;c=3\" title='Q&amp;A'>x</a>",
              PARSE_P_ENTITIES);
    /* a reference longer than any entity name is text */
    check_fix("<a>&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;</a>",
              "<a>&amp;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;</a>", PARSE_P_ENTITIES);
    /* cut by the end of the document */
    check_fix("<a>x &amp", "<a>x &amp;amp", PARSE_P_ENTITIES);
}

static void
test_fix_html_entities(void **state)
{
    (void)state;
    check_fix("<p>a&nbsp;b &mdash; caf&eacute;&hellip; &copy;&euro;&Eacute;&COPY;&AMP;</p>",
              "<p>a&#160;b &#8212; caf&#233;&#8230; &#169;&#8364;&#201;&#169;&#38;</p>",
              PARSE_P_ENTITIES);
    check_fix("<img alt=\"&ldquo;x&rdquo;&nbsp;\"/>", "<img alt=\"&#8220;x&#8221;&#160;\"/>",
              PARSE_P_ENTITIES);
    check_fix("<p>&foo; &Nbsp; &bar-baz;</p>", "<p>&amp;foo; &amp;Nbsp; &amp;bar-baz;</p>",
              PARSE_P_ENTITIES);
}

static void
test_fix_sections(void **state)
{
    static const char doc[] =
        "<rss><![CDATA[a & b &nbsp; < c ]] ]]><!-- & &nbsp; < -- --><?pi & < ?>"
        "<![CDATA[]]]]><!----><x a='&amp;'/></rss>";
    (void)state;
    check_fix(doc, doc, 0);
    check_fix("<r><!-- x --->&nbsp;</r>", "<r><!-- x --->&#160;</r>", PARSE_P_ENTITIES);
    check_fix("<r><!ELEMENT & x>&nbsp;</r>", "<r><!ELEMENT & x>&#160;</r>", PARSE_P_ENTITIES);
}

static void
test_fix_internal_subset(void **state)
{
    (void)state;
    check_fix("<!DOCTYPE rss [\n<!ENTITY foo \"bar > ]\">\n<!ENTITY % pe \"x\">\n"
              "<!-- <!ENTITY no \"x\"> ] > -->\n<?pi ]> ?>\n<!ENTITY\tnbsp '&#160;'>\n]>"
              "<rss>&foo; &nbsp; &no; &pe; &mdash;</rss>",
              "<!DOCTYPE rss [\n<!ENTITY foo \"bar > ]\">\n<!ENTITY % pe \"x\">\n"
              "<!-- <!ENTITY no \"x\"> ] > -->\n<?pi ]> ?>\n<!ENTITY\tnbsp '&#160;'>\n]>"
              "<rss>&foo; &nbsp; &amp;no; &amp;pe; &#8212;</rss>",
              PARSE_P_ENTITIES);
    check_fix("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"x.dtd\"><p>&nbsp;</p>",
              "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"x.dtd\"><p>&#160;</p>",
              PARSE_P_ENTITIES);
}

static void
test_fix_junk(void **state)
{
    (void)state;
    check_fix("\n\n  <?xml version=\"1.0\"?>\n<rss/>", "<?xml version=\"1.0\"?>\n<rss/>", 0);
    check_fix("\xEF\xBB\xBF<rss/>", "<rss/>", 0);
    check_fix("garbage<rss/>", "<rss/>", PARSE_P_JUNK);
    check_fix("<br />\n<b>Warning</b>: mysql_connect() in x.php<br />\n"
              "<?xml version=\"1.0\" encoding=\"gbk\"?>\n<rss/>",
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss/>", PARSE_P_JUNK);
    /* "<?xml" inside CDATA and <?xml-stylesheet?> are not declarations */
    check_fix("<r><![CDATA[<?xml version=\"1.0\"?>]]></r>",
              "<r><![CDATA[<?xml version=\"1.0\"?>]]></r>", 0);
    check_fix("<?xml-stylesheet href=\"a.xsl\"?><rss/>", "<?xml-stylesheet href=\"a.xsl\"?><rss/>", 0);
    check_fix("no markup at all", "", PARSE_P_JUNK);
    /* a '<' that starts no markup is junk too while no markup has been seen */
    check_fix("x <3 <rss>a <3</rss>", "<rss>a &lt;3</rss>", PARSE_P_JUNK | PARSE_P_ENTITIES);
    check_fix("<", "", PARSE_P_JUNK);

    /* junk longer than the look-ahead: skipped to the first '<' */
    char *doc = malloc(3100), *want;
    memset(doc, 'j', 3000);
    strcpy(doc + 3000, "<rss/>");
    check_fix(doc, "<rss/>", PARSE_P_JUNK);
    /* a declaration past the first KiB is not looked for */
    memset(doc, ' ', 3000);
    memcpy(doc + 1100, "<a/>", 4);
    strcpy(doc + 3000, "<?xml version=\"1.0\"?>");
    want = malloc(3100);
    memset(want, ' ', 3000);
    memcpy(want, "<a/>", 4);
    strcpy(want + 1900, "<?xml version=\"1.0\"?>");
    check_fix(doc, want, 0);
    free(want);
    free(doc);
}

static void
test_fix_declaration(void **state)
{
    (void)state;
    check_fix("<?xml version='1.0' encoding='gb2312' standalone='yes'?><rss/>",
              "<?xml version='1.0' encoding='UTF-8' standalone='yes'?><rss/>", 0);
    check_fix("<?xml version=\"1.0\" encoding = \"big5\" ?><rss/>",
              "<?xml version=\"1.0\" encoding = \"UTF-8\" ?><rss/>", 0);
    check_fix("<?xml version=\"1.0\" encoding=gbk?><rss/>",
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss/>", 0);
    check_fix("<?xml version=\"1.0\"?><rss/>", "<?xml version=\"1.0\"?><rss/>", 0);
    /* "?>" missing: the declaration ends at its '>' */
    check_fix("<?xml version=\"1.0\" encoding=\"gbk\">\n<rss>&nbsp;</rss>",
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss>&#160;</rss>", PARSE_P_ENTITIES);
    check_fix("<?xml version=\"1.0\" encoding=\"gbk", "<?xml version=\"1.0\" encoding=\"gbk", 0);
}

static void
test_fix_numeric(void **state)
{
    (void)state;
    check_fix("<a>&#0;&#1;&#9;&#10;&#13;&#x1f;&#xB;&#xD800;&#xdfff;&#x110000;"
              "&#99999999999999999999;&#65;&#X42;&#xFFFE;&#xffff;&#xFFFD;&#x10FFFF;&#0065;</a>",
              "<a>&#9;&#10;&#13;&#xFFFD;&#xFFFD;&#xFFFD;&#xFFFD;&#65;&#x42;&#xFFFD;&#x10FFFF;&#0065;</a>",
              PARSE_P_ENTITIES);
    check_fix("<a t=\"&#1;x\"/>", "<a t=\"x\"/>", PARSE_P_ENTITIES);
}

static void
test_fix_lt(void **state)
{
    (void)state;
    check_fix("<a>1 < 2, <3, a<=b</a>", "<a>1 &lt; 2, &lt;3, a&lt;=b</a>", PARSE_P_ENTITIES);
    check_fix("<a title=\"a<b\" href='x'>y</a>", "<a title=\"a&lt;b\" href='x'>y</a>",
              PARSE_P_ENTITIES);
    check_fix("<a>x <", "<a>x &lt;", PARSE_P_ENTITIES);
    /* a quote not after '=' opens nothing */
    check_fix("<a \"x>&nbsp;</a>", "<a \"x>&#160;</a>", PARSE_P_ENTITIES);
    check_fix("<a b=c>&nbsp;</a>", "<a b=c>&#160;</a>", PARSE_P_ENTITIES);
    check_fix("<中文>x</中文>", "<中文>x</中文>", 0);
}

/* A realistic document: repaired, chunked any way, and libxml2 reads it strictly. */
static void
test_fix_feed(void **state)
{
    static const char doc[] =
        "\r\n<?xml version=\"1.0\" encoding=\"gb2312\"?>\r\n"
        "<!DOCTYPE rss [<!ENTITY site \"新浪\">]>\n"
        "<rss version=\"2.0\"><channel><title>&site;财经 &mdash; 滚动</title>"
        "<link>http://finance.sina.com.cn/?a=1&b=2</link>"
        "<item><title>A股&nbsp;收盘 & 港股 <3</title>"
        "<description><![CDATA[<p>a & b &nbsp;</p>]]></description>"
        "<link>http://x.sina.com.cn/doc.shtml?from=rss&amp;r=1&x</link>"
        "<comments>&#8;x&#x1F600;</comments></item></channel></rss>\n";
    static const char want[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
        "<!DOCTYPE rss [<!ENTITY site \"新浪\">]>\n"
        "<rss version=\"2.0\"><channel><title>&site;财经 &#8212; 滚动</title>"
        "<link>http://finance.sina.com.cn/?a=1&amp;b=2</link>"
        "<item><title>A股&#160;收盘 &amp; 港股 &lt;3</title>"
        "<description><![CDATA[<p>a & b &nbsp;</p>]]></description>"
        "<link>http://x.sina.com.cn/doc.shtml?from=rss&amp;r=1&amp;x</link>"
        "<comments>x&#x1F600;</comments></item></channel></rss>\n";
    unsigned problems;

    (void)state;
    check_fix(doc, want, PARSE_P_ENTITIES);
    for (size_t chunk = 1; chunk < 40; chunk += 3) {
        char *got = fix(doc, sizeof doc - 1, chunk, &problems);
        assert_string_equal(got, want);
        free(got);
    }
    xmlDocPtr d = xmlReadMemory(want, (int)strlen(want), NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    assert_non_null(d);
    xmlFreeDoc(d);
}

/* Two documents through one repairer: the second starts afresh. */
static void
test_fix_reuse(void **state)
{
    struct xmlfix *x;
    struct buf out = {0};

    (void)state;
    assert_int_equal(xmlfix_new(&x), 0);
    static const char d1[] = "<!DOCTYPE r [<!ENTITY e 'x'>]><r>&e;</r>";
    static const char d2[] = " <?xml version='1.0'?><r>&e; &";
    assert_int_equal(xmlfix_run(x, d1, sizeof d1 - 1, 1, &out), 0);
    assert_string_equal(out.data, "<!DOCTYPE r [<!ENTITY e 'x'>]><r>&e;</r>");
    buf_reset(&out);
    assert_int_equal(xmlfix_run(x, d2, sizeof d2 - 1, 1, &out), 0);
    assert_string_equal(out.data, "<?xml version='1.0'?><r>&amp;e; &amp;");
    assert_int_equal(xmlfix_problems(x), PARSE_P_ENTITIES);
    xmlfix_free(x);
    xmlfix_free(NULL);
    decoder_free(NULL);
    buf_free(&out);
}

/* Decoding then repairing, as parse/feed.c chains them, split at random places. */
static void
test_pipeline_random_chunks(void **state)
{
    static const char doc[] = "\n<?xml version=\"1.0\" encoding=\"GBK\"?><r a=\"1&2\">"
                              "\xD0\xC2\xC0\xCB&nbsp;\xB2\xC6\xBE\xAD\xE9\x46 &</r>";
    static const char want[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><r a=\"1&amp;2\">新浪&#160;财经镕 &amp;</r>";
    unsigned seed = 12345;

    (void)state;
    for (int round = 0; round < 200; round++) {
        struct decoder *d;
        struct xmlfix *x;
        struct buf mid = {0}, out = {0};
        size_t off = 0, n = sizeof doc - 1;
        assert_int_equal(decoder_new("gbk", &d), 0);
        assert_int_equal(xmlfix_new(&x), 0);
        while (off < n) {
            seed = seed * 1103515245 + 12345;
            size_t k = 1 + (seed >> 16) % 9;
            if (k > n - off)
                k = n - off;
            buf_reset(&mid);
            assert_int_equal(decoder_run(d, doc + off, k, 0, &mid), 0);
            assert_int_equal(xmlfix_run(x, mid.data, mid.len, 0, &out), 0);
            off += k;
        }
        buf_reset(&mid);
        assert_int_equal(decoder_run(d, "", 0, 1, &mid), 0);
        assert_int_equal(xmlfix_run(x, mid.data, mid.len, 1, &out), 0);
        assert_string_equal(out.data, want);
        decoder_free(d);
        xmlfix_free(x);
        buf_free(&mid);
        buf_free(&out);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_sniff_bom),
        cmocka_unit_test(test_sniff_decl),
        cmocka_unit_test(test_utf8_clean),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_utf8_chunk_boundary),
        cmocka_unit_test(test_utf8_forbidden),
        cmocka_unit_test(test_gbk),
        cmocka_unit_test(test_big5),
        cmocka_unit_test(test_shift_jis),
        cmocka_unit_test(test_japanese_other),
        cmocka_unit_test(test_euc_kr),
        cmocka_unit_test(test_single_byte),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_utf16_sniffed),
        cmocka_unit_test(test_utf32),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_fix_clean),
        cmocka_unit_test(test_fix_bare_amp),
        cmocka_unit_test(test_fix_html_entities),
        cmocka_unit_test(test_fix_sections),
        cmocka_unit_test(test_fix_internal_subset),
        cmocka_unit_test(test_fix_junk),
        cmocka_unit_test(test_fix_declaration),
        cmocka_unit_test(test_fix_numeric),
        cmocka_unit_test(test_fix_lt),
        cmocka_unit_test(test_fix_feed),
        cmocka_unit_test(test_fix_reuse),
        cmocka_unit_test(test_pipeline_random_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
