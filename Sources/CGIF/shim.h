// giflib's decoder. Its record-by-record API lets picpipe read the first frame only, never the whole animation.
#include <gif_lib.h>
