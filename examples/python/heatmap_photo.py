#!/usr/bin/python3
"""A photo's AdGAP heatmap and the digits found in it, shown with matplotlib.

    /usr/bin/python3 examples/python/heatmap_photo.py PHOTO [--model FILE] [--out FIGURE.png]

Without --out the figure opens in a window; MPLBACKEND=Agg with --out writes it headless.
"""
import argparse

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

import adgap


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("photo")
    ap.add_argument("--model", help="trained model (default: adgap's own, models/)")
    ap.add_argument("--out", help="write the figure to this file instead of showing it")
    args = ap.parse_args()

    loc = adgap.load(args.model)
    bgr = adgap.read_image(args.photo)           # uint8 (H, W, 3), BGR like cv2.imread
    heat = loc.heatmap(bgr)                      # float32 (H, W) in [0, 1]
    result = loc.detect(bgr)
    rgb = bgr[:, :, ::-1]

    mask = heat > heat.mean() + 3 * heat.std()   # the default threshold: mean + 3 std
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    axes[0].imshow(rgb)
    axes[0].set_title("photo, %d digits read" % len(result["detections"]))
    for d in result["detections"]:
        x, y, w, h = d["box"]
        axes[0].add_patch(Rectangle((x, y), w, h, fill=False, color="lime", linewidth=1.5))
        axes[0].text(x, y - 2, "%d %.2f" % (d["label"], d["score"]), color="lime", fontsize=8)
    axes[1].imshow(rgb)
    axes[1].imshow(heat, cmap="jet", alpha=0.5)
    axes[1].set_title("AdGAP heatmap")
    axes[2].imshow(np.where(mask, 255, 0), cmap="gray")
    axes[2].set_title("mean + 3 std")
    for a in axes:
        a.axis("off")
    fig.tight_layout()
    if args.out:
        fig.savefig(args.out, dpi=80)
    else:
        plt.show()


if __name__ == "__main__":
    main()
