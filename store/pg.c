/* store/pg.c — the PostgreSQL backend (to come: this step only splits the
 * SQLite backend out of the store's shared code). */
#include <errno.h>
#include <stdio.h>

#include "store/store_int.h"

int
store_pg_open(const char *uri, struct store **out, char *err, size_t errsize)
{
    (void)uri;
    *out = NULL;
    snprintf(err, errsize, "postgresql: not supported by this build yet");
    return -ENOTSUP;
}
