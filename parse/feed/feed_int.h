/* parse/feed/feed_int.h — shared inside the feed room (and with article/): the
 * namespace table, the tag table of the XML feed formats (tag_table.c), JSON
 * Feed (jsonfeed.c), and the record helpers the format parsers share (records.c). */
#ifndef FINFEED_PARSE_FEED_INT_H
#define FINFEED_PARSE_FEED_INT_H

#include "parse/buf_int.h"
#include "parse/parse.h"

/* Namespaces finfeed understands, matched on the URI, never the prefix. */
enum feed_ns {
    NS_OTHER = 0,
    NS_NONE,     /* no namespace: RSS 0.9x/2.0 core */
    NS_RSS,      /* RSS 0.90, 1.0 and the Userland/Harvard RSS 2.0 URIs: core too */
    NS_RDF,      /* http://www.w3.org/1999/02/22-rdf-syntax-ns# */
    NS_ATOM,     /* Atom 1.0 http://www.w3.org/2005/Atom */
    NS_ATOM03,   /* Atom 0.3 http://purl.org/atom/ns# */
    NS_DC,       /* http://purl.org/dc/elements/1.1/ */
    NS_DCTERMS,  /* http://purl.org/dc/terms/ */
    NS_CONTENT,  /* http://purl.org/rss/1.0/modules/content/ */
    NS_MEDIA,    /* http://search.yahoo.com/mrss/ */
    NS_XHTML,    /* http://www.w3.org/1999/xhtml */
    NS_ITUNES,   /* http://www.itunes.com/dtds/podcast-1.0.dtd */
    NS_XML,      /* http://www.w3.org/XML/1998/namespace */
    NS_CORE,     /* in the tag table: NS_NONE or NS_RSS */
};

enum feed_ns feed_ns_of(const char *uri);

/* Per-entry fields a tag can fill; the order of the map rows for one field is
 * its priority (an earlier row is never replaced by a later one). */
enum feed_field {
    F_NONE = 0,
    F_TITLE,
    F_LINK,
    F_ID,
    F_AUTHOR,
    F_SUMMARY,
    F_CONTENT,
    F_PUBLISHED,
    F_UPDATED,
    F_CATEGORY,
    F_TAGS,      /* non-standard comma-separated <tags> */
    F_COMMENTS,
    F_SUBTITLE,  /* feed only */
    F_LANGUAGE,  /* feed only */
    F_TTL,       /* feed only */
    F_IMAGE,     /* feed: Atom logo/icon */
};

/* Where an element may sit: a direct child of an entry, or of the feed
 * (Atom feed, RSS/RDF channel). */
#define CTX_ENTRY 1u
#define CTX_FEED 2u

/* How an element's value is read. */
enum feed_tag_kind {
    TAG_TEXT,   /* text construct: plain, HTML or XHTML (Atom type=, RSS sniffed) */
    TAG_PLAIN,  /* plain text */
    TAG_URL,    /* a URL: resolved against the base in scope */
    TAG_ID,     /* Atom id: a relative id is resolved like a URL */
    TAG_GUID,   /* RSS guid: as written; a permalink stands in for a missing link */
    TAG_DATE,   /* a date string */
    TAG_PERSON, /* Atom person construct: name, email, uri children */
    TAG_TERM,   /* Atom category: the term attribute */
    TAG_BODY,   /* xhtml:body: its children serialized */
};

struct feed_tag {
    enum feed_ns ns;
    const char *name; /* local name */
    unsigned ctx;     /* CTX_ENTRY and/or CTX_FEED */
    enum feed_field field;
    int prio;         /* lower wins; equal: the later element replaces */
    enum feed_tag_kind kind;
};

/* The row for element (ns, name) as a direct child of `ctx`, or NULL. */
const struct feed_tag *feed_tag_find(enum feed_ns ns, const char *name, unsigned ctx);

/* JSON Feed 1.0/1.1 (jsonfeed.c): same contract as parse_feed_mem for a
 * document already decoded to UTF-8. */
int jsonfeed_parse(const char *buf, size_t len, const struct parse_opts *opts, parse_entry_cb cb,
                   void *arg, struct parse_feed **feed_out, struct parse_report *report);

/* ---- records.c ---- */

/* Copy helpers returning NULL only on allocation failure of a non-NULL input. */
char *feed_strdup(const char *s);
int feed_add_category(char ***list, size_t *n, const char *term);
/* Append an enclosure to e (strings borrowed and copied; url resolved). */
void feed_add_enclosure(struct parse_entry *e, const char *base, const char *url,
                        const char *type, const char *length);
/* Resolve relative href/src attribute values inside an HTML string against
 * base. Returns a new string, or NULL on allocation failure. */
char *feed_html_resolve(const char *html, const char *base);

#endif
