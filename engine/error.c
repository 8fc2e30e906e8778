/*
 * error.c -- status names and messages, and the gasp_error records the
 * library returns (gasp__fail fills one).
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *gasp_strerror(int status) {
  if (status == GASP_OK) return "success";
  switch (status) {
#define XX(name, code, msg)                                                    \
  case GASP_##name: return msg;
    GASP_ERRNO_MAP(XX)
#undef XX
  }
  return "unknown error";
}

const char *gasp_err_name(int status) {
  if (status == GASP_OK) return "OK";
  switch (status) {
#define XX(name, code, msg)                                                    \
  case GASP_##name: return #name;
    GASP_ERRNO_MAP(XX)
#undef XX
  }
  return "UNKNOWN";
}

void gasp__error_clear(gasp_error *err) {
  if (!err) return;
  err->code = GASP_OK;
  err->line = 0;
  err->file[0] = '\0';
  err->msg[0] = '\0';
}

int gasp__fail(gasp_error *err, int code, const char *file, uint64_t line,
               const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  err->line = line;
  snprintf(err->file, sizeof err->file, "%s", file ? file : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}

char *gasp_error_format(const gasp_error *err, char *buf, size_t len) {
  if (!buf || len == 0) return buf;
  if (!err) {
    buf[0] = '\0';
    return buf;
  }
  const char *msg = err->msg[0] ? err->msg : gasp_strerror(err->code);
  if (err->file[0] && err->line)
    snprintf(buf, len, "%s:%llu: %s", err->file, (unsigned long long)err->line,
             msg);
  else if (err->file[0])
    snprintf(buf, len, "%s: %s", err->file, msg);
  else
    snprintf(buf, len, "%s", msg);
  return buf;
}

int gasp__error_default(gasp_error *err, int code, const char *file) {
  if (code != GASP_OK && err && !err->msg[0])
    gasp__fail(err, code, file, 0, "%s", gasp_strerror(code));
  return code;
}
