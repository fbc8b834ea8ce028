/* parse/article/ticker.c — the written form of an instrument (SPEC §12),
 * "EXCHANGE:SYMBOL", as users type it in routes, watchlists and
 * `tickers_add`: checked, with the reason when it is none, and made the
 * form the extractor gives (parse_ticker_normalize, parse/tickers). */
#include <errno.h>
#include <string.h>

#include "parse/parse.h"

#define PART_MAX 15 /* bytes of EXCHANGE, and of SYMBOL */

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int
is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char
upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* s[0..n) without the blanks around it: *start and the new length. */
static size_t
trim(const char *s, size_t n, const char **start)
{
    while (n > 0 && is_blank(*s))
        s++, n--;
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    *start = s;
    return n;
}

int
parse_ticker_syntax(const char *in, char *out, size_t size, const char **why)
{
    const char *reason = NULL, *colon = in ? strchr(in, ':') : NULL, *ex, *sym;
    size_t nex = 0, nsym = 0;
    if (colon == NULL) {
        reason = "not EXCHANGE:SYMBOL (no colon)";
        goto bad;
    }
    nex = trim(in, (size_t)(colon - in), &ex);
    nsym = trim(colon + 1, strlen(colon + 1), &sym);
    if (nex == 0 || nex > PART_MAX || !is_alpha(ex[0])) {
        reason = "EXCHANGE: 1 to 15 letters or digits, a letter first";
        goto bad;
    }
    for (size_t i = 0; i < nex; i++)
        if (!is_alpha(ex[i]) && !is_digit(ex[i])) {
            reason = "EXCHANGE: 1 to 15 letters or digits, a letter first";
            goto bad;
        }
    if (nsym == 0 || nsym > PART_MAX || !(is_alpha(sym[0]) || is_digit(sym[0]))) {
        reason = "SYMBOL: 1 to 15 letters, digits or . - _, a letter or digit first";
        goto bad;
    }
    for (size_t i = 0; i < nsym; i++)
        if (!is_alpha(sym[i]) && !is_digit(sym[i]) && sym[i] != '.' && sym[i] != '-' &&
            sym[i] != '_') {
            reason = "SYMBOL: 1 to 15 letters, digits or . - _, a letter or digit first";
            goto bad;
        }
    char tidy[2 * PART_MAX + 2], *w = tidy;
    for (size_t i = 0; i < nex; i++)
        *w++ = upper(ex[i]);
    *w++ = ':';
    for (size_t i = 0; i < nsym; i++)
        *w++ = upper(sym[i]);
    *w = '\0';
    /* the extractor's form (parse/tickers): an exchange by its aliases
     * (NasdaqGS → NASDAQ), Hong Kong codes padded (HKEX:00700 → HKEX:0700),
     * the symbol checked against its exchange's form */
    if (size < PARSE_TICKER_MAX) {
        reason = "too long";
        goto bad;
    }
    if (parse_ticker_normalize(tidy, out, size) < 0) {
        reason = "no such listing (an unknown exchange, or a symbol not of its exchange's form)";
        goto bad;
    }
    return 0;
bad:
    if (why != NULL)
        *why = reason;
    return -EINVAL;
}
