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

#endif /* ZSOCK_FUZZ_CHECK_H_ */
