/* Helpers shared by the benchmarks: a monotonic clock in seconds and the
 * median of a set of runs (medians, not single runs, are what we quote). */
#ifndef ZSOCK_BENCH_UTIL_H_
#define ZSOCK_BENCH_UTIL_H_

#include <stdlib.h>
#include <time.h>

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v in place. */
static inline double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* ZSOCK_BENCH_UTIL_H_ */
