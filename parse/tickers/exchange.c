/* parse/tickers/exchange.c — the fixed exchange list of SPEC §12: canonical
 * names, the aliases publishers write, code suffixes, the mainland code
 * ranges, and the one reader of symbols every form goes through. */
#include <errno.h>
#include <string.h>

#include "parse/tickers/tickers_int.h"

const struct tk_exchange tk_exchanges[TK_NEXCH] = {
    [TK_NASDAQ] = {"NASDAQ", TK_LETTERS, 5},
    [TK_NYSE] = {"NYSE", TK_LETTERS, 5},
    [TK_NYSEARCA] = {"NYSEARCA", TK_LETTERS, 5},
    [TK_NYSEAMERICAN] = {"NYSEAMERICAN", TK_LETTERS, 5},
    [TK_CBOE] = {"CBOE", TK_LETTERS, 5},
    [TK_OTC] = {"OTC", TK_LETTERS, 5},
    [TK_US] = {"US", TK_LETTERS, 5},
    [TK_TSX] = {"TSX", TK_ALNUM, 6},
    [TK_TSXV] = {"TSXV", TK_ALNUM, 6},
    [TK_CSE] = {"CSE", TK_ALNUM, 6},
    [TK_LSE] = {"LSE", TK_ALNUM, 6},
    [TK_EPA] = {"EPA", TK_ALNUM, 6},
    [TK_AMS] = {"AMS", TK_ALNUM, 6},
    [TK_EBR] = {"EBR", TK_ALNUM, 6},
    [TK_ELI] = {"ELI", TK_ALNUM, 6},
    [TK_XETRA] = {"XETRA", TK_ALNUM, 6},
    [TK_FRA] = {"FRA", TK_ALNUM, 6},
    [TK_SIX] = {"SIX", TK_ALNUM, 6},
    [TK_BIT] = {"BIT", TK_ALNUM, 6},
    [TK_BME] = {"BME", TK_ALNUM, 6},
    [TK_STO] = {"STO", TK_ALNUM, 8},
    [TK_CPH] = {"CPH", TK_ALNUM, 8},
    [TK_HEL] = {"HEL", TK_ALNUM, 8},
    [TK_OSL] = {"OSL", TK_ALNUM, 6},
    [TK_ASX] = {"ASX", TK_ALNUM, 6},
    [TK_NZX] = {"NZX", TK_ALNUM, 6},
    [TK_SGX] = {"SGX", TK_ALNUM, 6},
    [TK_NSE] = {"NSE", TK_ALNUM, 12},
    [TK_HKEX] = {"HKEX", TK_HK, 5},
    [TK_SSE] = {"SSE", TK_CN, 6},
    [TK_SZSE] = {"SZSE", TK_CN, 6},
    [TK_BSE] = {"BSE", TK_CN, 6},
    [TK_TWSE] = {"TWSE", TK_TW, 6},
    [TK_TPEX] = {"TPEX", TK_TW, 6},
    [TK_TYO] = {"TYO", TK_JP, 4},
    [TK_KRX] = {"KRX", TK_KR, 6},
};

/* What publishers write before the colon. `bare`: the alias is the exchange's
 * ticker prefix, unmistakable outside brackets when written exactly so
 * (EPA, FRA, AMS, LON, SHE… are words or agencies first: brackets only). */
static const struct alias {
    const char *s;
    int exch;
    int bare;
} aliases[] = {
    {"NASDAQ", TK_NASDAQ, 1},
    {"NasdaqGS", TK_NASDAQ, 1},
    {"NasdaqGM", TK_NASDAQ, 1},
    {"NasdaqCM", TK_NASDAQ, 1},
    {"Nasdaq GS", TK_NASDAQ, 0},
    {"Nasdaq GM", TK_NASDAQ, 0},
    {"Nasdaq CM", TK_NASDAQ, 0},
    {"Nasdaq Global Select", TK_NASDAQ, 0},
    {"Nasdaq Global Select Market", TK_NASDAQ, 0},
    {"Nasdaq Global Market", TK_NASDAQ, 0},
    {"Nasdaq Capital Market", TK_NASDAQ, 0},
    {"Nasdaq Stock Market", TK_NASDAQ, 0},
    {"纳斯达克", TK_NASDAQ, 1},
    {"納斯達克", TK_NASDAQ, 1},
    {"NYSE", TK_NYSE, 1},
    {"New York Stock Exchange", TK_NYSE, 0},
    {"纽交所", TK_NYSE, 1},
    {"紐交所", TK_NYSE, 1},
    {"NYSEARCA", TK_NYSEARCA, 1},
    {"NYSE Arca", TK_NYSEARCA, 0},
    {"ARCA", TK_NYSEARCA, 0},
    {"NYSEAMERICAN", TK_NYSEAMERICAN, 1},
    {"NYSE American", TK_NYSEAMERICAN, 0},
    {"NYSE MKT", TK_NYSEAMERICAN, 0},
    {"NYSEMKT", TK_NYSEAMERICAN, 1},
    {"NYSE Amex", TK_NYSEAMERICAN, 0},
    {"AMEX", TK_NYSEAMERICAN, 1},
    {"CBOE", TK_CBOE, 0},
    {"Cboe BZX", TK_CBOE, 0},
    {"BATS", TK_CBOE, 0},
    {"OTC", TK_OTC, 1},
    {"OTCQX", TK_OTC, 1},
    {"OTCQB", TK_OTC, 1},
    {"OTCMKTS", TK_OTC, 1},
    {"OTCPK", TK_OTC, 1},
    {"OTCBB", TK_OTC, 1},
    {"OTC Pink", TK_OTC, 0},
    {"OTC Markets", TK_OTC, 0},
    {"OTC BB", TK_OTC, 0},
    {"Pink Sheets", TK_OTC, 0},
    {"TSX", TK_TSX, 1},
    {"Toronto Stock Exchange", TK_TSX, 0},
    {"TSXV", TK_TSXV, 1},
    {"TSX-V", TK_TSXV, 1},
    {"TSX Venture", TK_TSXV, 0},
    {"TSX-Venture", TK_TSXV, 0},
    {"TSX.V", TK_TSXV, 0},
    {"TSX Venture Exchange", TK_TSXV, 0},
    {"CSE", TK_CSE, 0},
    {"Canadian Securities Exchange", TK_CSE, 0},
    {"LSE", TK_LSE, 1},
    {"LON", TK_LSE, 0},
    {"AIM", TK_LSE, 0},
    {"LSE AIM", TK_LSE, 0},
    {"London Stock Exchange", TK_LSE, 0},
    {"EPA", TK_EPA, 0},
    {"ENXTPA", TK_EPA, 0},
    {"Euronext Paris", TK_EPA, 0},
    {"AMS", TK_AMS, 0},
    {"ENXTAM", TK_AMS, 0},
    {"Euronext Amsterdam", TK_AMS, 0},
    {"EBR", TK_EBR, 0},
    {"ENXTBR", TK_EBR, 0},
    {"Euronext Brussels", TK_EBR, 0},
    {"ELI", TK_ELI, 0},
    {"ENXTLS", TK_ELI, 0},
    {"Euronext Lisbon", TK_ELI, 0},
    {"XETRA", TK_XETRA, 1},
    {"ETR", TK_XETRA, 0},
    {"FRA", TK_FRA, 0},
    {"FWB", TK_FRA, 0},
    {"FSE", TK_FRA, 0},
    {"Frankfurt Stock Exchange", TK_FRA, 0},
    {"SIX", TK_SIX, 0},
    {"SWX", TK_SIX, 0},
    {"SIX Swiss Exchange", TK_SIX, 0},
    {"BIT", TK_BIT, 0},
    {"Borsa Italiana", TK_BIT, 0},
    {"Euronext Milan", TK_BIT, 0},
    {"BME", TK_BME, 0},
    {"Bolsa de Madrid", TK_BME, 0},
    {"STO", TK_STO, 0},
    {"Nasdaq Stockholm", TK_STO, 0},
    {"CPH", TK_CPH, 0},
    {"Nasdaq Copenhagen", TK_CPH, 0},
    {"HEL", TK_HEL, 0},
    {"Nasdaq Helsinki", TK_HEL, 0},
    {"OSL", TK_OSL, 0},
    {"Oslo Bors", TK_OSL, 0},
    {"Oslo Børs", TK_OSL, 0},
    {"ASX", TK_ASX, 1},
    {"Australian Securities Exchange", TK_ASX, 0},
    {"NZX", TK_NZX, 1},
    {"SGX", TK_SGX, 1},
    {"SGX-ST", TK_SGX, 1},
    {"Singapore Exchange", TK_SGX, 0},
    {"NSE", TK_NSE, 0},
    {"National Stock Exchange of India", TK_NSE, 0},
    {"HKEX", TK_HKEX, 1},
    {"HKEx", TK_HKEX, 1},
    {"HKSE", TK_HKEX, 1},
    {"SEHK", TK_HKEX, 1},
    {"HKG", TK_HKEX, 0},
    {"Hong Kong Stock Exchange", TK_HKEX, 0},
    {"Stock Exchange of Hong Kong", TK_HKEX, 0},
    {"港交所", TK_HKEX, 1},
    {"联交所", TK_HKEX, 1},
    {"聯交所", TK_HKEX, 1},
    {"股份代号", TK_HKEX, 1},
    {"股份代號", TK_HKEX, 1},
    {"港股代码", TK_HKEX, 1},
    {"港股代碼", TK_HKEX, 1},
    {"SSE", TK_SSE, 1},
    {"SHA", TK_SSE, 0},
    {"SSE STAR", TK_SSE, 0},
    {"SSE STAR Market", TK_SSE, 0},
    {"STAR Market", TK_SSE, 0},
    {"Shanghai Stock Exchange", TK_SSE, 0},
    {"上交所", TK_SSE, 1},
    {"上海证券交易所", TK_SSE, 1},
    {"SZSE", TK_SZSE, 1},
    {"SHE", TK_SZSE, 0},
    {"Shenzhen Stock Exchange", TK_SZSE, 0},
    {"深交所", TK_SZSE, 1},
    {"深圳证券交易所", TK_SZSE, 1},
    {"BSE", TK_BSE, 1},
    {"Beijing Stock Exchange", TK_BSE, 0},
    {"北交所", TK_BSE, 1},
    {"北京证券交易所", TK_BSE, 1},
    {"证券代码", TK_MAINLAND, 1},
    {"股票代码", TK_MAINLAND, 1},
    {"證券代碼", TK_MAINLAND, 1},
    {"股票代碼", TK_MAINLAND, 1},
    {"A股代码", TK_MAINLAND, 1},
    {"TWSE", TK_TWSE, 1},
    {"TPE", TK_TWSE, 0},
    {"Taiwan Stock Exchange", TK_TWSE, 0},
    {"TPEx", TK_TPEX, 1},
    {"TPEX", TK_TPEX, 1},
    {"GTSM", TK_TPEX, 0},
    {"Taipei Exchange", TK_TPEX, 0},
    {"TYO", TK_TYO, 1},
    {"TSE", TK_TSE, 1},
    {"Tokyo Stock Exchange", TK_TYO, 0},
    {"KRX", TK_KRX, 1},
    {"KOSPI", TK_KRX, 1},
    {"KOSDAQ", TK_KRX, 1},
    {"Korea Exchange", TK_KRX, 0},
};

static unsigned char
fold(unsigned char c)
{
    return tk_upper(c) ? (unsigned char)(c - 'A' + 'a') : c;
}

/* s[0..n) against alias a: ASCII case folded, a run of spaces in s for each
 * space of a. *exact: byte for byte. */
static int
alias_eq(const char *a, const char *s, size_t n, int *exact)
{
    size_t i = 0;
    *exact = 1;
    for (; *a != '\0'; a++) {
        if (i >= n)
            return 0;
        if (*a == ' ') {
            if (s[i] != ' ')
                return 0;
            size_t j = i + 1;
            while (j < n && s[j] == ' ')
                j++;
            if (j != i + 1)
                *exact = 0;
            i = j;
            continue;
        }
        if (fold((unsigned char)*a) != fold((unsigned char)s[i]))
            return 0;
        if (*a != s[i])
            *exact = 0;
        i++;
    }
    return i == n;
}

int
tk_alias(const char *s, size_t n, int *bare)
{
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++) {
        int exact;
        if (alias_eq(aliases[i].s, s, n, &exact)) {
            *bare = aliases[i].bare && exact;
            return aliases[i].exch;
        }
    }
    *bare = 0;
    return -1;
}

int
tk_is_us(int exch)
{
    return exch >= TK_NASDAQ && exch <= TK_US;
}

struct suffix {
    const char *s;
    int exch;
};

static int
suffix_find(const struct suffix *tab, size_t ntab, const char *s, size_t n)
{
    for (size_t i = 0; i < ntab; i++)
        if (strlen(tab[i].s) == n && memcmp(tab[i].s, s, n) == 0)
            return tab[i].exch;
    return -1;
}

int
tk_suffix_numeric(const char *s, size_t n)
{
    /* Yahoo's and Wind's suffixes; lower case is seen for the Chinese ones. */
    static const struct suffix tab[] = {
        {"SH", TK_SSE},  {"SS", TK_SSE},   {"SZ", TK_SZSE}, {"BJ", TK_BSE}, {"HK", TK_HKEX},
        {"sh", TK_SSE},  {"ss", TK_SSE},   {"sz", TK_SZSE}, {"bj", TK_BSE}, {"hk", TK_HKEX},
        {"TW", TK_TWSE}, {"TWO", TK_TPEX}, {"T", TK_TYO},   {"KS", TK_KRX}, {"KQ", TK_KRX},
    };
    return suffix_find(tab, sizeof tab / sizeof *tab, s, n);
}

int
tk_suffix_letters(const char *s, size_t n)
{
    /* Reuters RICs and Yahoo suffixes for letter symbols; .US as Chinese
     * media write US stocks (NVDA.US). */
    static const struct suffix tab[] = {
        {"O", TK_NASDAQ}, {"OQ", TK_NASDAQ}, {"N", TK_NYSE}, {"US", TK_US},  {"L", TK_LSE},
        {"PA", TK_EPA},   {"AS", TK_AMS},    {"BR", TK_EBR}, {"LS", TK_ELI}, {"DE", TK_XETRA},
        {"F", TK_FRA},    {"S", TK_SIX},     {"SW", TK_SIX}, {"MI", TK_BIT}, {"MC", TK_BME},
        {"ST", TK_STO},   {"CO", TK_CPH},    {"HE", TK_HEL}, {"OL", TK_OSL}, {"AX", TK_ASX},
        {"NZ", TK_NZX},   {"SI", TK_SGX},    {"NS", TK_NSE}, {"TO", TK_TSX}, {"V", TK_TSXV},
    };
    return suffix_find(tab, sizeof tab / sizeof *tab, s, n);
}

int
tk_suffix_bloomberg(const char *s, size_t n)
{
    static const struct suffix tab[] = {
        {"US", TK_US},       {"HK", TK_HKEX}, {"JP", TK_TYO}, {"KS", TK_KRX}, {"TT", TK_TWSE},
        {"CH", TK_MAINLAND}, {"LN", TK_LSE},  {"AU", TK_ASX}, {"FP", TK_EPA}, {"NA", TK_AMS},
        {"GR", TK_XETRA},    {"SW", TK_SIX},  {"IM", TK_BIT}, {"SM", TK_BME}, {"CN", TK_TSX},
        {"SP", TK_SGX},      {"IN", TK_NSE},
    };
    return suffix_find(tab, sizeof tab / sizeof *tab, s, n);
}

/* The first two (three) digits of a six-digit code against "60 68 …". */
static int
prefix_in(const char *six, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strncmp(six, *set, strlen(*set)) == 0)
            return 1;
    return 0;
}

static const char *const bse_codes[] = {"43", "83", "87", "88", "920", NULL};

int
tk_mainland(const char *six)
{
    /* SPEC §12: 60/68 SSE, 00/30 SZSE, 8/4/92 BSE; 00 narrowed to 000-003
     * and 8/4 to the ranges BSE lists (400xxx are the old OTC's delisted
     * shares, 899xxx BSE's indices). */
    static const char *const sse[] = {"60", "68", NULL};
    static const char *const szse[] = {"000", "001", "002", "003", "30", NULL};
    if (prefix_in(six, sse))
        return TK_SSE;
    if (prefix_in(six, szse))
        return TK_SZSE;
    if (prefix_in(six, bse_codes))
        return TK_BSE;
    return -1;
}

/* A code given with its exchange (600519.SH, SSE: 510300) may also be a
 * B share or a fund; never an index (000001.SH is the SSE Composite,
 * 399001.SZ the Shenzhen Component). */
static int
cn_listed(int exch, const char *six)
{
    static const char *const sse[] = {"60", "68", "90", "50", "51", "52", "56", "58", NULL};
    static const char *const szse[] = {"000", "001", "002", "003", "30",
                                       "20",  "15",  "16",  "18",  NULL};
    switch (exch) {
    case TK_SSE:
        return prefix_in(six, sse);
    case TK_SZSE:
        return prefix_in(six, szse);
    case TK_BSE:
        return prefix_in(six, bse_codes);
    default:
        return 0;
    }
}

static size_t
run(const char *s, size_t n, int (*cls)(unsigned char))
{
    size_t k = 0;
    while (k < n && cls((unsigned char)s[k]))
        k++;
    return k;
}

static int
upper_or_digit(unsigned char c)
{
    return tk_upper(c) || tk_digit(c);
}

static size_t
put(char *out, int exch, const char *sym, size_t len, size_t used)
{
    size_t nl = strlen(tk_exchanges[exch].name);
    if (nl + 1 + len >= PARSE_TICKER_MAX)
        return 0;
    memcpy(out, tk_exchanges[exch].name, nl);
    out[nl] = ':';
    memcpy(out + nl + 1, sym, len);
    out[nl + 1 + len] = '\0';
    return used;
}

/* Letters (and digits after the first, for TK_ALNUM), then a class: a '.',
 * '-' or '/' and one capital (two for TK_ALNUM: REI.UN), written with '.'. */
static size_t
letter_symbol(int exch, const char *s, size_t n, char *out)
{
    const struct tk_exchange *x = &tk_exchanges[exch];
    int alnum = x->kind == TK_ALNUM;
    if (n == 0 || !tk_upper((unsigned char)s[0]))
        return 0;
    size_t k = 1 + run(s + 1, n - 1, alnum ? upper_or_digit : tk_upper);
    if (k > x->max)
        return 0;
    char sym[PARSE_TICKER_MAX];
    memcpy(sym, s, k);
    size_t len = k;
    if (k + 1 < n && (s[k] == '.' || s[k] == '-' || s[k] == '/')) {
        size_t c = run(s + k + 1, n - k - 1, tk_upper);
        if (c >= 1 && c <= (alnum ? 2u : 1u) && tk_ends(s, n, k + 1 + c)) {
            sym[len++] = '.';
            memcpy(sym + len, s + k + 1, c);
            len += c;
            k += 1 + c;
        }
    }
    if (!tk_ends(s, n, k))
        return 0;
    return put(out, exch, sym, len, k);
}

static size_t
hk_symbol(const char *s, size_t n, char *out)
{
    size_t k = run(s, n, tk_digit);
    if (k == 0 || k > 5 || !tk_ends(s, n, k))
        return 0;
    size_t z = 0;
    while (z < k && s[z] == '0')
        z++;
    if (z == k)
        return 0;
    char sym[8];
    size_t len = k - z, pad = len < 4 ? 4 - len : 0;
    memset(sym, '0', pad);
    memcpy(sym + pad, s + z, len);
    return put(out, TK_HKEX, sym, pad + len, k);
}

size_t
tk_symbol(int exch, const char *s, size_t n, char *out, int *exch_out)
{
    if (exch == TK_TSE) {
        size_t k = tk_symbol(TK_TYO, s, n, out, exch_out);
        return k ? k : tk_symbol(TK_TSX, s, n, out, exch_out);
    }
    *exch_out = exch;
    size_t k = run(s, n, tk_digit);
    if (exch == TK_MAINLAND) {
        char six[7];
        if (k != 6 || !tk_ends(s, n, 6))
            return 0;
        memcpy(six, s, 6);
        six[6] = '\0';
        if ((*exch_out = tk_mainland(six)) < 0)
            return 0;
        return put(out, *exch_out, s, 6, 6);
    }
    if (exch < 0 || exch >= TK_NEXCH)
        return 0;
    switch (tk_exchanges[exch].kind) {
    case TK_LETTERS:
    case TK_ALNUM:
        return letter_symbol(exch, s, n, out);
    case TK_HK:
        return hk_symbol(s, n, out);
    case TK_CN: {
        char six[7];
        if (k != 6 || !tk_ends(s, n, 6))
            return 0;
        memcpy(six, s, 6);
        six[6] = '\0';
        return cn_listed(exch, six) ? put(out, exch, s, 6, 6) : 0;
    }
    case TK_KR:
        return k == 6 && tk_ends(s, n, 6) ? put(out, exch, s, 6, 6) : 0;
    case TK_JP:
        if (k >= 3 && s[0] != '0' && k <= 4 &&
            (k == 4 || (k == 3 && n > 3 && tk_upper((unsigned char)s[3]))) && tk_ends(s, n, 4))
            return put(out, exch, s, 4, 4);
        return 0;
    case TK_TW: {
        size_t len = k;
        if (k < 4 || k > 6)
            return 0;
        if (len < n && tk_upper((unsigned char)s[len]))
            len++;
        return tk_ends(s, n, len) ? put(out, exch, s, len, len) : 0;
    }
    }
    return 0;
}

int
parse_ticker_normalize(const char *in, char *out, size_t size)
{
    const char *colon = in ? strchr(in, ':') : NULL;
    if (colon == NULL || size < PARSE_TICKER_MAX)
        return -EINVAL;
    const char *sym = colon + 1;
    size_t n = strlen(sym);
    int exch = -1, bare;
    for (int i = 0; i < TK_NEXCH && exch < 0; i++)
        if (strlen(tk_exchanges[i].name) == (size_t)(colon - in) &&
            alias_eq(tk_exchanges[i].name, in, (size_t)(colon - in), &bare))
            exch = i;
    if (exch < 0)
        exch = tk_alias(in, (size_t)(colon - in), &bare);
    if (exch < 0 && exch != TK_MAINLAND && exch != TK_TSE)
        return -EINVAL;
    /* Symbols are written in capitals; a user may type them in any case. */
    char up[PARSE_TICKER_MAX];
    if (n == 0 || n >= sizeof up)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        up[i] = (char)(sym[i] >= 'a' && sym[i] <= 'z' ? sym[i] - 'a' + 'A' : sym[i]);
    int got;
    return tk_symbol(exch, up, n, out, &got) == n ? 0 : -EINVAL;
}

const char *
parse_ticker_form_name(enum parse_ticker_form form)
{
    switch (form) {
    case PARSE_TICKER_CASHTAG:
        return "cashtag";
    case PARSE_TICKER_EXCHANGE:
        return "exchange";
    case PARSE_TICKER_SUFFIX:
        return "suffix";
    case PARSE_TICKER_PREFIX:
        return "prefix";
    case PARSE_TICKER_BRACKET:
        return "bracket";
    case PARSE_TICKER_NAME:
        return "name";
    }
    return "?";
}
