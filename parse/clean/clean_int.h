/* parse/clean/clean_int.h — shared by the HTML cleaner's files: clean.c (entry
 * points, post-order walk), clean_tags.c (what it knows of each element and
 * attribute), clean_lex.c (the HTML tokenizer), clean_tree.c (arena tree built
 * from its tokens, pre-order rules), clean_select.c (per-feed selectors),
 * clean_url.c (URL policy), clean_out.c (UTF-8 repair, serializer). */
#ifndef FINFEED_PARSE_CLEAN_INT_H
#define FINFEED_PARSE_CLEAN_INT_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "parse/buf_int.h"
#include "parse/parse.h"

/* ---- the element table (clean_tags.c) ---- */

#define TAG_KEEP 1u        /* allowed (absent from the table: unwrapped) */
#define TAG_DROP 2u        /* removed with its content */
#define TAG_VOID 4u        /* no content, no end tag */
#define TAG_CONTENT 8u     /* content by itself: an element holding one is not empty */
#define TAG_KEEP_EMPTY 16u /* never removed for being empty */
#define TAG_BLOCK 32u      /* remove_text applies */
#define TAG_IMG 64u        /* img: src required, tracking pixels, referrerpolicy */
#define TAG_IFRAME 128u    /* iframe: kept for allowlisted hosts only */
#define TAG_NEEDS_SRC 256u /* source, track: unwrapped without src or srcset */
#define TAG_FLOW 512u      /* block-level: white space between such elements is layout */
#define TAG_RAW 1024u      /* its content is text up to its end tag (script, style, …) */

struct clean_tag {
    const char *name;
    unsigned flags;      /* TAG_* */
    const char *attrs;   /* allowed attributes, space-separated with a space on both
                          * ends (" href title "), or NULL */
    unsigned short prio; /* end-tag priority (libxml2's htmlEndPriority), 0: 100 */
};

/* Build the look-up tables once (parse_cleaner_new calls it; thread-safe). */
void clean_tags_init(void);
/* The table row for a lower-case element name (n bytes, or NUL-terminated for
 * clean_tag_find), or NULL. */
const struct clean_tag *clean_tag_lookup(const char *name, size_t n);
const struct clean_tag *clean_tag_find(const char *name);
/* 1 when a `newtag` start tag closes an open `oldtag` element directly inside
 * which it comes (libxml2's htmlAutoClose: only the current element is asked,
 * then its parent once it is closed, and so on). Names the table does not
 * know close nothing and are closed by nothing. */
int clean_tag_closes(const struct clean_tag *newtag, const struct clean_tag *oldtag);
int clean_closes(const char *newtag, const char *oldtag);
int clean_tag_priority(const struct clean_tag *t);
/* The row's index in the table, below CLEAN_TAGS_MAX. */
#define CLEAN_TAGS_MAX 128
size_t clean_tag_index(const struct clean_tag *t);
/* The rows whose end-tag priority is above the default (div, td, table, …). */
size_t clean_tags_high(const struct clean_tag *const **out);
/* Attribute names the cleaner looks at have ids (below 64); -1 for others. */
int clean_attr_id(const char *name, size_t n);
const char *clean_attr_name(int id);
int clean_attr_allowed(const struct clean_tag *t, int id); /* on the allowlist of t */
int clean_attr_lazy(int id);                               /* data-src & co. */
uint32_t clean_name_hash(const char *s, size_t n);
/* The same with h = clean_name_hash(name, n) already made. */
const struct clean_tag *clean_tag_lookup_h(const char *name, size_t n, uint32_t h);
int clean_attr_id_h(const char *name, size_t n, uint32_t h);
/* The code point of HTML 4's named reference `name` (n bytes, without & and
 * ;), 0 when there is none. */
uint32_t clean_entity(const char *name, size_t n);

/* ---- the cleaner (parse_cleaner_new) ---- */

enum clean_sel_kind {
    SEL_CLASS,   /* .name: one of the whitespace-separated class tokens */
    SEL_ID,      /* #name: the id attribute */
    SEL_ATTR,    /* [name]: the attribute is present */
    SEL_ATTR_EQ, /* [name=value]: the attribute has exactly that value */
};

struct clean_sel_part {
    enum clean_sel_kind kind;
    char *name;  /* class, id or attribute name (attribute names lower case); owned */
    char *value; /* SEL_ATTR_EQ only; owned */
};

/* A compound selector: an optional tag and parts, all of which must match. */
struct clean_sel {
    char *tag; /* lower case, NULL for any element; owned */
    struct clean_sel_part *parts;
    size_t nparts;
};

struct parse_cleaner {
    struct clean_sel *sels; /* per-feed `remove`, nsels entries */
    size_t nsels;
    regex_t text_re; /* per-feed `remove_text`, valid when has_text_re */
    int has_text_re;
    char **iframe_hosts; /* lower case, owned */
    size_t niframe_hosts;
};

/* ---- the tree (clean_tree.c) ---- */

/* Every node, string and array of one cleaning pass lives in one arena, freed
 * at once; element and attribute names are the tables' or copies in it. */
struct arena_block;
struct arena {
    struct arena_block *head;
    size_t next_size;
};

void *arena_alloc(struct arena *a, size_t n); /* NULL on allocation failure */
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a);

struct cattr {
    const char *name;  /* lower case */
    const char *value; /* NUL-terminated; NULL for a bare attribute ("controls") */
};

struct cnode {
    struct cnode *parent, *prev, *next, *first, *last;
    const char *name;            /* element name; NULL for text */
    const struct clean_tag *tag; /* NULL: unknown element (unwrapped) */
    struct cattr *attrs;         /* element: nattrs entries */
    size_t nattrs;
    char *text;      /* text: NUL-terminated content */
    size_t len, cap; /* text: length, bytes allocated (cap > len) */
};

/* Parse `len` bytes of valid UTF-8 (clean_utf8_repair's) as the content of
 * <html><body> into a tree under *root, applying the pre-order rules: removed
 * elements (SPEC §4 list, `remove` selectors, iframes of other hosts) are never
 * built, lazy-loading attributes are promoted. Returns 0 or -ENOMEM. */
int clean_tree_build(const struct parse_cleaner *c, const char *html, size_t len, struct arena *a,
                     struct cnode **root);

/* The tokenizer's side (clean_lex.c) and the builder's (clean_tree.c). */
struct clean_builder;
struct clean_attr_tok {
    const char *name; /* lower case: the table's, or a copy in the arena */
    int id;           /* clean_attr_id, -1 for other names */
    const char *val;  /* as written, references not decoded; NULL: bare attribute */
    size_t vlen;
};
/* Read `len` bytes of HTML, feeding b. 0 or -ENOMEM. */
int clean_lex_run(struct clean_builder *b, const char *html, size_t len);
/* Decode the character references of `len` bytes at `raw` into out (room for
 * len + 1 bytes: never longer) and NUL-terminate; returns the length. attr:
 * an attribute value, which a reference to U+0000 and the like ends (libxml2). */
size_t clean_decode(char *out, const char *raw, size_t len, int attr);
void clean_tree_autoclose(struct clean_builder *b, const struct clean_tag *t, const char *name,
                          size_t nl);
int clean_tree_wants_attr(const struct clean_builder *b, const struct clean_tag *t, int id);
char *clean_tree_strdup(struct clean_builder *b, const char *s, size_t n);
int clean_tree_start(struct clean_builder *b, const struct clean_tag *t, const char *name,
                     size_t nl, const struct clean_attr_tok *atts, size_t n, int how);
int clean_tree_end(struct clean_builder *b, const struct clean_tag *t, const char *name, size_t nl);
/* Text as written (references decoded here); imply: libxml2 would put it in
 * an implied <p> outside body. */
int clean_tree_text(struct clean_builder *b, const char *raw, size_t len, int imply);
/* The name of the current element when its content is raw text, else NULL. */
const char *clean_tree_raw(const struct clean_builder *b, size_t *len);
int clean_tree_stopped(const struct clean_builder *b);

const char *cnode_attr(const struct cnode *el, const char *name); /* NULL: absent */
/* Set (in place) or append an attribute; the value is copied. 0 or -ENOMEM. */
int cnode_attr_set(struct arena *a, struct cnode *el, const char *name, const char *value);
void cnode_attr_remove(struct cnode *el, size_t i);
void cnode_unlink(struct cnode *n);

/* ---- selectors (clean_select.c) ---- */

/* Parse a comma-separated selector list into *out / *nout (caller frees with
 * clean_sels_free). Returns 0, -EINVAL with the reason in err, or -ENOMEM. */
int clean_sels_parse(const char *list, struct clean_sel **out, size_t *nout, char *err,
                     size_t errsize);
void clean_sels_free(struct clean_sel *sels, size_t n);
/* 1 when element `el` (attributes as parsed) matches any of the selectors. */
int clean_sels_match(const struct clean_sel *sels, size_t n, const struct cnode *el);

/* ---- URLs (clean_url.c) ---- */

/* What a URL attribute is for: the schemes it may carry differ. */
enum clean_url_use {
    URL_LINK,  /* a[href], q/blockquote/del/ins[cite] */
    URL_MEDIA, /* src of video, audio, source, track; video[poster] */
    URL_IMAGE, /* img[src]: data:image/... allowed too */
};

/* Check one URL value against the policy of SPEC §4 and resolve it against
 * `base` (borrowed, may be NULL). Returns `value` itself when it stays as
 * written (not to be freed then), else a new string (malloc); NULL when the
 * URL is dropped (*err 0) or on allocation failure (*err -ENOMEM). */
char *clean_url(const char *value, enum clean_url_use use, const char *base, int *err);
/* The same for a srcset list: unsafe candidates dropped, URLs resolved. NULL
 * when no candidate is left (*err 0) or on allocation failure (*err -ENOMEM). */
char *clean_srcset(const char *value, const char *base, int *err);
/* 1 when a value that is no URL (title, width, frameborder, …) still reads as
 * one with a javascript:, vbscript: or data: scheme: such an attribute is
 * dropped too, in case some reader takes it for a URL. */
int clean_value_is_script(const char *value);
/* The first candidate URL of a cleaned srcset, new string or NULL. */
char *clean_srcset_first(const char *srcset);
/* For an iframe: the https URL to keep when its host is allowlisted, else NULL
 * (*err as above). */
char *clean_iframe_src(const struct parse_cleaner *c, const char *value, int *err);
/* 1 when an image src is a lazy-loading placeholder: empty, a data: URI or a
 * blank/spacer/1x1 gif. */
int clean_is_placeholder(const char *src);

/* ---- text in and out (clean_out.c) ---- */

/* Append `len` bytes to b as valid UTF-8 without NUL bytes: each invalid
 * sequence, NUL, U+FFFE and U+FFFF becomes U+FFFD; other C0 controls but tab,
 * LF and CR are dropped. */
int clean_utf8_repair(struct buf *b, const char *s, size_t len);
/* Length of the longest prefix of s that clean_utf8_repair leaves as it is. */
size_t clean_utf8_valid(const char *s, size_t len);
/* Byte length of the white space (ASCII, U+00A0, U+2000–U+200B, U+3000, …)
 * at s (0 if none); s is NUL-terminated UTF-8. */
size_t clean_space_len(const char *s);
/* 1 when s holds nothing but such white space. */
int clean_is_blank(const char *s);
/* Serialize the children of `parent` as HTML. 0 or -ENOMEM. */
int clean_write_children(struct buf *b, const struct cnode *parent);

#endif
