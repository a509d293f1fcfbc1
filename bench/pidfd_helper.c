/* pidfd_helper: hands real pidfds to bench/pidfd_shim.so under callgrind (262 world).
 *
 * valgrind 3.19 fails pidfd_open (syscall 434) with ENOSYS, and forky's C module (262) refuses
 * to register a session without a PID reference on itself ("Failed to acquire PID reference on
 * ourselves"). This helper runs OUTSIDE valgrind, in the same pid namespace: it listens on the
 * unix socket SOCK, reads {pid, flags} per connection, calls pidfd_open natively and sends the
 * pidfd back with SCM_RIGHTS (or the errno). The shim, preloaded into the client under
 * callgrind with PIDFD_HELPER=SOCK, uses it for every pidfd_open, so both modules get a real
 * pidfd, as they do outside valgrind. It costs the client a connect/write/recvmsg per pidfd.
 *
 *   pidfd_helper SOCK        (runs until killed)
 * Build: cc -O2 -o pidfd_helper pidfd_helper.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc != 2 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *) 0)->sun_path)) {
                fprintf(stderr, "usage: pidfd_helper SOCK\n");
                return 2;
        }
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path, argv[1]);
        unlink(argv[1]);
        if (s < 0 || bind(s, (struct sockaddr *) &a, sizeof a) < 0 || listen(s, 16) < 0) {
                perror("pidfd_helper");
                return 1;
        }
        for (;;) {
                int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0) continue;
                int req[2];
                if (read(c, req, sizeof req) == sizeof req) {
                        int fd = (int) syscall(434, req[0], (unsigned) req[1]);
                        int err = fd < 0 ? errno : 0;
                        struct iovec iov = {&err, sizeof err};
                        union {
                                char buf[CMSG_SPACE(sizeof(int))];
                                struct cmsghdr align;
                        } u;
                        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
                        if (fd >= 0) {
                                m.msg_control = u.buf;
                                m.msg_controllen = sizeof u.buf;
                                struct cmsghdr *h = CMSG_FIRSTHDR(&m);
                                h->cmsg_level = SOL_SOCKET;
                                h->cmsg_type = SCM_RIGHTS;
                                h->cmsg_len = CMSG_LEN(sizeof(int));
                                memcpy(CMSG_DATA(h), &fd, sizeof fd);
                        }
                        sendmsg(c, &m, MSG_NOSIGNAL);
                        if (fd >= 0) close(fd);
                }
                close(c);
        }
}
