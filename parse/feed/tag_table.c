/* parse/feed/tag_table.c — the tag tables of the XML feed formats: namespace URIs,
 * and which element fills which field of an entry or of the feed, in priority
 * order. The SAX parser (sax.c) looks every element up here; no if-chains over names. */
#include <string.h>
#include <strings.h>

#include "parse/feed/feed_int.h"

/* Namespace URIs, sorted for bsearch. Several URIs name the same vocabulary. */
static const struct {
    const char *uri;
    enum feed_ns ns;
} ns_table[] = {
    {"http://backend.userland.com/rss", NS_RSS},
    {"http://backend.userland.com/rss2", NS_RSS},
    {"http://blogs.law.harvard.edu/tech/rss", NS_RSS},
    {"http://my.netscape.com/rdf/simple/0.9/", NS_RSS},
    {"http://purl.org/atom/ns#", NS_ATOM03},
    {"http://purl.org/dc/elements/1.1/", NS_DC},
    {"http://purl.org/dc/terms/", NS_DCTERMS},
    {"http://purl.org/rss/1.0/", NS_RSS},
    {"http://purl.org/rss/1.0/modules/content/", NS_CONTENT},
    {"http://search.yahoo.com/mrss", NS_MEDIA},
    {"http://search.yahoo.com/mrss/", NS_MEDIA},
    {"http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES},
    {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF},
    {"http://www.w3.org/1999/xhtml", NS_XHTML},
    {"http://www.w3.org/2005/Atom", NS_ATOM},
    {"http://www.w3.org/XML/1998/namespace", NS_XML},
};

enum feed_ns
feed_ns_of(const char *uri)
{
    if (uri == NULL || *uri == '\0')
        return NS_NONE;
    size_t lo = 0, hi = sizeof(ns_table) / sizeof(ns_table[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(uri, ns_table[mid].uri);
        if (c == 0)
            return ns_table[mid].ns;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    /* Atom 1.0 URIs written with a trailing slash or other case still mean Atom. */
    if (strncasecmp(uri, "http://www.w3.org/2005/atom", 27) == 0)
        return NS_ATOM;
    return NS_OTHER;
}

/* The field map: one row per (vocabulary, local name, context). Rows of the same
 * field are in priority order; `prio` is what sax_field.c compares (lower wins,
 * equal means the later element replaces the earlier, as feedparser does). */
static const struct feed_tag tags[] = {
    /* entry */
    {NS_CORE, "title", CTX_ENTRY, F_TITLE, 0, TAG_TEXT},
    {NS_ATOM, "title", CTX_ENTRY, F_TITLE, 0, TAG_TEXT},
    {NS_ATOM03, "title", CTX_ENTRY, F_TITLE, 0, TAG_TEXT},
    {NS_DC, "title", CTX_ENTRY, F_TITLE, 1, TAG_TEXT},
    {NS_CORE, "link", CTX_ENTRY, F_LINK, 0, TAG_URL},
    {NS_CORE, "guid", CTX_ENTRY, F_ID, 0, TAG_GUID},
    {NS_ATOM, "id", CTX_ENTRY, F_ID, 0, TAG_ID},
    {NS_ATOM03, "id", CTX_ENTRY, F_ID, 0, TAG_ID},
    {NS_CORE, "author", CTX_ENTRY, F_AUTHOR, 0, TAG_PLAIN},
    {NS_ATOM, "author", CTX_ENTRY, F_AUTHOR, 0, TAG_PERSON},
    {NS_ATOM03, "author", CTX_ENTRY, F_AUTHOR, 0, TAG_PERSON},
    {NS_DC, "creator", CTX_ENTRY, F_AUTHOR, 1, TAG_PLAIN},
    {NS_DC, "author", CTX_ENTRY, F_AUTHOR, 1, TAG_PLAIN},
    {NS_ITUNES, "author", CTX_ENTRY, F_AUTHOR, 2, TAG_PLAIN},
    {NS_CORE, "description", CTX_ENTRY, F_SUMMARY, 0, TAG_TEXT},
    {NS_CORE, "summary", CTX_ENTRY, F_SUMMARY, 0, TAG_TEXT},
    {NS_ATOM, "summary", CTX_ENTRY, F_SUMMARY, 0, TAG_TEXT},
    {NS_ATOM03, "summary", CTX_ENTRY, F_SUMMARY, 0, TAG_TEXT},
    {NS_DC, "description", CTX_ENTRY, F_SUMMARY, 1, TAG_TEXT},
    {NS_CONTENT, "encoded", CTX_ENTRY, F_CONTENT, 0, TAG_TEXT},
    {NS_ATOM, "content", CTX_ENTRY, F_CONTENT, 0, TAG_TEXT},
    {NS_ATOM03, "content", CTX_ENTRY, F_CONTENT, 0, TAG_TEXT},
    {NS_XHTML, "body", CTX_ENTRY, F_CONTENT, 0, TAG_BODY},
    {NS_CORE, "body", CTX_ENTRY, F_CONTENT, 0, TAG_BODY},
    {NS_CORE, "fullitem", CTX_ENTRY, F_CONTENT, 0, TAG_TEXT},
    {NS_CORE, "pubDate", CTX_ENTRY, F_PUBLISHED, 0, TAG_DATE},
    {NS_ATOM, "published", CTX_ENTRY, F_PUBLISHED, 0, TAG_DATE},
    {NS_ATOM03, "issued", CTX_ENTRY, F_PUBLISHED, 0, TAG_DATE},
    {NS_ATOM03, "published", CTX_ENTRY, F_PUBLISHED, 0, TAG_DATE},
    {NS_DCTERMS, "issued", CTX_ENTRY, F_PUBLISHED, 1, TAG_DATE},
    {NS_ATOM, "updated", CTX_ENTRY, F_UPDATED, 0, TAG_DATE},
    {NS_ATOM03, "modified", CTX_ENTRY, F_UPDATED, 0, TAG_DATE},
    {NS_ATOM03, "updated", CTX_ENTRY, F_UPDATED, 0, TAG_DATE},
    {NS_DC, "date", CTX_ENTRY, F_UPDATED, 1, TAG_DATE},
    {NS_DCTERMS, "modified", CTX_ENTRY, F_UPDATED, 1, TAG_DATE},
    {NS_CORE, "category", CTX_ENTRY, F_CATEGORY, 0, TAG_PLAIN},
    {NS_DC, "subject", CTX_ENTRY, F_CATEGORY, 0, TAG_PLAIN},
    {NS_ATOM, "category", CTX_ENTRY, F_CATEGORY, 0, TAG_TERM},
    {NS_ATOM03, "category", CTX_ENTRY, F_CATEGORY, 0, TAG_TERM},
    {NS_CORE, "tags", CTX_ENTRY, F_TAGS, 0, TAG_PLAIN},
    {NS_CORE, "comments", CTX_ENTRY, F_COMMENTS, 0, TAG_URL},
    /* feed */
    {NS_CORE, "title", CTX_FEED, F_TITLE, 0, TAG_TEXT},
    {NS_ATOM, "title", CTX_FEED, F_TITLE, 0, TAG_TEXT},
    {NS_ATOM03, "title", CTX_FEED, F_TITLE, 0, TAG_TEXT},
    {NS_DC, "title", CTX_FEED, F_TITLE, 1, TAG_TEXT},
    {NS_CORE, "link", CTX_FEED, F_LINK, 0, TAG_URL},
    {NS_CORE, "description", CTX_FEED, F_SUBTITLE, 0, TAG_TEXT},
    {NS_ATOM, "subtitle", CTX_FEED, F_SUBTITLE, 0, TAG_TEXT},
    {NS_ATOM03, "tagline", CTX_FEED, F_SUBTITLE, 0, TAG_TEXT},
    {NS_ATOM03, "subtitle", CTX_FEED, F_SUBTITLE, 0, TAG_TEXT},
    {NS_DC, "description", CTX_FEED, F_SUBTITLE, 1, TAG_TEXT},
    {NS_ATOM, "author", CTX_FEED, F_AUTHOR, 0, TAG_PERSON},
    {NS_ATOM03, "author", CTX_FEED, F_AUTHOR, 0, TAG_PERSON},
    {NS_CORE, "managingEditor", CTX_FEED, F_AUTHOR, 0, TAG_PLAIN},
    {NS_CORE, "author", CTX_FEED, F_AUTHOR, 0, TAG_PLAIN},
    {NS_DC, "creator", CTX_FEED, F_AUTHOR, 1, TAG_PLAIN},
    {NS_DC, "author", CTX_FEED, F_AUTHOR, 1, TAG_PLAIN},
    {NS_ITUNES, "author", CTX_FEED, F_AUTHOR, 2, TAG_PLAIN},
    {NS_CORE, "language", CTX_FEED, F_LANGUAGE, 0, TAG_PLAIN},
    {NS_DC, "language", CTX_FEED, F_LANGUAGE, 0, TAG_PLAIN},
    {NS_ATOM, "updated", CTX_FEED, F_UPDATED, 0, TAG_DATE},
    {NS_ATOM03, "modified", CTX_FEED, F_UPDATED, 0, TAG_DATE},
    {NS_ATOM03, "updated", CTX_FEED, F_UPDATED, 0, TAG_DATE},
    {NS_CORE, "lastBuildDate", CTX_FEED, F_UPDATED, 0, TAG_DATE},
    {NS_DC, "date", CTX_FEED, F_UPDATED, 1, TAG_DATE},
    {NS_DCTERMS, "modified", CTX_FEED, F_UPDATED, 1, TAG_DATE},
    {NS_CORE, "pubDate", CTX_FEED, F_PUBLISHED, 0, TAG_DATE},
    {NS_DCTERMS, "issued", CTX_FEED, F_PUBLISHED, 1, TAG_DATE},
    {NS_ATOM, "id", CTX_FEED, F_ID, 0, TAG_ID},
    {NS_ATOM03, "id", CTX_FEED, F_ID, 0, TAG_ID},
    {NS_CORE, "category", CTX_FEED, F_CATEGORY, 0, TAG_PLAIN},
    {NS_DC, "subject", CTX_FEED, F_CATEGORY, 0, TAG_PLAIN},
    {NS_ATOM, "category", CTX_FEED, F_CATEGORY, 0, TAG_TERM},
    {NS_ATOM03, "category", CTX_FEED, F_CATEGORY, 0, TAG_TERM},
    {NS_CORE, "ttl", CTX_FEED, F_TTL, 0, TAG_PLAIN},
    {NS_ATOM, "logo", CTX_FEED, F_IMAGE, 0, TAG_URL},
    {NS_ATOM, "icon", CTX_FEED, F_IMAGE, 1, TAG_URL},
};

const struct feed_tag *
feed_tag_find(enum feed_ns ns, const char *name, unsigned ctx)
{
    if (ns == NS_NONE || ns == NS_RSS)
        ns = NS_CORE;
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        if (tags[i].ns == ns && (tags[i].ctx & ctx) && tags[i].name[0] == name[0] &&
            strcmp(tags[i].name, name) == 0)
            return &tags[i];
    return NULL;
}
