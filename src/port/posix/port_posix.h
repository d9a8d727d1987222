/* POSIX (pthreads + clock_gettime) types for the port layer. */
#ifndef ZSOCK_PORT_POSIX_H_
#define ZSOCK_PORT_POSIX_H_

#include <pthread.h>

typedef pthread_mutex_t z_mutex_t;
typedef pthread_cond_t z_cond_t;
typedef pthread_t z_thread_t;
typedef pthread_once_t z_once_t;

#define Z_MUTEX_INITIALIZER PTHREAD_MUTEX_INITIALIZER
#define Z_ONCE_INIT         PTHREAD_ONCE_INIT

#endif /* ZSOCK_PORT_POSIX_H_ */
