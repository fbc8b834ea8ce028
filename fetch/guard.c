/* fetch/guard.c — the public→private redirect guard's address rule (SPEC §6):
 * which connected addresses count as loopback, private, link-local or
 * unspecified. The per-transfer decision is in xfer.c (on_curl_prereq). */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "fetch/fetch.h"

struct net {
    unsigned char prefix[16];
    unsigned bits;
};

/* IPv4 networks no feed may redirect into. */
static const struct net v4_nets[] = {
    {{0}, 8},                  /* "this network", 0.0.0.0 unspecified (RFC 1122) */
    {{10}, 8},                 /* RFC 1918 */
    {{100, 64}, 10},           /* CGNAT shared space (RFC 6598) */
    {{127}, 8},                /* loopback */
    {{169, 254}, 16},          /* link-local (RFC 3927), cloud metadata lives here */
    {{172, 16}, 12},           /* RFC 1918 */
    {{192, 168}, 16},          /* RFC 1918 */
    {{255, 255, 255, 255}, 32} /* limited broadcast */
};

/* IPv6 networks, checked after the ones that embed an IPv4 address. */
static const struct net v6_nets[] = {
    {{0xfc}, 7},        /* unique local (RFC 4193) */
    {{0xfe, 0x80}, 10}, /* link-local */
    {{0xfe, 0xc0}, 10}, /* site-local (deprecated, RFC 3879) */
};

/* IPv6 prefixes whose last 32 bits are an IPv4 address to judge instead. */
static const struct net v6_embed[] = {
    {{0}, 96},                                        /* ::a.b.c.d (and ::, ::1) */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96}, /* IPv4-mapped ::ffff:a.b.c.d */
    {{0, 0x64, 0xff, 0x9b}, 96},                      /* NAT64 64:ff9b::/96 (RFC 6052) */
};

static int
in_net(const unsigned char *a, const struct net *n)
{
    unsigned full = n->bits / 8, rest = n->bits % 8;
    if (memcmp(a, n->prefix, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (n->prefix[full] & mask);
}

static int
v4_private(const unsigned char *a)
{
    for (size_t i = 0; i < sizeof(v4_nets) / sizeof(v4_nets[0]); i++)
        if (in_net(a, &v4_nets[i]))
            return 1;
    return 0;
}

int
fetch_addr_is_private(const char *ip)
{
    char buf[INET6_ADDRSTRLEN];
    unsigned char a[16];
    size_t n;

    if (ip == NULL)
        return -EINVAL;
    n = strcspn(ip, "%"); /* fe80::1%eth0: the zone says nothing about the address */
    if (n == 0 || n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, ip, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, a) == 1)
        return v4_private(a);
    if (inet_pton(AF_INET6, buf, a) != 1)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(v6_embed) / sizeof(v6_embed[0]); i++)
        if (in_net(a, &v6_embed[i]))
            return v4_private(a + 12);
    for (size_t i = 0; i < sizeof(v6_nets) / sizeof(v6_nets[0]); i++)
        if (in_net(a, &v6_nets[i]))
            return 1;
    return 0;
}
