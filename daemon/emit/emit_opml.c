/* daemon/emit/emit_opml.c — the subscriptions as OPML 2.0, the feed readers'
 * exchange format; shared by `finfeed opml export` and GET /opml. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/emit/emit.h"

static void
markup(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\t': case '\n': case '\r': fputc(' ', out); break;
        default:
            if (c >= 0x20)
                fputc(c, out); /* C0 controls cannot appear in XML */
        }
    }
}

static void
markup_s(FILE *out, const char *s)
{
    markup(out, s, strlen(s));
}

/* The URL without a user:password@ part (credentials stay in the config). */
static void
url_attr(FILE *out, const char *url, int site)
{
    const char *scheme = strstr(url, "://");
    if (scheme == NULL) {
        markup_s(out, url);
        return;
    }
    const char *auth = scheme + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *host = auth;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            host = p + 1;
    markup(out, url, (size_t)(auth - url));
    if (site) { /* htmlUrl: the site's root */
        markup(out, host, (size_t)(auth + alen - host));
        fputc('/', out);
    } else {
        markup_s(out, host);
    }
}

int
emit_opml(const char *title, const struct emit_opml_feed *feeds, size_t n, char **doc,
          size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    if (out == NULL)
        return -ENOMEM;
    fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n  <head>\n"
          "    <title>",
          out);
    markup_s(out, title ? title : "finfeed");
    fputs("</title>\n    <docs>http://opml.org/spec2.opml</docs>\n  </head>\n  <body>\n", out);
    for (size_t i = 0; i < n; i++) {
        const struct emit_opml_feed *f = &feeds[i];
        if (f->url == NULL)
            continue;
        fputs("    <outline type=\"rss\" text=\"", out);
        markup_s(out, f->name);
        fputs("\" title=\"", out);
        markup_s(out, f->name);
        fputs("\" xmlUrl=\"", out);
        url_attr(out, f->url, 0);
        if (strncmp(f->url, "http", 4) == 0) {
            fputs("\" htmlUrl=\"", out);
            url_attr(out, f->url, 1);
        }
        fputc('"', out);
        /* §2.2: comma-separated, slash-delimited category strings */
        int first = 1;
        for (size_t j = 0; j < f->ncategories; j++) {
            if (strchr(f->categories[j], ',') != NULL)
                continue;
            fputs(first ? " category=\"/" : ",/", out);
            markup_s(out, f->categories[j]);
            first = 0;
        }
        fputs(first ? "/>\n" : "\"/>\n", out);
    }
    fputs("  </body>\n</opml>\n", out);
    if (ferror(out)) {
        fclose(out);
        free(buf);
        return -ENOMEM;
    }
    fclose(out);
    *doc = buf;
    *len = size;
    return 0;
}
