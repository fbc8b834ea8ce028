/* parse/document.c — parse_feed_mem/parse_feed_file: one document from bytes to
 * records. The first bytes choose the charset (input/charset.c) and the format:
 * JSON Feed goes to feed/jsonfeed.c; XML goes through the input stages
 * (input/stages.c) into the SAX2 parser (feed/sax.c). The report's message is
 * written here: the first problem found, or why it is not a feed. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "parse/feed/sax_int.h"
#include "parse/input/input_int.h"
#include "parse/report_int.h"

#define HEAD 4096 /* bytes looked at to choose charset and format */

/* Does the document end with the end tag of a feed root? Then an entry left
 * open lost its end tag; otherwise the document was cut off. */
static int
ends_closed(const char *tail, size_t n)
{
    while (n > 0 && isspace((unsigned char)tail[n - 1]))
        n--;
    if (n == 0 || tail[n - 1] != '>')
        return 0;
    static const char *const roots[] = {"rss>", "feed>", "RDF>", "channel>"};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        size_t k = strlen(roots[i]);
        if (n >= k + 1 && memcmp(tail + n - k, roots[i], k) == 0 &&
            (tail[n - k - 1] == '/' || tail[n - k - 1] == ':'))
            return 1;
    }
    return 0;
}

static int
first_char(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)p[i]))
            return (unsigned char)p[i];
    return -1;
}

static int
has_html_tag(const char *p, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++)
        if (p[i] == '<' && strncasecmp(p + i + 1, "html", 4) == 0)
            return 1;
    return 0;
}

static int
run_json(struct source *src, const char *charset, size_t skip, const struct parse_opts *opts,
         parse_entry_cb cb, void *arg, struct parse_feed **feed_out, struct parse_report *r)
{
    struct buf text = {0};
    size_t errors = 0;
    int rc = input_decode_all(src, charset, skip, &text, &errors);
    if (rc == 0 && text.data == NULL && buf_reserve(&text, 0) < 0)
        rc = -ENOMEM;
    if (rc == 0) {
        if (errors > 0)
            r->problems |= PARSE_P_BAD_BYTES;
        rc = jsonfeed_parse(text.data, text.len, opts, cb, arg, feed_out, r);
    }
    buf_free(&text);
    return rc;
}

/* Keep the last bytes given to libxml2 (ends_closed looks at them). */
static void
tail_keep(char *tail, size_t size, size_t *tail_len, const struct buf *xml)
{
    if (xml->len >= size) {
        memcpy(tail, xml->data + xml->len - size, size);
        *tail_len = size;
    } else if (xml->len > 0) {
        size_t keep = *tail_len + xml->len > size ? size - xml->len : *tail_len;
        memmove(tail, tail + *tail_len - keep, keep);
        memcpy(tail + keep, xml->data, xml->len);
        *tail_len = keep + xml->len;
    }
}

/* Every piece of the stages into the SAX parser, through the thread for big
 * documents; the last bytes pushed into tail. 0, -ENOMEM, a read error or the
 * entry callback's value. */
static int
push_all(struct stages *st, struct sax *sax, char *tail, size_t tail_size, size_t *tail_len)
{
    struct pipeline pl;
    struct buf xml = {0};
    int piped = input_size(st->src) >= INPUT_PIPE_MIN && input_pipe_start(&pl, st) == 0;
    int rc;
    for (;;) {
        struct buf *piece = &xml;
        int final;
        rc = piped ? input_pipe_take(&pl, &piece, &final) : input_stages_next(st, &xml, &final);
        if (rc < 0)
            break;
        tail_keep(tail, tail_size, tail_len, piece);
        rc = feed_sax_push(sax, piece->data ? piece->data : "", piece->len, final);
        if (piped)
            input_pipe_done(&pl);
        if (rc != 0 || final)
            break;
    }
    if (piped)
        input_pipe_stop(&pl); /* the producer is done: joined before its state is read */
    buf_free(&xml);
    return rc == 0 ? st->err : rc;
}

/* What the stages repaired, into the report. */
static void
report_repairs(const struct stages *st, const char *charset, struct parse_report *r)
{
    if (decoder_errors(st->dec) > 0) {
        r->problems |= PARSE_P_BAD_BYTES;
        parse_report_msg(r, "%zu invalid %s byte sequences replaced by U+FFFD",
                         decoder_errors(st->dec), charset);
    }
    r->problems |= xmlfix_problems(st->fix);
    if (st->cd.repairs > 0) {
        r->problems |= PARSE_P_MALFORMED;
        parse_report_msg(r, "%s", st->cd.repair);
    }
}

/* Why the document is not a feed, from its first bytes (head, n; the BOM's
 * `bom` bytes first). */
static void
report_not_feed(struct parse_report *r, int root, const char *head, size_t n, size_t bom)
{
    r->message[0] = '\0';
    int c = first_char(head + bom, n - bom);
    if (!root && c != '<')
        parse_report_msg(r, "not a feed: no XML or JSON found");
    else if (!root)
        parse_report_msg(r, "not a feed: no element could be read");
    else if (has_html_tag(head, n))
        parse_report_msg(r, "not a feed: an HTML page (an error or anti-bot page?)");
    else
        parse_report_msg(r, "not a feed: unknown root element");
}

/* The message of a feed read with problems and none told yet. */
static void
report_feed(struct parse_report *r)
{
    if ((r->problems & PARSE_P_TRUNCATED) && r->message[0] == '\0')
        parse_report_msg(r, "document cut off; the complete entries before the cut were kept");
    else if (r->problems & PARSE_P_TRUNCATED) {
        char prev[sizeof(r->message)];
        memcpy(prev, r->message, sizeof(prev));
        prev[sizeof(prev) - 40] = '\0';
        snprintf(r->message, sizeof(r->message), "document cut off (%.200s)", prev);
    }
    if ((r->problems & PARSE_P_ENTITIES) && r->message[0] == '\0')
        parse_report_msg(r, "bare '&' or HTML entities repaired");
    if ((r->problems & PARSE_P_JUNK) && r->message[0] == '\0')
        parse_report_msg(r, "bytes before the first tag skipped");
}

/* An XML document (head: its first hn bytes) in `charset`. */
static int
run_xml(struct source *src, const char *charset, const char *head, size_t hn, size_t bom,
        const struct parse_opts *opts, parse_entry_cb cb, void *arg,
        struct parse_feed **feed_out, struct parse_report *r)
{
    struct stages st = {.src = src, .skip = bom};
    struct sax *sax = NULL;
    char tail[64];
    size_t tail_len = 0;
    int rc = -ENOMEM;

    if ((st.chunk = malloc(INPUT_CHUNK)) == NULL)
        goto out;
    if ((rc = input_rewind(src)) < 0)
        goto out;
    if ((rc = decoder_new(charset, &st.dec)) < 0) {
        parse_report_msg(r, "charset %s not supported; read as UTF-8", charset);
        if ((rc = decoder_new("UTF-8", &st.dec)) < 0)
            goto out;
    }
    if ((rc = xmlfix_new(&st.fix)) < 0 || (rc = feed_sax_new(opts, cb, arg, r, &sax)) < 0)
        goto out;
    if ((rc = push_all(&st, sax, tail, sizeof(tail), &tail_len)) != 0)
        goto out;
    report_repairs(&st, charset, r);
    int root = feed_sax_root_seen(sax);
    struct parse_feed *feed = feed_sax_finish(sax, ends_closed(tail, tail_len));
    if (!root || feed == NULL || feed->format == NULL) {
        report_not_feed(r, root, head, hn, bom);
        parse_feed_free(feed);
        rc = -EINVAL;
        goto out;
    }
    report_feed(r);
    if (feed_out != NULL)
        *feed_out = feed;
    else
        parse_feed_free(feed);
    rc = 0;
out:
    feed_sax_free(sax);
    input_stages_free(&st);
    return rc;
}

static int
run(struct source *src, const struct parse_opts *opts, parse_entry_cb cb, void *arg,
    struct parse_feed **feed_out, struct parse_report *r)
{
    static const struct parse_opts no_opts;
    char head[HEAD], charset[48];
    struct decode_sniff sn;
    int err = 0;

    if (opts == NULL)
        opts = &no_opts;
    if (feed_out != NULL)
        *feed_out = NULL;
    xmlInitParser();
    size_t hn = input_read(src, head, sizeof(head), &err);
    if (err < 0)
        return err;
    if (hn == 0 || first_char(head, hn) < 0) {
        parse_report_msg(r, "empty document");
        return -EINVAL;
    }
    decode_sniff(head, hn, &sn);
    input_charset(src, &sn, opts->charset, r, charset, sizeof(charset));
    if (first_char(head + sn.bom_len, hn - sn.bom_len) == '{' && sn.decl[0] == '\0')
        return run_json(src, charset, sn.bom_len, opts, cb, arg, feed_out, r);
    return run_xml(src, charset, head, hn, sn.bom_len, opts, cb, arg, feed_out, r);
}

int
parse_feed_mem(const char *buf, size_t len, const struct parse_opts *opts, parse_entry_cb cb,
               void *arg, struct parse_feed **feed_out, struct parse_report *report)
{
    struct parse_report local;
    struct source src = {.mem = buf, .len = len};
    if (report == NULL)
        report = &local;
    memset(report, 0, sizeof(*report));
    return run(&src, opts, cb, arg, feed_out, report);
}

int
parse_feed_file(FILE *fp, const struct parse_opts *opts, parse_entry_cb cb, void *arg,
                struct parse_feed **feed_out, struct parse_report *report)
{
    struct parse_report local;
    struct source src = {.fp = fp};
    FILE *spool = NULL;
    int rc;
    if (report == NULL)
        report = &local;
    memset(report, 0, sizeof(*report));
    if (fseek(fp, 0, SEEK_CUR) != 0) {
        /* A pipe: spool it so the charset rules may read it twice. */
        char chunk[8192];
        size_t n;
        if ((spool = tmpfile()) == NULL)
            return -errno;
        while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
            if (fwrite(chunk, 1, n, spool) != n) {
                fclose(spool);
                return -EIO;
            }
        if (ferror(fp)) {
            fclose(spool);
            return -EIO;
        }
        rewind(spool);
        src.fp = spool;
    }
    rc = run(&src, opts, cb, arg, feed_out, report);
    if (spool != NULL)
        fclose(spool);
    return rc;
}
