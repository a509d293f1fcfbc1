/* loop_client: many PAM sessions in ONE process, for leak and fd-growth checks (tests/load.rs).
 *
 * loop_client --confdir DIR --service SVC --user USER --cycles N [--tty TTY]
 *
 * Each cycle: pam_start_confdir, PAM_TTY, pam_open_session, pam_close_session, pam_end (what a
 * long-lived login daemon does per login). After every cycle it counts the open fds (below
 * RLIMIT_NOFILE, so a valgrind's own fds above it are left out), how many of them are FIFOs
 * (the session fds pam_systemd deliberately keeps until exit), and the threads.
 *
 * Output (stdout):
 *   fds_start=N fifos_start=N threads_start=N
 *   cycle=I open_rc=N close_rc=N end_rc=N     (only for cycles where one is not 0)
 *   cycles=N open_ok=N close_ok=N
 *   fds_end=N fifos_end=N non_fifo_growth_max=N threads_max=N
 *   non_fifo_after_first=N non_fifo_end=N   (non-FIFO fds after the first and the last cycle)
 *   openfd=N:TARGET                          (each non-FIFO fd at the end)
 * Exit status 0 when it ran, 2 on usage errors.
 *
 * Build: cc -O1 -o loop_client loop_client.c -lpam -lpam_misc
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <security/pam_appl.h>
#include <security/pam_misc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
        (void) msg;
        (void) data;
        struct pam_response *r = calloc((size_t) n, sizeof *r);
        if (!r) return PAM_BUF_ERR;
        *resp = r;
        return PAM_SUCCESS;
}

static void count_fds(int *fds, int *fifos) {
        struct rlimit rl;
        long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long) rl.rlim_cur : 1024;
        DIR *d = opendir("/proc/self/fd");
        *fds = *fifos = 0;
        if (!d) return;
        int self = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.') continue;
                int fd = atoi(e->d_name);
                if (fd == self || fd >= lim) continue;
                (*fds)++;
                struct stat st;
                if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) (*fifos)++;
        }
        closedir(d);
}

static int threads(void) {
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        int n = -1;
        if (!f) return -1;
        while (fgets(line, sizeof line, f))
                if (!strncmp(line, "Threads:", 8)) n = atoi(line + 8);
        fclose(f);
        return n;
}

int main(int argc, char **argv) {
        const char *confdir = NULL, *service = NULL, *user = NULL, *tty = "pts/9";
        long cycles = 0;
        for (int i = 1; i < argc; i++) {
                if (i + 1 >= argc) return 2;
                if (!strcmp(argv[i], "--confdir")) confdir = argv[++i];
                else if (!strcmp(argv[i], "--service")) service = argv[++i];
                else if (!strcmp(argv[i], "--user")) user = argv[++i];
                else if (!strcmp(argv[i], "--cycles")) cycles = atol(argv[++i]);
                else if (!strcmp(argv[i], "--tty")) tty = argv[++i];
                else return 2;
        }
        if (!confdir || !service || !user || cycles <= 0) {
                fprintf(stderr, "usage: loop_client --confdir DIR --service SVC --user USER --cycles N [--tty TTY]\n");
                return 2;
        }
        struct pam_conv c = {conv, NULL};
        int fds0, fifos0, fds, fifos, growth_max = 0, tmax = threads();
        count_fds(&fds0, &fifos0);
        printf("fds_start=%d fifos_start=%d threads_start=%d\n", fds0, fifos0, tmax);
        fflush(stdout);
        long open_ok = 0, close_ok = 0;
        int non_fifo_first = -1;
        for (long i = 0; i < cycles; i++) {
                pam_handle_t *h = NULL;
                int rc = pam_start_confdir(service, user, &c, confdir, &h);
                if (rc != PAM_SUCCESS) {
                        printf("cycle=%ld start_rc=%d\n", i, rc);
                        continue;
                }
                (void) pam_set_item(h, PAM_TTY, tty);
                int orc = pam_open_session(h, 0);
                int crc = pam_close_session(h, 0);
                int erc = pam_end(h, orc);
                open_ok += orc == PAM_SUCCESS;
                close_ok += crc == PAM_SUCCESS;
                if (orc || crc || erc) printf("cycle=%ld open_rc=%d close_rc=%d end_rc=%d\n", i, orc, crc, erc);
                count_fds(&fds, &fifos);
                if (i == 0) non_fifo_first = fds - fifos;
                int g = (fds - fifos) - (fds0 - fifos0);
                if (g > growth_max) growth_max = g;
                int t = threads();
                if (t > tmax) tmax = t;
        }
        count_fds(&fds, &fifos);
        printf("cycles=%ld open_ok=%ld close_ok=%ld\n", cycles, open_ok, close_ok);
        printf("fds_end=%d fifos_end=%d non_fifo_growth_max=%d threads_max=%d\n", fds, fifos, growth_max, tmax);
        printf("non_fifo_after_first=%d non_fifo_end=%d\n", non_fifo_first, fds - fifos);
        /* What the non-FIFO fds are (readlink of each). */
        for (int fd = 0; fd < 4096; fd++) {
                char p[64], t[256];
                struct stat st;
                if (fstat(fd, &st) < 0 || S_ISFIFO(st.st_mode)) continue;
                snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
                ssize_t n = readlink(p, t, sizeof t - 1);
                t[n > 0 ? n : 0] = 0;
                printf("openfd=%d:%s\n", fd, t);
        }
        fflush(stdout);
        return 0;
}
