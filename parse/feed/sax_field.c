/* parse/feed/sax_field.c — values into the record fields in the SAX2 feed
 * parser: each field by the priority of the tag it came from (tag_table.c),
 * RSS description/summary pairs, dates read in the feed's zone, links
 * resolved against xml:base, authors as "Name (email)". */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "parse/feed/sax_parser_int.h"

static const char *
zone(const struct sax *s)
{
    if (s->opts->timezone != NULL)
        return s->opts->timezone;
    return parse_zone_for_language(s->feed->language);
}

static int64_t
read_date(const struct sax *s, const char *text)
{
    int64_t t;
    if (text == NULL || parse_date(text, zone(s), &t) < 0)
        return PARSE_NO_DATE;
    return t;
}

/* The text rule of titles (SPEC §3: tags stripped, entities decoded, white
 * space collapsed) for a plain-text field: a dc:creator of
 * "<script>alert("x")</script>" is no author, and must not reach the
 * "Name (email)" split below as markup. Takes v; a new string, or v itself
 * when memory ran out. */
static char *
text_rule(char *v)
{
    char *t = v != NULL ? parse_html_text(v) : NULL;
    if (t == NULL)
        return v;
    free(v);
    return t;
}

void
sax_store_person(char **display, char **name_only, const char *raw_name, const char *raw_email)
{
    struct buf b = {0};
    char *name = text_rule(feed_strdup(raw_name)), *email = text_rule(feed_strdup(raw_email));
    if (name && *name && email && *email) {
        buf_adds(&b, name);
        buf_adds(&b, " (");
        buf_adds(&b, email);
        buf_addc(&b, ')');
    } else if (name && *name) {
        buf_adds(&b, name);
    } else if (email && *email) {
        buf_adds(&b, email);
    } else {
        buf_free(&b);
        goto out;
    }
    set_str(display, buf_steal(&b));
    set_str(name_only, feed_strdup(name && *name ? name : email));
out:
    free(name);
    free(email);
}

/* RSS author text "Name (email)", "email (Name)", "Name <email>": the name. */
static char *
rss_author_name(const char *v)
{
    const char *lp = strchr(v, '('), *lt = strchr(v, '<');
    if (lp != NULL) {
        const char *rp = strchr(lp, ')');
        if (rp != NULL) {
            int before_is_mail = memchr(v, '@', (size_t)(lp - v)) != NULL;
            if (before_is_mail)
                return sax_trim_dup(lp + 1, (size_t)(rp - lp - 1));
            return sax_trim_dup(v, (size_t)(lp - v));
        }
    }
    if (lt != NULL && lt > v)
        return sax_trim_dup(v, (size_t)(lt - v));
    if (strchr(v, '@') != NULL && strchr(v, ' ') == NULL)
        return NULL; /* a bare e-mail address names nobody */
    return feed_strdup(v);
}

/* The fields that are not one value in a slot (categories, dates, ttl) and the
 * RSS summary/description pair: 1 when v (taken) was dealt with here, 0 when
 * it goes to its slot by priority. */
static int
assign_special(struct sax *s, const struct feed_tag *tag, unsigned ctx, char *v, int html)
{
    struct parse_entry *e = s->entry;
    struct parse_feed *f = s->feed;
    signed char *prio = ctx == CTX_ENTRY ? s->eprio : s->fprio;

    switch (tag->field) {
    case F_CATEGORY:
        if (*v) {
            if (ctx == CTX_ENTRY)
                feed_add_category(&e->categories, &e->ncategories, v);
            else
                feed_add_category(&f->categories, &f->ncategories, v);
        }
        free(v);
        return 1;
    case F_TAGS: {
        char *save = NULL;
        for (char *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            char *term = sax_trim_dup(t, strlen(t));
            if (term && *term)
                feed_add_category(&e->categories, &e->ncategories, term);
            free(term);
        }
        free(v);
        return 1;
    }
    case F_PUBLISHED:
    case F_UPDATED: {
        int64_t t = read_date(s, v);
        free(v);
        if (t == PARSE_NO_DATE || !takes(&prio[tag->field], tag->prio))
            return 1;
        if (ctx == CTX_ENTRY)
            *(tag->field == F_PUBLISHED ? &e->published : &e->updated) = t;
        else
            *(tag->field == F_PUBLISHED ? &f->published : &f->updated) = t;
        return 1;
    }
    case F_TTL:
        f->ttl = strtol(v, NULL, 10);
        free(v);
        return 1;
    case F_SUMMARY:
        /* RSS: a summary and a description together: the first is the summary,
         * the second the content. */
        if (ctx == CTX_ENTRY && s->entry_has_desc && (tag->ns == NS_NONE || tag->ns == NS_CORE)) {
            if (e->content == NULL) {
                e->content = v;
                e->content_html = html;
            } else {
                free(v);
            }
            return 1;
        }
        if (ctx == CTX_ENTRY && tag->ns == NS_CORE)
            s->entry_has_desc = 1;
        break;
    case F_CONTENT:
        if (e->content != NULL) { /* the first content element wins */
            free(v);
            return 1;
        }
        break;
    default:
        break;
    }
    return 0;
}

/* v (taken, resolved) into the feed's slot for tag's field. */
static void
assign_feed(struct sax *s, const struct feed_tag *tag, char *v)
{
    struct parse_feed *f = s->feed;
    switch (tag->field) {
    case F_TITLE: set_str(&f->title, v); return;
    case F_LINK:
        if (s->feed_link_rank > 1) {
            free(v);
            return;
        }
        s->feed_link_rank = 1;
        set_str(&f->link, v);
        return;
    case F_SUBTITLE: set_str(&f->subtitle, v); return;
    case F_AUTHOR:
        set_str(&f->author_name, rss_author_name(v));
        set_str(&f->author, v);
        return;
    case F_LANGUAGE:
        for (char *p = v; *p; p++)
            if (*p == '_')
                *p = '-';
        set_str(&f->language, v);
        return;
    case F_ID: set_str(&f->id, v); return;
    case F_IMAGE: set_str(&f->image, v); return;
    default: free(v); return;
    }
}

/* v (taken, resolved) into the entry's slot for tag's field; html: v is HTML. */
static void
assign_entry(struct sax *s, const struct feed_tag *tag, char *v, int html)
{
    struct parse_entry *e = s->entry;
    switch (tag->field) {
    case F_TITLE:
        set_str(&e->title, v);
        e->title_html = html;
        return;
    case F_LINK:
        if (s->link_rank > 1) {
            free(v);
            return;
        }
        s->link_rank = 1;
        set_str(&e->link, v);
        return;
    case F_ID: set_str(&e->id, v); return;
    case F_AUTHOR:
        set_str(&e->author_name, rss_author_name(v));
        set_str(&e->author, v);
        return;
    case F_SUMMARY:
        set_str(&e->summary, v);
        e->summary_html = html;
        return;
    case F_CONTENT:
        set_str(&e->content, v);
        e->content_html = html;
        e->content_xml = s->cap.data;
        return;
    case F_COMMENTS: set_str(&e->comments, v); return;
    default: free(v); return;
    }
}

void
sax_assign(struct sax *s, const struct feed_tag *tag, unsigned ctx, char *v, int html)
{
    signed char *prio = ctx == CTX_ENTRY ? s->eprio : s->fprio;
    const char *base = cur_base(s);

    if (ctx == CTX_ENTRY && s->entry == NULL) {
        free(v);
        return;
    }
    /* plain-text fields: the text rule first, before any splitting (RSS
     * authors, comma-separated tags) */
    if (tag->field == F_AUTHOR || tag->field == F_CATEGORY || tag->field == F_TAGS)
        v = text_rule(v);
    if (assign_special(s, tag, ctx, v, html))
        return;
    if (!takes(&prio[tag->field], tag->prio)) {
        free(v);
        return;
    }
    if (tag->kind == TAG_URL || (tag->kind == TAG_ID && base != NULL && strchr(v, ':') == NULL &&
                                 *v != '\0')) {
        char *abs = parse_url_resolve(base, v);
        if (abs != NULL) {
            free(v);
            v = abs;
        }
    }
    if (ctx == CTX_FEED)
        assign_feed(s, tag, v);
    else
        assign_entry(s, tag, v, html);
}
