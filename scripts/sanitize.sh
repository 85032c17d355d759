#!/usr/bin/env bash
# Runs the test suite under a sanitizer, in its own scratch path (a sanitizer build recompiles every dependency, so
# it must not share .build): .build-asan for address, .build-tsan for thread. Not part of CI (.ci/run): a sanitizer
# build of every dependency takes longer than CI should.
#
#   scripts/sanitize.sh address|thread [swift test options, e.g. --filter ImageCoreTests]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
case "${1:-}" in
    address) scratch=.build-asan ;;
    thread) scratch=.build-tsan ;;
    *) echo "usage: scripts/sanitize.sh address|thread [swift test options]" >&2; exit 2 ;;
esac
sanitizer=$1
shift
# LeakSanitizer runs with ASan; Swift's runtime keeps its metadata caches for the life of the process, which LSan does
# not report (they stay reachable). halt_on_error: stop at the first report, as CI would want.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1}"
# Leaks inside the toolchain's Foundation and XCTest (scripts/lsan.supp says which and why) are not picpipe's.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=1}"
swift build --build-tests --scratch-path "$scratch" --sanitize="$sanitizer" 2>&1 |
    grep -v "Cannot export local symbol '__asan"
exec swift test --skip-build --scratch-path "$scratch" --sanitize="$sanitizer" "$@"
