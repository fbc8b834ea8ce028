/* parse/report.c — the one way parse/'s rooms write a struct parse_report's
 * message: the first problem found is the one told. */
#include <stdarg.h>
#include <stdio.h>

#include "parse/report_int.h"

void
parse_report_msg(struct parse_report *r, const char *fmt, ...)
{
    if (r->message[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
}
