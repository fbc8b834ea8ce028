/* tests/fault/full.c — an LD_PRELOAD shim for t_diskfull.sh where no tmpfs
 * can be mounted (not root): while the file $FINFEED_FULL_FLAG exists, every
 * write to a file under $FINFEED_FULL_DIR fails with ENOSPC, as on a full
 * disk (SQLite then says SQLITE_FULL). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int
full(int fd)
{
    const char *flag = getenv("FINFEED_FULL_FLAG"), *dir = getenv("FINFEED_FULL_DIR");
    char link[64], path[PATH_MAX];
    if (flag == NULL || dir == NULL || access(flag, F_OK) != 0)
        return 0;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    return strncmp(path, dir, strlen(dir)) == 0;
}

#define SHIM(name, ret, params, args)                                                              \
    ret name params                                                                                \
    {                                                                                              \
        ret(*real) params = (ret(*) params)dlsym(RTLD_NEXT, #name);                                \
        if (full(fd)) {                                                                            \
            errno = ENOSPC;                                                                        \
            return -1;                                                                             \
        }                                                                                          \
        return real args;                                                                          \
    }

SHIM(write, ssize_t, (int fd, const void *buf, size_t n), (fd, buf, n))
SHIM(pwrite, ssize_t, (int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off))
SHIM(pwrite64, ssize_t, (int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off))
SHIM(ftruncate, int, (int fd, off_t len), (fd, len))
SHIM(fallocate, int, (int fd, int mode, off_t off, off_t len), (fd, mode, off, len))
