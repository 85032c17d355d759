// libpng's simplified API; compound format constants and size macros do not import into Swift.
#include <png.h>

static inline png_uint_32 CPNG_formatRGBA(void) { return PNG_FORMAT_RGBA; }
static inline png_uint_32 CPNG_formatRGB(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 CPNG_formatGray(void) { return PNG_FORMAT_GRAY; }
static inline png_uint_32 CPNG_formatFlagAlpha(void) { return PNG_FORMAT_FLAG_ALPHA; }
static inline png_uint_32 CPNG_formatFlagColor(void) { return PNG_FORMAT_FLAG_COLOR; }
static inline png_uint_32 CPNG_formatFlagColormap(void) { return PNG_FORMAT_FLAG_COLORMAP; }
static inline png_uint_32 CPNG_formatFlagLinear(void) { return PNG_FORMAT_FLAG_LINEAR; }
static inline png_uint_32 CPNG_imageVersion(void) { return PNG_IMAGE_VERSION; }
