/* parse/input/input_int.h — the input room as document.c drives it: where the
 * bytes come from, which charset reads them (SPEC §3), and the stages that turn
 * them into XML libxml2 takes (decode.c → xmlfix_*.c → tag_stage.c), run in
 * turn or in a thread of their own (stages.c). */
#ifndef FINFEED_PARSE_INPUT_INT_H
#define FINFEED_PARSE_INPUT_INT_H

#include <pthread.h>
#include <stdio.h>

#include "parse/buf_int.h"
#include "parse/input/decode_int.h"
#include "parse/input/tag_stage_int.h"
#include "parse/input/xmlfix_int.h"
#include "parse/parse.h"

#define INPUT_CHUNK (64 * 1024) /* bytes read at a time: memory stays bounded */
#define INPUT_PIPE_MIN (1024 * 1024) /* documents this big run the stages in a thread */
#define INPUT_PIPE_SLOTS 4           /* pieces the thread may make ahead */

/* Where the bytes come from: memory (borrowed), or a seekable FILE (borrowed). */
struct source {
    const char *mem;
    size_t len, pos;
    FILE *fp;
};

/* Up to n bytes into dst; a read error sets *err (negative errno). */
size_t input_read(struct source *src, char *dst, size_t n, int *err);
/* Back to the first byte: 0 or a negative errno. */
int input_rewind(struct source *src);
/* The size of the document when it is known cheaply, else 0. */
size_t input_size(const struct source *src);

/* The whole source from its start, `skip` bytes (a BOM) left out, decoded from
 * `charset` and appended to out as UTF-8 (out NULL: only checked). Stores the
 * bad sequences replaced in *errors. 0, or a negative errno. */
int input_decode_all(struct source *src, const char *charset, size_t skip, struct buf *out,
                     size_t *errors);

/* SPEC §3: a BOM decides; else the HTTP charset (`http`, may be NULL) wins over
 * the XML declaration unless it fails to decode the bytes while the
 * declaration's succeeds; else UTF-8. Writes the canonical name to cs; notes
 * an unknown or overruled HTTP charset in r. */
void input_charset(struct source *src, const struct decode_sniff *sn, const char *http,
                   struct parse_report *r, char *cs, size_t cssize);

/* The stages of one document, in the order bytes go through them. The caller
 * sets src, dec, fix and skip; the rest starts zeroed. */
struct stages {
    struct source *src;
    struct decoder *dec;
    struct xmlfix *fix;
    struct cdata cd;
    size_t skip;   /* BOM bytes still to skip */
    char *chunk;   /* INPUT_CHUNK bytes read */
    struct buf utf8, fixed;
    int err;       /* read error, negative errno */
};

/* The next piece of XML for libxml2 into *xml (reset first); *final set on the
 * last one. Returns 0 or -ENOMEM. */
int input_stages_next(struct stages *st, struct buf *xml, int *final);
/* Free what the stages hold (st itself is the caller's). */
void input_stages_free(struct stages *st);

/* input_stages_next in a thread of its own, INPUT_PIPE_SLOTS pieces ahead at
 * most: on two cores their cost hides behind libxml2's. */
struct pipeline {
    struct stages *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* a piece made, or a slot freed, or quit */
    struct buf xml[INPUT_PIPE_SLOTS];
    int final[INPUT_PIPE_SLOTS];
    size_t made, taken;     /* pieces produced and consumed so far */
    int quit;               /* the consumer stopped early */
    int rc;                 /* the producer's error */
};

/* Start the thread over st (borrowed until input_pipe_stop): 0, or -1 when
 * no thread could be had (run the stages in turn then). */
int input_pipe_start(struct pipeline *pl, struct stages *st);
/* Wait for the next piece: 0 with *xml (the pipeline's, valid until
 * input_pipe_done) and *final, or the producer's error. */
int input_pipe_take(struct pipeline *pl, struct buf **xml, int *final);
/* The piece from input_pipe_take is used up: its slot may be filled again. */
void input_pipe_done(struct pipeline *pl);
/* Stop the producer (whether it is done or not), join it and free the
 * pipeline; after it the stages may be read. */
void input_pipe_stop(struct pipeline *pl);

#endif
