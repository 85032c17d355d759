// libFuzzer's driver, called from a harness's Swift main (SwiftPM links executables with main renamed to
// MODULE_main, so libFuzzer's own main is never used).
#ifndef CFUZZDRIVER_H
#define CFUZZDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer on `testOneInput` with the command line's options; returns its exit status, or -1 when the
/// program was not linked with -sanitize=fuzzer.
int CFuzzDriver_run(int *argc, char ***argv, int (*testOneInput)(const uint8_t *data, size_t size));

#endif
