// Opens libheif on first use and forwards picpipe's calls to it (why: see include/CHEIF.h).
#include "CHEIF.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define CHEIF_STRINGIFY2(x) #x
#define CHEIF_STRINGIFY(x) CHEIF_STRINGIFY2(x)
/// The library file of the headers' major version (libheif 1.x is libheif.so.1).
#define CHEIF_LIBRARY "libheif.so." CHEIF_STRINGIFY(CHEIF_MAJOR)
#define CHEIF_MAJOR 1
_Static_assert((LIBHEIF_NUMERIC_VERSION >> 24) == CHEIF_MAJOR, "libheif's major version changed: update CHEIF_MAJOR");

/// Every libheif function picpipe calls. One called but missing here fails the link: no library provides it.
#define CHEIF_FUNCTIONS(X) \
    X(heif_context_alloc) \
    X(heif_context_encode_image) \
    X(heif_context_free) \
    X(heif_context_get_encoder_for_format) \
    X(heif_context_get_primary_image_handle) \
    X(heif_context_read_from_memory_without_copy) \
    X(heif_context_set_maximum_image_size_limit) \
    X(heif_context_write) \
    X(heif_decode_image) \
    X(heif_encoder_release) \
    X(heif_encoder_set_lossy_quality) \
    X(heif_encoder_set_parameter_integer) \
    X(heif_get_version) \
    X(heif_image_add_plane) \
    X(heif_image_create) \
    X(heif_image_get_bits_per_pixel_range) \
    X(heif_image_get_height) \
    X(heif_image_get_plane) \
    X(heif_image_get_plane_readonly) \
    X(heif_image_get_width) \
    X(heif_image_handle_get_color_profile_type) \
    X(heif_image_handle_get_height) \
    X(heif_image_handle_get_ispe_height) \
    X(heif_image_handle_get_ispe_width) \
    X(heif_image_handle_get_list_of_metadata_block_IDs) \
    X(heif_image_handle_get_list_of_thumbnail_IDs) \
    X(heif_image_handle_get_metadata) \
    X(heif_image_handle_get_metadata_size) \
    X(heif_image_handle_get_nclx_color_profile) \
    X(heif_image_handle_get_number_of_thumbnails) \
    X(heif_image_handle_get_raw_color_profile) \
    X(heif_image_handle_get_raw_color_profile_size) \
    X(heif_image_handle_get_thumbnail) \
    X(heif_image_handle_get_width) \
    X(heif_image_handle_has_alpha_channel) \
    X(heif_image_handle_is_premultiplied_alpha) \
    X(heif_image_handle_release) \
    X(heif_image_release) \
    X(heif_image_set_raw_color_profile) \
    X(heif_nclx_color_profile_free)

#define CHEIF_DECLARE(name) static __typeof__(&name) real_##name;
CHEIF_FUNCTIONS(CHEIF_DECLARE)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;
static char failure[512];

static void loadOnce(void) {
    void *library = dlopen(CHEIF_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *reason = dlerror();
        snprintf(failure, sizeof failure, "%s", reason ? reason : "cannot open " CHEIF_LIBRARY);
        return;
    }
#define CHEIF_RESOLVE(name) \
    real_##name = (__typeof__(&name))dlsym(library, #name); \
    if (!real_##name) { \
        snprintf(failure, sizeof failure, "%s has no function %s", CHEIF_LIBRARY, #name); \
        return; \
    }
    CHEIF_FUNCTIONS(CHEIF_RESOLVE)
    loaded = 1;
}

int CHEIF_load(void) {
    pthread_once(&once, loadOnce);
    return loaded;
}

const char *CHEIF_loadError(void) { return CHEIF_load() ? NULL : failure; }

static const struct heif_error unavailable = {
    heif_error_Unsupported_feature, heif_suberror_Unspecified, "libheif could not be loaded"};

// The forwarders, with libheif's own signatures (heif.h declares them, so the compiler checks each one).

struct heif_context * heif_context_alloc(void) {
    return CHEIF_load() ? real_heif_context_alloc() : NULL;
}

struct heif_error heif_context_encode_image(
    struct heif_context* a0, const struct heif_image* image, struct heif_encoder* encoder,
    const struct heif_encoding_options* options, struct heif_image_handle** out_image_handle) {
    return CHEIF_load() ? real_heif_context_encode_image(a0, image, encoder, options, out_image_handle) : unavailable;
}

void heif_context_free(struct heif_context* a0) {
    if (CHEIF_load())
        real_heif_context_free(a0);
}

struct heif_error heif_context_get_encoder_for_format(
    struct heif_context* context, enum heif_compression_format format, struct heif_encoder** a2) {
    return CHEIF_load() ? real_heif_context_get_encoder_for_format(context, format, a2) : unavailable;
}

struct heif_error heif_context_get_primary_image_handle(struct heif_context* ctx, struct heif_image_handle** a1) {
    return CHEIF_load() ? real_heif_context_get_primary_image_handle(ctx, a1) : unavailable;
}

struct heif_error heif_context_read_from_memory_without_copy(
    struct heif_context* a0, const void* mem, size_t size, const struct heif_reading_options* a3) {
    return CHEIF_load() ? real_heif_context_read_from_memory_without_copy(a0, mem, size, a3) : unavailable;
}

void heif_context_set_maximum_image_size_limit(struct heif_context* ctx, int maximum_width) {
    if (CHEIF_load())
        real_heif_context_set_maximum_image_size_limit(ctx, maximum_width);
}

struct heif_error heif_context_write(struct heif_context* a0, struct heif_writer* writer, void* userdata) {
    return CHEIF_load() ? real_heif_context_write(a0, writer, userdata) : unavailable;
}

struct heif_error heif_decode_image(
    const struct heif_image_handle* in_handle, struct heif_image** out_img, enum heif_colorspace colorspace,
    enum heif_chroma chroma, const struct heif_decoding_options* options) {
    return CHEIF_load() ? real_heif_decode_image(in_handle, out_img, colorspace, chroma, options) : unavailable;
}

void heif_encoder_release(struct heif_encoder* a0) {
    if (CHEIF_load())
        real_heif_encoder_release(a0);
}

struct heif_error heif_encoder_set_lossy_quality(struct heif_encoder* a0, int quality) {
    return CHEIF_load() ? real_heif_encoder_set_lossy_quality(a0, quality) : unavailable;
}

struct heif_error heif_encoder_set_parameter_integer(struct heif_encoder* a0, const char* parameter_name, int value) {
    return CHEIF_load() ? real_heif_encoder_set_parameter_integer(a0, parameter_name, value) : unavailable;
}

const char* heif_get_version(void) {
    return CHEIF_load() ? real_heif_get_version() : "unavailable";
}

struct heif_error heif_image_add_plane(
    struct heif_image* image, enum heif_channel channel, int width, int height, int bit_depth) {
    return CHEIF_load() ? real_heif_image_add_plane(image, channel, width, height, bit_depth) : unavailable;
}

struct heif_error heif_image_create(
    int width, int height, enum heif_colorspace colorspace, enum heif_chroma chroma, struct heif_image** out_image) {
    return CHEIF_load() ? real_heif_image_create(width, height, colorspace, chroma, out_image) : unavailable;
}

int heif_image_get_bits_per_pixel_range(const struct heif_image* a0, enum heif_channel channel) {
    return CHEIF_load() ? real_heif_image_get_bits_per_pixel_range(a0, channel) : 0;
}

int heif_image_get_height(const struct heif_image* a0, enum heif_channel channel) {
    return CHEIF_load() ? real_heif_image_get_height(a0, channel) : 0;
}

uint8_t* heif_image_get_plane(struct heif_image* a0, enum heif_channel channel, int* out_stride) {
    return CHEIF_load() ? real_heif_image_get_plane(a0, channel, out_stride) : NULL;
}

const uint8_t* heif_image_get_plane_readonly(const struct heif_image* a0, enum heif_channel channel, int* out_stride) {
    return CHEIF_load() ? real_heif_image_get_plane_readonly(a0, channel, out_stride) : NULL;
}

int heif_image_get_width(const struct heif_image* a0, enum heif_channel channel) {
    return CHEIF_load() ? real_heif_image_get_width(a0, channel) : 0;
}

enum heif_color_profile_type heif_image_handle_get_color_profile_type(const struct heif_image_handle* handle) {
    return CHEIF_load() ? real_heif_image_handle_get_color_profile_type(handle) : (enum heif_color_profile_type)0;
}

int heif_image_handle_get_height(const struct heif_image_handle* handle) {
    return CHEIF_load() ? real_heif_image_handle_get_height(handle) : 0;
}

int heif_image_handle_get_ispe_height(const struct heif_image_handle* handle) {
    return CHEIF_load() ? real_heif_image_handle_get_ispe_height(handle) : 0;
}

int heif_image_handle_get_ispe_width(const struct heif_image_handle* handle) {
    return CHEIF_load() ? real_heif_image_handle_get_ispe_width(handle) : 0;
}

int heif_image_handle_get_list_of_metadata_block_IDs(
    const struct heif_image_handle* handle, const char* type_filter, heif_item_id* ids, int count) {
    return CHEIF_load() ? real_heif_image_handle_get_list_of_metadata_block_IDs(handle, type_filter, ids, count) : 0;
}

int heif_image_handle_get_list_of_thumbnail_IDs(const struct heif_image_handle* handle, heif_item_id* ids, int count) {
    return CHEIF_load() ? real_heif_image_handle_get_list_of_thumbnail_IDs(handle, ids, count) : 0;
}

struct heif_error heif_image_handle_get_metadata(
    const struct heif_image_handle* handle, heif_item_id metadata_id, void* out_data) {
    return CHEIF_load() ? real_heif_image_handle_get_metadata(handle, metadata_id, out_data) : unavailable;
}

size_t heif_image_handle_get_metadata_size(const struct heif_image_handle* handle, heif_item_id metadata_id) {
    return CHEIF_load() ? real_heif_image_handle_get_metadata_size(handle, metadata_id) : 0;
}

int heif_image_handle_get_number_of_thumbnails(const struct heif_image_handle* handle) {
    return CHEIF_load() ? real_heif_image_handle_get_number_of_thumbnails(handle) : 0;
}

struct heif_error heif_image_handle_get_raw_color_profile(const struct heif_image_handle* handle, void* out_data) {
    return CHEIF_load() ? real_heif_image_handle_get_raw_color_profile(handle, out_data) : unavailable;
}

size_t heif_image_handle_get_raw_color_profile_size(const struct heif_image_handle* handle) {
    return CHEIF_load() ? real_heif_image_handle_get_raw_color_profile_size(handle) : 0;
}

struct heif_error heif_image_handle_get_thumbnail(
    const struct heif_image_handle* main_image_handle, heif_item_id thumbnail_id,
    struct heif_image_handle** out_thumbnail_handle) {
    return CHEIF_load()
        ? real_heif_image_handle_get_thumbnail(main_image_handle, thumbnail_id, out_thumbnail_handle)
        : unavailable;
}

int heif_image_handle_get_width(const struct heif_image_handle* handle) {
    return CHEIF_load() ? real_heif_image_handle_get_width(handle) : 0;
}

int heif_image_handle_has_alpha_channel(const struct heif_image_handle* a0) {
    return CHEIF_load() ? real_heif_image_handle_has_alpha_channel(a0) : 0;
}

int heif_image_handle_is_premultiplied_alpha(const struct heif_image_handle* a0) {
    return CHEIF_load() ? real_heif_image_handle_is_premultiplied_alpha(a0) : 0;
}

struct heif_error heif_image_handle_get_nclx_color_profile(
    const struct heif_image_handle* handle, struct heif_color_profile_nclx** out_data) {
    return CHEIF_load() ? real_heif_image_handle_get_nclx_color_profile(handle, out_data) : unavailable;
}

void heif_nclx_color_profile_free(struct heif_color_profile_nclx* nclx_profile) {
    if (CHEIF_load())
        real_heif_nclx_color_profile_free(nclx_profile);
}

void heif_image_handle_release(const struct heif_image_handle* a0) {
    if (CHEIF_load())
        real_heif_image_handle_release(a0);
}

void heif_image_release(const struct heif_image* a0) {
    if (CHEIF_load())
        real_heif_image_release(a0);
}

struct heif_error heif_image_set_raw_color_profile(
    struct heif_image* image, const char* profile_type_fourcc_string, const void* profile_data,
    const size_t profile_size) {
    return CHEIF_load()
        ? real_heif_image_set_raw_color_profile(image, profile_type_fourcc_string, profile_data, profile_size)
        : unavailable;
}
