/* pam_testhelper: a test-only PAM module. Its session hooks (open and close do the same) act on
 * their arguments, in order:
 *   set KEY=VALUE ...   pam_set_data(h, KEY, strdup(VALUE), free-cleanup) for each pair after
 *                       "set" (VALUE understands \xHH and \\ escapes)
 *   dump out=PATH [user=NAME]
 *                       append to PATH: "session_fd=<fd>|unset", "existing=<n>|unset" and, with
 *                       user=NAME, "user_record=<string>|unset" (PAM data
 *                       systemd-user-record-NAME), then a line "--".
 * A word that is neither "set"/"dump" nor KEY=VALUE nor out=/user= is ignored.
 * Always returns PAM_SUCCESS.
 *
 * Build: cc -shared -fPIC -o pam_testhelper.so pam_testhelper.c -lpam
 */
#define _GNU_SOURCE
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unescape.h"

static void cleanup_free(pam_handle_t *h, void *data, int error_status) {
        (void) h;
        (void) error_status;
        free(data);
}

static void dump(pam_handle_t *h, const char *out, const char *user) {
        FILE *f = fopen(out, "a");
        if (!f) return;
        const void *d = NULL;
        if (pam_get_data(h, "systemd.session-fd", &d) == PAM_SUCCESS && d)
                fprintf(f, "session_fd=%ld\n", (long) ((intptr_t) d) - 1);
        else
                fprintf(f, "session_fd=unset\n");
        d = NULL;
        if (pam_get_data(h, "systemd.existing", &d) == PAM_SUCCESS)
                fprintf(f, "existing=%ld\n", (long) (intptr_t) d);
        else
                fprintf(f, "existing=unset\n");
        if (user) {
                char key[512];
                snprintf(key, sizeof key, "systemd-user-record-%s", user);
                d = NULL;
                if (pam_get_data(h, key, &d) == PAM_SUCCESS && d)
                        fprintf(f, "user_record=%s\n", (const char *) d);
                else
                        fprintf(f, "user_record=unset\n");
        }
        fprintf(f, "--\n");
        fclose(f);
}

static int run(pam_handle_t *h, int argc, const char **argv) {
        enum { NONE, SET, DUMP } mode = NONE;
        const char *out = NULL, *user = NULL;
        int want_dump = 0;
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "set")) {
                        mode = SET;
                        continue;
                }
                if (!strcmp(a, "dump")) {
                        mode = DUMP;
                        want_dump = 1;
                        continue;
                }
                if (mode == DUMP) {
                        if (!strncmp(a, "out=", 4)) out = a + 4;
                        else if (!strncmp(a, "user=", 5)) user = a + 5;
                        continue;
                }
                if (mode == SET) {
                        const char *eq = strchr(a, '=');
                        if (!eq) continue;
                        char *key = strndup(a, (size_t) (eq - a));
                        char *val = unescape(eq + 1);
                        if (key && val) {
                                if (pam_set_data(h, key, val, cleanup_free) != PAM_SUCCESS) free(val);
                        } else
                                free(val);
                        free(key);
                }
        }
        if (want_dump && out) dump(h, out, user);
        return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *h, int flags, int argc, const char **argv) {
        (void) flags;
        return run(h, argc, argv);
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *h, int flags, int argc, const char **argv) {
        (void) flags;
        return run(h, argc, argv);
}
