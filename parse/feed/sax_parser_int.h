/* parse/feed/sax_parser_int.h — inside the SAX2 feed parser: its state (struct
 * sax: the element stack, the value being captured, the entry being filled) and
 * the functions its files share: sax.c (elements, lifecycle), sax_text.c (text
 * capture), sax_field.c (values into fields), entity_bound.c (entities). */
#ifndef FINFEED_PARSE_FEED_SAX_PARSER_INT_H
#define FINFEED_PARSE_FEED_SAX_PARSER_INT_H

#include <libxml/parser.h>

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

static inline const char *
cur_base(const struct sax *s)
{
    return s->depth > 0 ? s->stack[s->depth - 1].base : s->opts->base_url;
}

/* Does `prio` beat the value already in the slot? Equal: the later wins. */
static inline int
takes(signed char *slot, int prio)
{
    if (prio > *slot)
        return 0;
    *slot = (signed char)prio;
    return 1;
}

static inline void
set_str(char **slot, char *v)
{
    free(*slot);
    *slot = v;
}

/* ---- sax.c ---- */

/* The value of attribute `name` (in namespace `uri`, NULL: none) among SAX2
 * attrs, decoded into tmp (reused); NULL when absent or out of memory. */
const char *sax_attr_value(const xmlChar **attrs, int nattrs, const char *name, const char *uri,
                           struct buf *tmp);
/* Append n bytes of an attribute value as libxml2 hands it over ("&#38;" for
 * every '&') to b, decoded. 0 or -ENOMEM. */
int sax_attr_decode(struct buf *b, const char *p, size_t n);
/* A copy of s[0..n) without surrounding white space, or NULL. */
char *sax_trim_dup(const char *s, size_t n);

/* ---- sax_text.c ---- */

/* Start capturing the text of the element just pushed, for `tag` in ctx. */
void sax_cap_begin(struct sax *s, const struct feed_tag *tag, unsigned ctx, enum text_mode mode);
/* The text mode of an Atom text construct from its attributes; *data = 1 for
 * Atom 1.0 XML data (tmp: scratch). */
enum text_mode sax_text_mode_of(enum feed_ns ns, const xmlChar **attrs, int nattrs,
                                struct buf *tmp, int *data);
/* A child element starts or ends inside the captured value: written as markup. */
void sax_cap_start_child(struct sax *s, const char *name, const xmlChar **attrs, int nattrs);
void sax_cap_end_child(struct sax *s, const char *name);
/* The captured element ends: its value goes to its field. */
void sax_cap_close(struct sax *s);
/* Whether element (nsid, name) starting inside the captured value shows that
 * the value's end tag is missing. */
int sax_missing_end_tag(const struct sax *s, enum feed_ns nsid, const char *name);
/* The SAX characters, cdataBlock and ignorableWhitespace handler. */
void sax_on_text(void *ctx, const xmlChar *ch, int len);

/* ---- sax_field.c ---- */

/* Store value v (taken) of `tag` in the entry (ctx CTX_ENTRY) or the feed,
 * by the tag's priority; html: v is HTML. */
void sax_assign(struct sax *s, const struct feed_tag *tag, unsigned ctx, char *v, int html);
/* An Atom person construct ends: name and email (borrowed) into display
 * ("Name (email)") and name_only. */
void sax_store_person(char **display, char **name_only, const char *name, const char *email);

/* ---- entity_bound.c ---- */

/* Install the entity handlers in h: internal entities only, each bounded. */
void sax_entity_handlers(xmlSAXHandler *h);
/* len more bytes of entity replacement text reach the handlers: whether they
 * may still be taken (0: the bound is passed and expansion stopped). */
int sax_entity_text_ok(struct sax *s, int len);

#endif
