"""adgap: find and read digits in images of any size with an MNIST CNN (AdGAP heatmaps).

    import adgap
    loc = adgap.load()                      # adgap's own models (default_model_path())
    heat = loc.heatmap(image)               # NumPy uint8 (H, W) or (H, W, 3) BGR -> float32 (H, W)
    result = loc.detect(image)              # {"width", "height", "detections", "numbers"}
    results = loc.detect_files(paths)       # one dict per path, {"path", "error"} for bad files

Results are the dicts of `adgap detect --json` (README, "The CLI"). The computation runs in
C++ without the GIL: several Python threads may call one localizer at once.
"""

import json
import os

from . import _adgap

__all__ = ["Localizer", "load", "read_image", "set_num_threads", "default_model_path"]

_threads_set = False


def default_model_path():
    """$ADGAP_MODEL, else adgap's own models: models/model.safetensors of the build tree this
    package was built in, or share/adgap/models/ of the prefix it was installed into (as the
    CLI finds them). Raises FileNotFoundError, saying where it looked, when there is none."""
    try:
        return _adgap.find_model()
    except RuntimeError as e:
        raise FileNotFoundError(str(e)) from None


def set_num_threads(n):
    """Threads for the computation inside one call (0: one per core); process-wide."""
    global _threads_set
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("set_num_threads: expected an int, got %s" % type(n).__name__)
    if n < 0:
        raise ValueError("set_num_threads: %d is negative" % n)
    _adgap.set_num_threads(n)
    _threads_set = True


def read_image(path):
    """Decodes an image file as adgap does (PNG, JPEG, ...): a uint8 (H, W, 3) BGR array, as
    cv2.imread gives. Raises OSError naming the file when it cannot be read or decoded."""
    return _adgap.read_image(os.fspath(path))


class Localizer:
    """A loaded model with its filter weights and readers; see load()."""

    def __init__(self, native):
        self._native = native

    @property
    def model_path(self):
        return self._native.model_path

    @property
    def weights_path(self):
        return self._native.weights_path

    @property
    def reader_path(self):
        """The reader in use; "" when the model reads the crops itself."""
        return self._native.reader_path

    def heatmap(self, image):
        """The map (paper Eq. 2, or the chosen baseline's), normalised to [0, 1]: a float32
        array of the image's height and width."""
        return self._native.heatmap(image)

    def detect(self, image):
        """The digits and numbers of an image in memory, as a dict of the CLI's JSON schema:
        {"width", "height", "detections": [{"box": [x, y, w, h], "label", "score"}],
        "numbers": [{"box", "text", "digits", "score", "separators"}]} ("separators": the text
        with the marks between the digits, e.g. "8-1-09")."""
        result = json.loads(self._native.detect_json(image))
        result.pop("path", None)
        return result

    def detect_file(self, path):
        """One image file: the CLI's dict with "path"; {"path", "error"} when it cannot be read."""
        return json.loads(self._native.detect_file_json(os.fspath(path)))

    def detect_files(self, paths, workers=1, jsonl=None, resume=False):
        """Image files, results in input order; a file that cannot be read gives
        {"path", "error"} and the rest go on. `workers` images are processed at once on threads
        of their own; `jsonl` streams each result to that file as it finishes (with `resume`,
        the images already in it are not processed again)."""
        if isinstance(paths, (str, bytes, os.PathLike)):
            raise TypeError("detect_files: expected a list of paths, got one path")
        paths = [os.fspath(p) for p in paths]
        lines = self._native.detect_files_json(
            paths, int(workers), os.fspath(jsonl) if jsonl else "", bool(resume))
        return [json.loads(line) for line in lines]

    def __repr__(self):
        return "adgap.Localizer(%r)" % self.model_path


def load(model_path=None, **options):
    """Loads a model, its filter weights (weights.json beside it) and its readers.

    model_path: default default_model_path(). Options are those of the C++ Options struct
    (adgap/adgap.h) and of `adgap detect`'s flags, e.g. method="grad-cam", mode="pooled",
    k=2.0, cls=3, scales=[1], reader="none". Raises FileNotFoundError for a missing model,
    RuntimeError for a malformed one, TypeError for an unknown option or a value of the wrong
    type, ValueError for a value out of range.
    """
    if model_path is None:
        model_path = default_model_path()
    model_path = os.fspath(model_path)
    if not os.path.exists(model_path):
        raise FileNotFoundError("%s: no such model file" % model_path)
    if not _threads_set:
        set_num_threads(0)  # as the CLI: one intra-op thread per core, single-threaded BLAS
    return Localizer(_adgap.Localizer.load(model_path, options))
