/* loginbench: the PAM client of `make bench` (see bench/run.sh, BENCHMARKS.md).
 *
 * Every login is pam_start_confdir, pam_set_item(TTY, RHOST), pam_open_session,
 * pam_close_session, pam_end, done in a FRESH process (fork of this program, which links
 * libpam but never loads a module itself, so every login dlopens the module anew).
 *
 *   loginbench latency  --confdir D --user U --item tty=.. --item rhost=.. -n N SVC_A SVC_B...
 *       N rounds; each round runs one login per service, the order rotating every round
 *       (A B, B A, ...) so drift hits every service alike. Prints one line per login:
 *       "SVC usec wall_usec open_rc close_rc start_usec open_usec close_usec end_usec
 *        cpu_usec open_cpu_usec"
 *       (usec = pam_start..pam_end inside the child, i.e. from the forked child's start to
 *       pam_end; wall_usec = fork..waitpid in the parent, so process creation and exit
 *       included; then the four steps: pam_start_confdir (config + cold dlopen of the module),
 *       pam_open_session (the first hook), pam_close_session, pam_end (dlclose)); then the
 *       CPU time the child itself spent (CLOCK_PROCESS_CPUTIME_ID, user + system) from its
 *       pam_start_confdir to its pam_end, and inside pam_open_session: the rest of a login's
 *       time is spent waiting for logind, userdbd, PID 1 and the scheduler.
 *   loginbench once     --confdir D --user U [--item ..] SVC
 *       one login in THIS process (for callgrind), prints open_rc/close_rc.
 *   loginbench probe    --confdir D --user U [--item ..] SVC
 *       one login in THIS process, printing VmRSS (kB) at each step, threads after open,
 *       fds (>= 3) after close and after pam_end, and VmHWM (the process's peak RSS, kB)
 *       before pam_start and after pam_end.
 *   loginbench dlopen   -n N SO
 *       N times, in a fresh forked child: dlopen(SO, RTLD_NOW|RTLD_LOCAL), dlclose.
 *       Prints "open_usec close_usec" per iteration.
 *   loginbench concurrent --confdir D --user U [--item ..] --clients C --seconds S SVC
 *       C worker processes, each forking one login child after another until S seconds
 *       have passed. Prints logins, open_ok, close_ok, failures, elapsed seconds, logins/s.
 *
 * Build: cc -O2 -o loginbench loginbench.c -lpam -ldl
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXITEMS 8
#define MAXSVC 8

static const char *confdir, *user;
static const char *item_name[MAXITEMS], *item_val[MAXITEMS];
static int nitems;

static int conv(int n, const struct pam_message **m, struct pam_response **r, void *d) {
        (void) m;
        (void) d;
        *r = calloc(n, sizeof(**r));
        return *r ? PAM_SUCCESS : PAM_BUF_ERR;
}
static const struct pam_conv CONV = {conv, NULL};

static long long now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int item_type(const char *name) {
        if (!strcmp(name, "tty")) return PAM_TTY;
        if (!strcmp(name, "rhost")) return PAM_RHOST;
        if (!strcmp(name, "ruser")) return PAM_RUSER;
        fprintf(stderr, "loginbench: unknown item %s\n", name);
        exit(2);
}

/* One login in this process. Fills the rcs; returns pam_start's rc. */
struct probe {
        long rss_start, rss_after_start, rss_after_open, rss_after_close, rss_after_end;
        long hwm_start, hwm_after_end;
        int threads_after_open, fds_start, fds_after_close, fds_after_end;
};

static long status_kb(const char *key) {
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        size_t n = strlen(key);
        long v = -1;
        if (!f) return -1;
        while (fgets(line, sizeof line, f))
                if (!strncmp(line, key, n)) {
                        v = strtol(line + n, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}
static long vmrss_kb(void) { return status_kb("VmRSS:"); }
static long vmhwm_kb(void) { return status_kb("VmHWM:"); }

/* Per-step times of the last login() in this process (ns). */
static long long step_ns[4];

static int count_dir(const char *path, int min_num) {
        DIR *d = opendir(path);
        struct dirent *de;
        int n = 0;
        if (!d) return -1;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.') continue;
                if (atoi(de->d_name) < min_num) continue;
                if (atoi(de->d_name) == dirfd(d)) continue;
                n++;
        }
        closedir(d);
        return n;
}
static int count_fds(void) { return count_dir("/proc/self/fd", 3); }
static int count_threads(void) { return count_dir("/proc/self/task", 0); }

/* CPU time of this process so far (user + system), ns. */
static long long cpu_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The last login's CPU time: whole (pam_start_confdir .. pam_end), pam_open_session. */
static long long cpu_step_ns[2];

static int login(const char *svc, int *open_rc, int *close_rc, struct probe *p) {
        pam_handle_t *h = NULL;
        if (p) {
                p->fds_start = count_fds();
                p->rss_start = vmrss_kb();
                p->hwm_start = vmhwm_kb();
        }
        long long c0 = cpu_ns();
        long long t0 = now_ns();
        int rc = pam_start_confdir(svc, user, &CONV, confdir, &h);
        *open_rc = *close_rc = -1;
        if (rc != PAM_SUCCESS) return rc;
        for (int i = 0; i < nitems; i++) pam_set_item(h, item_type(item_name[i]), item_val[i]);
        long long t1 = now_ns();
        if (p) p->rss_after_start = vmrss_kb();
        long long c2 = cpu_ns();
        long long t2 = now_ns();
        *open_rc = pam_open_session(h, 0);
        long long t3 = now_ns();
        long long c3 = cpu_ns();
        if (p) {
                p->rss_after_open = vmrss_kb();
                p->threads_after_open = count_threads();
        }
        long long t4 = now_ns();
        *close_rc = pam_close_session(h, 0);
        long long t5 = now_ns();
        if (p) {
                p->rss_after_close = vmrss_kb();
                p->fds_after_close = count_fds();
        }
        long long t6 = now_ns();
        pam_end(h, *open_rc);
        long long t7 = now_ns();
        long long c7 = cpu_ns();
        if (p) {
                p->rss_after_end = vmrss_kb();
                p->fds_after_end = count_fds();
                p->hwm_after_end = vmhwm_kb();
        }
        step_ns[0] = t1 - t0;
        step_ns[1] = t3 - t2;
        step_ns[2] = t5 - t4;
        step_ns[3] = t7 - t6;
        cpu_step_ns[0] = c7 - c0;
        cpu_step_ns[1] = c3 - c2;
        return PAM_SUCCESS;
}

/* Result a login child hands back to its parent. */
struct result {
        long long ns, wall_ns, step_ns[4], cpu_ns[2];
        int start_rc, open_rc, close_rc;
};

/* Fork a child doing one login; the result comes back through shared memory. */
static void child_login(const char *svc, struct result *shared) {
        long long w0 = now_ns();
        pid_t pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(1);
        }
        if (pid == 0) {
                long long t0 = now_ns();
                int o, c;
                int s = login(svc, &o, &c, NULL);
                long long t1 = now_ns();
                shared->ns = t1 - t0;
                memcpy(shared->step_ns, step_ns, sizeof step_ns);
                memcpy(shared->cpu_ns, cpu_step_ns, sizeof cpu_step_ns);
                shared->start_rc = s;
                shared->open_rc = o;
                shared->close_rc = c;
                _exit(0);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                shared->start_rc = shared->open_rc = shared->close_rc = -2;
        }
        shared->wall_ns = now_ns() - w0;
}

static void *shared_map(size_t n) {
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                perror("mmap");
                exit(1);
        }
        return p;
}

static int cmd_latency(int n, char **svcs, int nsvc) {
        struct result *r = shared_map(sizeof *r);
        for (int i = 0; i < n; i++)
                for (int k = 0; k < nsvc; k++) {
                        const char *svc = svcs[(k + i) % nsvc];
                        memset(r, 0, sizeof *r);
                        child_login(svc, r);
                        printf("%s %lld %lld %d %d %lld %lld %lld %lld %lld %lld\n", svc, r->ns / 1000,
                               r->wall_ns / 1000, r->open_rc, r->close_rc, r->step_ns[0] / 1000,
                               r->step_ns[1] / 1000, r->step_ns[2] / 1000, r->step_ns[3] / 1000,
                               r->cpu_ns[0] / 1000, r->cpu_ns[1] / 1000);
                }
        fflush(stdout);
        return 0;
}

static int cmd_once(const char *svc) {
        int o, c;
        int s = login(svc, &o, &c, NULL);
        printf("start_rc=%d open_rc=%d close_rc=%d\n", s, o, c);
        return s != PAM_SUCCESS || o != PAM_SUCCESS || c != PAM_SUCCESS;
}

static int cmd_probe(const char *svc) {
        struct probe p;
        int o, c;
        int s = login(svc, &o, &c, &p);
        printf("start_rc=%d open_rc=%d close_rc=%d rss_start=%ld rss_after_start=%ld "
               "rss_after_open=%ld rss_after_close=%ld rss_after_end=%ld threads_after_open=%d "
               "fds_start=%d fds_after_close=%d fds_after_end=%d hwm_start=%ld hwm_after_end=%ld\n",
               s, o, c, p.rss_start, p.rss_after_start, p.rss_after_open, p.rss_after_close,
               p.rss_after_end, p.threads_after_open, p.fds_start, p.fds_after_close,
               p.fds_after_end, p.hwm_start, p.hwm_after_end);
        return 0;
}

static int cmd_dlopen(int n, const char *so) {
        long long *r = shared_map(2 * sizeof *r);
        for (int i = 0; i < n; i++) {
                r[0] = r[1] = -1;
                pid_t pid = fork();
                if (pid == 0) {
                        long long t0 = now_ns();
                        void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
                        long long t1 = now_ns();
                        if (!h) {
                                fprintf(stderr, "dlopen: %s\n", dlerror());
                                _exit(1);
                        }
                        dlclose(h);
                        long long t2 = now_ns();
                        r[0] = t1 - t0;
                        r[1] = t2 - t1;
                        _exit(0);
                }
                int st;
                waitpid(pid, &st, 0);
                if (!WIFEXITED(st) || WEXITSTATUS(st)) return 1;
                printf("%lld %lld\n", r[0] / 1000, r[1] / 1000);
        }
        return 0;
}

struct counters {
        atomic_long logins, open_ok, close_ok, failures;
};

static int cmd_concurrent(int clients, double seconds, const char *svc) {
        struct counters *cnt = shared_map(sizeof *cnt);
        struct result *res = shared_map(sizeof(struct result) * clients);
        long long t0 = now_ns(), deadline = t0 + (long long) (seconds * 1e9);
        for (int w = 0; w < clients; w++) {
                pid_t pid = fork();
                if (pid < 0) {
                        perror("fork");
                        exit(1);
                }
                if (pid == 0) {
                        while (now_ns() < deadline) {
                                struct result *r = &res[w];
                                memset(r, 0, sizeof *r);
                                child_login(svc, r);
                                atomic_fetch_add(&cnt->logins, 1);
                                if (r->open_rc == PAM_SUCCESS) atomic_fetch_add(&cnt->open_ok, 1);
                                if (r->close_rc == PAM_SUCCESS) atomic_fetch_add(&cnt->close_ok, 1);
                                if (r->start_rc || r->open_rc || r->close_rc)
                                        atomic_fetch_add(&cnt->failures, 1);
                        }
                        _exit(0);
                }
        }
        while (wait(NULL) > 0 || errno == EINTR) {}
        double el = (now_ns() - t0) / 1e9;
        printf("svc=%s clients=%d logins=%ld open_ok=%ld close_ok=%ld failures=%ld elapsed=%.3f "
               "rate=%.1f\n",
               svc, clients, atomic_load(&cnt->logins), atomic_load(&cnt->open_ok),
               atomic_load(&cnt->close_ok), atomic_load(&cnt->failures), el,
               atomic_load(&cnt->logins) / el);
        return 0;
}

static void usage(void) {
        fprintf(stderr, "usage: see the comment at the top of bench/loginbench.c\n");
        exit(2);
}

int main(int argc, char **argv) {
        if (argc < 2) usage();
        const char *cmd = argv[1];
        int n = 1, clients = 32;
        double seconds = 10;
        int i = 2;
        for (; i < argc; i++) {
                if (!strcmp(argv[i], "--confdir") && i + 1 < argc) confdir = argv[++i];
                else if (!strcmp(argv[i], "--user") && i + 1 < argc) user = argv[++i];
                else if (!strcmp(argv[i], "-n") && i + 1 < argc) n = atoi(argv[++i]);
                else if (!strcmp(argv[i], "--clients") && i + 1 < argc) clients = atoi(argv[++i]);
                else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
                else if (!strcmp(argv[i], "--item") && i + 1 < argc) {
                        char *kv = argv[++i], *eq = strchr(kv, '=');
                        if (!eq || nitems == MAXITEMS) usage();
                        *eq = 0;
                        item_name[nitems] = kv;
                        item_val[nitems++] = eq + 1;
                } else break;
        }
        char **rest = argv + i;
        int nrest = argc - i;
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);
        if (!strcmp(cmd, "dlopen")) {
                if (nrest != 1) usage();
                return cmd_dlopen(n, rest[0]);
        }
        if (!confdir || !user || nrest < 1) usage();
        if (!strcmp(cmd, "latency")) return cmd_latency(n, rest, nrest > MAXSVC ? MAXSVC : nrest);
        if (nrest != 1) usage();
        if (!strcmp(cmd, "once")) return cmd_once(rest[0]);
        if (!strcmp(cmd, "probe")) return cmd_probe(rest[0]);
        if (!strcmp(cmd, "concurrent")) return cmd_concurrent(clients, seconds, rest[0]);
        usage();
        return 2;
}
