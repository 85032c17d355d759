// libpng's classic reader behind setjmp/longjmp: every libpng error returns here as a status code, warnings are
// counted, nothing is ever printed.
#include "CPNGShims.h"

#include <setjmp.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <png.h>
#include <zlib.h>

/// A piece of the byte stream libpng reads when the image data was inflated ahead: the file's own bytes, the
/// inflated rows, or a header made here.
typedef struct CPNGShims_Segment {
    const unsigned char *bytes;
    size_t length;
} CPNGShims_Segment;

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
    /// Set by shimPreinflate: libpng reads `segments` (from `segment`, `segmentOffset`) instead of `data`.
    unsigned char *inflated;
    size_t inflatedSize;
    unsigned char *headers;
    CPNGShims_Segment *segments;
    size_t segmentCount;
    size_t segment;
    size_t segmentOffset;
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
    if (reader->segments == NULL) {
        if (length > reader->size - reader->offset) png_error(png, "the PNG data ends inside a chunk");
        memcpy(out, reader->data + reader->offset, length);
        reader->offset += length;
        return;
    }
    while (length > 0) {
        if (reader->segment >= reader->segmentCount) png_error(png, "the PNG data ends inside a chunk");
        const CPNGShims_Segment *piece = &reader->segments[reader->segment];
        size_t left = piece->length - reader->segmentOffset;
        size_t take = left < length ? left : length;
        memcpy(out, piece->bytes + reader->segmentOffset, take);
        out += take;
        length -= take;
        reader->segmentOffset += take;
        if (reader->segmentOffset == piece->length) {
            reader->segment += 1;
            reader->segmentOffset = 0;
        }
    }
}

static uint32_t shimU32(const unsigned char *bytes) {
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | (uint32_t)bytes[3];
}

/// A buffer for the inflated rows (or the joined IDAT data) straight from the kernel, and back to it when freed:
/// from malloc, glibc raised its mmap threshold after the first such buffer was freed and kept the next ones in its
/// arenas, one per thread, so a batch's peak RSS grew by several pictures' rows (87 MiB instead of 50 on 3 MP RGB).
/// Huge pages where the kernel allows them (transparent_hugepage "madvise"): 4 KiB pages cost one fault each, and
/// faulting 9 MB in that way took more than the libdeflate inflate saved.
static unsigned char *shimMap(size_t size) {
    void *bytes = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (bytes == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(bytes, size, MADV_HUGEPAGE);
#endif
    return (unsigned char *)bytes;
}

static void shimUnmap(unsigned char *bytes, size_t size) {
    if (bytes != NULL) munmap(bytes, size);
}

/// The most filtered-row bytes inflated ahead (16 MP of RGBA): a larger picture is left to libpng's streaming, which
/// holds no whole raster, so the early inflate adds at most this and the joined IDAT data to a decode's memory.
#define CPNGShims_preinflateLimit ((size_t)64 << 20)

/// Inflates the image data with libdeflate and sets libpng up to read it back as stored deflate blocks (see
/// CPNGShims_open). Returns 1 when it did; 0 leaves the reader as it was, for libpng to read the file itself.
static int shimPreinflate(CPNGShims_Reader *reader) {
    const unsigned char *data = reader->data;
    size_t size = reader->size;
    static const unsigned char signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (size < 8 + 25 || memcmp(data, signature, 8) != 0) return 0;
    if (shimU32(data + 8) != 13 || memcmp(data + 12, "IHDR", 4) != 0) return 0;
    const unsigned char *ihdr = data + 16;
    uint32_t width = shimU32(ihdr), height = shimU32(ihdr + 4);
    int colorType = ihdr[9];
    int channels = colorType == 0 ? 1 : colorType == 2 ? 3 : colorType == 4 ? 2 : colorType == 6 ? 4 : 0;
    // 8-bit, not interlaced, deflate with adaptive filtering: the only rows this lays out.
    if (channels == 0 || ihdr[8] != 8 || ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] != 0) return 0;
    if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu) return 0;
    size_t rowBytes = (size_t)width * (size_t)channels + 1;  // the filter byte, then the samples
    if ((size_t)height > CPNGShims_preinflateLimit / rowBytes) return 0;
    size_t rawSize = rowBytes * (size_t)height;

    // Every critical chunk must have its CRC (libpng is then told not to check them again), and the IDAT chunks
    // must follow each other; ancillary chunks stay libpng's to check.
    size_t offset = 8, idatStart = 0, idatEnd = 0, compressed = 0, idatChunks = 0;
    int idatOver = 0, ended = 0;
    while (!ended && offset + 12 <= size) {
        uint32_t length = shimU32(data + offset);
        if (length > 0x7fffffffu || length > size - offset - 12) return 0;
        const unsigned char *type = data + offset + 4;
        int critical = (type[0] & 0x20) == 0;
        if (critical && (uint32_t)libdeflate_crc32(0, type, 4 + (size_t)length) != shimU32(type + 4 + length)) return 0;
        if (memcmp(type, "IDAT", 4) == 0) {
            if (idatOver) return 0;
            if (idatChunks == 0) idatStart = offset;
            idatChunks += 1;
            compressed += length;
            idatEnd = offset + 12 + length;
        } else if (idatChunks > 0) {
            idatOver = 1;
        }
        ended = memcmp(type, "IEND", 4) == 0;
        offset += 12 + (size_t)length;
    }
    if (!ended || idatChunks == 0 || compressed < 6) return 0;

    // One zlib stream: the IDAT payloads joined when there are several.
    unsigned char *joined = NULL;
    const unsigned char *stream = data + idatStart + 8;
    if (idatChunks > 1) {
        joined = shimMap(compressed);
        if (joined == NULL) return 0;
        size_t at = 0;
        for (size_t chunk = idatStart; chunk < idatEnd;) {
            uint32_t length = shimU32(data + chunk);
            memcpy(joined + at, data + chunk + 8, length);
            at += length;
            chunk += 12 + (size_t)length;
        }
        stream = joined;
    }
    unsigned char *inflated = shimMap(rawSize);
    struct libdeflate_decompressor *decompressor = libdeflate_alloc_decompressor();
    size_t consumed = 0, produced = 0;
    enum libdeflate_result result = LIBDEFLATE_BAD_DATA;
    if (inflated != NULL && decompressor != NULL) {
        result = libdeflate_zlib_decompress_ex(decompressor, stream, compressed, inflated, rawSize, &consumed,
                                               &produced);
    }
    if (decompressor != NULL) libdeflate_free_decompressor(decompressor);
    // Exactly the rows, and nothing after the stream (libpng warns about extra data; that stays its call).
    if (result != LIBDEFLATE_SUCCESS || produced != rawSize || consumed != compressed) {
        shimUnmap(joined, compressed);
        shimUnmap(inflated, rawSize);
        return 0;
    }

    // libpng reads: the file up to the first IDAT, one IDAT of stored blocks, the file after the last IDAT.
    size_t blocks = (rawSize + 65534) / 65535;
    size_t zlibLength = 2 + blocks * 5 + rawSize + 4;
    size_t segmentCount = 2 + 2 * blocks + 2;
    unsigned char *headers = malloc(10 + blocks * 5 + 8);
    CPNGShims_Segment *segments = malloc(segmentCount * sizeof(CPNGShims_Segment));
    if (zlibLength > 0x7fffffffu || headers == NULL || segments == NULL) {
        shimUnmap(joined, compressed);
        shimUnmap(inflated, rawSize);
        free(headers);
        free(segments);
        return 0;
    }
    unsigned char *header = headers;
    header[0] = (unsigned char)(zlibLength >> 24);
    header[1] = (unsigned char)(zlibLength >> 16);
    header[2] = (unsigned char)(zlibLength >> 8);
    header[3] = (unsigned char)zlibLength;
    memcpy(header + 4, "IDAT", 4);
    header[8] = 0x78;  // zlib: deflate, 32 KiB window, no dictionary
    header[9] = 0x01;
    size_t count = 0;
    segments[count++] = (CPNGShims_Segment){data, idatStart};
    segments[count++] = (CPNGShims_Segment){header, 10};
    header += 10;
    for (size_t block = 0; block < blocks; block++) {
        size_t start = block * 65535;
        size_t length = rawSize - start < 65535 ? rawSize - start : 65535;
        header[0] = block + 1 == blocks ? 1 : 0;  // BFINAL on the last; BTYPE 00, stored
        header[1] = (unsigned char)length;
        header[2] = (unsigned char)(length >> 8);
        header[3] = (unsigned char)~length;
        header[4] = (unsigned char)(~length >> 8);
        segments[count++] = (CPNGShims_Segment){header, 5};
        segments[count++] = (CPNGShims_Segment){inflated + start, length};
        header += 5;
    }
    // The stream's Adler-32 (the same rows, so the same sum), then a CRC libpng is told not to check.
    memcpy(header, stream + consumed - 4, 4);
    memset(header + 4, 0, 4);
    segments[count++] = (CPNGShims_Segment){header, 8};
    segments[count++] = (CPNGShims_Segment){data + idatEnd, size - idatEnd};
    shimUnmap(joined, compressed);

    reader->inflated = inflated;
    reader->inflatedSize = rawSize;
    reader->headers = headers;
    reader->segments = segments;
    reader->segmentCount = count;
    reader->segment = 0;
    reader->segmentOffset = 0;
    // Checked above: critical CRCs here, Adler-32 by libdeflate. zlib only copies the stored blocks.
    png_set_crc_action(reader->png, PNG_CRC_QUIET_USE, PNG_CRC_DEFAULT);
    png_set_option(reader->png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
    return 1;
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
    shimUnmap(reader->inflated, reader->inflatedSize);
    free(reader->headers);
    free(reader->segments);
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

int CPNGShims_open(const unsigned char *data, size_t size, int preinflate, CPNGShims_Reader **result,
                   CPNGShims_Info *info, CPNGShims_Status *status) {
    info->preinflated = 0;
    int created = shimCreateReader(data, size, result, status);
    if (created != CPNGShims_ok) return created;
    CPNGShims_Reader *reader = *result;
    *result = NULL;
    if (preinflate) info->preinflated = shimPreinflate(reader);
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

const char *CPNGShims_libdeflateVersion(void) { return LIBDEFLATE_VERSION_STRING; }
