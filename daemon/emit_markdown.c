/* daemon/emit_markdown.c — articles as Markdown posts with Hexo front matter
 * (SPEC §5.4), the layout of the seed post byte for byte. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "daemon/emit.h"
#include "store/store.h"

/* A YAML single-quoted scalar: ' doubled; line breaks cannot occur (titles
 * and URLs are collapsed to one line), but are written as spaces if they do. */
static void
quoted(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("''", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
    fputc('\'', out);
}

/* A plain scalar when YAML reads it back as the same string (as the seed
 * writes `author: 新浪财经`), else single-quoted. */
static void
scalar(FILE *out, const char *s)
{
    int plain = *s != '\0' && strchr("-?:,[]{}#&*!|>'\"%@` ", *s) == NULL &&
                strstr(s, ": ") == NULL && strstr(s, " #") == NULL && strpbrk(s, "\n\r\t") == NULL &&
                s[strlen(s) - 1] != ' ' && s[strlen(s) - 1] != ':';
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null", "~"};
    for (size_t i = 0; plain && i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasecmp(s, words[i]) == 0)
            plain = 0;
    if (plain && (isdigit((unsigned char)*s) || *s == '.' || *s == '+'))
        plain = 0; /* numbers and dates would change type */
    if (plain)
        fputs(s, out);
    else
        quoted(out, s);
}

int
emit_markdown(FILE *out, const struct parse_article *a)
{
    char date[64];
    time_t t = (time_t)a->date;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday % 7],
             tm.tm_mday, mo[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);

    fputs("---\ntitle: ", out);
    quoted(out, a->title);
    fputc('\n', out);
    if (a->ncategories > 0) {
        fputs("categories: \n", out);
        for (size_t i = 0; i < a->ncategories; i++) {
            fputs(" - ", out);
            scalar(out, a->categories[i]);
            fputc('\n', out);
        }
    }
    if (a->headimg != NULL && *a->headimg) {
        fputs("headimg: ", out);
        quoted(out, a->headimg);
        fputc('\n', out);
    }
    if (a->author != NULL && *a->author) {
        fputs("author: ", out);
        scalar(out, a->author);
        fputc('\n', out);
    }
    fprintf(out, "comments: %s\n", a->comments ? "true" : "false");
    fprintf(out, "date: %s\n", date);
    if (a->thumbnail != NULL && *a->thumbnail) {
        fputs("thumbnail: ", out);
        quoted(out, a->thumbnail);
        fputc('\n', out);
    }
    fputs("---\n\n", out);
    for (const char *p = a->body; *p; p++) {
        if (*p == '{')
            fputs("&#123;", out);
        else if (*p == '}')
            fputs("&#125;", out);
        else
            fputc(*p, out);
    }
    fputc('\n', out);
    return ferror(out) ? -EIO : 0;
}

char *
emit_markdown_name(const struct parse_article *a, char *buf, size_t size)
{
    char day[16], slug[64];
    time_t t = (time_t)a->date;
    struct tm tm;
    size_t n = 0;
    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    /* The slug comes from the last path segment of the link (publishers'
     * slugs are ASCII even for Chinese headlines, and links do not change
     * when a title is corrected), without its extension. */
    const char *seg = NULL, *end = NULL;
    if (a->link != NULL) {
        const char *path = strstr(a->link, "://");
        path = path ? strchr(path + 3, '/') : NULL;
        end = path ? path + strcspn(path, "?#") : NULL;
        while (end && end > path && end[-1] == '/')
            end--;
        for (const char *p = path; p && p < end; p++)
            if (*p == '/')
                seg = p + 1;
        const char *dot = NULL;
        for (const char *p = seg; p && p < end; p++)
            if (*p == '.')
                dot = p;
        if (dot != NULL && dot > seg)
            end = dot;
    }
    for (const char *p = seg; p && p < end && n < 48; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) && c < 0x80)
            slug[n++] = (char)tolower(c);
        else if (n > 0 && slug[n - 1] != '-')
            slug[n++] = '-';
    }
    while (n > 0 && slug[n - 1] == '-')
        n--;
    slug[n] = '\0';
    if (n >= 4) {
        snprintf(buf, size, "%s-%s.md", day, slug);
    } else { /* no usable link: a hash of the guid */
        uint64_t h = 0xcbf29ce484222325ULL;
        for (const char *p = a->guid; p && *p; p++)
            h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
        snprintf(buf, size, "%s-%016" PRIx64 ".md", day, h);
    }
    return buf;
}

/* A parse_article view of a stored article: strings borrowed, categories
 * decoded from their JSON array (freed by view_free). */
static void
view_of(const struct store_article *s, struct parse_article *a, json_t **cats)
{
    memset(a, 0, sizeof(*a));
    a->title = (char *)(s->title ? s->title : "");
    a->link = (char *)s->link;
    a->guid = (char *)(s->guid ? s->guid : s->uid);
    a->author = (char *)s->author;
    a->date = s->date;
    a->headimg = (char *)s->headimg;
    a->thumbnail = (char *)s->thumbnail;
    a->comments = s->comments;
    a->summary = (char *)s->summary;
    a->body = (char *)(s->body ? s->body : "");
    a->source = (char *)s->feed;
    *cats = json_loads(s->categories_json ? s->categories_json : "[]", 0, NULL);
    size_t n = json_array_size(*cats);
    a->categories = n ? calloc(n, sizeof(char *)) : NULL;
    for (size_t i = 0; a->categories && i < n; i++) {
        const char *c = json_string_value(json_array_get(*cats, i));
        if (c != NULL)
            a->categories[a->ncategories++] = (char *)c;
    }
}

int
emit_markdown_stored(FILE *out, const struct store_article *s)
{
    struct parse_article a;
    json_t *cats;
    view_of(s, &a, &cats);
    int rc = emit_markdown(out, &a);
    free(a.categories);
    json_decref(cats);
    return rc;
}

char *
emit_markdown_name_stored(const struct store_article *s, char *buf, size_t size)
{
    struct parse_article a;
    json_t *cats;
    view_of(s, &a, &cats);
    a.guid = (char *)s->uid; /* stable across sources and updates */
    emit_markdown_name(&a, buf, size);
    free(a.categories);
    json_decref(cats);
    return buf;
}
