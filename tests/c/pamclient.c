/* pamclient: a PAM application for tests of pam_systemd-like modules.
 *
 * pamclient --confdir DIR --service SVC --user USER [--item NAME=VALUE]... [--penv NAME=VALUE]...
 *           [--env NAME=VALUE]... [--unset-user] [--conv-fail] [--open-twice] [--no-close]
 *           [--close-only] [--sleep-after-open SEC] [--run-after-open CMD] [--run-at-end CMD]
 *
 * --run-after-open / --run-at-end run CMD with system() after the open step (after the sleep) /
 * after pam_end, just before exit (the child shell execs, so it only holds non-CLOEXEC fds).
 *
 * Build: cc -O1 -o pamclient pamclient.c -lpam -lpam_misc
 *
 * Output (stdout, one fact per line, flushed after each line):
 *   pid=N
 *   fds_before=3 4            (fds >= 3 open at start; empty list prints "fds_before=")
 *   umask_before=, nice_before=, rlimit_before=   (the process state at start, as below)
 *   open_rc=N                 (unless --close-only)
 *   open_ms=N                 (wall time of pam_open_session in ms; close_ms likewise)
 *   env=NAME=VALUE            (PAM env after open, in pam_getenvlist order)
 *   fd=N cloexec=0|1 type=fifo|socket|file|other   (fds >= 3 now open that were not open at start)
 *   threads=N
 *   umask=0022                (the process's umask, from /proc/self/status; "?" if unreadable)
 *   nice=N                    (getpriority(PRIO_PROCESS, 0); "?" on error)
 *   rlimit=NAME CUR:MAX       (every getrlimit resource, CPU .. RTTIME in resource-number order;
 *                              RLIM_INFINITY as "infinity"; "?:?" on error)
 *   open2_rc=N, env2=..., fd2=..., threads2=N, umask2=, nice2=, rlimit2=   (with --open-twice)
 *   close_rc=N, env_after_close=..., fd_after_close=..., threads_after_close=N, umask_after_close=,
 *   nice_after_close=, rlimit_after_close=   (unless --no-close)
 *   end_rc=N, threads_after_end=N, fd_after_end=...
 * Bytes outside 0x21..0x7e (and backslash) in names/values are written as \xHH.
 * Values given on the command line understand the escapes \xHH and \\.
 * Exit status: 0 when it ran (the rc lines carry the results), 2 on usage errors.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <security/pam_appl.h>
#include <security/pam_misc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unescape.h"

#define MAXFDS 1024
#define MAXARGS 64

static int conv_fail = 0;
static const char *user_name = NULL;

static void usage(void) {
        fprintf(stderr,
                "usage: pamclient --confdir DIR --service SVC --user USER [--item NAME=VALUE]... "
                "[--penv NAME=VALUE]... [--env NAME=VALUE]... [--unset-user] [--conv-fail] "
                "[--open-twice] [--no-close] [--close-only] [--sleep-after-open SEC]\n");
        exit(2);
}

/* unescape(), for values from the command line: out of memory ends the program. */
static char *unescape_arg(const char *s) {
        char *out = unescape(s);
        if (!out) exit(1);
        return out;
}

static void print_escaped(const char *prefix, const char *s) {
        fputs(prefix, stdout);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p < 0x20 || *p >= 0x7f || *p == '\\')
                        printf("\\x%02x", *p);
                else
                        putchar(*p);
        }
        putchar('\n');
        fflush(stdout);
}

static int conversation(int num_msg, const struct pam_message **msg, struct pam_response **resp,
                        void *appdata) {
        (void) appdata;
        if (conv_fail) return PAM_CONV_ERR;
        struct pam_response *r = calloc(num_msg, sizeof(*r));
        if (!r) return PAM_BUF_ERR;
        for (int i = 0; i < num_msg; i++) {
                int style = msg[i]->msg_style;
                if (style == PAM_PROMPT_ECHO_ON || style == PAM_PROMPT_ECHO_OFF)
                        r[i].resp = strdup(user_name ? user_name : "");
                else if (style == PAM_ERROR_MSG || style == PAM_TEXT_INFO) {
                        print_escaped(style == PAM_ERROR_MSG ? "conv_error=" : "conv_info=",
                                      msg[i]->msg ? msg[i]->msg : "");
                }
        }
        *resp = r;
        return PAM_SUCCESS;
}

static int open_fds(int *fds, int max) {
        int n = 0;
        DIR *d = opendir("/proc/self/fd");
        if (!d) return 0;
        int dfd = dirfd(d);
        struct dirent *de;
        while ((de = readdir(d)) && n < max) {
                if (de->d_name[0] == '.') continue;
                int fd = atoi(de->d_name);
                if (fd < 3 || fd == dfd) continue;
                fds[n++] = fd;
        }
        closedir(d);
        /* sort */
        for (int i = 1; i < n; i++)
                for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
                        int t = fds[j];
                        fds[j] = fds[j - 1];
                        fds[j - 1] = t;
                }
        return n;
}

static long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int before[MAXFDS], nbefore = 0;

static void print_new_fds(const char *prefix) {
        int now[MAXFDS];
        int n = open_fds(now, MAXFDS);
        for (int i = 0; i < n; i++) {
                int found = 0;
                for (int j = 0; j < nbefore; j++)
                        if (before[j] == now[i]) found = 1;
                if (found) continue;
                int fl = fcntl(now[i], F_GETFD);
                struct stat st;
                const char *type = "other";
                if (fstat(now[i], &st) == 0) {
                        if (S_ISFIFO(st.st_mode)) type = "fifo";
                        else if (S_ISSOCK(st.st_mode)) type = "socket";
                        else if (S_ISREG(st.st_mode)) type = "file";
                }
                printf("%s=%d cloexec=%d type=%s\n", prefix, now[i], (fl >= 0 && (fl & FD_CLOEXEC)) ? 1 : 0,
                       type);
                fflush(stdout);
        }
}

static void print_threads(const char *key) {
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        int t = -1;
        if (f) {
                while (fgets(line, sizeof line, f))
                        if (strncmp(line, "Threads:", 8) == 0) t = atoi(line + 8);
                fclose(f);
        }
        printf("%s=%d\n", key, t);
        fflush(stdout);
}

static void print_env(pam_handle_t *h, const char *prefix) {
        char **env = pam_getenvlist(h);
        if (!env) return;
        for (char **e = env; *e; e++) {
                print_escaped(prefix, *e);
                free(*e);
        }
        free(env);
}

/* The process settings a user record may change (pam_systemd's umask, nice and setrlimit
 * calls): "umask<tag>=0NNN", "nice<tag>=N", and one "rlimit<tag>=NAME CUR:MAX" per resource. */
static void print_process(const char *tag) {
        static const char *const names[] = {
                [RLIMIT_CPU] = "CPU",         [RLIMIT_FSIZE] = "FSIZE",     [RLIMIT_DATA] = "DATA",
                [RLIMIT_STACK] = "STACK",     [RLIMIT_CORE] = "CORE",       [RLIMIT_RSS] = "RSS",
                [RLIMIT_NPROC] = "NPROC",     [RLIMIT_NOFILE] = "NOFILE",   [RLIMIT_MEMLOCK] = "MEMLOCK",
                [RLIMIT_AS] = "AS",           [RLIMIT_LOCKS] = "LOCKS",     [RLIMIT_SIGPENDING] = "SIGPENDING",
                [RLIMIT_MSGQUEUE] = "MSGQUEUE", [RLIMIT_NICE] = "NICE",     [RLIMIT_RTPRIO] = "RTPRIO",
                [RLIMIT_RTTIME] = "RTTIME",
        };
        /* Umask from /proc (Linux >= 4.7): reading it with umask() would change it. */
        FILE *f = fopen("/proc/self/status", "r");
        char line[256], umask_text[32] = "?";
        if (f) {
                while (fgets(line, sizeof line, f))
                        if (strncmp(line, "Umask:", 6) == 0 && sscanf(line + 6, "%31s", umask_text) != 1)
                                strcpy(umask_text, "?");
                fclose(f);
        }
        printf("umask%s=%s\n", tag, umask_text);
        errno = 0;
        int prio = getpriority(PRIO_PROCESS, 0);
        if (prio == -1 && errno != 0)
                printf("nice%s=?\n", tag);
        else
                printf("nice%s=%d\n", tag, prio);
        for (int r = 0; r < (int) (sizeof names / sizeof names[0]); r++) {
                struct rlimit rl;
                if (getrlimit(r, &rl) < 0) {
                        printf("rlimit%s=%s ?:?\n", tag, names[r]);
                        continue;
                }
                printf("rlimit%s=%s ", tag, names[r]);
                if (rl.rlim_cur == RLIM_INFINITY)
                        printf("infinity:");
                else
                        printf("%llu:", (unsigned long long) rl.rlim_cur);
                if (rl.rlim_max == RLIM_INFINITY)
                        printf("infinity\n");
                else
                        printf("%llu\n", (unsigned long long) rl.rlim_max);
        }
        fflush(stdout);
}

/* The state after a step: PAM env, fds new since the start, thread count, process settings,
 * under the keys "env<tag>=", "fd<tag>=", "threads<tag>=", "umask<tag>=", "nice<tag>=" and
 * "rlimit<tag>=". */
static void print_state(pam_handle_t *h, const char *tag) {
        char env[64], fd[64], threads[64];
        snprintf(env, sizeof env, "env%s=", tag);
        snprintf(fd, sizeof fd, "fd%s", tag);
        snprintf(threads, sizeof threads, "threads%s", tag);
        print_env(h, env);
        print_new_fds(fd);
        print_threads(threads);
        print_process(tag);
}

int main(int argc, char **argv) {
        const char *confdir = NULL, *service = NULL;
        char *items[MAXARGS], *penvs[MAXARGS], *envs[MAXARGS];
        int nitems = 0, npenvs = 0, nenvs = 0;
        int unset_user = 0, open_twice = 0, no_close = 0, close_only = 0;
        double sleep_after_open = 0;
        const char *run_after_open = NULL, *run_at_end = NULL;
        long t0;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
#define NEED_ARG                                                                                   \
        do {                                                                                       \
                if (i + 1 >= argc) usage();                                                        \
        } while (0)
                if (!strcmp(a, "--confdir")) {
                        NEED_ARG;
                        confdir = argv[++i];
                } else if (!strcmp(a, "--service")) {
                        NEED_ARG;
                        service = argv[++i];
                } else if (!strcmp(a, "--user")) {
                        NEED_ARG;
                        user_name = argv[++i];
                } else if (!strcmp(a, "--item")) {
                        NEED_ARG;
                        if (nitems >= MAXARGS) usage();
                        items[nitems++] = argv[++i];
                } else if (!strcmp(a, "--penv")) {
                        NEED_ARG;
                        if (npenvs >= MAXARGS) usage();
                        penvs[npenvs++] = argv[++i];
                } else if (!strcmp(a, "--env")) {
                        NEED_ARG;
                        if (nenvs >= MAXARGS) usage();
                        envs[nenvs++] = argv[++i];
                } else if (!strcmp(a, "--unset-user"))
                        unset_user = 1;
                else if (!strcmp(a, "--conv-fail"))
                        conv_fail = 1;
                else if (!strcmp(a, "--open-twice"))
                        open_twice = 1;
                else if (!strcmp(a, "--no-close"))
                        no_close = 1;
                else if (!strcmp(a, "--close-only"))
                        close_only = 1;
                else if (!strcmp(a, "--sleep-after-open")) {
                        NEED_ARG;
                        sleep_after_open = atof(argv[++i]);
                } else if (!strcmp(a, "--run-after-open")) {
                        NEED_ARG;
                        run_after_open = argv[++i];
                } else if (!strcmp(a, "--run-at-end")) {
                        NEED_ARG;
                        run_at_end = argv[++i];
                } else
                        usage();
        }
        if (!service || (!user_name && !unset_user)) usage();

        printf("pid=%d\n", (int) getpid());
        fflush(stdout);
        nbefore = open_fds(before, MAXFDS);
        printf("fds_before=");
        for (int i = 0; i < nbefore; i++) printf(i ? " %d" : "%d", before[i]);
        printf("\n");
        fflush(stdout);
        print_process("_before");

        for (int i = 0; i < nenvs; i++) {
                char *kv = unescape_arg(envs[i]);
                char *eq = strchr(kv, '=');
                if (!eq) usage();
                *eq = 0;
                if (setenv(kv, eq + 1, 1) < 0) {
                        perror("setenv");
                        return 2;
                }
                free(kv);
        }

        struct pam_conv conv = {conversation, NULL};
        pam_handle_t *h = NULL;
        int rc = pam_start_confdir(service, unset_user ? NULL : user_name, &conv, confdir, &h);
        if (rc != PAM_SUCCESS) {
                printf("start_rc=%d\n", rc);
                fflush(stdout);
                return 0;
        }

        for (int i = 0; i < nitems; i++) {
                char *kv = unescape_arg(items[i]);
                char *eq = strchr(kv, '=');
                if (!eq) usage();
                *eq = 0;
                int type;
                if (!strcmp(kv, "tty")) type = PAM_TTY;
                else if (!strcmp(kv, "rhost")) type = PAM_RHOST;
                else if (!strcmp(kv, "ruser")) type = PAM_RUSER;
                else if (!strcmp(kv, "xdisplay")) type = PAM_XDISPLAY;
                else if (!strcmp(kv, "service")) type = PAM_SERVICE;
                else if (!strcmp(kv, "user")) type = PAM_USER;
                else
                        usage();
                rc = pam_set_item(h, type, eq + 1);
                if (rc != PAM_SUCCESS) {
                        printf("set_item_rc=%d\n", rc);
                        fflush(stdout);
                }
                free(kv);
        }
        for (int i = 0; i < npenvs; i++) {
                char *kv = unescape_arg(penvs[i]);
                rc = pam_putenv(h, kv);
                if (rc != PAM_SUCCESS) {
                        printf("putenv_rc=%d\n", rc);
                        fflush(stdout);
                }
                free(kv);
        }

        if (!close_only) {
                t0 = now_ms();
                rc = pam_open_session(h, 0);
                printf("open_rc=%d\nopen_ms=%ld\n", rc, now_ms() - t0);
                fflush(stdout);
                print_state(h, "");
                if (open_twice) {
                        rc = pam_open_session(h, 0);
                        printf("open2_rc=%d\n", rc);
                        fflush(stdout);
                        print_state(h, "2");
                }
                if (sleep_after_open > 0) usleep((useconds_t) (sleep_after_open * 1e6));
                if (run_after_open) (void) !system(run_after_open);
        }
        if (!no_close) {
                t0 = now_ms();
                rc = pam_close_session(h, 0);
                printf("close_rc=%d\nclose_ms=%ld\n", rc, now_ms() - t0);
                fflush(stdout);
                print_state(h, "_after_close");
        }
        rc = pam_end(h, PAM_SUCCESS);
        printf("end_rc=%d\n", rc);
        fflush(stdout);
        print_threads("threads_after_end");
        print_new_fds("fd_after_end");
        if (run_at_end) (void) !system(run_at_end);
        return 0;
}
