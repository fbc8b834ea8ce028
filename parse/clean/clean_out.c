/* parse/clean/clean_out.c — text in and out of the cleaner: the UTF-8 repair done
 * before the tokenizer sees the bytes, white space as the cleaner understands it, and
 * the HTML serializer (our own, not htmlNodeDump: UTF-8 text instead of
 * numeric references, HTML void elements, attribute order kept). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "parse/clean/clean_int.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* The non-ASCII character at s (n bytes left): its length when valid, or minus
 * the length of the maximal invalid subpart to replace with one U+FFFD (the
 * WHATWG decoder's rule). U+FFFE and U+FFFF count as invalid: libxml2 does
 * not take them as characters. */
static int
utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    int need;

    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 2;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 3;
    else
        return -1;
    if (c == 0xE0)
        lo = 0xA0; /* overlong */
    else if (c == 0xED)
        hi = 0x9F; /* surrogates */
    else if (c == 0xF0)
        lo = 0x90; /* overlong */
    else if (c == 0xF4)
        hi = 0x8F; /* above U+10FFFF */
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= n || s[i] < lo || s[i] > hi)
            return -i;
        lo = 0x80;
        hi = 0xBF;
    }
    if (c == 0xEF && s[1] == 0xBF && s[2] >= 0xBE) /* U+FFFE, U+FFFF */
        return -3;
    return need + 1;
}

/* Also: C0 control characters other than tab, LF and CR are dropped (libxml2
 * keeps or drops them depending on where they stand, which would make the
 * cleaning of its own output differ). */
int
clean_utf8_repair(struct buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;

    if (buf_reserve(b, len) < 0)
        return -ENOMEM;
    while (p < end) {
        /* eight printable ASCII bytes at a time */
        while (end - p >= 8) {
            uint64_t v, printable;
            memcpy(&v, p, 8);
            /* bit 7 of each byte: set when the byte is >= 0x20 (no carries) */
            printable = (v & 0x7F7F7F7F7F7F7F7FULL) + 0x6060606060606060ULL;
            if ((printable & ~v & 0x8080808080808080ULL) != 0x8080808080808080ULL)
                break;
            p += 8;
        }
        if (p == end)
            break;
        if ((*p >= 0x20 && *p < 0x80) || *p == '\t' || *p == '\n' || *p == '\r') {
            p++;
            continue;
        }
        int k = *p >= 0x80 ? utf8_seq(p, (size_t)(end - p)) : -1;
        if (k > 0) {
            p += k;
            continue;
        }
        if (buf_add(b, run, (size_t)(p - run)) < 0)
            return -ENOMEM;
        if ((*p == 0 || *p >= 0x80) && buf_add(b, replacement, 3) < 0)
            return -ENOMEM;
        p += -k;
        run = p;
    }
    return buf_add(b, run, (size_t)(p - run));
}

size_t
clean_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
#ifdef __SSE2__
        /* sixteen bytes at a time: none below 0x20 but tab, LF, CR, none
         * above 0x7F (a signed compare takes those as negative) */
        const __m128i space = _mm_set1_epi8(0x20), tab = _mm_set1_epi8('\t'),
                      lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)p);
            __m128i ok = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, lf)),
                                      _mm_cmpeq_epi8(v, cr));
            __m128i bad = _mm_andnot_si128(ok, _mm_cmplt_epi8(v, space));
            if (_mm_movemask_epi8(bad) != 0)
                break;
            p += 16;
        }
#endif
        /* then a stretch character by character (CJK text, mostly) */
        const unsigned char *stop = end - p > 48 ? p + 48 : end;
        while (p < stop) {
            unsigned char c = *p;
            if (c < 0x80) {
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                    goto done;
                p++;
                continue;
            }
            /* the common three-byte characters without utf8_seq's checks */
            if (c >= 0xE1 && c <= 0xEC && end - p >= 3 && (p[1] & 0xC0) == 0x80 &&
                (p[2] & 0xC0) == 0x80) {
                p += 3;
                continue;
            }
            int k = utf8_seq(p, (size_t)(end - p));
            if (k < 0)
                goto done;
            p += k;
        }
    }
done:
    return (size_t)(p - (const unsigned char *)s);
}

size_t
clean_space_len(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    switch (s[0]) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\f':
    case '\v':
        return 1;
    case 0xC2:
        return s[1] == 0xA0 ? 2 : 0; /* U+00A0 */
    case 0xE1:
        return s[1] == 0x9A && s[2] == 0x80 ? 3 : 0; /* U+1680 */
    case 0xE2:                                       /* U+2000–U+200B, U+2028, U+2029, U+202F */
        if (s[1] == 0x80 &&
            ((s[2] >= 0x80 && s[2] <= 0x8B) || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
            return 3;
        return s[1] == 0x81 && s[2] == 0x9F ? 3 : 0; /* U+205F */
    case 0xE3:
        return s[1] == 0x80 && s[2] == 0x80 ? 3 : 0; /* U+3000 ideographic space */
    case 0xEF:
        return s[1] == 0xBB && s[2] == 0xBF ? 3 : 0; /* U+FEFF */
    default:
        return 0;
    }
}

int
clean_is_blank(const char *s)
{
    size_t k;
    while (*s && (k = clean_space_len(s)) > 0)
        s += k;
    return *s == '\0';
}

/* Bytes of text that out_text writes as they are: all but & < > and 0xC2
 * (the lead byte of U+00A0). */
static size_t
plain_len(const char *s, size_t len)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'),
                  c2 = _mm_set1_epi8((char)0xC2);
    for (; len - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, lt)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, c2)));
        int m = _mm_movemask_epi8(hit);
        if (m != 0)
            return i + (size_t)__builtin_ctz((unsigned)m);
    }
#endif
    for (; i < len; i++) {
        char c = s[i];
        if (c == '&' || c == '<' || c == '>' || c == '\xC2')
            return i;
    }
    return len;
}

/* Text: '&', '<', '>' escaped, U+00A0 written "&nbsp;" (the form feeds use),
 * everything else as UTF-8. */
static int
out_text(struct buf *b, const char *s, size_t len)
{
    const char *end = s + len;
    while (s < end) {
        size_t n = plain_len(s, (size_t)(end - s));
        if (n > 0 && buf_add(b, s, n) < 0)
            return -ENOMEM;
        s += n;
        if (s == end)
            return 0;
        const char *rep = NULL;
        size_t skip = 1;
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        default: /* 0xC2 */
            if (end - s >= 2 && (unsigned char)s[1] == 0xA0) {
                rep = "&nbsp;";
                skip = 2;
            }
            break;
        }
        if (rep != NULL ? buf_adds(b, rep) < 0 : buf_addc(b, *s) < 0)
            return -ENOMEM;
        s += skip;
    }
    return 0;
}

/* Attribute value, always double-quoted: '&' and '"' escaped, and '<' '>'
 * too, so that no "<script" can appear anywhere in the output. */
static int
out_attr(struct buf *b, const char *s)
{
    while (*s) {
        size_t n = strcspn(s, "&\"<>");
        if (n > 0 && buf_add(b, s, n) < 0)
            return -ENOMEM;
        s += n;
        if (*s == '\0')
            break;
        const char *rep = *s == '&' ? "&amp;" : *s == '"' ? "&quot;" : *s == '<' ? "&lt;" : "&gt;";
        if (buf_adds(b, rep) < 0)
            return -ENOMEM;
        s++;
    }
    return 0;
}

static int
out_element(struct buf *b, const struct cnode *el)
{
    int rc;

    size_t nl = strlen(el->name);
    if (buf_reserve(b, 2 * nl + 5) < 0) /* "<name>" and "</name>" */
        return -ENOMEM;
    b->data[b->len++] = '<';
    memcpy(b->data + b->len, el->name, nl);
    b->len += nl;
    for (size_t i = 0; i < el->nattrs; i++) {
        const struct cattr *a = &el->attrs[i];
        if (buf_addc(b, ' ') < 0 || buf_adds(b, a->name) < 0)
            return -ENOMEM;
        if (a->value == NULL)
            continue; /* written bare ("controls"), read back the same way */
        if (buf_adds(b, "=\"") < 0 || out_attr(b, a->value) < 0 || buf_addc(b, '"') < 0)
            return -ENOMEM;
    }
    if (buf_addc(b, '>') < 0)
        return -ENOMEM;
    /* (a void element has no children: the tree builder gives it none) */
    if ((rc = clean_write_children(b, el)) < 0)
        return rc;
    if (el->tag != NULL && (el->tag->flags & TAG_VOID))
        return 0;
    if (buf_reserve(b, nl + 3) < 0)
        return -ENOMEM;
    memcpy(b->data + b->len, "</", 2);
    memcpy(b->data + b->len + 2, el->name, nl);
    b->data[b->len + 2 + nl] = '>';
    b->len += nl + 3;
    b->data[b->len] = '\0';
    return 0;
}

int
clean_write_children(struct buf *b, const struct cnode *parent)
{
    int rc;

    for (const struct cnode *n = parent->first; n != NULL; n = n->next) {
        if (n->name == NULL)
            rc = out_text(b, n->text, n->len);
        else
            rc = out_element(b, n);
        if (rc < 0)
            return rc;
    }
    return 0;
}
