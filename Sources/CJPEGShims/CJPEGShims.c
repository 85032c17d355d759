// libjpeg-turbo behind setjmp/longjmp: every libjpeg error or warning returns here as a status code.
#include "CJPEGShims.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>

#include "SkippingEntropyDecoder.h"

// The error manager libjpeg calls; `jump` brings control back into the CJPEGShims function that owns it.
typedef struct ShimErrorManager {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    CJPEGShims_Status *status;
} ShimErrorManager;

// Internal status: picpipe's entropy decoder could not vouch for the file; decode it again with libjpeg-turbo's.
enum { shimDeclined = 100 };

static void shimDecline(j_decompress_ptr cinfo) {
    ShimErrorManager *manager = (ShimErrorManager *)cinfo->err;
    manager->status->code = shimDeclined;
    longjmp(manager->jump, 1);
}

static void shimRecordMessage(j_common_ptr cinfo, int code) {
    ShimErrorManager *manager = (ShimErrorManager *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    manager->status->code = code;
    snprintf(manager->status->message, sizeof(manager->status->message), "%s", buffer);
}

static void shimErrorExit(j_common_ptr cinfo) {
    shimRecordMessage(cinfo, CJPEGShims_corrupt);
    longjmp(((ShimErrorManager *)cinfo->err)->jump, 1);
}

// Warnings (level -1) mean damaged data: picpipe rejects them instead of thumbnailing a grey or garbled picture.
// Trace messages (level >= 0) are dropped: nothing is ever printed.
static void shimEmitMessage(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    ShimErrorManager *manager = (ShimErrorManager *)cinfo->err;
    manager->status->warnings += 1;
    int code = cinfo->err->msg_code == JWRN_JPEG_EOF ? CJPEGShims_truncated : CJPEGShims_corruptWarning;
    shimRecordMessage(cinfo, code);
    longjmp(manager->jump, 1);
}

static void shimOutputMessage(j_common_ptr cinfo) { (void)cinfo; }

// The caller's progress callback asked the decode to stop: back to the setjmp, which releases what it holds.
static void shimStop(ShimErrorManager *manager) {
    manager->status->code = CJPEGShims_stopped;
    snprintf(manager->status->message, sizeof(manager->status->message), "%s", "stopped by the caller");
    longjmp(manager->jump, 1);
}

// libjpeg's progress monitor, installed while the scans of a multi-scan file are read in (jpeg_start_decompress
// reads them all before the first row comes out): the caller's callback may stop the decode there too.
typedef struct ShimProgressMonitor {
    struct jpeg_progress_mgr base;
    ShimErrorManager *manager;
    CJPEGShims_Progress progress;
    void *context;
    int rows;
} ShimProgressMonitor;

static void shimMonitorProgress(j_common_ptr cinfo) {
    ShimProgressMonitor *monitor = (ShimProgressMonitor *)cinfo->progress;
    if (monitor->progress(monitor->context, monitor->rows)) shimStop(monitor->manager);
}

static void shimInstall(ShimErrorManager *manager, CJPEGShims_Status *status) {
    jpeg_std_error(&manager->base);
    manager->base.error_exit = shimErrorExit;
    manager->base.emit_message = shimEmitMessage;
    manager->base.output_message = shimOutputMessage;
    manager->status = status;
    status->code = CJPEGShims_ok;
    status->warnings = 0;
    status->entropy = CJPEGShims_entropyLibjpeg;
    status->message[0] = 0;
}

static int shimFail(CJPEGShims_Status *status, int code, const char *message) {
    status->code = code;
    snprintf(status->message, sizeof(status->message), "%s", message);
    return code;
}

int CJPEGShims_readHeader(const unsigned char *data, size_t size, CJPEGShims_Header *header,
                          CJPEGShims_Status *status) {
    struct jpeg_decompress_struct cinfo;
    ShimErrorManager manager;
    shimInstall(&manager, status);
    cinfo.err = &manager.base;
    if (setjmp(manager.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return status->code;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    header->width = (int)cinfo.image_width;
    header->height = (int)cinfo.image_height;
    header->components = cinfo.num_components;
    header->progressive = cinfo.progressive_mode ? 1 : 0;
    jpeg_destroy_decompress(&cinfo);
    return CJPEGShims_ok;
}

static int divideRoundingUp(long long value, int divisor) { return (int)((value + divisor - 1) / divisor); }

void CJPEGShims_scaledSize(int width, int height, int scaleDenom, int *outWidth, int *outHeight) {
    *outWidth = divideRoundingUp(width, scaleDenom);
    *outHeight = divideRoundingUp(height, scaleDenom);
}

// Zigzag position of each natural-order (row * 8 + column) coefficient: progressive scans name zigzag bands.
static const int shimZigzagIndex[64] = {
    0,  1,  5,  6,  14, 15, 27, 28, 2,  4,  7,  13, 16, 26, 29, 42, 3,  8,  12, 17, 25, 30, 41, 43,
    9,  11, 18, 24, 31, 40, 44, 53, 10, 19, 23, 32, 39, 45, 52, 54, 20, 22, 33, 38, 46, 51, 55, 60,
    21, 34, 37, 47, 50, 56, 59, 61, 35, 36, 48, 49, 57, 58, 62, 63};

// Whether libjpeg-turbo's reduced inverse DCT of `size` x `size` outputs reads the coefficient at (row, column):
// 1x1 reads only DC, 2x2 rows and columns 0, 1, 3, 5, 7, 4x4 all but row and column 4 (jidctred.c).
static int shimIDCTReads(int size, int row, int column) {
    switch (size) {
    case 1: return row == 0 && column == 0;
    case 2: return (row == 0 || row % 2 == 1) && (column == 0 || column % 2 == 1);
    case 4: return row != 4 && column != 4;
    default: return 1;
    }
}

// Whether the scans read so far hold every coefficient the output reads, each component at its own reduced DCT
// size (libjpeg-turbo scales subsampled chroma with a larger IDCT instead of upsampling it), with at most
// `maxLowBits` low bits still to come. At 1/8 that is the luma's DC terms and the chroma's AC terms at half
// precision: in jpegtran's script the first 4 scans of 10, before the refinements that hold most of the bytes.
// With one low bit missing, a 1/8 decode of the 12 MP bench photos stays at PSNR 47 dB of the full one at q90,
// 37.7 dB at q50. (Written for any reduced size; used at 1/8 only, see shimDecode.)
static int shimScansReady(const struct jpeg_decompress_struct *cinfo, int maxLowBits) {
    if (cinfo->coef_bits == NULL) return 0;
    for (int c = 0; c < cinfo->num_components; c++) {
        const jpeg_component_info *component = &cinfo->comp_info[c];
#if JPEG_LIB_VERSION >= 70
        int size = component->DCT_h_scaled_size;
#else
        int size = component->DCT_scaled_size;
#endif
        const int *bits = cinfo->coef_bits[component->component_index];
        for (int row = 0; row < 8; row++) {
            for (int column = 0; column < 8; column++) {
                if (!shimIDCTReads(size, row, column)) continue;
                int known = bits[shimZigzagIndex[row * 8 + column]];
                if (known < 0 || known > maxLowBits) return 0;
            }
        }
    }
    return 1;
}

// The scans after the ones a thumbnail read are not decoded, so their structure is checked here instead, the
// cheap way: every marker segment whole, entropy-coded data that reaches a marker, and an EOI before the data
// ends. A truncated or cut-short file is still refused as the full decode refuses it.
static int shimCheckStructure(const unsigned char *data, size_t size, CJPEGShims_Status *status) {
    if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return shimFail(status, CJPEGShims_corrupt, "no SOI marker");
    size_t at = 2;
    for (;;) {
        if (at >= size) break;
        if (data[at] != 0xFF)
            return shimFail(status, CJPEGShims_corruptWarning, "Corrupt JPEG data: extraneous bytes before marker");
        while (at < size && data[at] == 0xFF) at++;
        if (at >= size) break;
        unsigned char marker = data[at++];
        if (marker == 0xD9) return CJPEGShims_ok;
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
        if (at + 2 > size) break;
        size_t length = ((size_t)data[at] << 8) | data[at + 1];
        if (length < 2) return shimFail(status, CJPEGShims_corrupt, "Bogus marker length");
        if (at + length > size) break;
        at += length;
        if (marker != 0xDA) continue;
        // Entropy-coded data: runs until a 0xFF that is neither a stuffed 0x00, a restart marker nor fill.
        for (;;) {
            const unsigned char *next = memchr(data + at, 0xFF, size - at);
            if (next == NULL) { at = size; break; }
            at = (size_t)(next - data);
            if (at + 1 >= size) { at = size; break; }
            unsigned char following = data[at + 1];
            if (following == 0x00 || (following >= 0xD0 && following <= 0xD7)) { at += 2; continue; }
            if (following == 0xFF) { at += 1; continue; }
            break;
        }
    }
    return shimFail(status, CJPEGShims_truncated, "Premature end of JPEG file");
}

// CMYK from Adobe files is stored inverted (0 = full ink); plain CMYK is not.
static void shimConvertCMYK(const JSAMPLE *cmyk, unsigned char *rgb, JDIMENSION width, int inverted) {
    for (JDIMENSION x = 0; x < width; x++) {
        unsigned c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];
        if (!inverted) {
            c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k;
        }
        rgb[0] = (unsigned char)((c * k + 127) / 255);
        rgb[1] = (unsigned char)((m * k + 127) / 255);
        rgb[2] = (unsigned char)((y * k + 127) / 255);
        cmyk += 4;
        rgb += 3;
    }
}

// Decodes to RGB (`inkOutput` 0: gray and CMYK/YCCK converted) or, for CMYK/YCCK files, to CMYK ink amounts
// (`inkOutput` 1: 4 bytes a pixel, 0 = no ink, Adobe's inverted storage undone) for an ICC transform.
// `skipping` 1 lets picpipe's entropy decoder take single-scan files (SkippingEntropyDecoder.c); when it declines,
// shimDecode decodes again with libjpeg-turbo's. Rows below `*reportedRows` were reported to `progress` by a
// declined attempt and may be being read: they are decoded into scratch rows (they would be the same bytes), and
// *reportedRows grows as rows are reported.
static int shimDecodeOnce(const unsigned char *data, size_t size, int scaleDenom, int fast, int allScans,
                          long long maxPixels, int inkOutput, unsigned char *output, size_t capacity, int *outWidth,
                          int *outHeight, CJPEGShims_Status *status, CJPEGShims_Progress progress, void *context,
                          int skipping, int *reportedRows) {
    struct jpeg_decompress_struct cinfo;
    ShimErrorManager manager;
    ShimProgressMonitor monitor;
    JSAMPLE *volatile cmykRows = NULL;
    unsigned char *volatile scratchRows = NULL;
    SkippingEntropyDecoder *volatile skipper = NULL;
    shimInstall(&manager, status);
    cinfo.err = &manager.base;
    if (setjmp(manager.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(cmykRows);
        free(scratchRows);
        skippingEntropyFree(skipper);
        return status->code;
    }
    jpeg_create_decompress(&cinfo);
    if (progress != NULL) {
        memset(&monitor, 0, sizeof(monitor));
        monitor.base.progress_monitor = shimMonitorProgress;
        monitor.manager = &manager;
        monitor.progress = progress;
        monitor.context = context;
        monitor.rows = *reportedRows;
        cinfo.progress = &monitor.base;
    }
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if ((long long)cinfo.image_width * (long long)cinfo.image_height > maxPixels) {
        jpeg_destroy_decompress(&cinfo);
        return shimFail(status, CJPEGShims_tooManyPixels, "image declares more pixels than allowed");
    }
    int isCMYK = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    if (inkOutput && !isCMYK) {
        jpeg_destroy_decompress(&cinfo);
        return shimFail(status, CJPEGShims_failed, "CMYK output asked of a JPEG that is not CMYK or YCCK");
    }
    cinfo.out_color_space = isCMYK ? JCS_CMYK : JCS_EXT_RGB;
    cinfo.scale_num = 1;
    cinfo.scale_denom = (unsigned)(scaleDenom == 2 || scaleDenom == 4 || scaleDenom == 8 ? scaleDenom : 1);
    if (fast) {
        cinfo.do_fancy_upsampling = FALSE;
        cinfo.dct_method = JDCT_IFAST;
    }
    // A progressive file decoded at 1/8 needs only its first scans (see shimScansReady): buffered-image mode stops
    // reading there. At 1/4 and 1/2 the last bit of the AC terms matters too much (PSNR 33.7 dB at q50 against the
    // full decode at 1/4, in ProgressiveDecodeTests), so every scan is read, as at full size.
    int earlyStop = cinfo.progressive_mode && cinfo.scale_denom == 8 && !allScans;
    if (earlyStop) {
        cinfo.buffered_image = TRUE;
        cinfo.do_block_smoothing = FALSE;  // it guesses missing AC terms; the ones the output reads are all there
    }
    jpeg_calc_output_dimensions(&cinfo);
    size_t rowBytes = (size_t)cinfo.output_width * (inkOutput ? 4 : 3);
    if (rowBytes * cinfo.output_height > capacity) {
        jpeg_destroy_decompress(&cinfo);
        return shimFail(status, CJPEGShims_bufferTooSmall, "output buffer too small for the decoded picture");
    }
    *outWidth = (int)cinfo.output_width;
    *outHeight = (int)cinfo.output_height;
    jpeg_start_decompress(&cinfo);
    if (skipping && !earlyStop) skipper = skippingEntropyInstall(&cinfo, data, size, shimDecline);
    status->entropy = skipper != NULL ? CJPEGShims_entropySkipping : CJPEGShims_entropyLibjpeg;
    if (earlyStop) {
        int result;
        do {
            result = jpeg_consume_input(&cinfo);
            if (progress != NULL && progress(context, *reportedRows)) shimStop(&manager);
            if (result == JPEG_SUSPENDED) {
                jpeg_destroy_decompress(&cinfo);
                return shimFail(status, CJPEGShims_truncated, "Premature end of JPEG file");
            }
        } while (result != JPEG_REACHED_EOI && !(result == JPEG_SCAN_COMPLETED && shimScansReady(&cinfo, 1)));
        if (result != JPEG_REACHED_EOI) {
            int checked = shimCheckStructure(data, size, status);
            if (checked != CJPEGShims_ok) {
                jpeg_destroy_decompress(&cinfo);
                return checked;
            }
        }
        jpeg_start_output(&cinfo, cinfo.input_scan_number);
    }
    // From here on the row loops below report every band themselves.
    cinfo.progress = NULL;
    if (*reportedRows > 0) {
        scratchRows = malloc(rowBytes * 16);
        if (scratchRows == NULL) {
            jpeg_destroy_decompress(&cinfo);
            skippingEntropyFree(skipper);
            return shimFail(status, CJPEGShims_failed, "out of memory");
        }
    }
    if (isCMYK && !inkOutput) {
        cmykRows = malloc((size_t)cinfo.output_width * 4);
        if (cmykRows == NULL) {
            jpeg_destroy_decompress(&cinfo);
            free(scratchRows);
            skippingEntropyFree(skipper);
            return shimFail(status, CJPEGShims_failed, "out of memory");
        }
        while (cinfo.output_scanline < cinfo.output_height) {
            JSAMPROW row = cmykRows;
            JDIMENSION line = cinfo.output_scanline;
            unsigned char *target = (int)line < *reportedRows ? scratchRows : output + rowBytes * line;
            if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;
            shimConvertCMYK(cmykRows, target, cinfo.output_width, cinfo.saw_Adobe_marker);
            if (progress != NULL && (cinfo.output_scanline % 16 == 0 || cinfo.output_scanline == cinfo.output_height)
                && (int)cinfo.output_scanline > *reportedRows) {
                *reportedRows = (int)cinfo.output_scanline;
                if (progress(context, *reportedRows)) shimStop(&manager);
            }
        }
    } else {
        JSAMPROW rows[16];
        while (cinfo.output_scanline < cinfo.output_height) {
            JDIMENSION first = cinfo.output_scanline;
            JDIMENSION count = cinfo.output_height - first;
            if (count > 16) count = 16;
            for (JDIMENSION i = 0; i < count; i++)
                rows[i] = (int)(first + i) < *reportedRows ? scratchRows + rowBytes * i : output + rowBytes * (first + i);
            JDIMENSION read = jpeg_read_scanlines(&cinfo, rows, count);
            if (read == 0) break;
            // Adobe (Photoshop) files store CMYK inverted: 255 is no ink. ICC profiles count ink from 0.
            if (inkOutput && cinfo.saw_Adobe_marker) {
                for (JDIMENSION i = 0; i < read; i++)
                    for (size_t x = 0; x < rowBytes; x++) rows[i][x] = (unsigned char)(255 - rows[i][x]);
            }
            if (progress != NULL && (int)cinfo.output_scanline > *reportedRows) {
                *reportedRows = (int)cinfo.output_scanline;
                if (progress(context, *reportedRows)) shimStop(&manager);
            }
        }
    }
    if (cinfo.output_scanline < cinfo.output_height) {
        jpeg_destroy_decompress(&cinfo);
        free(cmykRows);
        free(scratchRows);
        skippingEntropyFree(skipper);
        return shimFail(status, CJPEGShims_truncated, "decoder stopped before the last row");
    }
    if (earlyStop) {
        // The later scans are not decoded (their structure was checked above): abort, not finish.
        jpeg_finish_output(&cinfo);
        jpeg_abort_decompress(&cinfo);
    } else {
        jpeg_finish_decompress(&cinfo);
    }
    jpeg_destroy_decompress(&cinfo);
    free(cmykRows);
    free(scratchRows);
    skippingEntropyFree(skipper);
    return CJPEGShims_ok;
}

static int shimDecode(const unsigned char *data, size_t size, int scaleDenom, int fast, int options,
                      long long maxPixels, int inkOutput, unsigned char *output, size_t capacity, int *outWidth,
                      int *outHeight, CJPEGShims_Status *status, CJPEGShims_Progress progress, void *context) {
    int reportedRows = 0;
    int allScans = (options & CJPEGShims_allScans) != 0;
    int skipping = (options & CJPEGShims_libjpegEntropy) == 0;
    int code = shimDecodeOnce(data, size, scaleDenom, fast, allScans, maxPixels, inkOutput, output, capacity, outWidth,
                              outHeight, status, progress, context, skipping, &reportedRows);
    if (code != shimDeclined) return code;
    code = shimDecodeOnce(data, size, scaleDenom, fast, allScans, maxPixels, inkOutput, output, capacity, outWidth,
                          outHeight, status, progress, context, 0, &reportedRows);
    status->entropy = CJPEGShims_entropyDeclined;
    return code;
}

int CJPEGShims_decodeRGB(const unsigned char *data, size_t size, int scaleDenom, int fast, int options,
                         long long maxPixels, unsigned char *output, size_t capacity, int *outWidth, int *outHeight,
                         CJPEGShims_Status *status) {
    return shimDecode(data, size, scaleDenom, fast, options, maxPixels, 0, output, capacity, outWidth, outHeight, status,
                      NULL, NULL);
}

int CJPEGShims_decodeRGBReporting(const unsigned char *data, size_t size, int scaleDenom, int fast, int options,
                                  long long maxPixels, unsigned char *output, size_t capacity, int *outWidth,
                                  int *outHeight, CJPEGShims_Status *status, CJPEGShims_Progress progress,
                                  void *context) {
    return shimDecode(data, size, scaleDenom, fast, options, maxPixels, 0, output, capacity, outWidth, outHeight, status,
                      progress, context);
}

int CJPEGShims_decodeCMYK(const unsigned char *data, size_t size, int scaleDenom, int fast, int options,
                          long long maxPixels, unsigned char *output, size_t capacity, int *outWidth, int *outHeight,
                          CJPEGShims_Status *status, CJPEGShims_Progress progress, void *context) {
    return shimDecode(data, size, scaleDenom, fast, options, maxPixels, 1, output, capacity, outWidth, outHeight, status,
                      progress, context);
}

// Encodes `pixels` laid out as `variant` says; progressive and with an ICC profile when asked.
static int shimEncode(const unsigned char *pixels, int width, int height, CJPEGShims_Variant variant, int progressive,
                      const unsigned char *iccProfile, unsigned int iccProfileSize, unsigned char **output,
                      unsigned long *outputSize, CJPEGShims_Status *status) {
    struct jpeg_compress_struct cinfo;
    ShimErrorManager manager;
    unsigned char *volatile buffer = NULL;
    unsigned long bufferSize = 0;
    shimInstall(&manager, status);
    *output = NULL;
    *outputSize = 0;
    if (width <= 0 || height <= 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION ||
        (variant.components != 1 && variant.components != 3))
        return shimFail(status, CJPEGShims_failed, "invalid dimensions or components for JPEG");
    cinfo.err = &manager.base;
    if (setjmp(manager.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return status->code;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, &bufferSize);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = variant.components;
    cinfo.in_color_space = variant.components == 1 ? JCS_GRAYSCALE : JCS_EXT_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, variant.quality, TRUE);
    cinfo.comp_info[0].h_samp_factor = variant.lumaH;
    cinfo.comp_info[0].v_samp_factor = variant.lumaV;
    for (int c = 1; c < cinfo.num_components; c++) {
        cinfo.comp_info[c].h_samp_factor = 1;
        cinfo.comp_info[c].v_samp_factor = 1;
    }
    cinfo.restart_interval = (unsigned)variant.restartInterval;
    cinfo.optimize_coding = variant.optimize ? TRUE : FALSE;
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    // APP2 ICC_PROFILE markers, split into chunks and numbered by libjpeg-turbo.
    if (iccProfile != NULL && iccProfileSize > 0) jpeg_write_icc_profile(&cinfo, iccProfile, iccProfileSize);
    size_t rowBytes = (size_t)width * (size_t)variant.components;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + rowBytes * cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *output = buffer;
    *outputSize = bufferSize;
    return CJPEGShims_ok;
}

int CJPEGShims_encodeRGB(const unsigned char *pixels, int width, int height, int quality, int progressive,
                         const unsigned char *iccProfile, unsigned int iccProfileSize, unsigned char **output,
                         unsigned long *outputSize, CJPEGShims_Status *status) {
    // 4:2:0 chroma subsampling, optimised Huffman tables.
    CJPEGShims_Variant thumbnail = {3, 2, 2, 0, 1, quality};
    return shimEncode(pixels, width, height, thumbnail, progressive, iccProfile, iccProfileSize, output, outputSize,
                      status);
}

int CJPEGShims_encodeVariant(const unsigned char *pixels, int width, int height, CJPEGShims_Variant variant,
                             unsigned char **output, unsigned long *outputSize, CJPEGShims_Status *status) {
    return shimEncode(pixels, width, height, variant, 0, NULL, 0, output, outputSize, status);
}

void CJPEGShims_free(void *pointer) { free(pointer); }

int CJPEGShims_turboVersionNumber(void) {
#ifdef LIBJPEG_TURBO_VERSION_NUMBER
    return LIBJPEG_TURBO_VERSION_NUMBER;
#else
    return 0;
#endif
}

int CJPEGShims_libVersion(void) { return JPEG_LIB_VERSION; }

const void *CJPEGShims_libraryAnchor(void) { return (const void *)&jpeg_std_error; }
