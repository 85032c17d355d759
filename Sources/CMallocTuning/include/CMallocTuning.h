// glibc's malloc tuning (malloc.h is not in Swift's Glibc module).
#ifndef CMALLOCTUNING_H
#define CMALLOCTUNING_H

#include <malloc.h>

/// Limits how many malloc arenas the process may make from now on; returns 1 on success.
static inline int picpipe_limit_malloc_arenas(int count) { return mallopt(M_ARENA_MAX, count); }

#endif
