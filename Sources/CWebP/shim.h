// libwebp: the decoder (still pictures), the demuxer's animation decoder (first frame) and the simple encoder.
#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
