/* parse/feed/sax.c — the streaming XML feed parser: libxml2 SAX2 events for
 * RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 fill struct parse_entry one at a time.
 * Here: element dispatch through tag_table.c, the element stack with xml:base
 * and xml:lang, entries begun and ended, the parser's lifecycle. Text capture
 * is sax_text.c's, fields sax_field.c's, the entity bound entity_bound.c's. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "parse/feed/sax_parser_int.h"

/* libxml2 without entity substitution hands attribute values over with every
 * '&' (from &amp; or &#38;) written "&#38;": undo that. */
int
sax_attr_decode(struct buf *b, const char *p, size_t n)
{
    const char *end = p + n, *amp;
    while ((amp = memchr(p, '&', (size_t)(end - p))) != NULL) {
        if (buf_add(b, p, (size_t)(amp - p)) < 0)
            return -ENOMEM;
        if (end - amp >= 5 && memcmp(amp, "&#38;", 5) == 0) {
            buf_addc(b, '&');
            p = amp + 5;
        } else {
            buf_addc(b, '&');
            p = amp + 1;
        }
    }
    return buf_add(b, p, (size_t)(end - p));
}

const char *
sax_attr_value(const xmlChar **attrs, int nattrs, const char *name, const char *uri, struct buf *tmp)
{
    /* SAX2 attributes: localname, prefix, URI, value start, value end. */
    for (int i = 0; i < nattrs; i++) {
        const xmlChar **a = attrs + i * 5;
        if (strcmp((const char *)a[0], name) != 0)
            continue;
        if (uri != NULL && (a[2] == NULL || strcmp((const char *)a[2], uri) != 0))
            continue;
        if (uri == NULL && a[2] != NULL)
            continue;
        buf_reset(tmp);
        if (sax_attr_decode(tmp, (const char *)a[3], (size_t)(a[4] - a[3])) < 0)
            return NULL;
        return tmp->data;
    }
    return NULL;
}

char *
sax_trim_dup(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s))
        s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    char *p = malloc(n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void
entry_begin(struct sax *s, const xmlChar **attrs, int nattrs)
{
    s->entry = calloc(1, sizeof(*s->entry));
    if (s->entry == NULL) {
        s->oom = 1;
        return;
    }
    s->entry->published = s->entry->updated = PARSE_NO_DATE;
    memset(s->eprio, 99, sizeof(s->eprio));
    s->entry_has_desc = 0;
    s->link_rank = 0;
    free(s->guid_link);
    s->guid_link = NULL;
    s->entry_depth = s->depth - 1;
    /* RDF items name themselves: rdf:about is their id. */
    const char *about = sax_attr_value(attrs, nattrs, "about",
                                   "http://www.w3.org/1999/02/22-rdf-syntax-ns#", &s->attr[0]);
    if (about != NULL) {
        s->entry->id = feed_strdup(about);
        s->eprio[F_ID] = 1;
    }
}

static void
entry_end(struct sax *s)
{
    struct parse_entry *e = s->entry;
    s->entry = NULL;
    s->entry_depth = -1;
    if (e == NULL)
        return;
    if (e->link == NULL && s->guid_link != NULL) {
        e->link = s->guid_link;
        s->guid_link = NULL;
    }
    if (e->base == NULL && cur_base(s) != NULL)
        e->base = feed_strdup(cur_base(s));
    if (!s->stop && s->cb != NULL) {
        s->report->nentries++;
        s->stop = s->cb(s->arg, s->feed, e);
    } else if (!s->stop) {
        s->report->nentries++;
    }
    parse_entry_free(e);
}

static void
push_frame(struct sax *s, enum feed_ns ns, const char *name, const xmlChar **attrs, int nattrs)
{
    struct frame *fr = &s->stack[s->depth];
    struct frame *up = s->depth > 0 ? &s->stack[s->depth - 1] : NULL;
    fr->ns = ns;
    fr->name = name;
    fr->base = up ? up->base : (char *)s->opts->base_url;
    fr->lang = up ? up->lang : NULL;
    fr->own_base = fr->own_lang = fr->unclosed = 0;
    for (int i = 0; i < nattrs; i++) {
        const xmlChar **a = attrs + i * 5;
        if (a[2] == NULL || strcmp((const char *)a[2], "http://www.w3.org/XML/1998/namespace"))
            continue;
        char *val = sax_trim_dup((const char *)a[3], (size_t)(a[4] - a[3]));
        if (val == NULL)
            continue;
        /* A repeated xml:base or xml:lang (malformed, but libxml2 passes both
         * on in recovery) replaces the first. */
        if (strcmp((const char *)a[0], "base") == 0) {
            char *abs = parse_url_resolve(up ? up->base : s->opts->base_url, val);
            free(val);
            if (abs != NULL) {
                if (fr->own_base)
                    free(fr->base);
                fr->base = abs;
                fr->own_base = 1;
            }
        } else if (strcmp((const char *)a[0], "lang") == 0) {
            for (char *q = val; *q; q++)
                if (*q == '_')
                    *q = '-';
            if (fr->own_lang)
                free(fr->lang);
            fr->lang = val;
            fr->own_lang = 1;
        } else {
            free(val);
        }
    }
    s->depth++;
}

static void
pop_frame(struct sax *s)
{
    struct frame *fr = &s->stack[--s->depth];
    if (fr->own_base)
        free(fr->base);
    if (fr->own_lang)
        free(fr->lang);
}

static void
atom_link(struct sax *s, unsigned ctx, const xmlChar **attrs, int nattrs)
{
    const char *rel = sax_attr_value(attrs, nattrs, "rel", NULL, &s->attr[0]);
    const char *type = sax_attr_value(attrs, nattrs, "type", NULL, &s->attr[1]);
    const char *href = sax_attr_value(attrs, nattrs, "href", NULL, &s->attr[2]);
    if (rel != NULL && strcasecmp(rel, "enclosure") == 0) {
        if (ctx == CTX_ENTRY && href != NULL) {
            const char *len = sax_attr_value(attrs, nattrs, "length", NULL, &s->attr[3]);
            feed_add_enclosure(s->entry, cur_base(s), href, type, len);
        }
        return;
    }
    if (rel != NULL && ctx == CTX_FEED && href != NULL &&
        (strcasecmp(rel, "hub") == 0 || strcasecmp(rel, "self") == 0)) {
        /* W3C WebSub §4: discovery; the first of each counts */
        char **ws = strcasecmp(rel, "hub") == 0 ? &s->feed->hub : &s->feed->self;
        if (*ws == NULL)
            *ws = parse_url_resolve(cur_base(s), href);
        return;
    }
    int alternate = rel == NULL || strcasecmp(rel, "alternate") == 0;
    int htmltype = type == NULL || strcasecmp(type, "text/html") == 0 ||
                   strcasecmp(type, "application/xhtml+xml") == 0 || strcasecmp(type, "html") == 0;
    if (!alternate || !htmltype)
        return;
    int *rank = ctx == CTX_ENTRY ? &s->link_rank : &s->feed_link_rank;
    char **slot = ctx == CTX_ENTRY ? &s->entry->link : &s->feed->link;
    if (href == NULL) {
        /* no href: the element's text is the link */
        static const struct feed_tag text_link = {NS_ATOM, "link", CTX_ENTRY | CTX_FEED, F_LINK,
                                                  0, TAG_URL};
        if (*rank < 2)
            sax_cap_begin(s, &text_link, ctx, TM_TEXT);
        return;
    }
    if (*rank >= 2)
        return;
    *rank = 2;
    set_str(slot, parse_url_resolve(cur_base(s), href));
}

static void
media_element(struct sax *s, const char *name, const xmlChar **attrs, int nattrs)
{
    const char *url = sax_attr_value(attrs, nattrs, "url", NULL, &s->attr[0]);
    if (url == NULL || *url == '\0')
        return;
    if (strcmp(name, "thumbnail") == 0) {
        if (s->entry->thumbnail == NULL)
            s->entry->thumbnail = parse_url_resolve(cur_base(s), url);
    } else if (strcmp(name, "content") == 0) {
        const char *medium = sax_attr_value(attrs, nattrs, "medium", NULL, &s->attr[1]);
        const char *type = sax_attr_value(attrs, nattrs, "type", NULL, &s->attr[2]);
        int image = (medium && strcmp(medium, "image") == 0) ||
                    (type && strncmp(type, "image/", 6) == 0) ||
                    (medium == NULL && type == NULL);
        if (image && s->entry->image == NULL)
            s->entry->image = parse_url_resolve(cur_base(s), url);
    }
}

/* The root element (me: its stack index): which format the document is in, or
 * none (parsing stops: an HTML page, an unknown root). */
static void
root_start(struct sax *s, enum feed_ns nsid, const char *name, const xmlChar *uri, int me)
{
    s->root_seen = 1;
    if (strcasecmp(name, "html") == 0 || (nsid == NS_XHTML)) {
        s->feed->format = NULL; /* an HTML page, not a feed */
        xmlStopParser(s->ctxt);
        return;
    }
    s->root_uri = uri ? strdup((const char *)uri) : NULL;
    s->root_ns = NS_OTHER;
    if (nsid == NS_ATOM || nsid == NS_ATOM03 || strcmp(name, "feed") == 0) {
        s->feed->format = nsid == NS_ATOM03 ? "atom03" : "atom";
        /* a feed root in no or an unknown namespace: its vocabulary is Atom's */
        s->root_ns = nsid == NS_ATOM03 ? NS_ATOM03 : NS_ATOM;
        s->feed_depth = me;
        if (s->stack[me].lang != NULL && s->feed->language == NULL)
            s->feed->language = feed_strdup(s->stack[me].lang);
    } else if (nsid == NS_RDF) {
        s->feed->format = "rdf";
    } else if (strcmp(name, "rss") == 0 || strcmp(name, "channel") == 0) {
        s->feed->format = "rss";
        s->root_ns = NS_RSS;
        if (strcmp(name, "channel") == 0)
            s->feed_depth = me;
    } else {
        s->feed->format = NULL;
        xmlStopParser(s->ctxt);
        return;
    }
    if (s->stack[me].lang != NULL && s->feed->language == NULL) {
        s->feed->language = feed_strdup(s->stack[me].lang);
        s->fprio[F_LANGUAGE] = 5;
    }
}

/* Where element `name` (stack index me) sits: CTX_ENTRY or CTX_FEED for a
 * direct child of the entry or the feed; 0 for anything else, after taking
 * what is read elsewhere (a person's parts, a media:group's children, an RSS
 * image's url). */
static unsigned
child_context(struct sax *s, enum feed_ns nsid, enum feed_ns core, const char *name,
              const xmlChar **attrs, int nattrs, int me)
{
    int up = me - 1; /* the parent, past elements that lost their end tag */
    while (up >= 0 && s->stack[up].unclosed)
        up--;
    if (s->entry != NULL && up == s->entry_depth)
        return CTX_ENTRY;
    if (s->entry == NULL && s->feed_depth >= 0 && up == s->feed_depth)
        return CTX_FEED;
    if (s->person.depth >= 0 && me - 1 == s->person.depth) {
        s->person.part = 0;
        if (nsid == NS_ATOM || nsid == NS_ATOM03) {
            if (strcmp(name, "name") == 0)
                s->person.part = 1;
            else if (strcmp(name, "email") == 0)
                s->person.part = 2;
            else if (strcmp(name, "uri") == 0 || strcmp(name, "url") == 0 ||
                     strcmp(name, "homepage") == 0)
                s->person.part = 3;
        }
    } else if (s->entry != NULL && nsid == NS_MEDIA && me - 2 == s->entry_depth &&
               strcmp(s->stack[me - 1].name, "group") == 0) {
        media_element(s, name, attrs, nattrs);
    } else if (s->entry == NULL && me >= 2 && (me - 2 == s->feed_depth || s->feed_depth < 0) &&
               core == NS_CORE && strcmp(name, "url") == 0 &&
               strcmp(s->stack[me - 1].name, "image") == 0 && s->feed->image == NULL) {
        /* the channel's image (RSS 0.9x/2.0), or the image beside it (RDF) */
        static const struct feed_tag image_url = {NS_CORE, "url", CTX_FEED, F_IMAGE, 0, TAG_URL};
        sax_cap_begin(s, &image_url, CTX_FEED, TM_TEXT);
    }
    return 0;
}

/* An element of the tag table starts (stack index me, in `where`): a person
 * construct, a category term, or a value to capture. */
static void
tag_start(struct sax *s, const struct feed_tag *tag, enum feed_ns nsid, unsigned where,
          const xmlChar **attrs, int nattrs, int me)
{
    struct buf *tmp = &s->attr[0];
    switch (tag->kind) {
    case TAG_PERSON:
        s->person.depth = me;
        s->person.ctx = where;
        s->person.prio = tag->prio;
        s->person.part = 0;
        buf_reset(&s->person.name);
        buf_reset(&s->person.email);
        buf_reset(&s->person.uri);
        break;
    case TAG_TERM: {
        const char *term = sax_attr_value(attrs, nattrs, "term", NULL, tmp);
        if (term != NULL) {
            char *v = sax_trim_dup(term, strlen(term));
            if (v)
                sax_assign(s, tag, where, v, 0);
        }
        break;
    }
    case TAG_GUID: {
        const char *perma = sax_attr_value(attrs, nattrs, "isPermaLink", NULL, tmp);
        sax_cap_begin(s, tag, where, TM_TEXT);
        s->cap.perma = perma == NULL || strcasecmp(perma, "true") == 0;
        break;
    }
    case TAG_TEXT:
    case TAG_BODY: {
        if (nsid == NS_ATOM || nsid == NS_ATOM03) {
            const char *src = sax_attr_value(attrs, nattrs, "src", NULL, tmp);
            if (src != NULL && tag->field == F_CONTENT)
                break; /* out-of-line content */
        }
        int data = 0;
        enum text_mode m =
            tag->kind == TAG_BODY ? TM_XML : sax_text_mode_of(nsid, attrs, nattrs, tmp, &data);
        sax_cap_begin(s, tag, where, m);
        s->cap.data = data;
        if (tag->kind == TAG_BODY)
            s->cap.markup = 1;
        break;
    }
    default:
        sax_cap_begin(s, tag, where, TM_TEXT);
        break;
    }
}

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
         int nb_ns, const xmlChar **ns, int nattrs, int nb_defaulted, const xmlChar **attrs)
{
    (void)prefix, (void)nb_ns, (void)ns, (void)nb_defaulted;
    struct sax *s = ((xmlParserCtxtPtr)ctx)->_private;
    const char *name = (const char *)localname;
    if (s->stop || s->oom)
        return;
    if (s->depth >= MAX_DEPTH) {
        s->overflow++;
        return;
    }
    enum feed_ns nsid = feed_ns_of((const char *)uri);
    if (s->root_seen && (nsid == NS_OTHER || nsid == NS_NONE) && s->root_ns != NS_OTHER &&
        (uri == NULL ? s->root_uri == NULL
                     : s->root_uri != NULL && strcmp((const char *)uri, s->root_uri) == 0))
        nsid = s->root_ns; /* elements in the root's own (unknown or no) namespace */
    push_frame(s, nsid, name, attrs, nattrs);
    int me = s->depth - 1;

    if (s->cap.depth >= 0) {
        if (!sax_missing_end_tag(s, nsid, name)) {
            sax_cap_start_child(s, name, attrs, nattrs);
            return;
        }
        /* The value ends here; its element stays open in libxml2, so its
         * children count as its parent's from now on. */
        s->stack[s->cap.depth].unclosed = 1;
        s->report->problems |= PARSE_P_MALFORMED;
        sax_cap_close(s);
    }
    if (!s->root_seen) {
        root_start(s, nsid, name, uri, me);
        return;
    }
    enum feed_ns core = (nsid == NS_NONE || nsid == NS_RSS) ? NS_CORE : nsid;
    int is_entry = (core == NS_CORE && strcmp(name, "item") == 0) ||
                   ((nsid == NS_ATOM || nsid == NS_ATOM03) && strcmp(name, "entry") == 0);
    if (is_entry) {
        if (s->entry != NULL)
            entry_end(s); /* a missing </item>: the next item starts a new entry */
        entry_begin(s, attrs, nattrs);
        return;
    }
    if (core == NS_CORE && strcmp(name, "channel") == 0 && s->feed_depth < 0 && s->entry == NULL) {
        s->feed_depth = me;
        if (s->stack[me].lang != NULL && s->fprio[F_LANGUAGE] > 5) {
            set_str(&s->feed->language, feed_strdup(s->stack[me].lang));
            s->fprio[F_LANGUAGE] = 5;
        }
        return;
    }
    unsigned where = child_context(s, nsid, core, name, attrs, nattrs, me);
    if (where == 0)
        return;
    if ((nsid == NS_ATOM || nsid == NS_ATOM03) && strcmp(name, "link") == 0) {
        atom_link(s, where, attrs, nattrs);
        return;
    }
    if (where == CTX_ENTRY && nsid == NS_MEDIA) {
        media_element(s, name, attrs, nattrs);
        return;
    }
    if (where == CTX_ENTRY && core == NS_CORE && strcmp(name, "enclosure") == 0) {
        const char *url = sax_attr_value(attrs, nattrs, "url", NULL, &s->attr[0]);
        if (url != NULL)
            feed_add_enclosure(s->entry, cur_base(s), url,
                               sax_attr_value(attrs, nattrs, "type", NULL, &s->attr[1]),
                               sax_attr_value(attrs, nattrs, "length", NULL, &s->attr[2]));
        return;
    }
    const struct feed_tag *tag = feed_tag_find(nsid, name, where);
    if (tag != NULL)
        tag_start(s, tag, nsid, where, attrs, nattrs, me);
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    (void)prefix, (void)uri;
    struct sax *s = ((xmlParserCtxtPtr)ctx)->_private;
    if (s->overflow > 0) {
        s->overflow--;
        return;
    }
    if (s->depth == 0)
        return;
    int me = s->depth - 1;
    if (!s->stop && !s->oom) {
        if (s->cap.depth >= 0 && me > s->cap.depth) {
            sax_cap_end_child(s, (const char *)localname);
        } else if (s->cap.depth == me) {
            sax_cap_close(s);
        } else if (s->person.depth == me) {
            s->person.depth = -1;
            struct parse_entry *e = s->entry;
            signed char *prio = s->person.ctx == CTX_ENTRY ? s->eprio : s->fprio;
            if ((s->person.ctx == CTX_FEED || e != NULL) && takes(&prio[F_AUTHOR], s->person.prio)) {
                char *name = sax_trim_dup(s->person.name.data ? s->person.name.data : "",
                                      s->person.name.len);
                char *email = sax_trim_dup(s->person.email.data ? s->person.email.data : "",
                                       s->person.email.len);
                if (s->person.ctx == CTX_ENTRY)
                    sax_store_person(&e->author, &e->author_name, name, email);
                else
                    sax_store_person(&s->feed->author, &s->feed->author_name, name, email);
                free(name);
                free(email);
            }
        } else if (s->person.depth >= 0 && me == s->person.depth + 1) {
            s->person.part = 0;
        } else if (s->entry != NULL && me == s->entry_depth) {
            entry_end(s);
        }
    }
    if (me == s->feed_depth)
        s->feed_depth = -1; /* RSS 0.90/1.0: image and textinput follow the channel */
    pop_frame(s);
}

static void
on_error(void *ctx, const char *msg, ...)
{
    (void)ctx, (void)msg;
}

static void
on_structured_error(void *ctx, xmlErrorPtr err)
{
    struct sax *s = ((xmlParserCtxtPtr)ctx)->_private;
    if (err == NULL || err->level < XML_ERR_ERROR || s == NULL)
        return;
    s->report->problems |= PARSE_P_MALFORMED;
    /* "Extra content at the end of the document" is what libxml2 says of a
     * document that ends inside its root: document.c reports the cut itself. */
    if (s->report->message[0] == '\0' && err->code != XML_ERR_DOCUMENT_END) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s", err->message ? err->message : "malformed XML");
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        snprintf(s->report->message, sizeof(s->report->message), "line %d: %s", err->line, msg);
    }
}

int
feed_sax_new(const struct parse_opts *opts, parse_entry_cb cb, void *arg,
             struct parse_report *report, struct sax **out)
{
    xmlSAXHandler h;
    struct sax *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->opts = opts;
    s->cb = cb;
    s->arg = arg;
    s->report = report;
    s->feed_depth = s->entry_depth = -1;
    s->cap.depth = s->person.depth = -1;
    memset(s->fprio, 99, sizeof(s->fprio));
    s->feed = calloc(1, sizeof(*s->feed));
    if (s->feed == NULL)
        goto fail;
    s->feed->updated = s->feed->published = PARSE_NO_DATE;

    memset(&h, 0, sizeof(h));
    xmlSAXVersion(&h, 2);
    h.startElementNs = on_start;
    h.endElementNs = on_end;
    h.characters = sax_on_text;
    h.cdataBlock = sax_on_text;
    h.ignorableWhitespace = sax_on_text;
    sax_entity_handlers(&h);
    h.comment = NULL;
    h.processingInstruction = NULL;
    h.warning = on_error;
    h.error = on_error;
    h.fatalError = on_error;
    h.serror = on_structured_error;
    h.initialized = XML_SAX2_MAGIC;
    s->ctxt = xmlCreatePushParserCtxt(&h, NULL, NULL, 0, NULL);
    if (s->ctxt == NULL)
        goto fail;
    s->ctxt->_private = s;
    /* No network, no DTD loading, no entity substitution (XXE), recover from
     * errors; the text reaching libxml2 is UTF-8 already (input/decode.c). */
    xmlCtxtUseOptions(s->ctxt, XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOERROR |
                                   XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC |
                                   XML_PARSE_NOCDATA);
    xmlSwitchEncoding(s->ctxt, XML_CHAR_ENCODING_UTF8);
    *out = s;
    return 0;
fail:
    feed_sax_free(s);
    return -ENOMEM;
}

/* Feed len bytes of UTF-8 XML (final != 0 on the last call). Returns 0, -ENOMEM,
 * or the callback's value. */
int
feed_sax_push(struct sax *s, const char *p, size_t len, int final)
{
    while (len > 0 || final) {
        int n = len > (1 << 20) ? 1 << 20 : (int)len;
        int last = final && (size_t)n == len;
        if (s->ctxt->disableSAX > 1 || s->stop)
            break;
        xmlParseChunk(s->ctxt, p, n, last);
        p += n;
        len -= (size_t)n;
        if (last)
            break;
    }
    if (s->oom)
        return -ENOMEM;
    return s->stop;
}

int
feed_sax_root_seen(const struct sax *s)
{
    return s->root_seen;
}

/* After the last push: decide about an entry left open. `closed` says whether
 * the document ended with its root's end tag (then tags were missing inside
 * and the entry is whole); otherwise the document was cut off and the partial
 * entry is dropped. Hands the feed record to the caller. */
struct parse_feed *
feed_sax_finish(struct sax *s, int closed)
{
    if (s->entry != NULL) {
        if (closed && !s->stop) {
            entry_end(s);
        } else {
            s->report->problems |= PARSE_P_TRUNCATED;
            parse_entry_free(s->entry);
            s->entry = NULL;
        }
    } else if (!closed && s->depth > 0) {
        s->report->problems |= PARSE_P_TRUNCATED;
    }
    struct parse_feed *f = s->feed;
    s->feed = NULL;
    return f;
}

void
feed_sax_free(struct sax *s)
{
    if (s == NULL)
        return;
    while (s->depth > 0)
        pop_frame(s);
    if (s->ctxt != NULL) {
        if (s->ctxt->myDoc != NULL)
            xmlFreeDoc(s->ctxt->myDoc);
        xmlFreeParserCtxt(s->ctxt);
    }
    parse_entry_free(s->entry);
    parse_feed_free(s->feed);
    free(s->guid_link);
    free(s->root_uri);
    buf_free(&s->cap.text);
    buf_free(&s->person.name);
    buf_free(&s->person.email);
    buf_free(&s->person.uri);
    for (size_t i = 0; i < sizeof(s->attr) / sizeof(s->attr[0]); i++)
        buf_free(&s->attr[i]);
    free(s);
}
