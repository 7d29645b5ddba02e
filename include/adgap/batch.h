// Detection over many image files, as `adgap detect` runs it: a list of paths (or a list
// file), one shard of it, results streamed to a JSON Lines file as each image finishes, a run
// that was killed resumed from that file, and progress on a log stream. An image that cannot
// be read or decoded costs that image only: it becomes a result with `error` set.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "adgap/adgap.h"

namespace adgap {

struct BatchOptions {
  std::string jsonl;            // JSON Lines output (one to_json() object per line); empty: none
  bool resume = false;          // with jsonl: keep its complete lines and skip those images
  int shard_index = 0;          // process the paths at positions p with p % shard_count ==
  int shard_count = 1;          //   shard_index (0 <= shard_index < shard_count)
  std::ostream* log = nullptr;  // progress: images done, per second, failed, time left
  int workers = 1;  // images processed at once, each on its own thread; results stay in list
                    //   order. With set_num_threads(1), one worker per core is fastest.
};

struct BatchSummary {
  int64_t images = 0;   // in this shard
  int64_t resumed = 0;  // taken from the JSONL file instead of processed again
  int64_t failed = 0;   // results with an error, resumed ones included
  double seconds = 0;   // wall time of this run
};

// Called for every image of the shard in list order: its result, and the decoded image
// (nullptr for an image that failed or whose result was resumed).
using BatchCallback = std::function<void(const ImageResult& result, const ImageView* image)>;

// The paths in a list file, one per line ("-": standard input); blank lines are skipped and a
// trailing CR is dropped. Throws std::runtime_error naming the file when it cannot be read, is
// over 256 MiB (io/limits.h), or has a line that is not a path (not UTF-8 text, or binary).
std::vector<std::string> read_path_list(const std::string& file);

// The paths at positions p with p % count == index, in order. Throws std::invalid_argument
// unless 0 <= index < count.
std::vector<std::string> shard_of(const std::vector<std::string>& paths, int index, int count);

// The results already in a JSONL file, in file order, up to the first incomplete or malformed
// line (a run killed while writing leaves at most one). A missing file gives none.
std::vector<ImageResult> read_jsonl(const std::string& path);

// Detects the digits of every image in the shard of `paths`. Throws std::runtime_error when the
// JSONL file cannot be written; never for a bad image.
BatchSummary detect_batch(const Localizer& loc, const std::vector<std::string>& paths,
                          const BatchOptions& options, const BatchCallback& each = nullptr);

}  // namespace adgap
