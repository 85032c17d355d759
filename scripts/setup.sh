#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for picpipe: the system libraries it links, a debug build with the tests (so
# `swift test` starts at once), then the release binary the README's examples use (.build/release/picpipe).
# Run as root, or with sudo available.
#
#   ./scripts/setup.sh               # packages, debug build + tests, release binary
#   ./scripts/setup.sh --no-release  # skip the release build (CI does: it takes about 20 minutes on 2 cores)
#   PICPIPE_SETUP_RELEASE=0 ./scripts/setup.sh   # the same, from the environment
#   PICPIPE_SETUP_DRY_RUN=1 ./scripts/setup.sh   # print the steps instead of running them
set -euo pipefail
cd "$(dirname "$0")/.."

release="${PICPIPE_SETUP_RELEASE:-1}"
for argument in "$@"; do
    case "$argument" in
        --no-release) release=0 ;;
        --release) release=1 ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "setup: unknown option '$argument' (known: --no-release, --release, --help)" >&2; exit 2 ;;
    esac
done

run() {
    if [ "${PICPIPE_SETUP_DRY_RUN:-0}" = 1 ]; then echo "+ $*"; else "$@"; fi
}

# liblcms2-dev converts colour profiles; icc-profiles-free and libvips-tools are for the colour tests (reference
# profiles, and vipsthumbnail to compare with). libwebp-dev, libgif-dev and libheif-dev (HEIC and AVIF, with its
# libde265, dav1d and aom codecs) read and write the formats beyond JPEG and PNG. libdeflate-dev inflates PNG image
# data ahead of libpng (faster than zlib).
packages=(pkg-config libjpeg-dev libpng-dev libexif-dev libsqlite3-dev liblcms2-dev icc-profiles-free libvips-tools
    libwebp-dev libgif-dev libheif-dev libdeflate-dev)
# curl fetches presigned S3 URLs in the AWS tests, as a user would.
packages+=(curl)
# postgresql: the shared database of a scaled-out installation, and the server scripts/test-postgres.sh starts
# for the tests.
packages+=(postgresql)
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
run "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
run "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${packages[@]}"

if ! command -v swift > /dev/null; then
    if [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH
    else echo "setup: Swift 6 is needed (https://www.swift.org/install/linux/); not found on PATH" >&2; exit 1; fi
fi
run swift build --build-tests
if [ "$release" = 1 ]; then
    echo "setup: building the release binary (about 20 minutes on 2 cores; --no-release skips it)"
    # The Swift runtime and Foundation linked in: a process starts without loading 15 of its shared libraries
    # (serve's cold start 68 -> 51 ms, README "Cold start"); the C image libraries stay Debian's shared ones.
    run swift build -c release --static-swift-stdlib --product picpipe
    echo "setup: done. The binary: $PWD/.build/release/picpipe"
    echo "       Put it on the PATH with: export PATH=\"$PWD/.build/release:\$PATH\""
else
    echo "setup: done (no release build: the debug binary is .build/debug/picpipe)."
fi
echo "       Run the tests with: swift test"
