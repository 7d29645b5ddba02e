"""The Python package against the CLI: the same detections and maps on the same images, bad
arguments raised as Python exceptions, the GIL released while C++ computes."""

import json
import os
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest

import adgap
from conftest import CLI, PHOTOS, SOURCE_DIR, run_cli


def cli_detect(model, paths, tmp_path, *extra):
    """`adgap detect --json` over `paths`: its per-image dicts, in order."""
    out = tmp_path / "detections.json"
    p = run_cli("detect", "--model", model, "--reader", "none", "--json", out, "--no-images",
                "--quiet",
                "--out", tmp_path, *extra, *paths, check=False)
    assert p.returncode in (0, 3), p.stderr
    doc = json.loads(out.read_text())
    return doc["images"]


def test_detect_equals_the_cli_json(loc, model, scenes, photos, tmp_path):
    paths = scenes + photos
    expected = cli_detect(model, paths, tmp_path)
    assert [r["path"] for r in expected] == paths
    # Not a vacuous comparison: the test model finds digits in these scenes.
    assert sum(len(r["detections"]) for r in expected) >= 5
    assert all(set(r) == {"path", "width", "height", "detections", "numbers"} for r in expected)

    assert loc.detect_files(paths) == expected
    assert loc.detect_files(paths, workers=2) == expected
    assert [loc.detect_file(p) for p in paths] == expected
    for p, want in zip(paths, expected):
        image = adgap.read_image(p)
        want = {k: v for k, v in want.items() if k != "path"}
        assert loc.detect(image) == want, p


def test_read_image_is_what_opencv_reads(photos, scenes):
    for p in photos + scenes[:1]:
        a = adgap.read_image(p)
        assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
        assert np.array_equal(a, cv2.imread(p)), p


def test_gray_bgr_and_bgra_inputs_give_the_same_result(loc, photos):
    bgr = adgap.read_image(photos[1])
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    want = loc.detect(bgr)
    assert loc.detect(gray) == want
    assert loc.detect(gray[:, :, None]) == want
    assert loc.detect(bgra) == want
    # A view with strides (every other column) is copied, not misread.
    half = np.ascontiguousarray(bgr[:, ::2])
    assert loc.detect(bgr[:, ::2]) == loc.detect(half)
    assert np.array_equal(loc.heatmap(bgr[:, ::2]), loc.heatmap(half))


def test_heatmap_equals_the_cli_raw_map(loc, model, scenes, photos, tmp_path):
    for p in [scenes[0]] + photos:
        run_cli("heatmap", "--model", model, "--raw", "--out", tmp_path, p)
        stem = os.path.splitext(os.path.basename(p))[0]
        raw = cv2.imread(str(tmp_path / (stem + ".heat16.png")), cv2.IMREAD_UNCHANGED)
        image = adgap.read_image(p)
        h = loc.heatmap(image)
        assert h.dtype == np.float32 and h.shape == image.shape[:2] == raw.shape
        assert h.flags["C_CONTIGUOUS"] and h.flags["OWNDATA"] is False
        assert 0.0 <= h.min() and h.max() <= 1.0 and h.max() > 0.5
        # The CLI writes the map as OpenCV's convertTo does: round(65535 h) in float32.
        assert np.array_equal(np.rint(h * np.float32(65535)).astype(np.uint16), raw), p


def test_options_reach_the_library(model, photos):
    image = adgap.read_image(photos[0])
    base = adgap.load(model).heatmap(image)
    seven = adgap.load(model, cls=7).heatmap(image)
    pooled = adgap.load(model, mode="pooled").heatmap(image)
    assert seven.shape == pooled.shape == base.shape
    assert np.abs(seven - base).max() > 0.01
    assert np.abs(pooled - base).max() > 0.01
    one = adgap.load(model, scales=[1], k=2.5, min_score=0.9, reader="none")
    assert one.detect(image)["width"] == image.shape[1]
    assert adgap.load(model, reader="none").reader_path == ""
    assert adgap.load(model).weights_path == os.path.join(os.path.dirname(model), "weights.json")


def test_bad_arguments_raise_clear_exceptions(loc, model, tmp_path):
    img = np.zeros((40, 50), np.uint8)
    with pytest.raises(TypeError, match="dtype float32; expected uint8"):
        loc.detect(img.astype(np.float32))
    with pytest.raises(TypeError, match="uint8"):
        loc.heatmap(img.astype(np.int64))
    with pytest.raises(TypeError):
        loc.heatmap([[0, 1], [2, 3]])
    with pytest.raises(ValueError, match="2 channels"):
        loc.detect(np.zeros((40, 50, 2), np.uint8))
    with pytest.raises(ValueError, match="4 dimensions"):
        loc.heatmap(np.zeros((1, 40, 50, 3), np.uint8))
    with pytest.raises(ValueError, match="1 dimensions"):
        loc.heatmap(np.zeros(40, np.uint8))
    with pytest.raises(ValueError, match="empty"):
        loc.detect(np.zeros((0, 50, 3), np.uint8))

    missing = str(tmp_path / "nope" / "model.safetensors")
    with pytest.raises(FileNotFoundError, match="nope/model.safetensors"):
        adgap.load(missing)
    junk = tmp_path / "junk.safetensors"
    junk.write_text("{}")
    with pytest.raises(RuntimeError, match="junk.safetensors"):
        adgap.load(str(junk))
    with pytest.raises(TypeError, match="unknown option 'colour'"):
        adgap.load(model, colour=1)
    with pytest.raises(TypeError, match="option 'k': expected a number, got str"):
        adgap.load(model, k="3")
    with pytest.raises(TypeError, match="option 'by_error'"):
        adgap.load(model, by_error=1)
    with pytest.raises(TypeError, match="option 'scales'"):
        adgap.load(model, scales="1")
    with pytest.raises(ValueError, match="nonsense"):
        adgap.load(model, mode="nonsense")
    with pytest.raises(TypeError, match="list of paths"):
        loc.detect_files("one.png")
    with pytest.raises(OSError, match="notes.txt"):
        adgap.read_image(os.path.join(SOURCE_DIR, "README.md.notes.txt"))
    with pytest.raises(ValueError, match="negative"):
        adgap.set_num_threads(-1)
    with pytest.raises(TypeError):
        adgap.set_num_threads(1.5)


def test_unreadable_files_cost_only_themselves(loc, model, scenes, broken, tmp_path):
    paths = [scenes[0], broken[0], scenes[1], broken[1], broken[2]]
    got = loc.detect_files(paths)
    assert [r["path"] for r in got] == paths
    for r in (got[1], got[3], got[4]):
        assert set(r) == {"path", "error"} and r["error"], r
    assert "detections" in got[0] and "detections" in got[2]
    assert got == cli_detect(model, paths, tmp_path)  # the same errors as the CLI's
    assert loc.detect_file(broken[2]) == got[4]
    with pytest.raises(OSError, match="missing.jpg"):
        adgap.read_image(broken[2])
    # Streamed to JSON Lines as the CLI does, and resumed from there.
    jsonl = tmp_path / "out.jsonl"
    assert loc.detect_files(paths, jsonl=jsonl) == got
    lines = jsonl.read_text().splitlines()
    assert [json.loads(x) for x in lines] == got
    jsonl.write_text("\n".join(lines[:2]) + "\n" + lines[2][:10])  # killed while writing
    assert loc.detect_files(paths, jsonl=jsonl, resume=True) == got
    assert [json.loads(x) for x in jsonl.read_text().splitlines()] == got


def test_the_gil_is_released_while_cpp_computes(loc):
    adgap.set_num_threads(1)
    try:
        rng = np.random.default_rng(0)
        image = (rng.random((1400, 1400)) * 255).astype(np.uint8)
        t0 = time.perf_counter()
        serial = loc.heatmap(image)
        alone = time.perf_counter() - t0

        ticks, result = [], {}
        worker = threading.Thread(target=lambda: result.setdefault("h", loc.heatmap(image)))
        worker.start()
        while worker.is_alive():  # Python work on the main thread while the worker computes
            ticks.append(time.perf_counter())
            sum(range(200))
        worker.join()
        gaps = np.diff(ticks)
        # Held, the GIL would stop this loop for the whole call (`alone` seconds).
        assert len(ticks) > 100 and gaps.max() < 0.25 * alone, (len(ticks), gaps.max(), alone)
        assert np.array_equal(result["h"], serial)

        # Two threads on one localizer at once: the same maps as one after the other.
        out = [None, None]
        threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, loc.heatmap(image)))
                   for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert np.array_equal(out[0], serial) and np.array_equal(out[1], serial)
    finally:
        adgap.set_num_threads(0)


def test_setup_makes_import_adgap_work_from_anywhere(tmp_path):
    """scripts/install_python.sh (run by the README's setup command) puts the build tree's
    package on /usr/bin/python3's path with a .pth file; here into a scratch site directory."""
    site = tmp_path / "site"
    env = dict(os.environ, ADGAP_SITE_DIR=str(site))
    subprocess.run(["bash", os.path.join(SOURCE_DIR, "scripts", "install_python.sh")],
                   check=True, env=env, capture_output=True)
    pth = list(site.glob("*.pth"))
    assert len(pth) == 1
    env.pop("PYTHONPATH", None)
    # -S: none of the machine's own site directories (a setup run earlier on this machine may
    # have put another tree's adgap.pth there), only the scratch one.
    code = ("import site, sys; site.addsitedir(sys.argv[1]); import adgap; "
            "print(adgap.__file__); print(adgap._adgap.CLI)")
    p = subprocess.run(["/usr/bin/python3", "-S", "-c", code, str(site)], cwd=str(tmp_path),
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    pkg, cli = p.stdout.split()
    assert os.path.dirname(pkg) == os.path.dirname(adgap.__file__)
    assert cli == CLI


def test_the_examples_run(model, scenes, photos, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    ex = os.path.join(SOURCE_DIR, "examples", "python")
    png = tmp_path / "heat.png"
    # adgap's own models: the example also detects (the test model has no reader).
    p = subprocess.run([sys.executable, os.path.join(ex, "heatmap_photo.py"), photos[1],
                        "--out", str(png)],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    fig = cv2.imread(str(png))
    assert fig is not None and fig.shape[0] > 200 and fig.shape[1] > 400

    folder = tmp_path / "folder"
    folder.mkdir()
    for s in scenes[:3]:
        os.symlink(s, folder / os.path.basename(s))
    (folder / "readme.txt").write_text("not an image")
    # Detection with adgap's own models (the test model has no reader).
    p = subprocess.run([sys.executable, os.path.join(ex, "detect_folder.py"), str(folder)],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 3, p.stdout  # the images only
    loc = adgap.load()
    for line, s in zip(lines, sorted(scenes[:3])):
        r = loc.detect_file(str(folder / os.path.basename(s)))
        numbers = " ".join(n["text"] for n in r["numbers"]) or "-"
        assert line == "%s: %d digits, numbers: %s" % (os.path.basename(s),
                                                        len(r["detections"]), numbers)


def test_the_shipped_models_are_found_from_any_directory(tmp_path):
    """A new user: no model given, no ADGAP_MODEL, an empty working directory. adgap.load()
    finds the models of the build tree the package was built in and reads sudoku.png."""
    env = dict(os.environ)
    env.pop("ADGAP_MODEL", None)
    code = ("import sys, adgap; loc = adgap.load(); r = loc.detect_file(sys.argv[1]); "
            "print(loc.model_path); print(len(r['detections']))")
    p = subprocess.run(["/usr/bin/python3", "-c", code, os.path.join(PHOTOS, "sudoku.png")],
                       cwd=str(tmp_path), env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    path, n = p.stdout.split()
    assert path.endswith(os.path.join("models", "model.safetensors")), path
    assert int(n) >= 20, p.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_model_file_is_read_with_json_and_numpy_alone(model):
    ex = os.path.join(SOURCE_DIR, "examples", "python", "read_safetensors.py")
    p = subprocess.run([sys.executable, ex, model], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "conv2.weight   [16, 6, 5, 5]" in p.stdout, p.stdout
    assert "a blank image: class" in p.stdout
