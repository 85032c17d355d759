// jpeglib.h needs stdio.h (FILE) and stddef.h (size_t) declared before it.
#include <stdio.h>
#include <stddef.h>
#include <jpeglib.h>
