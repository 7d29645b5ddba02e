#include "adgap/batch.h"

#include <opencv2/core/mat.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>

#include "adgap/detect/detector.h"
#include "adgap/io/atomic_file.h"
#include "adgap/util/progress.h"

namespace adgap {

std::vector<std::string> read_path_list(const std::string& file) {
  std::ifstream in;
  std::istream* is = &std::cin;
  if (file != "-") {
    in.open(file);
    if (!in) throw std::runtime_error(file + ": cannot open the list of images");
    is = &in;
  }
  std::vector<std::string> paths;
  for (std::string line; std::getline(*is, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    paths.push_back(line);
  }
  if (is->bad()) throw std::runtime_error(file + ": read error in the list of images");
  return paths;
}

std::vector<std::string> shard_of(const std::vector<std::string>& paths, int index, int count) {
  if (count < 1 || index < 0 || index >= count) {
    throw std::invalid_argument("shard " + std::to_string(index) + "/" + std::to_string(count) +
                                ": need 0 <= index < count");
  }
  std::vector<std::string> out;
  for (size_t p = static_cast<size_t>(index); p < paths.size(); p += static_cast<size_t>(count)) {
    out.push_back(paths[p]);
  }
  return out;
}

std::vector<ImageResult> read_jsonl(const std::string& path) {
  std::vector<ImageResult> out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: the line was cut short
    try {
      out.push_back(image_result_from_json(line));
    } catch (const std::invalid_argument&) {
      break;
    }
  }
  return out;
}

BatchSummary detect_batch(const Localizer& loc, const std::vector<std::string>& paths,
                          const BatchOptions& o, const BatchCallback& each) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> todo = shard_of(paths, o.shard_index, o.shard_count);
  BatchSummary s;
  s.images = static_cast<int64_t>(todo.size());

  // Results to resume: kept in the file (rewritten whole, without a cut-off last line) and
  // matched to the list by path, as many times as each path occurs.
  std::map<std::string, std::vector<ImageResult>> done;
  std::ofstream out;
  if (!o.jsonl.empty()) {
    std::string kept;
    if (o.resume) {
      for (ImageResult& r : read_jsonl(o.jsonl)) {
        kept += to_json(r) + "\n";
        done[r.path].push_back(std::move(r));
      }
    }
    atomic_write_text(o.jsonl, kept);
    out.open(o.jsonl, std::ios::app | std::ios::binary);
    if (!out) throw std::runtime_error(o.jsonl + ": cannot open for writing");
  }
  std::map<std::string, size_t> used;  // per path, resumed results handed out so far
  int64_t to_process = 0;
  {
    std::map<std::string, size_t> avail;
    for (const auto& [p, v] : done) avail[p] = v.size();
    for (const std::string& p : todo) {
      if (avail[p] > 0) {
        --avail[p];
      } else {
        ++to_process;
      }
    }
  }
  Progress progress(o.log, to_process, "images");
  int64_t processed = 0, failed_now = 0;
  for (const std::string& path : todo) {
    auto it = done.find(path);
    if (it != done.end() && used[path] < it->second.size()) {
      const ImageResult& r = it->second[used[path]++];
      ++s.resumed;
      s.failed += !r.ok();
      if (each) each(r, nullptr);
      continue;
    }
    cv::Mat bgr;
    const ImageResult r = detect_image_file(loc.detector(), path, &bgr);
    if (out.is_open()) {
      out << to_json(r) << "\n" << std::flush;
      if (!out) throw std::runtime_error(o.jsonl + ": write failed (disk full?)");
    }
    ++processed;
    if (!r.ok()) {
      ++s.failed;
      ++failed_now;
    }
    if (each) {
      if (r.ok()) {
        const ImageView view{bgr.data, bgr.cols, bgr.rows, bgr.channels(), bgr.step[0]};
        each(r, &view);
      } else {
        each(r, nullptr);
      }
    }
    progress.update(processed, std::to_string(failed_now) + " failed");
  }
  progress.finish();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace adgap
