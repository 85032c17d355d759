// libdeflate: whole-buffer DEFLATE/zlib decompression and CRC-32, faster than zlib's (CPNGShims inflates PNG
// image data with it ahead of libpng).
#include <libdeflate.h>
