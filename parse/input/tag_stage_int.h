/* parse/input/tag_stage_int.h — the tag stage of the input pipeline, between the
 * XML repair (xmlfix_int.h) and libxml2: tag_stage.c follows the markup,
 * cdata_text.c writes the text runs; the input stages (stages.c) drive it. */
#ifndef FINFEED_PARSE_FEED_TAGS_INT_H
#define FINFEED_PARSE_FEED_TAGS_INT_H

#include "parse/buf_int.h"

/* One pass between the XML repair and libxml2 that follows the markup:
 * - libxml2 calls the SAX handlers once for every reference in text, so
 *   escaped HTML (&lt;p&gt;…, the bulk of most feeds) cost a call every few
 *   bytes, more than a quarter of the parse. A text run whose references are
 *   all predefined or numeric goes to libxml2 as a CDATA section with them
 *   decoded: the same characters, one callback. Other runs keep their
 *   references, the predefined ones written as character references: libxml2
 *   2.9 drops entity references in text, &lt; and &amp; included, once it has
 *   seen that the document is not well-formed.
 * - libxml2 pops one element for every end tag, whatever its name: a stray
 *   </b> in a title, or a <br> left open in a description, shifted every
 *   element after it, and the document ended early (items lost) or nested
 *   deeper with every item. Here an end tag that matches no open element is
 *   dropped, one that matches an outer element first closes those inside it,
 *   and an HTML void element left open (<br>, <img …>) is closed at once.
 * Where the following could go wrong the bytes are taken for markup and
 * passed unchanged, which is always safe. */

#define TAG_NAME_MAX 128   /* longer names: tags are no longer balanced */
#define TAG_DEPTH_MAX 4096 /* deeper documents: likewise */

enum cd_state { CD_TEXT, CD_TAG, CD_DECL, CD_COMMENT, CD_CDATA, CD_PI };

struct cdata {
    enum cd_state state;
    enum cd_state ret; /* CD_COMMENT, CD_PI: where to go back to (text, or a DTD) */
    char quote;        /* CD_TAG, CD_DECL: the open quote, or 0 */
    char prev;         /* CD_TAG: the last byte of the tag so far ('/' of "/>") */
    int nest;          /* CD_DECL: '[' depth (the internal subset) */
    int run;           /* CD_COMMENT '-', CD_CDATA ']', CD_PI '?' seen just before */
    int tag_void;      /* CD_TAG: an HTML void element, closed at its '>' */
    struct buf names;  /* the open elements' names as written, each NUL-ended */
    size_t *open;      /* offsets into names, depth of them */
    size_t depth, cap;
    int unbalanced;    /* too deep or a name too long: tags pass as they are */
    unsigned repairs;  /* end tags added or dropped */
    char repair[112];  /* the first repair, in words */
    struct buf held;   /* bytes the next chunk decides (a cut reference or tag) */
};

/* Rewrite n bytes of repaired UTF-8 XML (final != 0 on the last call) into
 * out; state is kept in c (zeroed to start). Returns 0 or -ENOMEM. */
int cdata_run(struct cdata *c, const char *in, size_t n, int final, struct buf *out);
/* Free what c holds (c itself is the caller's). */
void cdata_free(struct cdata *c);

/* cdata_text.c: the text run p[0..n) (no '<' in it) into out, as one CDATA
 * section when it has references and all of them decode, else as text with
 * the predefined entities written as character references. 0 or -ENOMEM. */
int cdata_text(const char *p, size_t n, struct buf *out);
/* cdata_text.c: n bytes into out with CR LF and a lone CR made LF (XML 1.0
 * §2.11), which libxml2 does for text but not inside CDATA. 0 or -ENOMEM. */
int cdata_add_lf(struct buf *out, const char *p, size_t n);

#endif
