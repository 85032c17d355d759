// picpipe's Huffman decoder for single-scan JPEGs, in place of libjpeg-turbo's (see SkippingEntropyDecoder.c).
#pragma once
#include <stddef.h>
#include <stdio.h>

#define JPEG_INTERNALS  // jpeglib.h then brings in jpegint.h: the entropy decoder and input controller structs
#include <jpeglib.h>

typedef struct SkippingEntropyDecoder SkippingEntropyDecoder;

/// Called when the decoder cannot vouch for its output (damaged or unusual data): it must not return (longjmp), and
/// the caller decodes the file again with libjpeg-turbo's own entropy decoder, which gives the verdict.
typedef void (*SkippingEntropyDecline)(j_decompress_ptr cinfo);

/// After jpeg_start_decompress of `data` (the whole file, from jpeg_mem_src): replaces libjpeg-turbo's decode_mcu
/// for this scan when the file is a single-scan 8-bit Huffman JPEG whose scan is whole (it ends at a marker, restart
/// markers in order). Uses cinfo->client_data. Returns NULL (and changes nothing) when it does not apply.
SkippingEntropyDecoder *skippingEntropyInstall(j_decompress_ptr cinfo, const unsigned char *data, size_t size,
                                               SkippingEntropyDecline decline);

/// Frees what skippingEntropyInstall allocated (NULL is fine). Call after jpeg_destroy_decompress or before a retry.
void skippingEntropyFree(SkippingEntropyDecoder *decoder);
