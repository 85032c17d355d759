#include "CFuzzDriver.h"

// Weak: a normal build (no -sanitize=fuzzer) links without libFuzzer, and the function is then null.
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size))
    __attribute__((weak));

int CFuzzDriver_run(int *argc, char ***argv, int (*testOneInput)(const uint8_t *data, size_t size)) {
    if (LLVMFuzzerRunDriver == NULL) return -1;
    return LLVMFuzzerRunDriver(argc, argv, testOneInput);
}
