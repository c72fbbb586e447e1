/*
 * The variadic entry points of the host's suites (stable Rust cannot define a
 * C-variadic function). Each shim unpacks its arguments and forwards them to a
 * plain Rust callback; Rust registers the callbacks once, before any plugin
 * runs (see src/host/suites/variadic.rs). Nothing here is exported by name to
 * plugins: Rust places the shims' addresses in the suite structs.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "ofxCore.h"
#include "ofxParam.h"

/* How a parameter's value travels through "...": C type and count. */
enum { SHIM_INT = 0, SHIM_DOUBLE = 1, SHIM_STRING = 2 };
/* Which getter is running. */
enum { SHIM_GET = 0, SHIM_GET_AT_TIME = 1, SHIM_DERIVATIVE = 2, SHIM_INTEGRAL = 3 };

typedef struct CollapseHostCallbacks {
  /* Kind and count of the value, or an error status for a bad handle. */
  OfxStatus (*param_shape)(OfxParamHandle param, int *kind, int *count);
  /* Writes the value through the `count` return pointers in `outs`. */
  OfxStatus (*param_read)(OfxParamHandle param, int mode, double t1, double t2, void **outs, int count);
  /* Sets the value from `ints`, `doubles` or `str`, whichever matches its kind. */
  OfxStatus (*param_write)(OfxParamHandle param, int at_time, double time, const int *ints, const double *doubles,
                           const char *str);
  /* A formatted message (`text` is NULL when formatting failed). */
  OfxStatus (*message)(void *handle, const char *type, const char *id, const char *text, int persistent);
} CollapseHostCallbacks;

static _Atomic(const CollapseHostCallbacks *) callbacks;

void collapse_host_set_callbacks(const CollapseHostCallbacks *cb) {
  atomic_store_explicit(&callbacks, cb, memory_order_release);
}

static const CollapseHostCallbacks *cbs(void) {
  return atomic_load_explicit(&callbacks, memory_order_acquire);
}

#define MAX_VALUES 4

static OfxStatus read_value(OfxParamHandle param, int mode, double t1, double t2, va_list ap) {
  int kind = 0, count = 0;
  OfxStatus st = cbs()->param_shape(param, &kind, &count);
  if (st != kOfxStatOK) return st;
  if (count < 1 || count > MAX_VALUES) return kOfxStatErrUnknown;
  void *outs[MAX_VALUES];
  for (int i = 0; i < count; ++i) outs[i] = va_arg(ap, void *);
  return cbs()->param_read(param, mode, t1, t2, outs, count);
}

static OfxStatus write_value(OfxParamHandle param, int at_time, double time, va_list ap) {
  int kind = 0, count = 0;
  OfxStatus st = cbs()->param_shape(param, &kind, &count);
  if (st != kOfxStatOK) return st;
  if (count < 1 || count > MAX_VALUES) return kOfxStatErrUnknown;
  int ints[MAX_VALUES] = {0};
  double doubles[MAX_VALUES] = {0};
  const char *str = NULL;
  for (int i = 0; i < count; ++i) {
    switch (kind) {
      case SHIM_INT: ints[i] = va_arg(ap, int); break;
      case SHIM_DOUBLE: doubles[i] = va_arg(ap, double); break;
      default: str = va_arg(ap, const char *); break;
    }
  }
  return cbs()->param_write(param, at_time, time, ints, doubles, str);
}

OfxStatus collapse_host_param_get_value(OfxParamHandle param, ...) {
  va_list ap;
  va_start(ap, param);
  OfxStatus st = read_value(param, SHIM_GET, 0.0, 0.0, ap);
  va_end(ap);
  return st;
}

OfxStatus collapse_host_param_get_value_at_time(OfxParamHandle param, OfxTime time, ...) {
  va_list ap;
  va_start(ap, time);
  OfxStatus st = read_value(param, SHIM_GET_AT_TIME, time, 0.0, ap);
  va_end(ap);
  return st;
}

OfxStatus collapse_host_param_get_derivative(OfxParamHandle param, OfxTime time, ...) {
  va_list ap;
  va_start(ap, time);
  OfxStatus st = read_value(param, SHIM_DERIVATIVE, time, 0.0, ap);
  va_end(ap);
  return st;
}

OfxStatus collapse_host_param_get_integral(OfxParamHandle param, OfxTime time1, OfxTime time2, ...) {
  va_list ap;
  va_start(ap, time2);
  OfxStatus st = read_value(param, SHIM_INTEGRAL, time1, time2, ap);
  va_end(ap);
  return st;
}

OfxStatus collapse_host_param_set_value(OfxParamHandle param, ...) {
  va_list ap;
  va_start(ap, param);
  OfxStatus st = write_value(param, 0, 0.0, ap);
  va_end(ap);
  return st;
}

OfxStatus collapse_host_param_set_value_at_time(OfxParamHandle param, OfxTime time, ...) {
  va_list ap;
  va_start(ap, time);
  OfxStatus st = write_value(param, 1, time, ap);
  va_end(ap);
  return st;
}

static OfxStatus send_message(void *handle, const char *type, const char *id, int persistent, const char *format,
                              va_list ap) {
  char *text = NULL;
  if (format) {
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, format, ap);
    if (n >= 0 && (text = malloc((size_t)n + 1)) != NULL) vsnprintf(text, (size_t)n + 1, format, again);
    va_end(again);
  }
  OfxStatus st = cbs()->message(handle, type, id, text, persistent);
  free(text);
  return st;
}

OfxStatus collapse_host_message(void *handle, const char *type, const char *id, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  OfxStatus st = send_message(handle, type, id, 0, format, ap);
  va_end(ap);
  return st;
}

OfxStatus collapse_host_set_persistent_message(void *handle, const char *type, const char *id, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  OfxStatus st = send_message(handle, type, id, 1, format, ap);
  va_end(ap);
  return st;
}
