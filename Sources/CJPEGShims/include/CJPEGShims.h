// CJPEGShims: libjpeg-turbo calls that own setjmp/longjmp, so a corrupt file becomes an error code and a
// message instead of exit() or text on stderr. Self-contained: Swift never needs jpeglib.h to call these.
#pragma once
#include <stddef.h>

/// Outcome codes of every CJPEGShims call.
enum {
    CJPEGShims_ok = 0,
    /// libjpeg raised an error (message holds its text).
    CJPEGShims_corrupt = 1,
    /// The data ended before the image did (libjpeg's "Premature end of JPEG file" warning).
    CJPEGShims_truncated = 2,
    /// libjpeg warned about damaged data (bad Huffman code, extraneous bytes, ...): rejected.
    CJPEGShims_corruptWarning = 3,
    /// The header declares more pixels than allowed.
    CJPEGShims_tooManyPixels = 4,
    /// The caller's output buffer is smaller than the decoded picture.
    CJPEGShims_bufferTooSmall = 5,
    /// Out of memory or an invalid argument.
    CJPEGShims_failed = 6,
    /// The progress callback asked the decode to stop (its owner cancelled it); everything it held is released.
    CJPEGShims_stopped = 7,
};

/// Options of the decode calls, or'd together.
enum {
    /// Read every scan of a progressive file, even at 1/8 where the first ones are enough.
    CJPEGShims_allScans = 1,
    /// Leave single-scan files to libjpeg-turbo's own entropy decoder instead of picpipe's (tests, benchmarks).
    CJPEGShims_libjpegEntropy = 2,
};

/// What the frame header says.
typedef struct CJPEGShims_Header {
    int width;
    int height;
    /// Number of components (1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK).
    int components;
    /// 1 when the file is progressive.
    int progressive;
} CJPEGShims_Header;

/// How a call ended: a code from the enum above and libjpeg's formatted message.
typedef struct CJPEGShims_Status {
    int code;
    /// Warnings seen before the call ended.
    int warnings;
    /// Which Huffman decoder decoded the picture (a CJPEGShims_entropy… value).
    int entropy;
    char message[160];
} CJPEGShims_Status;

/// CJPEGShims_Status.entropy.
enum {
    /// libjpeg-turbo's (progressive, arithmetic-coded, multi-scan and 12-bit files, or asked for).
    CJPEGShims_entropyLibjpeg = 0,
    /// picpipe's skipping decoder (SkippingEntropyDecoder.c).
    CJPEGShims_entropySkipping = 1,
    /// picpipe's declined the file (damaged or unusual data) and libjpeg-turbo's decoded it again.
    CJPEGShims_entropyDeclined = 2,
};

/// Reads the header only (no pixels). Returns the status code.
int CJPEGShims_readHeader(const unsigned char *data, size_t size, CJPEGShims_Header *header,
                          CJPEGShims_Status *status);

/// The output size libjpeg gives for a DCT scale of 1/scaleDenom (1, 2, 4 or 8).
void CJPEGShims_scaledSize(int width, int height, int scaleDenom, int *outWidth, int *outHeight);

/// Decodes to 8-bit interleaved RGB (gray and CMYK/YCCK converted) at a DCT scale of 1/scaleDenom.
/// `fast` trades a little quality for speed (merged upsampling, fast integer IDCT).
/// Any libjpeg warning aborts the decode: damaged data never becomes a grey or garbled thumbnail.
/// A progressive file at 1/8 scale is read only up to the scans that hold every coefficient the reduced inverse DCT
/// reads (luma DC, chroma low AC terms, at most their last bit missing); the later scans are checked for structure (whole segments, an EOI), not decoded, unless
/// `options` has CJPEGShims_allScans (then every scan is decoded, as for any other scale).
/// The Huffman data of a single-scan file is decoded by picpipe's decoder (same coefficients, several skipped AC
/// symbols a lookup where the reduced IDCT reads none; libjpeg-turbo decodes the file again when it declines),
/// unless `options` has CJPEGShims_libjpegEntropy.
/// `output` must hold outWidth * outHeight * 3 bytes for the scaled size (see CJPEGShims_scaledSize).
int CJPEGShims_decodeRGB(const unsigned char *data, size_t size, int scaleDenom, int fast, int options,
                         long long maxPixels, unsigned char *output, size_t capacity, int *outWidth, int *outHeight,
                         CJPEGShims_Status *status);

/// Called during a decode with the number of rows written to `output` so far (all of them before the decode returns
/// on success), so another thread may read those rows while later ones are decoded: after every band of up to 16
/// rows, and with an unchanged count while the scans of a multi-scan file are read in before the first row. Not
/// called after an error. Returning nonzero stops the decode: it returns CJPEGShims_stopped.
typedef int (*CJPEGShims_Progress)(void *context, int rows);

/// CJPEGShims_decodeRGB, reporting its progress to `progress` (NULL: none) as it goes.
int CJPEGShims_decodeRGBReporting(const unsigned char *data, size_t size, int scaleDenom, int fast, int options,
                                  long long maxPixels, unsigned char *output, size_t capacity, int *outWidth,
                                  int *outHeight, CJPEGShims_Status *status, CJPEGShims_Progress progress,
                                  void *context);

/// Decodes a CMYK or YCCK JPEG to 8-bit interleaved CMYK ink amounts (0 = no ink; the inverted storage of Adobe
/// files is undone), for an ICC transform. Same scaling, limits and warnings as CJPEGShims_decodeRGB.
/// `output` must hold outWidth * outHeight * 4 bytes. A JPEG that is not CMYK/YCCK fails (CJPEGShims_failed).
/// Reports its progress to `progress` (NULL: none) as CJPEGShims_decodeRGBReporting does.
int CJPEGShims_decodeCMYK(const unsigned char *data, size_t size, int scaleDenom, int fast, int options,
                          long long maxPixels, unsigned char *output, size_t capacity, int *outWidth, int *outHeight,
                          CJPEGShims_Status *status, CJPEGShims_Progress progress, void *context);

/// Encodes 8-bit interleaved RGB as a JFIF JPEG (4:2:0, optimised Huffman tables, no APP1/EXIF).
/// `iccProfile` (NULL for none) is written as APP2 ICC_PROFILE markers.
/// On success *output is a malloc'd buffer the caller releases with CJPEGShims_free.
int CJPEGShims_encodeRGB(const unsigned char *pixels, int width, int height, int quality, int progressive,
                         const unsigned char *iccProfile, unsigned int iccProfileSize, unsigned char **output,
                         unsigned long *outputSize, CJPEGShims_Status *status);

/// How CJPEGShims_encodeVariant lays a file out: what the decoders must handle beyond picpipe's own thumbnails.
typedef struct CJPEGShims_Variant {
    /// 1 (gray: `pixels` one byte a pixel) or 3 (YCbCr from RGB).
    int components;
    /// The luma's sampling factors (1-4; chroma is 1x1): 2x2 is 4:2:0, 2x1 4:2:2, 1x2 4:4:0, 4x1 4:1:1.
    int lumaH;
    int lumaV;
    /// MCUs between restart markers (0: none).
    int restartInterval;
    /// 1: optimised Huffman tables; 0: the standard ones (longer codes).
    int optimize;
    int quality;
} CJPEGShims_Variant;

/// Encodes `pixels` as a baseline JPEG laid out as `variant` says (for the tests of the decoders).
/// On success *output is a malloc'd buffer the caller releases with CJPEGShims_free.
int CJPEGShims_encodeVariant(const unsigned char *pixels, int width, int height, CJPEGShims_Variant variant,
                             unsigned char **output, unsigned long *outputSize, CJPEGShims_Status *status);

/// Releases a buffer returned by CJPEGShims_encodeRGB or CJPEGShims_encodeVariant.
void CJPEGShims_free(void *pointer);

/// libjpeg-turbo's version as the headers picpipe was built with say it (LIBJPEG_TURBO_VERSION_NUMBER, e.g.
/// 2001005 for 2.1.5), and the libjpeg API version (JPEG_LIB_VERSION, e.g. 62).
int CJPEGShims_turboVersionNumber(void);
int CJPEGShims_libVersion(void);
/// The address of a function of the linked libjpeg, to find which library file was loaded (dladdr).
const void *CJPEGShims_libraryAnchor(void);
