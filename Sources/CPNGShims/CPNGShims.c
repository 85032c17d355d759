// libpng's classic reader behind setjmp/longjmp: every libpng error returns here as a status code, warnings are
// counted, nothing is ever printed.
#include "CPNGShims.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

struct CPNGShims_Reader {
    png_structp png;
    png_infop info;
    jmp_buf jump;
    CPNGShims_Status *status;
    const unsigned char *data;
    size_t size;
    size_t offset;
    int width;
    int height;
    int channels;
    /// Palette files: indices are read into `indices` and mapped through `table` (channels bytes per entry).
    int isPalette;
    int paletteEntries;
    unsigned char table[256 * 4];
    unsigned char *indices;
};

static void shimError(png_structp png, png_const_charp message) {
    CPNGShims_Reader *reader = (CPNGShims_Reader *)png_get_error_ptr(png);
    reader->status->code = CPNGShims_corrupt;
    snprintf(reader->status->message, sizeof(reader->status->message), "%s", message ? message : "libpng error");
    longjmp(reader->jump, 1);
}

// Warnings (a damaged ancillary chunk that libpng skipped) leave the pixels intact: counted, never printed.
static void shimWarning(png_structp png, png_const_charp message) {
    (void)message;
    CPNGShims_Reader *reader = (CPNGShims_Reader *)png_get_error_ptr(png);
    reader->status->warnings += 1;
}

static void shimRead(png_structp png, png_bytep out, size_t length) {
    CPNGShims_Reader *reader = (CPNGShims_Reader *)png_get_io_ptr(png);
    if (length > reader->size - reader->offset) png_error(png, "the PNG data ends inside a chunk");
    memcpy(out, reader->data + reader->offset, length);
    reader->offset += length;
}

static int shimFail(CPNGShims_Status *status, int code, const char *message) {
    status->code = code;
    snprintf(status->message, sizeof(status->message), "%s", message);
    return code;
}

static void shimBegin(CPNGShims_Reader *reader, CPNGShims_Status *status) {
    reader->status = status;
    status->code = CPNGShims_ok;
    status->message[0] = 0;
}

void CPNGShims_close(CPNGShims_Reader *reader) {
    if (reader == NULL) return;
    png_destroy_read_struct(&reader->png, reader->info ? &reader->info : NULL, NULL);
    free(reader->indices);
    free(reader);
}

// Chooses the transforms; runs under the caller's setjmp.
static int shimConfigure(CPNGShims_Reader *reader, CPNGShims_Info *info, CPNGShims_Status *status) {
    png_structp png = reader->png;
    png_infop pngInfo = reader->info;
    png_read_info(png, pngInfo);
    png_uint_32 width = 0, height = 0;
    int bitDepth = 0, colorType = 0, interlace = 0;
    png_get_IHDR(png, pngInfo, &width, &height, &bitDepth, &colorType, &interlace, NULL, NULL);
    if (interlace != PNG_INTERLACE_NONE) return shimFail(status, CPNGShims_unsupported, "interlaced");
    // libpng's simplified reader converts a non-sRGB gAMA to sRGB; the full decoder keeps that behaviour.
    png_fixed_point gamma = 0;
    if (png_get_gAMA_fixed(png, pngInfo, &gamma) && (gamma < 44000 || gamma > 47000)) {
        return shimFail(status, CPNGShims_unsupported, "gAMA is not sRGB's");
    }
    int hasTransparency = png_get_valid(png, pngInfo, PNG_INFO_tRNS) != 0;
    if (colorType == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        int entries = 0;
        if (!png_get_PLTE(png, pngInfo, &palette, &entries) || entries <= 0) png_error(png, "no PLTE chunk");
        png_bytep alphas = NULL;
        int alphaCount = 0;
        png_color_16p unused = NULL;
        if (hasTransparency) png_get_tRNS(png, pngInfo, &alphas, &alphaCount, &unused);
        reader->isPalette = 1;
        reader->paletteEntries = entries > 256 ? 256 : entries;
        reader->channels = hasTransparency ? 4 : 3;
        for (int entry = 0; entry < reader->paletteEntries; entry++) {
            unsigned char *to = reader->table + entry * reader->channels;
            to[0] = palette[entry].red;
            to[1] = palette[entry].green;
            to[2] = palette[entry].blue;
            if (reader->channels == 4) to[3] = (alphas != NULL && entry < alphaCount) ? alphas[entry] : 255;
        }
        if (bitDepth < 8) png_set_packing(png);
        reader->indices = malloc((size_t)width);
        if (reader->indices == NULL) return shimFail(status, CPNGShims_failed, "out of memory");
    } else {
        int hasAlpha = (colorType & PNG_COLOR_MASK_ALPHA) != 0 || hasTransparency;
        if (bitDepth == 16) png_set_scale_16(png);
        if (bitDepth < 8) png_set_expand_gray_1_2_4_to_8(png);
        if (hasTransparency) png_set_tRNS_to_alpha(png);
        if ((colorType & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
        reader->channels = hasAlpha ? 4 : 3;
    }
    png_read_update_info(png, pngInfo);
    size_t expected = (size_t)width * (size_t)(reader->isPalette ? 1 : reader->channels);
    if (png_get_rowbytes(png, pngInfo) != expected) png_error(png, "unexpected row size after transforms");
    reader->width = (int)width;
    reader->height = (int)height;
    info->width = (int)width;
    info->height = (int)height;
    info->channels = reader->channels;
    return CPNGShims_ok;
}

/// The start both readers share: a reader over `data` with libpng's structures and the memory source set up.
/// The caller sets its own setjmp right after (a jump target must live in the function that uses it).
static int shimCreateReader(const unsigned char *data, size_t size, CPNGShims_Reader **result,
                            CPNGShims_Status *status) {
    status->warnings = 0;
    status->code = CPNGShims_ok;
    status->message[0] = 0;
    *result = NULL;
    if (data == NULL || size < 8) return shimFail(status, CPNGShims_failed, "no PNG data");
    CPNGShims_Reader *reader = calloc(1, sizeof(CPNGShims_Reader));
    if (reader == NULL) return shimFail(status, CPNGShims_failed, "out of memory");
    shimBegin(reader, status);
    reader->data = data;
    reader->size = size;
    reader->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, reader, shimError, shimWarning);
    if (reader->png == NULL) {
        free(reader);
        return shimFail(status, CPNGShims_failed, "png_create_read_struct failed");
    }
    reader->info = png_create_info_struct(reader->png);
    if (reader->info == NULL) {
        CPNGShims_close(reader);
        return shimFail(status, CPNGShims_failed, "png_create_info_struct failed");
    }
    png_set_read_fn(reader->png, reader, shimRead);
    // libpng 1.6.39's handlers of eXIf, sPLT, the text chunks, pCAL and sCAL allocate the chunk's declared length
    // before reading it: a 564-byte file declaring a 1.6 GB eXIf made it malloc 1.6 GB, and a 572-byte one declaring
    // a 1.3 GB sPLT did the same through the colour-management read (the PNGThumbnail fuzzer; png_set_chunk_malloc_max
    // does not stop these). picpipe needs none of them from libpng (it reads eXIf and text itself: PNGHeaderParser,
    // the metadata service), so libpng skips them, reading them through a small buffer like any unknown chunk.
    static const png_byte skipped[] = {
        'e', 'X', 'I', 'f', '\0', 's', 'P', 'L', 'T', '\0', 't', 'E', 'X', 't', '\0', 'z', 'T', 'X', 't', '\0',
        'i', 'T', 'X', 't', '\0', 'p', 'C', 'A', 'L', '\0', 's', 'C', 'A', 'L', '\0',
    };
    png_set_keep_unknown_chunks(reader->png, PNG_HANDLE_CHUNK_NEVER, skipped, (int)(sizeof(skipped) / 5));
    *result = reader;
    return CPNGShims_ok;
}

int CPNGShims_open(const unsigned char *data, size_t size, CPNGShims_Reader **result, CPNGShims_Info *info,
                   CPNGShims_Status *status) {
    int created = shimCreateReader(data, size, result, status);
    if (created != CPNGShims_ok) return created;
    CPNGShims_Reader *reader = *result;
    *result = NULL;
    if (setjmp(reader->jump)) {
        CPNGShims_close(reader);
        return status->code;
    }
    int code = shimConfigure(reader, info, status);
    if (code != CPNGShims_ok) {
        CPNGShims_close(reader);
        return code;
    }
    *result = reader;
    return CPNGShims_ok;
}

int CPNGShims_readRows(CPNGShims_Reader *reader, unsigned char *rows, int count, CPNGShims_Status *status) {
    if (reader == NULL || rows == NULL || count < 0) return shimFail(status, CPNGShims_failed, "invalid argument");
    shimBegin(reader, status);
    if (setjmp(reader->jump)) return status->code;
    size_t rowBytes = (size_t)reader->width * (size_t)reader->channels;
    for (int row = 0; row < count; row++) {
        unsigned char *out = rows + (size_t)row * rowBytes;
        if (!reader->isPalette) {
            png_read_row(reader->png, out, NULL);
            continue;
        }
        png_read_row(reader->png, reader->indices, NULL);
        const unsigned char *index = reader->indices;
        int channels = reader->channels;
        int highest = 0;
        for (int x = 0; x < reader->width; x++) {
            int value = index[x];
            if (value > highest) highest = value;
            memcpy(out + (size_t)x * channels, reader->table + value * channels, (size_t)channels);
        }
        if (highest >= reader->paletteEntries) {
            status->code = CPNGShims_badPaletteIndex;
            snprintf(status->message, sizeof(status->message),
                     "a pixel uses palette index %d but PLTE has %d entries", highest, reader->paletteEntries);
            return status->code;
        }
    }
    return CPNGShims_ok;
}

int CPNGShims_readICCProfile(const unsigned char *data, size_t size, unsigned char **profile, size_t *length,
                             CPNGShims_Status *status) {
    *profile = NULL;
    *length = 0;
    CPNGShims_Reader *reader = NULL;
    int created = shimCreateReader(data, size, &reader, status);
    if (created != CPNGShims_ok) return created;
    unsigned char *volatile copy = NULL;
    if (setjmp(reader->jump)) {
        free(copy);
        CPNGShims_close(reader);
        return status->code;
    }
    png_read_info(reader->png, reader->info);
    png_charp name = NULL;
    int compression = 0;
    png_bytep bytes = NULL;
    png_uint_32 count = 0;
    if (png_get_iCCP(reader->png, reader->info, &name, &compression, &bytes, &count) && bytes != NULL && count > 0) {
        copy = malloc(count);
        if (copy == NULL) {
            CPNGShims_close(reader);
            return shimFail(status, CPNGShims_failed, "out of memory");
        }
        memcpy(copy, bytes, count);
        *profile = copy;
        *length = count;
    }
    CPNGShims_close(reader);
    return CPNGShims_ok;
}

void CPNGShims_free(void *pointer) { free(pointer); }

const char *CPNGShims_zlibVersion(void) { return zlibVersion(); }
