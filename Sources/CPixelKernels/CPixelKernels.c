#include "CPixelKernels.h"

void picpipe_floats_to_bytes(const float *restrict in, uint8_t *restrict out, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float value = in[i] + 0.5f;
        // Written as comparisons (not fminf/fmaxf) so the compiler vectorises them as minps/maxps.
        value = value > 0.0f ? value : 0.0f;
        value = value < 255.0f ? value : 255.0f;
        out[i] = (uint8_t)(int32_t)value;
    }
}
