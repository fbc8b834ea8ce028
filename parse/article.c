/* parse/article.c — the article model (SPEC §3): one parsed entry, its feed
 * and the feed's configured defaults become one normalized article, each
 * field by its rule in its order of precedence. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/buf_int.h"
#include "parse/parse.h"

#define TITLE_FROM_BODY 80
#define SUMMARY_CHARS 200

static char *
dup_or_null(const char *s)
{
    return s != NULL && *s != '\0' ? strdup(s) : NULL;
}

static int
has(const char *s)
{
    return s != NULL && *s != '\0';
}

static int
add_unique(char ***list, size_t *n, const char *term)
{
    if (!has(term))
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], term) == 0)
            return 0;
    char **l = realloc(*list, (*n + 1) * sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    *list = l;
    if ((l[*n] = strdup(term)) == NULL)
        return -ENOMEM;
    (*n)++;
    return 0;
}

/* src of the first <img> of a cleaned body (cleaned: attributes are quoted,
 * URLs absolute), or NULL. */
static char *
first_img(const char *html)
{
    const char *p = html;
    while ((p = strstr(p, "<img")) != NULL) {
        const char *end = strchr(p, '>');
        const char *src = strstr(p, " src=\"");
        if (end == NULL)
            return NULL;
        if (src != NULL && src < end) {
            src += 6;
            const char *q = strchr(src, '"');
            if (q != NULL && q > src)
                return strndup(src, (size_t)(q - src));
        }
        p = end;
    }
    return NULL;
}

static int
is_absolute_url(const char *s)
{
    return s != NULL && (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0);
}

/* The richest of content:encoded / Atom content / description: the longest. */
static const char *
richest(const struct parse_entry *e, int *html)
{
    size_t lc = e->content ? strlen(e->content) : 0, ls = e->summary ? strlen(e->summary) : 0;
    if (lc >= ls && lc > 0) {
        *html = e->content_html;
        return e->content;
    }
    *html = e->summary_html;
    return e->summary;
}

static char *
html_escape(const char *s)
{
    struct buf b = {0};
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_adds(&b, "&amp;"); break;
        case '<': buf_adds(&b, "&lt;"); break;
        case '>': buf_adds(&b, "&gt;"); break;
        default: buf_addc(&b, *s); break;
        }
    }
    return buf_steal(&b);
}

static uint64_t
fnv1a(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

int
parse_article_make(const struct parse_feed *feed, const struct parse_entry *e,
                   const struct parse_article_defaults *d, struct parse_article **out)
{
    static const struct parse_article_defaults none;
    struct parse_cleaner *own = NULL;
    struct parse_article *a = calloc(1, sizeof(*a));
    char *plain_body = NULL;
    int rc = -ENOMEM;
    if (d == NULL)
        d = &none;
    if (a == NULL)
        return -ENOMEM;

    /* body: cleaned HTML of the richest text; plain text is escaped first */
    const struct parse_cleaner *cleaner = d->cleaner;
    if (cleaner == NULL) {
        struct parse_clean_opts co = {0};
        char err[128];
        if ((rc = parse_cleaner_new(&co, &own, err, sizeof(err))) < 0)
            goto fail;
        cleaner = own;
    }
    int html = 0;
    const char *raw = richest(e, &html);
    char *escaped = NULL;
    if (raw != NULL && !html)
        raw = escaped = html_escape(raw);
    const char *base = is_absolute_url(e->link) ? e->link : e->base;
    rc = parse_clean(cleaner, raw ? raw : "", raw ? strlen(raw) : 0, base, &a->body);
    free(escaped);
    if (rc < 0)
        goto fail;
    rc = -ENOMEM;
    if ((plain_body = parse_html_text(a->body)) == NULL)
        goto fail;

    /* title: tags stripped, entities decoded, white space collapsed */
    if (has(e->title)) {
        if (e->title_html) {
            a->title = parse_html_text(e->title);
        } else {
            char *esc = html_escape(e->title);
            a->title = esc ? parse_html_text(esc) : NULL;
            free(esc);
        }
        if (a->title == NULL)
            goto fail;
    }
    if (!has(a->title)) {
        free(a->title);
        if ((a->title = parse_utf8_prefix(plain_body, TITLE_FROM_BODY)) == NULL)
            goto fail;
    }

    a->link = dup_or_null(e->link);
    if (has(e->id)) {
        a->guid = strdup(e->id);
    } else if (has(e->link)) {
        a->guid = strdup(e->link);
    } else {
        char tmp[48], when[32];
        snprintf(when, sizeof(when), "%" PRId64, e->published != PARSE_NO_DATE ? e->published : e->updated);
        uint64_t h = fnv1a(fnv1a(0xcbf29ce484222325ULL, a->title), when);
        snprintf(tmp, sizeof(tmp), "urn:finfeed:%016" PRIx64, h);
        a->guid = strdup(tmp);
    }
    if (a->guid == NULL)
        goto fail;

    for (size_t i = 0; i < d->ncategories; i++)
        if (add_unique(&a->categories, &a->ncategories, d->categories[i]) < 0)
            goto fail;
    for (size_t i = 0; i < e->ncategories; i++)
        if (add_unique(&a->categories, &a->ncategories, e->categories[i]) < 0)
            goto fail;

    /* author: entry → the Atom feed's own (RFC 4287 §4.2.1) → configured → feed title */
    const char *author = has(e->author_name) ? e->author_name : has(e->author) ? e->author : NULL;
    if (author == NULL && feed != NULL && feed->format != NULL &&
        strncmp(feed->format, "atom", 4) == 0 && has(feed->author_name))
        author = feed->author_name;
    if (author == NULL && has(d->author))
        author = d->author;
    if (author == NULL && feed != NULL && has(feed->title))
        author = feed->title;
    if ((a->author = strdup(author ? author : "")) == NULL)
        goto fail;

    a->date = e->published != PARSE_NO_DATE ? e->published
              : e->updated != PARSE_NO_DATE ? e->updated
                                            : d->now;

    /* headimg: media:content / image enclosure → first <img> → configured */
    if (has(e->image))
        a->headimg = strdup(e->image);
    else if ((a->headimg = first_img(a->body)) == NULL && has(d->headimg))
        a->headimg = strdup(d->headimg);
    a->thumbnail = dup_or_null(has(e->thumbnail) ? e->thumbnail : a->headimg);
    a->comments = d->comments;
    if ((a->summary = parse_utf8_prefix(plain_body, SUMMARY_CHARS)) == NULL)
        goto fail;
    a->source = dup_or_null(d->source);
    free(plain_body);
    parse_cleaner_free(own);
    *out = a;
    return 0;
fail:
    free(plain_body);
    parse_cleaner_free(own);
    parse_article_free(a);
    return rc;
}

void
parse_article_free(struct parse_article *a)
{
    if (a == NULL)
        return;
    free(a->title);
    free(a->link);
    free(a->guid);
    for (size_t i = 0; i < a->ncategories; i++)
        free(a->categories[i]);
    free(a->categories);
    free(a->author);
    free(a->headimg);
    free(a->thumbnail);
    free(a->summary);
    free(a->body);
    free(a->source);
    free(a);
}
