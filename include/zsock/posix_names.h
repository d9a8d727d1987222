/** @file
 * POSIX names for the zsock API (socket(), close(), poll(), FD_SET, ...),
 * included by <zsock/socket.h> when CONFIG_NET_SOCKETS_POSIX_NAMES is set, or
 * directly by a program that wants them.
 *
 * The names are function-like macros, so they replace calls only:
 *   - include this header after every system header; a system header
 *     included later would have its own declarations rewritten;
 *   - in this translation unit close(), poll(), select(), fcntl(), ioctl()
 *     and the rest reach zsock, not the C library: a program that also needs
 *     the C library's close() on a file keeps that code in another file, or
 *     calls it as (close)(fd);
 *   - a structure member called like a function (ops->close(x)) is rewritten
 *     too; write (ops->close)(x);
 *   - fd_set, FD_SET, FD_ISSET, FD_CLR, FD_ZERO and FD_SETSIZE become zsock's,
 *     whose sets cover the whole zsock descriptor table;
 *   - struct addrinfo becomes struct zsock_addrinfo.
 * POLL*, MSG_*, SHUT_*, AF_*, SO_* and the structures (sockaddr, pollfd,
 * timeval, msghdr) are the C library's and need no mapping. */
#ifndef ZSOCK_POSIX_NAMES_H_
#define ZSOCK_POSIX_NAMES_H_

#include <zsock/socket.h>

/** @name POSIX names: each is the zsock_ function, type or macro of the same name
 * @{ */
/** The zsock_ call, type or macro of this name (zsock_socket() for socket()...). */
#define socket(family, type, proto)         zsock_socket((family), (type), (proto))
#define socketpair(family, type, proto, sv) zsock_socketpair((family), (type), (proto), (sv))
#define close(sock)                         zsock_close(sock)
#define shutdown(sock, how)                 zsock_shutdown((sock), (how))
#define bind(sock, addr, len)               zsock_bind((sock), (addr), (len))
#define connect(sock, addr, len)            zsock_connect((sock), (addr), (len))
#define listen(sock, backlog)               zsock_listen((sock), (backlog))
#define accept(sock, addr, len)             zsock_accept((sock), (addr), (len))
#define send(sock, buf, len, flags)         zsock_send((sock), (buf), (len), (flags))
#define recv(sock, buf, len, flags)         zsock_recv((sock), (buf), (len), (flags))
#define sendto(sock, buf, len, flags, addr, alen)                                                  \
    zsock_sendto((sock), (buf), (len), (flags), (addr), (alen))
#define recvfrom(sock, buf, len, flags, addr, alen)                                                \
    zsock_recvfrom((sock), (buf), (len), (flags), (addr), (alen))
#define sendmsg(sock, msg, flags)      zsock_sendmsg((sock), (msg), (flags))
#define recvmsg(sock, msg, flags)      zsock_recvmsg((sock), (msg), (flags))
#define fcntl(...)                     zsock_fcntl(__VA_ARGS__)
#define ioctl(...)                     zsock_ioctl(__VA_ARGS__)
#define poll(fds, nfds, timeout)       zsock_poll((fds), (nfds), (timeout))
#define select(nfds, r, w, e, timeout) zsock_select((nfds), (r), (w), (e), (timeout))
#define getsockopt(sock, level, name, val, len)                                                    \
    zsock_getsockopt((sock), (level), (name), (val), (len))
#define setsockopt(sock, level, name, val, len)                                                    \
    zsock_setsockopt((sock), (level), (name), (val), (len))
#define getpeername(sock, addr, len)        zsock_getpeername((sock), (addr), (len))
#define getsockname(sock, addr, len)        zsock_getsockname((sock), (addr), (len))
#define gethostname(buf, len)               zsock_gethostname((buf), (len))
#define inet_ntop(family, src, dst, size)   zsock_inet_ntop((family), (src), (dst), (size))
#define inet_pton(family, src, dst)         zsock_inet_pton((family), (src), (dst))
#define getaddrinfo(host, serv, hints, res) zsock_getaddrinfo((host), (serv), (hints), (res))
#define freeaddrinfo(ai)                    zsock_freeaddrinfo(ai)
#define gai_strerror(code)                  zsock_gai_strerror(code)
#define getnameinfo(addr, alen, host, hlen, serv, slen, flags)                                     \
    zsock_getnameinfo((addr), (alen), (host), (hlen), (serv), (slen), (flags))
#define addrinfo zsock_addrinfo

#undef fd_set
#undef FD_SETSIZE
#undef FD_ZERO
#undef FD_SET
#undef FD_CLR
#undef FD_ISSET
#define fd_set            zsock_fd_set
#define FD_SETSIZE        ZSOCK_FD_SETSIZE
#define FD_ZERO(set)      ZSOCK_FD_ZERO(set)
#define FD_SET(fd, set)   ZSOCK_FD_SET((fd), (set))
#define FD_CLR(fd, set)   ZSOCK_FD_CLR((fd), (set))
#define FD_ISSET(fd, set) ZSOCK_FD_ISSET((fd), (set))
/** @} */

#endif /* ZSOCK_POSIX_NAMES_H_ */
