/* parse/feed/entity_bound.c — the bound on entity expansion (SPEC §9), to be
 * reviewed on its own: no external entity is ever loaded, an entity whose
 * expansion would cost too much is declared empty (billion laughs), and past
 * ENTITY_MAX_TEXT bytes of replacement text no reference is expanded. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>

#include "parse/feed/sax_parser_int.h"
#include "parse/report_int.h"

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
    parse_report_msg(s->report, "entity '%s' %s", (const char *)name, why);
}

int
sax_entity_text_ok(struct sax *s, int len)
{
    s->entity_text += (size_t)len;
    if (s->entity_text <= ENTITY_MAX_TEXT)
        return 1;
    if (s->ctxt->wellFormed) {
        s->report->problems |= PARSE_P_MALFORMED;
        parse_report_msg(s->report, "entities expand past %d bytes: expansion stopped",
                         ENTITY_MAX_TEXT);
    }
    /* libxml2 expands no reference in a document it knows is broken */
    s->ctxt->wellFormed = 0;
    return 0;
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

void
sax_entity_handlers(xmlSAXHandler *h)
{
    h->reference = on_reference;
    h->getEntity = on_get_entity;
    h->entityDecl = on_entity_decl;
    h->resolveEntity = NULL;
    h->externalSubset = NULL;
}
