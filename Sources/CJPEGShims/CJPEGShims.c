#include "CJPEGShims.h"
#include <stdio.h>
#include <jpeglib.h>
int CJPEGShims_version(void) { return JPEG_LIB_VERSION; }
