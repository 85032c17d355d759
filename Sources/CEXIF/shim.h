// libexif's headers use NULL and size_t inside macros: stddef.h first.
#include <stddef.h>
#include <libexif/exif-data.h>
#include <libexif/exif-loader.h>
#include <libexif/exif-log.h>
#include <libexif/exif-utils.h>
#include <libexif/exif-tag.h>
#include <libexif/exif-ifd.h>

// MetadataService: libexif must print nothing. Its log callback takes a va_list, which Swift cannot
// receive, so the sink lives here: it keeps the first corruption message and counts the others.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/// Where libexif's complaints about one parse go: the first corruption message and how many there were.
typedef struct {
    char firstMessage[200];
    unsigned int corruptCount;
} CEXIF_LogSink;

static inline void CEXIF_logToSink(ExifLog *log, ExifLogCode code, const char *domain, const char *format,
                                   va_list args, void *data) {
    (void)log;
    if (code == EXIF_LOG_CODE_DEBUG) {
        // libexif reports some damage only at debug level: keep those, drop the chatter.
        static const char *const damage[] = {
            "Tag starts past end", "Tag data goes past end", "Short data", "Recursive entry",
            "Attempt to load IFD", "Bogus thumbnail",
        };
        int isDamage = 0;
        for (size_t i = 0; format && i < sizeof damage / sizeof damage[0]; i++) {
            if (strncmp(format, damage[i], strlen(damage[i])) == 0) isDamage = 1;
        }
        if (!isDamage) return;
    } else if (code != EXIF_LOG_CODE_CORRUPT_DATA && code != EXIF_LOG_CODE_NO_MEMORY) {
        return;
    }
    // A maker note is the camera maker's private block, which picpipe does not read: libexif's complaints about
    // it ("Too much tags in Canon MakerNote" on sound Canon files) say nothing of the fields picpipe takes.
    if (domain && strncmp(domain, "ExifMnote", 9) == 0) return;
    CEXIF_LogSink *sink = (CEXIF_LogSink *)data;
    if (!sink) return;
    if (sink->corruptCount == 0) {
        int n = snprintf(sink->firstMessage, sizeof sink->firstMessage, "%s: ", domain ? domain : "libexif");
        if (n < 0 || (size_t)n >= sizeof sink->firstMessage) n = 0;
        vsnprintf(sink->firstMessage + n, sizeof sink->firstMessage - (size_t)n, format, args);
    }
    sink->corruptCount++;
}

/// Parses an EXIF block that starts with "Exif\0\0" (at most 64 KiB are read), keeping every tag as stored:
/// unknown tags are kept and nothing is "fixed" (libexif would otherwise add default values for missing tags).
/// Complaints go to `sink`; the caller unrefs the result with `exif_data_unref`.
static inline ExifData *CEXIF_loadExif(const unsigned char *bytes, unsigned int size, CEXIF_LogSink *sink) {
    ExifData *data = exif_data_new();
    if (!data) return NULL;
    ExifLog *log = exif_log_new();
    if (log) {
        exif_log_set_func(log, CEXIF_logToSink, sink);
        exif_data_log(data, log);
        exif_log_unref(log);
    }
    exif_data_unset_option(data, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
    exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(data, bytes, size);
    // Nothing may write to the sink once the caller's frame is gone.
    exif_data_log(data, NULL);
    return data;
}

/// The content of one IFD (0 ... EXIF_IFD_COUNT-1), or NULL.
static inline ExifContent *CEXIF_content(ExifData *data, int ifd) {
    if (!data || ifd < 0 || ifd >= EXIF_IFD_COUNT) return NULL;
    return data->ifd[ifd];
}
