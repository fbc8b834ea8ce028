/* parse/clean/clean_tags.c — what the cleaner knows of each element and attribute:
 * the element table (allowlist flags and attributes of SPEC §4, and the HTML
 * parser's facts: void elements, end-tag priorities, which start tag closes
 * which open element), the attribute names it keeps, and their look-ups by
 * hash. The parser's facts are libxml2 2.9's (HTMLparser.c: htmlStartClose,
 * htmlEndPriority, html40ElementTable's empty elements), so that the tree
 * built from a feed's HTML is the one libxml2 built for it before. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/clean/clean_int.h"

#define K TAG_KEEP
#define D TAG_DROP
#define V TAG_VOID
#define C TAG_CONTENT
#define E TAG_KEEP_EMPTY
#define B TAG_BLOCK
#define F TAG_FLOW
#define R TAG_RAW

/* Elements the cleaner or the parser knows, sorted by name. Those without
 * TAG_KEEP or TAG_DROP are unwrapped (their children kept), as are names not
 * in the table. SPEC §4's removal list, plus template, frame, frameset,
 * applet, head, title and xml. iframe is TAG_DROP unless its host is
 * allowlisted. TAG_VOID: HTML's void elements, libxml2's empty ones among
 * them; nothing goes inside one. The last column: libxml2's end-tag priority
 * (htmlEndPriority, 100 when 0): an end tag closes no open element of a
 * higher priority than its own. */
static const struct clean_tag tags[] = {
    {"a", K, " href title ", 0},
    {"abbr", K, " title ", 0},
    {"acronym", 0, NULL, 0},
    {"address", K | F, NULL, 0},
    {"applet", D, NULL, 0},
    {"area", V, NULL, 0},
    {"article", K | F, NULL, 0},
    {"aside", K | F, NULL, 0},
    {"audio", K | C, " src controls loop muted preload ", 0},
    {"b", K, NULL, 0},
    {"base", D | V, NULL, 0},
    {"basefont", V, NULL, 0},
    {"bdi", K, " dir ", 0},
    {"bdo", K, " dir ", 0},
    {"big", 0, NULL, 0},
    {"blockquote", K | B | F, " cite ", 0},
    {"body", 0, NULL, 200},
    {"br", K | V | C, NULL, 0},
    {"button", D, NULL, 0},
    {"caption", K | F, NULL, 0},
    {"center", 0, NULL, 0},
    {"cite", K, NULL, 0},
    {"code", K, NULL, 0},
    {"col", K | V | E, " span width ", 0},
    {"colgroup", K | E | F, " span width ", 0},
    {"dd", K | F, NULL, 0},
    {"del", K, " cite datetime ", 0},
    {"details", K | F, " open ", 0},
    {"dfn", K, " title ", 0},
    {"dir", 0, NULL, 0},
    {"div", K | B | F, NULL, 150},
    {"dl", K | F, NULL, 0},
    {"dt", K | F, NULL, 0},
    {"em", K, NULL, 0},
    {"embed", D | V, NULL, 0},
    {"fieldset", 0, NULL, 0},
    {"figcaption", K | F, NULL, 0},
    {"figure", K | F, NULL, 0},
    {"font", 0, NULL, 0},
    {"footer", K | F, NULL, 0},
    {"form", D, NULL, 0},
    {"frame", D | V, NULL, 0},
    {"frameset", D, NULL, 0},
    {"h1", K | B | F, NULL, 0},
    {"h2", K | B | F, NULL, 0},
    {"h3", K | B | F, NULL, 0},
    {"h4", K | B | F, NULL, 0},
    {"h5", K | B | F, NULL, 0},
    {"h6", K | B | F, NULL, 0},
    {"head", D, NULL, 200},
    {"header", K | F, NULL, 0},
    {"hr", K | V | C | F, NULL, 0},
    {"html", 0, NULL, 220},
    {"i", K, NULL, 0},
    {"iframe", D | C | TAG_IFRAME, " src width height allowfullscreen frameborder ", 0},
    {"img", K | V | C | TAG_IMG, " src alt title width height srcset referrerpolicy ", 0},
    {"input", D | V, NULL, 0},
    {"ins", K, " cite datetime ", 0},
    {"isindex", V, NULL, 0},
    {"kbd", K, NULL, 0},
    {"keygen", D | V, NULL, 0},
    {"label", 0, NULL, 0},
    {"legend", 0, NULL, 0},
    {"li", K | B | F, " value ", 0},
    {"link", D | V, NULL, 0},
    {"listing", 0, NULL, 0},
    {"main", K | F, NULL, 0},
    {"map", 0, NULL, 0},
    {"mark", K, NULL, 0},
    {"math", D, NULL, 0},
    {"menu", 0, NULL, 0},
    {"meta", D | V, NULL, 0},
    {"nav", K | F, NULL, 0},
    {"noframes", 0, NULL, 0},
    {"noscript", D, NULL, 0},
    {"object", D, NULL, 0},
    {"ol", K | F, " start reversed type ", 0},
    {"optgroup", 0, NULL, 0},
    {"option", 0, NULL, 0},
    {"p", K | B | F, NULL, 0},
    {"param", D | V, NULL, 0},
    {"picture", K, NULL, 0},
    {"pre", K | F, NULL, 0},
    {"q", K, " cite ", 0},
    {"rp", K, NULL, 0},
    {"rt", K, NULL, 0},
    {"ruby", K, NULL, 0},
    {"s", K, NULL, 0},
    {"samp", K, NULL, 0},
    {"script", D | R, NULL, 0},
    {"section", K | B | F, NULL, 0},
    {"select", D, NULL, 0},
    {"small", K, NULL, 0},
    {"source", K | V | E | TAG_NEEDS_SRC, " src srcset type media sizes ", 0},
    {"span", K, NULL, 0},
    {"strike", K, NULL, 0},
    {"strong", K, NULL, 0},
    {"style", D | R, NULL, 0},
    {"sub", K, NULL, 0},
    {"summary", K | F, NULL, 0},
    {"sup", K, NULL, 0},
    {"svg", D, NULL, 0},
    {"table", K | F, NULL, 190},
    {"tbody", K | E | F, NULL, 180},
    {"td", K | E | F, " colspan rowspan ", 160},
    {"template", D, NULL, 0},
    {"textarea", D | R, NULL, 0},
    {"tfoot", K | E | F, NULL, 180},
    {"th", K | E | F, " colspan rowspan scope abbr ", 160},
    {"thead", K | E | F, NULL, 180},
    {"time", K, " datetime ", 0},
    {"title", D | R, NULL, 0},
    {"tr", K | E | F, NULL, 170},
    {"track", K | V | E | TAG_NEEDS_SRC, " src kind srclang label default ", 0},
    {"tt", 0, NULL, 0},
    {"u", K, NULL, 0},
    {"ul", K | F, NULL, 0},
    {"var", K, NULL, 0},
    {"video", K | C, " src controls poster width height loop muted playsinline preload ", 0},
    {"wbr", K | V | E, NULL, 0},
    {"xml", D, NULL, 0}, /* Word's metadata islands */
    {"xmp", 0, NULL, 0},
};

#undef K
#undef D
#undef V
#undef C
#undef E
#undef B
#undef F
#undef R

#define NTAGS (sizeof tags / sizeof *tags)

/* Start tags that close an open element (libxml2's htmlStartClose): the open
 * element, then every start tag that closes it. */
static const char *const start_close[] = {
    "a a fieldset table td th",
    "address dd dl dt form li ul",
    "b center p td th",
    "big p",
    "caption col colgroup tbody tfoot thead tr",
    "col col colgroup tbody tfoot thead tr",
    "colgroup colgroup tbody tfoot thead tr",
    "dd dt",
    "dir dd dl dt form ul",
    "dl form li",
    "dt dd dl",
    "font center td th",
    "form form",
    "h1 fieldset form li p table",
    "h2 fieldset form li p table",
    "h3 fieldset form li p table",
    "h4 fieldset form li p table",
    "h5 fieldset form li p table",
    "h6 fieldset form li p table",
    "head a abbr acronym address b bdo big blockquote body br center cite code dd dfn dir div "
    "dl dt em fieldset font form frameset h1 h2 h3 h4 h5 h6 hr i iframe img kbd li listing map "
    "menu ol p pre q s samp small span strike strong sub sup table tt u ul var xmp",
    "hr form",
    "i center p td th",
    "legend fieldset",
    "li li",
    "link body frameset",
    "listing dd dl dt fieldset form li table ul",
    "menu dd dl dt form ul",
    "ol form ul",
    "option optgroup option",
    "p address blockquote body caption center col colgroup dd dir div dl dt fieldset form "
    "frameset h1 h2 h3 h4 h5 h6 head hr li listing menu ol p pre table tbody td tfoot th title "
    "tr ul xmp",
    "pre dd dl dt fieldset form li table ul",
    "s p",
    "script noscript",
    "small p",
    "span td th",
    "strike p",
    "style body frameset",
    "tbody tbody tfoot",
    "td tbody td tfoot th tr",
    "tfoot tbody",
    "th tbody td tfoot th tr",
    "thead tbody tfoot",
    "title body frameset",
    "tr tbody tfoot tr",
    "tt p",
    "u p td th",
    "ul address form menu ol pre",
    "xmp dd dl dt fieldset form li table ul",
};

/* Attribute names the cleaner looks at: every allowlisted one (the table's
 * lists), the lazy-loading ones, and class and id for selectors. */
static const char *const attr_names[] = {
    "abbr",
    "allowfullscreen",
    "alt",
    "cite",
    "class",
    "colspan",
    "controls",
    "data-lazy-src",
    "data-lazy-srcset",
    "data-original",
    "data-src",
    "data-srcset",
    "datetime",
    "default",
    "dir",
    "frameborder",
    "height",
    "href",
    "id",
    "kind",
    "label",
    "loop",
    "media",
    "muted",
    "open",
    "playsinline",
    "poster",
    "preload",
    "referrerpolicy",
    "reversed",
    "rowspan",
    "scope",
    "sizes",
    "span",
    "src",
    "srclang",
    "srcset",
    "start",
    "title",
    "type",
    "value",
    "width",
};
#define NATTRS (sizeof attr_names / sizeof *attr_names)

/* HTML 4's named character references with their code points: libxml2's
 * html40EntitiesTable, the names its HTML parser decodes. */
static const char entities[] =
    "quot 34 amp 38 apos 39 lt 60 gt 62 nbsp 160 iexcl 161 cent 162 pound 163 curren 164 yen 165 "
    "brvbar 166 sect 167 uml 168 copy 169 ordf 170 laquo 171 not 172 shy 173 reg 174 macr 175 "
    "deg 176 plusmn 177 sup2 178 sup3 179 acute 180 micro 181 para 182 middot 183 cedil 184 "
    "sup1 185 ordm 186 raquo 187 frac14 188 frac12 189 frac34 190 iquest 191 Agrave 192 "
    "Aacute 193 Acirc 194 Atilde 195 Auml 196 Aring 197 AElig 198 Ccedil 199 Egrave 200 "
    "Eacute 201 Ecirc 202 Euml 203 Igrave 204 Iacute 205 Icirc 206 Iuml 207 ETH 208 Ntilde 209 "
    "Ograve 210 Oacute 211 Ocirc 212 Otilde 213 Ouml 214 times 215 Oslash 216 Ugrave 217 "
    "Uacute 218 Ucirc 219 Uuml 220 Yacute 221 THORN 222 szlig 223 agrave 224 aacute 225 "
    "acirc 226 atilde 227 auml 228 aring 229 aelig 230 ccedil 231 egrave 232 eacute 233 "
    "ecirc 234 euml 235 igrave 236 iacute 237 icirc 238 iuml 239 eth 240 ntilde 241 ograve 242 "
    "oacute 243 ocirc 244 otilde 245 ouml 246 divide 247 oslash 248 ugrave 249 uacute 250 "
    "ucirc 251 uuml 252 yacute 253 thorn 254 yuml 255 OElig 338 oelig 339 Scaron 352 scaron 353 "
    "Yuml 376 fnof 402 circ 710 tilde 732 Alpha 913 Beta 914 Gamma 915 Delta 916 Epsilon 917 "
    "Zeta 918 Eta 919 Theta 920 Iota 921 Kappa 922 Lambda 923 Mu 924 Nu 925 Xi 926 Omicron 927 "
    "Pi 928 Rho 929 Sigma 931 Tau 932 Upsilon 933 Phi 934 Chi 935 Psi 936 Omega 937 alpha 945 "
    "beta 946 gamma 947 delta 948 epsilon 949 zeta 950 eta 951 theta 952 iota 953 kappa 954 "
    "lambda 955 mu 956 nu 957 xi 958 omicron 959 pi 960 rho 961 sigmaf 962 sigma 963 tau 964 "
    "upsilon 965 phi 966 chi 967 psi 968 omega 969 thetasym 977 upsih 978 piv 982 ensp 8194 "
    "emsp 8195 thinsp 8201 zwnj 8204 zwj 8205 lrm 8206 rlm 8207 ndash 8211 mdash 8212 lsquo 8216 "
    "rsquo 8217 sbquo 8218 ldquo 8220 rdquo 8221 bdquo 8222 dagger 8224 Dagger 8225 bull 8226 "
    "hellip 8230 permil 8240 prime 8242 Prime 8243 lsaquo 8249 rsaquo 8250 oline 8254 frasl 8260 "
    "euro 8364 image 8465 weierp 8472 real 8476 trade 8482 alefsym 8501 larr 8592 uarr 8593 "
    "rarr 8594 darr 8595 harr 8596 crarr 8629 lArr 8656 uArr 8657 rArr 8658 dArr 8659 hArr 8660 "
    "forall 8704 part 8706 exist 8707 empty 8709 nabla 8711 isin 8712 notin 8713 ni 8715 "
    "prod 8719 sum 8721 minus 8722 lowast 8727 radic 8730 prop 8733 infin 8734 ang 8736 and 8743 "
    "or 8744 cap 8745 cup 8746 int 8747 there4 8756 sim 8764 cong 8773 asymp 8776 ne 8800 "
    "equiv 8801 le 8804 ge 8805 sub 8834 sup 8835 nsub 8836 sube 8838 supe 8839 oplus 8853 "
    "otimes 8855 perp 8869 sdot 8901 lceil 8968 rceil 8969 lfloor 8970 rfloor 8971 lang 9001 "
    "rang 9002 loz 9674 spades 9824 clubs 9827 hearts 9829 diams 9830";
#define NENTS 253

#define TAG_SLOTS 512 /* hash slots, a power of two */
#define ATTR_SLOTS 256
#define ENT_SLOTS 1024

static struct {
    unsigned char tag_slot[TAG_SLOTS];   /* 1 + index in tags[], 0 empty */
    unsigned char attr_slot[ATTR_SLOTS]; /* 1 + index in attr_names[], 0 empty */
    unsigned char tag_len[NTAGS], attr_len[NATTRS];
    uint64_t attr_mask[NTAGS];              /* allowlisted attribute ids of each element */
    uint64_t lazy_mask;                     /* data-src & co. */
    uint8_t closes[NTAGS][(NTAGS + 7) / 8]; /* [new][old]: bit set when new closes old */
    struct {
        uint16_t off; /* name at entities + off */
        uint8_t len;
        uint32_t value;
    } ent[NENTS];
    uint16_t ent_slot[ENT_SLOTS];     /* 1 + index in ent[], 0 empty */
    const struct clean_tag *high[16]; /* rows of an end-tag priority above 100 */
    size_t nhigh;
} known;

static pthread_once_t known_once = PTHREAD_ONCE_INIT;

uint32_t
clean_name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int
tag_index(const char *name, size_t n, uint32_t h)
{
    for (uint32_t i = h;; i++) {
        unsigned k = known.tag_slot[i & (TAG_SLOTS - 1)];
        if (k == 0)
            return -1;
        if (known.tag_len[k - 1] == n && tags[k - 1].name[0] == name[0] &&
            memcmp(tags[k - 1].name, name, n) == 0)
            return (int)k - 1;
    }
}

static int
attr_index(const char *name, size_t n, uint32_t h)
{
    for (uint32_t i = h;; i++) {
        unsigned k = known.attr_slot[i & (ATTR_SLOTS - 1)];
        if (k == 0)
            return -1;
        if (known.attr_len[k - 1] == n && attr_names[k - 1][0] == name[0] &&
            memcmp(attr_names[k - 1], name, n) == 0)
            return (int)k - 1;
    }
}

/* Each word of a space-separated list, as (pointer, length). */
static const char *
next_word(const char *p, size_t *n)
{
    while (*p == ' ')
        p++;
    *n = strcspn(p, " ");
    return *n > 0 ? p : NULL;
}

static void
entities_init(void)
{
    size_t k = 0;
    for (const char *p = entities; *p && k < NENTS; k++) {
        const char *sp = strchr(p, ' ');
        known.ent[k].off = (uint16_t)(p - entities);
        known.ent[k].len = (uint8_t)(sp - p);
        known.ent[k].value = (uint32_t)strtoul(sp + 1, (char **)&p, 10);
        while (*p == ' ')
            p++;
        uint32_t h = clean_name_hash(entities + known.ent[k].off, known.ent[k].len);
        while (known.ent_slot[h & (ENT_SLOTS - 1)] != 0)
            h++;
        known.ent_slot[h & (ENT_SLOTS - 1)] = (uint16_t)(k + 1);
    }
}

uint32_t
clean_entity(const char *name, size_t n)
{
    for (uint32_t i = clean_name_hash(name, n);; i++) {
        unsigned k = known.ent_slot[i & (ENT_SLOTS - 1)];
        if (k == 0)
            return 0;
        if (known.ent[k - 1].len == n && memcmp(entities + known.ent[k - 1].off, name, n) == 0)
            return known.ent[k - 1].value;
    }
}

static void
known_init(void)
{
    entities_init();
    for (size_t i = 0; i < NTAGS; i++) {
        if (tags[i].prio > 100 && known.nhigh < sizeof known.high / sizeof *known.high)
            known.high[known.nhigh++] = &tags[i];
        known.tag_len[i] = (unsigned char)strlen(tags[i].name);
        uint32_t h = clean_name_hash(tags[i].name, strlen(tags[i].name));
        while (known.tag_slot[h & (TAG_SLOTS - 1)] != 0)
            h++;
        known.tag_slot[h & (TAG_SLOTS - 1)] = (unsigned char)(i + 1);
    }
    for (size_t i = 0; i < NATTRS; i++) {
        known.attr_len[i] = (unsigned char)strlen(attr_names[i]);
        uint32_t h = clean_name_hash(attr_names[i], strlen(attr_names[i]));
        while (known.attr_slot[h & (ATTR_SLOTS - 1)] != 0)
            h++;
        known.attr_slot[h & (ATTR_SLOTS - 1)] = (unsigned char)(i + 1);
    }
    for (size_t i = 0; i < NTAGS; i++) {
        size_t n;
        for (const char *w = tags[i].attrs ? next_word(tags[i].attrs, &n) : NULL; w != NULL;
             w = next_word(w + n, &n)) {
            int id = clean_attr_id(w, n);
            if (id >= 0) /* always: every listed name is in attr_names */
                known.attr_mask[i] |= (uint64_t)1 << id;
        }
    }
    static const char *const lazy[] = {"data-src", "data-original", "data-lazy-src", "data-srcset",
                                       "data-lazy-srcset"};
    for (size_t i = 0; i < sizeof lazy / sizeof *lazy; i++)
        known.lazy_mask |= (uint64_t)1 << clean_attr_id(lazy[i], strlen(lazy[i]));
    for (size_t r = 0; r < sizeof start_close / sizeof *start_close; r++) {
        size_t n;
        const char *w = next_word(start_close[r], &n);
        const struct clean_tag *old = clean_tag_lookup(w, n);
        while ((w = next_word(w + n, &n)) != NULL) {
            const struct clean_tag *nw = clean_tag_lookup(w, n);
            if (old != NULL && nw != NULL)
                known.closes[nw - tags][(old - tags) / 8] |= (uint8_t)(1u << ((old - tags) % 8));
        }
    }
}

void
clean_tags_init(void)
{
    pthread_once(&known_once, known_init);
}

const struct clean_tag *
clean_tag_lookup(const char *name, size_t n)
{
    return clean_tag_lookup_h(name, n, clean_name_hash(name, n));
}

const struct clean_tag *
clean_tag_lookup_h(const char *name, size_t n, uint32_t h)
{
    int i = tag_index(name, n, h);
    return i >= 0 ? &tags[i] : NULL;
}

const struct clean_tag *
clean_tag_find(const char *name)
{
    return clean_tag_lookup(name, strlen(name));
}

int
clean_attr_id(const char *name, size_t n)
{
    return attr_index(name, n, clean_name_hash(name, n));
}

int
clean_attr_id_h(const char *name, size_t n, uint32_t h)
{
    return attr_index(name, n, h);
}

const char *
clean_attr_name(int id)
{
    return attr_names[id];
}

int
clean_attr_allowed(const struct clean_tag *t, int id)
{
    return t != NULL && id >= 0 && (known.attr_mask[t - tags] >> id & 1);
}

int
clean_attr_lazy(int id)
{
    return id >= 0 && (known.lazy_mask >> id & 1);
}

int
clean_tag_closes(const struct clean_tag *newtag, const struct clean_tag *oldtag)
{
    if (newtag == NULL || oldtag == NULL)
        return 0;
    size_t o = (size_t)(oldtag - tags);
    return known.closes[newtag - tags][o / 8] >> (o % 8) & 1;
}

int
clean_closes(const char *newtag, const char *oldtag)
{
    return clean_tag_closes(clean_tag_find(newtag), clean_tag_find(oldtag));
}

_Static_assert(NTAGS <= CLEAN_TAGS_MAX, "CLEAN_TAGS_MAX too small");
_Static_assert(NATTRS <= 64, "attribute ids are bits of a uint64_t");

size_t
clean_tag_index(const struct clean_tag *t)
{
    return (size_t)(t - tags);
}

size_t
clean_tags_high(const struct clean_tag *const **out)
{
    *out = known.high;
    return known.nhigh;
}

int
clean_tag_priority(const struct clean_tag *t)
{
    return t != NULL && t->prio != 0 ? t->prio : 100;
}
