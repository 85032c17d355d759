#!/usr/bin/env bash
# Builds one libFuzzer harness with AddressSanitizer and runs it for SECONDS.
#
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer options...]
#
# TARGET is a folder of Fuzz/: JPEGThumbnail, PNGThumbnail, WebPThumbnail, GIFThumbnail, HEIFThumbnail (HEIC and
# AVIF), ExifMetadata, MultipartUpload, RequestParameters, AWSSignature, RawRequestHead (case-insensitive; jpeg, png,
# webp, gif, heif, exif, multipart, params, aws and rawhead work too). The build goes to .build-fuzz, optimized (-c release: 8-13 times the
# executions per CPU-second of a debug build, with the same ASan checks; FUZZ_BUILD=debug builds the slower debug
# one). Every Swift module and our C shims are instrumented there; the system libjpeg, libpng, libexif, libwebp,
# giflib and libheif are not. The working corpus
# grows in .build-fuzz/corpus/TARGET, findings land in .build-fuzz/findings/TARGET; both are ignored by git. Seeds
# come from Fixtures/fuzz/TARGET and, for the parsers of image files, from ../shared/corpus when it is there.
# The last line is a machine-readable summary (FUZZ-SUMMARY ...) that scripts/fuzz-all.sh collects.
# Exit status: 0 when nothing was found, 1 when libFuzzer found a crash, leak, timeout or out-of-memory, 2 for usage.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/fuzz.sh JPEGThumbnail|PNGThumbnail|WebPThumbnail|GIFThumbnail|HEIFThumbnail|ExifMetadata|MultipartUpload|RequestParameters|AWSSignature|RawRequestHead SECONDS [libFuzzer options]" >&2; exit 2; }
[ $# -ge 2 ] || usage
case "$(echo "$1" | tr '[:upper:]' '[:lower:]')" in
    jpeg|jpegthumbnail) target=JPEGThumbnail; dict=jpeg.dict; kind=jpeg; max_len=65536 ;;
    png|pngthumbnail) target=PNGThumbnail; dict=png.dict; kind=png; max_len=65536 ;;
    webp|webpthumbnail) target=WebPThumbnail; dict=webp.dict; kind=webp; max_len=65536 ;;
    gif|gifthumbnail) target=GIFThumbnail; dict=gif.dict; kind=gif; max_len=65536 ;;
    heif|heic|avif|heifthumbnail) target=HEIFThumbnail; dict=heif.dict; kind=heif; max_len=65536 ;;
    exif|exifmetadata) target=ExifMetadata; dict=exif.dict; kind=image; max_len=131072 ;;
    multipart|multipartupload) target=MultipartUpload; dict=multipart.dict; kind=none; max_len=32768 ;;
    params|requestparameters) target=RequestParameters; dict=request.dict; kind=none; max_len=1024 ;;
    aws|sigv4|awssignature) target=AWSSignature; dict=aws.dict; kind=none; max_len=8192 ;;
    rawhead|head|rawrequesthead) target=RawRequestHead; dict=http-head.dict; kind=none; max_len=4096 ;;
    *) usage ;;
esac
seconds=$2
shift 2
[[ "$seconds" =~ ^[0-9]+$ ]] || usage
export PATH="/opt/swift/usr/bin:$PATH"

scratch=.build-fuzz
product=Fuzz$target
config="${FUZZ_BUILD:-release}"
case "$config" in debug|release) ;; *) echo "fuzz: FUZZ_BUILD is debug or release" >&2; exit 2 ;; esac
echo "fuzz: building $product ($config) with -sanitize=fuzzer,address in $scratch" >&2
# -sanitize=fuzzer,address: coverage counters and ASan in every Swift module, libFuzzer linked in; with FUZZING
# defined, a harness's main calls LLVMFuzzerRunDriver (SwiftPM renames main, so libFuzzer's own is unused).
# -fsanitize=fuzzer-no-link,address
# for the C targets (our libjpeg/libpng shims, and the C parts of dependencies); FUZZING there too (the JPEG
# entropy decoder's window is smaller, so the fuzzer's small inputs slide it).
# FUZZ_NO_BUILD=1 runs the binary already built (a rotation between harnesses, while another build holds the lock).
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
    swift build -c "$config" --scratch-path "$scratch" --product "$product" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING \
        -Xcc -fsanitize=fuzzer-no-link,address -Xcc -DFUZZING 2>&1 |
        grep -v "Cannot export local symbol '__asan" >&2  # gold's noise about ASan's own local helpers
fi
# Not `swift build --show-bin-path`: without the same flags it replans the build, and the next run relinks.
binary="$scratch/$config/$product"

corpus="$scratch/corpus/$target"
seeds="$scratch/seeds/$target"
# Not $scratch/artifacts: SwiftPM keeps binary artifacts there and empties it when it resolves the package.
artifacts="$scratch/findings/$target"
mkdir -p "$corpus" "$artifacts"
rm -rf "$seeds"
mkdir -p "$seeds"
# Seeds: the regression fixtures (these are the harness's own format), then files of the right kind from the shared
# corpus, cut to max_len (the head of a camera JPEG holds its EXIF and SOF).
if [ -d "Fixtures/fuzz/$target" ]; then
    find "Fixtures/fuzz/$target" -type f ! -name '*.md' -exec cp {} "$seeds/" \;
fi
if [ "$kind" != none ] && [ -d ../shared/corpus ]; then
    while IFS= read -r -d '' file; do
        magic="$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')"
        case "$magic" in
            ffd8ff*) format=jpeg ;;
            89504e47*) format=png ;;
            52494646*) format=webp ;;
            47494638*) format=gif ;;
            ????????66747970) format=heif ;;
            *) continue ;;
        esac
        [ "$kind" = image ] || [ "$kind" = "$format" ] || continue
        name="${file#../shared/corpus/}"
        head -c "$max_len" "$file" > "$seeds/${name//\//_}"
    done < <(find ../shared/corpus -type f \( -name '*.jpg' -o -name '*.jpeg' -o -name '*.png' -o -name '*.webp' \
        -o -name '*.gif' -o -name '*.heic' -o -name '*.heif' -o -name '*.avif' \) -print0)
fi
echo "fuzz: $(ls "$seeds" | wc -l) seeds, $(ls "$corpus" | wc -l) inputs in $corpus" >&2

log="$scratch/logs/$target-$(date -u +%Y%m%dT%H%M%SZ).log"
mkdir -p "$(dirname "$log")"
marker="$(mktemp)"
status=0
# rss_limit_mb and timeout are the issue's bounds: 512 MB and 2 s. -max_len keeps each execution short.
# ASan keeps freed memory mapped, so a process's RSS creeps up over hundreds of thousands of runs while its live heap
# stays small (an ExifMetadata run reached 521 MB of RSS with 31 MB live): a smaller quarantine and returning freed
# memory to the system keep -rss_limit_mb about the inputs, not the allocator.
# The Swift runtime's backtracer reads freed memory as it dumps a trap (ASan then reports a use-after-free inside
# the crash handler, hiding the trap): libFuzzer's own deadly-signal report names the trap's stack instead.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
asan_defaults=detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=64:allocator_release_to_os_interval_ms=1000
# nice 19: the fuzzer takes only the CPU nobody else wants (the machine is shared). With autogroup scheduling
# (/proc/sys/kernel/sched_autogroup_enabled) nice only weighs inside one session, and a fuzzer started from its own
# session took a full core from a test run beside it: it runs in a new session whose autogroup is niced too.
# Leaks inside system libraries that picpipe cannot free (scripts/fuzz-lsan.supp says which) do not stop a run.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/scripts/fuzz-lsan.supp:print_suppressions=0}"
ASAN_OPTIONS="${ASAN_OPTIONS:-$asan_defaults}" setsid --wait sh -c \
    'echo 19 > /proc/self/autogroup 2>/dev/null; exec nice -n 19 "$@"' fuzz "$binary" "$corpus" "$seeds" \
    -dict="Fuzz/dictionaries/$dict" -max_total_time="$seconds" -rss_limit_mb=512 -timeout=2 -max_len="$max_len" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" > "$log" 2>&1 || status=$?

# The last status line carries cov/ft; the final stats the executions and speed.
last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
cov="$(echo "$last" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')"
ft="$(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')"
corp="$(echo "$last" | sed -nE 's/.* corp: ([0-9]+).*/\1/p')"
execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)"
rate="$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log" | tail -1)"
rss="$(sed -nE 's/^stat::peak_rss_mb: *([0-9]+)/\1/p' "$log" | tail -1)"
count() { find "$artifacts" -maxdepth 1 -type f -name "$1-*" -newer "$marker" | wc -l; }
crashes=$(count crash); leaks=$(count leak); timeouts=$(count timeout); ooms=$(count oom)
rm -f "$marker"

echo "fuzz: $target ($config) ran ${seconds}s: ${execs:-?} executions (${rate:-?}/s), cov ${cov:-?} ft ${ft:-?}, corpus ${corp:-?}, peak RSS ${rss:-?} MB"
echo "fuzz: findings: $crashes crashes, $leaks leaks, $timeouts timeouts, $ooms out-of-memory (log: $log)"
if [ $((crashes + leaks + timeouts + ooms)) -gt 0 ] || [ "$status" -ne 0 ]; then
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY|invariant broken|Fatal error|Test unit written' "$log" | head -20 || true
    echo "fuzz: reproduce with: $binary ARTIFACT   (or the replay tool: swift run $product ARTIFACT)"
fi
echo "FUZZ-SUMMARY target=$target build=$config seconds=$seconds execs=${execs:-0} rate=${rate:-0} cov=${cov:-0} ft=${ft:-0} corpus=${corp:-0} crashes=$crashes leaks=$leaks timeouts=$timeouts ooms=$ooms status=$status"
[ "$status" -eq 0 ] || exit 1
