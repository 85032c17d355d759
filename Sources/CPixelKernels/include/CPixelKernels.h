// Pixel loops that Swift cannot vectorise: its Float-to-integer conversion checks every value for overflow (a
// branch per sample), where C converts eight at a time.
#ifndef CPIXELKERNELS_H
#define CPIXELKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// out[i] = (uint8_t)min(max(in[i] + 0.5, 0), 255), truncated: the nearest byte (halves up) of each sample,
/// clamped to 0...255. The same bytes as Swift's `UInt8(min(max(value + 0.5, 0), 255))` for every non-NaN value.
void picpipe_floats_to_bytes(const float *in, uint8_t *out, size_t count);

#endif
