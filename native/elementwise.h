/* native/elementwise.c: elementwise, movement, reduction and row kernels (see there). */
#ifndef MYCEL_ELEMENTWISE_H
#define MYCEL_ELEMENTWISE_H
#include <node_api.h>
/* Adds elementwiseIsa, binary, where, copy, copyRows, reduce, rowOp, unary and adamw to the addon's exports; 0 on failure. */
int elementwise_register(napi_env env, napi_value exports);
#endif
