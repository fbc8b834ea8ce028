/* tests/fault/uv_fail.c — an LD_PRELOAD shim for t_unchecked.sh: makes the
 * libuv call named by $FINFEED_FAIL (uv_signal_start, uv_timer_start,
 * uv_timer_init) fail with UV_ENOMEM, so a test sees what the daemon does
 * with a result it must check (issue 10 §3.8). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

static int
failing(const char *name)
{
    const char *f = getenv("FINFEED_FAIL");
    return f != NULL && strcmp(f, name) == 0;
}

int
uv_signal_start(uv_signal_t *h, uv_signal_cb cb, int signum)
{
    int (*real)(uv_signal_t *, uv_signal_cb, int) =
        (int (*)(uv_signal_t *, uv_signal_cb, int))dlsym(RTLD_NEXT, "uv_signal_start");
    return failing("uv_signal_start") ? UV_ENOMEM : real(h, cb, signum);
}

int
uv_timer_init(uv_loop_t *loop, uv_timer_t *h)
{
    int (*real)(uv_loop_t *, uv_timer_t *) =
        (int (*)(uv_loop_t *, uv_timer_t *))dlsym(RTLD_NEXT, "uv_timer_init");
    return failing("uv_timer_init") ? UV_ENOMEM : real(loop, h);
}
