#!/usr/bin/env python3
"""Writes DIR/MANIFEST.json for adgap's own models: every file's SHA-256 and size, and how the
files were made (the commands, the commit, the seed, the machine). Benchmark figures measured
with these files are kept from an existing manifest when the files are unchanged, and added by
bench/models_bench.sh (--benchmark NAME=FILE.json).

    scripts/models_manifest.py models --seed 0 --command "adgap train ..." ...
    scripts/models_manifest.py models --benchmark bench_v2=docs/results/bench_v2.json
    scripts/models_manifest.py models --check      # exit 1 when a file's SHA-256 differs
"""

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_files(root):
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith(".safetensors") or n == "weights.json":
                out.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(out)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--command", action="append", default=[], help="a command that made them")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--seconds", type=int, help="time the commands took")
    ap.add_argument("--commit", help="default: the checkout's HEAD")
    ap.add_argument("--note", help="how the files were made, beyond the commands")
    ap.add_argument("--benchmark", action="append", default=[], metavar="NAME=FILE.json",
                    help="a benchmark's result measured with these files")
    ap.add_argument("--check", action="store_true", help="verify the SHA-256 of every file")
    a = ap.parse_args()

    path = os.path.join(a.dir, "MANIFEST.json")
    old = {}
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    files = {f: {"sha256": sha256(os.path.join(a.dir, f)),
                 "bytes": os.path.getsize(os.path.join(a.dir, f))} for f in model_files(a.dir)}
    if a.check:
        bad = [f for f in files if old.get("files", {}).get(f, {}).get("sha256") !=
               files[f]["sha256"]]
        bad += [f for f in old.get("files", {}) if f not in files]
        for f in bad:
            print("%s: SHA-256 differs from %s (or the file is missing)" % (f, path),
                  file=sys.stderr)
        print("%s: %d files, %d differ" % (path, len(files), len(bad)))
        return 1 if bad else 0

    same = old.get("files") == files
    m = dict(old) if same else {}
    m["files"] = files
    made = m.get("made_by", {})
    if a.command:
        commit = a.commit or subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True,
                                            text=True).stdout.strip()
        made = {"commands": a.command, "commit": commit, "seed": a.seed,
                "seconds": a.seconds, "machine": "%s, %d cores" % (cpu_name(), os.cpu_count())}
        if a.note:
            made["note"] = a.note
    m["made_by"] = made
    bench = m.get("benchmarks", {})
    for b in a.benchmark:
        name, _, file = b.partition("=")
        with open(file) as f:
            bench[name] = {"file": file, "result": json.load(f)}
    m["benchmarks"] = bench
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(m, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
    print("%s: %d files%s" % (path, len(files), "" if same else " (new files: benchmarks reset)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
