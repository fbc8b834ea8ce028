/* parse/feed/jsonfeed.c — JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1)
 * read with jansson into the same records as the XML formats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "parse/feed/feed_int.h"
#include "parse/report_int.h"

/* A string value without its NUL characters: read with JSON_ALLOW_NUL, one
 * \u0000 in a title no longer rejects the feed, and the text drops it as the
 * XML path drops bytes that do not decode (counted in the report). A new
 * string, or NULL when v is no string (or on allocation failure). */
static char *
text(json_t *v, struct parse_report *r)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), k = 0;
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\0')
            out[k++] = s[i];
    out[k] = '\0';
    if (k < n) {
        r->problems |= PARSE_P_BAD_BYTES;
        parse_report_msg(r, "NUL characters (\\u0000) dropped from JSON strings");
    }
    return out;
}

static char *
str(json_t *obj, const char *key, struct parse_report *r)
{
    return text(json_object_get(obj, key), r);
}

/* A plain-text field (an author's name, a tag) through the
 * text rule of titles: tags stripped, entities decoded, white space
 * collapsed (SPEC §3). Takes v; a new string or NULL. The feed's title stays
 * as written, as in the XML formats: the article model reads it as markup. */
static char *
plain(char *v)
{
    char *t = v != NULL ? parse_html_text(v) : NULL;
    free(v);
    return t;
}

static char *
url(json_t *obj, const char *key, const char *base, struct parse_report *r)
{
    char *v = str(obj, key, r), *abs = v ? parse_url_resolve(base, v) : NULL;
    free(v);
    return abs;
}

static int64_t
date(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    int64_t t;
    if (!json_is_string(v) || parse_date(json_string_value(v), NULL, &t) < 0)
        return PARSE_NO_DATE;
    return t;
}

/* 1.1 "authors": [{name,url}], 1.0 "author": {name,url}: the first name. */
static char *
author(json_t *obj, struct parse_report *r)
{
    json_t *a = json_object_get(obj, "authors");
    if (json_is_array(a) && json_array_size(a) > 0)
        a = json_array_get(a, 0);
    else
        a = json_object_get(obj, "author");
    return json_is_object(a) ? plain(str(a, "name", r)) : NULL;
}

static int
item(json_t *it, const char *base, struct parse_feed *feed, parse_entry_cb cb, void *arg,
     struct parse_report *r)
{
    struct parse_entry *e = calloc(1, sizeof(*e));
    int rc = 0;
    if (e == NULL)
        return -ENOMEM;
    json_t *id = json_object_get(it, "id");
    if (json_is_string(id))
        e->id = text(id, r);
    else if (json_is_number(id)) { /* 1.0 feeds sometimes give numbers */
        char n[32];
        snprintf(n, sizeof(n), "%.0f", json_number_value(id));
        e->id = strdup(n);
    }
    e->link = url(it, "url", base, r);
    if (e->link == NULL)
        e->link = url(it, "external_url", base, r);
    e->title = str(it, "title", r);
    e->content = str(it, "content_html", r);
    e->content_html = e->content != NULL;
    if (e->content == NULL)
        e->content = str(it, "content_text", r);
    e->summary = str(it, "summary", r);
    e->image = url(it, "image", base, r);
    if (e->image == NULL)
        e->image = url(it, "banner_image", base, r);
    e->published = date(it, "date_published");
    e->updated = date(it, "date_modified");
    e->author = author(it, r);
    e->author_name = e->author ? strdup(e->author) : NULL;
    e->base = base ? strdup(base) : NULL;
    json_t *tags = json_object_get(it, "tags"), *v;
    size_t i;
    json_array_foreach(tags, i, v)
    {
        char *tag = plain(text(v, r));
        if (tag != NULL && *tag != '\0') /* a tag that was only NULs */
            feed_add_category(&e->categories, &e->ncategories, tag);
        free(tag);
    }
    json_t *att = json_object_get(it, "attachments");
    json_array_foreach(att, i, v)
    {
        json_t *sz = json_object_get(v, "size_in_bytes");
        char *u = str(v, "url", r), *mt = str(v, "mime_type", r);
        char len[32] = "";
        if (json_is_number(sz))
            snprintf(len, sizeof(len), "%.0f", json_number_value(sz));
        if (u != NULL)
            feed_add_enclosure(e, base, u, mt, len[0] ? len : NULL);
        free(u);
        free(mt);
    }
    r->nentries++;
    if (cb != NULL)
        rc = cb(arg, feed, e);
    parse_entry_free(e);
    return rc;
}

int
jsonfeed_parse(const char *buf, size_t len, const struct parse_opts *opts, parse_entry_cb cb,
               void *arg, struct parse_feed **feed_out, struct parse_report *r)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    struct parse_feed *feed = NULL;
    int rc = -EINVAL;
    if (root == NULL) {
        snprintf(r->message, sizeof(r->message), "not a feed: bad JSON at line %d: %s",
                 jerr.line, jerr.text);
        return -EINVAL;
    }
    json_t *version = json_object_get(root, "version");
    json_t *items = json_object_get(root, "items");
    if (!json_is_object(root) || !json_is_string(version) ||
        strncmp(json_string_value(version), "https://jsonfeed.org/version/", 29) != 0) {
        snprintf(r->message, sizeof(r->message),
                 "not a feed: JSON without a jsonfeed.org \"version\"");
        goto out;
    }
    rc = -ENOMEM;
    if ((feed = calloc(1, sizeof(*feed))) == NULL)
        goto out;
    const char *base = opts->base_url;
    feed->format = "json";
    feed->title = str(root, "title", r);
    feed->link = url(root, "home_page_url", base, r);
    feed->subtitle = str(root, "description", r);
    feed->language = str(root, "language", r);
    feed->author = author(root, r);
    feed->author_name = feed->author ? strdup(feed->author) : NULL;
    feed->id = url(root, "feed_url", base, r);
    feed->image = url(root, "icon", base, r);
    feed->self = url(root, "feed_url", base, r);
    /* JSON Feed 1.1 "hubs": [{"type": "WebSub", "url": …}]: the first WebSub one */
    json_t *hubs = json_object_get(root, "hubs"), *hub;
    size_t hi;
    json_array_foreach(hubs, hi, hub) {
        json_t *type = json_object_get(hub, "type");
        if (feed->hub == NULL && json_is_string(type) &&
            strcasecmp(json_string_value(type), "websub") == 0)
            feed->hub = url(hub, "url", base, r);
    }
    feed->updated = feed->published = PARSE_NO_DATE;
    rc = 0;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) if (json_is_object(it) &&
                                         (rc = item(it, base, feed, cb, arg, r)) != 0) break;
    if (rc == 0 && feed_out != NULL) {
        *feed_out = feed;
        feed = NULL;
    }
out:
    parse_feed_free(feed);
    json_decref(root);
    return rc;
}
