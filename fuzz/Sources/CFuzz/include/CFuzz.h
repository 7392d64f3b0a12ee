#ifndef CFUZZ_H
#define CFUZZ_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer (LLVMFuzzerRunDriver) on `callback`, with argv[1] (the target's name)
/// taken out of argv first when `drop_name` is set.
int fuzz_run(int argc, char **argv, int drop_name, int (*callback)(const uint8_t *data, size_t size));

#endif
