/* Types of the "none" port layer: one thread of control, no operating system.
 *
 * The port of a bare-metal firmware with one loop, and the starting point for
 * an RTOS port (docs/embedded.md): mutexes are flags that catch re-entry in
 * debug builds, condition variables never block, and there are no threads, so
 * the stack has no core thread (z_stack_start() fails with ENOSYS) and runs in
 * single-loop mode, from zsock_net_process(). An RTOS port copies this
 * directory and maps these types onto its own mutex, condition variable (or
 * semaphore per waiter) and thread objects. */
#ifndef ZSOCK_PORT_NONE_H_
#define ZSOCK_PORT_NONE_H_

#include <stdbool.h>

typedef struct {
    bool locked; /* checked by assert() only */
} z_mutex_t;

typedef struct {
    char unused; /* nothing to wait on with a single thread */
} z_cond_t;

typedef struct {
    char unused; /* no threads */
} z_thread_t;

typedef struct {
    bool done;
} z_once_t;

#define Z_MUTEX_INITIALIZER                                                                        \
    {                                                                                              \
        false                                                                                      \
    }
#define Z_ONCE_INIT                                                                                \
    {                                                                                              \
        false                                                                                      \
    }

#endif /* ZSOCK_PORT_NONE_H_ */
