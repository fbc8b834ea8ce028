/* daemon/emit/emit.h — the writers of finfeed's output formats, shared by
 * `finfeed parse`, `finfeed export` and the HTTP server: each format once. */
#ifndef FINFEED_EMIT_H
#define FINFEED_EMIT_H

#include <stdio.h>

#include "parse/parse.h"

/* Write `a` (borrowed) to `out` as a Markdown post with Hexo front matter,
 * byte for byte in the layout of SPEC §5.4: title and URLs in single quotes
 * with ' doubled, "categories: " with its trailing space, date in RFC 1123
 * GMT, optional keys omitted when empty, '{' and '}' of the body written
 * &#123; and &#125; (Hexo's template syntax). Returns 0 or -EIO. */
int emit_markdown(FILE *out, const struct parse_article *a);

struct store_article;

/* The same for an article as stored (categories from its JSON array). */
int emit_markdown_stored(FILE *out, const struct store_article *a);
/* emit_markdown_name for an article as stored. */
char *emit_markdown_name_stored(const struct store_article *a, char *buf, size_t size);

/* Write `a` as a post into directory `dir`: emit_markdown_stored, then a
 * last line that marks the file as this article's ("[//]: # (finfeed UID)",
 * a link reference definition no renderer shows). The name is
 * emit_markdown_name_stored unless a file of that name is not this
 * article's: then the same with "-" and 8 hex digits of the uid before
 * ".md". A post keeps the name it was first written under (also when the
 * link changes), a file of another article is never replaced, and a post
 * is only rewritten when its bytes changed, atomically (a temporary file in
 * `dir`, fsync'd, renamed over it). *written (may be NULL) is set to 1 when
 * the file was (re)written, 0 when it was already up to date. Returns 0,
 * -ENOMEM, -EEXIST (both names taken by other files), or -errno of the
 * file. */
int emit_markdown_write(const char *dir, const struct store_article *a, int *written);

/* A file name "YYYY-MM-DD-SLUG.md" for `a` into buf (size bytes): the date
 * of the article and a slug from the last segment of its link, else a hash of
 * its guid, so that the name is stable for the article. Returns buf. */
char *emit_markdown_name(const struct parse_article *a, char *buf, size_t size);

/* ---- Atom 1.0, RSS 2.0, JSON Feed 1.1 (SPEC §5.2), daemon/emit/emit_feed.c ---- */

enum emit_format { EMIT_ATOM, EMIT_RSS, EMIT_JSON };

/* About the rendered feed; strings borrowed. */
struct emit_feed_info {
    const char *title;    /* [output] title */
    const char *link;     /* [output] link: the site (HTML status page) */
    const char *self;     /* absolute URL of this rendering (Atom rel=self, JSON feed_url) */
    const char *id;       /* stable feed id (Atom id); NULL: self */
    const char *subtitle; /* or NULL */
    const char *hub;      /* the WebSub hub of this feed (SPEC §11): Atom and RSS
                           * rel="hub" links, JSON Feed `hubs`; NULL: none */
    /* whose tracking parameters (store_tracking_param) the entries' links lose
     * (SPEC §5.2); borrowed, must outlive the writer; NULL: links as stored */
    const struct store *tracking;
};

struct emit_writer;

/* A writer for one document. Returns 0, -ENOMEM. */
int emit_writer_new(enum emit_format format, const struct emit_feed_info *info,
                    struct emit_writer **out);
/* Add one entry (borrowed; copied into the document). Entries come newest
 * first and are written in that order. Returns 0, -ENOMEM. */
int emit_writer_add(struct emit_writer *w, const struct store_article *a);
/* The whole document: *doc (caller frees) and *len. The feed's updated time
 * is the latest of its entries' (now when there are none). Returns 0, -ENOMEM. */
int emit_writer_finish(struct emit_writer *w, char **doc, size_t *len);
void emit_writer_free(struct emit_writer *w);

/* MIME type of a format ("application/atom+xml; charset=utf-8", …). */
const char *emit_content_type(enum emit_format format);
/* "atom" | "rss" | "json" → format; -1 for anything else. */
int emit_format_of(const char *name);

/* ---- OPML 2.0 subscriptions, daemon/emit/emit_opml.c ---- */

/* One subscription: strings borrowed. */
struct emit_opml_feed {
    const char *name;
    const char *url;                /* user:password@ is left out of the output */
    const char *const *categories;
    size_t ncategories;
};

/* OPML 2.0 (http://opml.org/spec2.opml) of `n` feeds under `title`: one
 * outline each (type="rss", text, title, xmlUrl, htmlUrl, category). No
 * dateCreated, so the bytes only change with the subscriptions. *doc is the
 * caller's. Returns 0, -ENOMEM. */
int emit_opml(const char *title, const struct emit_opml_feed *feeds, size_t n, char **doc,
              size_t *len);

#endif
