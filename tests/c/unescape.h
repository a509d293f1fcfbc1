/* unescape.h: the \xHH and \\ escapes that tests/c programs understand in values given to them
 * (command-line values of pamclient, "set" values of pam_testhelper). Header-only: each program
 * is a single .c file compiled on its own, so this is included next to it with #include "...". */
#ifndef PAM_SYSTEMD_RS_TESTS_UNESCAPE_H
#define PAM_SYSTEMD_RS_TESTS_UNESCAPE_H

#include <stdlib.h>
#include <string.h>

static int hexval(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
}

/* Decodes \xHH and \\ escapes; anything else is copied as it is. Returns a malloc'ed string,
 * NULL when out of memory. */
static char *unescape(const char *s) {
        size_t n = strlen(s);
        char *out = malloc(n + 1), *o = out;
        if (!out) return NULL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && s[i + 1] == '\\') {
                        *o++ = '\\';
                        i++;
                } else if (s[i] == '\\' && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 && hexval(s[i + 3]) >= 0) {
                        *o++ = (char) (hexval(s[i + 2]) * 16 + hexval(s[i + 3]));
                        i += 3;
                } else
                        *o++ = s[i];
        }
        *o = 0;
        return out;
}

#endif
