/* daemon/config/config_instruments.c — the configuration of instruments
 * (SPEC §12): tickers as users write them, a feed's `tickers_add`, the
 * [tickers] symbol dictionary read and checked by the extractor that will
 * use it, and the [watchlist "NAME"] sections with their all_of and
 * none_of groups. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config/config_int.h"
#include "parse/parse.h"

#define KEYWORD_WORDS 16 /* words of one keyword, as of ?q= (store_articles) */

/* ---- tickers and keywords ---- */

int
config_tickers_set(char *v, char ***out, size_t *n, char *why, size_t whysize)
{
    char **list = NULL, **canon = NULL;
    size_t m = 0, k = 0;
    int rc = config_split_list(v, &list, &m);
    if (rc < 0)
        return rc;
    if ((canon = calloc(m + 1, sizeof(*canon))) == NULL) {
        rc = -ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < m; i++) {
        char one[PARSE_TICKER_LEN];
        const char *reason = NULL;
        if (parse_ticker_syntax(list[i], one, sizeof(one), &reason) < 0) {
            snprintf(why, whysize, "bad ticker '%s': %s", list[i], reason);
            rc = -EINVAL;
            goto done;
        }
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(canon[j], one) == 0;
        if (!dup && (canon[k++] = strdup(one)) == NULL) {
            rc = -ENOMEM;
            goto done;
        }
    }
    config_list_free(*out);
    *out = canon;
    *n = k;
    canon = NULL;
done:
    config_list_free(canon);
    config_list_free(list);
    return rc;
}

/* The words of s as store_articles splits a search text: at white space,
 * ASCII or U+3000. */
static size_t
count_words(const char *s)
{
    size_t n = 0;
    int in = 0;
    while (*s) {
        size_t sp = strspn(s, " \t");
        if (sp == 0 && strncmp(s, "\xe3\x80\x80", 3) == 0)
            sp = 3;
        if (sp > 0) {
            in = 0;
            s += sp;
            continue;
        }
        n += !in;
        in = 1;
        s++;
    }
    return n;
}

int
config_keywords_set(char *v, char ***out, size_t *n, char *why, size_t whysize)
{
    char **list = NULL;
    size_t m = 0;
    int rc = config_split_list(v, &list, &m);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < m; i++) {
        size_t words = count_words(list[i]);
        if (words == 0 || words > KEYWORD_WORDS) {
            snprintf(why, whysize, "keyword '%s': 1 to %d words (every word must occur, as ?q=)",
                     list[i], KEYWORD_WORDS);
            config_list_free(list);
            return -EINVAL;
        }
    }
    config_list_free(*out);
    *out = list;
    *n = m;
    return 0;
}

/* ---- all_of, none_of ---- */

void
config_match_clear(struct config_match *m)
{
    config_list_free(m->tickers);
    config_list_free(m->keywords);
    config_list_free(m->categories);
    config_list_free(m->feeds);
    memset(m, 0, sizeof(*m));
}

/* Appends the items of list (taken) to *dst (n items). 0 or -ENOMEM. */
static int
list_append(char ***dst, size_t *n, char **list, size_t m)
{
    char **grown = realloc(*dst, (*n + m + 1) * sizeof(*grown));
    if (grown == NULL) {
        config_list_free(list);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m; i++)
        grown[(*n)++] = list[i];
    grown[*n] = NULL;
    *dst = grown;
    free(list);
    return 0;
}

/* One "KIND: ITEM, ITEM" part of a group into g. */
static int
group_part(char *part, struct config_match *g, char *why, size_t whysize)
{
    char *colon = strchr(part, ':'), **list = NULL;
    size_t m = 0;
    int rc;
    if (colon == NULL) {
        snprintf(why, whysize,
                 "'%s': write KIND: ITEM, ITEM (KIND tickers, keywords, categories or feeds)",
                 part);
        return -EINVAL;
    }
    *colon = '\0';
    char *kind = config_trim(part), *items = colon + 1;
    if (strcmp(kind, "tickers") == 0)
        rc = config_tickers_set(items, &list, &m, why, whysize);
    else if (strcmp(kind, "keywords") == 0)
        rc = config_keywords_set(items, &list, &m, why, whysize);
    else if (strcmp(kind, "categories") == 0 || strcmp(kind, "feeds") == 0)
        rc = config_split_list(items, &list, &m);
    else {
        snprintf(why, whysize, "unknown kind '%s' (tickers, keywords, categories or feeds)", kind);
        return -EINVAL;
    }
    if (rc < 0)
        return rc;
    if (m == 0) {
        config_list_free(list);
        snprintf(why, whysize, "%s: no item", kind);
        return -EINVAL;
    }
    switch (kind[0]) {
    case 't':
        return list_append(&g->tickers, &g->ntickers, list, m);
    case 'k':
        return list_append(&g->keywords, &g->nkeywords, list, m);
    case 'c':
        return list_append(&g->categories, &g->ncategories, list, m);
    default:
        return list_append(&g->feeds, &g->nfeeds, list, m);
    }
}

int
config_group_add(char *v, struct config_match **groups, size_t *n, int line, char *why,
                 size_t whysize)
{
    struct config_match g = {.line = line};
    int rc = 0;
    /* parts at ';' (a ticker has ':' and items have ',': neither splits) */
    for (char *part = v, *next; rc == 0 && part != NULL; part = next) {
        char *semi = strchr(part, ';');
        next = semi != NULL ? semi + 1 : NULL;
        if (semi != NULL)
            *semi = '\0';
        part = config_trim(part);
        if (*part != '\0')
            rc = group_part(part, &g, why, whysize);
    }
    if (rc == 0 && g.ntickers + g.nkeywords + g.ncategories + g.nfeeds == 0) {
        snprintf(why, whysize, "an empty group (write KIND: ITEM, ITEM[; KIND: ITEM…])");
        rc = -EINVAL;
    }
    struct config_match *grown = rc == 0 ? realloc(*groups, (*n + 1) * sizeof(*grown)) : NULL;
    if (rc == 0 && grown == NULL)
        rc = -ENOMEM;
    if (rc < 0) {
        config_match_clear(&g);
        return rc;
    }
    g.feeds_line = g.nfeeds > 0 ? line : 0;
    grown[(*n)++] = g;
    *groups = grown;
    return 0;
}

/* ---- [tickers] file ---- */

/* The extractor's own check of the dictionary's text (parse/tickers, the
 * one reader of the format): 0, or -EINVAL with "PATH:LINE: reason" (its
 * "line N: reason" given the file's name) in why; -ENOMEM. */
static int
dict_check(const char *path, const char *text, size_t n, char *why, size_t whysize)
{
    struct parse_tickers *t = NULL;
    char reason[256] = "";
    unsigned long line = 0;
    int used = 0;
    int rc = parse_tickers_new(text, n, &t, reason, sizeof(reason));
    parse_tickers_free(t);
    if (rc == -EINVAL && sscanf(reason, "line %lu: %n", &line, &used) == 1 && used > 0)
        snprintf(why, whysize, "%s:%lu: %s", path, line, reason + used);
    else if (rc == -EINVAL)
        snprintf(why, whysize, "%s: %s", path, reason);
    return rc;
}

int
config_tickers_file_set(const char *path, struct config_tickers *t, char *why, size_t whysize)
{
    size_t cap = 0, n = 0;
    char *text = NULL, *file = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    if (fd < 0) {
        snprintf(why, whysize, "%s: %s", path, strerror(errno));
        return -EINVAL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= CONFIG_TICKERS_FILE_MAX) {
                snprintf(why, whysize, "%s: larger than %d MiB", path,
                         CONFIG_TICKERS_FILE_MAX >> 20);
                rc = -EINVAL;
                goto done;
            }
            cap = cap ? cap * 2 : 65536;
            char *grown = realloc(text, cap);
            if (grown == NULL) {
                rc = -ENOMEM;
                goto done;
            }
            text = grown;
        }
        ssize_t got = read(fd, text + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(why, whysize, "%s: %s", path, strerror(errno));
            rc = -EINVAL;
            goto done;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (text == NULL && (text = malloc(1)) == NULL) {
        rc = -ENOMEM;
        goto done;
    }
    text[n] = '\0';
    if (memchr(text, '\0', n) != NULL) {
        snprintf(why, whysize, "%s: a NUL byte (not a text file)", path);
        rc = -EINVAL;
        goto done;
    }
    if ((rc = dict_check(path, text, n, why, whysize)) < 0)
        goto done;
    if ((file = strdup(path)) == NULL) {
        rc = -ENOMEM;
        goto done;
    }
    free(t->file);
    free(t->dict);
    t->file = file;
    t->dict = text;
    t->len = n;
    text = NULL;
done:
    free(text);
    close(fd);
    return rc;
}

/* ---- watchlists ---- */

/* Whether every feed of m is configured; else -EINVAL with the message. */
static int
feeds_known(const struct config *c, const struct config_watchlist *w, const struct config_match *m,
            const char *key, int *line, char *why, size_t whysize)
{
    for (size_t i = 0; i < m->nfeeds; i++) {
        if (config_find_feed(c, m->feeds[i]) != NULL)
            continue;
        *line = m->feeds_line > 0 ? m->feeds_line : w->line;
        snprintf(why, whysize, "watchlist \"%s\": %s: no feed \"%s\" is configured", w->name, key,
                 m->feeds[i]);
        return -EINVAL;
    }
    return 0;
}

int
config_watchlists_finish(const struct config *c, int *line, char *why, size_t whysize)
{
    for (size_t i = 0; i < c->nwatchlists; i++) {
        const struct config_watchlist *w = &c->watchlists[i];
        const struct config_match *any = &w->any;
        if (any->ntickers + any->nkeywords + any->ncategories + any->nfeeds + w->nall_of == 0) {
            *line = w->line;
            snprintf(why, whysize,
                     "watchlist \"%s\": names nothing (give tickers, keywords, categories, feeds"
                     " or all_of)",
                     w->name);
            return -EINVAL;
        }
        int rc = feeds_known(c, w, any, "feeds", line, why, whysize);
        for (size_t k = 0; rc == 0 && k < w->nall_of; k++)
            rc = feeds_known(c, w, &w->all_of[k], "all_of", line, why, whysize);
        for (size_t k = 0; rc == 0 && k < w->nnone_of; k++)
            rc = feeds_known(c, w, &w->none_of[k], "none_of", line, why, whysize);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void
config_instruments_free(struct config *c)
{
    for (size_t i = 0; i < c->nwatchlists; i++) {
        struct config_watchlist *w = &c->watchlists[i];
        free(w->name);
        config_match_clear(&w->any);
        for (size_t k = 0; k < w->nall_of; k++)
            config_match_clear(&w->all_of[k]);
        free(w->all_of);
        for (size_t k = 0; k < w->nnone_of; k++)
            config_match_clear(&w->none_of[k]);
        free(w->none_of);
    }
    free(c->watchlists);
    c->watchlists = NULL;
    c->nwatchlists = 0;
    free(c->tickers.file);
    free(c->tickers.dict);
    memset(&c->tickers, 0, sizeof(c->tickers));
}

const struct config_watchlist *
config_find_watchlist(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nwatchlists; i++)
        if (strcmp(c->watchlists[i].name, name) == 0)
            return &c->watchlists[i];
    return NULL;
}
