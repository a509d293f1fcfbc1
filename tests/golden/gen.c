/* The golden-table generator: runs Debian 12's own systemd code (libsystemd-shared-252.so, the
 * library pam_systemd.so 252 is built from) on inputs and prints what it answers, so that the
 * Rust ports in src/parse.rs, src/limits.rs and src/user/ can be checked against it.
 *
 * Build and run: tests/golden/gen.sh (see tests/golden/README.md).
 *
 * Input, one case per line on stdin: a function name, then its arguments, separated by TABs.
 * Arguments are C strings written with \xHH escapes for any byte that is not printable ASCII,
 * and for '\' and TAB. Output: the input line, a TAB, and the answer (escaped the same way):
 *   a number, "true"/"false", a string, or "err" / "err:<ERRNO NAME>" for a failure.
 *
 * The library is private (no headers, no stable ABI): the declarations below are the v252 ones.
 * The two UserRecord fields read here (user_name, uid, json) are found at run time by loading a
 * record with known values and looking for them (calibrate()), not from a copied struct layout. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pwd.h>
#include <shadow.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_boolean(const char *v);
int safe_atou_full(const char *s, unsigned base, unsigned *ret);
int safe_atollu_full(const char *s, unsigned base, unsigned long long *ret);
int safe_atoi(const char *s, int *ret);
int parse_permyriad(const char *p);
int parse_size(const char *t, uint64_t base, uint64_t *ret);
int parse_sec(const char *t, uint64_t *ret);
int cg_weight_parse(const char *s, uint64_t *ret);
int cg_cpu_weight_parse(const char *s, uint64_t *ret);
bool is_localhost(const char *hostname);
char *path_startswith_full(const char *path, const char *prefix, bool accept_dot_dot);
bool valid_user_group_name(const char *u, int flags); /* VALID_USER_RELAX = 1 */
int nss_passwd_to_user_record(const struct passwd *pwd, const struct spwd *spwd, void **ret);
int json_parse(const char *string, int flags, void **ret, unsigned *line, unsigned *column);
int json_variant_format(void *v, int flags, char **ret);
void *json_variant_unref(void *v);
void *user_record_new(void);
int user_record_load(void *h, void *v, int flags);
void *user_record_unref(void *h);

/* UserRecordLoadFlags (user-record.h, v252): what pam_systemd passes for a cached record,
 * USER_RECORD_LOAD_REFUSE_SECRET|USER_RECORD_PERMISSIVE. */
#define REQUIRE(m) ((m) << 7)
#define ALLOW(m) ((m) << 14)
#define REC_PRIVILEGED 4
#define REC_PER_MACHINE 8
#define REC_BINDING 16
#define REC_STATUS 32
#define REC_SIGNATURE 64
#define LOAD_REFUSE_SECRET                                                                    \
        (REQUIRE(1) | ALLOW(REC_PRIVILEGED) | ALLOW(REC_PER_MACHINE) | ALLOW(REC_BINDING) | \
         ALLOW(REC_STATUS) | ALLOW(REC_SIGNATURE))
#define PERMISSIVE (1 << 29)

static size_t off_name, off_uid, off_json;

static void out_escaped(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p == '\\' || *p == '\t' || *p < 0x20 || *p >= 0x7f)
                        printf("\\x%02x", *p);
                else
                        putchar(*p);
}

static int hexval(int c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
}

/* In place: \xHH → byte. Returns 0, or -1 for a malformed escape (or an escaped NUL). */
static int unescape(char *s) {
        char *w = s;
        for (char *r = s; *r; r++) {
                if (*r == '\\') {
                        int hi, lo;
                        if (r[1] != 'x' || (hi = hexval(r[2])) < 0 || (lo = hexval(r[3])) < 0 || hi + lo == 0)
                                return -1;
                        *w++ = (char) (hi * 16 + lo);
                        r += 3;
                } else
                        *w++ = *r;
        }
        *w = 0;
        return 0;
}

static void err(int r) {
        const char *n = r < 0 ? strerrorname_np(-r) : NULL;
        printf(n ? "err:%s" : "err", n);
}

static long num(const char *s) {
        return strtol(s, NULL, 10);
}

/* Loads {"userName":name,"uid":uid} and returns the record (the JSON variant in *json). */
static void *load(const char *text, void **json) {
        void *v = NULL, *h = user_record_new();
        if (!h || json_parse(text, 0, &v, NULL, NULL) < 0 || user_record_load(h, v, LOAD_REFUSE_SECRET | PERMISSIVE) < 0) {
                fprintf(stderr, "gen: cannot load the calibration record %s\n", text);
                exit(2);
        }
        *json = v;
        return h;
}

/* Finds the offsets of user_name, uid and json in UserRecord by value, twice, and insists that
 * both runs agree on exactly one place for each. */
static void calibrate(void) {
        const char *texts[2] = {"{\"userName\":\"calibrat\",\"uid\":123456789}",
                                "{\"userName\":\"other\",\"uid\":987654321}"};
        const char *names[2] = {"calibrat", "other"};
        const uint32_t uids[2] = {123456789, 987654321};
        size_t found_uid[2] = {0}, found_json[2] = {0};
        for (int k = 0; k < 2; k++) {
                void *v, *h = load(texts[k], &v);
                size_t size = malloc_usable_size(h), n_uid = 0, n_json = 0;
                for (size_t o = 0; o + sizeof(void *) <= size; o += sizeof(uint32_t)) {
                        uint32_t u;
                        memcpy(&u, (char *) h + o, sizeof u);
                        if (u == uids[k]) found_uid[k] = o, n_uid++;
                        if (o % sizeof(void *) == 0) {
                                void *p;
                                memcpy(&p, (char *) h + o, sizeof p);
                                if (p == v) found_json[k] = o, n_json++;
                        }
                }
                /* user_name is the first pointer after n_ref, mask and incomplete. */
                char *name;
                memcpy(&name, (char *) h + 16, sizeof name);
                if (n_uid != 1 || n_json != 1 || !name || strcmp(name, names[k]) != 0) {
                        fprintf(stderr, "gen: UserRecord layout not recognised (uid %zu, json %zu)\n", n_uid, n_json);
                        exit(2);
                }
                user_record_unref(h);
                json_variant_unref(v);
        }
        if (found_uid[0] != found_uid[1] || found_json[0] != found_json[1]) {
                fprintf(stderr, "gen: UserRecord offsets differ between calibration runs\n");
                exit(2);
        }
        off_name = 16, off_uid = found_uid[0], off_json = found_json[0];
}

static void record(char **a, int n) {
        if (n != 6 && n != 14) {
                printf("usage: record name uid gid gecos dir shell [spname pwd lstchg min max warn inact expire]");
                return;
        }
        struct passwd pw = {.pw_name = a[0], .pw_passwd = (char *) "x", .pw_uid = (uid_t) num(a[1]),
                            .pw_gid = (gid_t) num(a[2]), .pw_gecos = a[3], .pw_dir = a[4], .pw_shell = a[5]};
        struct spwd sp = {0}, *spp = NULL;
        if (n == 14) {
                sp = (struct spwd){.sp_namp = a[6], .sp_pwdp = a[7], .sp_lstchg = num(a[8]), .sp_min = num(a[9]),
                                   .sp_max = num(a[10]), .sp_warn = num(a[11]), .sp_inact = num(a[12]),
                                   .sp_expire = num(a[13])};
                spp = &sp;
        }
        void *h = NULL;
        int r = nss_passwd_to_user_record(&pw, spp, &h);
        if (r < 0) {
                err(r);
                return;
        }
        void *json;
        memcpy(&json, (char *) h + off_json, sizeof json);
        char *text = NULL;
        r = json_variant_format(json, 0, &text);
        if (r < 0)
                err(r);
        else
                out_escaped(text);
        free(text);
        user_record_unref(h);
}

/* pam_systemd's reading of a cached record: json_parse, then user_record_load; the answer is
 * "ok <name> <uid|none>", or "parse:err:<E>" / "load:err:<E>" with the errno of the failing step. */
static void identity(const char *text) {
        void *v = NULL, *h = NULL;
        int r = json_parse(text, 0, &v, NULL, NULL);
        if (r < 0) {
                printf("parse:");
                err(r);
                return;
        }
        h = user_record_new();
        r = user_record_load(h, v, LOAD_REFUSE_SECRET | PERMISSIVE);
        if (r < 0) {
                printf("load:");
                err(r);
        } else {
                char *name;
                uint32_t uid;
                memcpy(&name, (char *) h + off_name, sizeof name);
                memcpy(&uid, (char *) h + off_uid, sizeof uid);
                printf("ok ");
                out_escaped(name ? name : "(null)");
                if (uid == UINT32_MAX)
                        printf(" none");
                else
                        printf(" %u", uid);
        }
        user_record_unref(h);
        json_variant_unref(v);
}

int main(void) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        calibrate();
        while ((len = getline(&line, &cap, stdin)) >= 0) {
                if (len > 0 && line[len - 1] == '\n')
                        line[--len] = 0;
                if (len == 0 || line[0] == '#')
                        continue;
                fputs(line, stdout);
                putchar('\t');
                char *a[16], *save = NULL;
                int n = 0;
                for (char *t = strtok_r(line, "\t", &save); t && n < 16; t = strtok_r(NULL, "\t", &save))
                        a[n++] = t;
                /* An empty argument is written as \x (nothing after it would be ambiguous with
                 * TABs): "-" stands for it. */
                bool bad = false;
                for (int i = 1; i < n; i++) {
                        if (strcmp(a[i], "-") == 0)
                                a[i][0] = 0;
                        else if (unescape(a[i]) < 0)
                                bad = true;
                }
                const char *f = a[0], *s = n > 1 ? a[1] : "";
                int r;
                unsigned u;
                unsigned long long llu;
                int i;
                uint64_t v;
                if (bad)
                        printf("bad escape");
                else if (!strcmp(f, "boolean"))
                        (r = parse_boolean(s)) < 0 ? err(r) : (void) printf(r ? "true" : "false");
                else if (!strcmp(f, "atou32"))
                        (r = safe_atou_full(s, 0, &u)) < 0 ? err(r) : (void) printf("%u", u);
                else if (!strcmp(f, "atou64"))
                        (r = safe_atollu_full(s, 0, &llu)) < 0 ? err(r) : (void) printf("%llu", llu);
                else if (!strcmp(f, "atoi"))
                        (r = safe_atoi(s, &i)) < 0 ? err(r) : (void) printf("%d", i);
                else if (!strcmp(f, "permyriad"))
                        (r = parse_permyriad(s)) < 0 ? err(r) : (void) printf("%d", r);
                else if (!strcmp(f, "size"))
                        (r = parse_size(s, 1024, &v)) < 0 ? err(r) : (void) printf("%llu", (unsigned long long) v);
                else if (!strcmp(f, "sec"))
                        (r = parse_sec(s, &v)) < 0 ? err(r) : (void) printf("%llu", (unsigned long long) v);
                else if (!strcmp(f, "weight"))
                        (r = cg_weight_parse(s, &v)) < 0 ? err(r) : (void) printf("%llu", (unsigned long long) v);
                else if (!strcmp(f, "cpu_weight"))
                        (r = cg_cpu_weight_parse(s, &v)) < 0 ? err(r) : (void) printf("%llu", (unsigned long long) v);
                else if (!strcmp(f, "localhost"))
                        printf(is_localhost(s) ? "true" : "false");
                else if (!strcmp(f, "dev_prefix")) {
                        const char *rest = path_startswith_full(s, "/dev/", true);
                        rest ? out_escaped(rest) : (void) printf("err");
                } else if (!strcmp(f, "user_name"))
                        printf(valid_user_group_name(s, 1) ? "true" : "false");
                else if (!strcmp(f, "record"))
                        record(a + 1, n - 1);
                else if (!strcmp(f, "identity"))
                        identity(s);
                else
                        printf("unknown function");
                putchar('\n');
        }
        free(line);
        return 0;
}
