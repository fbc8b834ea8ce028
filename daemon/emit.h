/* daemon/emit.h — the writers of finfeed's output formats, shared by
 * `finfeed parse`, `finfeed export` and the HTTP server: each format once. */
#ifndef FINFEED_EMIT_H
#define FINFEED_EMIT_H

#include <stdio.h>

#include "parse/parse.h"

/* Write `a` (borrowed) to `out` as a Markdown post with Hexo front matter,
 * byte for byte in the layout of SPEC §5.4: title and URLs in single quotes
 * with ' doubled, "categories: " with its trailing space, date in RFC 1123
 * GMT, optional keys omitted when empty, '{' and '}' of the body written
 * &#123; and &#125; (Hexo's template syntax). Returns 0 or -EIO. */
int emit_markdown(FILE *out, const struct parse_article *a);

/* A file name "YYYY-MM-DD-SLUG.md" for `a` into buf (size bytes): the date
 * of the article and a slug from its title's ASCII words, else a hash of its
 * guid, so that the name is stable for the article. Returns buf. */
char *emit_markdown_name(const struct parse_article *a, char *buf, size_t size);

#endif
