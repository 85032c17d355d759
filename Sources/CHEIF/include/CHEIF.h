// libheif: HEIF/HEIC and AVIF containers, their decoders (libde265, dav1d/aom) and the AV1 encoder (aom).
//
// libheif is not linked: it is opened with dlopen the first time a HEIF or AVIF file is read or written. Linked,
// it brought libx265, libde265, libdav1d, libaom and libnuma into every process, and the dynamic loader's work
// on them plus libde265's static constructors cost every start (serve, a one-shot `picpipe thumbnail`) several
// milliseconds. CHEIFLoader.c defines each libheif function picpipe calls as a small forwarder to the loaded
// library's own, so the Swift code calls libheif's C API as before. If the library cannot be loaded, every
// forwarder returns a failure (a heif_error, NULL or 0) instead of crashing; `CHEIF_load` says which and why.
//
// libheif's C API reports every failure as a returned heif_error (its C++ exceptions never cross it), so no
// setjmp/longjmp shim is needed; this header also adds a writer to memory, which Swift cannot express as a C
// callback returning a struct with a static message.
#ifndef CHEIF_H
#define CHEIF_H
#include <libheif/heif.h>
#include <stdlib.h>
#include <string.h>

/// Opens libheif once (thread-safe); returns 1 when it is loaded, 0 when it cannot be.
int CHEIF_load(void);

/// Why libheif could not be loaded (dlerror's text), or NULL when it is loaded.
const char *CHEIF_loadError(void);

/// A growing buffer the writer appends to.
typedef struct CHEIF_Buffer {
    uint8_t *bytes;
    size_t size;
    size_t capacity;
    int failed;
} CHEIF_Buffer;

static inline struct heif_error CHEIF_appendToBuffer(struct heif_context *context, const void *data, size_t size,
                                                     void *userdata) {
    (void)context;
    CHEIF_Buffer *buffer = (CHEIF_Buffer *)userdata;
    struct heif_error ok = {heif_error_Ok, heif_suberror_Unspecified, "Success"};
    struct heif_error failed = {heif_error_Encoding_error, heif_suberror_Cannot_write_output_data, "out of memory"};
    if (size > SIZE_MAX - buffer->size) { buffer->failed = 1; return failed; }
    if (buffer->size + size > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 4096;
        while (capacity < buffer->size + size) {
            if (capacity > SIZE_MAX / 2) { capacity = buffer->size + size; break; }
            capacity *= 2;
        }
        uint8_t *grown = (uint8_t *)realloc(buffer->bytes, capacity);
        if (!grown) { buffer->failed = 1; return failed; }
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->size, data, size);
    buffer->size += size;
    return ok;
}

/// Writes the context's file into `buffer` (free `buffer->bytes` with `free`).
static inline struct heif_error CHEIF_writeToMemory(struct heif_context *context, CHEIF_Buffer *buffer) {
    struct heif_writer writer;
    writer.writer_api_version = 1;
    writer.write = CHEIF_appendToBuffer;
    return heif_context_write(context, &writer, buffer);
}

static inline void CHEIF_freeBuffer(CHEIF_Buffer *buffer) { free(buffer->bytes); }

#endif
