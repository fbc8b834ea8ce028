/* parse/article/xmldata_int.h — inside parse/: XML data content rendered as HTML. */
#ifndef FINFEED_XMLDATA_INT_H
#define FINFEED_XMLDATA_INT_H

/* The leaf elements of `markup` (serialized XML, borrowed) with text, as
 * "<dl><dt>NAME</dt><dd>TEXT</dd>…</dl>" (an http(s) URL as a link); "" when
 * none has text. A new string, or NULL when out of memory. */
char *xmldata_html(const char *markup);

#endif
