/* fuzz/fuzz_tickers.c — libFuzzer target for the instrument extractor
 * (parse/tickers/). Any bytes: the first line is the title, the rest the body,
 * read with a small fixed dictionary; an input that begins "#dict\n" carries
 * its own dictionary up to a "\n#text\n" line, which must either be refused
 * with a "line N: …" message or read. Aborts when a ticker is not a normalized
 * EXCHANGE:SYMBOL, comes twice, names the wrong issuer or form, or when a
 * second run gives a different answer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_dict[] = "NYSE:BABA,HKEX:9988\tAlibaba\t阿里巴巴\n"
                                 "HKEX:0700,OTC:TCEHY\tTencent\t腾讯控股\t腾讯\n"
                                 "NYSE:TME,HKEX:1698\tTencent Music\t腾讯音乐\n"
                                 "NASDAQ:NVDA\tNvidia\t英伟达\n"
                                 "SSE:600519\tKweichow Moutai\t贵州茅台\t茅台\n";

static void
fail(const char *why, const char *detail)
{
    fprintf(stderr, "fuzz_tickers: %s: %s\n", why, detail);
    abort();
}

static void
check(const struct parse_tickers *t, const char *title, const char *body)
{
    struct parse_ticker_list l, again;
    if (parse_tickers_find(t, title, body, &l) != 0 ||
        parse_tickers_find(t, title, body, &again) != 0)
        fail("parse_tickers_find failed", "");
    if (l.n != again.n)
        fail("two runs differ", "count");
    for (size_t i = 0; i < l.n; i++) {
        const struct parse_ticker *k = &l.v[i];
        char norm[PARSE_TICKER_MAX];
        if (memchr(k->symbol, '\0', sizeof k->symbol) == NULL)
            fail("symbol not terminated", "");
        if (parse_ticker_normalize(k->symbol, norm, sizeof norm) != 0 ||
            strcmp(norm, k->symbol) != 0)
            fail("not a normalized ticker", k->symbol);
        if (k->form > PARSE_TICKER_NAME)
            fail("no such form", k->symbol);
        if (k->form == PARSE_TICKER_NAME && k->issuer < 0)
            fail("a name without an issuer", k->symbol);
        if (parse_tickers_issuer(t, k->symbol) != k->issuer)
            fail("wrong issuer", k->symbol);
        for (size_t j = 0; j < i; j++)
            if (strcmp(l.v[j].symbol, k->symbol) == 0)
                fail("ticker twice", k->symbol);
        if (strcmp(again.v[i].symbol, k->symbol) != 0 || again.v[i].form != k->form)
            fail("two runs differ", k->symbol);
    }
    parse_ticker_list_free(&l);
    parse_ticker_list_free(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct parse_tickers *t = NULL;
    char err[256];
    size_t skip = 0;
    if (size >= 6 && memcmp(in, "#dict\n", 6) == 0) {
        const char *sep = NULL;
        for (size_t i = 6; i + 7 <= size && sep == NULL; i++)
            if (memcmp(in + i, "\n#text\n", 7) == 0)
                sep = in + i;
        size_t dl = sep ? (size_t)(sep - in) - 6 : size - 6;
        int rc = parse_tickers_new(in + 6, dl, &t, err, sizeof err);
        if (rc != 0 && (t != NULL || strncmp(err, "line ", 5) != 0))
            fail("a refused dictionary without its line", err);
        skip = sep ? (size_t)(sep - in) + 7 : size;
    }
    /* The fixed extractor is built once: it is immutable. */
    static struct parse_tickers *fixed;
    if (fixed == NULL &&
        parse_tickers_new(fixed_dict, sizeof fixed_dict - 1, &fixed, err, sizeof err) != 0)
        fail("the fixed dictionary", err);
    struct parse_tickers *own = t;
    if (t == NULL)
        t = fixed;
    /* title: the first line; body: the rest */
    char *text = malloc(size - skip + 2);
    if (text == NULL)
        return 0;
    memcpy(text, in + skip, size - skip);
    text[size - skip] = '\0';
    text[size - skip + 1] = '\0';
    char *nl = memchr(text, '\n', size - skip), *body = NULL;
    if (nl != NULL) {
        *nl = '\0';
        body = nl + 1;
    }
    check(t, text, body);
    check(t, body, text);
    free(text);
    parse_tickers_free(own);
    return 0;
}
