/* parse/clean/clean_tree.c — the cleaner's tree: libxml2's HTML push parser reports
 * SAX events, and a light tree of struct cnode is built from them in an arena
 * (libxml2's own DOM costs more than all the cleaning). The pre-order rules of
 * SPEC §4 apply here, so removed subtrees are never built: the removal list,
 * `remove` selectors, iframes of other hosts; lazy-loading attributes. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "parse/clean/clean_int.h"

/* Nesting deeper than this stops the parse, as libxml2's own tree builder does
 * (xmlParserMaxDepth): what follows is dropped, and the walk's recursion stays
 * bounded. */
#define DEPTH_MAX 256

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
};

void *
arena_alloc(struct arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    struct arena_block *b = a->head;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = a->next_size ? a->next_size : 8192;
        if (a->next_size < (1u << 20))
            a->next_size = cap * 2;
        if (cap < n)
            cap = n;
        if ((b = malloc(sizeof *b + cap)) == NULL)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void
arena_free(struct arena *a)
{
    for (struct arena_block *b = a->head, *next; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
    a->next_size = 0;
    xmlDictFree(a->dict);
    a->dict = NULL;
}

const char *
cnode_attr(const struct cnode *el, const char *name)
{
    for (size_t i = 0; i < el->nattrs; i++)
        if (strcmp(el->attrs[i].name, name) == 0)
            return el->attrs[i].value != NULL ? el->attrs[i].value : "";
    return NULL;
}

int
cnode_attr_set(struct arena *a, struct cnode *el, const char *name, const char *value)
{
    char *v = arena_strndup(a, value, strlen(value));
    if (v == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < el->nattrs; i++) {
        if (strcmp(el->attrs[i].name, name) == 0) {
            el->attrs[i].value = v;
            return 0;
        }
    }
    struct cattr *grown = arena_alloc(a, (el->nattrs + 1) * sizeof *grown);
    if (grown == NULL)
        return -ENOMEM;
    if (el->nattrs > 0)
        memcpy(grown, el->attrs, el->nattrs * sizeof *grown);
    grown[el->nattrs++] = (struct cattr){name, v};
    el->attrs = grown;
    return 0;
}

void
cnode_attr_remove(struct cnode *el, size_t i)
{
    memmove(&el->attrs[i], &el->attrs[i + 1], (el->nattrs - i - 1) * sizeof *el->attrs);
    el->nattrs--;
}

void
cnode_unlink(struct cnode *n)
{
    struct cnode *p = n->parent;
    if (n->prev != NULL)
        n->prev->next = n->next;
    else if (p != NULL)
        p->first = n->next;
    if (n->next != NULL)
        n->next->prev = n->prev;
    else if (p != NULL)
        p->last = n->prev;
    n->parent = n->prev = n->next = NULL;
}

static void
cnode_append(struct cnode *parent, struct cnode *n)
{
    n->parent = parent;
    n->prev = parent->last;
    n->next = NULL;
    if (parent->last != NULL)
        parent->last->next = n;
    else
        parent->first = n;
    parent->last = n;
}

/* ---- SAX events → tree ---- */

/* Element names are interned in libxml2's dictionary: a small cache keyed on
 * the pointer saves most table look-ups. */
#define TAG_CACHE 64

struct tag_cache_slot {
    const char *name;
    const struct clean_tag *tag;
};

struct builder {
    const struct parse_cleaner *c;
    struct tag_cache_slot cache[TAG_CACHE];
    struct arena *a;
    xmlParserCtxtPtr ctxt;
    struct cnode *stack[DEPTH_MAX + 1]; /* open elements; stack[0] is the root */
    /* 1 where stack[i] is not the element libxml2 opened at that depth: a
     * transparent frame (a dropped void element, html, body) or one that
     * open_parent() moved up */
    unsigned char borrowed[DEPTH_MAX + 1];
    size_t depth;
    size_t skip; /* > 0 inside a subtree that is not built */
    int err;
    int halted;
};

static void
build_fail(struct builder *b)
{
    b->err = -ENOMEM;
    xmlStopParser(b->ctxt);
}

/* Index of attribute `name` of `el`, or -1. */
static long
attr_index(const struct cnode *el, const char *name)
{
    for (size_t i = 0; i < el->nattrs; i++)
        if (strcmp(el->attrs[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Lazy-loading images and players: data-src & co. become src when src is
 * missing or a placeholder, data-srcset becomes srcset when that is empty
 * (renamed where they stand when the real attribute is absent). Runs before
 * attributes are stripped (SPEC §4). */
static int
lazy_promote(struct builder *b, struct cnode *el)
{
    static const char *const lazy_src[] = {"data-src", "data-original", "data-lazy-src"};
    static const char *const lazy_srcset[] = {"data-srcset", "data-lazy-srcset"};
    const char *src = cnode_attr(el, "src"), *srcset = cnode_attr(el, "srcset");

    if (src == NULL || clean_is_placeholder(src)) {
        for (size_t i = 0; i < sizeof lazy_src / sizeof *lazy_src; i++) {
            long k = attr_index(el, lazy_src[i]);
            const char *v = k >= 0 ? el->attrs[k].value : NULL;
            if (v == NULL || clean_is_placeholder(v))
                continue;
            if (src == NULL)
                el->attrs[k].name = "src";
            else if (cnode_attr_set(b->a, el, "src", v) < 0)
                return -ENOMEM;
            break;
        }
    }
    if (srcset == NULL || clean_is_blank(srcset)) {
        for (size_t i = 0; i < sizeof lazy_srcset / sizeof *lazy_srcset; i++) {
            long k = attr_index(el, lazy_srcset[i]);
            const char *v = k >= 0 ? el->attrs[k].value : NULL;
            if (v == NULL || clean_is_blank(v))
                continue;
            if (srcset == NULL)
                el->attrs[k].name = "srcset";
            else if (cnode_attr_set(b->a, el, "srcset", v) < 0)
                return -ENOMEM;
            break;
        }
    }
    return 0;
}

static const struct clean_tag *
tag_lookup(struct builder *b, const char *name)
{
    struct tag_cache_slot *slot = &b->cache[((uintptr_t)name >> 3) % TAG_CACHE];
    if (slot->name != name) {
        slot->name = name;
        /* "x:p" is unknown (unwrapped), whatever follows the colon */
        slot->tag = strchr(name, ':') == NULL ? clean_tag_find(name) : NULL;
    }
    return slot->tag;
}

/* `name` is one of the words of `list` (" a b c "). */
static int
attr_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    if (list == NULL)
        return 0;
    for (const char *p = strstr(list, name); p != NULL; p = strstr(p + 1, name))
        if (p[-1] == ' ' && p[n] == ' ')
            return 1;
    return 0;
}

/* Keep the allowlisted attributes, copied out of libxml2's memory. */
static int
attrs_keep(struct builder *b, struct cnode *el)
{
    size_t k = 0;
    for (size_t i = 0; i < el->nattrs; i++) {
        struct cattr a = el->attrs[i];
        if (el->tag == NULL || !attr_listed(el->tag->attrs, a.name))
            continue;
        if (a.value != NULL && (a.value = arena_strndup(b->a, a.value, strlen(a.value))) == NULL)
            return -ENOMEM;
        el->attrs[k++] = a;
    }
    el->nattrs = k;
    return 0;
}

/* The element with its attributes as libxml2 has them (values borrowed until
 * attrs_keep). */
static struct cnode *
build_element(struct builder *b, const char *name, const struct clean_tag *tag,
              const xmlChar **atts)
{
    struct cnode *el = arena_alloc(b->a, sizeof *el);
    size_t n = 0;

    if (el == NULL)
        return NULL;
    memset(el, 0, sizeof *el);
    el->name = name;
    el->tag = tag;
    while (atts != NULL && atts[2 * n] != NULL)
        n++;
    if (n == 0)
        return el;
    if ((el->attrs = arena_alloc(b->a, n * sizeof *el->attrs)) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        el->attrs[i].name = (const char *)atts[2 * i]; /* libxml2's dictionary */
        el->attrs[i].value = (const char *)atts[2 * i + 1];
    }
    el->nattrs = n;
    return el;
}

/* Where a new element `name` goes. libxml2 checks a start tag against its
 * current element only (htmlAutoClose), and that is not always ours: inside a
 * dropped void element it does not know as void (<p><embed><p>, <a><embed><a>)
 * it put the new element under the embed, which our tree leaves out, so the
 * element would land in our <p> or <a>, and the output, read again, would be
 * split there (not idempotent, and not what browsers build either). So close
 * ours the way libxml2 will when it reads the output: while the new element
 * may not stand in the element of the current frame, every frame holding that
 * element moves up to its parent, and what follows goes there too. */
static struct cnode *
open_parent(struct builder *b, const char *name)
{
    struct cnode *p = b->stack[b->depth];

    if (!b->borrowed[b->depth]) /* libxml2's own current element: already done */
        return p;
    while (p->name != NULL && clean_closes(name, p->name)) {
        struct cnode *up = p->parent;
        for (size_t i = 0; i <= b->depth; i++) {
            if (b->stack[i] == p) {
                b->stack[i] = up;
                b->borrowed[i] = 1;
            }
        }
        p = up;
    }
    return p;
}

static void
on_start(void *ctx, const xmlChar *xname, const xmlChar **atts)
{
    struct builder *b = ctx;
    const char *name = (const char *)xname;

    if (b->err || b->halted)
        return;
    if (b->skip > 0) {
        b->skip++;
        return;
    }
    if (b->depth == DEPTH_MAX) {
        b->halted = 1;
        xmlStopParser(b->ctxt);
        return;
    }
    if (strcmp(name, "body") == 0 || strcmp(name, "html") == 0) {
        /* our own <body> prefix, or one met after a stray </body>: transparent */
        b->stack[b->depth + 1] = b->stack[b->depth];
        b->borrowed[++b->depth] = 1;
        return;
    }
    const struct clean_tag *tag = tag_lookup(b, name);
    unsigned flags = tag != NULL ? tag->flags : 0;
    int iframe = (flags & TAG_IFRAME) != 0;

    if ((flags & (TAG_DROP | TAG_VOID)) == (TAG_DROP | TAG_VOID)) {
        b->stack[b->depth + 1] = b->stack[b->depth]; /* transparent */
        b->borrowed[++b->depth] = 1;
        return;
    }
    if ((flags & TAG_DROP) && !(iframe && b->c->niframe_hosts > 0)) {
        b->skip = 1;
        return;
    }
    struct cnode *el = build_element(b, name, tag, atts);
    if (el == NULL) {
        build_fail(b);
        return;
    }
    if (b->c->nsels > 0 && clean_sels_match(b->c->sels, b->c->nsels, el)) {
        b->skip = 1;
        return;
    }
    if ((iframe || (flags & (TAG_VOID | TAG_CONTENT))) && lazy_promote(b, el) < 0) {
        build_fail(b);
        return;
    }
    if (iframe) {
        const char *src = cnode_attr(el, "src");
        char *https = src != NULL ? clean_iframe_src(b->c, src, &b->err) : NULL;
        int rc = https != NULL ? cnode_attr_set(b->a, el, "src", https) : b->err;
        free(https);
        if (rc == 0 && https != NULL)
            rc = attrs_keep(b, el);
        if (rc < 0) {
            build_fail(b);
            return;
        }
        if (https != NULL) /* kept, without its fallback content */
            cnode_append(open_parent(b, name), el);
        b->skip = 1;
        return;
    }
    if (attrs_keep(b, el) < 0) {
        build_fail(b);
        return;
    }
    cnode_append(open_parent(b, name), el);
    b->stack[++b->depth] = el;
    b->borrowed[b->depth] = 0;
}

static void
on_end(void *ctx, const xmlChar *name)
{
    struct builder *b = ctx;

    (void)name; /* libxml2 reports ends in the order of its own stack */
    if (b->err || b->halted)
        return;
    if (b->skip > 0)
        b->skip--;
    else if (b->depth > 0)
        b->depth--;
}

static void
on_text(void *ctx, const xmlChar *ch, int len)
{
    struct builder *b = ctx;
    struct cnode *parent = b->stack[b->depth], *t = parent->last;
    size_t n = (size_t)len;

    if (b->err || b->halted || b->skip > 0 || len <= 0)
        return;
    if (t == NULL || t->name != NULL) {
        if ((t = arena_alloc(b->a, sizeof *t)) == NULL)
            goto fail;
        memset(t, 0, sizeof *t);
        cnode_append(parent, t);
    }
    if (t->len + n + 1 > t->cap) {
        /* libxml2 hands text over in pieces of about 1000 bytes: grow by doubling */
        size_t cap = t->cap * 2 > t->len + n + 1 ? t->cap * 2 : t->len + n + 1;
        char *text = arena_alloc(b->a, cap);
        if (text == NULL)
            goto fail;
        if (t->len > 0)
            memcpy(text, t->text, t->len);
        t->text = text;
        t->cap = cap;
    }
    memcpy(t->text + t->len, ch, n);
    t->len += n;
    t->text[t->len] = '\0';
    return;
fail:
    build_fail(b);
}

int
clean_tree_build(const struct parse_cleaner *c, const char *html, size_t len, struct arena *a,
                 struct cnode **root)
{
    htmlSAXHandler sax;
    struct builder *b = NULL;
    int rc = -ENOMEM;

    *root = NULL;
    if (len > INT_MAX)
        return -ENOMEM; /* beyond what libxml2 takes in one call */
    if ((b = calloc(1, sizeof *b)) == NULL)
        return -ENOMEM;
    b->c = c;
    b->a = a;
    if ((b->stack[0] = arena_alloc(a, sizeof *b->stack[0])) == NULL)
        goto out;
    memset(b->stack[0], 0, sizeof *b->stack[0]);
    /* no startDocument: libxml2 builds no tree of its own; comments and
     * processing instructions are not reported at all */
    memset(&sax, 0, sizeof sax);
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_text;
    sax.ignorableWhitespace = on_text;
    sax.cdataBlock = on_text;
    sax.initialized = 1;
    /* the handler table is copied into the context */
    b->ctxt = htmlCreatePushParserCtxt(&sax, b, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
    if (b->ctxt == NULL)
        goto out;
    /* IGNORE_ENC: a <meta charset> in the fragment must not re-decode it */
    htmlCtxtUseOptions(b->ctxt, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                    HTML_PARSE_NOIMPLIED | HTML_PARSE_RECOVER |
                                    HTML_PARSE_IGNORE_ENC);
    htmlParseChunk(b->ctxt, html, (int)len, 1);
    if ((rc = b->err) == 0)
        *root = b->stack[0];
out:
    if (b->ctxt != NULL) {
        /* names in the tree point into the context's dictionary: the arena
         * keeps a reference */
        if (xmlDictReference(b->ctxt->dict) == 0)
            a->dict = b->ctxt->dict;
        else if (rc == 0)
            rc = -ENOMEM;
        htmlFreeParserCtxt(b->ctxt);
    }
    free(b);
    return rc;
}
