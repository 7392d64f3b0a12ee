#include "CFuzz.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

int fuzz_run(int argc, char **argv, int drop_name, int (*callback)(const uint8_t *data, size_t size)) {
    if (drop_name && argc >= 2) {
        argv[1] = argv[0];
        argc -= 1;
        argv += 1;
    }
    return LLVMFuzzerRunDriver(&argc, &argv, callback);
}
