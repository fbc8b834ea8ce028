/* parse/input/stages.c — the input stages of one document: bytes read from
 * memory or a file, decoded to UTF-8 (decode.c), XML repaired (xmlfix_*.c),
 * text made CDATA (tag_stage.c), in INPUT_CHUNK pieces; and the thread that
 * runs them ahead of libxml2 for big documents. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse/input/input_int.h"

size_t
input_read(struct source *src, char *dst, size_t n, int *err)
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

int
input_rewind(struct source *src)
{
    if (src->fp == NULL) {
        src->pos = 0;
        return 0;
    }
    return fseek(src->fp, 0, SEEK_SET) == 0 ? 0 : -errno;
}

size_t
input_size(const struct source *src)
{
    struct stat sb;
    if (src->fp == NULL)
        return src->len;
    if (fstat(fileno(src->fp), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
        return (size_t)sb.st_size;
    return 0;
}

int
input_decode_all(struct source *src, const char *charset, size_t skip, struct buf *out,
                 size_t *errors)
{
    struct decoder *d = NULL;
    char *chunk = malloc(INPUT_CHUNK);
    int rc = -ENOMEM, err = 0;
    size_t n;
    if (chunk == NULL)
        goto out;
    if ((rc = input_rewind(src)) < 0 || (rc = decoder_new(charset, &d)) < 0)
        goto out;
    while ((n = input_read(src, chunk, INPUT_CHUNK, &err)) > 0) {
        size_t off = skip < n ? skip : n;
        skip -= off;
        if ((rc = decoder_run(d, chunk + off, n - off, 0, out)) < 0)
            goto out;
    }
    if ((rc = err) < 0 || (rc = decoder_run(d, "", 0, 1, out)) < 0)
        goto out;
    *errors = decoder_errors(d);
out:
    decoder_free(d);
    free(chunk);
    return rc;
}

int
input_stages_next(struct stages *st, struct buf *xml, int *final)
{
    size_t n = input_read(st->src, st->chunk, INPUT_CHUNK, &st->err);
    size_t off = st->skip < n ? st->skip : n;
    int rc;
    *final = n < INPUT_CHUNK;
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

void
input_stages_free(struct stages *st)
{
    xmlfix_free(st->fix);
    decoder_free(st->dec);
    buf_free(&st->utf8);
    buf_free(&st->fixed);
    cdata_free(&st->cd);
    free(st->chunk);
    st->fix = NULL;
    st->dec = NULL;
    st->chunk = NULL;
}

/* ---- the thread ---- */

static void *
pipe_producer(void *arg)
{
    struct pipeline *pl = arg;
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        while (pl->made - pl->taken == INPUT_PIPE_SLOTS && !pl->quit)
            pthread_cond_wait(&pl->cv, &pl->mu);
        int quit = pl->quit;
        size_t i = pl->made % INPUT_PIPE_SLOTS;
        pthread_mutex_unlock(&pl->mu);
        if (quit)
            return NULL;
        int final = 0, rc = input_stages_next(pl->st, &pl->xml[i], &final);
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

int
input_pipe_take(struct pipeline *pl, struct buf **xml, int *final)
{
    pthread_mutex_lock(&pl->mu);
    while (pl->made == pl->taken && pl->rc == 0)
        pthread_cond_wait(&pl->cv, &pl->mu);
    int rc = pl->made == pl->taken ? pl->rc : 0;
    size_t i = pl->taken % INPUT_PIPE_SLOTS;
    pthread_mutex_unlock(&pl->mu);
    *xml = &pl->xml[i];
    *final = pl->final[i];
    return rc;
}

void
input_pipe_done(struct pipeline *pl)
{
    pthread_mutex_lock(&pl->mu);
    pl->taken++;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
}

int
input_pipe_start(struct pipeline *pl, struct stages *st)
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

void
input_pipe_stop(struct pipeline *pl)
{
    pthread_mutex_lock(&pl->mu);
    pl->quit = 1;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
    pthread_join(pl->thread, NULL);
    pthread_cond_destroy(&pl->cv);
    pthread_mutex_destroy(&pl->mu);
    for (size_t i = 0; i < INPUT_PIPE_SLOTS; i++)
        buf_free(&pl->xml[i]);
}
