/* tests/test_tickers.c — parse/tickers/ (SPEC §12): each form and its traps,
 * the names exchanges and codes normalize to, the dictionary (its errors by
 * line, names, issuers), resolution and first-mention order, linear time with
 * a 10k-name dictionary, and the labeled fixture sets with their precision and
 * recall. `test_tickers --eval FILE [DICT]` scores any labeled file (text<TAB>
 * expected tickers) and prints every miss and every false ticker. */
/* cmocka.h needs these included before it */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse/parse.h"
#include "test_util.h"

#define LABELED FIXTURES "/tickers/labeled.tsv"
#define LABELED_NAMES FIXTURES "/tickers/labeled_names.tsv"
#define EXAMPLE_DICT FIXTURES "/../../examples/tickers.tsv"

static struct parse_tickers *
tickers_from(const char *dict)
{
    struct parse_tickers *t = NULL;
    char err[256];
    int rc = parse_tickers_new(dict, dict ? strlen(dict) : 0, &t, err, sizeof err);
    if (rc != 0)
        print_error("dictionary: %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(t);
    return t;
}

static struct parse_tickers *
tickers_file(const char *path)
{
    size_t len = 0;
    char *dict = test_slurp(path, &len);
    assert_non_null(dict);
    struct parse_tickers *t = NULL;
    char err[256];
    int rc = parse_tickers_new(dict, len, &t, err, sizeof err);
    if (rc != 0)
        print_error("%s: %s\n", path, err);
    assert_int_equal(rc, 0);
    free(dict);
    return t;
}

/* What was found, "SYM SYM …" (forms: "SYM/form …"); caller frees. */
static char *
found(const struct parse_tickers *t, const char *title, const char *body, int forms)
{
    struct parse_ticker_list l;
    assert_int_equal(parse_tickers_find(t, title, body, &l), 0);
    char *out = calloc(1, l.n * (PARSE_TICKER_MAX + 12) + 1);
    assert_non_null(out);
    for (size_t i = 0; i < l.n; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, l.v[i].symbol);
        if (forms) {
            strcat(out, "/");
            strcat(out, parse_ticker_form_name(l.v[i].form));
        }
    }
    parse_ticker_list_free(&l);
    return out;
}

struct tcase {
    const char *text;
    const char *want; /* space-separated, "" for none */
};

static void
check_cases(const struct parse_tickers *t, const struct tcase *c, size_t n, int forms)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        char *got = found(t, c[i].text, NULL, forms);
        if (strcmp(got, c[i].want) != 0) {
            print_error("'%s'\n   want '%s'\n    got '%s'\n", c[i].text, c[i].want, got);
            failed++;
        }
        free(got);
    }
    assert_int_equal(failed, 0);
}

#define CHECK(t, cases) check_cases(t, cases, sizeof(cases) / sizeof(cases[0]), 0)
#define CHECK_FORMS(t, cases) check_cases(t, cases, sizeof(cases) / sizeof(cases[0]), 1)

/* ---- the forms ---- */

static void
test_cashtags(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(NULL);
    static const struct tcase cases[] = {
        {"$AAPL", "US:AAPL/cashtag"},
        {"$BRK.B hits a record", "US:BRK.B/cashtag"},
        {"$TSLA's rally; $F and $T", "US:TSLA/cashtag US:F/cashtag US:T/cashtag"},
        {"($NKE) slides", "US:NKE/cashtag"},
        {"$RY.TO $BHP.AX $VOD.L $NVDA.US",
         "TSX:RY/cashtag ASX:BHP/cashtag LSE:VOD/cashtag US:NVDA/cashtag"},
        {"$AAPL. Shares rose", "US:AAPL/cashtag"},
        {"$苹果(AAPL)$ and $Meta Platforms(META)$", "US:AAPL/cashtag US:META/cashtag"},
        /* traps */
        {"$5 to $120.50", ""},
        {"US$100 HK$5 A$2 NT$100 C$1 S$2 R$10", ""},
        {"$1.2bn and $3bn", ""},
        {"$ 500", ""},
        {"$AAPLX1 $ABCDEF", ""},
        {"$aapl $Aapl", ""},
        {"$US $USD/JPY $EUR", ""},
        {"$SPX $VIX $DJI $BTC $ETH", ""},
        {"?q=$AAPL a=$TSLA x/$NVDA", ""},
        {"$AAPL5", ""},
        {"$XYZ.QQ", ""},
    };
    CHECK_FORMS(t, cases);
    parse_tickers_free(t);
}

static void
test_exchange_qualified(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(NULL);
    static const struct tcase cases[] = {
        {"Apple (NASDAQ: AAPL)", "NASDAQ:AAPL/exchange"},
        {"IBM (NYSE:IBM)", "NYSE:IBM/exchange"},
        {"(Nasdaq: MSFT)", "NASDAQ:MSFT/exchange"},
        {"(NasdaqGS: AAPL) (Nasdaq Global Select Market: AAPL)", "NASDAQ:AAPL/exchange"},
        {"NYSEARCA: SPY rose", "NYSEARCA:SPY/exchange"},
        {"(NYSE Arca: GLD)", "NYSEARCA:GLD/exchange"},
        {"(NYSE American: UEC) (NYSE MKT: XYZ)",
         "NYSEAMERICAN:UEC/exchange NYSEAMERICAN:XYZ/exchange"},
        {"(LSE: VOD) (LON: OCDO)", "LSE:VOD/exchange LSE:OCDO/exchange"},
        {"(TSX: SHOP) (TSX-V: SVE) (TSXV:EU)",
         "TSX:SHOP/exchange TSXV:SVE/exchange TSXV:EU/exchange"},
        {"(ASX: BHP)", "ASX:BHP/exchange"},
        {"LVMH (Euronext Paris: MC)", "EPA:MC/exchange"},
        {"(OTC: TCEHY) (OTCQX: RHHBY) (OTC Pink: ABCDF)",
         "OTC:TCEHY/exchange OTC:RHHBY/exchange OTC:ABCDF/exchange"},
        {"(HKEX: 700)", "HKEX:0700/exchange"},
        {"(HKEX: 00700) (SEHK: 1810)", "HKEX:0700/exchange HKEX:1810/exchange"},
        {"(TSE: 7203) (TSE: RY)", "TYO:7203/exchange TSX:RY/exchange"},
        {"(TWSE: 2330) (TPEx: 6446) (KRX: 005930)",
         "TWSE:2330/exchange TPEX:6446/exchange KRX:005930/exchange"},
        {"(SSE: 600519) (SZSE: 000001) (BSE: 830799)",
         "SSE:600519/exchange SZSE:000001/exchange BSE:830799/exchange"},
        {"(NYSE: BABA and HKEX: 9988)", "NYSE:BABA/exchange HKEX:9988/exchange"},
        {"(NYSE: BRK.A, BRK.B) (NASDAQ: GOOGL, GOOG)",
         "NYSE:BRK.A/exchange NYSE:BRK.B/exchange NASDAQ:GOOGL/exchange NASDAQ:GOOG/exchange"},
        {"(NYSE:BRK-B) (NYSE: RDS/A)", "NYSE:BRK.B/exchange NYSE:RDS.A/exchange"},
        {"(TSX/NYSE: CP) (NASDAQ, TSX: SHOP)",
         "TSX:CP/exchange NYSE:CP/exchange NASDAQ:SHOP/exchange TSX:SHOP/exchange"},
        {"(TSX/NYSE/PSE: MFC)", "TSX:MFC/exchange NYSE:MFC/exchange"},
        {"(NYSE: BABA and HKEX: 9988 (HKD Counter) and 89988 (RMB Counter))",
         "NYSE:BABA/exchange HKEX:9988/exchange HKEX:89988/exchange"},
        {"（股份代號：9988（港幣櫃台）及89988（人民幣櫃台））",
         "HKEX:9988/exchange HKEX:89988/exchange"},
        {"证券代码：600519 证券简称：贵州茅台", "SSE:600519/exchange"},
        {"（股票代码：300750）", "SZSE:300750/exchange"},
        {"阿里巴巴（纽交所：BABA；港交所：9988）", "NYSE:BABA/exchange HKEX:9988/exchange"},
        {"特斯拉(纳斯达克:TSLA)", "NASDAQ:TSLA/exchange"},
        /* traps */
        {"(BSE: 500325) (NSE: RELIANCE)", "NSE:RELIANCE/exchange"}, /* Bombay is no BSE */
        {"(SSE: 000001) (SZSE: 399001)", ""},                       /* indices */
        {"Nasdaq: FAANG stocks tumble", ""},
        {"NASDAQ: AI STOCKS SOAR", ""},
        {"NYSE: CEO says", ""},
        {"NASDAQ: OTC volume", ""},
        {"EPA: New PFAS limits", ""},
        {"TSX: Canadian stocks end higher", ""},
        {"(NYSE)", ""},
        {"(NYSE: IBM, CEO Arvind Krishna said)", "NYSE:IBM/exchange"},
        {"(NYSE: IBM, ACME Corp)", "NYSE:IBM/exchange"},
        {"(NYSE: IBM, AI)", "NYSE:IBM/exchange"},
        {"(NASDAQ: aapl) (NYSE: IBMX1)", ""},
        {"Meeting at 10:30 EST", ""},
        /* a label and a number opening a headline */
        {"港交所：2024年新股募资额重回全球前四", ""},
        {"港交所：18家公司递表", ""},
        {"港交所：5月成交额按年增长", ""},
        {"HKEX: 2024 annual results show record IPOs", ""},
        {"HKEX: 20,000 new accounts", ""},
        {"HKEX: 700% rise", ""},
        {"TYO: 3800 points", ""},
        {"KOSPI: 2,500 reclaimed", ""},
        {"股份代號：700", "HKEX:0700/exchange"},
        {"（股份代號：700）", "HKEX:0700/exchange"},
        {"港交所：700，腾讯", "HKEX:0700/exchange"},
        {"(HKEX: 2020) Anta", "HKEX:2020/exchange"},
        {"证券代码：600519证券简称：贵州茅台", "SSE:600519/exchange"},
    };
    CHECK_FORMS(t, cases);
    parse_tickers_free(t);
}

static void
test_suffixes(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(NULL);
    static const struct tcase cases[] = {
        {"600519.SH 600519.SS", "SSE:600519/suffix"},
        {"000001.SZ 830799.BJ", "SZSE:000001/suffix BSE:830799/suffix"},
        {"0700.HK 00700.HK 700.HK", "HKEX:0700/suffix"},
        {"9988.HK 80700.HK 5.HK", "HKEX:9988/suffix HKEX:80700/suffix HKEX:0005/suffix"},
        {"2330.TW 6488.TWO 00632R.TW", "TWSE:2330/suffix TPEX:6488/suffix TWSE:00632R/suffix"},
        {"7203.T 130A.T", "TYO:7203/suffix TYO:130A/suffix"},
        {"005930.KS 247540.KQ", "KRX:005930/suffix KRX:247540/suffix"},
        {"(AAPL.O) (IBM.N) (VOD.L) (MC.PA) (SAP.DE) (BHP.AX) (RY.TO) (D05.SI)",
         "NASDAQ:AAPL/suffix NYSE:IBM/suffix LSE:VOD/suffix EPA:MC/suffix XETRA:SAP/suffix "
         "ASX:BHP/suffix TSX:RY/suffix SGX:D05/suffix"},
        {"英伟达(NVDA.US) SPY.US", "US:NVDA/suffix US:SPY/suffix"},
        {"(700 HK) (AAPL US) (7203 JP) (600519 CH Equity)",
         "HKEX:0700/suffix US:AAPL/suffix TYO:7203/suffix SSE:600519/suffix"},
        {"（601318.SH/02318.HK）", "SSE:601318/suffix HKEX:2318/suffix"},
        {"600519.sh 0700.hk", "SSE:600519/suffix HKEX:0700/suffix"},
        /* traps */
        {"000001.SH 000300.SH 399001.SZ 899050.BJ", ""}, /* indices */
        {"600519.SZ 000001.BJ", ""},                     /* the wrong exchange's range */
        {"0.HK 00000.HK 123456.HK 12.T 0123.T 12345.KS", ""},
        {"2024.06 2024.06.30 1.600519.SH", ""},
        {"AAPL.O VOD.L U.N U.S. (U.S.)", ""}, /* letters need brackets, but .US */
        {"/quote/0700.HK ?s=600519.SS 0700.HK_logo.png", ""},
        {"(US GDP) (AI US) (Q2 US)", ""},
    };
    CHECK_FORMS(t, cases);
    parse_tickers_free(t);
}

static void
test_prefixes(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(NULL);
    static const struct tcase cases[] = {
        {"SH600519 SZ000001 BJ830799", "SSE:600519/prefix SZSE:000001/prefix BSE:830799/prefix"},
        {"个股方面，sh600519 早盘走低", "SSE:600519/prefix"},
        {"$贵州茅台(SH600519)$", "SSE:600519/prefix"},
        {"SH000001 SZ399006 SH6005190 XSH600519", ""},
        {"https://quote.eastmoney.com/sh600519.html xueqiu.com/S/SH600519", ""},
    };
    CHECK_FORMS(t, cases);
    parse_tickers_free(t);
}

static void
test_brackets(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(NULL);
    static const struct tcase cases[] = {
        {"贵州茅台（600519）", "SSE:600519/bracket"},
        {"宁德时代(300750)与平安银行(000001)", "SZSE:300750/bracket SZSE:000001/bracket"},
        {"艾融软件（830799）贝特瑞(835185)新股(920099)",
         "BSE:830799/bracket BSE:835185/bracket BSE:920099/bracket"},
        {"腾讯控股(00700)、小米集团-W（01810）、百度集团－SW(09888)",
         "HKEX:0700/bracket HKEX:1810/bracket HKEX:9888/bracket"},
        {"万科A(000002) 寒武纪-U（688256）", "SZSE:000002/bracket SSE:688256/bracket"},
        {"格力电器 (000651)", "SZSE:000651/bracket"},
        {"比亚迪(002594)10月销量", "SZSE:002594/bracket"},
        {"$腾讯控股(00700)$", "HKEX:0700/bracket"},
        /* an index, a fund, a sector: no ticker */
        {"上证指数(000001)深证成指(399001)创业板指（399006）沪指(000001)", ""},
        {"沪深300指数(000300) 上证50(000016) 科创50ETF（588000）", ""},
        {"易方达蓝筹精选混合(005827) 中欧医疗健康混合A（003095）", ""},
        {"半导体概念(885756) 锂电池板块（881157）", ""},
        /* no company: addresses, contacts, amounts, years */
        {"武汉市东湖新技术开发区（430074） QQ群（830799） 电话(600519)", ""},
        {"联系电话（00852）2288 8888 国际长途请拨（00852）21234567", ""},
        {"增持(600000股) 净利润(300000元) （2024） 会议室（301）", ""},
        {"Tencent (00700) Beijing (100000) (600519)", ""},
        {"营收(12345) 人数(10000)", ""},
    };
    CHECK_FORMS(t, cases);
    parse_tickers_free(t);
}

static void
test_urls(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from("NASDAQ:AAPL\tApple\n");
    static const struct tcase cases[] = {
        {"https://finance.yahoo.com/quote/0700.HK", ""},
        {"http://www.sse.com.cn/disclosure/600519_20240630_1.pdf", ""},
        {"see www.x.com/$AAPL/Apple", ""},
        {"https://twitter.com/search?q=%24TSLA (NASDAQ: AAPL)", "NASDAQ:AAPL"},
        {"HTTPS://EXAMPLE.COM/NYSE:IBM", ""},
    };
    CHECK(t, cases);
    parse_tickers_free(t);
}

/* ---- order, de-duplication, resolution ---- */

static void
test_order_and_once(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(NULL);
    char *got =
        found(t, "Tencent (0700.HK) and $AAPL", "(NASDAQ: AAPL) 腾讯控股(00700) 0700.HK", 1);
    /* title first; each ticker once; $AAPL takes the article's NASDAQ */
    assert_string_equal(got, "HKEX:0700/suffix NASDAQ:AAPL/cashtag");
    free(got);
    got = found(t, NULL, "$SHOP then (TSX: SHOP) and (NYSE: SHOP)", 0);
    assert_string_equal(got, "TSX:SHOP NYSE:SHOP");
    free(got);
    got = found(t, NULL, NULL, 0);
    assert_string_equal(got, "");
    free(got);
    got = found(NULL, "$AAPL (HKEX: 700) Apple", NULL, 0); /* no extractor: no dictionary */
    assert_string_equal(got, "US:AAPL HKEX:0700");
    free(got);
    got = found(t, "", "", 0);
    assert_string_equal(got, "");
    free(got);
    /* the title and the body are read apart: nothing joins across them */
    got = found(t, "(NASDAQ:", "AAPL)", 0);
    assert_string_equal(got, "");
    free(got);
    parse_tickers_free(t);
}

static const char example_dict[] = "# a comment\n"
                                   "NYSE:BABA,HKEX:9988\tAlibaba\t阿里巴巴\tAlibaba Group\n"
                                   "HKEX:0241\tAlibaba Health\t阿里健康\n"
                                   "HKEX:0700,OTC:TCEHY\tTencent\t腾讯控股\t腾讯\n"
                                   "NYSE:TME,HKEX:1698\tTencent Music\t腾讯音乐\n"
                                   "NASDAQ:NVDA\tNvidia\t英伟达\n"
                                   "TWSE:2330,NYSE:TSM\tTSMC\t台积电\n"
                                   "NASDAQ:AAPL\tApple\t苹果公司\n";

static void
test_names(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(example_dict);
    static const struct tcase cases[] = {
        {"Nvidia and NVIDIA", "NASDAQ:NVDA/name"},
        {"英伟达市值", "NASDAQ:NVDA/name"},
        {"nvidia Nvidiaesque Nvidia3 xNvidia", ""},
        {"Nvidia's rally", "NASDAQ:NVDA/name"},
        /* the primary listing, or the one the article names */
        {"Alibaba results", "NYSE:BABA/name"},
        {"阿里巴巴港股(09988)", "HKEX:9988/bracket"},
        {"Alibaba's Hong Kong shares (9988.HK)", "HKEX:9988/suffix"},
        {"阿里健康与阿里巴巴", "HKEX:0241/name NYSE:BABA/name"},
        {"Alibaba Health and Alibaba Group", "HKEX:0241/name NYSE:BABA/name"},
        /* the longest match */
        {"腾讯音乐和腾讯控股", "NYSE:TME/name HKEX:0700/name"},
        {"台积电(TSM.US)", "NYSE:TSM/suffix"},
        /* cashtags: the dictionary's US listing */
        {"$BABA $TSM $TCEHY $ZZZ",
         "NYSE:BABA/cashtag NYSE:TSM/cashtag OTC:TCEHY/cashtag US:ZZZ/cashtag"},
        {"苹果价格上涨，苹果公司发布会", "NASDAQ:AAPL/name"},
        {"Tencent (OTC: TCEHY)", "OTC:TCEHY/exchange"},
        {"https://apple.com/Apple", ""},
    };
    CHECK_FORMS(t, cases);

    struct parse_ticker_list l;
    /* Two listings of one issuer; the names take the first of them. */
    assert_int_equal(parse_tickers_find(t, "腾讯控股(00700)", "Tencent (OTC: TCEHY) 腾讯", &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].symbol, "HKEX:0700");
    assert_string_equal(l.v[1].symbol, "OTC:TCEHY");
    assert_int_equal(l.v[0].issuer, l.v[1].issuer);
    assert_string_equal(parse_tickers_issuer_name(t, l.v[0].issuer), "Tencent");
    parse_ticker_list_free(&l);
    parse_ticker_list_free(&l); /* twice is harmless */
    parse_tickers_free(t);
}

static void
test_issuers(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(example_dict);
    int baba = parse_tickers_issuer(t, "NYSE:BABA");
    assert_true(baba >= 0);
    assert_int_equal(parse_tickers_issuer(t, "HKEX:9988"), baba);
    assert_string_equal(parse_tickers_listing(t, baba, 0), "NYSE:BABA");
    assert_string_equal(parse_tickers_listing(t, baba, 1), "HKEX:9988");
    assert_null(parse_tickers_listing(t, baba, 2));
    assert_string_equal(parse_tickers_issuer_name(t, baba), "Alibaba");
    assert_int_not_equal(parse_tickers_issuer(t, "HKEX:0241"), baba);
    assert_int_equal(parse_tickers_issuer(t, "HKEX:9999"), -1);
    assert_int_equal(parse_tickers_issuer(t, "US:BABA"), -1);
    assert_null(parse_tickers_listing(t, -1, 0));
    assert_null(parse_tickers_listing(t, 1000, 0));
    assert_null(parse_tickers_issuer_name(t, 1000));
    assert_int_equal(parse_tickers_issuer(NULL, "NYSE:BABA"), -1);
    parse_tickers_free(t);
    parse_tickers_free(NULL);
}

static void
test_normalize(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"NASDAQ:AAPL", "NASDAQ:AAPL"},
        {"nasdaqgs:aapl", "NASDAQ:AAPL"},
        {"Nasdaq Global Select:AAPL", "NASDAQ:AAPL"},
        {"hkex:00700", "HKEX:0700"},
        {"HKEX:700", "HKEX:0700"},
        {"HKEX:9988", "HKEX:9988"},
        {"HKEX:80700", "HKEX:80700"},
        {"SEHK:5", "HKEX:0005"},
        {"NYSE:BRK-B", "NYSE:BRK.B"},
        {"Euronext Paris:MC", "EPA:MC"},
        {"EPA:MC", "EPA:MC"},
        {"TSE:7203", "TYO:7203"},
        {"TSE:RY", "TSX:RY"},
        {"us:aapl", "US:AAPL"},
        {"SSE:510300", "SSE:510300"},
        {"KOSPI:005930", "KRX:005930"},
        {"TPEx:6488", "TPEX:6488"},
        {"NSE:RELIANCE", "NSE:RELIANCE"},
        {"TSX:REI.UN", "TSX:REI.UN"},
        {"AAPL", NULL},
        {"FOO:BAR", NULL},
        {"NASDAQ:", NULL},
        {"NASDAQ:ABCDEF", NULL},
        {"SSE:000001", NULL},
        {"SZSE:399001", NULL},
        {"BSE:500325", NULL},
        {"HKEX:000000", NULL},
        {"HKEX:123456", NULL},
        {"TYO:0123", NULL},
        {":AAPL", NULL},
        {"NASDAQ:AAPL ", NULL},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[PARSE_TICKER_MAX];
        int rc = parse_ticker_normalize(cases[i].in, out, sizeof out);
        if (cases[i].out ? rc != 0 || strcmp(out, cases[i].out) != 0 : rc != -EINVAL) {
            print_error("normalize '%s': want %s, got rc %d '%s'\n", cases[i].in,
                        cases[i].out ? cases[i].out : "-EINVAL", rc, rc == 0 ? out : "");
            failed++;
        }
    }
    char small[8];
    assert_int_equal(parse_ticker_normalize("NASDAQ:AAPL", small, sizeof small), -EINVAL);
    assert_int_equal(parse_ticker_normalize(NULL, small, sizeof small), -EINVAL);
    assert_int_equal(failed, 0);
}

static void
test_forms_names(void **state)
{
    (void)state;
    assert_string_equal(parse_ticker_form_name(PARSE_TICKER_CASHTAG), "cashtag");
    assert_string_equal(parse_ticker_form_name(PARSE_TICKER_EXCHANGE), "exchange");
    assert_string_equal(parse_ticker_form_name(PARSE_TICKER_SUFFIX), "suffix");
    assert_string_equal(parse_ticker_form_name(PARSE_TICKER_PREFIX), "prefix");
    assert_string_equal(parse_ticker_form_name(PARSE_TICKER_BRACKET), "bracket");
    assert_string_equal(parse_ticker_form_name(PARSE_TICKER_NAME), "name");
}

/* ---- the dictionary's errors ---- */

static void
test_dictionary_errors(void **state)
{
    (void)state;
    static const struct {
        const char *dict, *err;
    } cases[] = {
        {"NASDAQ:AAPL Apple\n",
         "line 1: expected EXCHANGE:SYMBOL<TAB>name[<TAB>alias…], found no tab"},
        {"# c\n\nFOO:BAR\tX Corp\n", "line 3: 'FOO:BAR': unknown exchange 'FOO'"},
        {"NASDAQ:AAPL1\tApple\n", "line 1: 'NASDAQ:AAPL1': not a symbol of that exchange"},
        {"SSE:000001\tSSE Composite\n", "line 1: 'SSE:000001': not a symbol of that exchange"},
        {"AAPL\tApple\n", "line 1: 'AAPL' is not EXCHANGE:SYMBOL"},
        {"NASDAQ:AAPL,\tApple\n", "line 1: '' is not EXCHANGE:SYMBOL"},
        {"US:AAPL\tApple\n", "line 1: 'US:AAPL': name the exchange (NASDAQ, NYSE, …)"},
        {"NASDAQ:AAPL\t\tApple\n", "line 1: no name after the listings"},
        {"NASDAQ:AAPL\tA\n", "line 1: name 'A' is too short (2 characters to 64 bytes)"},
        {"NASDAQ:AAPL\t苹\n", "line 1: name '苹' is too short (2 characters to 64 bytes)"},
        {"NASDAQ:AAPL\tApple\t-Apple\n",
         "line 1: name '-Apple' must begin with a letter or a digit"},
        {"NASDAQ:AAPL\t1234\n", "line 1: name '1234' has no letter"},
        {"NASDAQ:AAPL\tAp\xffple\n", "line 1: a name is not valid UTF-8 text"},
        {"NASDAQ:AAPL\tApple\nNASDAQ:MSFT\tMicrosoft\tAPPLE\n",
         "line 2: name 'APPLE' already names the issuer of line 1"},
        {"NASDAQ:AAPL\tApple\n\nnasdaqgs:aapl\tApple Inc.\n",
         "line 3: 'NASDAQ:AAPL' is listed on line 1 too"},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct parse_tickers *t = (struct parse_tickers *)1;
        char err[256] = "unset";
        int rc = parse_tickers_new(cases[i].dict, strlen(cases[i].dict), &t, err, sizeof err);
        if (rc != -EINVAL || t != NULL || strcmp(err, cases[i].err) != 0) {
            print_error("dict %zu: want '%s', got rc %d '%s'\n", i, cases[i].err, rc, err);
            failed++;
        }
        parse_tickers_free(rc == 0 ? t : NULL);
    }
    /* A name longer than a walk, a NUL byte in a line. */
    char longname[200] = "NASDAQ:AAPL\t";
    memset(longname + strlen(longname), 'a', 70);
    struct parse_tickers *t = NULL;
    char err[256];
    assert_int_equal(parse_tickers_new(longname, strlen(longname), &t, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "is too long"));
    assert_int_equal(parse_tickers_new("NASDAQ:AAPL\tAp\0ple\n", 19, &t, err, sizeof err), -EINVAL);
    assert_string_equal(err, "line 1: a NUL byte");
    assert_int_equal(failed, 0);
}

static void
test_dictionary_accepts(void **state)
{
    (void)state;
    /* CRLF, blank and comment lines, spaces around fields, empty trailing
     * fields, aliases normalized, an issuer repeating its own name. */
    const char *dict = "# header\r\n"
                       "\r\n"
                       "  NasdaqGS:aapl , NYSE:AAPL \t Apple \tAPPLE\t\t\r\n"
                       "hkex:00700\tTencent\tTencent\n"
                       "   # indented comment\n"
                       "SSE:600519\t贵州茅台\t茅台";
    struct parse_tickers *t = tickers_from(dict);
    int apple = parse_tickers_issuer(t, "NASDAQ:AAPL");
    assert_true(apple >= 0);
    assert_string_equal(parse_tickers_listing(t, apple, 1), "NYSE:AAPL");
    assert_string_equal(parse_tickers_issuer_name(t, apple), "Apple");
    assert_true(parse_tickers_issuer(t, "HKEX:0700") >= 0);
    char *got = found(t, "APPLE and Tencent and 茅台", NULL, 0);
    assert_string_equal(got, "NASDAQ:AAPL HKEX:0700 SSE:600519");
    free(got);
    parse_tickers_free(t);

    /* The example dictionary shipped with the project reads. */
    t = tickers_file(EXAMPLE_DICT);
    assert_true(parse_tickers_issuer(t, "HKEX:9988") >= 0);
    parse_tickers_free(t);
}

/* ---- time: linear in the text, whatever the dictionary ---- */

/* A dictionary of 10,000 issuers: Latin names sharing long prefixes, CJK
 * names of five characters standing for the digits of the issuer's number
 * (lowest first), then 集团控股. */
static char *
big_dict(void)
{
    static const char *const han[] = {"中", "国", "平", "安", "华", "泰", "东", "方", "金", "融"};
    size_t cap = 10000 * 160, n = 0;
    char *d = malloc(cap);
    assert_non_null(d);
    for (int i = 0; i < 10000; i++) {
        n += (size_t)snprintf(d + n, cap - n, "SSE:60%04d\tCompany Holdings Group %05d\t", i, i);
        for (int k = 0, v = i; k < 5; k++, v /= 10)
            n += (size_t)snprintf(d + n, cap - n, "%s", han[v % 10]);
        n += (size_t)snprintf(d + n, cap - n, "集团控股\n");
    }
    return d;
}

/* Text that keeps every form busy: near-miss names, brackets, dollars,
 * digit runs, colons, CJK runs that are prefixes of many names. */
static char *
busy_text(size_t bytes)
{
    static const char *const bits[] = {
        "Company Holdings Group 0042 ",
        "Company Holdings Group 04217 rose; ",
        "方国平华中集团控股",
        "方国平华中集团",
        "中中中中中中中中中中中中中中中中",
        "((((((((",
        "$$$$$AAPL $5 US$",
        "1234567890123 ",
        "(NYSE: BABA and HKEX: 9988) ",
        "600519.SH 0700.HK ",
        "贵州茅台（600519）",
        ":::: NYSE: ",
        "https://x.com/0700.HK ",
        "$苹果(AAPL)$ ",
        "一一一一一一一一一一一一一一一一",
        "(0700.HK/0700.HK/0700.HK/ ",
    };
    char *s = malloc(bytes + 64);
    assert_non_null(s);
    size_t n = 0;
    for (size_t i = 0; n < bytes; i = (i + 5) % (sizeof bits / sizeof *bits)) {
        size_t l = strlen(bits[i]);
        memcpy(s + n, bits[i], l);
        n += l;
    }
    s[n] = '\0';
    return s;
}

static double
time_find(const struct parse_tickers *t, const char *text, size_t *nfound)
{
    struct parse_ticker_list l;
    double t0 = test_now();
    assert_int_equal(parse_tickers_find(t, NULL, text, &l), 0);
    double dt = test_now() - t0;
    *nfound = l.n;
    parse_ticker_list_free(&l);
    return dt;
}

static void
test_linear_time(void **state)
{
    (void)state;
    char *dict = big_dict();
    double t0 = test_now();
    struct parse_tickers *t = tickers_from(dict);
    double build = test_now() - t0;
    free(dict);
    char *small = busy_text(1 << 20), *large = busy_text(4 << 20);
    size_t n1, n4;
    double d1 = time_find(t, small, &n1), d4 = time_find(t, large, &n4);
    print_message("tickers: 10k-name dictionary built in %.3f s; 1 MB in %.3f s (%zu tickers), "
                  "4 MB in %.3f s (%zu tickers)\n",
                  build, d1, n1, d4, n4);
    assert_true(n1 >= 6 && n4 == n1);
    /* 方国平华中: the digits of 4217 in the dictionary's CJK names */
    char *got =
        found(t, "Company Holdings Group 04217 and 方方方方中集团控股", "方国平华中集团控股", 0);
    assert_string_equal(got, "SSE:604217 SSE:607777");
    free(got);
#ifndef FINFEED_SANITIZED
    /* A quadratic path would take 16 times as long for four times the text. */
    assert_true(build < 2.0);
    assert_true(d4 < 2.0);
    assert_true(d4 < 8 * d1 + 0.05);
#endif
    free(small);
    free(large);
    parse_tickers_free(t);
}

/* A body of 4,000 distinct cashtags: the first 1024 are read, memory stays
 * bounded; the same cashtag 100,000 times is one ticker. */
static void
test_many_mentions(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(NULL);
    char *body = malloc(4000 * 6 + 600001);
    assert_non_null(body);
    size_t n = 0;
    for (int i = 0; i < 4000; i++)
        n += (size_t)sprintf(body + n, "$%c%c%c ", 'A' + i / 676, 'A' + i / 26 % 26, 'A' + i % 26);
    struct parse_ticker_list l;
    assert_int_equal(parse_tickers_find(t, "$ZZZZ", body, &l), 0);
    assert_int_equal(l.n, 1024);
    assert_string_equal(l.v[0].symbol, "US:ZZZZ");
    assert_string_equal(l.v[1].symbol, "US:AAA");
    parse_ticker_list_free(&l);
    n = 0;
    for (int i = 0; i < 100000; i++)
        n += (size_t)sprintf(body + n, "$BABA ");
    assert_int_equal(parse_tickers_find(t, NULL, body, &l), 0);
    assert_int_equal(l.n, 1);
    parse_ticker_list_free(&l);
    free(body);
    parse_tickers_free(t);
}

/* ---- the labeled fixture sets ---- */

struct score {
    size_t lines, tp, fp, fn;
    size_t form_tp[PARSE_TICKER_NAME + 1], form_fp[PARSE_TICKER_NAME + 1];
    int bad_labels;
};

static int
has_token(const char *list, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = list; (p = strstr(p, tok)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

/* Score every line of a labeled file; print the misses when `verbose`. */
static void
evaluate(const struct parse_tickers *t, const char *path, struct score *sc, int verbose)
{
    char *buf = test_slurp(path, NULL);
    if (buf == NULL)
        fail_msg("cannot read %s", path);
    memset(sc, 0, sizeof *sc);
    for (char *line = buf, *next; line != NULL && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *tab = strchr(line, '\t');
        if (tab == NULL) {
            print_error("%s: no tab in '%s'\n", path, line);
            sc->bad_labels++;
            continue;
        }
        *tab = '\0';
        const char *want = tab + 1;
        sc->lines++;
        struct parse_ticker_list l;
        assert_int_equal(parse_tickers_find(t, line, NULL, &l), 0);
        int wrong = 0;
        for (size_t i = 0; i < l.n; i++) {
            for (size_t k = 0; k < i; k++)
                assert_string_not_equal(l.v[k].symbol, l.v[i].symbol);
            if (has_token(want, l.v[i].symbol)) {
                sc->tp++;
                sc->form_tp[l.v[i].form]++;
            } else {
                sc->fp++;
                sc->form_fp[l.v[i].form]++;
                wrong = 1;
            }
        }
        char *w = strdup(want);
        assert_non_null(w);
        for (char *save, *tok = strtok_r(w, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            char norm[PARSE_TICKER_MAX];
            if (parse_ticker_normalize(tok, norm, sizeof norm) != 0 || strcmp(norm, tok) != 0) {
                print_error("%s: label '%s' is no normalized ticker\n", path, tok);
                sc->bad_labels++;
            }
            int hit = 0;
            for (size_t i = 0; i < l.n && !hit; i++)
                hit = strcmp(l.v[i].symbol, tok) == 0;
            if (!hit) {
                sc->fn++;
                wrong = 1;
            }
        }
        free(w);
        if (wrong && verbose) {
            printf("%s\n  want: %s\n   got:", line, want);
            for (size_t i = 0; i < l.n; i++)
                printf(" %s/%s", l.v[i].symbol, parse_ticker_form_name(l.v[i].form));
            printf("\n");
        }
        parse_ticker_list_free(&l);
    }
    free(buf);
}

static void
report(const char *what, const struct score *sc, double *precision, double *recall)
{
    *precision = sc->tp + sc->fp ? (double)sc->tp / (double)(sc->tp + sc->fp) : 1.0;
    *recall = sc->tp + sc->fn ? (double)sc->tp / (double)(sc->tp + sc->fn) : 1.0;
    printf("tickers: %s: %zu lines, %zu tickers expected, %zu found right, %zu wrong, %zu missed: "
           "precision %.4f, recall %.4f\n",
           what, sc->lines, sc->tp + sc->fn, sc->tp, sc->fp, sc->fn, *precision, *recall);
    printf("tickers: %s: by form (right/wrong):", what);
    for (int f = 0; f <= PARSE_TICKER_NAME; f++)
        printf(" %s %zu/%zu", parse_ticker_form_name((enum parse_ticker_form)f), sc->form_tp[f],
               sc->form_fp[f]);
    printf("\n");
}

static void
test_labeled(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(NULL);
    struct score sc;
    double p, r;
    evaluate(t, LABELED, &sc, 1);
    report("labeled.tsv (explicit forms, no dictionary)", &sc, &p, &r);
    assert_int_equal(sc.bad_labels, 0);
    assert_true(sc.lines >= 300);
    assert_true(p >= 0.98);
    assert_true(r >= 0.90);
    parse_tickers_free(t);
}

static void
test_labeled_names(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_file(EXAMPLE_DICT);
    struct score sc;
    double p, r;
    evaluate(t, LABELED_NAMES, &sc, 1);
    report("labeled_names.tsv (examples/tickers.tsv)", &sc, &p, &r);
    assert_int_equal(sc.bad_labels, 0);
    assert_true(sc.lines >= 50);
    assert_true(p >= 0.98);
    assert_true(r >= 0.90);
    parse_tickers_free(t);
}

/* ---- threads: one extractor, many readers ---- */

struct worker {
    const struct parse_tickers *t;
    const char *text;
    const char *want;
    int bad;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 200; i++) {
        struct parse_ticker_list l;
        if (parse_tickers_find(w->t, w->text, w->text, &l) != 0 || l.n != 3 ||
            strcmp(l.v[0].symbol, w->want) != 0)
            w->bad++;
        parse_ticker_list_free(&l);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    (void)state;
    struct parse_tickers *t = tickers_from(example_dict);
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){t, "Alibaba (9988.HK) and 腾讯控股 $AAPL", "HKEX:9988", 0};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].bad, 0);
    }
    parse_tickers_free(t);
}

static int
eval_main(int argc, char **argv)
{
    struct parse_tickers *t = NULL;
    char err[256];
    char *dict = NULL;
    size_t len = 0;
    if (argc > 3 && (dict = test_slurp(argv[3], &len)) == NULL) {
        fprintf(stderr, "test_tickers: cannot read %s\n", argv[3]);
        return 2;
    }
    if (parse_tickers_new(dict, len, &t, err, sizeof err) != 0) {
        fprintf(stderr, "test_tickers: %s: %s\n", argv[3], err);
        return 2;
    }
    free(dict);
    struct score sc;
    double p, r;
    evaluate(t, argv[2], &sc, 1);
    report(argv[2], &sc, &p, &r);
    parse_tickers_free(t);
    return sc.bad_labels ? 1 : 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--eval") == 0)
        return eval_main(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cashtags),
        cmocka_unit_test(test_exchange_qualified),
        cmocka_unit_test(test_suffixes),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_brackets),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_order_and_once),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_issuers),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_forms_names),
        cmocka_unit_test(test_dictionary_errors),
        cmocka_unit_test(test_dictionary_accepts),
        cmocka_unit_test(test_linear_time),
        cmocka_unit_test(test_many_mentions),
        cmocka_unit_test(test_labeled),
        cmocka_unit_test(test_labeled_names),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
