// adgap's public face: load a trained model once, then compute AdGAP heatmaps (paper Eq. 2)
// and find and read the digits in images of any size.
//
//   adgap::Localizer loc = adgap::Localizer::load();  // adgap's own models (find_model)
//   adgap::ImageResult r = loc.detect_file("photo.jpg");
//   for (const adgap::Digit& d : r.detections) ... d.box, d.label, d.score
//
// This header uses only the standard library: a program that includes it compiles no LibTorch
// or OpenCV headers. The defaults of Options are the settings chosen on the localisation
// benchmark's tune split (README, "Localisation benchmark"); `adgap detect` uses them too.
//
// Errors: a missing or malformed model, weights or reader file throws std::runtime_error naming
// the file and the problem; an option value out of range or an unusable image buffer throws
// std::invalid_argument. detect_file() never throws for an image it cannot read: it returns an
// ImageResult whose `error` says why.
//
// Threads: heatmap(), detect() and detect_file() may be called on one Localizer from several
// threads at once (detect_batch's workers do): they only read the loaded network. The
// computation inside one call uses set_num_threads() threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace adgap {

// The model used when none is given: $ADGAP_MODEL when set, else adgap's own models, the
// first of <D>/models/model.safetensors and <D>/share/adgap/models/model.safetensors for D the
// executable's folder, the library's (the Python module's) and their parents up to five levels
// up: the build tree's models/ and an install prefix's share/adgap/models. Throws
// std::runtime_error saying where it looked when none is there.
std::string find_model();
// The folders find_model() looks in, in order.
std::vector<std::string> model_search_dirs();

// The minimum scores Options' negative values stand for (chosen on v2's tune split).
inline constexpr double kMinScore = 0.8, kMinScoreAlone = 0.97;
inline constexpr double kMinScoreVerified = 0.5, kMinScoreAloneVerified = 0.9;

// How a map is made, thresholded and read. Files left empty are found beside the model, as
// models/ and `adgap demo` lay them out: <model dir>/weights.json and
// <model dir>/reader/model.safetensors (its first/, verifier/ and letters/ beside it).
struct Options {
  std::string weights;  // filter importance file (Eq. 1); empty: weights.json beside the model
  std::string reader;   // reader with a "not a digit" class; empty: reader/model.safetensors
                        //   beside the model (detection is refused without one); "none": the
                        //   model itself reads the crops
  std::string first_reader;  // regions: a cheaper reader run first (see first_reject); empty:
                             //   first/model.safetensors beside the
                             //   reader when it exists; "none": off
  double first_reject = 0.99;  // crops the first reader gives P(not a digit) >= this are dropped
  std::string verifier;  // regions: a larger reader that reads again what the reader does not
                         //   reject (see verify_gate); empty: verifier/model.safetensors beside the
                         //   reader when it exists; "none": off
  double verify_gate = 0.9;  // crops the reader gives P(not a digit) below this are verified
                             //   (0.99: a third of the crops, 0.003 more reading F1 on tune)
  std::string letter_reader;  // regions: a letter reader (a digit, a letter, neither) that
                              //   reads the boxes beside a number; a number with letters
                              //   beside it is part of a word and dropped; empty:
                              //   letters/model.safetensors beside the reader when it exists; "none": off
  double letter_level = 0.9;  // boxes it gives P(letter) >= this are letters
  double word_gap = 0.35;     // letters count within this gap of the digit's height
  int word_letters = 1;       // letters in a row on one side that make a word (one on each
                              //   side always do)
  // The map (paper Eq. 2).
  std::string method = "adgap";      // adgap, or a baseline: adgap-paper, cam, grad-cam, ...
  std::string mode = "paper";        // paper (pools removed) | pooled | dense
  std::string polarity = "auto";     // auto | light-on-dark | dark-on-light | both
  std::string border = "replicate";  // replicate | zero (the reference's zero padding)
  int cls = -1;                      // one class's filter weights; -1: global
  bool by_error = false;             // weights from the 0/1-error rise, not the loss rise
  int tile = 512;                    // px: maps are computed in tiles this big; 0: untiled
  bool libtorch_kernels = false;     // paper-mode maps on LibTorch's convolutions (the
                                     //   reference) instead of adgap's own kernel
  // Hotspots: threshold mean + k std (the paper's k is 2; 3 was chosen on the tune split).
  std::string threshold = "mean-std";  // mean-std | fixed | otsu
  double k = 3.0;
  double level = 0.5;  // the fixed threshold's level on the [0, 1] map
  // Candidates and reading.
  // Candidates: map (the map's hotspots, MNIST-style crops: the paper's chain) | regions
  // (hotspots joined with stroke regions, crops read with their surroundings by a reader
  // trained so: adgap train-reader, the demo's) | auto (regions when the reader was trained
  // on them, else map).
  std::string proposals = "auto";
  // Minimum probability to keep a detection, and for a digit that is not part of a number
  // (regions); negative: chosen on v2's tune split for the readers in use, 0.8 and 0.97 with
  // a reader, 0.5 and 0.9 when a verifier mixes in (kMinScore... below).
  double min_score = -1;
  double min_score_alone = -1;
  int merge_gap = 3;                            // px: hotspot fragments closer than this merge
  int min_size = 8;                             // px: smaller candidates are dropped
  std::vector<double> scales = {1, 0.5, 0.25};  // image pyramid; {1}: one scale
};

// An image in memory, not owned: 8-bit gray (channels 1), BGR (3) or BGRA (4), rows `stride`
// bytes apart (0: packed).
struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int channels = 1;
  size_t stride = 0;
};

// A [0, 1] heatmap of exactly the image's size, row-major.
struct Heatmap {
  int width = 0;
  int height = 0;
  std::vector<float> values;  // (height, width)
  float at(int x, int y) const { return values[static_cast<size_t>(y) * width + x]; }
};

struct Box {
  int x = 0, y = 0, width = 0, height = 0;  // input pixels
};

struct Digit {
  Box box;
  int label = -1;   // the digit read
  float score = 0;  // its probability
};

// Digits that stand side by side on one line, read left to right as one number. A digit with no
// neighbour is a number of one digit.
struct Number {
  Box box;                  // union of its digits' boxes
  std::string text;         // the digits alone, e.g. "2024", "8109"
  std::vector<int> digits;  // indices into the detections, left to right
  float score = 0;          // product of its digits' probabilities
  std::string separators;   // the text with the marks between its digits in the image ("-",
                            // ".", ":"), e.g. "8-1-09"; empty when read without the image
};

// The numbers `digits` form, ordered by top edge, then left edge.
std::vector<Number> read_numbers(const std::vector<Digit>& digits);
// The same, with each number's separators read from `image` (the image `digits` are in).
std::vector<Number> read_numbers(const std::vector<Digit>& digits, const ImageView& image);

// One image's result, as one entry of `adgap detect`'s JSON (README, "The CLI").
struct ImageResult {
  std::string path;
  int width = 0, height = 0;
  std::vector<Digit> detections;
  std::vector<Number> numbers;  // read_numbers(detections)
  std::string error;            // non-empty when the image could not be processed (one line)
  bool ok() const { return error.empty(); }
};

// {"path", "width", "height", "detections": [{"box": [x, y, w, h], "label", "score"}],
// "numbers": [{"box", "text", "digits", "score", "separators"}]} ("separators" when read), or
// {"path", "error"}; compact, one line.
std::string to_json(const ImageResult& r);
// The inverse, for reading back JSONL output; throws std::invalid_argument on anything else.
ImageResult image_result_from_json(const std::string& line);

// An image decoded from the bytes of an image file (an upload): 8-bit BGR, packed.
struct DecodedImage {
  int width = 0, height = 0;
  std::vector<uint8_t> bgr;  // (height, width, 3)
  ImageView view() const { return {bgr.data(), width, height, 3, 0}; }
};
// The error decode_image throws for an image declaring more pixels than the limit (the CLI's
// --max-pixels, $ADGAP_MAX_PIXELS; 2^30 by default).
class ImageTooLarge : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};
// Decodes PNG, JPEG, BMP, TIFF, WebP or PNM bytes with the checks detect_file applies to a file
// (format, declared size against the pixel limit, a PNG's chunks and a JPEG's end, all before
// decoding; a JPEG's EXIF orientation applied). Throws ImageTooLarge, or std::invalid_argument
// for anything else, with one line starting with `name`.
DecodedImage decode_image(const void* data, size_t size, const std::string& name);

struct Detector;  // the resolved pipeline (internal: adgap/detect/detector.h)

class Localizer {
 public:
  // Loads the model (empty: find_model()), its filter weights and its reader (see Options).
  // Throws as above.
  static Localizer load(const std::string& model_path = "", const Options& options = {});
  Localizer(Localizer&&) noexcept;
  Localizer& operator=(Localizer&&) noexcept;
  ~Localizer();

  // The chosen method's map, normalised to [0, 1].
  Heatmap heatmap(const ImageView& image) const;
  // The digits found and read, in input pixels. detect() and detect_file() throw
  // std::runtime_error when the model has no reader (Options::reader).
  std::vector<Digit> detect(const ImageView& image) const;
  // The same, and the map heatmap() would return, computed once for both (the detector's map at
  // full scale) when `map` is given.
  std::vector<Digit> detect(const ImageView& image, Heatmap* map) const;
  // Reads and decodes `path` (PNG, JPEG, ...) and detects; an unreadable image gives a result
  // with `error` set instead of an exception.
  ImageResult detect_file(const std::string& path) const;

  const Options& options() const;
  const std::string& model_path() const;
  const std::string& weights_path() const;
  const std::string& reader_path() const;  // empty when the model reads the crops itself

  // The resolved pipeline, for the project's own tools (benchmarks, reports).
  const Detector& detector() const;

 private:
  explicit Localizer(std::unique_ptr<Detector> d);
  std::unique_ptr<Detector> d_;
};

// Intra-op threads for the computation (0: one per core); process-wide, as LibTorch's are.
void set_num_threads(int n);

}  // namespace adgap
