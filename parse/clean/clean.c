/* parse/clean/clean.c — the allowlist HTML sanitizer of SPEC §4 (parse_cleaner_new,
 * parse_clean): the element table, and the post-order walk that unwraps,
 * removes and rewrites the tree clean_tree.c built; clean_out.c writes it.
 * Choices: text is UTF-8 with only & < > escaped and U+00A0 as "&nbsp;"; white
 * space stays as written; the output is trimmed of ASCII white space. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/clean/clean_int.h"
#include "parse/mojibake_int.h"

/* ---- the cleaner ---- */

int
parse_cleaner_new(const struct parse_clean_opts *opts, struct parse_cleaner **out, char *err,
                  size_t errsize)
{
    struct parse_cleaner *c;
    int rc;

    *out = NULL;
    if (err != NULL && errsize > 0)
        err[0] = '\0';
    clean_tags_init();
    if ((c = calloc(1, sizeof *c)) == NULL)
        return -ENOMEM;
    if (opts == NULL)
        goto done;
    if ((rc = clean_sels_parse(opts->remove, &c->sels, &c->nsels, err, errsize)) < 0)
        goto fail;
    if (opts->remove_text != NULL && opts->remove_text[0] != '\0') {
        int rrc = regcomp(&c->text_re, opts->remove_text, REG_EXTENDED | REG_NOSUB);
        if (rrc != 0) {
            char why[160];
            regerror(rrc, &c->text_re, why, sizeof why);
            if (err != NULL && errsize > 0)
                snprintf(err, errsize, "remove_text: bad regular expression \"%.80s\": %s",
                         opts->remove_text, why);
            rc = rrc == REG_ESPACE ? -ENOMEM : -EINVAL;
            goto fail;
        }
        c->has_text_re = 1;
    }
    if (opts->niframe_hosts > 0) {
        if ((c->iframe_hosts = calloc(opts->niframe_hosts, sizeof *c->iframe_hosts)) == NULL) {
            rc = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < opts->niframe_hosts; i++) {
            const char *h = opts->iframe_hosts[i];
            if (h == NULL || h[0] == '\0')
                continue;
            char *copy = strdup(h);
            if (copy == NULL) {
                rc = -ENOMEM;
                goto fail;
            }
            for (char *q = copy; *q; q++)
                if (*q >= 'A' && *q <= 'Z')
                    *q = (char)(*q - 'A' + 'a');
            c->iframe_hosts[c->niframe_hosts++] = copy;
        }
    }
done:
    *out = c;
    return 0;
fail:
    parse_cleaner_free(c);
    return rc;
}

void
parse_cleaner_free(struct parse_cleaner *c)
{
    if (c == NULL)
        return;
    clean_sels_free(c->sels, c->nsels);
    if (c->has_text_re)
        regfree(&c->text_re);
    for (size_t i = 0; i < c->niframe_hosts; i++)
        free(c->iframe_hosts[i]);
    free(c->iframe_hosts);
    free(c);
}

/* ---- the walk ---- */

struct walk {
    const struct parse_cleaner *c;
    const char *base; /* borrowed, may be NULL */
    struct arena *a;
    struct buf text; /* scratch for remove_text */
    int err;         /* -ENOMEM once an allocation failed */
    int reparse;     /* an unwrap left a parent the tree builder would close early */
};

/* Move the children of `el` where it stands and take it out. */
static void
node_unwrap(struct cnode *el)
{
    struct cnode *parent = el->parent;

    for (struct cnode *ch = el->first; ch != NULL; ch = ch->next)
        ch->parent = parent;
    if (el->first != NULL) {
        el->first->prev = el->prev;
        el->last->next = el->next;
        if (el->prev != NULL)
            el->prev->next = el->first;
        else
            parent->first = el->first;
        if (el->next != NULL)
            el->next->prev = el->last;
        else
            parent->last = el->last;
        el->first = el->last = NULL;
        el->parent = el->prev = el->next = NULL;
    } else {
        cnode_unlink(el);
    }
}

/* How an allowed attribute holding a URL is checked, or -1 for other ones. */
static int
url_use_of(const char *el, const char *attr)
{
    switch (attr[0]) {
    case 'h':
        return strcmp(attr, "href") == 0 ? URL_LINK : -1;
    case 'c':
        return strcmp(attr, "cite") == 0 ? URL_LINK : -1;
    case 's':
        if (strcmp(attr, "src") != 0)
            return -1;
        return strcmp(el, "img") == 0 ? URL_IMAGE : URL_MEDIA;
    case 'p':
        return strcmp(attr, "poster") == 0 ? URL_MEDIA : -1;
    default:
        return -1;
    }
}

/* Check and resolve the URLs among the (allowlisted) attributes of `el`; drop
 * any other attribute whose value reads as a script or data: URL. */
static void
attrs_urls(struct walk *w, struct cnode *el)
{
    for (size_t i = 0; i < el->nattrs && w->err == 0;) {
        struct cattr *a = &el->attrs[i];
        int use = url_use_of(el->name, a->name);
        int srcset = a->name[0] == 's' && strcmp(a->name, "srcset") == 0;
        if (use < 0 && !srcset) {
            if (a->value != NULL && clean_value_is_script(a->value))
                cnode_attr_remove(el, i);
            else
                i++;
            continue;
        }
        const char *v = a->value != NULL ? a->value : "";
        char *clean = srcset ? clean_srcset(v, w->base, &w->err)
                             : clean_url(v, (enum clean_url_use)use, w->base, &w->err);
        if (clean == NULL) {
            cnode_attr_remove(el, i);
            continue;
        }
        if (clean != v) {
            if (strcmp(clean, v) != 0 &&
                (a->value = arena_strndup(w->a, clean, strlen(clean))) == NULL)
                w->err = -ENOMEM;
            free(clean);
        }
        i++;
    }
}

/* Leading integer of a width/height attribute ("1", " 1px"), -1 if none. */
static long
dimension(const char *v)
{
    if (v == NULL)
        return -1;
    while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r' || *v == '\f')
        v++;
    if (*v < '0' || *v > '9')
        return -1;
    long n = 0;
    for (; *v >= '0' && *v <= '9' && n < 100000; v++)
        n = n * 10 + (*v - '0');
    return n;
}

/* After filtering: an img needs a usable src (the first srcset candidate will
 * do), is no tracking pixel, and carries referrerpolicy="no-referrer".
 * Returns 0 to keep it, 1 when it must go. */
static int
img_finish(struct walk *w, struct cnode *el)
{
    if (cnode_attr(el, "src") == NULL) {
        const char *srcset = cnode_attr(el, "srcset");
        char *first = srcset != NULL ? clean_srcset_first(srcset) : NULL;
        if (first == NULL)
            return 1;
        if (cnode_attr_set(w->a, el, "src", first) < 0)
            w->err = -ENOMEM;
        free(first);
    }
    long wd = dimension(cnode_attr(el, "width")), ht = dimension(cnode_attr(el, "height"));
    if (wd >= 0 && ht >= 0 && wd <= 1 && ht <= 1)
        return 1;
    if (cnode_attr_set(w->a, el, "referrerpolicy", "no-referrer") < 0)
        w->err = -ENOMEM;
    return 0;
}

static int
children_close(const struct cnode *el, const char *parent)
{
    for (const struct cnode *ch = el->first; ch != NULL; ch = ch->next)
        if (ch->name != NULL && clean_closes(ch->name, parent))
            return 1;
    return 0;
}

static int text_matches(struct walk *w, const struct cnode *el);

/* Unwrap a disallowed element. When one of its children would close the parent
 * once the output is read again (<p><font><div>), the element becomes a bare
 * <span> (or <div>) instead, so that cleaning stays idempotent; the stand-in
 * then meets the rules a real one meets in the next pass (per-feed selectors,
 * remove_text), and goes with its content when they say so. Returns 1 when
 * what it left counts as content (as walk_element). */
static int
unwrap(struct walk *w, struct cnode *el, int content)
{
    static const char *const stand_ins[] = {"span", "div"};
    const struct cnode *parent = el->parent;

    if (parent->name == NULL || !children_close(el, parent->name)) {
        node_unwrap(el);
        return content;
    }
    for (size_t i = 0; i < sizeof stand_ins / sizeof *stand_ins; i++) {
        if (clean_closes(stand_ins[i], parent->name) || children_close(el, stand_ins[i]))
            continue;
        if (!content) { /* nothing but empty table parts: let it go */
            cnode_unlink(el);
            return 0;
        }
        el->name = stand_ins[i];
        el->tag = clean_tag_find(stand_ins[i]);
        el->nattrs = 0;
        if ((w->c->nsels > 0 && clean_sels_match(w->c->sels, w->c->nsels, el)) ||
            ((el->tag->flags & TAG_BLOCK) && w->c->has_text_re && text_matches(w, el))) {
            cnode_unlink(el);
            return 0;
        }
        return content;
    }
    w->reparse = 1;
    node_unwrap(el);
    return content;
}

static int
text_collect(struct buf *b, const struct cnode *el)
{
    for (const struct cnode *n = el->first; n != NULL; n = n->next) {
        int rc = n->name == NULL ? buf_add(b, n->text, n->len) : text_collect(b, n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Text of `el` matches remove_text, once trimmed of white space. */
static int
text_matches(struct walk *w, const struct cnode *el)
{
    char *s, *p, *end;
    size_t k;

    buf_reset(&w->text);
    if (text_collect(&w->text, el) < 0 || buf_add(&w->text, "", 0) < 0) {
        w->err = -ENOMEM;
        return 0;
    }
    for (s = w->text.data; (k = clean_space_len(s)) > 0;)
        s += k;
    for (p = end = s; *p;) {
        if ((k = clean_space_len(p)) > 0) {
            p += k;
            continue;
        }
        do /* one UTF-8 character */
            p++;
        while (((unsigned char)*p & 0xC0) == 0x80);
        end = p;
    }
    *end = '\0';
    return regexec(&w->c->text_re, s, 0, NULL, 0) == 0;
}

static int walk_children(struct walk *w, struct cnode *parent);

/* Clean one element in place (it may be taken out). Returns 1 when what it
 * left counts as content: non-blank text or a TAG_CONTENT element. */
static int
walk_element(struct walk *w, struct cnode *el)
{
    unsigned flags = el->tag != NULL ? el->tag->flags : 0;
    int content;

    if (flags & TAG_IFRAME) { /* built only when its host is allowlisted */
        attrs_urls(w, el);
        return 1;
    }
    content = walk_children(w, el);
    if (w->err < 0)
        return 0;
    if ((flags & TAG_BLOCK) && w->c->has_text_re && text_matches(w, el))
        goto drop;
    if (!(flags & TAG_KEEP)) {
        return unwrap(w, el, content);
    }
    attrs_urls(w, el);
    if ((flags & TAG_IMG) && img_finish(w, el))
        goto drop;
    if ((flags & TAG_NEEDS_SRC) && cnode_attr(el, "src") == NULL &&
        cnode_attr(el, "srcset") == NULL) {
        return unwrap(w, el, content); /* its children (a <source>, the fallback text) stay */
    }
    if (flags & TAG_CONTENT)
        return 1;
    if (!content && !(flags & (TAG_KEEP_EMPTY | TAG_VOID)))
        goto drop;
    return content;
drop:
    cnode_unlink(el);
    return 0;
}

/* Whether parse_mojibake_repair may change s: what it takes back must be
 * UTF-8, so the first non-ASCII character stands for a lead byte C2–F4, which
 * a Latin-1 step makes U+00C2–U+00F4, written C3 82 – C3 B4. */
static int
maybe_mojibake(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        if (v & 0x8080808080808080ULL)
            break;
        p += 8;
    }
    while (p < end && *p < 0x80)
        p++;
    return end - p >= 2 && p[0] == 0xC3 && p[1] >= 0x82 && p[1] <= 0xB4;
}

static int
walk_children(struct walk *w, struct cnode *parent)
{
    int content = 0;
    struct cnode *next;

    for (struct cnode *n = parent->first; n != NULL && w->err == 0; n = next) {
        next = n->next;
        if (n->name != NULL) {
            content |= walk_element(w, n);
            continue;
        }
        /* double-encoded UTF-8, one text node at a time: markup, attribute
         * values and URLs are never touched */
        if (maybe_mojibake(n->text, n->len) && parse_mojibake_repair(n->text))
            n->len = strlen(n->text);
        if (!content && !clean_is_blank(n->text))
            content = 1;
    }
    return content;
}

/* Text nodes side by side (an unwrapped element's text beside its parent's)
 * become one, as the output read again has them, and the mojibake repair
 * runs on the whole until it changes nothing more: what the next pass reads
 * is then what this one wrote (fuzz_clean: "ó¦<h>&nbsp;&nbsp;"). */
static int
text_runs(struct arena *a, struct cnode *parent)
{
    for (struct cnode *n = parent->first; n != NULL; n = n->next) {
        if (n->name != NULL) {
            if (text_runs(a, n) < 0)
                return -ENOMEM;
            continue;
        }
        if (n->next != NULL && n->next->name == NULL) {
            size_t total = n->len, k = n->len;
            for (struct cnode *m = n->next; m != NULL && m->name == NULL; m = m->next)
                total += m->len;
            char *t = arena_alloc(a, total + 1);
            if (t == NULL)
                return -ENOMEM;
            memcpy(t, n->text, n->len);
            while (n->next != NULL && n->next->name == NULL) {
                struct cnode *m = n->next;
                memcpy(t + k, m->text, m->len);
                k += m->len;
                cnode_unlink(m);
            }
            t[total] = '\0';
            n->text = t;
            n->len = total;
            n->cap = total + 1;
        }
        while (maybe_mojibake(n->text, n->len) && parse_mojibake_repair(n->text))
            n->len = strlen(n->text);
    }
    return 0;
}

static int
flow(const struct cnode *n)
{
    return n != NULL && n->name != NULL && n->tag != NULL && (n->tag->flags & TAG_FLOW);
}

/* White space between block elements is layout, not text: what the source
 * indented, and what removed comments, styles and blocks left behind (the
 * seed's 30 blank lines after its last paragraph), becomes one newline. Only
 * ASCII white space (U+3000 and &nbsp; are the source's text, SPEC §4), only
 * a run of text nodes with a block element or the edge of a block parent on
 * both sides, and only a run holding a blank line (two line breaks or more):
 * one line break with its indentation ("<div>   \n<p>") stays as the source
 * wrote it. Inside <pre> white space is content and stays. */
static void
collapse_layout(struct cnode *parent, int root)
{
    if (parent->name != NULL && strcmp(parent->name, "pre") == 0)
        return;
    int block = root || flow(parent);
    struct cnode *n = parent->first, *end, *next;
    while (n != NULL) {
        if (n->name != NULL) {
            collapse_layout(n, 0);
            n = n->next;
            continue;
        }
        struct cnode *keep = NULL; /* the run's first non-empty node */
        int blank = 1, lines = 0;
        for (end = n; end != NULL && end->name == NULL; end = end->next) {
            blank &= end->text[strspn(end->text, " \t\n\r\f")] == '\0';
            for (const char *c = end->text; (c = strchr(c, '\n')) != NULL; c++)
                lines++;
            if (keep == NULL && end->len > 0)
                keep = end;
        }
        if (block && blank && lines > 1 && (n->prev == NULL || flow(n->prev)) &&
            (end == NULL || flow(end))) {
            for (struct cnode *t = n; t != end; t = next) {
                next = t->next;
                if (t != keep)
                    cnode_unlink(t);
            }
            memcpy(keep->text, "\n", 2); /* len >= 1, so cap >= 2 */
            keep->len = 1;
        }
        n = end;
    }
}

/* Trim ASCII white space from both ends of b. */
static void
trim_ascii(struct buf *b)
{
    size_t s = 0, e = b->len;
    while (s < e && strchr(" \t\n\r\f", b->data[s]) != NULL)
        s++;
    while (e > s && strchr(" \t\n\r\f", b->data[e - 1]) != NULL)
        e--;
    memmove(b->data, b->data + s, e - s);
    b->len = e - s;
    b->data[b->len] = '\0';
}

/* One pass: parse, walk, write. *reparse is set when the output may still
 * change when cleaned again. */
static int
clean_once(const struct parse_cleaner *c, const char *html, size_t len, const char *base,
           struct buf *out, int *reparse)
{
    struct buf in = {0};
    struct arena a = {0};
    struct walk w = {c, base, &a, {0}, 0, 0};
    struct cnode *root;
    int rc = -ENOMEM;

    *reparse = 0;
    size_t ok = clean_utf8_valid(html, len);
    if (ok < len) { /* repaired in a copy */
        if (buf_add(&in, html, ok) < 0 || clean_utf8_repair(&in, html + ok, len - ok) < 0)
            goto out;
        html = in.data;
        len = in.len;
    }
    if ((rc = clean_tree_build(c, html, len, &a, &root)) < 0)
        goto out;
    walk_children(&w, root);
    if ((rc = w.err) < 0)
        goto out;
    if ((rc = text_runs(&a, root)) < 0)
        goto out;
    collapse_layout(root, 1);
    *reparse = w.reparse;
    if ((rc = buf_reserve(out, len)) < 0 || (rc = clean_write_children(out, root)) < 0)
        goto out;
    trim_ascii(out);
out:
    buf_free(&w.text);
    arena_free(&a);
    buf_free(&in);
    return rc;
}

int
parse_clean(const struct parse_cleaner *c, const char *html, size_t len, const char *base,
            char **out)
{
    struct buf res = {0}, again = {0};
    int reparse, rc;

    *out = NULL;
    if (html == NULL)
        len = 0;
    if ((rc = clean_once(c, html != NULL ? html : "", len, base, &res, &reparse)) < 0)
        goto fail;
    /* Rare shapes only (see unwrap): clean the output until it is stable. */
    for (int round = 0; reparse && round < 3; round++) {
        if ((rc = clean_once(c, res.data, res.len, base, &again, &reparse)) < 0)
            goto fail;
        int same = again.len == res.len && memcmp(again.data, res.data, res.len) == 0;
        buf_free(&res);
        res = again;
        again = (struct buf){0};
        if (same)
            break;
    }
    if ((*out = buf_steal(&res)) == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    return 0;
fail:
    buf_free(&again);
    buf_free(&res);
    return rc;
}
