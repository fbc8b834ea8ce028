/* parse/article/article.c — the article model (SPEC §3): one parsed entry, its feed
 * and the feed's configured defaults become one normalized article, each
 * field by its rule in its order of precedence. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "parse/article/xmldata_int.h"
#include "parse/buf_int.h"
#include "parse/feed/feed_int.h"
#include "parse/input/decode_int.h"
#include "parse/mojibake_int.h"
#include "parse/parse.h"

#define TITLE_FROM_BODY 80
#define SUMMARY_CHARS 200
#define EARLIEST_DATE 788918400 /* 1995-01-01T00:00:00Z: earlier dates are CMS defaults */
#define FUTURE_SLACK 600        /* a date this far past first seen is still believed */

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
    return feed_add_category(list, n, term);
}

static int
is_web_url(const char *s)
{
    return s != NULL && (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0);
}

/* `url` made absolute against `base` when it is relative, into *out: a new
 * string when the result is an http(s) URL, else NULL (a javascript:, data:
 * or unresolvable URL is no link and no image). Returns 0, -ENOMEM. */
static int
web_url(const char *url, const char *base, char **out)
{
    *out = NULL;
    if (!has(url))
        return 0;
    char *r = is_web_url(url) || !is_web_url(base) ? strdup(url) : parse_url_resolve(base, url);
    if (r == NULL)
        return -ENOMEM;
    if (is_web_url(r))
        *out = r;
    else
        free(r);
    return 0;
}

/* The decoded value of attribute `name` in the tag at `tag` ('<'), or NULL;
 * *end is set past the tag. The cleaner's serializer quotes every value with
 * '"' and escapes '"', '<', '>' and '&' inside it. */
static char *
tag_attr(const char *tag, const char *name, const char **end)
{
    size_t nl = strlen(name);
    char *val = NULL;
    const char *p = tag + 1;
    while (*p && *p != '>') {
        if (*p == '"') { /* a value: skip it whole */
            const char *q = strchr(p + 1, '"');
            p = q ? q + 1 : p + strlen(p);
            continue;
        }
        if (val == NULL && p[-1] == ' ' && strncmp(p, name, nl) == 0 && p[nl] == '=' &&
            p[nl + 1] == '"') {
            const char *v = p + nl + 2, *q = strchr(v, '"');
            if (q == NULL)
                break;
            char *raw = strndup(v, (size_t)(q - v));
            val = raw ? parse_html_text(raw) : NULL; /* entities decoded */
            free(raw);
            p = q + 1;
            continue;
        }
        p++;
    }
    *end = *p ? p + 1 : p;
    return val;
}

/* Attribute `name` of the first <img> of a cleaned body that has it
 * non-empty (src: only an http(s) URL), or NULL. The body is cleaned first,
 * so a tracking pixel or an image inside a removed block never counts. */
static char *
first_img(const char *html, const char *name)
{
    const char *p = html;
    while ((p = strstr(p, "<img")) != NULL) {
        if (p[4] != ' ' && p[4] != '>' && p[4] != '/') {
            p += 4;
            continue;
        }
        char *v = tag_attr(p, name, &p);
        if (v != NULL && *v != '\0' && (strcmp(name, "src") != 0 || is_web_url(v)))
            return v;
        free(v);
    }
    return NULL;
}

/* s without trailing spaces (a prefix cut after a space), in place. */
static char *
rtrim(char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

static char *html_escape(const char *s);
static char *plain_text(const char *s);

/* Whether a value (HTML markup or plain text) has any text. */
static int
has_text(const char *v, int html)
{
    char *t = html ? parse_html_text(v) : plain_text(v);
    int yes = t != NULL && *t != '\0';
    free(t);
    return yes;
}

/* The richest of content:encoded / Atom content / description: the longest.
 * Atom content of an XML media type is data (SEC EDGAR's filing records):
 * never the body while a summary exists (*data stays 0), else *data = 1. */
static const char *
richest(const struct parse_entry *e, int *html, int *data)
{
    size_t lc = e->content ? strlen(e->content) : 0, ls = e->summary ? strlen(e->summary) : 0;
    *data = 0;
    if (e->content_xml && lc > 0) {
        if (ls > 0 && has_text(e->summary, e->summary_html)) {
            *html = e->summary_html;
            return e->summary;
        }
        *data = 1;
        *html = 1;
        return e->content;
    }
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
        case '&':
            buf_adds(&b, "&amp;");
            break;
        case '<':
            buf_adds(&b, "&lt;");
            break;
        case '>':
            buf_adds(&b, "&gt;");
            break;
        default:
            buf_addc(&b, *s);
            break;
        }
    }
    return buf_steal(&b);
}

/* Plain text `s` (not markup) with its white space collapsed, as
 * parse_html_text gives it for markup: a new string or NULL. */
static char *
plain_text(const char *s)
{
    char *esc = html_escape(s);
    char *t = esc ? parse_html_text(esc) : NULL;
    free(esc);
    return t;
}

/* A plain-text field (title, author, category) from its raw value: the text
 * rule (tags stripped when html, entities decoded, white space collapsed) and
 * double-encoded UTF-8 undone once (parse/mojibake.c) — tried on the raw value
 * first, where a U+00A0 that is half of "Ã\u00a0" (à) is not yet white space,
 * else on the text, where entity-written mojibake has been decoded. A new
 * string or NULL. */
static char *
field_text(const char *raw, int html)
{
    char *r = strdup(raw ? raw : "");
    if (r == NULL)
        return NULL;
    int fixed = parse_mojibake_repair(r);
    char *t = html ? parse_html_text(r) : plain_text(r);
    free(r);
    if (t != NULL && !fixed)
        parse_mojibake_repair(t);
    return t;
}

/* Whether a publisher's date can be believed (SPEC §3): not before 1995 (a
 * CMS's 1970), not more than 10 minutes past the moment it was first seen
 * (a zone written wrong, a date years ahead). */
static int
believed(int64_t t, int64_t seen)
{
    int64_t latest = seen > INT64_MAX - FUTURE_SLACK ? INT64_MAX : seen + FUTURE_SLACK;
    return t != PARSE_NO_DATE && t >= EARLIEST_DATE && t <= latest;
}

/* The last path segment of an http(s) link made readable, or NULL:
 * "…/2024/06/tesla-cuts-prices-again.html?x=1" → "tesla cuts prices again".
 * Percent escapes decoded (the segment is dropped unless that gives UTF-8);
 * an extension goes; separators (- _ + .) become spaces; a segment without a
 * letter (an id, a date) is no title. A new string, or NULL. */
static char *
link_words(const char *link)
{
    const char *path = is_web_url(link) ? strchr(strstr(link, "://") + 3, '/') : NULL;
    if (path == NULL)
        return NULL;
    size_t end = strcspn(path, "?#"), start;
    while (end > 0 && path[end - 1] == '/')
        end--;
    for (start = end; start > 0 && path[start - 1] != '/'; start--)
        ;
    const char *seg = path + start, *dot = NULL;
    size_t n = end - start;
    for (size_t i = 1; i < n; i++)
        if (seg[i] == '.')
            dot = seg + i;
    if (dot != NULL && seg + n - dot <= 6) /* ".html", ".shtml", ".php" */
        n = (size_t)(dot - seg);
    struct buf b = {0};
    int letter = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)seg[i];
        if (c == '%' && i + 2 < n && isxdigit((unsigned char)seg[i + 1]) &&
            isxdigit((unsigned char)seg[i + 2])) {
            char hex[3] = {seg[i + 1], seg[i + 2], '\0'};
            c = (unsigned char)strtoul(hex, NULL, 16);
            i += 2;
        }
        if (c == '-' || c == '_' || c == '+' || c == '.')
            c = ' ';
        letter |= isalpha(c) || c >= 0x80;
        buf_addc(&b, (char)c);
    }
    char *raw = buf_steal(&b), *t = NULL;
    size_t bad = 1;
    if (raw != NULL && letter && decode_validate("UTF-8", raw, strlen(raw), &bad) == 0 && bad == 0)
        t = plain_text(raw); /* white space collapsed, controls dropped */
    free(raw);
    if (t != NULL && *t == '\0') {
        free(t);
        t = NULL;
    }
    return t;
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

/* body: cleaned HTML of the richest text; plain text is escaped first, XML
 * data becomes a definition list; relative URLs are read against the entry's
 * link. Its plain text into *plain. 0, or a negative errno. */
static int
article_body(struct parse_article *a, const struct parse_entry *e,
             const struct parse_cleaner *cleaner, char **plain)
{
    int html = 0, data = 0;
    const char *raw = richest(e, &html, &data);
    char *escaped = NULL;
    if (raw != NULL && data && (raw = escaped = xmldata_html(raw)) == NULL)
        return -ENOMEM;
    if (raw != NULL && !html && (raw = escaped = html_escape(raw)) == NULL)
        return -ENOMEM;
    const char *base = a->link != NULL ? a->link : e->base;
    int rc = parse_clean(cleaner, raw ? raw : "", raw ? strlen(raw) : 0, base, &a->body);
    free(escaped);
    if (rc < 0)
        return rc;
    return (*plain = parse_html_text(a->body)) == NULL ? -ENOMEM : 0;
}

/* date: published → updated → first seen, each publisher date only when it is
 * believed; the first one not believed is kept beside it */
static void
article_date(struct parse_article *a, const struct parse_entry *e, int64_t seen)
{
    a->date = believed(e->published, seen) ? e->published
              : believed(e->updated, seen) ? e->updated
                                           : seen;
    if (e->published != PARSE_NO_DATE && !believed(e->published, seen)) {
        a->date_rejected = 1;
        a->rejected_date = e->published;
    } else if (e->updated != PARSE_NO_DATE && !believed(e->updated, seen)) {
        a->date_rejected = 1;
        a->rejected_date = e->updated;
    }
}

/* guid: id, else link, else a hash of title and date (the same item gets the
 * same guid on every fetch; the two parts are kept apart so that "a" + "12"
 * and "a1" + "2" differ). 0 or -ENOMEM. */
static int
article_guid(struct parse_article *a, const struct parse_entry *e)
{
    if (has(e->id)) {
        a->guid = strdup(e->id);
    } else if (a->link != NULL || has(e->link)) {
        a->guid = strdup(a->link != NULL ? a->link : e->link);
    } else {
        char tmp[48], when[32];
        snprintf(when, sizeof(when), "%" PRId64,
                 e->published != PARSE_NO_DATE ? e->published : e->updated);
        uint64_t h = fnv1a(0xcbf29ce484222325ULL, a->title);
        h = fnv1a((h ^ 0xFF) * 0x100000001b3ULL, when); /* 0xFF: never in UTF-8 */
        snprintf(tmp, sizeof(tmp), "urn:finfeed:%016" PRIx64, h);
        a->guid = strdup(tmp);
    }
    return a->guid == NULL ? -ENOMEM : 0;
}

/* title, never empty, when the entry's and the body's gave none: the first
 * image's alt → the link's last path segment made readable → "(untitled) —
 * FEED, DATE". 0 or -ENOMEM. */
static int
article_title_fallback(struct parse_article *a, const struct parse_feed *feed,
                       const struct parse_article_defaults *d)
{
    for (int step = 0; step < 2 && !has(a->title); step++) {
        char *words = step == 0 ? first_img(a->body, "alt") : link_words(a->link);
        if (words == NULL)
            continue;
        free(a->title);
        a->title = rtrim(parse_utf8_prefix(words, TITLE_FROM_BODY));
        free(words);
        if (a->title == NULL)
            return -ENOMEM;
    }
    if (has(a->title))
        return 0;
    const char *ft = feed != NULL && has(feed->title) ? feed->title : d->source;
    char day[32], *name = field_text(ft, feed != NULL && has(feed->title));
    if (name == NULL)
        return -ENOMEM;
    parse_date_iso(a->date, day, sizeof(day));
    day[10] = '\0'; /* YYYY-MM-DD */
    size_t n = strlen(name) + 64;
    free(a->title);
    if ((a->title = malloc(n)) != NULL)
        snprintf(a->title, n, "(untitled) \xe2\x80\x94 %s%s%s", name, *name ? ", " : "", day);
    free(name);
    return a->title == NULL ? -ENOMEM : 0;
}

/* categories: configured first, in order, then the entry's own; each once.
 * author: entry → the Atom feed's own (RFC 4287 §4.2.1) → configured → feed
 * title. 0 or -ENOMEM. */
static int
article_people_and_terms(struct parse_article *a, const struct parse_feed *feed,
                         const struct parse_entry *e, const struct parse_article_defaults *d)
{
    for (size_t i = 0; i < d->ncategories; i++)
        if (add_unique(&a->categories, &a->ncategories, d->categories[i]) < 0)
            return -ENOMEM;
    for (size_t i = 0; i < e->ncategories; i++) {
        char *c = field_text(e->categories[i], 0);
        int r = c ? add_unique(&a->categories, &a->ncategories, c) : -ENOMEM;
        free(c);
        if (r < 0)
            return -ENOMEM;
    }
    const char *author = has(e->author_name) ? e->author_name : has(e->author) ? e->author : NULL;
    if (author == NULL && feed != NULL && feed->format != NULL &&
        strncmp(feed->format, "atom", 4) == 0)
        author = has(feed->author_name) ? feed->author_name
                 : has(feed->author)    ? feed->author
                                        : NULL;
    if (author == NULL && has(d->author))
        author = d->author;
    int markup = 0; /* a feed's title is kept as written (Atom: HTML) */
    if (author == NULL && feed != NULL && has(feed->title)) {
        author = feed->title;
        markup = 1;
    }
    return (a->author = field_text(author, markup)) == NULL ? -ENOMEM : 0;
}

/* headimg: media:content / image enclosure → first <img> of the cleaned body →
 * configured; only http(s) images (the front matter and the output feeds carry
 * it as it is). thumbnail: media:thumbnail → headimg. 0 or -ENOMEM. */
static int
article_images(struct parse_article *a, const struct parse_entry *e,
               const struct parse_article_defaults *d)
{
    const char *img_base = a->link != NULL ? a->link : e->base;
    const char *img = e->image; /* media:content (JSON Feed: image) */
    for (size_t i = 0; img == NULL && i < e->nenclosures; i++)
        if (e->enclosures[i].type != NULL && strncasecmp(e->enclosures[i].type, "image/", 6) == 0)
            img = e->enclosures[i].url;
    if (web_url(img, img_base, &a->headimg) < 0)
        return -ENOMEM;
    if (a->headimg == NULL)
        a->headimg = first_img(a->body, "src");
    if (a->headimg == NULL && has(d->headimg) && (a->headimg = strdup(d->headimg)) == NULL)
        return -ENOMEM;
    if (web_url(e->thumbnail, img_base, &a->thumbnail) < 0)
        return -ENOMEM;
    if (a->thumbnail == NULL && a->headimg != NULL && (a->thumbnail = strdup(a->headimg)) == NULL)
        return -ENOMEM;
    return 0;
}

/* tickers (SPEC §12): the feed's tickers_add first, then the instruments
 * the finder reads in the title and the body's text (none with `tickers =
 * no`), each once. 0 or -ENOMEM. */
static int
article_tickers(struct parse_article *a, const char *plain_body,
                const struct parse_article_defaults *d)
{
    char **found = NULL;
    size_t nfound = 0;
    int rc = 0;
    for (size_t i = 0; i < d->ntickers_add; i++)
        if (add_unique(&a->tickers, &a->ntickers, d->tickers_add[i]) < 0)
            return -ENOMEM;
    if (d->no_tickers || d->find_tickers == NULL)
        return 0;
    if (d->find_tickers(d->find_tickers_arg, a->title, plain_body ? plain_body : "", &found,
                        &nfound) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < nfound; i++) {
        if (rc == 0 && add_unique(&a->tickers, &a->ntickers, found[i]) < 0)
            rc = -ENOMEM;
        free(found[i]);
    }
    free(found);
    return rc;
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

    const struct parse_cleaner *cleaner = d->cleaner;
    if (cleaner == NULL) {
        struct parse_clean_opts co = {0};
        char err[128];
        if ((rc = parse_cleaner_new(&co, &own, err, sizeof(err))) < 0)
            goto fail;
        cleaner = own;
    }
    /* link: the entry's alternate link, absolute; a relative one left by the
     * parser (no xml:base, no document URL) is read against the channel's
     * link, and one that is no http(s) URL (javascript:) is no link */
    rc = -ENOMEM;
    if (web_url(e->link, feed ? feed->link : NULL, &a->link) < 0)
        goto fail;
    if ((rc = article_body(a, e, cleaner, &plain_body)) < 0)
        goto fail;
    article_date(a, e, d->now > 0 ? d->now : (int64_t)time(NULL));

    /* title: tags stripped, entities decoded, white space collapsed */
    rc = -ENOMEM;
    if (has(e->title) &&
        (a->title = field_text(e->title, e->title_html)) == NULL)
        goto fail;
    if (!has(a->title)) {
        free(a->title);
        if ((a->title = rtrim(parse_utf8_prefix(plain_body, TITLE_FROM_BODY))) == NULL)
            goto fail;
    }
    /* the title's fallbacks come after the guid, so that an item's hash guid
     * stays what it always was */
    if ((rc = article_guid(a, e)) < 0 || (rc = article_title_fallback(a, feed, d)) < 0 ||
        (rc = article_people_and_terms(a, feed, e, d)) < 0 || (rc = article_images(a, e, d)) < 0)
        goto fail;
    rc = -ENOMEM;
    a->comments = d->comments;
    if ((a->summary = rtrim(parse_utf8_prefix(plain_body, SUMMARY_CHARS))) == NULL)
        goto fail;
    if (has(d->source) && (a->source = strdup(d->source)) == NULL)
        goto fail;
    if ((rc = article_tickers(a, plain_body, d)) < 0)
        goto fail;
    a->text = plain_body; /* taken */
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
    for (size_t i = 0; i < a->ntickers; i++)
        free(a->tickers[i]);
    free(a->tickers);
    free(a->text);
    free(a);
}
