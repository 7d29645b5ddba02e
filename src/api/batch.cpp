#include "adgap/batch.h"

#include <opencv2/core/mat.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "adgap/detect/detector.h"
#include "adgap/io/atomic_file.h"
#include "adgap/io/limits.h"
#include "adgap/util/progress.h"

namespace adgap {

namespace {

// Whether `s` is valid UTF-8 (results are JSON, which names every path) without NUL or other
// control characters but tab.
bool is_path_text(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t') return false;
      ++i;
      continue;
    }
    const size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

std::vector<std::string> read_path_list(const std::string& file) {
  std::string text;
  if (file == "-") {
    char buf[1 << 16];
    while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
      text.append(buf, static_cast<size_t>(std::cin.gcount()));
      if (text.size() > kMaxListBytes) {
        throw std::runtime_error("-: the list of images on standard input is over the limit of " +
                                 std::to_string(kMaxListBytes) + " bytes");
      }
    }
  } else {
    text = read_whole_file(file, kMaxListBytes, "list of images");
  }
  std::vector<std::string> paths;
  std::istringstream is(text);
  size_t number = 0;
  for (std::string line; std::getline(is, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (!is_path_text(line)) {
      throw std::runtime_error(file + ": line " + std::to_string(number) +
                               " is not a path (binary data, or not UTF-8 text)");
    }
    paths.push_back(line);
  }
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

namespace {

// One processed image: its result and its decoded picture (empty when it failed).
struct Done {
  ImageResult result;
  cv::Mat bgr;
};

// Processes `paths` on `workers` threads and hands the results to `emit` on the calling
// thread, in list order. Workers run at most `ahead` images beyond the last one handed out, so
// the decoded pictures waiting in memory stay few.
void process_in_order(const Detector& det, const std::vector<std::string>& paths, int workers,
                      const std::function<void(Done&)>& emit) {
  if (workers <= 1 || paths.size() <= 1) {
    for (const std::string& p : paths) {
      Done d;
      d.result = detect_image_file(det, p, &d.bgr);
      emit(d);
    }
    return;
  }
  const size_t ahead = 4 * static_cast<size_t>(workers);
  std::vector<std::unique_ptr<Done>> slots(paths.size());
  std::mutex m;
  std::condition_variable ready;
  size_t next = 0, emitted = 0;
  bool stop = false;
  std::exception_ptr failure;
  auto work = [&] {
    for (;;) {
      size_t k;
      {
        std::unique_lock<std::mutex> lock(m);
        ready.wait(lock, [&] { return stop || next >= paths.size() || next < emitted + ahead; });
        if (stop || next >= paths.size()) return;
        k = next++;
      }
      auto d = std::make_unique<Done>();
      try {
        d->result = detect_image_file(det, paths[k], &d->bgr);
      } catch (...) {  // not an image's problem (out of memory, ...): stop the batch
        std::lock_guard<std::mutex> lock(m);
        if (!failure) failure = std::current_exception();
        stop = true;
        ready.notify_all();
        return;
      }
      std::lock_guard<std::mutex> lock(m);
      slots[k] = std::move(d);
      ready.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) pool.emplace_back(work);
  auto join = [&] {
    {
      std::lock_guard<std::mutex> lock(m);
      stop = true;
    }
    ready.notify_all();
    for (std::thread& t : pool) t.join();
  };
  try {
    for (size_t k = 0; k < paths.size(); ++k) {
      std::unique_ptr<Done> d;
      {
        std::unique_lock<std::mutex> lock(m);
        ready.wait(lock, [&] { return slots[k] != nullptr || failure; });
        if (failure) break;
        d = std::move(slots[k]);
        emitted = k + 1;
      }
      ready.notify_all();
      emit(*d);
    }
  } catch (...) {
    join();
    throw;
  }
  join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

BatchSummary detect_batch(const Localizer& loc, const std::vector<std::string>& paths,
                          const BatchOptions& o, const BatchCallback& each) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> todo = shard_of(paths, o.shard_index, o.shard_count);
  if (o.workers < 1) {
    throw std::invalid_argument("workers " + std::to_string(o.workers) + " is not >= 1");
  }
  BatchSummary s;
  s.images = static_cast<int64_t>(todo.size());

  // Results to resume: kept in the file (rewritten whole, without a cut-off last line) and
  // matched to the list by path, as many times as each path occurs.
  std::map<std::string, std::vector<ImageResult>> done;
  loc.detector().require_reader();
  std::ofstream file;
  std::ostream* out = nullptr;  // where each result's line goes
  if (o.jsonl == "-") {
    if (o.resume) throw std::invalid_argument("resume: standard output cannot be read back");
    out = &std::cout;
  } else if (!o.jsonl.empty()) {
    std::string kept;
    if (o.resume && !writes_in_place(o.jsonl)) {
      throw std::invalid_argument("resume: " + o.jsonl + " is not a regular file to read back");
    }
    if (o.resume) {
      for (ImageResult& r : read_jsonl(o.jsonl)) {
        kept += to_json(r) + "\n";
        done[r.path].push_back(std::move(r));
      }
    }
    // A regular file starts with what is resumed; a FIFO or a device is written through.
    if (writes_in_place(o.jsonl)) atomic_write_text(o.jsonl, kept);
    file.open(o.jsonl, std::ios::app | std::ios::binary);
    if (!file) throw std::runtime_error(o.jsonl + ": cannot open for writing");
    out = &file;
  }
  // Each list entry is either resumed (a result from the file) or to be processed.
  std::vector<const ImageResult*> resumed(todo.size(), nullptr);
  std::vector<std::string> work;
  {
    std::map<std::string, size_t> used;  // per path, resumed results handed out so far
    for (size_t k = 0; k < todo.size(); ++k) {
      auto it = done.find(todo[k]);
      if (it != done.end() && used[todo[k]] < it->second.size()) {
        resumed[k] = &it->second[used[todo[k]]++];
      } else {
        work.push_back(todo[k]);
      }
    }
  }
  Progress progress(o.log, static_cast<int64_t>(work.size()), "images");
  int64_t processed = 0, failed_now = 0;
  size_t k = 0;  // list position of the next result to hand out
  auto hand_out_resumed = [&] {
    for (; k < todo.size() && resumed[k]; ++k) {
      ++s.resumed;
      s.failed += !resumed[k]->ok();
      if (each) each(*resumed[k], nullptr);
    }
  };
  hand_out_resumed();
  process_in_order(loc.detector(), work, o.workers, [&](Done& d) {
    const ImageResult& r = d.result;
    if (out) {
      *out << to_json(r) << "\n" << std::flush;
      if (!*out) throw std::runtime_error(o.jsonl + ": write failed (disk full?)");
    }
    ++processed;
    if (!r.ok()) {
      ++s.failed;
      ++failed_now;
    }
    if (each) {
      if (r.ok()) {
        const ImageView view{d.bgr.data, d.bgr.cols, d.bgr.rows, d.bgr.channels(), d.bgr.step[0]};
        each(r, &view);
      } else {
        each(r, nullptr);
      }
    }
    progress.update(processed, std::to_string(failed_now) + " failed");
    ++k;  // this image's position
    hand_out_resumed();
  });
  progress.finish();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace adgap
