/* parse/feed/sax_text.c — text capture in the SAX2 feed parser: the text mode
 * of a text construct (Atom type=, mode=; RSS sniffed), character data
 * collected, child elements written back as markup (naked HTML in RSS, XHTML),
 * the wrapping xhtml div left out, and the value handed to sax_field.c. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "parse/feed/sax_parser_int.h"

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
enum text_mode
sax_text_mode_of(enum feed_ns ns, const xmlChar **attrs, int nattrs, struct buf *tmp, int *data)
{
    *data = 0;
    if (ns != NS_ATOM && ns != NS_ATOM03)
        return TM_AUTO;
    const char *type = sax_attr_value(attrs, nattrs, "type", NULL, tmp);
    if (ns == NS_ATOM && type != NULL && xml_data_type(type)) {
        *data = 1;
        return TM_XML;
    }
    if (ns == NS_ATOM03) {
        const char *mode = sax_attr_value(attrs, nattrs, "mode", NULL, tmp);
        if (mode != NULL && strcasecmp(mode, "escaped") == 0)
            return TM_HTML;
        if (mode != NULL && strcasecmp(mode, "xml") == 0)
            return TM_XML;
        type = sax_attr_value(attrs, nattrs, "type", NULL, tmp);
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

void
sax_cap_begin(struct sax *s, const struct feed_tag *tag, unsigned ctx, enum text_mode mode)
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
void
sax_cap_start_child(struct sax *s, const char *name, const xmlChar **attrs, int nattrs)
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
        if (sax_attr_decode(&v, (const char *)a[3], (size_t)(a[4] - a[3])) < 0)
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

void
sax_cap_end_child(struct sax *s, const char *name)
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
cap_end(struct sax *s)
{
    struct capture *c = &s->cap;
    const struct feed_tag *tag = c->tag;
    c->depth = -1;
    char *v = sax_trim_dup(c->text.data ? c->text.data : "", c->text.len);
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
    sax_assign(s, tag, c->ctx, v, html);
}

/* The captured element ends: an RSS guid that is a permalink may stand in for
 * the link; then the value is stored. */
void
sax_cap_close(struct sax *s)
{
    if (s->cap.tag->kind == TAG_GUID && s->cap.perma && s->entry != NULL && s->cap.text.len > 0) {
        free(s->guid_link);
        s->guid_link = sax_trim_dup(s->cap.text.data, s->cap.text.len);
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
int
sax_missing_end_tag(const struct sax *s, enum feed_ns nsid, const char *name)
{
    const struct capture *c = &s->cap;
    if (c->markup || (c->mode != TM_AUTO && c->mode != TM_TEXT) || c->tag->ns != NS_CORE ||
        (nsid != NS_NONE && nsid != NS_RSS) || s->depth - 2 != c->depth)
        return 0;
    return strcmp(name, "item") == 0 || feed_tag_find(nsid, name, c->ctx) != NULL;
}

void
sax_on_text(void *ctx, const xmlChar *ch, int len)
{
    struct sax *s = ((xmlParserCtxtPtr)ctx)->_private;
    if (s->stop || s->oom)
        return;
    /* replacement text of an entity is parsed in a context of its own */
    if (ctx != s->ctxt && !sax_entity_text_ok(s, len))
        return;
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
