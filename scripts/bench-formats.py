#!/usr/bin/env python3
"""Formats benchmark (README "Formats"): picpipe's WebP and AVIF thumbnails beside vips', HEIC input beside
vips' heifload, and the bytes WebP and AVIF save against JPEG q82 at matched SSIM.

Usage: scripts/bench-formats.py BIN IMAGES_DIR [--runs N] [--part bytes|speed|all]
  BIN         the picpipe binary (a release build for the speed part; the bytes part is the same with any build)
  IMAGES_DIR  JPEG photos (the benchmark set's jpeg12: 12 MP camera pictures)

bytes: a 256 px thumbnail of every picture as lossless PNG (the reference), as JPEG q82, and as WebP and AVIF at a
  sweep of qualities; SSIM (scripts/ssim.py: luma, 8x8 windows, decoded by ImageMagick) of each against the
  reference, averaged over the set. For WebP and AVIF the lowest quality whose mean SSIM is within 0.005 of JPEG
  q82's, and its bytes against JPEG's.
speed: img/s on one core (picpipe batch -j 1, which also hashes and stores each original and reads its metadata;
  one vipsthumbnail process for all the files, with VIPS_CONCURRENCY=1), median of N runs, same files, same run: WebP output (Q=80 both), AVIF output (quality 60;
  picpipe speed 6 = vips effort 3, the same aom speed), and 12 MP HEIC input
  (made with heif-enc -q 90 from the first 5 JPEGs, kept in $PICPIPE_BENCH_HEIC_DIR, default
  /tmp/picpipe-bench-heic12) to JPEG output.
"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ssim as ssim_module  # noqa: E402


def run(arguments, env=None):
    subprocess.run(arguments, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def thumbnails(store, extension):
    """hash -> path of the 256 px thumbnails with that extension in a store."""
    found = {}
    for path in glob.glob(os.path.join(store, "thumbnails", "256", "*", "*." + extension)):
        found[os.path.basename(path).split("-")[0]] = path
    return found


def batch(binary, images, work, name, extra):
    store = os.path.join(work, name)
    shutil.rmtree(store, ignore_errors=True)
    run([binary, "batch", images, "--store", store, "--sizes", "256", "-j", "2", "-q"] + extra)
    return store


def mean_ssim(references, candidates, work):
    scores = []
    for key, reference in references.items():
        decoded = candidates[key]
        if decoded.endswith((".webp", ".avif")):
            # Decoded by the reference decoders (dwebp, avifdec) to PNG, then read by ImageMagick.
            png = os.path.join(work, "decoded.png")
            tool = ["dwebp", decoded, "-o", png] if decoded.endswith(".webp") else ["avifdec", decoded, png]
            run(tool)
            decoded = png
        scores.append(ssim_module.ssim(ssim_module.luma(reference), ssim_module.luma(decoded)))
    return statistics.fmean(scores)


def total_bytes(files):
    return sum(os.path.getsize(path) for path in files.values())


def bytes_part(binary, images, work):
    reference = thumbnails(batch(binary, images, work, "png", ["--format", "png"]), "png")
    jpeg = thumbnails(batch(binary, images, work, "jpeg", ["--format", "jpeg", "--quality", "82"]), "jpg")
    jpeg_ssim, jpeg_bytes = mean_ssim(reference, jpeg, work), total_bytes(jpeg)
    print(f"JPEG q82: mean SSIM {jpeg_ssim:.4f}, {jpeg_bytes} bytes for {len(jpeg)} thumbnails")
    target = jpeg_ssim - 0.005
    for fmt, qualities in (("webp", range(75, 101, 5)), ("avif", range(40, 101, 5))):
        chosen = None
        for quality in qualities:
            store = batch(binary, images, work, f"{fmt}{quality}", ["--format", fmt, "--quality", str(quality)])
            files = thumbnails(store, fmt)
            score, size = mean_ssim(reference, files, work), total_bytes(files)
            print(f"  {fmt} q{quality}: mean SSIM {score:.4f}, {size} bytes ({size / jpeg_bytes:.1%} of JPEG)")
            if score >= target:
                chosen = (quality, score, size)
                break
        if chosen:
            quality, score, size = chosen
            print(f"{fmt.upper()} at matched SSIM (>= {target:.4f}): q{quality}, SSIM {score:.4f}, {size} bytes = "
                  f"{1 - size / jpeg_bytes:.1%} smaller than JPEG q82")
        else:
            print(f"{fmt.upper()}: no quality in the sweep reaches SSIM {target:.4f}")


def timed(command, env=None):
    start = time.perf_counter()
    run(command, env=env)
    return time.perf_counter() - start


def speed_part(binary, images, work, runs):
    files = sorted(glob.glob(os.path.join(images, "*.jpg")))
    # HEIC versions of the first 5 pictures (x265 takes seconds a picture), kept between runs.
    heic_dir = os.environ.get("PICPIPE_BENCH_HEIC_DIR", "/tmp/picpipe-bench-heic12")
    os.makedirs(heic_dir, exist_ok=True)
    for path in files[:5]:
        target = os.path.join(heic_dir, os.path.basename(path)[:-4] + ".heic")
        if not os.path.exists(target):
            run(["heif-enc", "-q", "90", path, "-o", target])
    heics = sorted(glob.glob(os.path.join(heic_dir, "*.heic")))
    one_core = dict(os.environ, VIPS_CONCURRENCY="1")
    cases = [
        ("WebP output", files, ["--format", "webp", "--quality", "80"], "[Q=80]", "webp"),
        ("AVIF output", files, ["--format", "avif", "--quality", "60", "--speed", "6"], "[Q=60,effort=3]", "avif"),
        ("HEIC input", heics, ["--format", "jpeg", "--quality", "82"], "[Q=82]", "jpg"),
    ]
    for name, inputs, options, vips_options, extension in cases:
        folder = os.path.dirname(inputs[0])
        ours, theirs = [], []
        for _ in range(runs):
            store = os.path.join(work, "speed-store")
            shutil.rmtree(store, ignore_errors=True)
            ours.append(timed([binary, "batch", folder, "--store", store, "--sizes", "256", "-j", "1", "-q"] + options))
            out = os.path.join(work, "vips-out")
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            theirs.append(timed(
                ["vipsthumbnail"] + inputs + ["--size", "256", "-o", os.path.join(out, f"%s.{extension}{vips_options}")],
                env=one_core))
        picpipe_rate = len(inputs) / statistics.median(ours)
        vips_rate = len(inputs) / statistics.median(theirs)
        print(f"{name}: picpipe {picpipe_rate:.2f} img/s/core, vipsthumbnail {vips_rate:.2f} img/s/core, "
              f"ratio {picpipe_rate / vips_rate:.2f}x ({len(inputs)} files, median of {runs})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("images")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--part", choices=["bytes", "speed", "all"], default="all")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="picpipe-bench-formats-") as work:
        if arguments.part in ("bytes", "all"):
            bytes_part(arguments.binary, arguments.images, work)
        if arguments.part in ("speed", "all"):
            speed_part(arguments.binary, arguments.images, work, arguments.runs)


if __name__ == "__main__":
    main()
