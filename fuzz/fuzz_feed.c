/* fuzz/fuzz_feed.c — libFuzzer target for the feed parser: any bytes through
 * parse_feed_mem (charset choice, decoding, XML repair, SAX2, JSON Feed), with a
 * callback that reads every field of every entry and of the feed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void
touch(const char *s)
{
    if (s != NULL)
        sink += strlen(s);
}

static void
touch_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        touch(l[i]);
}

static int
on_entry(void *arg, const struct parse_feed *f, struct parse_entry *e)
{
    char date[32];
    size_t *count = arg;
    (*count)++;
    touch(e->title);
    touch(e->link);
    touch(e->id);
    touch(e->author);
    touch(e->author_name);
    touch(e->summary);
    touch(e->content);
    touch(e->comments);
    touch(e->image);
    touch(e->thumbnail);
    touch(e->base);
    sink += (size_t)(e->title_html + e->summary_html + e->content_html);
    if (e->published != PARSE_NO_DATE)
        touch(parse_date_iso(e->published, date, sizeof(date)));
    if (e->updated != PARSE_NO_DATE)
        touch(parse_date_iso(e->updated, date, sizeof(date)));
    touch_list(e->categories, e->ncategories);
    for (size_t i = 0; i < e->nenclosures; i++) {
        touch(e->enclosures[i].url);
        touch(e->enclosures[i].type);
        touch(e->enclosures[i].length);
    }
    /* The feed as seen so far. */
    touch(f->title);
    touch(f->language);
    /* Steal a field, as the contract allows. */
    free(e->content);
    e->content = NULL;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The input's length picks the options, so seed files stay intact. */
    static const struct parse_opts variants[] = {
        {0},
        {.charset = "gbk", .base_url = "http://example.com/a/b/"},
        {.charset = "iso-8859-1", .timezone = "Asia/Shanghai"},
    };
    const struct parse_opts *opts = &variants[size % 3];
    struct parse_feed *feed = NULL;
    struct parse_report rep;
    size_t count = 0;
    int rc = parse_feed_mem((const char *)data, size, opts, on_entry, &count, &feed, &rep);
    if (rc == 0 && feed != NULL) {
        touch(feed->title);
        touch(feed->link);
        touch(feed->subtitle);
        touch(feed->author);
        touch(feed->author_name);
        touch(feed->language);
        touch(feed->id);
        touch(feed->image);
        touch(feed->format);
        touch_list(feed->categories, feed->ncategories);
        sink += (size_t)feed->ttl;
    }
    touch(rep.message);
    parse_feed_free(feed);
    return 0;
}
