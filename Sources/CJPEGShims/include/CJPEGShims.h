// STUB: replaced by the ImageCore work.
#pragma once
int CJPEGShims_version(void);
