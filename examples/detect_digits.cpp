// Finds and reads the digits of one image with adgap's public API alone: the program a user
// of the library writes. It includes only adgap/adgap.h (no LibTorch, no OpenCV).
//
//   example_detect_digits [MODEL] IMAGE
//
// Prints the image's result as one JSON line, then one line per digit; exit status 1 when the
// image or the model cannot be read.
#include <adgap/adgap.h>

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s [MODEL] IMAGE\n", argv[0]);
    return 2;
  }
  const std::string model = argc == 3 ? argv[1] : "";  // "": adgap's own models
  const std::string image = argv[argc - 1];
  try {
    const adgap::Localizer loc = adgap::Localizer::load(model);  // the tuned defaults
    const adgap::ImageResult r = loc.detect_file(image);
    std::printf("%s\n", adgap::to_json(r).c_str());
    if (!r.ok()) {
      std::fprintf(stderr, "%s: %s\n", image.c_str(), r.error.c_str());
      return 1;
    }
    for (const adgap::Digit& d : r.detections) {
      std::printf("%d at (%d, %d) %dx%d, probability %.3f\n", d.label, d.box.x, d.box.y,
                  d.box.width, d.box.height, d.score);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
