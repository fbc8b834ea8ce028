/* tests/compat/daemon/emit.h — the old path of the emit room's header, for
 * tests/test_article.c only until its include names daemon/emit/emit.h
 * (that file is edited in the main checkout). Delete with that change. */
#include "daemon/emit/emit.h"
