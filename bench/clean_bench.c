/* bench/clean_bench.c — throughput of parse_clean() over a file of item bodies
 * written by bench/clean: records of (u32le base length, base, u32le body
 * length, body). Prints bodies, bytes, CPU and wall seconds, and MiB/s of CPU
 * time (the fair figure on a shared machine) and of wall time. With
 * --parse-only: libxml2's HTML push parser alone, SAX events ignored (the
 * ceiling of any cleaner built on it, as this one was until issue 15). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/HTMLparser.h>

#include "parse/parse.h"

struct rec {
    char *base;
    const char *body;
    size_t len;
};

static double
now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    (void)ctx, (void)name, (void)atts;
}

static void
on_end(void *ctx, const xmlChar *name)
{
    (void)ctx, (void)name;
}

static void
on_text(void *ctx, const xmlChar *ch, int len)
{
    (void)ctx, (void)ch, (void)len;
}

/* What parse_clean() asks of libxml2, without the cleaning. */
static int
parse_only(const char *body, size_t len)
{
    htmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_text;
    sax.cdataBlock = on_text;
    sax.initialized = 1;
    htmlParserCtxtPtr ctxt =
        htmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
    if (ctxt == NULL)
        return -1;
    htmlCtxtUseOptions(ctxt, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                 HTML_PARSE_NOIMPLIED | HTML_PARSE_RECOVER | HTML_PARSE_IGNORE_ENC);
    htmlParseChunk(ctxt, "<html><body>", 12, 0);
    htmlParseChunk(ctxt, body, (int)len, 1);
    htmlFreeParserCtxt(ctxt);
    return 0;
}

static uint32_t
rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int
main(int argc, char **argv)
{
    static const char *const hosts[] = {"www.youtube.com", "player.vimeo.com",
                                        "player.bilibili.com"};
    struct parse_clean_opts opts = {NULL, NULL, hosts, 3};
    struct parse_cleaner *c = NULL;
    struct rec *recs = NULL;
    size_t nrecs = 0, total = 0, out_total = 0, size = 0;
    unsigned char *data = NULL;
    char err[256];
    int rc = 1;

    if (argc < 2) {
        fprintf(stderr, "usage: clean_bench RECORDS [MIN_SECONDS] [--parse-only]\n");
        return 2;
    }
    double min_s = argc > 2 ? atof(argv[2]) : 2.0;
    int only_parse = argc > 3 && strcmp(argv[3], "--parse-only") == 0;
    FILE *fp = fopen(argv[1], "rb");
    long end = -1;
    if (fp != NULL && fseek(fp, 0, SEEK_END) == 0)
        end = ftell(fp);
    if (end < 0 || fseek(fp, 0, SEEK_SET) != 0 || (data = malloc((size_t)end + 1)) == NULL ||
        fread(data, 1, (size_t)end, fp) != (size_t)end) {
        fprintf(stderr, "clean_bench: %s: %s\n", argv[1], strerror(errno));
        goto out;
    }
    size = (size_t)end;
    for (size_t off = 0; off + 8 <= size;) {
        uint32_t bl = rd32(data + off);
        if (off + 4 + bl + 4 > size)
            break;
        char *base = bl ? strndup((const char *)data + off + 4, bl) : NULL;
        off += 4 + bl;
        uint32_t n = rd32(data + off);
        if (off + 4 + n > size) {
            free(base);
            break;
        }
        struct rec *grown = realloc(recs, (nrecs + 1) * sizeof *recs);
        if (grown == NULL) {
            free(base);
            goto out;
        }
        recs = grown;
        recs[nrecs++] = (struct rec){base, (const char *)data + off + 4, n};
        total += n;
        off += 4 + n;
    }
    if (parse_cleaner_new(&opts, &c, err, sizeof err) != 0) {
        fprintf(stderr, "clean_bench: %s\n", err);
        goto out;
    }
    int passes = 0;
    double c0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_MONOTONIC), cpu, t;
    do {
        out_total = 0;
        for (size_t i = 0; i < nrecs; i++) {
            char *out;
            if (only_parse) {
                if (parse_only(recs[i].body, recs[i].len) != 0)
                    goto out;
                continue;
            }
            if (parse_clean(c, recs[i].body, recs[i].len, recs[i].base, &out) != 0) {
                fprintf(stderr, "clean_bench: parse_clean failed\n");
                goto out;
            }
            out_total += strlen(out);
            free(out);
        }
        passes++;
        cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
        t = now(CLOCK_MONOTONIC) - t0;
    } while (cpu < min_s);
    double mib = (double)total * passes / (1024.0 * 1024.0);
    printf("bodies=%zu bytes=%zu out_bytes=%zu passes=%d cpu_s=%.3f wall_s=%.3f "
           "cpu_mib_s=%.2f wall_mib_s=%.2f\n",
           nrecs, total, out_total, passes, cpu, t, mib / cpu, mib / t);
    rc = 0;
out:
    parse_cleaner_free(c);
    for (size_t i = 0; i < nrecs; i++)
        free(recs[i].base);
    free(recs);
    free(data);
    if (fp != NULL)
        fclose(fp);
    return rc;
}
