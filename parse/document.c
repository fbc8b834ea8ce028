/* parse/document.c — the input pipeline of parse_feed_mem/parse_feed_file:
 * source bytes → charset choice (SPEC §3) → UTF-8 (decode.c) → XML repair
 * (xmlfix.c) → escaped text as CDATA (here) → SAX2 parser (feed_sax.c), in
 * 64 KiB chunks so memory stays bounded, the stages before libxml2 in a thread
 * of their own for big documents; JSON Feed documents go to jsonfeed.c. Also
 * the record helpers. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <pthread.h>

#include <libxml/parser.h>

#include "parse/input/decode_int.h"
#include "parse/feed/sax_int.h"
#include "parse/input/tag_stage_int.h"

#define CHUNK (64 * 1024)
#define HEAD 4096

/* Where the bytes come from: memory, or a seekable FILE. */
struct source {
    const char *mem;
    size_t len, pos;
    FILE *fp;
};

static size_t
src_read(struct source *src, char *dst, size_t n, int *err)
{
    if (src->fp == NULL) {
        size_t k = src->len - src->pos < n ? src->len - src->pos : n;
        memcpy(dst, src->mem + src->pos, k);
        src->pos += k;
        return k;
    }
    size_t k = fread(dst, 1, n, src->fp);
    if (k < n && ferror(src->fp))
        *err = -EIO;
    return k;
}

static int
src_rewind(struct source *src)
{
    if (src->fp == NULL) {
        src->pos = 0;
        return 0;
    }
    return fseek(src->fp, 0, SEEK_SET) == 0 ? 0 : -errno;
}

static void report_msg(struct parse_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
report_msg(struct parse_report *r, const char *fmt, ...)
{
    if (r->message[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
}

/* How many byte sequences `charset` fails to decode in the whole source. */
static long
count_errors(struct source *src, const char *charset, size_t skip)
{
    struct decoder *d = NULL;
    struct buf out = {0};
    char *chunk = malloc(CHUNK);
    long errors = -1;
    int err = 0;
    if (chunk == NULL || src_rewind(src) < 0 || decoder_new(charset, &d) < 0)
        goto out;
    size_t n;
    while ((n = src_read(src, chunk, CHUNK, &err)) > 0) {
        size_t off = skip < n ? skip : n;
        skip -= off;
        if (decoder_run(d, chunk + off, n - off, 0, &out) < 0)
            goto out;
        buf_reset(&out);
    }
    if (err < 0 || decoder_run(d, "", 0, 1, &out) < 0)
        goto out;
    errors = (long)decoder_errors(d);
out:
    decoder_free(d);
    buf_free(&out);
    free(chunk);
    return errors;
}

/* SPEC §3: a BOM decides; else the HTTP charset wins over the XML declaration
 * unless it fails to decode the bytes while the declaration's succeeds; else
 * UTF-8. Writes the canonical name to cs. */
static void
choose_charset(struct source *src, const struct decode_sniff *sn, const char *http,
               struct parse_report *r, char *cs, size_t cssize)
{
    char hc[48] = "";
    if (sn->bom[0] != '\0') {
        snprintf(cs, cssize, "%s", sn->bom);
        return;
    }
    if (http != NULL && *http != '\0' && decode_canonical(http, hc, sizeof(hc)) < 0)
        report_msg(r, "unknown charset '%s' ignored", http);
    if (hc[0] != '\0' && sn->decl[0] != '\0' && strcasecmp(hc, sn->decl) != 0 &&
        strncasecmp(sn->decl, "UTF-16", 6) != 0 && strncasecmp(sn->decl, "UTF-32", 6) != 0) {
        long he = count_errors(src, hc, sn->bom_len);
        if (he > 0 && count_errors(src, sn->decl, sn->bom_len) == 0) {
            r->problems |= PARSE_P_CHARSET;
            report_msg(r, "HTTP charset %s does not decode the document; used its declared %s",
                       hc, sn->decl);
            snprintf(cs, cssize, "%s", sn->decl);
            return;
        }
        snprintf(cs, cssize, "%s", hc);
        return;
    }
    if (hc[0] != '\0' && strncasecmp(sn->decl, "UTF-16", 6) != 0 &&
        strncasecmp(sn->decl, "UTF-32", 6) != 0)
        snprintf(cs, cssize, "%s", hc);
    else if (sn->decl[0] != '\0')
        snprintf(cs, cssize, "%s", sn->decl);
    else
        snprintf(cs, cssize, "UTF-8");
}

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
    struct decoder *d = NULL;
    struct buf text = {0};
    char *chunk = malloc(CHUNK);
    int rc = -ENOMEM, err = 0;
    size_t n;
    if (chunk == NULL)
        goto out;
    if ((rc = src_rewind(src)) < 0 || (rc = decoder_new(charset, &d)) < 0)
        goto out;
    while ((n = src_read(src, chunk, CHUNK, &err)) > 0) {
        size_t off = skip < n ? skip : n;
        skip -= off;
        if ((rc = decoder_run(d, chunk + off, n - off, 0, &text)) < 0)
            goto out;
    }
    if ((rc = err) < 0 || (rc = decoder_run(d, "", 0, 1, &text)) < 0)
        goto out;
    if (decoder_errors(d) > 0)
        r->problems |= PARSE_P_BAD_BYTES;
    rc = jsonfeed_parse(text.data, text.len, opts, cb, arg, feed_out, r);
out:
    decoder_free(d);
    buf_free(&text);
    free(chunk);
    return rc;
}

/* ---- the input stages, and a thread to run them ----
 * Reading, decoding, XML repair and the CDATA rewrite of one chunk
 * (stages_next) run ahead of libxml2 in a thread of their own for documents
 * of PIPE_MIN bytes or more, PIPE_SLOTS chunks ahead at most: on two cores
 * their cost is hidden behind libxml2's. Smaller documents run them in turn. */

#define PIPE_MIN (1024 * 1024)
#define PIPE_SLOTS 4

struct stages {
    struct source *src;
    struct decoder *dec;
    struct xmlfix *fix;
    struct cdata cd;
    size_t skip;   /* BOM bytes still to skip */
    char *chunk;   /* CHUNK bytes read */
    struct buf utf8, fixed;
    int err;       /* read error, negative errno */
};

/* The next piece of XML for libxml2 into *xml; *final set on the last one.
 * Returns 0 or -ENOMEM. */
static int
stages_next(struct stages *st, struct buf *xml, int *final)
{
    size_t n = src_read(st->src, st->chunk, CHUNK, &st->err);
    size_t off = st->skip < n ? st->skip : n;
    int rc;
    *final = n < CHUNK;
    st->skip -= off;
    buf_reset(&st->utf8);
    buf_reset(&st->fixed);
    buf_reset(xml);
    if ((rc = decoder_run(st->dec, st->chunk + off, n - off, *final, &st->utf8)) < 0 ||
        (rc = xmlfix_run(st->fix, st->utf8.data ? st->utf8.data : "", st->utf8.len, *final,
                         &st->fixed)) < 0 ||
        (rc = cdata_run(&st->cd, st->fixed.data ? st->fixed.data : "", st->fixed.len, *final,
                        xml)) < 0)
        return rc;
    return 0;
}

struct pipeline {
    struct stages *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* a piece made, or a slot freed, or quit */
    struct buf xml[PIPE_SLOTS];
    int final[PIPE_SLOTS];
    size_t made, taken;     /* pieces produced and consumed so far */
    int quit;               /* the consumer stopped early */
    int rc;                 /* the producer's error */
};

static void *
pipe_producer(void *arg)
{
    struct pipeline *pl = arg;
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        while (pl->made - pl->taken == PIPE_SLOTS && !pl->quit)
            pthread_cond_wait(&pl->cv, &pl->mu);
        int quit = pl->quit;
        size_t i = pl->made % PIPE_SLOTS;
        pthread_mutex_unlock(&pl->mu);
        if (quit)
            return NULL;
        int final = 0, rc = stages_next(pl->st, &pl->xml[i], &final);
        pthread_mutex_lock(&pl->mu);
        pl->final[i] = final;
        if (rc < 0)
            pl->rc = rc;
        else
            pl->made++;
        pthread_cond_broadcast(&pl->cv);
        pthread_mutex_unlock(&pl->mu);
        if (rc < 0 || final)
            return NULL;
    }
}

/* Wait for the next piece: 0 and *xml, *final, or the producer's error. */
static int
pipe_take(struct pipeline *pl, struct buf **xml, int *final)
{
    pthread_mutex_lock(&pl->mu);
    while (pl->made == pl->taken && pl->rc == 0)
        pthread_cond_wait(&pl->cv, &pl->mu);
    int rc = pl->made == pl->taken ? pl->rc : 0;
    size_t i = pl->taken % PIPE_SLOTS;
    pthread_mutex_unlock(&pl->mu);
    *xml = &pl->xml[i];
    *final = pl->final[i];
    return rc;
}

/* The piece from pipe_take is used up: its slot may be filled again. */
static void
pipe_done(struct pipeline *pl)
{
    pthread_mutex_lock(&pl->mu);
    pl->taken++;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
}

static int
pipe_start(struct pipeline *pl, struct stages *st)
{
    memset(pl, 0, sizeof(*pl));
    pl->st = st;
    if (pthread_mutex_init(&pl->mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&pl->cv, NULL) != 0) {
        pthread_mutex_destroy(&pl->mu);
        return -1;
    }
    if (pthread_create(&pl->thread, NULL, pipe_producer, pl) != 0) {
        pthread_cond_destroy(&pl->cv);
        pthread_mutex_destroy(&pl->mu);
        return -1;
    }
    return 0;
}

/* Stop the producer (whether it is done or not) and free the pipeline. */
static void
pipe_stop(struct pipeline *pl)
{
    pthread_mutex_lock(&pl->mu);
    pl->quit = 1;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
    pthread_join(pl->thread, NULL);
    pthread_cond_destroy(&pl->cv);
    pthread_mutex_destroy(&pl->mu);
    for (size_t i = 0; i < PIPE_SLOTS; i++)
        buf_free(&pl->xml[i]);
}

/* The size of the document when it is known cheaply, else 0. */
static size_t
src_size(const struct source *src)
{
    struct stat sb;
    if (src->fp == NULL)
        return src->len;
    if (fstat(fileno(src->fp), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
        return (size_t)sb.st_size;
    return 0;
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

static int
run(struct source *src, const struct parse_opts *opts, parse_entry_cb cb, void *arg,
    struct parse_feed **feed_out, struct parse_report *r)
{
    static const struct parse_opts no_opts;
    char head[HEAD], charset[48];
    struct decode_sniff sn;
    struct stages st = {.src = src};
    struct pipeline pl;
    int piped = 0;
    struct sax *sax = NULL;
    struct buf xml = {0};
    char tail[64];
    size_t tail_len = 0;
    int rc, err = 0;

    if (opts == NULL)
        opts = &no_opts;
    if (feed_out != NULL)
        *feed_out = NULL;
    xmlInitParser();
    size_t hn = src_read(src, head, sizeof(head), &err);
    if (err < 0)
        return err;
    if (hn == 0 || first_char(head, hn) < 0) {
        report_msg(r, "empty document");
        return -EINVAL;
    }
    decode_sniff(head, hn, &sn);
    choose_charset(src, &sn, opts->charset, r, charset, sizeof(charset));
    if (first_char(head + sn.bom_len, hn - sn.bom_len) == '{' && sn.decl[0] == '\0')
        return run_json(src, charset, sn.bom_len, opts, cb, arg, feed_out, r);

    rc = -ENOMEM;
    if ((st.chunk = malloc(CHUNK)) == NULL)
        goto out;
    if ((rc = src_rewind(src)) < 0)
        goto out;
    if ((rc = decoder_new(charset, &st.dec)) < 0) {
        report_msg(r, "charset %s not supported; read as UTF-8", charset);
        if ((rc = decoder_new("UTF-8", &st.dec)) < 0)
            goto out;
    }
    if ((rc = xmlfix_new(&st.fix)) < 0 || (rc = feed_sax_new(opts, cb, arg, r, &sax)) < 0)
        goto out;
    st.skip = sn.bom_len;
    piped = src_size(src) >= PIPE_MIN && pipe_start(&pl, &st) == 0;
    for (;;) {
        struct buf *piece = &xml;
        int final;
        rc = piped ? pipe_take(&pl, &piece, &final) : stages_next(&st, &xml, &final);
        if (rc < 0)
            goto out;
        tail_keep(tail, sizeof(tail), &tail_len, piece);
        rc = feed_sax_push(sax, piece->data ? piece->data : "", piece->len, final);
        if (piped)
            pipe_done(&pl);
        if (rc != 0)
            goto out;
        if (final)
            break;
    }
    if (piped) {
        pipe_stop(&pl); /* the producer is done: joined before its state is read */
        piped = 0;
    }
    if ((rc = st.err) < 0)
        goto out;
    if (decoder_errors(st.dec) > 0) {
        r->problems |= PARSE_P_BAD_BYTES;
        report_msg(r, "%zu invalid %s byte sequences replaced by U+FFFD", decoder_errors(st.dec),
                   charset);
    }
    r->problems |= xmlfix_problems(st.fix);
    if (st.cd.repairs > 0) {
        r->problems |= PARSE_P_MALFORMED;
        report_msg(r, "%s", st.cd.repair);
    }
    int root = feed_sax_root_seen(sax);
    struct parse_feed *feed = feed_sax_finish(sax, ends_closed(tail, tail_len));
    if (!root || feed == NULL || feed->format == NULL) {
        r->message[0] = '\0';
        int c = first_char(head + sn.bom_len, hn - sn.bom_len);
        if (!root && c != '<')
            report_msg(r, "not a feed: no XML or JSON found");
        else if (!root)
            report_msg(r, "not a feed: no element could be read");
        else if (has_html_tag(head, hn))
            report_msg(r, "not a feed: an HTML page (an error or anti-bot page?)");
        else
            report_msg(r, "not a feed: unknown root element");
        parse_feed_free(feed);
        rc = -EINVAL;
        goto out;
    }
    if ((r->problems & PARSE_P_TRUNCATED) && r->message[0] == '\0')
        report_msg(r, "document cut off; the complete entries before the cut were kept");
    else if (r->problems & PARSE_P_TRUNCATED) {
        char prev[sizeof(r->message)];
        memcpy(prev, r->message, sizeof(prev));
        prev[sizeof(prev) - 40] = '\0';
        snprintf(r->message, sizeof(r->message), "document cut off (%.200s)", prev);
    }
    if ((r->problems & PARSE_P_ENTITIES) && r->message[0] == '\0')
        report_msg(r, "bare '&' or HTML entities repaired");
    if ((r->problems & PARSE_P_JUNK) && r->message[0] == '\0')
        report_msg(r, "bytes before the first tag skipped");
    if (feed_out != NULL)
        *feed_out = feed;
    else
        parse_feed_free(feed);
    rc = 0;
out:
    if (piped)
        pipe_stop(&pl);
    feed_sax_free(sax);
    xmlfix_free(st.fix);
    decoder_free(st.dec);
    buf_free(&st.utf8);
    buf_free(&st.fixed);
    cdata_free(&st.cd);
    buf_free(&xml);
    free(st.chunk);
    return rc;
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

/* ---- record helpers ---- */

char *
feed_strdup(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

int
feed_add_category(char ***list, size_t *n, const char *term)
{
    char **l = realloc(*list, (*n + 1) * sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    *list = l;
    if ((l[*n] = strdup(term)) == NULL)
        return -ENOMEM;
    (*n)++;
    return 0;
}

void
feed_add_enclosure(struct parse_entry *e, const char *base, const char *url, const char *type,
                   const char *length)
{
    if (e == NULL)
        return;
    struct parse_enclosure *l = realloc(e->enclosures, (e->nenclosures + 1) * sizeof(*l));
    if (l == NULL)
        return;
    e->enclosures = l;
    struct parse_enclosure *x = &l[e->nenclosures++];
    x->url = parse_url_resolve(base, url);
    x->type = feed_strdup(type);
    x->length = feed_strdup(length);
}

static int
is_relative(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == ':')
            return 0;
        if (!isalnum((unsigned char)c) && c != '+' && c != '-' && c != '.')
            return 1;
    }
    return 1;
}

char *
feed_html_resolve(const char *html, const char *base)
{
    struct buf out = {0};
    const char *p = html, *copied = html;
    while ((p = strchr(p, '<')) != NULL) {
        p++;
        if (!isalpha((unsigned char)*p))
            continue;
        while (*p && *p != '>') {
            /* attribute name */
            while (*p && (isspace((unsigned char)*p) || *p == '/'))
                p++;
            const char *name = p;
            while (*p && !isspace((unsigned char)*p) && *p != '=' && *p != '>')
                p++;
            size_t nlen = (size_t)(p - name);
            while (isspace((unsigned char)*p))
                p++;
            if (*p != '=')
                continue;
            p++;
            while (isspace((unsigned char)*p))
                p++;
            char q = (*p == '"' || *p == '\'') ? *p++ : 0;
            const char *v = p;
            while (*p && (q ? *p != q : (!isspace((unsigned char)*p) && *p != '>')))
                p++;
            const char *span = v; /* replaced whole: href=" /x " loses its spaces */
            size_t span_len = (size_t)(p - v), vlen = span_len;
            if (q && *p == q)
                p++;
            while (vlen > 0 && isspace((unsigned char)*v))
                v++, vlen--;
            while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
                vlen--;
            int url_attr = (nlen == 4 && strncasecmp(name, "href", 4) == 0) ||
                           (nlen == 3 && strncasecmp(name, "src", 3) == 0);
            if (!url_attr || vlen == 0 || !is_relative(v, vlen))
                continue;
            char *ref = strndup(v, vlen);
            char *abs = ref ? parse_url_resolve(base, ref) : NULL;
            if (abs != NULL) {
                buf_add(&out, copied, (size_t)(span - copied));
                buf_adds(&out, abs);
                copied = span + span_len;
            }
            free(ref);
            free(abs);
        }
        if (*p == '\0')
            break;
    }
    buf_adds(&out, copied);
    return buf_steal(&out);
}

void
parse_entry_free(struct parse_entry *e)
{
    if (e == NULL)
        return;
    free(e->title);
    free(e->link);
    free(e->id);
    free(e->author);
    free(e->author_name);
    free(e->summary);
    free(e->content);
    free(e->comments);
    free(e->image);
    free(e->thumbnail);
    free(e->base);
    for (size_t i = 0; i < e->ncategories; i++)
        free(e->categories[i]);
    free(e->categories);
    for (size_t i = 0; i < e->nenclosures; i++) {
        free(e->enclosures[i].url);
        free(e->enclosures[i].type);
        free(e->enclosures[i].length);
    }
    free(e->enclosures);
    free(e);
}

void
parse_feed_free(struct parse_feed *f)
{
    if (f == NULL)
        return;
    free(f->title);
    free(f->link);
    free(f->subtitle);
    free(f->author);
    free(f->author_name);
    free(f->language);
    free(f->id);
    free(f->image);
    for (size_t i = 0; i < f->ncategories; i++)
        free(f->categories[i]);
    free(f->categories);
    free(f);
}
