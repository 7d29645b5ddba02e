"""The measurement of bench/dask_scale.sh (a file, not standard input: Dask's worker processes
import the main module). Usage: dask_scale.py MODEL TMPDIR ROUNDS"""
import datetime
import os
import statistics
import sys
import time

from distributed import Client, LocalCluster, get_task_stream

import adgap
from adgap.dask import detect_paths, _localizer


def main():
    model, tmp, rounds = os.path.abspath(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    paths = open(f"{tmp}/list.txt").read().split()
    adgap.set_num_threads(1)
    serial = adgap.load(model).detect_files(paths)

    def timed(workers):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(lambda: _localizer(model, {}, 1) is not None)  # every worker loads first
            with get_task_stream(client) as ts:
                t = time.perf_counter()
                got = detect_paths(paths, model, client=client, group=1)
                t = time.perf_counter() - t
            used = len({x["worker"] for x in ts.data})
        return t, got == serial, used

    t = {1: [], 2: []}
    same, used = [], {1: set(), 2: set()}
    for r in range(rounds):
        for w in (1, 2):
            s, ok, u = timed(w)
            t[w].append(s)
            same.append(ok)
            used[w].add(u)
        print(f"round {r + 1}: 1 worker {t[1][-1]:.2f} s, 2 workers {t[2][-1]:.2f} s, "
              f"ratio {t[1][-1] / t[2][-1]:.2f}", file=sys.stderr)
    m1, m2 = statistics.median(t[1]), statistics.median(t[2])
    ratios = [a / b for a, b in zip(t[1], t[2])]
    n = len(paths)
    lines = [
        "# Scale-out on Dask",
        "",
        f"`bench/dask_scale.sh {rounds}` on {os.cpu_count()} cores, {datetime.date.today()}: "
        f"`adgap.dask.detect_paths` over {n} images (24 scenes of benchmark v2's eval split, six "
        f"1-megapixel wallpaper photos), model {sys.argv[1]}, one image per task, on a LocalCluster "
        f"of worker processes with one thread each, models loaded before the clock starts; "
        f"{rounds} alternating rounds.",
        "",
        "| workers | seconds (median) | images per second | rounds (s) |",
        "|---:|---:|---:|---|",
        f"| 1 | {m1:.2f} | {n / m1:.2f} | {', '.join(f'{x:.2f}' for x in t[1])} |",
        f"| 2 | {m2:.2f} | {n / m2:.2f} | {', '.join(f'{x:.2f}' for x in t[2])} |",
        "",
        f"Throughput of 2 workers against 1: **{m1 / m2:.2f}x** (medians); the rounds' own ratios "
        f"{', '.join(f'{x:.2f}' for x in ratios)}. Workers that did work: {sorted(used[2])} of 2. "
        f"Results equal to a serial run in {sum(same)} of {len(same)} runs.",
        "",
        f"Bar: >= 1.7x with identical results: {'met' if m1 / m2 >= 1.7 and all(same) else 'NOT met'}."]
    open("docs/results/dask_scale.md.tmp", "w").write("\n".join(lines) + "\n")
    os.replace("docs/results/dask_scale.md.tmp", "docs/results/dask_scale.md")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
