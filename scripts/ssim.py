#!/usr/bin/env python3
"""SSIM of two pictures of the same size, on luma (BT.601), 8x8 uniform windows with stride 1 (Wang et al. 2004
constants). Reads any format ImageMagick's convert reads (so the decode is ImageMagick's, not picpipe's).

Usage: scripts/ssim.py REFERENCE DISTORTED   -> prints the mean SSIM
"""
import subprocess
import sys

import numpy as np


def luma(path):
    size = subprocess.run(["identify", "-format", "%w %h", path + "[0]"], check=True, capture_output=True, text=True)
    width, height = map(int, size.stdout.split())
    raw = subprocess.run(["convert", path + "[0]", "-background", "white", "-flatten", "-depth", "8", "rgb:-"],
                         check=True, capture_output=True).stdout
    rgb = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).astype(np.float64)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def window_means(image, size=8):
    total = np.cumsum(np.cumsum(np.pad(image, ((1, 0), (1, 0))), axis=0), axis=1)
    sums = total[size:, size:] - total[:-size, size:] - total[size:, :-size] + total[:-size, :-size]
    return sums / (size * size)


def ssim(a, b):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = window_means(a), window_means(b)
    var_a = window_means(a * a) - mu_a ** 2
    var_b = window_means(b * b) - mu_b ** 2
    cov = window_means(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(index.mean())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = luma(sys.argv[1]), luma(sys.argv[2])
    if a.shape != b.shape:
        sys.exit(f"sizes differ: {a.shape} and {b.shape}")
    print(f"{ssim(a, b):.5f}")
