/* parse/report_int.h — inside parse/: the one way its rooms write a
 * struct parse_report's message (report.c). */
#ifndef FINFEED_PARSE_REPORT_INT_H
#define FINFEED_PARSE_REPORT_INT_H

#include "parse/parse.h"

/* Format the report's message, unless one is there already: the first
 * problem found is the one told. */
void parse_report_msg(struct parse_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
