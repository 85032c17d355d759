// CPNGShims: libpng's classic row-by-row reader behind setjmp/longjmp, so a damaged file becomes an error code
// and a message instead of text on stderr. Self-contained: Swift never needs png.h to call these.
#pragma once
#include <stddef.h>

/// Outcome codes of every CPNGShims call.
enum {
    CPNGShims_ok = 0,
    /// libpng raised an error (message holds its text).
    CPNGShims_corrupt = 1,
    /// A pixel uses a palette index past the end of PLTE.
    CPNGShims_badPaletteIndex = 2,
    /// The file needs the full (simplified API) decoder: interlaced, or a gAMA that is not sRGB's.
    CPNGShims_unsupported = 3,
    /// Out of memory or an invalid argument.
    CPNGShims_failed = 4,
};

/// What the reader delivers: every row is `width * channels` 8-bit samples (RGB, or RGBA when `channels` is 4).
typedef struct CPNGShims_Info {
    int width;
    int height;
    /// 3 (RGB) or 4 (RGBA: the file has an alpha channel or tRNS).
    int channels;
    /// 1 when libdeflate inflated the image data ahead of libpng (see CPNGShims_open), 0 when libpng inflates it.
    int preinflated;
} CPNGShims_Info;

/// How a call ended: a code from the enum above, the warnings libpng gave so far, and its message.
typedef struct CPNGShims_Status {
    int code;
    int warnings;
    char message[160];
} CPNGShims_Status;

/// An open row reader (opaque).
typedef struct CPNGShims_Reader CPNGShims_Reader;

/// Reads the chunks up to the first IDAT from a whole PNG file in memory and sets up the transforms to 8-bit RGB
/// or RGBA (16-bit scaled, low bit depths and gray expanded, palette mapped with its tRNS, tRNS to alpha).
/// `data` must stay valid until CPNGShims_close. On success *reader is set; close it with CPNGShims_close.
///
/// With `preinflate` set, a non-interlaced 8-bit gray, gray+alpha, RGB or RGBA file whose critical chunks all
/// have their CRC, whose IDAT chunks follow each other, and whose zlib stream libdeflate inflates to exactly the
/// rows the IHDR declares (Adler-32 checked) is inflated by libdeflate (about twice as fast as zlib) and handed
/// to libpng as stored deflate blocks, which libpng's zlib only copies; libpng still unfilters and transforms
/// every row and reads every other chunk as before. Any other file, and any doubt, goes to libpng unchanged,
/// so what it accepts, refuses and warns about stays libpng's. Costs a buffer of the filtered rows (up to 64 MiB;
/// a larger picture streams through libpng as before) and, while inflating, one of the joined IDAT data.
int CPNGShims_open(const unsigned char *data, size_t size, int preinflate, CPNGShims_Reader **reader,
                   CPNGShims_Info *info, CPNGShims_Status *status);

/// Reads the next `count` rows into `rows` (count * width * channels bytes, row after row).
/// A palette index past the end of PLTE is an error (CPNGShims_badPaletteIndex), not a black pixel.
int CPNGShims_readRows(CPNGShims_Reader *reader, unsigned char *rows, int count, CPNGShims_Status *status);

/// Releases the reader (safe with NULL).
void CPNGShims_close(CPNGShims_Reader *reader);

/// Reads the chunks up to the first IDAT and returns the decompressed iCCP profile, as libpng accepts it (a profile
/// whose header libpng rejects, or whose colour space does not fit the colour type, counts as none).
/// On success *profile is NULL (no usable iCCP) or a malloc'd copy of *length bytes the caller releases with
/// CPNGShims_free.
int CPNGShims_readICCProfile(const unsigned char *data, size_t size, unsigned char **profile, size_t *length,
                             CPNGShims_Status *status);

/// Releases a buffer returned by CPNGShims_readICCProfile.
void CPNGShims_free(void *pointer);

/// The version of the zlib libpng inflates with, from zlib itself (zlibVersion()).
const char *CPNGShims_zlibVersion(void);

/// The version of libdeflate's headers (it has no version call): LIBDEFLATE_VERSION_STRING.
const char *CPNGShims_libdeflateVersion(void);
