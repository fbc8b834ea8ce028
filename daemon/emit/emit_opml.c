/* daemon/emit/emit_opml.c — the subscriptions as OPML 2.0, the feed readers'
 * exchange format; shared by `finfeed opml export` and GET /opml. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/emit/emit.h"
#include "daemon/emit/emit_text.h"

/* Every value is an attribute but the title, escaped the same way so that a
 * '"' reads the same in both. */
static void
markup(struct emit_buf *b, const char *s)
{
    emit_buf_escapes(b, s, EMIT_ESC_ATTR);
}

/* htmlUrl: the site's root, "scheme://host/", without user:password@. */
static void
site_attr(struct emit_buf *b, const char *url)
{
    size_t at, n = emit_url_userinfo(url, &at);
    if (at == 0) { /* no "://": as it is */
        markup(b, url);
        return;
    }
    const char *host = url + at + n;
    emit_buf_escape(b, url, at, EMIT_ESC_ATTR);
    emit_buf_escape(b, host, strcspn(host, "/?#"), EMIT_ESC_ATTR);
    emit_buf_adds(b, "/");
}

/* One subscription's outline at `indent`. */
static void
outline(struct emit_buf *b, const char *indent, const struct emit_opml_feed *f)
{
    if (f->url == NULL)
        return;
    emit_buf_adds(b, indent);
    emit_buf_adds(b, "<outline type=\"rss\" text=\"");
    markup(b, f->name);
    emit_buf_adds(b, "\" title=\"");
    markup(b, f->name);
    emit_buf_adds(b, "\" xmlUrl=\"");
    emit_buf_url(b, f->url, EMIT_ESC_ATTR); /* credentials stay in the config */
    if (strncmp(f->url, "http", 4) == 0) {
        emit_buf_adds(b, "\" htmlUrl=\"");
        site_attr(b, f->url);
    }
    emit_buf_adds(b, "\"");
    /* §2.2: comma-separated, slash-delimited category strings */
    int first = 1;
    for (size_t j = 0; j < f->ncategories; j++) {
        if (strchr(f->categories[j], ',') != NULL)
            continue;
        emit_buf_adds(b, first ? " category=\"/" : ",/");
        markup(b, f->categories[j]);
        first = 0;
    }
    emit_buf_adds(b, first ? "/>\n" : "\"/>\n");
}

int
emit_opml(const char *title, const struct emit_opml_feed *feeds, size_t n, char **doc, size_t *len)
{
    return emit_opml_folder(title, feeds, n, NULL, NULL, 0, doc, len);
}

int
emit_opml_folder(const char *title, const struct emit_opml_feed *feeds, size_t n,
                 const char *folder_title, const struct emit_opml_feed *folder, size_t nfolder,
                 char **doc, size_t *len)
{
    struct emit_buf b = {0};
    emit_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n"
                      "  <head>\n    <title>");
    markup(&b, title ? title : "finfeed");
    emit_buf_adds(&b,
                  "</title>\n    <docs>http://opml.org/spec2.opml</docs>\n  </head>\n  <body>\n");
    for (size_t i = 0; i < n; i++)
        outline(&b, "    ", &feeds[i]);
    if (nfolder > 0) {
        emit_buf_adds(&b, "    <outline text=\"");
        markup(&b, folder_title);
        emit_buf_adds(&b, "\" title=\"");
        markup(&b, folder_title);
        emit_buf_adds(&b, "\">\n");
        for (size_t i = 0; i < nfolder; i++)
            outline(&b, "      ", &folder[i]);
        emit_buf_adds(&b, "    </outline>\n");
    }
    emit_buf_adds(&b, "  </body>\n</opml>\n");
    *doc = emit_buf_take(&b, len);
    return *doc != NULL ? 0 : -ENOMEM;
}
