/* pidfd_shim.so: LD_PRELOADed into the client under callgrind ONLY.
 *
 * valgrind 3.19 (Debian 12) does not know pidfd_open (syscall 434) and fails it with ENOSYS.
 * This shim answers pidfd_open, both as syscall(SYS_pidfd_open, ...) and as glibc's
 * pidfd_open() (which forky's C module 262 calls through libsystemd-shared), and forwards every
 * other syscall() to libc:
 * * with PIDFD_HELPER=SOCK in the environment (the 262 world): a REAL pidfd, obtained outside
 *   valgrind from bench/pidfd_helper listening on SOCK (sent back with SCM_RIGHTS). Forky's C
 *   module refuses to open a session without one, and logind 262 checks the fd it is sent;
 * * without it (elogind, the fake): an O_CLOEXEC fd on /dev/null (logind 252/elogind 246
 *   answer UnknownMethod whatever the fd is; the fake logind accepts it), so that our
 *   CreateSessionWithPIDFD attempt is not silently skipped under callgrind.
 * It is preloaded for both modules alike.
 * Build: cc -shared -fPIC -O2 -o pidfd_shim.so pidfd_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

static int helper_pidfd(const char *path, pid_t pid, unsigned flags) {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        int req[2] = {pid, (int) flags}, err = EIO, fd = -1;
        if (s < 0) return -1;
        strncpy(a.sun_path, path, sizeof a.sun_path - 1);
        if (connect(s, (struct sockaddr *) &a, sizeof a) == 0 && write(s, req, sizeof req) == sizeof req) {
                union {
                        char buf[CMSG_SPACE(sizeof(int))];
                        struct cmsghdr align;
                } u;
                struct iovec iov = {&err, sizeof err};
                struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                                   .msg_controllen = sizeof u.buf};
                if (recvmsg(s, &m, MSG_CMSG_CLOEXEC) == sizeof err && err == 0) {
                        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
                        if (h && h->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(h), sizeof fd);
                        else err = EIO;
                }
        }
        close(s);
        if (fd < 0) errno = err;
        return fd;
}

static int shim_pidfd_open(pid_t pid, unsigned flags) {
        const char *h = getenv("PIDFD_HELPER");
        if (h && *h) return helper_pidfd(h, pid, flags);
        return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int pidfd_open(pid_t pid, unsigned int flags) { return shim_pidfd_open(pid, flags); }

long syscall(long n, ...) {
        static long (*real)(long, ...);
        va_list ap;
        long a[6];
        va_start(ap, n);
        for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
        va_end(ap);
        if (n == 434) return shim_pidfd_open((pid_t) a[0], (unsigned) a[1]);
        if (!real) real = (long (*)(long, ...)) dlsym(RTLD_NEXT, "syscall");
        return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
