#!/usr/bin/env bash
# Runs the test suite under a sanitizer, in its own scratch path (a sanitizer build recompiles every dependency, so
# it must not share .build): .build-asan for address, .build-tsan for thread. Not part of CI (.ci/run): a sanitizer
# build of every dependency takes longer than CI should.
#
#   scripts/sanitize.sh address|thread [swift test options, e.g. --filter ImageCoreTests]
#
# The CLI suites start the same build's `picpipe serve` processes, whose reports would go to a stderr the tests
# capture or discard: every process writes its reports to SCRATCH/sanitizer-reports/ instead, and the script fails
# (exit 1) when any report is there, printing each one's SUMMARY line, whatever the tests said.
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
# Tests whose bound is about picpipe's own memory (the RSS of 100 concurrent uploads) allow for the sanitizer's.
export PICPIPE_TEST_SANITIZER="$sanitizer"
reports="$PWD/$scratch/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
# log_path: a file per process (NAME.PID). A report does not change a process's exit status (exitcode=0 for TSan
# and LeakSanitizer; an ASan memory error still ends the process, as it must), so a test sees the same process
# behaviour as without the sanitizer and the report is counted here instead.
# LeakSanitizer runs with ASan; Swift's runtime keeps its metadata caches for the life of the process, which LSan does
# not report (they stay reachable).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:log_path=$reports/asan}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0:exitcode=0:log_path=$reports/tsan}"
# Leaks inside the toolchain's Foundation and XCTest (scripts/lsan.supp says which and why) are not picpipe's.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0:exitcode=0}"
swift build --build-tests --scratch-path "$scratch" --sanitize="$sanitizer" 2>&1 |
    grep -v "Cannot export local symbol '__asan"
status=0
swift test --skip-build --scratch-path "$scratch" --sanitize="$sanitizer" "$@" || status=$?
found=$(find "$reports" -type f | wc -l)
echo "sanitize: $sanitizer: $found report file(s) in $reports"
if [ "$found" -gt 0 ]; then
    grep -h "^SUMMARY:" "$reports"/* | sort | uniq -c | sort -rn | head -40
    exit 1
fi
exit "$status"
