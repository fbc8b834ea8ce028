/* daemon/cli/cmd_opml.c — `finfeed opml export` (the configured feeds as OPML
 * 2.0) and `finfeed opml import FILE` (an OPML file from another reader as
 * [feed] sections to append to the configuration). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "daemon/cli/cli.h"
#include "daemon/config/config.h"
#include "daemon/emit/emit.h"
#include "daemon/emit/emit_text.h"

static int
export_opml(const struct config *cfg)
{
    struct emit_opml_feed *l = calloc(cfg->nfeeds + 1, sizeof(*l));
    char *doc;
    size_t len;
    if (l == NULL)
        return 1;
    for (size_t i = 0; i < cfg->nfeeds; i++) {
        l[i].name = cfg->feeds[i].name;
        l[i].url = cfg->feeds[i].url;
        l[i].categories = (const char *const *)cfg->feeds[i].categories;
        l[i].ncategories = cfg->feeds[i].ncategories;
    }
    int rc = emit_opml(cfg->output.title, l, cfg->nfeeds, &doc, &len);
    free(l);
    if (rc < 0)
        return 1;
    int ok = fwrite(doc, 1, len, stdout) == len && fflush(stdout) == 0;
    free(doc);
    return ok ? 0 : 1;
}

struct import {
    const struct config *cfg;
    char **names; /* names given so far, owned */
    size_t nnames;
    long count;
};

static int
taken(const struct import *im, const char *name)
{
    if (config_find_feed(im->cfg, name) != NULL)
        return 1;
    for (size_t i = 0; i < im->nnames; i++)
        if (strcmp(im->names[i], name) == 0)
            return 1;
    return 0;
}

/* A configuration-safe feed name from a title or a URL's host: ASCII letters,
 * digits and '-', made unique with a number. */
static char *
feed_name(struct import *im, const char *text, const char *url)
{
    char base[64];
    size_t n = 0;
    for (const char *src = text; src && *src && n < 40; src++) {
        unsigned char c = (unsigned char)*src;
        if (isalnum(c) && c < 0x80)
            base[n++] = (char)tolower(c);
        else if (n > 0 && base[n - 1] != '-')
            base[n++] = '-';
    }
    while (n > 0 && base[n - 1] == '-')
        n--;
    if (n < 3) { /* a Chinese title: name it after the host */
        const char *h = strstr(url, "://");
        h = h ? h + 3 : url;
        n = 0;
        for (; *h && *h != '/' && *h != ':' && *h != '?' && n < 40; h++)
            base[n++] = isalnum((unsigned char)*h) ? (char)tolower((unsigned char)*h) : '-';
    }
    if (n == 0)
        base[n++] = 'f';
    base[n] = '\0';
    char name[80];
    snprintf(name, sizeof(name), "%s", base);
    for (int i = 2; taken(im, name); i++)
        snprintf(name, sizeof(name), "%s-%d", base, i);
    char **l = realloc(im->names, (im->nnames + 1) * sizeof(*l));
    if (l == NULL)
        return NULL;
    im->names = l;
    return im->names[im->nnames++] = strdup(name);
}

/* A value on one config line, as the configuration will read it: control
 * characters (line breaks, tab, DEL) as spaces and ill-formed UTF-8 as
 * U+FFFD, both refused there; no " #" (a comment there). */
static void
put_value(const char *v)
{
    size_t n = strlen(v), len, skip;
    char prev = '\0';
    for (size_t i = 0; i < n; i += len) {
        if ((len = emit_utf8_seq(v + i, n - i, NULL, &skip)) == 0) {
            fputs(EMIT_REPLACEMENT, stdout);
            len = skip;
            prev = '\0';
            continue;
        }
        char c = v[i];
        if (len == 1 && ((unsigned char)c < 0x20 || c == 0x7f))
            c = ' ';
        if (len > 1)
            fwrite(v + i, 1, len, stdout);
        else if (c == '#' && prev == ' ')
            fputs("%23", stdout);
        else
            fputc(c, stdout);
        prev = c;
    }
}

/* Whether the configuration will take url as a feed's: what config's
 * check_url asks of libcurl (no space, no control character, a host), and
 * well-formed UTF-8, which every line of the file must be. */
static int
url_ok(const char *url)
{
    size_t n = strlen(url), len, skip;
    for (size_t i = 0; i < n; i += len)
        if ((len = emit_utf8_seq(url + i, n - i, NULL, &skip)) == 0)
            return 0;
    CURLU *u = curl_url();
    int ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK;
    curl_url_cleanup(u);
    return ok;
}

static void
walk(struct import *im, xmlNode *node, const char **folders, int depth)
{
    for (xmlNode *n = node; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || xmlStrcasecmp(n->name, BAD_CAST "outline") != 0) {
            if (n->type == XML_ELEMENT_NODE)
                walk(im, n->children, folders, depth);
            continue;
        }
        xmlChar *url = xmlGetProp(n, BAD_CAST "xmlUrl");
        xmlChar *text = xmlGetProp(n, BAD_CAST "text");
        xmlChar *title = xmlGetProp(n, BAD_CAST "title");
        xmlChar *cats = xmlGetProp(n, BAD_CAST "category");
        const char *label = (const char *)(title ? title : text);
        if (url != NULL && (xmlStrncasecmp(url, BAD_CAST "http://", 7) == 0 ||
                            xmlStrncasecmp(url, BAD_CAST "https://", 8) == 0) &&
            url_ok((const char *)url)) {
            char *name = feed_name(im, label, (const char *)url);
            if (name != NULL) {
                printf("[feed \"%s\"]\nurl = ", name);
                put_value((const char *)url);
                int first = 1;
                for (int i = 0; i < depth; i++) {
                    if (strchr(folders[i], ',') != NULL)
                        continue;
                    fputs(first ? "\ncategories = " : ", ", stdout);
                    put_value(folders[i]);
                    first = 0;
                }
                /* OPML §2.2 category: "/a/b,/c" */
                char *save = NULL, *copy = cats ? strdup((const char *)cats) : NULL;
                for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
                     t = strtok_r(NULL, ",", &save)) {
                    while (*t == '/' || *t == ' ')
                        t++;
                    if (*t == '\0')
                        continue;
                    fputs(first ? "\ncategories = " : ", ", stdout);
                    put_value(t);
                    first = 0;
                }
                free(copy);
                fputs("\n\n", stdout);
                im->count++;
            }
        } else if (url == NULL && label != NULL && depth < 16) {
            folders[depth] = label;
            walk(im, n->children, folders, depth + 1);
        } else if (url != NULL) {
            fprintf(stderr, "finfeed opml import: skipped %s (only well-formed http and https "
                    "URLs)\n", (const char *)url);
        }
        xmlFree(url);
        xmlFree(text);
        xmlFree(title);
        xmlFree(cats);
    }
}

static int
import_opml(const struct config *cfg, const char *file)
{
    /* NONET and no entity substitution: an OPML file is input, not a program */
    xmlDoc *doc = xmlReadFile(file, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                              XML_PARSE_NOWARNING | XML_PARSE_RECOVER);
    if (doc == NULL || xmlDocGetRootElement(doc) == NULL ||
        xmlStrcasecmp(xmlDocGetRootElement(doc)->name, BAD_CAST "opml") != 0) {
        fprintf(stderr, "finfeed opml import: %s: not an OPML document\n", file);
        xmlFreeDoc(doc);
        return 1;
    }
    struct import im = {.cfg = cfg};
    const char *folders[16];
    printf("# imported from %s by finfeed opml import\n\n", file);
    walk(&im, xmlDocGetRootElement(doc)->children, folders, 0);
    for (size_t i = 0; i < im.nnames; i++)
        free(im.names[i]);
    free(im.names);
    xmlFreeDoc(doc);
    fprintf(stderr, "finfeed opml import: %ld feeds; append them to your configuration\n",
            im.count);
    return 0;
}

int
cmd_opml(const struct cli_command *cmd, int argc, char **argv)
{
    const char *cfg_path = NULL, *verb = NULL, *file = NULL, *v;
    int m;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage(cmd, stdout);
            return 0;
        } else if ((m = cli_config_option(argc, argv, &i, &v)) != 0) {
            if (m < 0)
                return 2;
            cfg_path = v;
        } else if (verb == NULL) {
            verb = argv[i];
        } else if (file == NULL) {
            file = argv[i];
        } else {
            cli_fail(cmd, "unexpected '%s'", argv[i]);
            return 2;
        }
    }
    int import = verb && strcmp(verb, "import") == 0;
    if (verb == NULL || (!import && strcmp(verb, "export") != 0) || (import && file == NULL) ||
        (!import && file != NULL)) {
        cli_usage(cmd, stderr);
        return 2;
    }
    struct config *cfg = cli_config(cfg_path);
    if (cfg == NULL)
        return 2;
    int rc = import ? import_opml(cfg, file) : export_opml(cfg);
    config_free(cfg);
    return rc;
}
