// The header's inline function is all there is; SwiftPM needs one source file for a C target.
#include "CMallocTuning.h"
