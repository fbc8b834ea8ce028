/* parse/tickers/dict.c — the symbol dictionary (`[tickers] file`): one issuer
 * a TSV line, its listings and names; a byte trie of the names (edges in an
 * open-addressed table, so 10k names cost memory, not time), listings sorted
 * for the cashtag and issuer look-ups. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/tickers/tickers_int.h"

static void errf(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errsize, const char *fmt, ...)
{
    if (err == NULL || errsize == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
}

static uint32_t
edge_hash(uint32_t node, unsigned char byte)
{
    uint32_t h = node * 0x9E3779B1u ^ (uint32_t)byte * 0x85EBCA77u;
    return h ^ (h >> 15);
}

uint32_t
tk_trie_next(const struct parse_tickers *t, uint32_t node, unsigned char byte)
{
    if (t->capedges == 0)
        return 0;
    size_t mask = t->capedges - 1;
    for (size_t i = edge_hash(node, byte) & mask;; i = (i + 1) & mask) {
        const struct tk_edge *e = &t->edges[i];
        if (e->child == 0)
            return 0;
        if (e->node == node && e->byte == byte)
            return e->child;
    }
}

static int
edges_grow(struct parse_tickers *t)
{
    size_t cap = t->capedges ? t->capedges * 2 : 1024;
    struct tk_edge *e = calloc(cap, sizeof *e);
    if (e == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < t->capedges; i++) {
        struct tk_edge *o = &t->edges[i];
        if (o->child == 0)
            continue;
        size_t j = edge_hash(o->node, o->byte) & (cap - 1);
        while (e[j].child != 0)
            j = (j + 1) & (cap - 1);
        e[j] = *o;
    }
    free(t->edges);
    t->edges = e;
    t->capedges = cap;
    return 0;
}

static int
node_new(struct parse_tickers *t, uint32_t *out)
{
    if (t->nnodes == t->capnodes) {
        size_t cap = t->capnodes ? t->capnodes * 2 : 1024;
        uint32_t *iss = realloc(t->node_issuer, cap * sizeof *iss);
        if (iss == NULL)
            return -ENOMEM;
        t->node_issuer = iss;
        unsigned char *capital = realloc(t->node_capital, cap);
        if (capital == NULL)
            return -ENOMEM;
        t->node_capital = capital;
        t->capnodes = cap;
    }
    t->node_issuer[t->nnodes] = 0;
    t->node_capital[t->nnodes] = 0;
    *out = (uint32_t)t->nnodes++;
    return 0;
}

/* The node a name ends on, created as needed (ASCII folded to lower case). */
static int
trie_add(struct parse_tickers *t, const char *name, size_t n, uint32_t *out)
{
    uint32_t node = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char b = (unsigned char)name[k];
        if (tk_upper(b))
            b = (unsigned char)(b - 'A' + 'a');
        uint32_t child = tk_trie_next(t, node, b);
        if (child == 0) {
            if ((t->nedges + 1) * 2 > t->capedges && edges_grow(t) < 0)
                return -ENOMEM;
            if (node_new(t, &child) < 0)
                return -ENOMEM;
            size_t mask = t->capedges - 1, i = edge_hash(node, b) & mask;
            while (t->edges[i].child != 0)
                i = (i + 1) & mask;
            t->edges[i] = (struct tk_edge){.node = node, .child = child, .byte = b};
            t->nedges++;
        }
        node = child;
    }
    *out = node;
    return 0;
}

/* Characters (code points) of valid UTF-8 s[0..n) without control
 * characters; (size_t)-1 when it is not that. */
static size_t
utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; chars++) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80                 ? 1
                     : c >= 0xC2 && c <= 0xDF ? 2
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xF0 && c <= 0xF4 ? 4
                                              : 0;
        if (len == 0 || i + len > n || c < 0x20 || c == 0x7F)
            return (size_t)-1;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80)
                return (size_t)-1;
        i += len;
    }
    return chars;
}

static void
trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* While building: the line each issuer came from, for the messages. */
struct build {
    struct parse_tickers *t;
    size_t *issuer_line;
    size_t capissuers, caplistings;
    char *err;
    size_t errsize;
};

static int
add_listing(struct build *b, size_t line, const char *s, size_t n)
{
    struct parse_tickers *t = b->t;
    char in[PARSE_TICKER_MAX + 16], sym[PARSE_TICKER_MAX];
    trim(&s, &n);
    if (n == 0 || n >= sizeof in) {
        errf(b->err, b->errsize, "line %zu: '%.*s' is not EXCHANGE:SYMBOL", line, (int)n, s);
        return -EINVAL;
    }
    memcpy(in, s, n);
    in[n] = '\0';
    const char *colon = memchr(in, ':', n);
    int bare;
    if (colon == NULL) {
        errf(b->err, b->errsize, "line %zu: '%s' is not EXCHANGE:SYMBOL", line, in);
        return -EINVAL;
    }
    if (parse_ticker_normalize(in, sym, sizeof sym) < 0) {
        int exch = tk_alias(in, (size_t)(colon - in), &bare);
        if (exch < 0 && !(colon - in == 2 && strncmp(in, "US", 2) == 0))
            errf(b->err, b->errsize, "line %zu: '%s': unknown exchange '%.*s'", line, in,
                 (int)(colon - in), in);
        else
            errf(b->err, b->errsize, "line %zu: '%s': not a symbol of that exchange", line, in);
        return -EINVAL;
    }
    if (strncmp(sym, "US:", 3) == 0) {
        errf(b->err, b->errsize, "line %zu: '%s': name the exchange (NASDAQ, NYSE, …)", line, in);
        return -EINVAL;
    }
    if (t->nlistings == b->caplistings) {
        size_t cap = b->caplistings ? b->caplistings * 2 : 256;
        struct tk_listing *l = realloc(t->listings, cap * sizeof *l);
        if (l == NULL)
            return -ENOMEM;
        t->listings = l;
        b->caplistings = cap;
    }
    struct tk_listing *l = &t->listings[t->nlistings++];
    memcpy(l->symbol, sym, sizeof sym);
    l->issuer = (int)t->nissuers;
    for (int i = 0; i < TK_NEXCH; i++) {
        size_t nl = strlen(tk_exchanges[i].name);
        if (strncmp(sym, tk_exchanges[i].name, nl) == 0 && sym[nl] == ':')
            l->exch = i;
    }
    return 0;
}

static int
add_name(struct build *b, size_t line, const char *s, size_t n)
{
    struct parse_tickers *t = b->t;
    size_t chars = utf8_chars(s, n);
    unsigned char c0 = (unsigned char)s[0];
    if (chars == (size_t)-1) {
        errf(b->err, b->errsize, "line %zu: a name is not valid UTF-8 text", line);
        return -EINVAL;
    }
    if (chars < 2 || n > TK_NAME_MAX) {
        errf(b->err, b->errsize, "line %zu: name '%.*s' is too %s (2 characters to %d bytes)", line,
             (int)n, s, chars < 2 ? "short" : "long", TK_NAME_MAX);
        return -EINVAL;
    }
    if (!(tk_alnum(c0) || c0 >= 0x80)) {
        errf(b->err, b->errsize, "line %zu: name '%.*s' must begin with a letter or a digit", line,
             (int)n, s);
        return -EINVAL;
    }
    int letter = 0;
    for (size_t i = 0; i < n; i++)
        letter |= tk_alnum((unsigned char)s[i]) && !tk_digit((unsigned char)s[i]);
    for (size_t i = 0; i < n; i++)
        letter |= (unsigned char)s[i] >= 0x80;
    if (!letter) {
        errf(b->err, b->errsize, "line %zu: name '%.*s' has no letter", line, (int)n, s);
        return -EINVAL;
    }
    uint32_t node;
    if (trie_add(t, s, n, &node) < 0)
        return -ENOMEM;
    uint32_t issuer = (uint32_t)t->nissuers;
    if (t->node_issuer[node] != 0 && t->node_issuer[node] != issuer + 1) {
        errf(b->err, b->errsize, "line %zu: name '%.*s' already names the issuer of line %zu", line,
             (int)n, s, b->issuer_line[t->node_issuer[node] - 1]);
        return -EINVAL;
    }
    unsigned char capital = tk_upper(c0);
    t->node_capital[node] = t->node_issuer[node] ? (t->node_capital[node] & capital) : capital;
    t->node_issuer[node] = issuer + 1;
    return 0;
}

/* One line: listings, a name, aliases. */
static int
add_line(struct build *b, size_t line, const char *s, size_t n)
{
    struct parse_tickers *t = b->t;
    const char *tab = memchr(s, '\t', n);
    if (tab == NULL) {
        errf(b->err, b->errsize,
             "line %zu: expected EXCHANGE:SYMBOL<TAB>name[<TAB>alias…], found no tab", line);
        return -EINVAL;
    }
    if (t->nissuers == b->capissuers) {
        size_t cap = b->capissuers ? b->capissuers * 2 : 256;
        size_t *il = realloc(b->issuer_line, cap * sizeof *il);
        if (il == NULL)
            return -ENOMEM;
        b->issuer_line = il;
        char **names = realloc(t->issuer_names, cap * sizeof *names);
        if (names == NULL)
            return -ENOMEM;
        for (size_t i = b->capissuers; i < cap; i++)
            names[i] = NULL; /* a failure frees the half-read line's name */
        t->issuer_names = names;
        b->capissuers = cap;
    }
    b->issuer_line[t->nissuers] = line;
    int rc;
    for (const char *p = s;;) {
        const char *comma = memchr(p, ',', (size_t)(tab - p));
        const char *end = comma ? comma : tab;
        if ((rc = add_listing(b, line, p, (size_t)(end - p))) < 0)
            return rc;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    int names = 0;
    for (const char *p = tab + 1; p <= s + n;) {
        const char *next = memchr(p, '\t', (size_t)(s + n - p));
        const char *end = next ? next : s + n;
        const char *f = p;
        size_t fl = (size_t)(end - p);
        trim(&f, &fl);
        if (fl == 0 && names == 0) {
            errf(b->err, b->errsize, "line %zu: no name after the listings", line);
            return -EINVAL;
        }
        if (fl > 0) {
            if ((rc = add_name(b, line, f, fl)) < 0)
                return rc;
            if (names++ == 0 && (t->issuer_names[t->nissuers] = strndup(f, fl)) == NULL)
                return -ENOMEM;
        }
        if (next == NULL)
            break;
        p = next + 1;
    }
    t->nissuers++;
    return 0;
}

static int
by_symbol_cmp(const void *a, const void *b)
{
    const struct tk_listing *x = *(const struct tk_listing *const *)a;
    const struct tk_listing *y = *(const struct tk_listing *const *)b;
    int c = strcmp(x->symbol, y->symbol);
    return c ? c : (x > y) - (x < y);
}

static int
by_code_cmp(const void *a, const void *b)
{
    const struct tk_listing *x = *(const struct tk_listing *const *)a;
    const struct tk_listing *y = *(const struct tk_listing *const *)b;
    int c = strcmp(x->code, y->code);
    return c ? c : (x > y) - (x < y);
}

/* The sorted indices; a listing given twice is an error. */
static int
index_listings(struct build *b)
{
    struct parse_tickers *t = b->t;
    size_t n = t->nlistings;
    int rc = -ENOMEM;
    const struct tk_listing **p = malloc((n ? n : 1) * sizeof *p);
    t->by_symbol = malloc((n ? n : 1) * sizeof *t->by_symbol);
    t->by_code = malloc((n ? n : 1) * sizeof *t->by_code);
    t->issuer_first = malloc((t->nissuers + 1) * sizeof *t->issuer_first);
    if (p == NULL || t->by_symbol == NULL || t->by_code == NULL || t->issuer_first == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        t->listings[i].code = strchr(t->listings[i].symbol, ':') + 1;
        p[i] = &t->listings[i];
    }
    for (size_t i = n; i-- > 0;)
        t->issuer_first[t->listings[i].issuer] = (uint32_t)i;
    t->issuer_first[t->nissuers] = (uint32_t)n;
    qsort(p, n, sizeof *p, by_symbol_cmp);
    for (size_t i = 0; i < n; i++) {
        t->by_symbol[i] = (uint32_t)(p[i] - t->listings);
        if (i > 0 && strcmp(p[i]->symbol, p[i - 1]->symbol) == 0) {
            errf(b->err, b->errsize, "line %zu: '%s' is listed on line %zu too",
                 b->issuer_line[p[i]->issuer], p[i]->symbol, b->issuer_line[p[i - 1]->issuer]);
            rc = -EINVAL;
            goto out;
        }
    }
    qsort(p, n, sizeof *p, by_code_cmp);
    for (size_t i = 0; i < n; i++)
        t->by_code[i] = (uint32_t)(p[i] - t->listings);
    rc = 0;
out:
    free(p);
    return rc;
}

int
parse_tickers_new(const char *dict, size_t len, struct parse_tickers **out, char *err,
                  size_t errsize)
{
    struct build b = {.err = err, .errsize = errsize};
    uint32_t root;
    int rc = -ENOMEM;
    *out = NULL;
    errf(err, errsize, "%s", "");
    if ((b.t = calloc(1, sizeof *b.t)) == NULL || node_new(b.t, &root) < 0 || edges_grow(b.t) < 0)
        goto fail;
    size_t line = 0;
    for (const char *p = dict, *end = dict + (dict ? len : 0); p != NULL && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        line++;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        const char *s = p;
        size_t sn = n;
        trim(&s, &sn);
        p = nl ? nl + 1 : end;
        if (sn == 0 || s[0] == '#')
            continue;
        if (memchr(s, '\0', sn) != NULL) {
            errf(err, errsize, "line %zu: a NUL byte", line);
            rc = -EINVAL;
            goto fail;
        }
        if ((rc = add_line(&b, line, s, sn)) < 0)
            goto fail;
    }
    if ((rc = index_listings(&b)) < 0)
        goto fail;
    free(b.issuer_line);
    *out = b.t;
    return 0;
fail:
    if (rc == -ENOMEM)
        errf(err, errsize, "out of memory");
    if (b.t != NULL && b.t->nissuers < b.capissuers)
        free(b.t->issuer_names[b.t->nissuers]); /* a half-read line's name */
    free(b.issuer_line);
    parse_tickers_free(b.t);
    return rc;
}

void
parse_tickers_free(struct parse_tickers *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nissuers; i++)
        free(t->issuer_names[i]);
    free(t->issuer_names);
    free(t->listings);
    free(t->by_symbol);
    free(t->by_code);
    free(t->issuer_first);
    free(t->node_issuer);
    free(t->node_capital);
    free(t->edges);
    free(t);
}

int
parse_tickers_issuer(const struct parse_tickers *t, const char *symbol)
{
    size_t lo = 0, hi = t && symbol ? t->nlistings : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct tk_listing *l = &t->listings[t->by_symbol[mid]];
        int c = strcmp(l->symbol, symbol);
        if (c == 0)
            return l->issuer;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

const char *
parse_tickers_listing(const struct parse_tickers *t, int issuer, size_t k)
{
    if (t == NULL || issuer < 0 || (size_t)issuer >= t->nissuers)
        return NULL;
    size_t i = t->issuer_first[issuer] + k;
    return i < t->issuer_first[issuer + 1] ? t->listings[i].symbol : NULL;
}

const char *
parse_tickers_issuer_name(const struct parse_tickers *t, int issuer)
{
    if (t == NULL || issuer < 0 || (size_t)issuer >= t->nissuers)
        return NULL;
    return t->issuer_names[issuer];
}
