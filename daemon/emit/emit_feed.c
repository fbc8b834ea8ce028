/* daemon/emit/emit_feed.c — the Atom 1.0 (RFC 4287), RSS 2.0 and JSON Feed 1.1
 * writers (SPEC §5.2), shared by `finfeed export` and the HTTP server. Every
 * string passes the toolkit's escaper (emit_text.h), which repairs UTF-8 and
 * drops what XML 1.0 forbids, into one growing buffer; JSON Feed items are
 * built with jansson and streamed into it one by one. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "daemon/emit/emit.h"
#include "daemon/emit/emit_text.h"
#include "store/store.h"

#define NS_ATOM "http://www.w3.org/2005/Atom"
#define NS_MEDIA "http://search.yahoo.com/mrss/"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define JSONFEED_VERSION "https://jsonfeed.org/version/1.1"

/* The feed-level date is known only at finish: a fixed-width placeholder is
 * written in the header and overwritten then (emit_rfc3339 and emit_rfc1123
 * clamp to years 0001-9999, so both forms always have exactly these widths). */
#define ISO_PLACEHOLDER "0001-01-01T00:00:00Z"
#define RFC822_PLACEHOLDER "Mon, 01 Jan 0001 00:00:00 GMT"

struct emit_writer {
    enum emit_format format;
    char *title, *link, *self, *id, *subtitle, *hub; /* copies of emit_feed_info */
    const struct store *tracking;              /* borrowed, or NULL */
    struct emit_buf doc;                       /* the document so far */
    size_t date_at;      /* offset of the feed-level date placeholder in doc */
    struct emit_buf tmp; /* scratch: one filtered string for jansson */
    int64_t updated;     /* latest entry update so far */
    long n;              /* entries added */
    int finished;
};

/* A jansson string of s filtered (valid UTF-8, no forbidden characters).
 * New reference, or NULL on allocation failure. */
static json_t *
jstr(struct emit_writer *w, const char *s)
{
    w->tmp.len = 0;
    emit_buf_add(&w->tmp, "", 0);
    emit_buf_escapes(&w->tmp, s, EMIT_ESC_NONE);
    if (w->tmp.err)
        return NULL;
    return json_stringn_nocheck(w->tmp.data, w->tmp.len);
}

/* ---- small helpers ---- */

/* Whether nothing of s survives the filter (NULL, "", only C0 controls). A
 * scan that stops at the first kept byte: cheap for anything but garbage. */
static int
empty(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        if (*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r')
            return 0;
    return 1;
}

/* The entry's id: its uid (stable forever), else what is left. */
static const char *
entry_id(const struct store_article *a, char *buf, size_t size)
{
    if (!empty(a->uid))
        return a->uid;
    if (!empty(a->guid))
        return a->guid;
    snprintf(buf, size, "urn:finfeed:article:%lld", (long long)a->id);
    return buf;
}

/* MIME type of an image URL from the extension of its path; image/jpeg
 * when there is none or it is unknown (most feed images are JPEG). */
static const char *
image_type(const char *url)
{
    /* clang-format off */
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},   {"jpe", "image/jpeg"},
        {"jfif", "image/jpeg"}, {"png", "image/png"},    {"gif", "image/gif"},
        {"webp", "image/webp"}, {"avif", "image/avif"},  {"svg", "image/svg+xml"},
        {"bmp", "image/bmp"},   {"tif", "image/tiff"},   {"tiff", "image/tiff"},
        {"ico", "image/vnd.microsoft.icon"},             {"heic", "image/heic"},
    };
    /* clang-format on */
    size_t end = strcspn(url, "?#");
    const char *ext = NULL;
    for (size_t i = 0; i < end; i++) {
        if (url[i] == '/')
            ext = NULL;
        else if (url[i] == '.')
            ext = url + i + 1;
    }
    if (ext == NULL)
        return "image/jpeg";
    size_t n = (size_t)(url + end - ext);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strlen(types[i].ext) == n && strncasecmp(ext, types[i].ext, n) == 0)
            return types[i].type;
    return "image/jpeg";
}

/* A JSON array of strings (categories_json, sources_json); anything else —
 * NULL, bad JSON, another type — reads as no strings. New reference or NULL. */
static json_t *
string_array(const char *text)
{
    if (empty(text))
        return NULL;
    json_t *a = json_loads(text, 0, NULL);
    if (a != NULL && !json_is_array(a)) {
        json_decref(a);
        a = NULL;
    }
    return a;
}

/* The name of the article's first source. */
static const char *
first_source(const struct store_article *a, json_t *sources)
{
    if (!empty(a->feed))
        return a->feed;
    const char *s = json_string_value(json_array_get(sources, 0));
    return empty(s) ? NULL : s;
}

/* base + "feeds/" + NAME + ext: finfeed's own rendering of one source
 * (SPEC §5.1 `/feeds/NAME.atom`), NAME percent-encoded. */
static void
put_source_url(struct emit_buf *o, const char *base, const char *name, const char *ext)
{
    emit_buf_escapes(o, base, EMIT_ESC_ATTR);
    if (base[strlen(base) - 1] != '/')
        emit_buf_adds(o, "/");
    emit_buf_adds(o, "feeds/");
    emit_buf_pct(o, name);
    emit_buf_adds(o, ext);
}

/* <tag>text</tag> on its own line at `indent`. */
static void
element(struct emit_buf *o, const char *indent, const char *tag, const char *text)
{
    emit_buf_adds(o, indent);
    emit_buf_adds(o, "<");
    emit_buf_adds(o, tag);
    emit_buf_adds(o, ">");
    emit_buf_escapes(o, text, EMIT_ESC_TEXT);
    emit_buf_adds(o, "</");
    emit_buf_adds(o, tag);
    emit_buf_adds(o, ">\n");
}

/* An empty element whose last attribute is `value`: head is everything up
 * to that attribute's opening quote. */
static void
empty_element(struct emit_buf *o, const char *head, const char *value)
{
    emit_buf_adds(o, head);
    emit_buf_escapes(o, value, EMIT_ESC_ATTR);
    emit_buf_adds(o, "\"/>\n");
}

/* ---- Atom 1.0 (RFC 4287) ---- */

static void
atom_head(struct emit_writer *w)
{
    struct emit_buf *o = &w->doc;
    const char *id = w->id ? w->id : w->self ? w->self : w->link ? w->link : "urn:finfeed:feed";

    emit_buf_adds(o, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                     "<feed xmlns=\"" NS_ATOM "\" xmlns:media=\"" NS_MEDIA "\">\n");
    element(o, "  ", "id", id);
    element(o, "  ", "title", w->title);
    if (!empty(w->subtitle))
        element(o, "  ", "subtitle", w->subtitle);
    emit_buf_adds(o, "  <updated>");
    w->date_at = o->len;
    emit_buf_adds(o, ISO_PLACEHOLDER "</updated>\n");
    if (!empty(w->self))
        empty_element(o, "  <link rel=\"self\" type=\"application/atom+xml\" href=\"", w->self);
    if (!empty(w->hub)) /* W3C WebSub §4: discovery */
        empty_element(o, "  <link rel=\"hub\" href=\"", w->hub);
    if (!empty(w->link))
        empty_element(o, "  <link rel=\"alternate\" type=\"text/html\" href=\"", w->link);
    emit_buf_adds(o, "  <generator version=\"" FINFEED_VERSION "\">finfeed</generator>\n");
}

static void
atom_entry(struct emit_writer *w, const struct store_article *a, int64_t updated)
{
    struct emit_buf *o = &w->doc;
    char published[40], upd[40], id[48];
    json_t *cats = string_array(a->categories_json);
    json_t *sources = string_array(a->sources_json);
    const char *source = first_source(a, sources);
    /* RFC 4287 §4.1.2: every entry has an author; the article model already
     * falls back to its feed's title, this covers what is left. */
    const char *author = !empty(a->author) ? a->author : w->title;
    const char *thumb = !empty(a->thumbnail) ? a->thumbnail : a->headimg;
    size_t i;
    json_t *v;

    emit_buf_adds(o, "  <entry>\n");
    element(o, "    ", "id", entry_id(a, id, sizeof(id)));
    element(o, "    ", "title", a->title);
    if (!empty(a->link))
        empty_element(o, "    <link rel=\"alternate\" type=\"text/html\" href=\"", a->link);
    element(o, "    ", "published", emit_rfc3339(a->date, published, sizeof(published)));
    element(o, "    ", "updated", emit_rfc3339(updated, upd, sizeof(upd)));
    emit_buf_adds(o, "    <author>\n");
    element(o, "      ", "name", author);
    emit_buf_adds(o, "    </author>\n");
    json_array_foreach (cats, i, v) {
        if (empty(json_string_value(v)))
            continue;
        empty_element(o, "    <category term=\"", json_string_value(v));
    }
    if (!empty(a->summary)) {
        emit_buf_adds(o, "    <summary type=\"text\">");
        emit_buf_escapes(o, a->summary, EMIT_ESC_TEXT);
        emit_buf_adds(o, "</summary>\n");
    }
    /* Always present, so an entry never needs an alternate link (§4.1.2). */
    emit_buf_adds(o, "    <content type=\"html\">");
    emit_buf_escapes(o, a->body, EMIT_ESC_TEXT);
    emit_buf_adds(o, "</content>\n");
    if (!empty(a->headimg)) {
        emit_buf_adds(o, "    <link rel=\"enclosure\" type=\"");
        emit_buf_adds(o, image_type(a->headimg));
        empty_element(o, "\" href=\"", a->headimg);
    }
    if (!empty(thumb))
        empty_element(o, "    <media:thumbnail url=\"", thumb);
    /* §4.2.11: the feed the entry came from. Its id is finfeed's rendering of
     * that source when the site link is known (id is optional in a source);
     * its updated is when this entry last changed there. */
    if (source != NULL) {
        emit_buf_adds(o, "    <source>\n");
        if (!empty(w->link)) {
            emit_buf_adds(o, "      <id>");
            put_source_url(o, w->link, source, ".atom");
            emit_buf_adds(o, "</id>\n");
        }
        element(o, "      ", "title", source);
        element(o, "      ", "updated", upd);
        if (!empty(w->link)) {
            emit_buf_adds(o, "      <link rel=\"self\" type=\"application/atom+xml\" href=\"");
            put_source_url(o, w->link, source, ".atom");
            emit_buf_adds(o, "\"/>\n");
        }
        emit_buf_adds(o, "    </source>\n");
    }
    emit_buf_adds(o, "  </entry>\n");
    json_decref(sources);
    json_decref(cats);
}

/* ---- RSS 2.0 (https://www.rssboard.org/rss-specification) ---- */

static void
rss_head(struct emit_writer *w)
{
    struct emit_buf *o = &w->doc;

    emit_buf_adds(o, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                     "<rss version=\"2.0\" xmlns:atom=\"" NS_ATOM "\" xmlns:dc=\"" NS_DC
                     "\" xmlns:media=\"" NS_MEDIA "\">\n"
                     "  <channel>\n");
    element(o, "    ", "title", w->title);
    element(o, "    ", "link", !empty(w->link) ? w->link : w->self);
    element(o, "    ", "description", !empty(w->subtitle) ? w->subtitle : w->title);
    emit_buf_adds(o, "    <lastBuildDate>");
    w->date_at = o->len;
    emit_buf_adds(o, RFC822_PLACEHOLDER "</lastBuildDate>\n");
    emit_buf_adds(o, "    <generator>finfeed " FINFEED_VERSION "</generator>\n");
    if (!empty(w->self))
        empty_element(o, "    <atom:link rel=\"self\" type=\"application/rss+xml\" href=\"",
                      w->self);
    if (!empty(w->hub)) /* W3C WebSub §4: discovery */
        empty_element(o, "    <atom:link rel=\"hub\" href=\"", w->hub);
}

static void
rss_item(struct emit_writer *w, const struct store_article *a)
{
    struct emit_buf *o = &w->doc;
    char date[40], id[48];
    json_t *cats = string_array(a->categories_json);
    json_t *sources = string_array(a->sources_json);
    const char *source = first_source(a, sources);
    const char *thumb = !empty(a->thumbnail) ? a->thumbnail : a->headimg;
    size_t i;
    json_t *v;

    emit_buf_adds(o, "    <item>\n");
    element(o, "      ", "title", a->title);
    if (!empty(a->link))
        element(o, "      ", "link", a->link);
    emit_buf_adds(o, "      <guid isPermaLink=\"false\">");
    emit_buf_escapes(o, entry_id(a, id, sizeof(id)), EMIT_ESC_TEXT);
    emit_buf_adds(o, "</guid>\n");
    element(o, "      ", "pubDate", emit_rfc1123(a->date, date, sizeof(date)));
    /* RSS <author> must be an e-mail address; a name goes in dc:creator. */
    if (!empty(a->author))
        element(o, "      ", "dc:creator", a->author);
    json_array_foreach (cats, i, v) {
        if (!empty(json_string_value(v)))
            element(o, "      ", "category", json_string_value(v));
    }
    element(o, "      ", "description", a->body);
    if (!empty(a->headimg)) {
        emit_buf_adds(o, "      <enclosure url=\"");
        emit_buf_escapes(o, a->headimg, EMIT_ESC_ATTR);
        emit_buf_adds(o, "\" type=\"");
        emit_buf_adds(o, image_type(a->headimg));
        emit_buf_adds(o, "\" length=\"0\"/>\n");
    }
    if (!empty(thumb))
        empty_element(o, "      <media:thumbnail url=\"", thumb);
    /* <source> requires its url: finfeed's RSS rendering of that feed. */
    if (source != NULL && !empty(w->link)) {
        emit_buf_adds(o, "      <source url=\"");
        put_source_url(o, w->link, source, ".rss");
        emit_buf_adds(o, "\">");
        emit_buf_escapes(o, source, EMIT_ESC_TEXT);
        emit_buf_adds(o, "</source>\n");
    }
    emit_buf_adds(o, "    </item>\n");
    json_decref(sources);
    json_decref(cats);
}

/* ---- JSON Feed 1.1 (https://jsonfeed.org/version/1.1) ---- */

/* Set key to a filtered copy of s; skipped when s is empty and !always. */
static int
jset(struct emit_writer *w, json_t *obj, const char *key, const char *s, int always)
{
    if (empty(s) && !always)
        return 0;
    json_t *v = jstr(w, s);
    if (v == NULL || json_object_set_new_nocheck(obj, key, v) < 0)
        return -ENOMEM;
    return 0;
}

/* A new array of the non-empty strings of `from`, filtered. */
static json_t *
jstrings(struct emit_writer *w, json_t *from)
{
    json_t *arr = json_array(), *v;
    size_t i;
    if (arr == NULL)
        return NULL;
    json_array_foreach (from, i, v) {
        if (empty(json_string_value(v)))
            continue;
        if (json_array_append_new(arr, jstr(w, json_string_value(v))) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static int
on_json_dump(const char *buffer, size_t size, void *data)
{
    struct emit_buf *o = data;
    emit_buf_add(o, buffer, size);
    return o->err ? -1 : 0;
}

static int
json_item(struct emit_writer *w, const struct store_article *a, int64_t updated)
{
    int rc = -ENOMEM;
    char date[40], id[48];
    json_t *item = json_object(), *cats = NULL, *sources = NULL, *arr, *obj;

    if (item == NULL)
        goto out;
    cats = string_array(a->categories_json);
    sources = string_array(a->sources_json);
    if (jset(w, item, "id", entry_id(a, id, sizeof(id)), 1) < 0 ||
        jset(w, item, "url", a->link, 0) < 0 || jset(w, item, "title", a->title, 1) < 0 ||
        jset(w, item, "content_html", a->body, 1) < 0 ||
        jset(w, item, "summary", a->summary, 0) < 0 || jset(w, item, "image", a->headimg, 0) < 0 ||
        jset(w, item, "date_published", emit_rfc3339(a->date, date, sizeof(date)), 1) < 0 ||
        jset(w, item, "date_modified", emit_rfc3339(updated, date, sizeof(date)), 1) < 0)
        goto out;
    if (!empty(a->author)) {
        if ((arr = json_pack("[{so}]", "name", jstr(w, a->author))) == NULL ||
            json_object_set_new_nocheck(item, "authors", arr) < 0)
            goto out; /* pack "o" and *_set_new take their argument even on failure */
    }
    if (json_array_size(cats) > 0) {
        if ((arr = jstrings(w, cats)) == NULL || json_object_set_new_nocheck(item, "tags", arr) < 0)
            goto out;
    }
    /* An extension object (JSON Feed 1.1: keys starting with "_"): every feed
     * that carried the article, first source first; the publisher's own date
     * when it was not believed. */
    if (json_array_size(sources) > 0) {
        arr = jstrings(w, sources);
    } else if ((arr = json_array()) != NULL && !empty(a->feed) &&
               json_array_append_new(arr, jstr(w, a->feed)) < 0) {
        json_decref(arr);
        arr = NULL;
    }
    if (arr == NULL || (obj = json_pack("{so}", "sources", arr)) == NULL ||
        json_object_set_new_nocheck(item, "_finfeed", obj) < 0)
        goto out;
    /* a publisher's date not believed (SPEC §3): date_published is first seen */
    if (a->date_rejected &&
        jset(w, obj, "publisher_date", emit_rfc3339(a->rejected_date, date, sizeof(date)), 1) < 0)
        goto out;
    /* One item a line, compact: streamed, so no tree of every item is kept. */
    emit_buf_adds(&w->doc, w->n > 0 ? ",\n" : "\n");
    if (json_dump_callback(item, on_json_dump, &w->doc, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0)
        goto out;
    rc = w->doc.err;
out:
    json_decref(sources);
    json_decref(cats);
    json_decref(item);
    return rc;
}

/* The document up to its first item: the feed object without its closing
 * brace, then "items" (written last, so it can be streamed). */
static int
json_head(struct emit_writer *w)
{
    int rc = -ENOMEM;
    json_t *root = json_object();

    if (root == NULL ||
        json_object_set_new_nocheck(root, "version", json_string(JSONFEED_VERSION)) < 0 ||
        jset(w, root, "title", w->title, 1) < 0 || jset(w, root, "home_page_url", w->link, 0) < 0 ||
        jset(w, root, "feed_url", w->self, 0) < 0 ||
        jset(w, root, "description", w->subtitle, 0) < 0)
        goto out;
    if (!empty(w->hub)) { /* JSON Feed 1.1 `hubs`: W3C WebSub's discovery */
        json_t *hub = json_object(), *hubs = json_array();
        int ok = hub != NULL && hubs != NULL &&
                 json_object_set_new_nocheck(hub, "type", json_string("WebSub")) == 0 &&
                 jset(w, hub, "url", w->hub, 1) == 0 && json_array_append(hubs, hub) == 0;
        json_decref(hub);
        if (!ok) {
            json_decref(hubs);
            goto out;
        }
        if (json_object_set_new_nocheck(root, "hubs", hubs) < 0) /* the reference taken */
            goto out;
    }
    if (json_dump_callback(root, on_json_dump, &w->doc, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0)
        goto out;
    assert(w->doc.len > 0 && w->doc.data[w->doc.len - 1] == '}');
    w->doc.len--;
    emit_buf_adds(&w->doc, ",\"items\":[");
    rc = w->doc.err;
out:
    json_decref(root);
    return rc;
}

/* ---- the writer ---- */

static int
dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return 0;
    *out = strdup(s);
    return *out ? 0 : -ENOMEM;
}

int
emit_writer_new(enum emit_format format, const struct emit_feed_info *info,
                struct emit_writer **out)
{
    int rc = -ENOMEM;
    struct emit_writer *w = NULL;

    *out = NULL;
    if (format != EMIT_ATOM && format != EMIT_RSS && format != EMIT_JSON)
        return -EINVAL;
    if ((w = calloc(1, sizeof(*w))) == NULL)
        goto fail;
    w->format = format;
    w->tracking = info->tracking;
    if (dup_opt(!empty(info->title) ? info->title : "finfeed", &w->title) < 0 ||
        dup_opt(info->link, &w->link) < 0 || dup_opt(info->self, &w->self) < 0 ||
        dup_opt(info->id, &w->id) < 0 || dup_opt(info->subtitle, &w->subtitle) < 0 ||
        dup_opt(info->hub, &w->hub) < 0)
        goto fail;
    if (format == EMIT_ATOM)
        atom_head(w);
    else if (format == EMIT_RSS)
        rss_head(w);
    else if (json_head(w) < 0)
        goto fail;
    if (w->doc.err)
        goto fail;
    *out = w;
    return 0;
fail:
    emit_writer_free(w);
    return rc;
}

/* `link` less the tracking parameters of `s` (SPEC §5.2), the rest exactly as
 * written: the other parameters in their order and encoding, the fragment
 * kept, no "?" left when nothing is; the store keeps the original, so the
 * data stays and a changed list applies to every stored article. A new
 * string, or NULL on allocation failure. */
static char *
untracked_link(const struct store *s, const char *link)
{
    const char *q = strchr(link, '?'), *hash = strchr(link, '#');
    if (s == NULL || q == NULL || (hash != NULL && hash < q))
        return strdup(link);
    size_t qend = hash != NULL ? (size_t)(hash - link) : strlen(link);
    struct emit_buf b = {0};
    emit_buf_add(&b, link, (size_t)(q - link));
    int kept = 0, dropped = 0;
    const char *end = link + qend;
    for (const char *p = q + 1; p <= end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
        size_t n = (size_t)(stop - p);
        const char *eq = memchr(p, '=', n);
        if (n > 0 && store_tracking_param(s, p, eq ? (size_t)(eq - p) : n)) {
            dropped = 1;
        } else if (n > 0) {
            emit_buf_add(&b, kept++ ? "&" : "?", 1);
            emit_buf_add(&b, p, n);
        }
        p = stop + 1;
    }
    if (!dropped) { /* as written, empty parameters ("a=1&&b") included */
        free(b.data);
        return strdup(link);
    }
    emit_buf_adds(&b, link + qend);
    if (b.err) {
        free(b.data);
        return NULL;
    }
    char *out = emit_buf_take(&b, NULL);
    return out != NULL ? out : strdup(""); /* nothing was written */
}

int
emit_writer_add(struct emit_writer *w, const struct store_article *in)
{
    int rc = 0;
    /* An article never updated since it was first seen may carry 0. */
    int64_t updated = in->updated > 0 ? in->updated : in->date;

    if (w->finished)
        return -EINVAL;
    if (w->doc.err)
        return w->doc.err;
    struct store_article copy = *in, *a = &copy;
    char *link = NULL;
    if (!empty(in->link) && (copy.link = link = untracked_link(w->tracking, in->link)) == NULL)
        return w->doc.err = -ENOMEM;
    if (w->format == EMIT_ATOM)
        atom_entry(w, a, updated);
    else if (w->format == EMIT_RSS)
        rss_item(w, a);
    else
        rc = json_item(w, a, updated);
    free(link);
    if (rc == 0)
        rc = w->doc.err ? w->doc.err : w->tmp.err;
    if (rc < 0) {
        w->doc.err = rc; /* a half-written entry: the document is lost */
        return rc;
    }
    if (w->n == 0 || updated > w->updated)
        w->updated = updated;
    w->n++;
    return 0;
}

int
emit_writer_finish(struct emit_writer *w, char **doc, size_t *len)
{
    int rc = 0;
    char date[40];
    int64_t updated = w->n > 0 ? w->updated : (int64_t)time(NULL);

    *doc = NULL;
    *len = 0;
    if (w->finished)
        return -EINVAL;
    w->finished = 1;
    if (w->format == EMIT_ATOM) {
        emit_rfc3339(updated, date, sizeof(date));
        assert(strlen(date) == sizeof(ISO_PLACEHOLDER) - 1);
        if (w->doc.err == 0)
            memcpy(w->doc.data + w->date_at, date, sizeof(ISO_PLACEHOLDER) - 1);
        emit_buf_adds(&w->doc, "</feed>\n");
        rc = w->doc.err;
    } else if (w->format == EMIT_RSS) {
        emit_rfc1123(updated, date, sizeof(date));
        assert(strlen(date) == sizeof(RFC822_PLACEHOLDER) - 1);
        if (w->doc.err == 0)
            memcpy(w->doc.data + w->date_at, date, sizeof(RFC822_PLACEHOLDER) - 1);
        emit_buf_adds(&w->doc, "  </channel>\n</rss>\n");
        rc = w->doc.err;
    } else {
        emit_buf_adds(&w->doc, w->n > 0 ? "\n]}\n" : "]}\n");
        rc = w->doc.err;
    }
    if (rc < 0)
        return rc;
    /* The document may be cached for long (HTTP): the slack is given back. */
    *doc = emit_buf_take(&w->doc, len);
    return 0;
}

void
emit_writer_free(struct emit_writer *w)
{
    if (w == NULL)
        return;
    free(w->tmp.data);
    free(w->doc.data);
    free(w->subtitle);
    free(w->id);
    free(w->self);
    free(w->hub);
    free(w->link);
    free(w->title);
    free(w);
}

const char *
emit_content_type(enum emit_format format)
{
    switch (format) {
    case EMIT_ATOM:
        return "application/atom+xml; charset=utf-8";
    case EMIT_RSS:
        return "application/rss+xml; charset=utf-8";
    case EMIT_JSON:
        return "application/feed+json; charset=utf-8";
    }
    return "application/octet-stream";
}

int
emit_format_of(const char *name)
{
    static const char *const names[] = {
        [EMIT_ATOM] = "atom", [EMIT_RSS] = "rss", [EMIT_JSON] = "json"};
    for (int f = EMIT_ATOM; name != NULL && f <= EMIT_JSON; f++)
        if (strcmp(name, names[f]) == 0)
            return f;
    return -1;
}
