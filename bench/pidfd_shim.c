/* pidfd_shim.so: LD_PRELOADed into the client under callgrind ONLY.
 *
 * valgrind 3.19 (Debian 12) does not know pidfd_open (syscall 434) and fails it with ENOSYS,
 * so under callgrind our module would silently skip its CreateSessionWithPIDFD attempt and the
 * instruction count would miss that round trip. This shim answers syscall(SYS_pidfd_open, ...)
 * with an O_CLOEXEC fd on /dev/null instead (logind 252/elogind 246 answer UnknownMethod
 * whatever the fd is; the fake logind accepts it), and forwards every other syscall() to libc.
 * It is preloaded for both modules alike. Build: cc -shared -fPIC -O2 -o pidfd_shim.so pidfd_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>

long syscall(long n, ...) {
        static long (*real)(long, ...);
        va_list ap;
        long a[6];
        va_start(ap, n);
        for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
        va_end(ap);
        if (n == 434) return open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (!real) real = (long (*)(long, ...)) dlsym(RTLD_NEXT, "syscall");
        return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
