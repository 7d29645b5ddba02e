#!/usr/bin/python3
"""Reads the digits and numbers of every image in a folder, one line per image.

    /usr/bin/python3 examples/python/detect_folder.py FOLDER [--model FILE] [--workers N]
"""
import argparse
import os

import adgap

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--model", help="trained model (default: adgap's own, models/)")
    ap.add_argument("--workers", type=int, default=1, help="images processed at once")
    args = ap.parse_args()

    loc = adgap.load(args.model)
    names = sorted(n for n in os.listdir(args.folder) if n.lower().endswith(IMAGE_SUFFIXES))
    paths = [os.path.join(args.folder, n) for n in names]
    for name, r in zip(names, loc.detect_files(paths, workers=args.workers)):
        if "error" in r:
            print("%s: error: %s" % (name, r["error"]))
            continue
        numbers = " ".join(n["text"] for n in r["numbers"]) or "-"
        print("%s: %d digits, numbers: %s" % (name, len(r["detections"]), numbers))


if __name__ == "__main__":
    main()
