"""Detection over large collections on a dask.distributed cluster (Debian's python3-distributed).

    from adgap.dask import detect_paths
    results = detect_paths(paths, "models/model.safetensors")                  # a local cluster
    results = detect_paths(paths, model, client=Client("tcp://host:8786"),
                           jsonl="out/results.jsonl")                    # an existing one

Each worker process loads the model once and keeps it; tasks are small groups of paths. The
paths and the model must be readable under the same names on every worker (shared storage).
Results come back, and are written, in input order. Code that starts a local cluster must run
under `if __name__ == "__main__":` (its worker processes import the main module).
"""

import json
import os
import threading

from . import Localizer, load, set_num_threads

__all__ = ["detect_paths"]

_cache = {}
_cache_lock = threading.Lock()
_loads = 0  # models this process has loaded (the tests check: one per worker and setting)


def _localizer(model_path, options, threads):
    """The worker process's localizer for these settings, loaded on first use."""
    global _loads
    key = (model_path, tuple(sorted(options.items(), key=lambda kv: kv[0])), threads)
    with _cache_lock:
        loc = _cache.get(key)
        if loc is None:
            set_num_threads(threads)
            opts = {k: (list(v) if isinstance(v, tuple) else v) for k, v in key[1]}
            loc = _cache[key] = load(model_path, **opts)
            _loads += 1
        return loc


def _detect_group(paths, model_path, options, threads):
    return _localizer(model_path, options, threads).detect_files(paths)


def _resumed(jsonl, paths):
    """The results already in `jsonl` that are, line by line, the first of `paths` (a run
    writes in input order); the file is cut after the last such complete line."""
    done, keep = [], 0
    try:
        with open(jsonl, "rb") as f:
            for raw in f:
                if not raw.endswith(b"\n") or len(done) == len(paths):
                    break
                try:
                    r = json.loads(raw)
                except ValueError:
                    break
                if not isinstance(r, dict) or r.get("path") != paths[len(done)]:
                    break
                done.append(r)
                keep += len(raw)
    except FileNotFoundError:
        return []
    with open(jsonl, "r+b") as f:
        f.truncate(keep)
    return done


def detect_paths(paths, model_path=None, client=None, *, jsonl=None, resume=False,
                 group=4, threads=1, workers=None, **options):
    """Detects the digits of every image in `paths` on a Dask cluster; returns one dict per
    path in input order (the CLI's JSON schema; {"path", "error"} for a file that cannot be
    read).

    client: a dask.distributed Client; None starts a LocalCluster of `workers` processes
        (default: one per core) with one thread each, and closes it at the end.
    jsonl: a file that gets each result as one JSON line, in input order, as soon as it and
        all before it are done; with resume=True the results already in it are kept and those
        images are not processed again.
    group: paths per task (fewer, larger tasks cost less scheduling; smaller ones balance).
    threads: intra-op threads of each worker's computation (one per worker thread is fastest).
    options: as for adgap.load().
    """
    from distributed import Client, LocalCluster, as_completed

    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError("detect_paths: expected a list of paths, got one path")
    paths = [os.path.abspath(os.fspath(p)) for p in paths]
    if model_path is None:
        from . import default_model_path
        model_path = default_model_path()
    model_path = os.path.abspath(os.fspath(model_path))
    if not os.path.exists(model_path):
        raise FileNotFoundError("%s: no such model file" % model_path)
    if isinstance(group, bool) or not isinstance(group, int) or group < 1:
        raise ValueError("detect_paths: group must be an int >= 1")
    if resume and not jsonl:
        raise ValueError("detect_paths: resume needs a jsonl file")
    options = {k: (tuple(v) if isinstance(v, list) else v) for k, v in options.items()}

    done = _resumed(jsonl, paths) if (jsonl and resume) else []
    results = list(done) + [None] * (len(paths) - len(done))
    starts = list(range(len(done), len(paths), group))

    own = None
    if client is None and starts:
        n = workers or os.cpu_count() or 1
        own = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           dashboard_address=None)
        client = Client(own)
    out = None
    try:
        if jsonl:
            out = open(jsonl, "a" if done else "w", encoding="utf-8")
        written = len(done)
        if starts:
            futures = client.map(_detect_group, [paths[s:s + group] for s in starts],
                                 model_path=model_path, options=options, threads=threads,
                                 pure=False)
            start_of = {f.key: s for f, s in zip(futures, starts)}
            for fut in as_completed(futures):
                s = start_of[fut.key]
                group_results = fut.result()
                results[s:s + len(group_results)] = group_results
                fut.release()
                while written < len(results) and results[written] is not None:
                    if out:
                        out.write(json.dumps(results[written], separators=(",", ":")) + "\n")
                    written += 1
                if out:
                    out.flush()
    finally:
        if out:
            out.close()
        if own is not None:
            client.close()
            own.close()
    return results
