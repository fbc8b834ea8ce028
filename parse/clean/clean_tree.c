/* parse/clean/clean_tree.c — the cleaner's tree: the tokenizer (clean_lex.c) hands
 * over tags and text, and a light tree of struct cnode is built from them in
 * an arena, by the rules of libxml2 2.9's HTML parser (implied ends, end tags
 * that close what they may, misplaced html/head/body). The pre-order rules of
 * SPEC §4 apply here, so removed subtrees are never built: the removal list,
 * `remove` selectors, iframes of other hosts; lazy-loading attributes. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/clean/clean_int.h"

/* Nesting deeper than this stops the parse, as libxml2's own tree builder does
 * (xmlParserMaxDepth): what follows is dropped, and the walk's recursion stays
 * bounded. */
#define DEPTH_MAX 256
/* Open elements inside a removed subtree are counted too, up to this. */
#define STACK_MAX 1024

#define NO_SKIP SIZE_MAX

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

/* ---- the builder ---- */

/* Open elements are also chained by name (slot: the table's row, or a hash
 * of a name it does not know), so that an end tag finds its element, and
 * whether one of a higher priority stands above it, without walking the
 * stack. */
#define SLOTS (CLEAN_TAGS_MAX + 64)

struct frame {
    const struct clean_tag *t; /* NULL: a name the table does not know */
    const char *name;          /* lower case */
    struct cnode *node;        /* where children go; NULL inside a removed subtree */
    int below;                 /* the next open element of the same slot down, or -1 */
    unsigned slot;
    /* 1 when node is not this frame's own element: html and body (their
     * children go to the element they stand in), or a frame open_parent()
     * moved up */
    int borrowed;
};

struct clean_builder {
    const struct parse_cleaner *c;
    struct arena *a;
    const struct clean_tag *html, *head, *body, *p;
    size_t n;       /* open elements, st[n - 1] the current one */
    size_t skip_at; /* st[skip_at] and above are not built; NO_SKIP */
    int misplaced;  /* html, head, body start tags ignored (libxml2's ctxt->depth) */
    int stopped;
    int err;
    int top[SLOTS]; /* the topmost open element of each slot, or -1 */
    struct frame st[STACK_MAX];
};

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
lazy_promote(struct clean_builder *b, struct cnode *el)
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

/* Keep the allowlisted attributes only. */
static void
attrs_keep(struct cnode *el)
{
    size_t k = 0;
    for (size_t i = 0; i < el->nattrs; i++) {
        const char *name = el->attrs[i].name;
        if (clean_attr_allowed(el->tag, clean_attr_id(name, strlen(name))))
            el->attrs[k++] = el->attrs[i];
    }
    el->nattrs = k;
}

/* The element with the attributes the tokenizer kept, values decoded. */
static struct cnode *
build_element(struct clean_builder *b, const struct clean_tag *t, const char *name,
              const struct clean_attr_tok *atts, size_t n)
{
    struct cnode *el = arena_alloc(b->a, sizeof *el);

    if (el == NULL)
        return NULL;
    memset(el, 0, sizeof *el);
    el->name = name;
    el->tag = t;
    if (n == 0)
        return el;
    if ((el->attrs = arena_alloc(b->a, n * sizeof *el->attrs)) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char *v = NULL;
        if (atts[i].val != NULL) {
            if ((v = arena_alloc(b->a, atts[i].vlen + 1)) == NULL)
                return NULL;
            clean_decode(v, atts[i].val, atts[i].vlen, 1);
        }
        el->attrs[i] = (struct cattr){atts[i].name, v};
    }
    el->nattrs = n;
    return el;
}

static int
skipping(const struct clean_builder *b)
{
    return b->skip_at < b->n;
}

static unsigned
slot_of(const struct clean_tag *t, const char *name, size_t nl)
{
    if (t != NULL)
        return (unsigned)clean_tag_index(t);
    return CLEAN_TAGS_MAX + (clean_name_hash(name, nl) & (SLOTS - CLEAN_TAGS_MAX - 1));
}

static void
pop(struct clean_builder *b)
{
    const struct frame *f = &b->st[b->n - 1];
    b->top[f->slot] = f->below;
    if (--b->n == b->skip_at)
        b->skip_at = NO_SKIP;
}

static int
push(struct clean_builder *b, const struct clean_tag *t, const char *name, struct cnode *node)
{
    if (b->n == STACK_MAX) {
        b->stopped = 1;
        return -1;
    }
    unsigned slot = slot_of(t, name, t != NULL ? 0 : strlen(name));
    b->st[b->n] = (struct frame){t, name, node, b->top[slot], slot, t == b->html || t == b->body};
    b->top[slot] = (int)b->n++;
    return 0;
}

static void
push_skip(struct clean_builder *b, const struct clean_tag *t, const char *name)
{
    size_t at = b->n;
    if (push(b, t, name, NULL) == 0 && b->skip_at == NO_SKIP)
        b->skip_at = at;
}

static int
fail(struct clean_builder *b)
{
    b->err = -ENOMEM;
    b->stopped = 1;
    return -ENOMEM;
}

/* Where a new element `t` goes. A start tag is checked against the current
 * frame only (htmlAutoClose), and that is not always our element: inside a
 * <body> met again within an element (<td><body><td>) the frame holds no
 * element of its own, so the new element would land inside that <td>, and
 * the output, read again, would be split there (not idempotent). So close
 * ours the way the output will be read: while the new element may not stand
 * in the element of the current frame, every frame holding that element
 * moves up to its parent, and what follows goes there too. */
static struct cnode *
open_parent(struct clean_builder *b, const struct clean_tag *t)
{
    struct cnode *p = b->st[b->n - 1].node;

    if (!b->st[b->n - 1].borrowed) /* our own element: htmlAutoClose did it */
        return p;
    while (p->name != NULL && clean_tag_closes(t, p->tag)) {
        struct cnode *up = p->parent;
        for (size_t i = 0; i < b->n; i++) {
            if (b->st[i].node == p) {
                b->st[i].node = up;
                b->st[i].borrowed = 1;
            }
        }
        p = up;
    }
    return p;
}

/* The name to keep for a frame or a node: the table's, or a copy. */
static const char *
keep_name(struct clean_builder *b, const struct clean_tag *t, const char *name, size_t nl)
{
    return t != NULL ? t->name : arena_strndup(b->a, name, nl);
}

/* A start tag the builder takes (libxml2 sends startElement): build it, or
 * not. Void elements get no frame. */
static int
open_element(struct clean_builder *b, const struct clean_tag *t, const char *name, size_t nl,
             const struct clean_attr_tok *atts, size_t n)
{
    unsigned flags = t != NULL ? t->flags : 0;
    int is_void = (flags & TAG_VOID) != 0, iframe = (flags & TAG_IFRAME) != 0;
    struct cnode *parent;
    const char *kept;

    if (skipping(b)) {
        if (!is_void) {
            if ((kept = keep_name(b, t, name, nl)) == NULL)
                return fail(b);
            push(b, t, kept, NULL);
        }
        return 0;
    }
    if (b->n == DEPTH_MAX) {
        b->stopped = 1;
        return 0;
    }
    if (t == b->html || t == b->body) { /* transparent: children go to the parent */
        push(b, t, t->name, b->st[b->n - 1].node);
        return 0;
    }
    if ((kept = keep_name(b, t, name, nl)) == NULL)
        return fail(b);
    if ((flags & TAG_DROP) && !(iframe && b->c->niframe_hosts > 0)) {
        if (!is_void)
            push_skip(b, t, kept);
        return 0;
    }
    struct cnode *el = build_element(b, t, kept, atts, n);
    if (el == NULL)
        return fail(b);
    if (b->c->nsels > 0 && clean_sels_match(b->c->sels, b->c->nsels, el)) {
        if (!is_void)
            push_skip(b, t, kept);
        return 0;
    }
    int lazy = 0;
    for (size_t i = 0; i < n && !lazy; i++)
        lazy = clean_attr_lazy(atts[i].id);
    if (lazy && (iframe || (flags & (TAG_VOID | TAG_CONTENT))) && lazy_promote(b, el) < 0)
        return fail(b);
    if (iframe) {
        const char *src = cnode_attr(el, "src");
        int err = 0;
        char *https = src != NULL ? clean_iframe_src(b->c, src, &err) : NULL;
        int rc = https != NULL ? cnode_attr_set(b->a, el, "src", https) : err;
        free(https);
        if (rc < 0)
            return fail(b);
        if (https != NULL) { /* kept, without its fallback content */
            attrs_keep(el);
            cnode_append(open_parent(b, t), el);
        }
        push_skip(b, t, kept);
        return 0;
    }
    if (b->c->nsels > 0 || (flags & (TAG_VOID | TAG_CONTENT)))
        attrs_keep(el); /* else the tokenizer kept allowlisted ones only */
    parent = open_parent(b, t);
    cnode_append(parent, el);
    if (!is_void)
        push(b, t, kept, el);
    return 0;
}

void
clean_tree_autoclose(struct clean_builder *b, const struct clean_tag *t, const char *name,
                     size_t nl)
{
    (void)name, (void)nl; /* a name the table does not know closes nothing */
    while (b->n > 0 && clean_tag_closes(t, b->st[b->n - 1].t))
        pop(b);
}

int
clean_tree_wants_attr(const struct clean_builder *b, const struct clean_tag *t, int id)
{
    if (skipping(b))
        return 0;
    if (b->c->nsels > 0)
        return 1;
    if (clean_attr_allowed(t, id))
        return 1;
    return clean_attr_lazy(id) && t != NULL &&
           (t->flags & (TAG_VOID | TAG_CONTENT | TAG_IFRAME)) != 0;
}

char *
clean_tree_strdup(struct clean_builder *b, const char *s, size_t n)
{
    return arena_strndup(b->a, s, n);
}

/* htmlParseStartTag and what the push parser does after it: `how` is '>',
 * '/' for "/>", or 0 when the input ended inside the tag. */
int
clean_tree_start(struct clean_builder *b, const struct clean_tag *t, const char *name, size_t nl,
                 const struct clean_attr_tok *atts, size_t n, int how)
{
    int discard = 0;

    if ((t == b->html && b->n > 0) || (t == b->head && b->n != 1)) {
        discard = 1;
        b->misplaced++;
    } else if (t == b->body) {
        for (size_t i = 0; i < b->n; i++) {
            if (b->st[i].t == b->body) {
                discard = 1;
                b->misplaced++;
            }
        }
    }
    size_t before = b->n;
    if (!discard && open_element(b, t, name, nl, atts, n) < 0)
        return b->err;
    if (b->stopped)
        return b->err;
    /* "<x/>" ends the element at once; after a misplaced tag, libxml2 ends
     * its current element instead */
    if (how == '/' && b->n > 0 && (discard || b->n > before))
        pop(b);
    return 0;
}

static int
frame_is(const struct frame *f, const struct clean_tag *t, const char *name, size_t nl)
{
    if (t != NULL || f->t != NULL)
        return f->t == t;
    return strncmp(f->name, name, nl) == 0 && f->name[nl] == '\0';
}

/* htmlParseEndTag: closes the element named and every one above it, unless
 * one of them has a higher priority; ignored when none is open. */
int
clean_tree_end(struct clean_builder *b, const struct clean_tag *t, const char *name, size_t nl)
{
    if (b->misplaced > 0 && t != NULL && (t == b->html || t == b->body || t == b->head)) {
        b->misplaced--;
        return 0;
    }
    int i = b->top[slot_of(t, name, nl)];
    while (i >= 0 && !frame_is(&b->st[i], t, name, nl))
        i = b->st[i].below;
    if (i < 0)
        return 0;
    if ((size_t)i + 1 == b->n) { /* the current element: nothing stands above it */
        pop(b);
        goto out;
    }
    const struct clean_tag *const *high;
    size_t nhigh = clean_tags_high(&high);
    int prio = clean_tag_priority(t);
    for (size_t k = 0; k < nhigh; k++)
        if (high[k]->prio > prio && b->top[clean_tag_index(high[k])] > i)
            return 0;
    while (b->n > (size_t)i)
        pop(b);
out:
    if (b->n == 0)
        b->stopped = 1; /* after </html> libxml2 reads nothing more */
    return 0;
}

int
clean_tree_text(struct clean_builder *b, const char *raw, size_t len, int imply)
{
    if (skipping(b) || len == 0)
        return 0;
    const struct clean_tag *top = b->st[b->n - 1].t;
    if (imply && (top == b->html || top == b->head)) {
        /* htmlCheckParagraph: text outside body gets a <p> unless blank */
        size_t k = 0;
        while (k < len && (raw[k] == ' ' || raw[k] == '\t' || raw[k] == '\n' || raw[k] == '\r'))
            k++;
        if (k < len) {
            clean_tree_autoclose(b, b->p, "p", 1);
            if (open_element(b, b->p, "p", 1, NULL, 0) < 0)
                return b->err;
            if (b->stopped || skipping(b))
                return b->err;
        }
    }
    struct cnode *parent = b->st[b->n - 1].node, *t = parent->last;
    if (t == NULL || t->name != NULL) {
        if ((t = arena_alloc(b->a, sizeof *t)) == NULL)
            return fail(b);
        memset(t, 0, sizeof *t);
        cnode_append(parent, t);
    }
    if (t->len + len + 1 > t->cap) {
        /* text met again after a comment or a removed element: grow by doubling */
        size_t cap = t->cap * 2 > t->len + len + 1 ? t->cap * 2 : t->len + len + 1;
        char *text = arena_alloc(b->a, cap);
        if (text == NULL)
            return fail(b);
        if (t->len > 0)
            memcpy(text, t->text, t->len);
        t->text = text;
        t->cap = cap;
    }
    t->len += clean_decode(t->text + t->len, raw, len, 0);
    return 0;
}

const char *
clean_tree_raw(const struct clean_builder *b, size_t *len)
{
    const struct clean_tag *t = b->n > 0 ? b->st[b->n - 1].t : NULL;
    if (t == NULL || !(t->flags & TAG_RAW))
        return NULL;
    *len = strlen(t->name);
    return t->name;
}

int
clean_tree_stopped(const struct clean_builder *b)
{
    return b->stopped;
}

int
clean_tree_build(const struct parse_cleaner *c, const char *html, size_t len, struct arena *a,
                 struct cnode **root)
{
    struct clean_builder *b = malloc(sizeof *b);
    int rc;

    *root = NULL;
    if (b == NULL)
        return -ENOMEM;
    b->c = c;
    b->a = a;
    b->html = clean_tag_find("html");
    b->head = clean_tag_find("head");
    b->body = clean_tag_find("body");
    b->p = clean_tag_find("p");
    b->skip_at = NO_SKIP;
    b->misplaced = 0;
    b->stopped = 0;
    b->err = 0;
    struct cnode *top = arena_alloc(a, sizeof *top);
    if (top == NULL) {
        free(b);
        return -ENOMEM;
    }
    memset(top, 0, sizeof *top);
    /* the fragment is read as the content of <html><body> */
    memset(b->top, 0xFF, sizeof b->top); /* -1 */
    b->n = 0;
    push(b, b->html, "html", top);
    push(b, b->body, "body", top);
    rc = clean_lex_run(b, html, len);
    if (rc == 0)
        rc = b->err;
    if (rc == 0)
        *root = top;
    free(b);
    return rc;
}
