// Generated scenes written as PNG files, for tests that run detection on files: MNIST test
// digits on opencv-doc photos, with their ground truth.
#pragma once

#include <opencv2/imgcodecs.hpp>

#include <string>
#include <vector>

#include "adgap/data/dataset.h"
#include "adgap/scene/scene.h"
#include "fixtures.h"

namespace adgap::test {

struct SceneFile {
  std::string path;
  Scene scene;
};

// Scenes seed, seed + 1, ... as <dir>/scene-<seed>.png.
inline std::vector<SceneFile> write_scene_files(const std::string& dir, uint64_t seed, int count) {
  const Dataset digits = load_split(mnist_dir(), "test", 10);
  const std::vector<cv::Mat> bgs = load_backgrounds(default_background_paths());
  std::vector<SceneFile> out;
  for (int i = 0; i < count; ++i) {
    SceneFile f;
    f.scene = make_scene(digits, bgs, seed + i, SceneConfig{});
    f.path = dir + "/scene-" + std::to_string(seed + i) + ".png";
    cv::imwrite(f.path, f.scene.image);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace adgap::test
