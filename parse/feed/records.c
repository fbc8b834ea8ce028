/* parse/feed/records.c — the feed and entry records of parse.h: freeing them,
 * and the helpers the format parsers fill them with (copies, categories,
 * enclosures, relative URLs inside HTML values made absolute). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/feed/feed_int.h"

char *
feed_strdup(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

int
feed_add_category(char ***list, size_t *n, const char *term)
{
    char **l = realloc(*list, (*n + 1) * sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    *list = l;
    if ((l[*n] = strdup(term)) == NULL)
        return -ENOMEM;
    (*n)++;
    return 0;
}

void
feed_add_enclosure(struct parse_entry *e, const char *base, const char *url, const char *type,
                   const char *length)
{
    if (e == NULL)
        return;
    struct parse_enclosure *l = realloc(e->enclosures, (e->nenclosures + 1) * sizeof(*l));
    if (l == NULL)
        return;
    e->enclosures = l;
    struct parse_enclosure *x = &l[e->nenclosures++];
    x->url = parse_url_resolve(base, url);
    x->type = type != NULL ? parse_html_text(type) : NULL; /* plain text: the text rule */
    x->length = feed_strdup(length);
}

static int
is_relative(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == ':')
            return 0;
        if (!isalnum((unsigned char)c) && c != '+' && c != '-' && c != '.')
            return 1;
    }
    return 1;
}

char *
feed_html_resolve(const char *html, const char *base)
{
    struct buf out = {0};
    const char *p = html, *copied = html;
    while ((p = strchr(p, '<')) != NULL) {
        p++;
        if (!isalpha((unsigned char)*p))
            continue;
        while (*p && *p != '>') {
            /* attribute name */
            while (*p && (isspace((unsigned char)*p) || *p == '/'))
                p++;
            const char *name = p;
            while (*p && !isspace((unsigned char)*p) && *p != '=' && *p != '>')
                p++;
            size_t nlen = (size_t)(p - name);
            while (isspace((unsigned char)*p))
                p++;
            if (*p != '=')
                continue;
            p++;
            while (isspace((unsigned char)*p))
                p++;
            char q = (*p == '"' || *p == '\'') ? *p++ : 0;
            const char *v = p;
            while (*p && (q ? *p != q : (!isspace((unsigned char)*p) && *p != '>')))
                p++;
            const char *span = v; /* replaced whole: href=" /x " loses its spaces */
            size_t span_len = (size_t)(p - v), vlen = span_len;
            if (q && *p == q)
                p++;
            while (vlen > 0 && isspace((unsigned char)*v))
                v++, vlen--;
            while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
                vlen--;
            int url_attr = (nlen == 4 && strncasecmp(name, "href", 4) == 0) ||
                           (nlen == 3 && strncasecmp(name, "src", 3) == 0);
            if (!url_attr || vlen == 0 || !is_relative(v, vlen))
                continue;
            char *ref = strndup(v, vlen);
            char *abs = ref ? parse_url_resolve(base, ref) : NULL;
            if (abs != NULL) {
                buf_add(&out, copied, (size_t)(span - copied));
                buf_adds(&out, abs);
                copied = span + span_len;
            }
            free(ref);
            free(abs);
        }
        if (*p == '\0')
            break;
    }
    buf_adds(&out, copied);
    return buf_steal(&out);
}

void
parse_entry_free(struct parse_entry *e)
{
    if (e == NULL)
        return;
    free(e->title);
    free(e->link);
    free(e->id);
    free(e->author);
    free(e->author_name);
    free(e->summary);
    free(e->content);
    free(e->comments);
    free(e->image);
    free(e->thumbnail);
    free(e->base);
    for (size_t i = 0; i < e->ncategories; i++)
        free(e->categories[i]);
    free(e->categories);
    for (size_t i = 0; i < e->nenclosures; i++) {
        free(e->enclosures[i].url);
        free(e->enclosures[i].type);
        free(e->enclosures[i].length);
    }
    free(e->enclosures);
    free(e);
}

void
parse_feed_free(struct parse_feed *f)
{
    if (f == NULL)
        return;
    free(f->title);
    free(f->link);
    free(f->subtitle);
    free(f->author);
    free(f->author_name);
    free(f->language);
    free(f->id);
    free(f->image);
    free(f->hub);
    free(f->self);
    for (size_t i = 0; i < f->ncategories; i++)
        free(f->categories[i]);
    free(f->categories);
    free(f);
}
