/* parse/tickers/scan.c — reading one text for instruments (SPEC §12): one
 * left-to-right pass, each form looked for where it can begin with a bounded
 * look around (no backtracking): cashtags, exchange-qualified symbols,
 * suffixed and prefixed codes, a CJK name's bracketed code, dictionary
 * names. What it finds waits in struct scan for tickers.c to resolve. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/tickers/tickers_int.h"

/* A mention, unless the same one (the same symbol, the same pending code,
 * the same issuer's name) came before: the first keeps its place. */
static void
add(struct scan *sc, const char *symbol, enum parse_ticker_form form, enum pending pending,
    int issuer)
{
    char key[PARSE_TICKER_MAX];
    if (pending == P_NAME)
        snprintf(key, sizeof key, "#%d", issuer);
    else
        snprintf(key, sizeof key, "%s", symbol);
    size_t mask = sizeof sc->seen / sizeof *sc->seen - 1, i = (size_t)tk_hash(key) & mask;
    for (; sc->seen[i] != 0; i = (i + 1) & mask)
        if (strcmp(sc->m[sc->seen[i] - 1].symbol, key) == 0)
            return;
    if (sc->n == TK_MENTIONS_MAX)
        return;
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 16;
        struct mention *m = realloc(sc->m, cap * sizeof *m);
        if (m == NULL) {
            sc->oom = 1;
            return;
        }
        sc->m = m;
        sc->cap = cap;
    }
    struct mention *m = &sc->m[sc->n++];
    sc->seen[i] = (uint16_t)sc->n;
    strcpy(m->symbol, key);
    m->form = form;
    m->pending = pending;
    m->issuer = issuer;
}

/* ---- bytes ---- */

static int
at(const struct scan *sc, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    return i + n <= sc->len && memcmp(sc->s + i, lit, n) == 0;
}

/* Length of an opening / closing bracket at i, ASCII or full width; 0. */
static size_t
open_at(const struct scan *sc, size_t i)
{
    return sc->s[i] == '(' ? 1 : at(sc, i, "（") ? 3 : 0;
}

static size_t
close_at(const struct scan *sc, size_t i)
{
    if (i >= sc->len)
        return 0;
    return sc->s[i] == ')' ? 1 : at(sc, i, "）") ? 3 : 0;
}

static size_t
colon_at(const struct scan *sc, size_t i)
{
    if (i >= sc->len)
        return 0;
    return sc->s[i] == ':' ? 1 : at(sc, i, "：") ? 3 : 0;
}

/* Spaces from i: ASCII blanks, NBSP, U+3000 (at most a few). */
static size_t
skip_spaces(const struct scan *sc, size_t i)
{
    for (int k = 0; k < 4 && i < sc->len; k++) {
        if (sc->s[i] == ' ' || sc->s[i] == '\t')
            i++;
        else if (at(sc, i, "\xC2\xA0"))
            i += 2;
        else if (at(sc, i, "\xE3\x80\x80"))
            i += 3;
        else
            break;
    }
    return i;
}

/* The code point that ends at byte k (exclusive) is a CJK ideograph. */
static int
han_before(const struct scan *sc, size_t k)
{
    const unsigned char *s = (const unsigned char *)sc->s;
    size_t b = k;
    while (b > 0 && k - b < 4 && (s[b - 1] & 0xC0) == 0x80)
        b--;
    if (b == 0 || k - b < 2 || k - b > 3)
        return 0;
    b--;
    uint32_t c;
    if (k - b == 3 && (s[b] & 0xF0) == 0xE0)
        c = (uint32_t)(s[b] & 0x0F) << 12 | (uint32_t)(s[b + 1] & 0x3F) << 6 | (s[b + 2] & 0x3F);
    else if (k - b == 4 && (s[b] & 0xF8) == 0xF0)
        c = (uint32_t)(s[b] & 0x07) << 18 | (uint32_t)(s[b + 1] & 0x3F) << 12 |
            (uint32_t)(s[b + 2] & 0x3F) << 6 | (s[b + 3] & 0x3F);
    else
        return 0;
    return (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF);
}

/* A code may begin at i: after no letter or digit, and not inside a path, a
 * query or a number ("/0700.HK", "=AAPL", "1.600519"); a '/' right after a
 * code goes on with a list (601318.SH/02318.HK). */
static int
code_may_begin(const struct scan *sc, size_t i)
{
    if (i == 0)
        return 1;
    unsigned char p = (unsigned char)sc->s[i - 1];
    if (p == '/' && sc->code_end == i - 1)
        return 1;
    return !tk_alnum(p) && strchr("/\\=.&?#%@_-+", p) == NULL;
}

/* A URL from i (http://, https://, www.): its end, or i. Nothing in a URL
 * is a mention: /quote/0700.HK, ?s=$AAPL, /sh600519/. */
static size_t
url_end(const struct scan *sc, size_t i)
{
    static const char *const starts[] = {"http://", "https://", "www.",
                                         "HTTP://", "HTTPS://", "WWW."};
    if (i > 0 && tk_alnum((unsigned char)sc->s[i - 1]))
        return i;
    for (size_t k = 0; k < sizeof starts / sizeof *starts; k++)
        if (at(sc, i, starts[k])) {
            size_t j = i;
            while (j < sc->len && (unsigned char)sc->s[j] > ' ' && (unsigned char)sc->s[j] < 0x80 &&
                   strchr("\"'<>)]}", sc->s[j]) == NULL)
                j++;
            return j;
        }
    return i;
}

/* ---- codes: 600519.SH, 0700.HK, AAPL.O, NVDA.US, 700 HK, SH600519 ---- */

/* Common capitals that are no symbol when they follow a bare "NYSE:" in a
 * headline, and cashtags that are currencies, indices or coins. */
static int
in_list(const char *const *list, const char *s, size_t n)
{
    for (; *list != NULL; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0)
            return 1;
    return 0;
}

static const char *const not_cashtags[] = {
    "USD",  "US",  "HKD", "CNY",  "CNH",  "RMB",  "EUR",  "GBP", "JPY",  "AUD", "CAD",
    "NZD",  "SGD", "CHF", "TWD",  "KRW",  "SPX",  "NDX",  "DJI", "DJIA", "VIX", "RUT",
    "COMP", "DXY", "TNX", "TYX",  "IXIC", "GSPC", "INDU", "NYA", "SOX",  "HSI", "BTC",
    "ETH",  "XRP", "SOL", "DOGE", "USDT", "USDC", "BNB",  NULL,
};

static const char *const not_bare_symbols[] = {
    "A",   "I",   "AI",  "CEO", "CFO",  "COO",  "CTO",   "IPO",  "ETF",  "ETFS", "US",  "USA",
    "UK",  "EU",  "GDP", "CPI", "PPI",  "PMI",  "FED",   "FOMC", "SEC",  "FDA",  "THE", "AND",
    "FOR", "NEW", "TOP", "NOW", "BUY",  "SELL", "HOLD",  "UP",   "DOWN", "IT",   "IS",  "TO",
    "IN",  "ON",  "AT",  "OF",  "BY",   "OR",   "AS",    "AN",   "BE",   "WE",   "ALL", "NOT",
    "YOU", "HOT", "BIG", "DAY", "LIVE", "NEWS", "ALERT", "EPS",  "ESG",  "Q",    NULL,
};

/* A mention of exchange `exch` whose symbol is s[p..p+n): a US code waits for
 * resolution, the others are final. Returns 1 when one was added. */
static int
emit_code(struct scan *sc, int exch, size_t p, size_t n, enum parse_ticker_form form)
{
    char sym[PARSE_TICKER_MAX];
    int x;
    if (tk_symbol(exch, sc->s + p, n, sym, &x) != n)
        return 0;
    add(sc, sym, form, x == TK_US ? P_US : P_NONE, -1);
    return 1;
}

/* A code and its suffix at i: digits (and a capital: 130A.T, 00632R.TW) with
 * a numeric suffix, or, in brackets (`inbr`) or as .US, letters with a
 * Reuters or Yahoo suffix (AAPL.O, VOD.L, MC.PA); in brackets also
 * Bloomberg's "700 HK", "AAPL US". Returns the bytes read, 0 for none. */
static size_t
suffixed(struct scan *sc, size_t i, int inbr)
{
    const char *s = sc->s;
    size_t len = sc->len, k = i;
    while (k < len && (tk_upper((unsigned char)s[k]) || tk_digit((unsigned char)s[k])) &&
           k - i < 13)
        k++;
    size_t code = k - i;
    if (code == 0 || k >= len || tk_alnum((unsigned char)s[k]))
        return 0;
    int numeric = tk_digit((unsigned char)s[i]);
    if (s[k] == '.') {
        size_t e = k + 1;
        while (e < len &&
               (tk_upper((unsigned char)s[e]) || (numeric && s[e] >= 'a' && s[e] <= 'z')) &&
               e - k <= 3)
            e++;
        /* not a file name or a path (0700.HK_logo.png, 0700.HK?x=1), nor an
         * abbreviation (U.S., U.N.) */
        if (e == k + 1 || !tk_ends(s, len, e) || (e < len && strchr("=_-@&?#", s[e]) != NULL) ||
            (!numeric && ((e < len && s[e] == '.') || (code == 1 && e - k == 2))))
            return 0;
        int exch = numeric ? tk_suffix_numeric(s + k + 1, e - k - 1)
                           : tk_suffix_letters(s + k + 1, e - k - 1);
        if (exch < 0 || (!numeric && !inbr && exch != TK_US) || colon_at(sc, skip_spaces(sc, e)))
            return 0;
        return emit_code(sc, exch, i, code, PARSE_TICKER_SUFFIX) ? e - i : 0;
    }
    if (inbr && s[k] == ' ' && k + 3 <= len && tk_upper((unsigned char)s[k + 1]) &&
        tk_upper((unsigned char)s[k + 2]) && tk_ends(s, len, k + 3)) {
        int exch = tk_suffix_bloomberg(s + k + 1, 2);
        if (exch == -1 || in_list(not_cashtags, s + i, code) ||
            in_list(not_bare_symbols, s + i, code))
            return 0;
        size_t e = k + 3;
        if (at(sc, e, " Equity"))
            e += 7;
        return emit_code(sc, exch, i, code, PARSE_TICKER_SUFFIX) ? e - i : 0;
    }
    return 0;
}

/* SH600519, SZ000001, BJ830799, sh600519. */
static size_t
prefixed(struct scan *sc, size_t i)
{
    static const struct {
        const char *p;
        int exch;
    } tab[] = {{"SH", TK_SSE}, {"SZ", TK_SZSE}, {"BJ", TK_BSE},
               {"sh", TK_SSE}, {"sz", TK_SZSE}, {"bj", TK_BSE}};
    for (size_t k = 0; k < sizeof tab / sizeof *tab; k++) {
        if (!at(sc, i, tab[k].p))
            continue;
        size_t d = i + 2, e = d;
        while (e < sc->len && tk_digit((unsigned char)sc->s[e]) && e - d < 7)
            e++;
        if (e - d == 6 && tk_ends(sc->s, sc->len, e) &&
            emit_code(sc, tab[k].exch, d, 6, PARSE_TICKER_PREFIX))
            return e - i;
        return 0;
    }
    return 0;
}

/* ---- exchange-qualified: (NASDAQ: AAPL), NYSEARCA: SPY, 证券代码：600519 ---- */

/* Exchanges a bracket's item named, for the symbols that follow with no
 * exchange of their own: (NASDAQ: GOOGL, GOOG), (TSX: TECK.A and TECK.B). */
struct exchanges {
    int x[4];
    int n;
};

/* "NYSE: BABA", "TSX/NYSE: SHOP", "NASDAQ, TSX: SHOP" at i, in brackets: the
 * bytes read, or 0. An exchange the list does not know (PSE, PNGX) is passed
 * over when another one is known. */
static size_t
qualified(struct scan *sc, size_t i, struct exchanges *ex)
{
    const char *s = sc->s;
    size_t c = i, cl = 0;
    while (c < sc->len && c - i < 48 && (cl = colon_at(sc, c)) == 0 && !open_at(sc, c) &&
           !close_at(sc, c) && strchr(";$", s[c]) == NULL && !at(sc, c, "，") && !at(sc, c, "、"))
        c++;
    if (cl == 0 || c == i)
        return 0;
    size_t q = skip_spaces(sc, c + cl);
    struct exchanges e = {.n = 0};
    int bare;
    for (size_t a = i; a < c;) {
        size_t b = a;
        while (b < c && s[b] != '/' && s[b] != ',' && s[b] != '&')
            b++;
        size_t z = b;
        while (z > a && s[z - 1] == ' ')
            z--;
        int x = tk_alias(s + a, z - a, &bare);
        if (x == -1) {
            /* another market, in capitals (PSE, JSE, EXM), or Euronext unsaid */
            size_t caps = 0;
            while (a + caps < z && tk_upper((unsigned char)s[a + caps]))
                caps++;
            if ((caps < 2 || caps > 8 || a + caps != z) &&
                !(z - a == 8 && strncmp(s + a, "Euronext", 8) == 0))
                return 0;
        } else if (e.n < 4) {
            e.x[e.n++] = x;
        }
        a = b + 1;
        while (a < c && s[a] == ' ')
            a++;
    }
    if (e.n == 0)
        return 0;
    char sym[PARSE_TICKER_MAX];
    size_t used = 0;
    for (int k = 0; k < e.n; k++) {
        int x;
        size_t n = tk_symbol(e.x[k], s + q, sc->len - q, sym, &x);
        if (n == 0 || (used && n != used))
            return 0;
        used = n;
    }
    for (int k = 0; k < e.n; k++)
        emit_code(sc, e.x[k], q, used, PARSE_TICKER_EXCHANGE);
    *ex = e;
    return q + used - i;
}

static size_t separator(const struct scan *sc, size_t i);
static size_t note(const struct scan *sc, size_t p);

/* A symbol with no exchange after a qualified one in the same bracket: it
 * is on the exchanges named last. */
static size_t
continued(struct scan *sc, size_t p, const struct exchanges *ex)
{
    char sym[PARSE_TICKER_MAX];
    size_t used = 0;
    int x;
    for (int k = 0; k < ex->n; k++) {
        size_t n = tk_symbol(ex->x[k], sc->s + p, sc->len - p, sym, &x);
        if (n == 0 || (used && n != used))
            return 0;
        used = n;
    }
    /* it ends the item: (NYSE: IBM, CEO Arvind Krishna) is no CEO listing */
    size_t e = skip_spaces(sc, p + used), code = 0;
    if (used == 0 || !(e >= sc->len || close_at(sc, e) || separator(sc, e) || note(sc, e)))
        return 0;
    while (code < used && tk_alnum((unsigned char)sc->s[p + code]))
        code++;
    if (in_list(not_bare_symbols, sc->s + p, code))
        return 0;
    for (int k = 0; k < ex->n; k++)
        emit_code(sc, ex->x[k], p, used, PARSE_TICKER_EXCHANGE);
    return used;
}

/* A note in brackets after an item: (HKD Counter), （港幣櫃台）. Its length. */
static size_t
note(const struct scan *sc, size_t p)
{
    size_t bl = open_at(sc, p);
    if (bl == 0)
        return 0;
    for (size_t k = p + bl; k < sc->len && k - p < 40; k++) {
        size_t cl = close_at(sc, k);
        if (cl)
            return k + cl - p;
        if (tk_digit((unsigned char)sc->s[k]) || colon_at(sc, k) || open_at(sc, k))
            return 0;
    }
    return 0;
}

/* A colon outside brackets: the alias before it must be an exchange's own
 * ticker prefix written exactly so (NYSEARCA, not NYSE Arca), or a Chinese
 * label (证券代码); a letter symbol after it no common capital word and not
 * the start of a headline in capitals. */
static void
bare_colon(struct scan *sc, size_t i, size_t cl)
{
    const char *s = sc->s;
    size_t j = i > 0 && s[i - 1] == ' ' ? i - 1 : i, a = j;
    int exch = -1, bare = 0;
    while (a > 0 && j - a < 14 &&
           ((s[a - 1] >= 'A' && s[a - 1] <= 'Z') || (s[a - 1] >= 'a' && s[a - 1] <= 'z') ||
            s[a - 1] == '-'))
        a--;
    if (a < j && (a == 0 || !tk_alnum((unsigned char)s[a - 1])))
        exch = tk_alias(s + a, j - a, &bare);
    for (size_t l = 9; exch == -1 && l <= 21 && l <= j; l += 3)
        if ((unsigned char)s[j - l] >= 0xE0)
            exch = tk_alias(s + j - l, l, &bare);
    if (exch == -1 || !bare)
        return;
    size_t q = i + cl;
    if (q < sc->len && s[q] == ' ')
        q++;
    char sym[PARSE_TICKER_MAX];
    int x;
    size_t n = tk_symbol(exch, s + q, sc->len - q, sym, &x);
    if (n == 0)
        return;
    if (tk_upper((unsigned char)s[q])) {
        size_t code = 0;
        while (code < n && s[q + code] != '.' && s[q + code] != '-' && s[q + code] != '/')
            code++;
        int b2;
        if (in_list(not_bare_symbols, s + q, code) || tk_alias(s + q, code, &b2) != -1)
            return;
        if (q + n + 2 < sc->len && s[q + n] == ' ' && tk_upper((unsigned char)s[q + n + 1]) &&
            tk_upper((unsigned char)s[q + n + 2]))
            return;
    }
    /* A short number after a bare label opens a headline more often than it
     * names a listing (港交所：18家公司递表, HKEX: 2024 results): it must end
     * the text or stand before punctuation (股份代號：700）). */
    int kind = x >= 0 && x < TK_NEXCH ? (int)tk_exchanges[x].kind : -1;
    if ((kind == TK_HK || kind == TK_JP || kind == TK_TW) && q + n < sc->len &&
        strchr(")],;/.|", s[q + n]) == NULL && !at(sc, q + n, "）") && !at(sc, q + n, "，") &&
        !at(sc, q + n, "；") && !at(sc, q + n, "、") && !at(sc, q + n, "。"))
        return;
    add(sc, sym, PARSE_TICKER_EXCHANGE, x == TK_US ? P_US : P_NONE, -1);
}

/* ---- brackets ---- */

/* The name before a bracket at i names an index, a sector or a fund, or is
 * no company at all: the code after it is no listing (上证指数(000001),
 * 易方达蓝筹精选混合(005827), 武汉市东湖新技术开发区（430074）). */
static int
no_listing_before(const struct scan *sc, size_t k)
{
    static const char *const words[] = {
        "指数", "指數", "指", "板块", "板塊", "概念", "行业", "行業", "基金", "混合", "债券",
        "債券", "债", "債", "联接", "聯接", "货币", "貨幣",
        /* and no company: an address's postal code, a contact's number */
        "区", "區", "县", "縣", "省", "镇", "鎮", "乡", "鄉", "群", "号", "號", "电话", "電話",
        "传真", "傳真", "邮编", "郵編", "热线", "熱線"};
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        size_t n = strlen(words[w]);
        if (k >= n && memcmp(sc->s + k - n, words[w], n) == 0)
            return 1;
    }
    /* a city (天津市（300384） is a postal code), but 永辉超市(601933) */
    return k >= 3 && memcmp(sc->s + k - 3, "市", 3) == 0 &&
           !(k >= 6 && memcmp(sc->s + k - 6, "超市", 6) == 0);
}

/* The end of a CJK name before a bracket at i (one space, a class or
 * board suffix: 万科A, 小米集团-W, 百度集团－SW), or 0 when there is none. */
static size_t
cjk_name_before(const struct scan *sc, size_t i)
{
    const char *s = sc->s;
    size_t j = i > 0 && s[i - 1] == ' ' ? i - 1 : i, k = j;
    while (k > 0 && j - k < 3 && tk_upper((unsigned char)s[k - 1]))
        k--;
    if (j - k > 2)
        return 0;
    if (k < j) {
        if (k > 0 && s[k - 1] == '-')
            k--;
        else if (k >= 3 && memcmp(s + k - 3, "－", 3) == 0)
            k -= 3;
    }
    return han_before(sc, k) ? k : 0;
}

/* The digits after a bracket at i are a phone number's ((00852) 2288 8888,
 * (00852)22888888), not a date or a count (比亚迪(002594)10月). */
static int
phone_after(const struct scan *sc, size_t i)
{
    i = skip_spaces(sc, i);
    size_t d = i;
    while (d < sc->len && tk_digit((unsigned char)sc->s[d]))
        d++;
    if (d - i >= 7)
        return 1;
    return d - i >= 3 && d + 1 < sc->len && (sc->s[d] == ' ' || sc->s[d] == '-') &&
           tk_digit((unsigned char)sc->s[d + 1]);
}

/* 贵州茅台（600519）, 腾讯控股(00700), 平安银行(sz000001): a CJK name, then its
 * bare code alone in brackets; never before a phone number's digits. */
static int
name_and_code(struct scan *sc, size_t i, size_t p)
{
    const char *s = sc->s;
    size_t d = p, e;
    int pre = 0;
    if (d + 2 < sc->len && strchr("SsBb", s[d]) != NULL && strchr("HhZzJj", s[d + 1]) != NULL &&
        tk_digit((unsigned char)s[d + 2]))
        pre = 1, d += 2;
    for (e = d; e < sc->len && tk_digit((unsigned char)s[e]) && e - d < 7;)
        e++;
    size_t nd = e - d, c = close_at(sc, skip_spaces(sc, e));
    if (c == 0 || !(nd == 6 || (nd == 5 && !pre)))
        return 0;
    if (phone_after(sc, skip_spaces(sc, e) + c))
        return 0;
    size_t name = cjk_name_before(sc, i);
    if (name != 0 && no_listing_before(sc, name))
        return 1; /* an index's code: nothing else to read here */
    if (pre) {
        size_t n = prefixed(sc, p);
        return n != 0 || name != 0;
    }
    if (name == 0)
        return 0;
    if (nd == 6)
        return emit_code(sc, TK_MAINLAND, d, 6, PARSE_TICKER_BRACKET);
    /* Hong Kong's five digits: 0xxxx, 8xxxx (GEM, RMB counters). */
    if (s[d] == '0' || s[d] == '8')
        emit_code(sc, TK_HKEX, d, 5, PARSE_TICKER_BRACKET);
    return 1;
}

/* Separators between the items of one bracket. */
static size_t
separator(const struct scan *sc, size_t i)
{
    static const char *const seps[] = {",",  ";",  "/",  "|",  "&",  "，",   "；",
                                       "、", "及", "和", "与", "與", "and ", "or "};
    for (size_t k = 0; k < sizeof seps / sizeof *seps; k++)
        if (at(sc, i, seps[k]))
            return strlen(seps[k]);
    return 0;
}

/* An opening bracket at i (bl bytes): a name's bare code, or a list of
 * qualified symbols and suffixed codes: (NYSE: BABA and HKEX: 9988),
 * (AAPL.O, MSFT.O), (601318.SH/02318.HK), (700 HK). */
static void
bracket(struct scan *sc, size_t i, size_t bl)
{
    size_t p = skip_spaces(sc, i + bl);
    if (name_and_code(sc, i, p))
        return;
    struct exchanges ex = {.n = 0};
    for (int items = 0; items < 8 && p < sc->len; items++) {
        size_t n = qualified(sc, p, &ex);
        if (n == 0)
            n = suffixed(sc, p, 1);
        if (n == 0)
            n = prefixed(sc, p);
        if (n == 0)
            n = continued(sc, p, &ex);
        if (n == 0)
            return;
        p = skip_spaces(sc, p + n);
        sc->code_end = p;
        p = skip_spaces(sc, p + note(sc, p));
        size_t sl = separator(sc, p);
        if (sl == 0)
            return;
        p = skip_spaces(sc, p + sl);
    }
}

/* ---- cashtags: $AAPL, $BRK.B, $RY.TO, Xueqiu's $苹果(AAPL)$ ---- */

/* Xueqiu's $name(CODE)$ from p (after the '$'): a letter code is a US
 * symbol ($苹果(AAPL)$, $Meta Platforms(META)$); a numeric one is read at
 * the bracket, after its CJK name ($腾讯控股(00700)$). 1 when it was one. */
static int
xueqiu(struct scan *sc, size_t p)
{
    const char *s = sc->s;
    size_t len = sc->len, b = p, bl = 0;
    if (p >= len || tk_digit((unsigned char)s[p]) || s[p] == ' ')
        return 0;
    while (b < len && b - p < 64 && (bl = open_at(sc, b)) == 0 && s[b] != '$' &&
           (unsigned char)s[b] >= ' ')
        b++;
    if (bl == 0 || b == p)
        return 0;
    size_t c = b + bl, e = c;
    while (e < len && tk_upper((unsigned char)s[e]) && e - c < 6)
        e++;
    size_t cl = close_at(sc, e);
    if (e == c || cl == 0 || e + cl >= len || s[e + cl] != '$')
        return 0;
    if (!in_list(not_cashtags, s + c, e - c))
        emit_code(sc, TK_US, c, e - c, PARSE_TICKER_CASHTAG);
    return 1;
}

static void
cashtag(struct scan *sc, size_t i)
{
    const char *s = sc->s;
    size_t len = sc->len, p = i + 1;
    if (i > 0 && (tk_alnum((unsigned char)s[i - 1]) || strchr("$/\\=&?#%@_", s[i - 1])))
        return; /* US$100, HK$5, a path, a query */
    if (xueqiu(sc, p))
        return;
    size_t e = p;
    while (e < len && tk_upper((unsigned char)s[e]) && e - p < 6)
        e++;
    size_t code = e - p;
    if (code == 0 || code > 5)
        return;
    int exch = TK_US;
    if (e + 1 < len && s[e] == '.' && tk_upper((unsigned char)s[e + 1])) {
        size_t f = e + 1;
        while (f < len && tk_upper((unsigned char)s[f]) && f - e <= 3)
            f++;
        if (tk_ends(s, len, f)) {
            int x = tk_suffix_letters(s + e + 1, f - e - 1);
            if (x >= 0)
                exch = x;
            else if (f - e - 1 == 1)
                code = f - p; /* a share class: $BRK.B */
            else
                return;
            e = f;
        }
    }
    if (!tk_ends(s, len, e) || (e < len && s[e] == '$'))
        return;
    if (exch == TK_US && in_list(not_cashtags, s + p, code))
        return;
    emit_code(sc, exch, p, code, PARSE_TICKER_CASHTAG);
}

/* ---- dictionary names ---- */

static void
name_at(struct scan *sc, size_t i)
{
    const struct parse_tickers *t = sc->t;
    const unsigned char *s = (const unsigned char *)sc->s;
    uint32_t node = 0, best_node = 0;
    size_t best = 0;
    for (size_t k = i; k < sc->len && k - i < TK_NAME_MAX; k++) {
        unsigned char b = tk_upper(s[k]) ? (unsigned char)(s[k] - 'A' + 'a') : s[k];
        if ((node = tk_trie_next(t, node, b)) == 0)
            break;
        if (t->node_issuer[node] == 0)
            continue;
        if (tk_alnum(s[k]) && k + 1 < sc->len && tk_alnum(s[k + 1]))
            continue; /* Latin names are whole words */
        best = k + 1;
        best_node = node;
    }
    if (best == 0 || (t->node_capital[best_node] && !tk_upper(s[i])))
        return;
    add(sc, NULL, PARSE_TICKER_NAME, P_NAME, (int)t->node_issuer[best_node] - 1);
    sc->names_from = best;
}

/* ---- the pass ---- */

void
tk_scan_text(struct scan *sc, const char *text)
{
    if (text == NULL)
        return;
    sc->s = text;
    sc->len = strlen(text);
    sc->code_end = (size_t)-1;
    sc->names_from = 0;
    int names = sc->t != NULL && sc->t->nissuers > 0;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < sc->len && !sc->oom; i++) {
        unsigned char c = s[i];
        int word = i == 0 || !tk_alnum(s[i - 1]);
        if ((c == 'h' || c == 'w' || c == 'H' || c == 'W') && word) {
            size_t e = url_end(sc, i);
            if (e > i) {
                i = e - 1;
                continue;
            }
        }
        size_t bl = open_at(sc, i), cl;
        if (c == '$')
            cashtag(sc, i);
        else if (bl)
            bracket(sc, i, bl);
        else if ((cl = colon_at(sc, i)) != 0)
            bare_colon(sc, i, cl);
        else if (tk_digit(c) && word && code_may_begin(sc, i)) {
            size_t n = suffixed(sc, i, 0);
            if (n)
                sc->code_end = i + n;
        } else if ((c == 'S' || c == 'B' || c == 's' || c == 'b') && word &&
                   code_may_begin(sc, i)) {
            size_t n = prefixed(sc, i);
            if (n == 0)
                n = suffixed(sc, i, 0); /* SPY.US */
            if (n)
                sc->code_end = i + n;
        } else if (tk_upper(c) && word && code_may_begin(sc, i)) {
            size_t n = suffixed(sc, i, 0);
            if (n)
                sc->code_end = i + n;
        }
        if (names && i >= sc->names_from && ((tk_alnum(c) && word) || c >= 0xC0))
            name_at(sc, i);
    }
}
