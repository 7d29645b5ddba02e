// adgap._adgap: the extension module under the Python package `adgap` (python/adgap/), a thin
// layer over the public API (adgap/adgap.h, adgap/batch.h). Results cross as the CLI's JSON
// (to_json), so that Python and `adgap detect --json` cannot disagree on the schema; maps cross
// as NumPy arrays without a copy. The GIL is released while C++ computes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <opencv2/core.hpp>

#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "adgap/adgap.h"
#include "adgap/batch.h"
#include "adgap/io/image.h"

namespace py = pybind11;

namespace {

using adgap::ImageView;
using adgap::Localizer;
using adgap::Options;

// One option from a Python value, with a message naming the option when the type is wrong.
template <typename T>
T option_value(const std::string& name, const py::handle& value, const char* expected) {
  // bool is an int in Python: refuse it where a number is meant, and numbers where a bool is.
  const bool is_bool = py::isinstance<py::bool_>(value);
  bool ok = true;
  if constexpr (std::is_same_v<T, bool>) {
    ok = is_bool;
  } else if constexpr (std::is_arithmetic_v<T>) {
    ok = !is_bool && (py::isinstance<py::int_>(value) ||
                      (std::is_floating_point_v<T> && py::isinstance<py::float_>(value)));
  } else if constexpr (std::is_same_v<T, std::string>) {
    ok = py::isinstance<py::str>(value);
  }
  if (!ok) {
    throw py::type_error("option '" + name + "': expected " + expected + ", got " +
                         std::string(py::str(py::type::handle_of(value).attr("__name__"))));
  }
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const long long v = value.cast<long long>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
      throw py::value_error("option '" + name + "': " + std::to_string(v) + " is out of range");
    }
    return static_cast<T>(v);
  }
  return value.cast<T>();
}

// Options from keyword arguments; an unknown name is a TypeError naming it.
Options options_from(const py::dict& kwargs) {
  Options o;
  for (const auto& [key, value] : kwargs) {
    const std::string k = py::str(key);
    if (k == "weights") o.weights = option_value<std::string>(k, value, "a path");
    else if (k == "reader") o.reader = option_value<std::string>(k, value, "a path or 'none'");
    else if (k == "first_reader") o.first_reader = option_value<std::string>(k, value, "a path or 'none'");
    else if (k == "first_reject") o.first_reject = option_value<double>(k, value, "a number");
    else if (k == "verifier") o.verifier = option_value<std::string>(k, value, "a path or 'none'");
    else if (k == "verify_gate") o.verify_gate = option_value<double>(k, value, "a number");
    else if (k == "letter_reader") o.letter_reader = option_value<std::string>(k, value, "a path or 'none'");
    else if (k == "letter_level") o.letter_level = option_value<double>(k, value, "a number");
    else if (k == "word_gap") o.word_gap = option_value<double>(k, value, "a number");
    else if (k == "word_letters") o.word_letters = option_value<int>(k, value, "an int");
    else if (k == "method") o.method = option_value<std::string>(k, value, "a method name");
    else if (k == "mode") o.mode = option_value<std::string>(k, value, "'paper', 'pooled' or 'dense'");
    else if (k == "polarity") o.polarity = option_value<std::string>(k, value, "a polarity name");
    else if (k == "border") o.border = option_value<std::string>(k, value, "'replicate' or 'zero'");
    else if (k == "cls") o.cls = option_value<int>(k, value, "a class index (-1: global)");
    else if (k == "by_error") o.by_error = option_value<bool>(k, value, "a bool");
    else if (k == "tile") o.tile = option_value<int>(k, value, "an int");
    else if (k == "libtorch_kernels") o.libtorch_kernels = option_value<bool>(k, value, "a bool");
    else if (k == "threshold") o.threshold = option_value<std::string>(k, value, "'mean-std', 'fixed' or 'otsu'");
    else if (k == "k") o.k = option_value<double>(k, value, "a number");
    else if (k == "level") o.level = option_value<double>(k, value, "a number");
    else if (k == "proposals") o.proposals = option_value<std::string>(k, value, "'map', 'regions' or 'auto'");
    else if (k == "min_score") o.min_score = option_value<double>(k, value, "a number");
    else if (k == "min_score_alone") o.min_score_alone = option_value<double>(k, value, "a number");
    else if (k == "merge_gap") o.merge_gap = option_value<int>(k, value, "an int");
    else if (k == "min_size") o.min_size = option_value<int>(k, value, "an int");
    else if (k == "scales") {
      if (!py::isinstance<py::sequence>(value) || py::isinstance<py::str>(value)) {
        throw py::type_error("option 'scales': expected a sequence of numbers");
      }
      o.scales.clear();
      for (const py::handle item : py::reinterpret_borrow<py::sequence>(value)) {
        o.scales.push_back(option_value<double>(k, item, "a sequence of numbers"));
      }
    } else {
      throw py::type_error("load(): unknown option '" + k + "'");
    }
  }
  return o;
}

// A view of a NumPy uint8 image (H, W) or (H, W, C) with C in 1, 3, 4; `keep` holds the
// C-contiguous array the view points into (the input itself when it already is one).
ImageView view_of(const py::array& image, py::array* keep) {
  if (!image.dtype().is(py::dtype::of<uint8_t>())) {
    throw py::type_error("image: dtype " + std::string(py::str(image.dtype())) +
                         "; expected uint8 (convert with image.astype(numpy.uint8))");
  }
  const py::ssize_t nd = image.ndim();
  if (nd != 2 && nd != 3) {
    throw py::value_error("image: " + std::to_string(nd) +
                          " dimensions; expected (H, W) gray or (H, W, 3) BGR");
  }
  const py::ssize_t c = nd == 3 ? image.shape(2) : 1;
  if (c != 1 && c != 3 && c != 4) {
    throw py::value_error("image: " + std::to_string(c) +
                          " channels; expected 1 (gray), 3 (BGR) or 4 (BGRA)");
  }
  if (image.shape(0) == 0 || image.shape(1) == 0) {
    throw py::value_error("image: shape (" + std::to_string(image.shape(0)) + ", " +
                          std::to_string(image.shape(1)) + ") is empty");
  }
  if (image.shape(0) > (1 << 30) || image.shape(1) > (1 << 30)) {
    throw py::value_error("image: too large");
  }
  *keep = py::array_t<uint8_t, py::array::c_style>::ensure(image);
  if (!*keep) throw py::error_already_set();
  ImageView v;
  v.data = static_cast<const uint8_t*>(keep->data());
  v.height = static_cast<int>(image.shape(0));
  v.width = static_cast<int>(image.shape(1));
  v.channels = static_cast<int>(c);
  return v;
}

// A float32 (H, W) array owning the heatmap's values (no copy).
py::array_t<float> to_array(adgap::Heatmap&& h) {
  auto* values = new std::vector<float>(std::move(h.values));
  py::capsule owner(values, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  const py::ssize_t w = h.width;
  return py::array_t<float>({static_cast<py::ssize_t>(h.height), w},
                            {w * static_cast<py::ssize_t>(sizeof(float)),
                             static_cast<py::ssize_t>(sizeof(float))},
                            values->data(), owner);
}

// The CLI's JSON for one in-memory image (no path).
std::string detect_json(const Localizer& loc, const py::array& image) {
  py::array keep;
  const ImageView v = view_of(image, &keep);
  adgap::ImageResult r;
  {
    py::gil_scoped_release unlocked;
    r.width = v.width;
    r.height = v.height;
    r.detections = loc.detect(v);
    r.numbers = adgap::read_numbers(r.detections, v);
  }
  return adgap::to_json(r);
}

}  // namespace

PYBIND11_MODULE(_adgap, m) {
  m.doc() = "adgap's C++ library (the package adgap wraps it; use that)";
  m.attr("SOURCE_DIR") = ADGAP_SOURCE_DIR;
  m.attr("CLI") = ADGAP_CLI;
  m.def("find_model", &adgap::find_model,
        "$ADGAP_MODEL, else adgap's own models (RuntimeError saying where it looked)");

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const adgap::ImageError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    }
  });

  py::class_<Localizer>(m, "Localizer")
      .def_static(
          "load",
          [](const std::string& model_path, const py::dict& options) {
            const Options o = options_from(options);
            py::gil_scoped_release unlocked;
            return Localizer::load(model_path, o);
          },
          py::arg("model_path"), py::arg("options"))
      .def(
          "heatmap",
          [](const Localizer& loc, const py::array& image) {
            py::array keep;
            const ImageView v = view_of(image, &keep);
            adgap::Heatmap h;
            {
              py::gil_scoped_release unlocked;
              h = loc.heatmap(v);
            }
            return to_array(std::move(h));
          },
          py::arg("image"))
      .def("detect_json", &detect_json, py::arg("image"))
      .def(
          "detect_file_json",
          [](const Localizer& loc, const std::string& path) {
            adgap::ImageResult r;
            {
              py::gil_scoped_release unlocked;
              r = loc.detect_file(path);
            }
            return adgap::to_json(r);
          },
          py::arg("path"))
      .def(
          "detect_files_json",
          [](const Localizer& loc, const std::vector<std::string>& paths, int workers,
             const std::string& jsonl, bool resume) {
            if (workers < 1) throw py::value_error("workers: " + std::to_string(workers) + " < 1");
            if (resume && jsonl.empty()) throw py::value_error("resume needs a jsonl file");
            adgap::BatchOptions b;
            b.workers = workers;
            b.jsonl = jsonl;
            b.resume = resume;
            std::vector<std::string> out;
            out.reserve(paths.size());
            {
              py::gil_scoped_release unlocked;
              adgap::detect_batch(loc, paths, b, [&](const adgap::ImageResult& r, const ImageView*) {
                out.push_back(adgap::to_json(r));
              });
            }
            return out;
          },
          py::arg("paths"), py::arg("workers"), py::arg("jsonl"), py::arg("resume"))
      .def_property_readonly("model_path", &Localizer::model_path)
      .def_property_readonly("weights_path", &Localizer::weights_path)
      .def_property_readonly("reader_path", &Localizer::reader_path);

  m.def(
      "set_num_threads",
      [](int n) {
        py::gil_scoped_release unlocked;
        adgap::set_num_threads(n);
      },
      py::arg("n"));

  m.def(
      "read_image",
      [](const std::string& path) {
        cv::Mat bgr;
        {
          py::gil_scoped_release unlocked;
          bgr = adgap::load_bgr(path);
        }
        py::array_t<uint8_t> out({static_cast<py::ssize_t>(bgr.rows),
                                  static_cast<py::ssize_t>(bgr.cols), py::ssize_t{3}});
        for (int y = 0; y < bgr.rows; ++y) {
          std::memcpy(out.mutable_data(y), bgr.ptr(y), static_cast<size_t>(bgr.cols) * 3);
        }
        return out;
      },
      py::arg("path"));
}
