#ifndef DRIFTWATCH_CLAPACK_SHIM_H
#define DRIFTWATCH_CLAPACK_SHIM_H
#include <lapacke.h>
#include <cblas.h>
// Swift does not import type macros; lapack_int is one.
typedef lapack_int dw_lapack_int;
#endif
