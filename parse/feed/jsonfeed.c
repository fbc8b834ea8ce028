/* parse/feed/jsonfeed.c — JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1)
 * read with jansson into the same records as the XML formats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "parse/feed/feed_int.h"

static char *
str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static char *
url(json_t *obj, const char *key, const char *base)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? parse_url_resolve(base, json_string_value(v)) : NULL;
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
author(json_t *obj)
{
    json_t *a = json_object_get(obj, "authors");
    if (json_is_array(a) && json_array_size(a) > 0)
        a = json_array_get(a, 0);
    else
        a = json_object_get(obj, "author");
    return json_is_object(a) ? str(a, "name") : NULL;
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
        e->id = strdup(json_string_value(id));
    else if (json_is_number(id)) { /* 1.0 feeds sometimes give numbers */
        char n[32];
        snprintf(n, sizeof(n), "%.0f", json_number_value(id));
        e->id = strdup(n);
    }
    e->link = url(it, "url", base);
    if (e->link == NULL)
        e->link = url(it, "external_url", base);
    e->title = str(it, "title");
    e->content = str(it, "content_html");
    e->content_html = e->content != NULL;
    if (e->content == NULL)
        e->content = str(it, "content_text");
    e->summary = str(it, "summary");
    e->image = url(it, "image", base);
    if (e->image == NULL)
        e->image = url(it, "banner_image", base);
    e->published = date(it, "date_published");
    e->updated = date(it, "date_modified");
    e->author = author(it);
    e->author_name = e->author ? strdup(e->author) : NULL;
    e->base = base ? strdup(base) : NULL;
    json_t *tags = json_object_get(it, "tags"), *v;
    size_t i;
    json_array_foreach(tags, i, v) if (json_is_string(v))
        feed_add_category(&e->categories, &e->ncategories, json_string_value(v));
    json_t *att = json_object_get(it, "attachments");
    json_array_foreach(att, i, v)
    {
        json_t *u = json_object_get(v, "url"), *sz = json_object_get(v, "size_in_bytes");
        if (!json_is_string(u))
            continue;
        char len[32] = "";
        if (json_is_number(sz))
            snprintf(len, sizeof(len), "%.0f", json_number_value(sz));
        json_t *mt = json_object_get(v, "mime_type");
        feed_add_enclosure(e, base, json_string_value(u),
                           json_is_string(mt) ? json_string_value(mt) : NULL, len[0] ? len : NULL);
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
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
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
    feed->title = str(root, "title");
    feed->link = url(root, "home_page_url", base);
    feed->subtitle = str(root, "description");
    feed->language = str(root, "language");
    feed->author = author(root);
    feed->author_name = feed->author ? strdup(feed->author) : NULL;
    feed->id = url(root, "feed_url", base);
    feed->image = url(root, "icon", base);
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
