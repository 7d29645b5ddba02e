#!/usr/bin/env python3
"""`adgap serve` under load, and how long a 1-megapixel photo takes.

Starts `adgap serve` on a free port, then:
1. latency: each photo posted alone, several times: the server's time and the round trip;
2. load: CLIENTS threads post photos for SECONDS; every answer must be the photo's reference
   answer (its first answer alone) or a clean 503 (JSON error, Retry-After, after which the
   client waits as told); the server's resident memory is sampled every 0.5 s;
3. afterwards the server must still answer, and stop cleanly on SIGTERM.
Exit status 1 when an answer is wrong, the server dies, or its memory in the last third of the
run exceeds the first third's peak by more than --rss-growth MB.

The photos are opencv-doc photos with digits scaled to 1 megapixel (JPEG), or --photos.

  /usr/bin/python3 bench/serve_load.py [--model models/model.safetensors] [--clients 20]
      [--seconds 60] [--out docs/results/serve]
"""

import argparse
import glob
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PHOTOS = "/usr/share/doc/opencv-doc/examples/data/"
SAMPLES = ["licenseplate_motion.jpg", "sudoku.png", "text_motion.jpg", "imageTextN.png"]
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def one_megapixel(out_dir):
    """The sample photos scaled to about 1,000,000 pixels, as JPEGs (quality 90)."""
    import cv2
    paths = []
    for name in SAMPLES:
        img = cv2.imread(PHOTOS + name)
        s = math.sqrt(1e6 / (img.shape[0] * img.shape[1]))
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
        path = os.path.join(out_dir, name.rsplit(".", 1)[0] + "-1mp.jpg")
        cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def post(url, body, name):
    req = urllib.request.Request(url + "/api/analyze?name=" + name, data=body, method="POST",
                                 headers={"Content-Type": "application/octet-stream"})
    try:
        with OPENER.open(req, timeout=300) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "adgap"))
    ap.add_argument("--model", default="models/model.safetensors", help="relative to the repository")
    ap.add_argument("--photos", nargs="*", help="default: opencv-doc photos at 1 MP")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--repeats", type=int, default=3, help="latency: posts of each photo")
    ap.add_argument("--rss-growth", type=float, default=100, help="MB allowed, see above")
    ap.add_argument("--out", help="write OUT.md and OUT.json")
    ap.add_argument("--browser", action="store_true",
                    help="also time each photo in headless chromium, from the file input to the "
                         "map and to the digits shown (tests/browser/viewer.cjs)")
    ap.add_argument("--screenshot", help="with --browser: the page with the 2nd photo, as PNG")
    ap.add_argument("serve_args", nargs="*", help="more `adgap serve` options (after --)")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="serve-load-")
    photos = a.photos or one_megapixel(tmp)
    bodies = {os.path.basename(p): open(p, "rb").read() for p in photos}
    sizes = {}
    proc = subprocess.Popen([a.cli, "serve", "--model", a.model, "--port", "0", "--quiet",
                             *a.serve_args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    line = proc.stdout.readline()
    if not line.startswith("adgap serve: http://"):
        sys.exit("serve_load: the server did not start: " + line + proc.stderr.read())
    url = line.split()[2].rstrip("/")
    failures = []

    # 1. Latency, one request at a time; the first answer of each photo is its reference.
    reference, latency = {}, {}
    for _ in range(a.repeats):
        for name, body in bodies.items():
            t0 = time.perf_counter()
            code, _, b = post(url, body, name)
            wall = time.perf_counter() - t0
            if code != 200:
                sys.exit("serve_load: %s: %d %s" % (name, code, b[:200]))
            answer = json.loads(b)
            r = answer["result"]
            sizes[name] = (r["width"], r["height"])
            reference.setdefault(name, r)
            if r != reference[name]:
                failures.append("%s: answers differ between runs" % name)
            latency.setdefault(name, []).append((answer["ms"] / 1000, wall,
                                                 len(r["detections"])))

    # 1b. In the browser: the page's own timings, from choosing the file to the map shown and to
    # the digits drawn (two requests: the map alone, then the map with the digits).
    browser = {}
    if a.browser:
        npm = os.path.join(ROOT, "build", "npm")
        subprocess.run(["bash", os.path.join(ROOT, "tests", "browser", "install.sh"), npm],
                       check=True)
        for i, p in enumerate(photos):
            args = ["node", os.path.join(ROOT, "tests", "browser", "viewer.cjs"), url + "/", p, npm]
            if a.screenshot and i == 1:
                args.append(a.screenshot)
            page = json.loads(subprocess.run(args, check=True, capture_output=True,
                                             text=True).stdout)
            name = os.path.basename(p)
            if [b["box"] for b in page["boxes"]] != [d["box"] for d in
                                                     reference[name]["detections"]]:
                failures.append("%s: the page draws other boxes" % name)
            browser[name] = {"map_s": page["timing"]["map"] / 1000,
                             "digits_s": page["timing"]["digits"] / 1000}

    # 2. Load.
    counts = {"200": 0, "503": 0, "wrong": 0, "error": 0}
    lock = threading.Lock()
    stop_at = time.time() + a.seconds
    rss = []

    def client(i):
        names = sorted(bodies)
        k = i
        while time.time() < stop_at:
            name = names[k % len(names)]
            k += 1
            try:
                code, headers, b = post(url, bodies[name], name)
            except Exception as e:  # connection refused or reset: the server failed
                with lock:
                    counts["error"] += 1
                    failures.append("client %d: %s" % (i, e))
                time.sleep(0.5)
                continue
            with lock:
                if code == 200 and json.loads(b)["result"] == reference[name]:
                    counts["200"] += 1
                elif (code == 503 and headers.get("Retry-After") == "1"
                      and json.loads(b)["error"].startswith("busy")):
                    counts["503"] += 1
                else:
                    counts["wrong"] += 1
                    failures.append("%s: %d %s" % (name, code, b[:200]))
            if code == 503:
                time.sleep(float(headers.get("Retry-After", 1)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    t_start = time.time()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if proc.poll() is not None:
            failures.append("the server exited with %s during the load" % proc.returncode)
            break
        rss.append((time.time() - t_start, rss_mb(proc.pid)))
        time.sleep(0.5)
    for t in threads:
        t.join()

    # 3. Still serving, then a clean stop.
    alive = proc.poll() is None
    if alive:
        code, _, b = post(url, bodies[sorted(bodies)[0]], sorted(bodies)[0])
        if code != 200 or json.loads(b)["result"] != reference[sorted(bodies)[0]]:
            failures.append("after the load: %d" % code)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        if proc.returncode != 0 or "stopped" not in out:
            failures.append("SIGTERM: exit %s" % proc.returncode)
    third = a.seconds / 3
    first = max(m for t, m in rss if t <= third)
    last = max(m for t, m in rss if t >= 2 * third)
    if last - first > a.rss_growth:
        failures.append("memory grew from %.0f MB to %.0f MB" % (first, last))

    total = sum(counts.values())
    res = {
        "model": a.model, "clients": a.clients, "seconds": a.seconds,
        "photos": {n: {"size": sizes[n], "digits": latency[n][0][2],
                       "server_s": statistics.median(x[0] for x in latency[n]),
                       "round_trip_s": statistics.median(x[1] for x in latency[n])}
                   for n in sorted(bodies)},
        "browser": browser,
        "load": dict(counts, total=total, per_second=counts["200"] / a.seconds),
        "rss_mb": {"first_third_peak": first, "last_third_peak": last,
                   "max": max(m for _, m in rss), "samples": len(rss),
                   "peak_by_10s": [max([m for t, m in rss if w <= t < w + 10] or [0])
                                   for w in range(0, int(a.seconds), 10)]},
        "failures": failures[:20],
        "ok": not failures,
    }
    print(json.dumps(res, indent=2))
    if a.out:
        write_report(a, res)
    return 0 if res["ok"] else 1


def write_report(a, res):
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out + ".json.tmp", "w") as f:
        json.dump(res, f, indent=2)
    os.replace(a.out + ".json.tmp", a.out + ".json")
    lines = [
        "# `adgap serve`: a 1-megapixel photo, and 20 clients for a minute",
        "",
        "Made by `/usr/bin/python3 bench/serve_load.py --browser --out docs/results/serve` "
        "(model %s)." % res["model"],
        "Photos: opencv-doc photos with digits, scaled to about 1 megapixel (JPEG).",
        "",
        "## One photo at a time (median of %d)" % a.repeats,
        "",
        "| photo | size | digits found | server s | round trip s |",
        "|---|---|---|---|---|",
    ]
    for n, p in res["photos"].items():
        lines.append("| %s | %dx%d | %d | %.2f | %.2f |" % (n, p["size"][0], p["size"][1],
                                                          p["digits"], p["server_s"],
                                                          p["round_trip_s"]))
    if res["browser"]:
        lines += [
            "",
            "## In the browser (headless chromium on the same two cores)",
            "",
            "From choosing the file to the map shown, and to the digits drawn:",
            "",
            "| photo | map shown s | digits drawn s |",
            "|---|---|---|",
        ]
        for n, b in res["browser"].items():
            lines.append("| %s | %.2f | %.2f |" % (n, b["map_s"], b["digits_s"]))
    ld, m = res["load"], res["rss_mb"]
    lines += [
        "",
        "## %d clients for %g s" % (res["clients"], res["seconds"]),
        "",
        "| answers | correct (200) | clean 503 | wrong | connection errors | analyses/s |",
        "|---|---|---|---|---|---|",
        "| %d | %d | %d | %d | %d | %.2f |" % (ld["total"], ld["200"], ld["503"], ld["wrong"],
                                               ld["error"], ld["per_second"]),
        "",
        "Server memory (RSS): peak %.0f MB in the first third, %.0f MB in the last third, "
        "%.0f MB at most (%d samples, every 0.5 s). Peak of each 10 s: %s MB."
        % (m["first_third_peak"], m["last_third_peak"], m["max"], m["samples"],
           ", ".join("%.0f" % x for x in m["peak_by_10s"])),
        "",
        "Result: **%s**%s" % ("passed" if res["ok"] else "failed",
                              "" if res["ok"] else ": " + "; ".join(res["failures"][:5])),
        "",
    ]
    with open(a.out + ".md.tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(a.out + ".md.tmp", a.out + ".md")


if __name__ == "__main__":
    sys.exit(main())
