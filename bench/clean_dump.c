/* bench/clean_dump.c — parse_clean() over many inputs, every output written out,
 * for bench/clean_diff to compare two builds of the cleaner. Inputs: a file of
 * records as bench/clean writes them (--records, the bench's options: three
 * iframe hosts, the record's link as base), or files (fuzz/fuzz_clean.c's
 * options and base). Output: for each input "<length>\n<bytes>\n". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"

static char *
slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *data = NULL;
    long end = -1;
    if (fp != NULL && fseek(fp, 0, SEEK_END) == 0)
        end = ftell(fp);
    if (end >= 0 && fseek(fp, 0, SEEK_SET) == 0 && (data = malloc((size_t)end + 1)) != NULL &&
        fread(data, 1, (size_t)end, fp) == (size_t)end) {
        *len = (size_t)end;
    } else {
        free(data);
        data = NULL;
    }
    if (fp != NULL)
        fclose(fp);
    return data;
}

static int
dump(const struct parse_cleaner *c, const char *in, size_t len, const char *base)
{
    char *out = NULL;
    if (parse_clean(c, in, len, base, &out) != 0) {
        fprintf(stderr, "clean_dump: parse_clean failed\n");
        return -1;
    }
    printf("%zu\n", strlen(out));
    fwrite(out, 1, strlen(out), stdout);
    putchar('\n');
    free(out);
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
    static const char *const bench_hosts[] = {"www.youtube.com", "player.vimeo.com",
                                              "player.bilibili.com"};
    static const char *const fuzz_hosts[] = {"www.youtube.com"};
    struct parse_clean_opts bench = {NULL, NULL, bench_hosts, 3};
    struct parse_clean_opts fuzz = {"figure, .ad, #promo, div.x, [data-y], [data-z=\"1\"]",
                                    "^(责任编辑|editor:)", fuzz_hosts, 1};
    struct parse_cleaner *c = NULL;
    char err[256];
    int records = argc > 1 && strcmp(argv[1], "--records") == 0;

    if (argc < 2) {
        fprintf(stderr, "usage: clean_dump --records FILE | FILE...\n");
        return 2;
    }
    if (parse_cleaner_new(records ? &bench : &fuzz, &c, err, sizeof err) != 0) {
        fprintf(stderr, "clean_dump: %s\n", err);
        return 1;
    }
    for (int i = records ? 2 : 1; i < argc; i++) {
        size_t size = 0;
        char *data = slurp(argv[i], &size);
        if (data == NULL) {
            fprintf(stderr, "clean_dump: cannot read %s\n", argv[i]);
            return 1;
        }
        if (!records) {
            if (dump(c, data, size, "http://base.test/dir/page.html") < 0)
                return 1;
            free(data);
            continue;
        }
        const unsigned char *d = (const unsigned char *)data;
        for (size_t off = 0; off + 8 <= size;) {
            uint32_t bl = rd32(d + off);
            if (off + 4 + bl + 4 > size)
                break;
            char *base = bl ? strndup(data + off + 4, bl) : NULL;
            off += 4 + bl;
            uint32_t n = rd32(d + off);
            if (off + 4 + n > size) {
                free(base);
                break;
            }
            int rc = dump(c, data + off + 4, n, base);
            free(base);
            if (rc < 0)
                return 1;
            off += 4 + n;
        }
        free(data);
    }
    parse_cleaner_free(c);
    return 0;
}
