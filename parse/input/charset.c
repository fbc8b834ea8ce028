/* parse/input/charset.c — which charset a document is in (SPEC §3 "Encodings"):
 * WHATWG labels to the glibc name we decode with, the byte-order mark, the
 * UTF-16/32 byte pattern of a first '<', the XML declaration's encoding, and
 * the choice between the HTTP charset and the declaration. */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse/input/input_int.h"
#include "parse/report_int.h"

/* WHATWG Encoding Standard labels (and a few Windows names) → the glibc name we
 * decode with. Lower case; looked up once per document, so a linear scan. */
static const struct {
    const char *label;
    const char *canon;
} labels[] = {
    {"utf-8", "UTF-8"}, {"utf8", "UTF-8"}, {"unicode-1-1-utf-8", "UTF-8"},
    {"unicode11utf8", "UTF-8"}, {"unicode20utf8", "UTF-8"}, {"x-unicode20utf8", "UTF-8"},
    /* SPEC §3: GB2312 and GBK are decoded as their superset GB18030. */
    {"gb18030", "GB18030"}, {"gbk", "GB18030"}, {"x-gbk", "GB18030"}, {"gb2312", "GB18030"},
    {"gb_2312", "GB18030"}, {"gb_2312-80", "GB18030"}, {"csgb2312", "GB18030"},
    {"csiso58gb231280", "GB18030"}, {"iso-ir-58", "GB18030"}, {"chinese", "GB18030"},
    {"cp936", "GB18030"}, {"ms936", "GB18030"}, {"windows-936", "GB18030"},
    {"euc-cn", "GB18030"}, {"x-euc-cn", "GB18030"},
    {"big5", "BIG5-HKSCS"}, {"big5-hkscs", "BIG5-HKSCS"}, {"big5hkscs", "BIG5-HKSCS"},
    {"cn-big5", "BIG5-HKSCS"}, {"csbig5", "BIG5-HKSCS"}, {"x-x-big5", "BIG5-HKSCS"},
    {"cp950", "BIG5-HKSCS"}, {"ms950", "BIG5-HKSCS"}, {"windows-950", "BIG5-HKSCS"},
    {"shift_jis", "CP932"}, {"shift-jis", "CP932"}, {"sjis", "CP932"}, {"x-sjis", "CP932"},
    {"ms_kanji", "CP932"}, {"csshiftjis", "CP932"}, {"windows-31j", "CP932"},
    {"ms932", "CP932"}, {"cp932", "CP932"},
    {"euc-jp", "EUC-JP-MS"}, {"x-euc-jp", "EUC-JP-MS"}, {"cseucpkdfmtjapanese", "EUC-JP-MS"},
    {"iso-2022-jp", "ISO-2022-JP"}, {"csiso2022jp", "ISO-2022-JP"},
    {"euc-kr", "CP949"}, {"cseuckr", "CP949"}, {"csksc56011987", "CP949"},
    {"iso-ir-149", "CP949"}, {"korean", "CP949"}, {"ks_c_5601-1987", "CP949"},
    {"ks_c_5601-1989", "CP949"}, {"ksc5601", "CP949"}, {"ksc_5601", "CP949"},
    {"windows-949", "CP949"}, {"cp949", "CP949"}, {"uhc", "CP949"},
    /* WHATWG: Latin-1 and ASCII labels mean windows-1252. */
    {"windows-1252", "WINDOWS-1252"}, {"cp1252", "WINDOWS-1252"}, {"x-cp1252", "WINDOWS-1252"},
    {"iso-8859-1", "WINDOWS-1252"}, {"iso8859-1", "WINDOWS-1252"}, {"iso88591", "WINDOWS-1252"},
    {"iso_8859-1", "WINDOWS-1252"}, {"iso_8859-1:1987", "WINDOWS-1252"},
    {"iso-ir-100", "WINDOWS-1252"}, {"csisolatin1", "WINDOWS-1252"}, {"latin1", "WINDOWS-1252"},
    {"l1", "WINDOWS-1252"}, {"cp819", "WINDOWS-1252"}, {"ibm819", "WINDOWS-1252"},
    {"us-ascii", "WINDOWS-1252"}, {"ascii", "WINDOWS-1252"}, {"ansi_x3.4-1968", "WINDOWS-1252"},
    {"windows-1250", "WINDOWS-1250"}, {"cp1250", "WINDOWS-1250"}, {"x-cp1250", "WINDOWS-1250"},
    {"windows-1251", "WINDOWS-1251"}, {"cp1251", "WINDOWS-1251"}, {"x-cp1251", "WINDOWS-1251"},
    {"windows-1253", "WINDOWS-1253"}, {"cp1253", "WINDOWS-1253"}, {"x-cp1253", "WINDOWS-1253"},
    {"windows-1254", "WINDOWS-1254"}, {"cp1254", "WINDOWS-1254"}, {"x-cp1254", "WINDOWS-1254"},
    {"iso-8859-9", "WINDOWS-1254"}, {"iso8859-9", "WINDOWS-1254"}, {"iso88599", "WINDOWS-1254"},
    {"iso_8859-9", "WINDOWS-1254"}, {"latin5", "WINDOWS-1254"}, {"l5", "WINDOWS-1254"},
    {"windows-1255", "WINDOWS-1255"}, {"cp1255", "WINDOWS-1255"}, {"x-cp1255", "WINDOWS-1255"},
    {"windows-1256", "WINDOWS-1256"}, {"cp1256", "WINDOWS-1256"}, {"x-cp1256", "WINDOWS-1256"},
    {"windows-1257", "WINDOWS-1257"}, {"cp1257", "WINDOWS-1257"}, {"x-cp1257", "WINDOWS-1257"},
    {"windows-1258", "WINDOWS-1258"}, {"cp1258", "WINDOWS-1258"}, {"x-cp1258", "WINDOWS-1258"},
    {"windows-874", "WINDOWS-874"}, {"dos-874", "WINDOWS-874"}, {"tis-620", "WINDOWS-874"},
    {"iso-8859-11", "WINDOWS-874"}, {"iso8859-11", "WINDOWS-874"}, {"iso885911", "WINDOWS-874"},
    {"koi8-r", "KOI8-R"}, {"koi8_r", "KOI8-R"}, {"koi8", "KOI8-R"}, {"koi", "KOI8-R"},
    {"cskoi8r", "KOI8-R"}, {"koi8-u", "KOI8-U"}, {"koi8-ru", "KOI8-U"},
    {"ibm866", "IBM866"}, {"cp866", "IBM866"}, {"866", "IBM866"}, {"csibm866", "IBM866"},
    {"macintosh", "MACINTOSH"}, {"mac", "MACINTOSH"}, {"x-mac-roman", "MACINTOSH"},
    {"csmacintosh", "MACINTOSH"}, {"x-mac-cyrillic", "MAC-CYRILLIC"},
    {"x-mac-ukrainian", "MAC-CYRILLIC"}, {"mac-cyrillic", "MAC-CYRILLIC"},
    {"iso-8859-8-i", "ISO-8859-8"}, {"csiso88598i", "ISO-8859-8"}, {"logical", "ISO-8859-8"},
    {"visual", "ISO-8859-8"}, {"csisolatin2", "ISO-8859-2"}, {"latin2", "ISO-8859-2"},
    {"l2", "ISO-8859-2"}, {"csisolatincyrillic", "ISO-8859-5"}, {"cyrillic", "ISO-8859-5"},
    {"greek", "ISO-8859-7"}, {"greek8", "ISO-8859-7"}, {"hebrew", "ISO-8859-8"},
    {"arabic", "ISO-8859-6"}, {"latin6", "ISO-8859-10"}, {"l6", "ISO-8859-10"},
    {"iso-8859-15", "ISO-8859-15"}, {"latin9", "ISO-8859-15"}, {"l9", "ISO-8859-15"},
    {"utf-16", "UTF-16LE"}, {"utf-16le", "UTF-16LE"}, {"utf16le", "UTF-16LE"},
    {"ucs-2", "UTF-16LE"}, {"unicode", "UTF-16LE"}, {"unicodefeff", "UTF-16LE"},
    {"csunicode", "UTF-16LE"}, {"iso-10646-ucs-2", "UTF-16LE"},
    {"utf-16be", "UTF-16BE"}, {"utf16be", "UTF-16BE"}, {"unicodefffe", "UTF-16BE"},
    {"utf-32", "UTF-32BE"}, {"utf-32be", "UTF-32BE"}, {"utf-32le", "UTF-32LE"},
};

static char
ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char
ascii_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static int
is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

int
decode_canonical(const char *label, char *out, size_t size)
{
    char low[64], up[64];
    const char *canon = NULL;
    size_t n;

    if (label == NULL)
        return -EINVAL;
    while (is_space((unsigned char)*label))
        label++;
    n = strlen(label);
    while (n > 0 && is_space((unsigned char)label[n - 1]))
        n--;
    if (n == 0 || n >= sizeof low)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = label[i];
        /* iconv names are plain; this keeps out "//TRANSLIT" and the like. */
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
            return -EINVAL;
        low[i] = ascii_lower(c);
        up[i] = ascii_upper(c);
    }
    low[n] = up[n] = '\0';
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        if (strcmp(labels[i].label, low) == 0) {
            canon = labels[i].canon;
            break;
        }
    }
    if (canon == NULL) {
        iconv_t cd = iconv_open("UTF-8", up);
        if (cd == (iconv_t)-1)
            return -EINVAL;
        iconv_close(cd);
        canon = up;
    }
    if (strlen(canon) >= size)
        return -EINVAL;
    memcpy(out, canon, strlen(canon) + 1);
    return 0;
}

int
decode_decl_encoding(const char *s, size_t n, size_t *off, size_t *len)
{
    for (size_t i = 1; i + 8 <= n; i++) {
        if (memcmp(s + i, "encoding", 8) != 0 || !is_space((unsigned char)s[i - 1]))
            continue;
        size_t j = i + 8;
        while (j < n && is_space((unsigned char)s[j]))
            j++;
        if (j >= n || s[j] != '=')
            continue;
        j++;
        while (j < n && is_space((unsigned char)s[j]))
            j++;
        if (j >= n)
            return -ENOENT;
        size_t v = j;
        if (s[j] == '"' || s[j] == '\'') {
            const char *q = memchr(s + j + 1, s[j], n - j - 1);
            if (q == NULL)
                return -ENOENT;
            *off = j + 1;
            *len = (size_t)(q - s) - j - 1;
            return 0;
        }
        while (v < n && !is_space((unsigned char)s[v]) && s[v] != '?' && s[v] != '>')
            v++;
        if (v == j)
            return -ENOENT;
        *off = j;
        *len = v - j;
        return 0;
    }
    return -ENOENT;
}

/* The XML declaration of an ASCII-compatible document, if any, in the first KiB
 * (after junk, as xmlfix_prolog.c tolerates it): its canonical encoding into out. */
static void
sniff_decl(const char *p, size_t n, char *out, size_t size)
{
    size_t lim = n < 1024 ? n : 1024, off, len;
    char label[64];

    for (size_t i = 0; i + 6 <= n && i < lim; i++) {
        if (p[i] != '<' || memcmp(p + i, "<?xml", 5) != 0 || !is_space((unsigned char)p[i + 5]))
            continue;
        const char *e = NULL;
        for (size_t j = i + 5; j + 1 < n && j < i + 512; j++) {
            if (p[j] == '?' && p[j + 1] == '>') {
                e = p + j;
                break;
            }
        }
        size_t dn = e ? (size_t)(e - (p + i)) : (n - i < 512 ? n - i : 512);
        if (decode_decl_encoding(p + i, dn, &off, &len) < 0 || len >= sizeof label)
            return;
        memcpy(label, p + i + off, len);
        label[len] = '\0';
        if (decode_canonical(label, out, size) < 0 || strncmp(out, "UTF-16", 6) == 0 ||
            strncmp(out, "UTF-32", 6) == 0)
            out[0] = '\0'; /* unknown, or a UTF-16/32 claim on 8-bit bytes */
        return;
    }
}

void
decode_sniff(const char *head, size_t n, struct decode_sniff *out)
{
    const unsigned char *p = (const unsigned char *)head;
    const char *bom = NULL, *wide = NULL;
    size_t bom_len = 0;

    memset(out, 0, sizeof *out);
    if (n >= 4 && p[0] == 0xFF && p[1] == 0xFE && p[2] == 0 && p[3] == 0)
        bom = "UTF-32LE", bom_len = 4;
    else if (n >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0xFE && p[3] == 0xFF)
        bom = "UTF-32BE", bom_len = 4;
    else if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        bom = "UTF-8", bom_len = 3;
    else if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF)
        bom = "UTF-16BE", bom_len = 2;
    else if (n >= 2 && p[0] == 0xFF && p[1] == 0xFE)
        bom = "UTF-16LE", bom_len = 2;
    if (bom != NULL) {
        strcpy(out->bom, bom);
        out->bom_len = bom_len;
        if (strcmp(bom, "UTF-8") != 0)
            wide = bom;
    } else if (n >= 4) {
        /* XML 1.0 appendix F: the first character ('<', or white space before it)
         * is ASCII, so its zero bytes tell the width and the byte order. */
        if (p[0] && !p[1] && !p[2] && !p[3])
            wide = "UTF-32LE";
        else if (!p[0] && !p[1] && !p[2] && p[3])
            wide = "UTF-32BE";
        else if (p[0] && !p[1] && p[2] && !p[3])
            wide = "UTF-16LE";
        else if (!p[0] && p[1] && !p[2] && p[3])
            wide = "UTF-16BE";
    }
    if (wide != NULL) {
        strcpy(out->decl, wide);
        return;
    }
    sniff_decl(head + bom_len, n - bom_len, out->decl, sizeof out->decl);
}

/* How many byte sequences `charset` fails to decode in the whole source, or
 * -1 when that could not be found out. */
static long
count_errors(struct source *src, const char *charset, size_t skip)
{
    size_t errors;
    return input_decode_all(src, charset, skip, NULL, &errors) < 0 ? -1 : (long)errors;
}

void
input_charset(struct source *src, const struct decode_sniff *sn, const char *http,
              struct parse_report *r, char *cs, size_t cssize)
{
    char hc[48] = "";
    if (sn->bom[0] != '\0') {
        snprintf(cs, cssize, "%s", sn->bom);
        return;
    }
    if (http != NULL && *http != '\0' && decode_canonical(http, hc, sizeof(hc)) < 0)
        parse_report_msg(r, "unknown charset '%s' ignored", http);
    if (hc[0] != '\0' && sn->decl[0] != '\0' && strcasecmp(hc, sn->decl) != 0 &&
        strncasecmp(sn->decl, "UTF-16", 6) != 0 && strncasecmp(sn->decl, "UTF-32", 6) != 0) {
        long he = count_errors(src, hc, sn->bom_len);
        if (he > 0 && count_errors(src, sn->decl, sn->bom_len) == 0) {
            r->problems |= PARSE_P_CHARSET;
            parse_report_msg(r,
                             "HTTP charset %s does not decode the document; used its declared %s",
                             hc, sn->decl);
            snprintf(cs, cssize, "%s", sn->decl);
            return;
        }
        snprintf(cs, cssize, "%s", hc);
        return;
    }
    if (hc[0] != '\0' && strncasecmp(sn->decl, "UTF-16", 6) != 0 &&
        strncasecmp(sn->decl, "UTF-32", 6) != 0)
        snprintf(cs, cssize, "%s", hc);
    else if (sn->decl[0] != '\0')
        snprintf(cs, cssize, "%s", sn->decl);
    else
        snprintf(cs, cssize, "UTF-8");
}
