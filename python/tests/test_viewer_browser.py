"""The viewer in a real browser: Debian's chromium, headless, driven by puppeteer-core
(tests/browser/viewer.cjs; tests/browser/install.sh installs it into build/npm). The page gets a
photo through its file input; the boxes it draws must equal what `adgap detect --json` returns
for the same file, and moving the threshold slider must change the mask without a request."""

import json
import os
import subprocess

import pytest

from conftest import BUILD_DIR, SOURCE_DIR, run_cli
from test_serve import Server

NPM_DIR = os.path.join(BUILD_DIR, "npm")


@pytest.fixture(scope="module")
def browser_tools():
    subprocess.run(["bash", os.path.join(SOURCE_DIR, "tests", "browser", "install.sh"), NPM_DIR],
                   check=True)
    return NPM_DIR


def run_page(server, photo, npm_dir, screenshot=None):
    args = ["node", os.path.join(SOURCE_DIR, "tests", "browser", "viewer.cjs"), server.url + "/",
            photo, npm_dir]
    if screenshot:
        args.append(screenshot)
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_page_draws_what_detect_finds(browser_tools, model, scenes, photos, tmp_path):
    server = Server(model, "--quiet")
    try:
        drawn_any = 0
        for photo in [scenes[0], photos[0]]:
            out = tmp_path / "det.json"
            run_cli("detect", "--model", model, "--reader", "none", "--json", out, "--out",
                    tmp_path, photo)
            expected = json.loads(out.read_text())["images"][0]
            page = run_page(server, photo, browser_tools)
            assert page["errors"] == [] and page["state"] == "done", page
            # The boxes drawn: the same boxes, labels and scores (to the float32 the JSON holds).
            assert [b["box"] for b in page["boxes"]] == [d["box"] for d in expected["detections"]]
            assert [b["label"] for b in page["boxes"]] == [d["label"] for d in
                                                           expected["detections"]]
            for b, d in zip(page["boxes"], expected["detections"]):
                assert abs(b["score"] - d["score"]) < 1e-6
            assert page["numberBoxes"] == [n["box"] for n in expected["numbers"]]
            assert len(page["listed"]) == len(expected["detections"])
            if expected["detections"]:
                assert page["highlighted"] == ["0", "0"]  # the box on both views
            drawn_any += len(page["boxes"])
            # The downloads: the JSON in `detect --json`'s schema (the upload's name as the
            # path), and the overlay PNG at the image's size.
            stem = os.path.splitext(os.path.basename(photo))[0]
            doc, png = page["downloads"]
            assert doc["name"] == stem + ".detections.json" and doc["type"] == "application/json"
            doc = json.loads(doc["text"])
            assert doc["model"] == model and len(doc["images"]) == 1
            assert doc["images"][0] == dict(expected, path=os.path.basename(photo),
                                            detections=doc["images"][0]["detections"])
            assert [d["box"] for d in doc["images"][0]["detections"]] == \
                [d["box"] for d in expected["detections"]]
            assert png["name"] == stem + ".overlay.png" and png["type"] == "image/png"
            assert (png["width"], png["height"]) == (expected["width"], expected["height"])
            assert png["bytes"] > 1000
            # Two requests (the map alone, then with the digits); none when the slider moves,
            # yet the mask changes: a lower k (1 instead of 3) marks more pixels.
            assert page["requests"] == ["GET /api/info"] + ["POST /api/analyze"] * 2, \
                page["requests"]
            assert 0 < page["timing"]["map"] <= page["timing"]["digits"]
            assert page["requestsDuringSlider"] == 0
            before, after = page["maskBefore"], page["maskAfter"]
            assert after["level"] < before["level"]
            assert after["white"] > before["white"], (before, after)
            assert after["pixels"] == expected["width"] * expected["height"]
        assert drawn_any >= 3, "the scene should have digits to draw"
    finally:
        code, _, _ = server.stop()
        assert code == 0
