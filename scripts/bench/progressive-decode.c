// The progressive early stop alone: each file decoded at 1/DEN through CJPEGShims twice, stopping after the scans
// the output needs and reading every scan, CPU time of each and the PSNR between them. Built and run by
// scripts/bench-progressive-decode.sh.
#include "CJPEGShims.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpuSeconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s DEN FILE...\n", argv[0]);
        return 2;
    }
    int denominator = atoi(argv[1]);
    double early = 0, full = 0, worst = INFINITY;
    for (int i = 2; i < argc; i++) {
        FILE *file = fopen(argv[i], "rb");
        if (file == NULL) return 1;
        fseek(file, 0, SEEK_END);
        long size = ftell(file);
        fseek(file, 0, SEEK_SET);
        unsigned char *data = malloc((size_t)size);
        if (fread(data, 1, (size_t)size, file) != (size_t)size) return 1;
        fclose(file);
        CJPEGShims_Header header;
        CJPEGShims_Status status;
        CJPEGShims_readHeader(data, (size_t)size, &header, &status);
        int width, height;
        CJPEGShims_scaledSize(header.width, header.height, denominator, &width, &height);
        size_t capacity = (size_t)width * (size_t)height * 3;
        unsigned char *a = malloc(capacity), *b = malloc(capacity);
        double t0 = cpuSeconds();
        int first = CJPEGShims_decodeRGB(data, (size_t)size, denominator, 1, 0, 1LL << 40, a, capacity, &width, &height,
                                         &status);
        double t1 = cpuSeconds();
        int second = CJPEGShims_decodeRGB(data, (size_t)size, denominator, 1, 1, 1LL << 40, b, capacity, &width,
                                          &height, &status);
        double t2 = cpuSeconds();
        if (first != 0 || second != 0) {
            fprintf(stderr, "%s: decode failed (%d, %d)\n", argv[i], first, second);
            return 1;
        }
        early += t1 - t0;
        full += t2 - t1;
        double squared = 0;
        for (size_t k = 0; k < capacity; k++) squared += ((double)a[k] - b[k]) * ((double)a[k] - b[k]);
        double psnr = squared == 0 ? INFINITY : 10 * log10(255.0 * 255.0 / (squared / (double)capacity));
        if (psnr < worst) worst = psnr;
        free(a);
        free(b);
        free(data);
    }
    printf("1/%d: %d files, early stop %.1f ms/file, every scan %.1f ms/file, %.2fx, lowest PSNR %.1f dB\n",
           denominator, argc - 2, early * 1e3 / (argc - 2), full * 1e3 / (argc - 2), full / early, worst);
    return 0;
}
