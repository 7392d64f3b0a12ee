#include <crypt.h>
#include <string.h>

/* crypt_r with its 32 KiB work area on the stack, wiped afterwards; the hash is copied
   to out. Returns its length, or -1 when the setting is unknown or malformed. */
static inline int ccrypt_hash(const char *phrase, const char *setting, char *out, int capacity) {
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    const char *hash = crypt_r(phrase, setting, &data);
    int length = -1;
    if (hash && hash[0] != '*' && (int)strlen(hash) < capacity) {
        length = (int)strlen(hash);
        memcpy(out, hash, (size_t)length + 1);
    }
    explicit_bzero(&data, sizeof data);
    return length;
}

/* A fresh random setting for prefix ("$y$", "$6$", ...; NULL for the library's best). */
static inline int ccrypt_salt(const char *prefix, char *out, int capacity) {
    return crypt_gensalt_rn(prefix, 0, NULL, 0, out, capacity) ? 0 : -1;
}
