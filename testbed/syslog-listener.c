/*
 * testbed-syslogd: the /dev/log listener of testbed/testbed.
 *
 *   testbed-syslogd listen SOCKET LOGFILE   bind a datagram socket at SOCKET and
 *                                           append every datagram to LOGFILE, one per line
 *   testbed-syslogd sync SOCKET             return once every datagram sent to SOCKET
 *                                           before this call is in LOGFILE
 *   testbed-syslogd console TTYFILE LOGFILE open a pseudo-terminal, write its slave's path
 *                                           to TTYFILE, hold the slave open and append
 *                                           everything written to it to LOGFILE (the
 *                                           /dev/console of a world with systemd as PID 1)
 *
 * Each datagram becomes one line (embedded newlines are turned into spaces,
 * trailing newlines/NULs dropped) and is written with a single unbuffered
 * write() to an O_APPEND descriptor, so nothing sits in a user-space buffer.
 *
 * Sync works because a unix datagram socket keeps datagrams in order: the
 * client sends a marker naming a fresh file and waits for the listener to
 * create it, which happens after all earlier datagrams were written.
 *
 * On SIGTERM/SIGINT the listener drains what is still queued, then exits, so
 * the runner can stop it without losing messages sent before CMD exited.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SYNC_PREFIX "\001TESTBED-SYNC "

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static int fill_addr(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path) {
        fprintf(stderr, "testbed-syslogd: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(a->sun_path, path);
    return 0;
}

static void handle(int logfd, char *buf, ssize_t n) {
    if (n >= (ssize_t)strlen(SYNC_PREFIX) && memcmp(buf, SYNC_PREFIX, strlen(SYNC_PREFIX)) == 0) {
        buf[n] = '\0';
        int fd = open(buf + strlen(SYNC_PREFIX), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) close(fd);
        return;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0')) n--;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\n' || buf[i] == '\0') buf[i] = ' ';
    buf[n++] = '\n';
    ssize_t off = 0;
    while (off < n) {
        ssize_t w = write(logfd, buf + off, (size_t)(n - off));
        if (w < 0) {
            if (errno == EINTR) continue;
            perror("testbed-syslogd: write");
            return;
        }
        off += w;
    }
}

static int do_listen(const char *sock, const char *logfile) {
    static char buf[65536 + 2];
    struct sockaddr_un a;
    if (fill_addr(&a, sock) < 0) return 1;
    int logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) { perror("testbed-syslogd: open log"); return 1; }
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) { perror("testbed-syslogd: socket"); return 1; }
    int size = 4 << 20;
    (void)setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    unlink(sock);
    mode_t old = umask(0); /* everyone may log, like a real /dev/log */
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("testbed-syslogd: bind"); return 1; }
    umask(old);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: recv() returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    while (!stop) {
        ssize_t n = recv(s, buf, sizeof buf - 2, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("testbed-syslogd: recv");
            return 1;
        }
        handle(logfd, buf, n);
    }
    /* Drain what senders queued before we were told to stop. */
    for (;;) {
        ssize_t n = recv(s, buf, sizeof buf - 2, MSG_DONTWAIT);
        if (n < 0) break;
        handle(logfd, buf, n);
    }
    unlink(sock);
    return 0;
}

static int do_sync(const char *sock) {
    char marker[128], msg[256];
    snprintf(marker, sizeof marker, "/run/.testbed-syslog-sync.%ld.%ld", (long)getpid(), (long)time(NULL));
    unlink(marker);
    snprintf(msg, sizeof msg, SYNC_PREFIX "%s", marker);
    struct sockaddr_un a;
    if (fill_addr(&a, sock) < 0) return 1;
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0 || sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("testbed-syslogd: sync send");
        return 1;
    }
    close(s);
    for (int i = 0; i < 500; i++) { /* 5 s */
        if (access(marker, F_OK) == 0) { unlink(marker); return 0; }
        usleep(10000);
    }
    fprintf(stderr, "testbed-syslogd: sync timed out\n");
    return 1;
}

/* A pty whose slave side becomes a world's /dev/console: PID 1 and the services it starts with
 * StandardOutput=console write there. We keep a slave descriptor open so that reads on the
 * master never see EIO while nobody else has the console open. Stops on SIGTERM/SIGINT. */
static int do_console(const char *ttyfile, const char *logfile) {
    static char buf[65536];
    int logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) { perror("testbed-syslogd: open console log"); return 1; }
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) { perror("testbed-syslogd: posix_openpt"); return 1; }
    const char *name = ptsname(m);
    if (!name) { perror("testbed-syslogd: ptsname"); return 1; }
    int keep = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (keep < 0) { perror("testbed-syslogd: open pty slave"); return 1; }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", ttyfile);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", name) < 0 || fclose(f) != 0 || rename(tmp, ttyfile) < 0) {
        perror("testbed-syslogd: write tty file");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (!stop) {
        ssize_t n = read(m, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EIO) { usleep(50000); continue; }
            return 0;
        }
        if (n == 0) break;
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(logfd, buf + off, (size_t)(n - off));
            if (w < 0) { if (errno == EINTR) continue; break; }
            off += w;
        }
    }
    (void)keep;
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "console") == 0) return do_console(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "listen") == 0) return do_listen(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "sync") == 0) return do_sync(argv[2]);
    fprintf(stderr, "usage: %s listen SOCKET LOGFILE | sync SOCKET | console TTYFILE LOGFILE\n", argv[0]);
    return 2;
}
