/*
 * lib_fail.h -- how the toolkit calls (lib_*.c) report a failure: the
 * status, and err (optional) cleared and given the reason.  They use the
 * public API only, so not the engine's own helper.
 */
#ifndef GASP_TOOLKITS_LIB_FAIL_H
#define GASP_TOOLKITS_LIB_FAIL_H

#include "alloc.h"
#include "gasp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tk_lib_fail(gasp_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), unused));
static int tk_lib_fail(gasp_error *err, int code, const char *fmt, ...) {
  if (err) {
    memset(err, 0, sizeof *err);
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

#endif
