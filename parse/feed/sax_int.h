/* parse/feed/sax_int.h — the SAX2 XML feed parser (sax.c and its neighbours) as
 * document.c drives it. */
#ifndef FINFEED_PARSE_FEED_SAX_INT_H
#define FINFEED_PARSE_FEED_SAX_INT_H

#include "parse/feed/feed_int.h"

struct sax;

/* A parser delivering entries to cb; opts and report are borrowed and must
 * outlive it. Returns 0 or -ENOMEM. */
int feed_sax_new(const struct parse_opts *opts, parse_entry_cb cb, void *arg,
                 struct parse_report *report, struct sax **out);
/* Push UTF-8 XML; final != 0 on the last call. 0, -ENOMEM or the callback's value. */
int feed_sax_push(struct sax *s, const char *p, size_t len, int final);
/* Whether a root element was seen at all. */
int feed_sax_root_seen(const struct sax *s);
/* End of input: keep an open entry when `closed` (the root's end tag was
 * seen), drop it otherwise. Returns the feed record (caller frees), or NULL
 * when the root was not a feed (an HTML page). */
struct parse_feed *feed_sax_finish(struct sax *s, int closed);
void feed_sax_free(struct sax *s);

#endif
