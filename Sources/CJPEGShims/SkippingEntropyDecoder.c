// picpipe's Huffman entropy decoder for single-scan (sequential) JPEGs, installed in place of libjpeg-turbo's
// decode_mcu. Why: at 1/8 scale libjpeg-turbo's 1x1 inverse DCT reads only each luma block's DC term, yet about 75 %
// of a thumbnail's CPU went to decoding the Huffman symbols of AC terms whose values were thrown away, one symbol
// per lookup. This decoder skips them with a table that takes every whole symbol (code and extra bits) in the next
// 12 bits at once. Blocks whose AC terms are read (the chroma of a 4:2:0 file, scaled by a 2x2 IDCT; every block at
// 1/4 and up) are decoded a symbol a lookup, the coefficient itself from the table when code and extra bits fit in
// 10 bits. The coefficients are the same, and everything else (markers, tables, IDCT, upsampling, colour) stays
// libjpeg-turbo's, so the pixels are the same bytes.
//
// The scan's bytes are unstuffed 64 KiB at a time into a window (0xFF00 -> 0xFF, restart markers taken out, zeros
// after the end), so the bit reader is one unaligned load. Anything unusual declines instead of guessing: the caller
// decodes the file again with libjpeg-turbo's decoder, whose warnings picpipe treats as damage. Declined: a bad
// Huffman code, data that runs out or past the end of its restart interval, bytes left before a restart or the
// closing marker (libjpeg-turbo counts those as extraneous), restart markers out of order or too few or many, a scan
// without its closing marker, 0xFF fill bytes before a stuffed zero.
#include "SkippingEntropyDecoder.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    LOOKUP_BITS = 9,   // single-symbol lookup
    SKIP_BITS = 12,    // multi-symbol skip lookup
    VALUE_BITS = 10,   // AC code and extra bits together: the coefficient at once
    // The most one MCU reads (10 blocks of 64 symbols of at most 31 bits), and the reader's 16 bytes ahead: the
    // window always holds that much past an MCU's start (zeros after the scan's end), so no read leaves it; an
    // overrun is caught at the next MCU.
    MCU_BYTES = 10 * 64 * 31 / 8 + 16,
#ifdef FUZZING
    WINDOW = 4 * 1024,  // unstuffed bytes held at once; the fuzzer's inputs (64 KiB at most) slide this one often
#else
    WINDOW = 64 * 1024,  // unstuffed bytes held at once
#endif
};

// Natural (row-major) position of the k-th coefficient in zigzag order; 16 extra entries catch k past 63 in damaged
// data, as libjpeg-turbo's jpeg_natural_order does.
static const int naturalOrder[64 + 16] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13,
    6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31,
    39, 46, 53, 60, 61, 54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63};

typedef struct HuffmanTable {
    uint16_t lookup[1 << LOOKUP_BITS];  // (code length << 8) | symbol; 0 when the code is longer than LOOKUP_BITS
    // For AC tables: when a code and its extra bits fit in VALUE_BITS, (value << 16) | (run << 8) | bits used;
    // 0 otherwise (and for an end of block or a run of 16 zeros).
    int32_t values[1 << VALUE_BITS];
    int32_t maxcode[17];                // largest code of each length, -1 when none
    int32_t valoffset[17];              // huffval index of a length's first code, minus that code
    uint8_t huffval[256];
} HuffmanTable;

// For each SKIP_BITS-bit window of AC data: every whole symbol in it, taken at once. Bits 0-4: bits consumed (0 when
// the first symbol does not fit); 5-11: coefficients advanced; 12-18: advance before the last symbol (the block must
// not end before it starts); bit 19: the last symbol is an end of block.
typedef struct SkipTable {
    uint32_t entry[1 << SKIP_BITS];
} SkipTable;

struct SkippingEntropyDecoder {
    SkippingEntropyDecline decline;
    const unsigned char *file;
    size_t fileSize;
    size_t fileAt;          // the next file byte to unstuff
    int scanEnded;          // the marker that ends the scan was reached (at markerAt)
    size_t markerAt;
    unsigned char *bits;    // a window on the unstuffed data: WINDOW + MCU_BYTES bytes
    size_t windowStart;     // offset of bits[0] in the unstuffed data (restart markers taken out)
    size_t windowEnd;       // offset after the last byte unstuffed
    size_t *segmentEnds;    // unstuffed offset where each restart interval's data ends, as they are found
    int segmentsFound;
    int segmentCount;       // how many the scan must have
    int segment;
    size_t bitpos;          // the reader's position in the unstuffed data, in bits
    unsigned restartsToGo;
    unsigned long mcusLeft;
    int lastDC[MAX_COMPS_IN_SCAN];
    int blockComponent[D_MAX_BLOCKS_IN_MCU];
    int blockDCNeeded[D_MAX_BLOCKS_IN_MCU];
    const HuffmanTable *blockDC[D_MAX_BLOCKS_IN_MCU];
    const HuffmanTable *blockAC[D_MAX_BLOCKS_IN_MCU];
    const SkipTable *blockSkip[D_MAX_BLOCKS_IN_MCU];  // NULL when the block's AC values are read
    HuffmanTable dc[NUM_HUFF_TBLS];
    HuffmanTable ac[NUM_HUFF_TBLS];
    SkipTable *skip[NUM_HUFF_TBLS];
};

// A bit reader in the style of Fabian Giesen's "variant 4": `buffer` holds `count` (56 to 63 after refill) bits,
// most significant first; refill needs no branch because the unstuffed data is followed by zeros.
typedef struct BitReader {
    uint64_t buffer;
    unsigned count;
    const unsigned char *next;
} BitReader;

static inline void refill(BitReader *reader) {
    uint64_t word;
    memcpy(&word, reader->next, 8);
    reader->buffer |= __builtin_bswap64(word) >> reader->count;
    reader->next += (63 - reader->count) >> 3;
    reader->count |= 56;
}

static inline void consume(BitReader *reader, unsigned bits) {
    reader->buffer <<= bits;
    reader->count -= bits;
}

// A symbol decoded from the top bits of `window`, its code length in *length; -1 for a code not in the table.
static inline int decodeSymbol(const HuffmanTable *table, uint64_t window, int *length) {
    unsigned entry = table->lookup[window >> (64 - LOOKUP_BITS)];
    if (entry != 0) {
        *length = (int)(entry >> 8);
        return (int)(entry & 0xFF);
    }
    unsigned code16 = (unsigned)(window >> 48);
    for (int l = LOOKUP_BITS + 1; l <= 16; l++) {
        int32_t code = (int32_t)(code16 >> (16 - l));
        if (code <= table->maxcode[l]) {
            *length = l;
            return table->huffval[(code + table->valoffset[l]) & 0xFF];
        }
    }
    return -1;
}

// HUFF_EXTEND: the signed value of `s` extra bits.
static inline int extend(unsigned value, int s) {
    return value < (1u << (s - 1)) ? (int)value - (1 << s) + 1 : (int)value;
}

// libjpeg-turbo has validated the table (jpeg_make_d_derived_tbl in start_pass): a legal code tree, DC symbols <= 15.
static void buildTable(const JHUFF_TBL *source, HuffmanTable *table, int isAC) {
    unsigned code = 0;
    int p = 0;
    memset(table->lookup, 0, sizeof(table->lookup));
    memcpy(table->huffval, source->huffval, sizeof(table->huffval));
    for (int l = 1; l <= 16; l++) {
        int count = source->bits[l];
        if (count == 0) {
            table->maxcode[l] = -1;
            table->valoffset[l] = 0;
        } else {
            table->valoffset[l] = p - (int32_t)code;
            for (int i = 0; i < count; i++, p++, code++) {
                if (l <= LOOKUP_BITS) {
                    unsigned first = code << (LOOKUP_BITS - l);
                    for (unsigned fill = 0; fill < (1u << (LOOKUP_BITS - l)); fill++)
                        table->lookup[first + fill] = (uint16_t)((l << 8) | source->huffval[p]);
                }
            }
            table->maxcode[l] = (int32_t)code - 1;
        }
        code <<= 1;
    }
    memset(table->values, 0, sizeof(table->values));
    if (!isAC) return;  // only AC blocks read coefficient values from it
    for (unsigned window = 0; window < (1u << VALUE_BITS); window++) {
        int length;
        int symbol = decodeSymbol(table, (uint64_t)window << (64 - VALUE_BITS), &length);
        int r = symbol >> 4, s = symbol & 15;
        table->values[window] = 0;
        if (symbol < 0 || s == 0 || length + s > VALUE_BITS) continue;
        unsigned extra = (window >> (VALUE_BITS - length - s)) & ((1u << s) - 1);
        table->values[window] = (int32_t)((uint32_t)extend(extra, s) << 16) | r << 8 | (length + s);
    }
}

static void buildSkipTable(const HuffmanTable *table, SkipTable *skip) {
    for (unsigned window = 0; window < (1u << SKIP_BITS); window++) {
        int used = 0, advance = 0, beforeLast = 0, endOfBlock = 0;
        for (;;) {
            uint64_t bits = (uint64_t)window << (64 - SKIP_BITS) << used;  // zeros past the window
            int length;
            int symbol = decodeSymbol(table, bits, &length);
            if (symbol < 0) break;
            int r = symbol >> 4, s = symbol & 15;
            if (used + length + s > SKIP_BITS) break;
            beforeLast = advance;
            used += length + s;
            if (s != 0) {
                advance += r + 1;
            } else if (r == 15) {
                advance += 16;
            } else {
                endOfBlock = 1;
                break;
            }
            if (advance >= 64) break;  // a block never goes further without its end
        }
        skip->entry[window] = used == 0 ? 0
                                        : (uint32_t)used | (uint32_t)advance << 5 | (uint32_t)beforeLast << 12 |
                                              (uint32_t)endOfBlock << 19;
    }
}

// Unstuffs more of the scan, until the window is full or the scan's closing marker. 0 when the scan is not whole
// and regular (no closing marker, restart markers out of order, too few or too many).
static int unstuffMore(SkippingEntropyDecoder *decoder, unsigned restartInterval) {
    const unsigned char *file = decoder->file;
    size_t size = decoder->fileSize;
    while (!decoder->scanEnded && decoder->windowEnd - decoder->windowStart < WINDOW) {
        unsigned char *out = decoder->bits + (decoder->windowEnd - decoder->windowStart);
        size_t room = WINDOW - (decoder->windowEnd - decoder->windowStart);
        size_t available = size - decoder->fileAt;
        size_t take = available < room ? available : room;
        const unsigned char *mark = memchr(file + decoder->fileAt, 0xFF, take);
        size_t run = mark != NULL ? (size_t)(mark - (file + decoder->fileAt)) : take;
        memcpy(out, file + decoder->fileAt, run);
        decoder->windowEnd += run;
        decoder->fileAt += run;
        if (mark == NULL) {
            if (decoder->fileAt >= size) return 0;
            continue;
        }
        // As libjpeg-turbo reads it: 0xFF bytes are fill before what follows them; 0x00 makes one 0xFF data byte.
        size_t code = decoder->fileAt + 1;
        while (code < size && file[code] == 0xFF) code++;
        if (code >= size) return 0;
        unsigned char next = file[code];
        if (next == 0x00) {
            // 0xFF fill before a stuffed zero: libjpeg-turbo's fast path takes the fill for a marker and goes back to
            // its slow path for the MCU, keeping what it had decoded meanwhile; its pixels are not a clean decode's.
            if (code != decoder->fileAt + 1) return 0;
            out[run] = 0xFF;  // run < take <= room: there is room
            decoder->windowEnd += 1;
            decoder->fileAt = code + 1;
            continue;
        }
        int isRestart = next >= 0xD0 && next <= 0xD7;
        if ((isRestart && restartInterval == 0) || decoder->segmentsFound == decoder->segmentCount) return 0;
        decoder->segmentEnds[decoder->segmentsFound++] = decoder->windowEnd;
        if (isRestart && decoder->segmentsFound < decoder->segmentCount) {
            if (next != 0xD0 + (decoder->segmentsFound - 1) % 8) return 0;
            decoder->fileAt = code + 1;
            continue;
        }
        if (decoder->segmentsFound != decoder->segmentCount) return 0;
        // The marker after the last interval closes the scan, a restart marker too (some cameras write one before
        // EOI; libjpeg-turbo reads past it).
        decoder->markerAt = decoder->fileAt;
        decoder->scanEnded = 1;
    }
    memset(decoder->bits + (decoder->windowEnd - decoder->windowStart), 0, MCU_BYTES);
    return 1;
}

// Makes the window hold the unstuffed data from byte `from` on: MCU_BYTES of it, or all up to the scan's end.
static void ensureWindow(j_decompress_ptr cinfo, SkippingEntropyDecoder *decoder, size_t from, int toTheEnd);

static void declineNow(j_decompress_ptr cinfo, SkippingEntropyDecoder *decoder) {
    decoder->decline(cinfo);
    abort();  // decline must not return
}

static void ensureWindow(j_decompress_ptr cinfo, SkippingEntropyDecoder *decoder, size_t from, int toTheEnd) {
    if (decoder->scanEnded || (!toTheEnd && decoder->windowEnd >= from + MCU_BYTES)) return;
    if (from > decoder->windowEnd) declineNow(cinfo, decoder);  // read past the data: cannot happen unended
    size_t keep = decoder->windowEnd - from;
    memmove(decoder->bits, decoder->bits + (from - decoder->windowStart), keep);
    decoder->windowStart = from;
    if (!unstuffMore(decoder, cinfo->restart_interval)) declineNow(cinfo, decoder);
    if (toTheEnd && !decoder->scanEnded) declineNow(cinfo, decoder);  // a window's worth left: extraneous data
}

// The end of the current restart interval's data, in bits (SIZE_MAX while its marker is not reached yet).
static size_t segmentEndBits(const SkippingEntropyDecoder *decoder) {
    return decoder->segment < decoder->segmentsFound ? decoder->segmentEnds[decoder->segment] * 8 : SIZE_MAX;
}

static void nextRestartInterval(j_decompress_ptr cinfo, SkippingEntropyDecoder *decoder) {
    size_t consumed = (decoder->bitpos + 7) / 8;
    ensureWindow(cinfo, decoder, decoder->bitpos / 8, 0);
    // libjpeg-turbo throws away the bits left of the last byte; a whole byte left over is extraneous data.
    if (decoder->segment >= decoder->segmentsFound || consumed != decoder->segmentEnds[decoder->segment] ||
        decoder->segment + 1 >= decoder->segmentCount)
        declineNow(cinfo, decoder);
    decoder->segment += 1;
    decoder->bitpos = consumed * 8;
    for (int ci = 0; ci < cinfo->comps_in_scan; ci++) decoder->lastDC[ci] = 0;
    decoder->restartsToGo = cinfo->restart_interval;
}

// After the last MCU: the data must end where the scan's closing marker starts; libjpeg-turbo reads on from there.
static void finishScan(j_decompress_ptr cinfo, SkippingEntropyDecoder *decoder) {
    ensureWindow(cinfo, decoder, decoder->bitpos / 8, 1);
    if (decoder->segment != decoder->segmentCount - 1 || decoder->segmentsFound != decoder->segmentCount ||
        (decoder->bitpos + 7) / 8 != decoder->segmentEnds[decoder->segment])
        declineNow(cinfo, decoder);
    cinfo->src->next_input_byte = decoder->file + decoder->markerAt;
    cinfo->src->bytes_in_buffer = decoder->fileSize - decoder->markerAt;
    cinfo->unread_marker = 0;
}

// Where the reader is, in bits from the start of the unstuffed data.
static inline size_t readerPosition(const SkippingEntropyDecoder *decoder, const BitReader *reader) {
    return (decoder->windowStart + (size_t)(reader->next - decoder->bits)) * 8 - reader->count;
}

// Skips one block's AC terms, several symbols a lookup while the block cannot end before the last of them.
static inline int skipBlock(const HuffmanTable *ac, const SkipTable *skip, BitReader *reader) {
    int k = 1;
    for (;;) {
        refill(reader);
        // 56 bits after a refill: four lookups of at most SKIP_BITS bits each.
        for (int i = 0; i < 4; i++) {
            uint32_t entry = skip->entry[reader->buffer >> (64 - SKIP_BITS)];
            if (entry == 0 || k + (int)((entry >> 12) & 127) >= DCTSIZE2) goto oneSymbol;
            consume(reader, entry & 31);
            k += (int)((entry >> 5) & 127);
            if ((entry >> 19) || k >= DCTSIZE2) return 1;
        }
        continue;
    oneSymbol:
        refill(reader);
        int length;
        int symbol = decodeSymbol(ac, reader->buffer, &length);
        if (symbol < 0) return 0;
        int r = symbol >> 4, s = symbol & 15;
        consume(reader, (unsigned)(length + s));
        if (s) {
            k += r;
        } else {
            if (r != 15) return 1;
            k += 15;
        }
        if (++k >= DCTSIZE2) return 1;
    }
}

// Decodes one block's AC terms into `block` (natural order), symbol by symbol as libjpeg-turbo does.
static inline int decodeBlock(const HuffmanTable *ac, BitReader *reader, JBLOCKROW block) {
    for (int k = 1; k < DCTSIZE2; k++) {
        if (reader->count < 32) refill(reader);  // a symbol and its extra bits take at most 31
        int32_t value = ac->values[reader->buffer >> (64 - VALUE_BITS)];
        if (value != 0) {
            k += (value >> 8) & 15;
            (*block)[naturalOrder[k]] = (JCOEF)(value >> 16);
            consume(reader, (unsigned)(value & 31));
            continue;
        }
        int length;
        int symbol = decodeSymbol(ac, reader->buffer, &length);
        if (symbol < 0) return 0;
        int r = symbol >> 4, s = symbol & 15;
        if (s) {
            k += r;
            unsigned value = (unsigned)((reader->buffer << length) >> (64 - s));
            (*block)[naturalOrder[k]] = (JCOEF)extend(value, s);
            consume(reader, (unsigned)(length + s));
        } else {
            consume(reader, (unsigned)length);
            if (r != 15) break;
            k += 15;
        }
    }
    return 1;
}

static boolean decodeMCU(j_decompress_ptr cinfo, JBLOCKROW *MCU_data) {
    SkippingEntropyDecoder *decoder = (SkippingEntropyDecoder *)cinfo->client_data;
    if (decoder->mcusLeft == 0) declineNow(cinfo, decoder);
    if (cinfo->restart_interval) {
        if (decoder->restartsToGo == 0) nextRestartInterval(cinfo, decoder);
        decoder->restartsToGo -= 1;
    }
    ensureWindow(cinfo, decoder, decoder->bitpos / 8, 0);
    if (decoder->bitpos > segmentEndBits(decoder)) declineNow(cinfo, decoder);  // the last MCU ran out of data
    BitReader reader = {0, 0, decoder->bits + (decoder->bitpos / 8 - decoder->windowStart)};
    refill(&reader);
    consume(&reader, (unsigned)(decoder->bitpos & 7));
    for (int blkn = 0; blkn < cinfo->blocks_in_MCU; blkn++) {
        JBLOCKROW block = MCU_data ? MCU_data[blkn] : NULL;
        int length;
        refill(&reader);
        int s = decodeSymbol(decoder->blockDC[blkn], reader.buffer, &length);
        if (s < 0) declineNow(cinfo, decoder);
        int diff = s ? extend((unsigned)((reader.buffer << length) >> (64 - s)), s) : 0;
        consume(&reader, (unsigned)(length + s));
        if (decoder->blockDCNeeded[blkn]) {
            int ci = decoder->blockComponent[blkn];
            int dc = (int)((unsigned)diff + (unsigned)decoder->lastDC[ci]);  // wraps as libjpeg-turbo's does
            decoder->lastDC[ci] = dc;
            if (block) (*block)[0] = (JCOEF)dc;
        }
        const SkipTable *skip = decoder->blockSkip[blkn];
        int decoded;
        if (skip != NULL)
            decoded = skipBlock(decoder->blockAC[blkn], skip, &reader);
        else if (block != NULL)
            decoded = decodeBlock(decoder->blockAC[blkn], &reader, block);
        else
            decoded = 0;  // values wanted and nowhere to put them: not a one-pass decode; libjpeg-turbo's call
        if (!decoded) declineNow(cinfo, decoder);
    }
    decoder->bitpos = readerPosition(decoder, &reader);
    if (--decoder->mcusLeft == 0) finishScan(cinfo, decoder);
    return TRUE;
}

void skippingEntropyFree(SkippingEntropyDecoder *decoder) {
    if (decoder == NULL) return;
    for (int i = 0; i < NUM_HUFF_TBLS; i++) free(decoder->skip[i]);
    free(decoder->bits);
    free(decoder->segmentEnds);
    free(decoder);
}

SkippingEntropyDecoder *skippingEntropyInstall(j_decompress_ptr cinfo, const unsigned char *data, size_t size,
                                               SkippingEntropyDecline decline) {
    if (cinfo->progressive_mode || cinfo->arith_code || cinfo->data_precision != 8 || cinfo->buffered_image ||
        cinfo->inputctl == NULL || cinfo->inputctl->has_multiple_scans || cinfo->entropy == NULL ||
        cinfo->comps_in_scan != cinfo->num_components || cinfo->comps_in_scan > MAX_COMPS_IN_SCAN ||
        cinfo->blocks_in_MCU > D_MAX_BLOCKS_IN_MCU || cinfo->unread_marker != 0)
        return NULL;
    const unsigned char *next = cinfo->src->next_input_byte;
    if (next < data || next > data + size || (size_t)(data + size - next) != cinfo->src->bytes_in_buffer) return NULL;
    SkippingEntropyDecoder *decoder = calloc(1, sizeof(SkippingEntropyDecoder));
    if (decoder == NULL) return NULL;
    decoder->decline = decline;
    decoder->file = data;
    decoder->fileSize = size;
    decoder->mcusLeft = (unsigned long)cinfo->MCUs_per_row * cinfo->MCU_rows_in_scan;
    unsigned interval = cinfo->restart_interval;
    decoder->segmentCount = interval ? (int)((decoder->mcusLeft + interval - 1) / interval) : 1;
    decoder->fileAt = (size_t)(next - data);
    decoder->bits = malloc(WINDOW + MCU_BYTES);
    decoder->segmentEnds = malloc(sizeof(size_t) * (size_t)decoder->segmentCount);
    if (decoder->mcusLeft == 0 || decoder->bits == NULL || decoder->segmentEnds == NULL ||
        !unstuffMore(decoder, interval)) {
        skippingEntropyFree(decoder);
        return NULL;
    }
    int dcBuilt[NUM_HUFF_TBLS] = {0}, acBuilt[NUM_HUFF_TBLS] = {0};
    for (int blkn = 0; blkn < cinfo->blocks_in_MCU; blkn++) {
        int ci = cinfo->MCU_membership[blkn];
        jpeg_component_info *component = cinfo->cur_comp_info[ci];
        int dcTable = component->dc_tbl_no, acTable = component->ac_tbl_no;
        if (dcTable < 0 || dcTable >= NUM_HUFF_TBLS || acTable < 0 || acTable >= NUM_HUFF_TBLS ||
            cinfo->dc_huff_tbl_ptrs[dcTable] == NULL || cinfo->ac_huff_tbl_ptrs[acTable] == NULL) {
            skippingEntropyFree(decoder);
            return NULL;
        }
        if (!dcBuilt[dcTable]) buildTable(cinfo->dc_huff_tbl_ptrs[dcTable], &decoder->dc[dcTable], 0);
        if (!acBuilt[acTable]) buildTable(cinfo->ac_huff_tbl_ptrs[acTable], &decoder->ac[acTable], 1);
        dcBuilt[dcTable] = acBuilt[acTable] = 1;
        decoder->blockComponent[blkn] = ci;
        decoder->blockDC[blkn] = &decoder->dc[dcTable];
        decoder->blockAC[blkn] = &decoder->ac[acTable];
        // The same choice as libjpeg-turbo's start_pass_huff_decoder.
        decoder->blockDCNeeded[blkn] = component->component_needed ? 1 : 0;
        int acNeeded = component->component_needed && component->DCT_scaled_size > 1;
        if (!acNeeded) {
            if (decoder->skip[acTable] == NULL) {
                decoder->skip[acTable] = malloc(sizeof(SkipTable));
                if (decoder->skip[acTable] == NULL) {
                    skippingEntropyFree(decoder);
                    return NULL;
                }
                buildSkipTable(&decoder->ac[acTable], decoder->skip[acTable]);
            }
            decoder->blockSkip[blkn] = decoder->skip[acTable];
        }
    }
    decoder->restartsToGo = cinfo->restart_interval;
    cinfo->client_data = decoder;
    cinfo->entropy->decode_mcu = decodeMCU;
    return decoder;
}
