// Little CMS 2 (lcms2): the pixel-format constants are built from function-like macros, which do not import into
// Swift, so the few picpipe uses are spelled out here.
#include <stddef.h>
#include <lcms2.h>

/// 8-bit RGB, 3 bytes a pixel.
static inline cmsUInt32Number CLCMS_typeRGB8(void) { return TYPE_RGB_8; }
/// 8-bit RGB with straight alpha, 4 bytes a pixel.
static inline cmsUInt32Number CLCMS_typeRGBA8(void) { return TYPE_RGBA_8; }
/// 8-bit CMYK ink amounts (0 = no ink), 4 bytes a pixel.
static inline cmsUInt32Number CLCMS_typeCMYK8(void) { return TYPE_CMYK_8; }
/// 8-bit gray, 1 byte a pixel.
static inline cmsUInt32Number CLCMS_typeGray8(void) { return TYPE_GRAY_8; }
/// 16-bit RGB, for reference conversions in tests.
static inline cmsUInt32Number CLCMS_typeRGB16(void) { return TYPE_RGB_16; }
/// 64-bit float RGB (0...1), for reference conversions in tests.
static inline cmsUInt32Number CLCMS_typeRGBDouble(void) { return TYPE_RGB_DBL; }
/// Gray read from the first byte of a pixel of `1 + extra` bytes (a gray picture expanded to RGB or RGBA).
static inline cmsUInt32Number CLCMS_typeGray8Extra(int extra) {
    return COLORSPACE_SH(PT_GRAY) | CHANNELS_SH(1) | BYTES_SH(1) | EXTRA_SH(extra);
}
