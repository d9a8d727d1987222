/* <sys/uio.h> for the "none" port: see zsock_netdefs.h. */
#ifndef ZSOCK_NONE_SYS_UIO_H_
#define ZSOCK_NONE_SYS_UIO_H_
#include <zsock_netdefs.h>
#endif
