/* parse/feed/sax.c — the streaming XML feed parser: libxml2 SAX2 events for
 * RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 fill struct parse_entry one at a time.
 * Elements are matched through feed_map.c's table; text constructs, xml:base,
 * naked markup and fallbacks (guid as link, …) are resolved here. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>

#include "parse/feed/sax_int.h"

#define MAX_DEPTH 512

enum text_mode {
    TM_AUTO,  /* RSS: plain text unless child elements appear */
    TM_TEXT,  /* Atom type="text" */
    TM_HTML,  /* escaped HTML */
    TM_XHTML, /* Atom 1.0 type="xhtml": children of the wrapping div */
    TM_XML,   /* Atom 0.3 mode="xml": the element's children, div kept */
};

struct frame {
    enum feed_ns ns;
    const char *name; /* libxml2 dictionary string, valid while the parser lives */
    char *base;       /* base URI in scope (owned when own_base) */
    char *lang;       /* xml:lang in scope (owned when own_lang) */
    unsigned char own_base, own_lang;
    unsigned char unclosed; /* a value element whose end tag is missing */
};

/* The element whose text is being collected. */
struct capture {
    int depth;              /* stack index of the element, -1 when idle */
    const struct feed_tag *tag;
    unsigned ctx;           /* CTX_ENTRY or CTX_FEED */
    enum text_mode mode;
    int skip_depth;         /* XHTML: depth of the wrapping div left out, or -1 */
    int markup;             /* child elements were serialized into text */
    int perma;              /* RSS guid that may stand in for the link */
    int data;               /* Atom 1.0 XML media type: data, not prose */
    struct buf text;
};

/* Atom person construct being read (author). */
struct person {
    int depth; /* -1 when idle */
    unsigned ctx;
    int prio;
    struct buf name, email, uri;
    int part; /* 1 name, 2 email, 3 uri, 0 none */
};

struct sax {
    xmlParserCtxtPtr ctxt;
    const struct parse_opts *opts;
    parse_entry_cb cb;
    void *arg;
    int stop;             /* callback's non-zero return */
    int oom;

    struct frame stack[MAX_DEPTH];
    int depth;            /* frames in use */
    int overflow;         /* elements beyond MAX_DEPTH, ignored (their text is kept) */
    size_t entity_text;   /* bytes of entity replacement text delivered so far */

    int root_seen;
    char *root_uri;       /* namespace URI of the root element, or NULL */
    enum feed_ns root_ns; /* vocabulary of elements in the root's namespace */
    int feed_depth;       /* stack index of the feed context element, -1 */
    int entry_depth;      /* stack index of the open entry, -1 */

    struct parse_feed *feed;
    struct parse_entry *entry;
    /* priorities of the values set so far (lower wins); 99 = unset */
    signed char eprio[F_IMAGE + 1];
    signed char fprio[F_IMAGE + 1];
    int entry_has_desc;   /* an RSS description/summary already taken */
    char *guid_link;      /* permalink guid: the link when none is given */
    int link_rank;        /* entry link: 0 none, 1 from text, 2 alternate */
    int feed_link_rank;

    struct capture cap;
    struct person person;
    struct parse_report *report;
    struct buf attr[4];   /* attribute values being looked at; reused, no malloc per element */
};

/* What one entity may cost once expanded: its text, plus ENTITY_REF_COST for
 * every reference it makes (libxml2 parses each one in a context of its own).
 * Past ENTITY_MAX_COST the entity is declared empty (billion laughs); past
 * ENTITY_MAX_TEXT bytes of replacement text in one document, references are
 * no longer expanded (quadratic blow-up). SPEC §9: entity expansion is bounded. */
#define ENTITY_REF_COST 64
#define ENTITY_MAX_COST (64 * 1024)
#define ENTITY_MAX_TEXT (1024 * 1024)

static void
entity_problem(struct sax *s, const xmlChar *name, const char *why)
{
    s->report->problems |= PARSE_P_MALFORMED;
    if (s->report->message[0] == '\0')
        snprintf(s->report->message, sizeof(s->report->message), "entity '%s' %s",
                 (const char *)name, why);
}

/* libxml2 without entity substitution hands attribute values over with every
 * '&' (from &amp; or &#38;) written "&#38;": undo that. */
static int
attr_decode(struct buf *b, const char *p, size_t n)
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

static const char *
attr_value(const xmlChar **attrs, int nattrs, const char *name, const char *uri, struct buf *tmp)
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
        if (attr_decode(tmp, (const char *)a[3], (size_t)(a[4] - a[3])) < 0)
            return NULL;
        return tmp->data;
    }
    return NULL;
}

static char *
trim_dup(const char *s, size_t n)
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
set_str(char **slot, char *v)
{
    free(*slot);
    *slot = v;
}

static const char *
cur_base(const struct sax *s)
{
    return s->depth > 0 ? s->stack[s->depth - 1].base : s->opts->base_url;
}

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

/* Does `prio` beat the value already in the slot? Equal: the later wins. */
static int
takes(signed char *slot, int prio)
{
    if (prio > *slot)
        return 0;
    *slot = (signed char)prio;
    return 1;
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
    const char *about = attr_value(attrs, nattrs, "about",
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

/* ---- text capture ---- */

/* RFC 4287 §4.1.3.1 after RFC 7303: text/xml, application/xml and any
 * "+xml" type are XML media types; XHTML is prose, the others are data. */
static int
xml_data_type(const char *type)
{
    size_t n = strcspn(type, "; \t");
    if (n == 15 && strncasecmp(type, "application/xml", n) == 0)
        return 1;
    if (n == 8 && strncasecmp(type, "text/xml", n) == 0)
        return 1;
    if (n == 21 && strncasecmp(type, "application/xhtml+xml", n) == 0)
        return 0;
    return n > 4 && strncasecmp(type + n - 4, "+xml", 4) == 0;
}

/* The text mode of an element; *data = 1 for Atom 1.0 XML data. */
static enum text_mode
text_mode_of(enum feed_ns ns, const xmlChar **attrs, int nattrs, struct buf *tmp, int *data)
{
    *data = 0;
    if (ns != NS_ATOM && ns != NS_ATOM03)
        return TM_AUTO;
    const char *type = attr_value(attrs, nattrs, "type", NULL, tmp);
    if (ns == NS_ATOM && type != NULL && xml_data_type(type)) {
        *data = 1;
        return TM_XML;
    }
    if (ns == NS_ATOM03) {
        const char *mode = attr_value(attrs, nattrs, "mode", NULL, tmp);
        if (mode != NULL && strcasecmp(mode, "escaped") == 0)
            return TM_HTML;
        if (mode != NULL && strcasecmp(mode, "xml") == 0)
            return TM_XML;
        type = attr_value(attrs, nattrs, "type", NULL, tmp);
    }
    if (type == NULL || strcasecmp(type, "text") == 0 || strcasecmp(type, "text/plain") == 0)
        return ns == NS_ATOM03 && type == NULL ? TM_AUTO : TM_TEXT;
    if (strcasecmp(type, "html") == 0 || strcasecmp(type, "text/html") == 0)
        return TM_HTML;
    if (strcasecmp(type, "xhtml") == 0)
        return TM_XHTML;
    if (strcasecmp(type, "application/xhtml+xml") == 0)
        return ns == NS_ATOM03 ? TM_XML : TM_XHTML;
    if (strncasecmp(type, "text/", 5) == 0)
        return TM_TEXT;
    return TM_XML;
}

static void
cap_begin(struct sax *s, const struct feed_tag *tag, unsigned ctx, enum text_mode mode)
{
    s->cap.depth = s->depth - 1;
    s->cap.tag = tag;
    s->cap.ctx = ctx;
    s->cap.mode = mode;
    s->cap.skip_depth = -1;
    s->cap.markup = 0;
    s->cap.perma = 0;
    s->cap.data = 0;
    buf_reset(&s->cap.text);
}

static void
escape_into(struct buf *b, const char *p, size_t n, int attr, int *oom)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (p[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = attr ? "&quot;" : NULL; break;
        }
        if (rep == NULL)
            continue;
        if (buf_add(b, p + start, i - start) < 0 || buf_adds(b, rep) < 0)
            *oom = 1;
        start = i + 1;
    }
    if (buf_add(b, p + start, n - start) < 0)
        *oom = 1;
}

/* A child element inside a captured text value: serialize it as markup
 * (namespace declarations and prefixes dropped, text escaped). */
static void
cap_start_child(struct sax *s, const char *name, const xmlChar **attrs, int nattrs)
{
    struct capture *c = &s->cap;
    if ((c->mode == TM_XHTML || c->mode == TM_HTML) && c->skip_depth == -1 && !c->markup &&
        s->depth - 1 == c->depth + 1 && strcmp(name, "div") == 0) {
        /* Atom 1.0 xhtml: the wrapping div is not part of the value (nor is a
         * div wrapped around escaped HTML). */
        c->skip_depth = s->depth - 1;
        buf_reset(&c->text);
        return;
    }
    if (!c->markup && c->mode != TM_XHTML && c->mode != TM_XML && c->mode != TM_HTML) {
        /* Naked markup in RSS: what was read as plain text becomes escaped text. */
        struct buf esc = {0};
        escape_into(&esc, c->text.data ? c->text.data : "", c->text.len, 0, &s->oom);
        buf_free(&c->text);
        c->text = esc;
    }
    c->markup = 1;
    struct buf *b = &c->text;
    buf_addc(b, '<');
    buf_adds(b, name);
    for (int i = 0; i < nattrs; i++) {
        const xmlChar **a = attrs + i * 5;
        buf_addc(b, ' ');
        buf_adds(b, (const char *)a[0]);
        buf_adds(b, "=\"");
        struct buf v = {0};
        if (attr_decode(&v, (const char *)a[3], (size_t)(a[4] - a[3])) < 0)
            s->oom = 1;
        escape_into(b, v.data ? v.data : "", v.len, 1, &s->oom);
        buf_free(&v);
        buf_addc(b, '"');
    }
    buf_addc(b, '>');
}

static int
is_void(const char *name)
{
    static const char *const v[] = {"area", "base", "br", "col", "embed", "hr", "img",
                                    "input", "link", "meta", "param", "source", "track", "wbr"};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (strcasecmp(name, v[i]) == 0)
            return 1;
    return 0;
}

static void
cap_end_child(struct sax *s, const char *name)
{
    struct capture *c = &s->cap;
    if (s->depth - 1 == c->skip_depth) {
        c->skip_depth = -2; /* the wrapper is closed; anything after it is kept */
        return;
    }
    struct buf *b = &c->text;
    if (is_void(name) && b->len > 0 && b->data[b->len - 1] == '>') {
        /* <br></br> → <br />: rewrite the just-written start tag */
        b->len--;
        buf_adds(b, " />");
        return;
    }
    buf_adds(b, "</");
    buf_adds(b, name);
    buf_addc(b, '>');
}

static int
looks_like_html(const char *s)
{
    const char *p = s;
    while ((p = strchr(p, '<')) != NULL) {
        p++;
        if (*p == '/')
            p++;
        if (isalpha((unsigned char)*p))
            return 1;
    }
    return 0;
}

static void
store_person(struct sax *s, char **display, char **name_only, const char *name,
             const char *email)
{
    struct buf b = {0};
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
        return;
    }
    set_str(display, buf_steal(&b));
    set_str(name_only, feed_strdup(name && *name ? name : email));
    (void)s;
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
                return trim_dup(lp + 1, (size_t)(rp - lp - 1));
            return trim_dup(v, (size_t)(lp - v));
        }
    }
    if (lt != NULL && lt > v)
        return trim_dup(v, (size_t)(lt - v));
    if (strchr(v, '@') != NULL && strchr(v, ' ') == NULL)
        return NULL; /* a bare e-mail address names nobody */
    return feed_strdup(v);
}

static void
assign(struct sax *s, const struct feed_tag *tag, unsigned ctx, char *v, int html)
{
    struct parse_entry *e = s->entry;
    struct parse_feed *f = s->feed;
    signed char *prio = ctx == CTX_ENTRY ? s->eprio : s->fprio;
    const char *base = cur_base(s);

    if (ctx == CTX_ENTRY && e == NULL) {
        free(v);
        return;
    }
    switch (tag->field) {
    case F_CATEGORY:
        if (*v) {
            if (ctx == CTX_ENTRY)
                feed_add_category(&e->categories, &e->ncategories, v);
            else
                feed_add_category(&f->categories, &f->ncategories, v);
        }
        free(v);
        return;
    case F_TAGS: {
        char *save = NULL;
        for (char *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            char *term = trim_dup(t, strlen(t));
            if (term && *term)
                feed_add_category(&e->categories, &e->ncategories, term);
            free(term);
        }
        free(v);
        return;
    }
    case F_PUBLISHED:
    case F_UPDATED: {
        int64_t t = read_date(s, v);
        free(v);
        if (t == PARSE_NO_DATE || !takes(&prio[tag->field], tag->prio))
            return;
        if (ctx == CTX_ENTRY)
            *(tag->field == F_PUBLISHED ? &e->published : &e->updated) = t;
        else
            *(tag->field == F_PUBLISHED ? &f->published : &f->updated) = t;
        return;
    }
    case F_TTL:
        f->ttl = strtol(v, NULL, 10);
        free(v);
        return;
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
            return;
        }
        if (ctx == CTX_ENTRY && tag->ns == NS_CORE)
            s->entry_has_desc = 1;
        break;
    case F_CONTENT:
        if (e->content != NULL) { /* the first content element wins */
            free(v);
            return;
        }
        break;
    default:
        break;
    }
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
    if (ctx == CTX_FEED) {
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

static void
cap_end(struct sax *s)
{
    struct capture *c = &s->cap;
    const struct feed_tag *tag = c->tag;
    c->depth = -1;
    char *v = trim_dup(c->text.data ? c->text.data : "", c->text.len);
    if (v == NULL) {
        s->oom = 1;
        return;
    }
    int html = c->markup || c->mode == TM_HTML || c->mode == TM_XHTML || c->mode == TM_XML ||
               (c->mode == TM_AUTO && looks_like_html(v));
    if (tag->kind == TAG_TEXT || tag->kind == TAG_BODY) {
        const char *base = cur_base(s);
        if (html && base != NULL && strchr(v, '<') != NULL) {
            char *r = feed_html_resolve(v, base);
            if (r != NULL) {
                free(v);
                v = r;
            }
        }
    }
    assign(s, tag, c->ctx, v, html);
}

/* The captured element ends: an RSS guid that is a permalink may stand in for
 * the link; then the value is stored. */
static void
cap_close(struct sax *s)
{
    if (s->cap.tag->kind == TAG_GUID && s->cap.perma && s->entry != NULL && s->cap.text.len > 0) {
        free(s->guid_link);
        s->guid_link = trim_dup(s->cap.text.data, s->cap.text.len);
        if (s->guid_link && *s->guid_link) {
            char *abs = parse_url_resolve(cur_base(s), s->guid_link);
            if (abs) {
                free(s->guid_link);
                s->guid_link = abs;
            }
        }
    }
    cap_end(s);
}

/* A missing end tag (<title>x<link>…): a plain RSS value element whose first
 * child is another field of the same item or channel (or a new item) lost its
 * end tag. Naked HTML in a description (<p>, <a>) is never a field name. */
static int
missing_end_tag(const struct sax *s, enum feed_ns nsid, const char *name)
{
    const struct capture *c = &s->cap;
    if (c->markup || (c->mode != TM_AUTO && c->mode != TM_TEXT) || c->tag->ns != NS_CORE ||
        (nsid != NS_NONE && nsid != NS_RSS) || s->depth - 2 != c->depth)
        return 0;
    return strcmp(name, "item") == 0 || feed_tag_find(nsid, name, c->ctx) != NULL;
}

/* ---- element handlers ---- */

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
        char *val = trim_dup((const char *)a[3], (size_t)(a[4] - a[3]));
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
    const char *rel = attr_value(attrs, nattrs, "rel", NULL, &s->attr[0]);
    const char *type = attr_value(attrs, nattrs, "type", NULL, &s->attr[1]);
    const char *href = attr_value(attrs, nattrs, "href", NULL, &s->attr[2]);
    if (rel != NULL && strcasecmp(rel, "enclosure") == 0) {
        if (ctx == CTX_ENTRY && href != NULL) {
            const char *len = attr_value(attrs, nattrs, "length", NULL, &s->attr[3]);
            feed_add_enclosure(s->entry, cur_base(s), href, type, len);
        }
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
            cap_begin(s, &text_link, ctx, TM_TEXT);
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
    const char *url = attr_value(attrs, nattrs, "url", NULL, &s->attr[0]);
    if (url == NULL || *url == '\0')
        return;
    if (strcmp(name, "thumbnail") == 0) {
        if (s->entry->thumbnail == NULL)
            s->entry->thumbnail = parse_url_resolve(cur_base(s), url);
    } else if (strcmp(name, "content") == 0) {
        const char *medium = attr_value(attrs, nattrs, "medium", NULL, &s->attr[1]);
        const char *type = attr_value(attrs, nattrs, "type", NULL, &s->attr[2]);
        int image = (medium && strcmp(medium, "image") == 0) ||
                    (type && strncmp(type, "image/", 6) == 0) ||
                    (medium == NULL && type == NULL);
        if (image && s->entry->image == NULL)
            s->entry->image = parse_url_resolve(cur_base(s), url);
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
        if (!missing_end_tag(s, nsid, name)) {
            cap_start_child(s, name, attrs, nattrs);
            return;
        }
        /* The value ends here; its element stays open in libxml2, so its
         * children count as its parent's from now on. */
        s->stack[s->cap.depth].unclosed = 1;
        s->report->problems |= PARSE_P_MALFORMED;
        cap_close(s);
    }
    if (!s->root_seen) {
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

    unsigned where = 0;
    int up = me - 1; /* the parent, past elements that lost their end tag */
    while (up >= 0 && s->stack[up].unclosed)
        up--;
    if (s->entry != NULL && up == s->entry_depth)
        where = CTX_ENTRY;
    else if (s->entry == NULL && s->feed_depth >= 0 && up == s->feed_depth)
        where = CTX_FEED;
    else if (s->person.depth >= 0 && me - 1 == s->person.depth) {
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
        return;
    } else if (s->entry != NULL && nsid == NS_MEDIA && me - 2 == s->entry_depth &&
               strcmp(s->stack[me - 1].name, "group") == 0) {
        media_element(s, name, attrs, nattrs);
        return;
    } else if (s->entry == NULL && me >= 2 && (me - 2 == s->feed_depth || s->feed_depth < 0) &&
               core == NS_CORE && strcmp(name, "url") == 0 &&
               strcmp(s->stack[me - 1].name, "image") == 0 && s->feed->image == NULL) {
        /* the channel's image (RSS 0.9x/2.0), or the image beside it (RDF) */
        static const struct feed_tag image_url = {NS_CORE, "url", CTX_FEED, F_IMAGE, 0, TAG_URL};
        cap_begin(s, &image_url, CTX_FEED, TM_TEXT);
        return;
    }
    if (where == 0)
        return;

    if (nsid == NS_ATOM || nsid == NS_ATOM03) {
        if (strcmp(name, "link") == 0) {
            atom_link(s, where, attrs, nattrs);
            return;
        }
    }
    if (where == CTX_ENTRY && nsid == NS_MEDIA) {
        media_element(s, name, attrs, nattrs);
        return;
    }
    struct buf *tmp = &s->attr[0];
    if (where == CTX_ENTRY && core == NS_CORE && strcmp(name, "enclosure") == 0) {
        const char *url = attr_value(attrs, nattrs, "url", NULL, &s->attr[0]);
        if (url != NULL)
            feed_add_enclosure(s->entry, cur_base(s), url,
                               attr_value(attrs, nattrs, "type", NULL, &s->attr[1]),
                               attr_value(attrs, nattrs, "length", NULL, &s->attr[2]));
        return;
    }
    const struct feed_tag *tag = feed_tag_find(nsid, name, where);
    if (tag == NULL)
        return;
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
        const char *term = attr_value(attrs, nattrs, "term", NULL, tmp);
        if (term != NULL) {
            char *v = trim_dup(term, strlen(term));
            if (v)
                assign(s, tag, where, v, 0);
        }
        break;
    }
    case TAG_GUID: {
        const char *perma = attr_value(attrs, nattrs, "isPermaLink", NULL, tmp);
        cap_begin(s, tag, where, TM_TEXT);
        s->cap.perma = perma == NULL || strcasecmp(perma, "true") == 0;
        break;
    }
    case TAG_TEXT:
    case TAG_BODY: {
        if (nsid == NS_ATOM || nsid == NS_ATOM03) {
            const char *src = attr_value(attrs, nattrs, "src", NULL, tmp);
            if (src != NULL && tag->field == F_CONTENT)
                break; /* out-of-line content */
        }
        int data = 0;
        enum text_mode m =
            tag->kind == TAG_BODY ? TM_XML : text_mode_of(nsid, attrs, nattrs, tmp, &data);
        cap_begin(s, tag, where, m);
        s->cap.data = data;
        if (tag->kind == TAG_BODY)
            s->cap.markup = 1;
        break;
    }
    default:
        cap_begin(s, tag, where, TM_TEXT);
        break;
    }
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
            cap_end_child(s, (const char *)localname);
        } else if (s->cap.depth == me) {
            cap_close(s);
        } else if (s->person.depth == me) {
            s->person.depth = -1;
            struct parse_entry *e = s->entry;
            signed char *prio = s->person.ctx == CTX_ENTRY ? s->eprio : s->fprio;
            if ((s->person.ctx == CTX_FEED || e != NULL) && takes(&prio[F_AUTHOR], s->person.prio)) {
                char *name = trim_dup(s->person.name.data ? s->person.name.data : "",
                                      s->person.name.len);
                char *email = trim_dup(s->person.email.data ? s->person.email.data : "",
                                       s->person.email.len);
                if (s->person.ctx == CTX_ENTRY)
                    store_person(s, &e->author, &e->author_name, name, email);
                else
                    store_person(s, &s->feed->author, &s->feed->author_name, name, email);
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
on_text(void *ctx, const xmlChar *ch, int len)
{
    struct sax *s = ((xmlParserCtxtPtr)ctx)->_private;
    if (s->stop || s->oom)
        return;
    if (ctx != s->ctxt) {
        /* replacement text of an entity, parsed in a context of its own */
        s->entity_text += (size_t)len;
        if (s->entity_text > ENTITY_MAX_TEXT) {
            if (s->ctxt->wellFormed) {
                s->report->problems |= PARSE_P_MALFORMED;
                if (s->report->message[0] == '\0')
                    snprintf(s->report->message, sizeof(s->report->message),
                             "entities expand past %d bytes: expansion stopped",
                             ENTITY_MAX_TEXT);
            }
            /* libxml2 expands no reference in a document it knows is broken */
            s->ctxt->wellFormed = 0;
            return;
        }
    }
    if (s->cap.depth >= 0) {
        if (s->cap.skip_depth == -2 && s->cap.mode == TM_XHTML)
            return; /* text after the xhtml wrapper div */
        if (s->cap.markup || (s->cap.mode == TM_XHTML || s->cap.mode == TM_XML))
            escape_into(&s->cap.text, (const char *)ch, (size_t)len, 0, &s->oom);
        else if (buf_add(&s->cap.text, ch, (size_t)len) < 0)
            s->oom = 1;
    } else if (s->person.depth >= 0 && s->person.part != 0) {
        struct buf *b = s->person.part == 1   ? &s->person.name
                        : s->person.part == 2 ? &s->person.email
                                              : &s->person.uri;
        if (buf_add(b, ch, (size_t)len) < 0)
            s->oom = 1;
    }
}

/* Only internal general entities are ever looked up: an external entity is
 * treated as undeclared, so nothing outside the document is read (SPEC §9). */
static xmlEntityPtr
on_get_entity(void *ctx, const xmlChar *name)
{
    xmlEntityPtr ent = xmlSAX2GetEntity(ctx, name);
    if (ent != NULL && ent->etype != XML_INTERNAL_GENERAL_ENTITY &&
        ent->etype != XML_INTERNAL_PREDEFINED_ENTITY)
        return NULL;
    return ent;
}

/* libxml2 (2.9.14) hands an entity's replacement text to the SAX handlers at
 * every reference (parsing it in a context of its own) and calls `reference`
 * after that: nothing is left to deliver here. Set so that libxml2's default,
 * which adds a node to a tree, is not called. */
static void
on_reference(void *ctx, const xmlChar *name)
{
    (void)ctx, (void)name;
}

/* The cost of replacement text `v`: its bytes, and the cost of each entity it
 * references (declared before it; those declared later count as text). */
static size_t
entity_cost(xmlParserCtxtPtr ctxt, const xmlChar *v, int parameter)
{
    size_t cost = 0;
    while (*v != '\0' && cost <= ENTITY_MAX_COST) {
        const xmlChar *end;
        if ((*v != '&' && *v != '%') || v[1] == '#' ||
            (end = (const xmlChar *)strchr((const char *)v, ';')) == NULL || end - v > 64) {
            cost++;
            v++;
            continue;
        }
        char name[64];
        memcpy(name, v + 1, (size_t)(end - v - 1));
        name[end - v - 1] = '\0';
        xmlEntityPtr ent = NULL;
        if (ctxt->myDoc != NULL)
            ent = *v == '%' || parameter ? xmlGetParameterEntity(ctxt->myDoc, (xmlChar *)name)
                                         : NULL;
        if (ent == NULL && *v == '&' && ctxt->myDoc != NULL)
            ent = xmlGetDocEntity(ctxt->myDoc, (xmlChar *)name);
        cost += ENTITY_REF_COST;
        if (ent != NULL && ent->_private != NULL)
            cost += (size_t)(uintptr_t)ent->_private - 1;
        else
            cost += (size_t)(end - v + 1);
        v = end + 1;
    }
    return cost;
}

/* <!ENTITY> in the internal subset. External entities are declared empty
 * (never loaded: no file, no network); so is an internal one whose expansion
 * would cost more than ENTITY_MAX_COST. The cost is kept in ent->_private. */
static void
on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
               const xmlChar *system_id, xmlChar *content)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct sax *s = ctxt->_private;
    int parameter = type == XML_INTERNAL_PARAMETER_ENTITY || type == XML_EXTERNAL_PARAMETER_ENTITY;
    size_t cost = 0;
    if (type == XML_EXTERNAL_GENERAL_PARSED_ENTITY || type == XML_EXTERNAL_GENERAL_UNPARSED_ENTITY ||
        type == XML_EXTERNAL_PARAMETER_ENTITY) {
        entity_problem(s, name, "is external: not loaded");
        type = parameter ? XML_INTERNAL_PARAMETER_ENTITY : XML_INTERNAL_GENERAL_ENTITY;
        public_id = system_id = NULL;
        content = (xmlChar *)"";
    } else if (content != NULL && (cost = entity_cost(ctxt, content, parameter)) > ENTITY_MAX_COST) {
        entity_problem(s, name, "expands too far: left empty");
        content = (xmlChar *)"";
        cost = 0;
    }
    xmlSAX2EntityDecl(ctx, name, type, public_id, system_id, content);
    xmlEntityPtr ent = ctxt->myDoc == NULL ? NULL
                       : parameter        ? xmlGetParameterEntity(ctxt->myDoc, name)
                                          : xmlGetDocEntity(ctxt->myDoc, name);
    if (ent != NULL && ent->_private == NULL)
        ent->_private = (void *)(uintptr_t)(cost + 1);
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
     * document that ends inside its root: feed.c reports the cut itself. */
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
    h.characters = on_text;
    h.cdataBlock = on_text;
    h.ignorableWhitespace = on_text;
    h.reference = on_reference;
    h.getEntity = on_get_entity;
    h.entityDecl = on_entity_decl;
    h.resolveEntity = NULL;
    h.externalSubset = NULL;
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
     * errors; the text reaching libxml2 is UTF-8 already (decode.c). */
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
