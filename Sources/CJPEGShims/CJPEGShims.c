// libjpeg-turbo behind setjmp/longjmp: every libjpeg error or warning returns here as a status code.
#include "CJPEGShims.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

// The error manager libjpeg calls; `jump` brings control back into the CJPEGShims function that owns it.
typedef struct ShimErrorManager {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    CJPEGShims_Status *status;
} ShimErrorManager;

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

static void shimInstall(ShimErrorManager *manager, CJPEGShims_Status *status) {
    jpeg_std_error(&manager->base);
    manager->base.error_exit = shimErrorExit;
    manager->base.emit_message = shimEmitMessage;
    manager->base.output_message = shimOutputMessage;
    manager->status = status;
    status->code = CJPEGShims_ok;
    status->warnings = 0;
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
static int shimDecode(const unsigned char *data, size_t size, int scaleDenom, int fast, long long maxPixels,
                      int inkOutput, unsigned char *output, size_t capacity, int *outWidth, int *outHeight,
                      CJPEGShims_Status *status) {
    struct jpeg_decompress_struct cinfo;
    ShimErrorManager manager;
    JSAMPLE *volatile cmykRows = NULL;
    shimInstall(&manager, status);
    cinfo.err = &manager.base;
    if (setjmp(manager.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(cmykRows);
        return status->code;
    }
    jpeg_create_decompress(&cinfo);
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
    jpeg_calc_output_dimensions(&cinfo);
    size_t rowBytes = (size_t)cinfo.output_width * (inkOutput ? 4 : 3);
    if (rowBytes * cinfo.output_height > capacity) {
        jpeg_destroy_decompress(&cinfo);
        return shimFail(status, CJPEGShims_bufferTooSmall, "output buffer too small for the decoded picture");
    }
    *outWidth = (int)cinfo.output_width;
    *outHeight = (int)cinfo.output_height;
    jpeg_start_decompress(&cinfo);
    if (isCMYK && !inkOutput) {
        cmykRows = malloc((size_t)cinfo.output_width * 4);
        if (cmykRows == NULL) {
            jpeg_destroy_decompress(&cinfo);
            return shimFail(status, CJPEGShims_failed, "out of memory");
        }
        while (cinfo.output_scanline < cinfo.output_height) {
            JSAMPROW row = cmykRows;
            unsigned char *target = output + rowBytes * cinfo.output_scanline;
            if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;
            shimConvertCMYK(cmykRows, target, cinfo.output_width, cinfo.saw_Adobe_marker);
        }
    } else {
        JSAMPROW rows[16];
        while (cinfo.output_scanline < cinfo.output_height) {
            JDIMENSION first = cinfo.output_scanline;
            JDIMENSION count = cinfo.output_height - first;
            if (count > 16) count = 16;
            for (JDIMENSION i = 0; i < count; i++) rows[i] = output + rowBytes * (first + i);
            JDIMENSION read = jpeg_read_scanlines(&cinfo, rows, count);
            if (read == 0) break;
            // Adobe (Photoshop) files store CMYK inverted: 255 is no ink. ICC profiles count ink from 0.
            if (inkOutput && cinfo.saw_Adobe_marker) {
                unsigned char *sample = output + rowBytes * first;
                for (size_t i = 0; i < rowBytes * read; i++) sample[i] = (unsigned char)(255 - sample[i]);
            }
        }
    }
    if (cinfo.output_scanline < cinfo.output_height) {
        jpeg_destroy_decompress(&cinfo);
        free(cmykRows);
        return shimFail(status, CJPEGShims_truncated, "decoder stopped before the last row");
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(cmykRows);
    return CJPEGShims_ok;
}

int CJPEGShims_decodeRGB(const unsigned char *data, size_t size, int scaleDenom, int fast, long long maxPixels,
                         unsigned char *output, size_t capacity, int *outWidth, int *outHeight,
                         CJPEGShims_Status *status) {
    return shimDecode(data, size, scaleDenom, fast, maxPixels, 0, output, capacity, outWidth, outHeight, status);
}

int CJPEGShims_decodeCMYK(const unsigned char *data, size_t size, int scaleDenom, int fast, long long maxPixels,
                          unsigned char *output, size_t capacity, int *outWidth, int *outHeight,
                          CJPEGShims_Status *status) {
    return shimDecode(data, size, scaleDenom, fast, maxPixels, 1, output, capacity, outWidth, outHeight, status);
}

int CJPEGShims_encodeRGB(const unsigned char *pixels, int width, int height, int quality, int progressive,
                         const unsigned char *iccProfile, unsigned int iccProfileSize, unsigned char **output,
                         unsigned long *outputSize, CJPEGShims_Status *status) {
    struct jpeg_compress_struct cinfo;
    ShimErrorManager manager;
    unsigned char *volatile buffer = NULL;
    unsigned long bufferSize = 0;
    shimInstall(&manager, status);
    *output = NULL;
    *outputSize = 0;
    if (width <= 0 || height <= 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION)
        return shimFail(status, CJPEGShims_failed, "invalid dimensions for JPEG");
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
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_EXT_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    // 4:2:0 chroma subsampling.
    cinfo.comp_info[0].h_samp_factor = 2;
    cinfo.comp_info[0].v_samp_factor = 2;
    cinfo.comp_info[1].h_samp_factor = 1;
    cinfo.comp_info[1].v_samp_factor = 1;
    cinfo.comp_info[2].h_samp_factor = 1;
    cinfo.comp_info[2].v_samp_factor = 1;
    cinfo.optimize_coding = TRUE;
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    // APP2 ICC_PROFILE markers, split into chunks and numbered by libjpeg-turbo.
    if (iccProfile != NULL && iccProfileSize > 0) jpeg_write_icc_profile(&cinfo, iccProfile, iccProfileSize);
    size_t rowBytes = (size_t)width * 3;
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
