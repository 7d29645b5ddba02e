"""Shared fixtures: the CLI built beside the package, a small model trained with it (cached in
the build tree), and a few images: generated scenes, photos of opencv-doc, and broken files."""

import os
import shutil
import subprocess

import pytest

import adgap
from adgap import _adgap

SOURCE_DIR = _adgap.SOURCE_DIR
CLI = _adgap.CLI
BUILD_DIR = os.path.dirname(CLI)
MNIST = os.path.join(SOURCE_DIR, "data", "mnist")
PHOTOS = "/usr/share/doc/opencv-doc/examples/data"


def run_cli(*args, check=True):
    """Runs the adgap CLI; returns its CompletedProcess (text)."""
    p = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("adgap %s failed (%d):\n%s%s" % (args[0], p.returncode, p.stdout,
                                                               p.stderr))
    return p


@pytest.fixture(scope="session")
def model():
    """A model trained for one epoch by `adgap train`, with its weights.json (cached)."""
    d = os.path.join(BUILD_DIR, "test-cache", "py-model-v3")
    path = os.path.join(d, "model.safetensors")
    if not os.path.exists(os.path.join(d, "weights.json")):
        shutil.rmtree(d, ignore_errors=True)
        run_cli("train", "--data", MNIST, "--out", d, "--epochs", 1, "--seed", 0, "--quiet")
        run_cli("weights", "--model", path, "--data", MNIST, "--limit", 10000)
    return path


@pytest.fixture(scope="session")
def scenes(tmp_path_factory):
    """Four scenes of benchmark v2's tune split (photos with printed and handwritten digits)."""
    d = tmp_path_factory.mktemp("scenes")
    run_cli("scenes", "--data", MNIST, "--out", d, "--kind", "v2", "--split", "tune",
            "--count", 4)
    return sorted(str(p) for p in d.glob("v2-*.png"))


@pytest.fixture(scope="session")
def photos():
    """Two photos with digits and text, one gray PNG and one colour JPEG."""
    return [os.path.join(PHOTOS, n) for n in ("imageTextN.png", "licenseplate_motion.jpg")]


@pytest.fixture(scope="session")
def broken(tmp_path_factory):
    """A file that is not an image, a truncated PNG, and a path that does not exist."""
    d = tmp_path_factory.mktemp("broken")
    (d / "notes.png").write_text("not an image\n")
    png = open(os.path.join(PHOTOS, "imageTextN.png"), "rb").read()
    (d / "cut.png").write_bytes(png[: len(png) // 3])
    return [str(d / "notes.png"), str(d / "cut.png"), str(d / "missing.jpg")]


@pytest.fixture(scope="session")
def loc(model):
    # The test model has no reader: it reads the crops itself, on purpose.
    return adgap.load(model, reader="none")
