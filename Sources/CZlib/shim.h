#include <zlib.h>

/* deflateInit2 is a macro in zlib.h; Swift cannot call macros. */
static inline int czlib_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
