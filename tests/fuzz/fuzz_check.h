/* CHECK() for the fuzz targets: an invariant that must hold whatever the
 * input. Not assert(), which release builds (NDEBUG) compile out. */
#ifndef ZSOCK_FUZZ_CHECK_H_
#define ZSOCK_FUZZ_CHECK_H_

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* CALL(expr): run a call that returns < 0 with errno set on failure; the
 * errno must be one ok_errno(int), which the target defines, expects. */
#define CALL(expr)                                                                                 \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(expr);                                                                    \
        if (r_ < 0 && !ok_errno(errno)) {                                                          \
            fprintf(stderr, "%s: returned %ld, errno %d\n", #expr, r_, errno);                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif /* ZSOCK_FUZZ_CHECK_H_ */
