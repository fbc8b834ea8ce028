/* parse/input/xmlfix_int.h — repair of broken XML text on its way to libxml2
 * (xmlfix_markup.c, xmlfix_ref.c, xmlfix_prolog.c), as the input stages and the
 * tests drive it. */
#ifndef FINFEED_PARSE_XMLFIX_INT_H
#define FINFEED_PARSE_XMLFIX_INT_H

#include <stddef.h>

#include "parse/buf_int.h"

struct xmlfix;
/* A repairer in its initial state (start of a document). Returns 0, -ENOMEM. */
int xmlfix_new(struct xmlfix **out);
/* Repair UTF-8 XML on its way to libxml2, streaming (state kept across calls; any split of the input into chunks gives the same output — test that by feeding byte by byte):
 *  - skip anything before the first '<' (whitespace, junk, a BOM remnant); if junk precedes "<?xml" further in (within the first 1 KiB, e.g. "\n\n<?xml"), drop it too so the declaration comes first;
 *  - rewrite the XML declaration's encoding="..." to encoding="UTF-8" (the text is UTF-8 by now) — or drop the pseudo-attribute;
 *  - a bare '&' (not starting a well-formed reference: &name; &#123; &#x1F;) becomes "&amp;" — in text and in attribute values;
 *  - an HTML named entity that XML does not define (&nbsp; &mdash; &eacute; … every HTML 4 entity — use libxml2's `htmlEntityLookup()` from <libxml/HTMLparser.h>, don't hand-write the table; also &apos;) becomes a numeric character reference &#NNN; — but the five XML ones (amp lt gt quot apos) and entities declared in the document's internal DTD subset (<!ENTITY name ...>) stay as they are; an unknown &name; that is neither → "&amp;name;";
 *  - CDATA sections, comments, processing instructions and the DOCTYPE's internal subset pass unchanged (no repair inside);
 *  - numeric references to characters XML forbids (&#0; &#1; … except 9,10,13; surrogates) are dropped or turned into &#xFFFD;.
 *  Returns 0 or -ENOMEM.
 *
 * As built: `in` is borrowed, output is appended to *out. The declaration is
 * "<?xml" + white space + "version" (so <?xml-stylesheet?> is not one); up to
 * 1 KiB of the start is held back until it is known whether one follows, and
 * what precedes it is dropped unless a "<![CDATA[" comes first. Before the
 * first markup, a '<' that starts none ("<3") is junk too. encoding="…" is
 * rewritten, with its quote kept (an unquoted value gets quotes); a declaration
 * that ends in '>' without '?' gets its '?' back. &apos; stays (XML defines it;
 * HTML 4 does not). A reference to a forbidden character (C0 control, U+FFFE, U+FFFF) is
 * dropped; to a surrogate or beyond U+10FFFF becomes &#xFFFD;; "&#X41;" becomes
 * "&#x41;". &AMP; &LT; &GT; &QUOT; &COPY; &REG; (HTML 5 upper-case forms) are
 * read too. A '<' that cannot start markup ("a < b", "<3") becomes "&lt;", in
 * text and in attribute values. Only an entity reference ending in ';' counts:
 * "&nbsp " is a bare '&'. final != 0 ends the document: what is held back is
 * written out, and the repairer starts afresh for the next one. */
int xmlfix_run(struct xmlfix *x, const char *in, size_t n, int final, struct buf *out);
/* What was repaired so far: PARSE_P_ENTITIES and/or PARSE_P_JUNK bits (parse/parse.h).
 * PARSE_P_ENTITIES: a reference or a '<' was rewritten. PARSE_P_JUNK: something
 * other than white space or a U+FEFF was skipped before the first tag. */
unsigned xmlfix_problems(const struct xmlfix *x);
void xmlfix_free(struct xmlfix *x);

#endif
