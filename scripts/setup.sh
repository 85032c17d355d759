#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for picpipe: the system libraries it links, then a debug build
# with the tests (so `swift test` starts at once). Run as root, or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

# liblcms2-dev converts colour profiles; icc-profiles-free and libvips-tools are for the colour tests (reference
# profiles, and vipsthumbnail to compare with).
packages=(pkg-config libjpeg-dev libpng-dev libexif-dev libsqlite3-dev liblcms2-dev icc-profiles-free libvips-tools)
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${packages[@]}"

if ! command -v swift > /dev/null; then
    if [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH
    else echo "setup: Swift 6 is needed (https://www.swift.org/install/linux/); not found on PATH" >&2; exit 1; fi
fi
swift build --build-tests
echo "setup: done. Run the tests with: swift test"
