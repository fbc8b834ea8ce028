/* parse/article/xmldata.c — Atom content of an XML media type (SEC EDGAR's filing
 * records: <accession-number>, <filing-date>, <size> …) made readable: its
 * leaf elements as an HTML definition list, URLs as links (SPEC §3 body). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "parse/buf_int.h"
#include "parse/article/xmldata_int.h"

static void
escape(struct buf *b, const char *s, int attr)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_adds(b, "&amp;"); break;
        case '<': buf_adds(b, "&lt;"); break;
        case '>': buf_adds(b, "&gt;"); break;
        case '"': buf_adds(b, attr ? "&quot;" : "\""); break;
        default: buf_addc(b, *s); break;
        }
    }
}

static int
has_element_child(const xmlNode *n)
{
    for (const xmlNode *c = n->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return 1;
    return 0;
}

/* Each leaf element with text under `n`, in document order. */
static void
leaves(struct buf *b, const xmlNode *n)
{
    for (const xmlNode *c = n->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (has_element_child(c)) {
            leaves(b, c);
            continue;
        }
        xmlChar *raw = xmlNodeGetContent(c);
        const char *t = (const char *)raw;
        size_t len = t ? strlen(t) : 0;
        while (len > 0 && strchr(" \t\r\n", t[len - 1]))
            len--;
        while (len > 0 && strchr(" \t\r\n", *t))
            t++, len--;
        if (len > 0) {
            char *v = strndup(t, len);
            buf_adds(b, "<dt>");
            escape(b, (const char *)c->name, 0);
            buf_adds(b, "</dt><dd>");
            if (v != NULL && (strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0) &&
                strpbrk(v, " \t\r\n") == NULL) {
                buf_adds(b, "<a href=\"");
                escape(b, v, 1);
                buf_adds(b, "\">");
                escape(b, v, 0);
                buf_adds(b, "</a>");
            } else if (v != NULL) {
                escape(b, v, 0);
            }
            buf_adds(b, "</dd>");
            free(v);
        }
        xmlFree(raw);
    }
}

char *
xmldata_html(const char *markup)
{
    struct buf src = {0}, out = {0};
    buf_adds(&src, "<r>");
    buf_adds(&src, markup);
    buf_adds(&src, "</r>");
    char *doc_text = buf_steal(&src);
    if (doc_text == NULL)
        return NULL;
    /* never XML_PARSE_NOENT or DTD loading (STYLE §6); the markup comes from
     * our own serializer, so a broken one is recovered, not refused */
    xmlDocPtr doc = xmlReadMemory(doc_text, (int)strlen(doc_text), NULL, "UTF-8",
                                  XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING);
    free(doc_text);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    buf_adds(&out, "<dl>");
    if (root != NULL)
        leaves(&out, root);
    buf_adds(&out, "</dl>");
    xmlFreeDoc(doc);
    char *html = buf_steal(&out);
    if (html != NULL && strcmp(html, "<dl></dl>") == 0)
        html[0] = '\0';
    return html;
}
