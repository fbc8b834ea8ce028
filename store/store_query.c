/* store/store_query.c — the output query's face: the search text cut into
 * words (SPEC §5.1: every word a case-insensitive substring of the title or
 * the body text, whatever its length), then the backend's query. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

size_t
store_term_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

char *
store_like_pattern(const char *term)
{
    char *out = malloc(strlen(term) * 2 + 3), *w = out;
    if (out == NULL)
        return NULL;
    *w++ = '%';
    for (const char *p = term; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            *w++ = '\\';
        *w++ = *p;
    }
    *w++ = '%';
    *w = '\0';
    return out;
}

/* The words of a search text: split at white space (ASCII and U+3000),
 * pointers into `buf` (a copy the caller frees). Returns the count, or -1
 * for more than STORE_MAX_TERMS words. */
static int
split_terms(char *buf, char *terms[STORE_MAX_TERMS])
{
    int n = 0;
    char *p = buf;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
               (p[0] == '\xe3' && p[1] == '\x80' && p[2] == '\x80'))
            p += *p == '\xe3' ? 3 : 1;
        if (*p == '\0')
            return n;
        if (n == STORE_MAX_TERMS)
            return -1;
        terms[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' &&
               !(p[0] == '\xe3' && p[1] == '\x80' && p[2] == '\x80'))
            p++;
        if (*p != '\0') {
            int skip = *p == '\xe3' ? 3 : 1;
            *p = '\0';
            p += skip;
        }
    }
}

int
store_articles(struct store *s, const struct store_query *q, store_article_cb cb, void *arg)
{
    static const struct store_query all = {0};
    char *terms[STORE_MAX_TERMS], *text = NULL;
    int nterms = 0, ret;
    if (q == NULL)
        q = &all;
    if (q->text != NULL) {
        if ((text = strdup(q->text)) == NULL)
            return -ENOMEM;
        if ((nterms = split_terms(text, terms)) < 0) {
            snprintf(s->err, sizeof(s->err), "more than %d search words", STORE_MAX_TERMS);
            free(text);
            return -EINVAL;
        }
    }
    ret = s->ops->articles(s, q, terms, nterms, cb, arg);
    free(text);
    return ret;
}
