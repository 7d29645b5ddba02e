// adgap detect: find and read the digits of images, one or a whole batch.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "adgap/batch.h"
#include "adgap/detect/detector.h"
#include "adgap/io/atomic_file.h"
#include "adgap/io/png.h"
#include "adgap/report/render.h"
#include "commands.h"
#include "map_options.h"

namespace adgap::cli {

namespace {

// "I/N" -> (I, N) with 0 <= I < N.
std::pair<int, int> parse_shard(const std::string& s) {
  int i = -1, n = -1;
  char extra = 0;
  if (std::sscanf(s.c_str(), "%d/%d%c", &i, &n, &extra) != 2 || n < 1 || i < 0 || i >= n) {
    throw UsageError("--shard: '" + s + "' is not I/N with 0 <= I < N");
  }
  return {i, n};
}

}  // namespace

int cmd_detect(int argc, char** argv) {
  MapOptions o;
  std::string json_path, jsonl_path, list_file, shard = "0/1";
  bool resume = false, quiet = false, no_images = false;
  int64_t workers = 0;
  std::vector<std::string> images;
  Args args("detect",
            "Find and read digits: threshold the AdGAP map, group hotspots into candidates, crop\n"
            "and normalise each like an MNIST digit, classify it (with the reader when there is\n"
            "one), keep confident ones; on an image pyramid, merged by NMS. Writes\n"
            "<out>/<name>.detect.png and the JSON schema of README.md to --json ('-': standard\n"
            "output, which then holds nothing else; progress and summaries go to standard error).\n"
            "An image that cannot be read becomes {\"path\", \"error\"} and the batch goes on.\n"
            "Exit status: 0 every image processed, 3 some images failed, 2 usage error,\n"
            "1 other error (model or weights missing, output not writable).");
  o.add_to(args, /*detection=*/true);
  args.text("json", &json_path, "FILE",
            "all results as one JSON document (default: <out>/detections.json; with --shard "
            "I/N: <out>/detections.I-of-N.json)");
  args.text("jsonl", &jsonl_path, "FILE",
            "one JSON object per image, written and flushed as each image finishes ('-': "
            "standard output)");
  args.text("list", &list_file, "FILE", "more image paths, one per line ('-': standard input)");
  args.flag("resume", &resume,
            "with --jsonl: skip the images already in it (a killed run goes on)");
  args.text("shard", &shard, "I/N", "process only images I, I+N, I+2N, ... of the list (0-based)");
  args.flag("no-images", &no_images, "do not write <out>/<name>.detect.png");
  args.integer("workers", &workers, 0, 256,
               "images processed at once, on threads of their own; 0: one per core, at most one "
               "per image (with --threads 0 the cores are shared among them: on two cores two "
               "workers read about 1.3x as many images per second as one)");
  args.flag("quiet", &quiet, "no progress, no per-image lines and no summary (errors only)");
  args.positionals(&images, "IMAGE", 0);
  if (!args.parse(argc, argv, 2)) return 0;
  const auto [shard_index, shard_count] = parse_shard(shard);
  if (resume && jsonl_path.empty()) throw UsageError("--resume needs --jsonl FILE");
  if (!list_file.empty()) {
    const std::vector<std::string> more = read_path_list(list_file);
    images.insert(images.end(), more.begin(), more.end());
  }
  if (images.empty()) throw UsageError("no IMAGE given (on the command line or with --list)");
  if (json_path.empty()) {  // one file per shard, so that array jobs do not overwrite each other
    json_path =
        o.out + "/detections" +
        (shard_count > 1 ? "." + std::to_string(shard_index) + "-of-" + std::to_string(shard_count)
                         : "") +
        ".json";
  }

  const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  if (workers == 0) {
    workers = std::min<int64_t>(
        cores, static_cast<int64_t>(shard_of(images, shard_index, shard_count).size()));
    workers = std::max<int64_t>(workers, 1);
  }
  if (o.threads == 0) o.threads = std::max<int64_t>(1, cores / workers);  // cores shared
  if (json_path == "-" && jsonl_path == "-") {
    throw UsageError("--json - and --jsonl - would mix two documents on standard output");
  }
  const Localizer loc = o.load();
  loc.detector().require_reader();
  // Standard output carries data only (--json - or --jsonl -); these lines go to stderr.
  std::ostream& log = std::cerr;
  if (!quiet) log << "model: " << loc.model_path() << "\n";
  if (!loc.reader_path().empty() && !quiet) log << "reader: " << loc.reader_path() << "\n";
  if (!loc.detector().first_reader_path.empty() && !quiet) {
    log << "first reader: " << loc.detector().first_reader_path << "\n";
  }
  if (!loc.detector().verifier_path.empty() && !quiet) {
    log << "verifier: " << loc.detector().verifier_path << "\n";
  }
  if (!loc.detector().letter_reader_path.empty() && !quiet) {
    log << "letter reader: " << loc.detector().letter_reader_path << "\n";
  }
  BatchOptions b;
  b.jsonl = jsonl_path;
  b.resume = resume;
  b.shard_index = shard_index;
  b.shard_count = shard_count;
  b.log = quiet ? nullptr : &std::cerr;
  b.workers = static_cast<int>(workers);
  nlohmann::json doc = {{"model", loc.model_path()}, {"images", nlohmann::json::array()}};
  const BatchSummary s =
      detect_batch(loc, images, b, [&](const ImageResult& r, const ImageView* image) {
        doc["images"].push_back(nlohmann::json::parse(to_json(r)));
        if (!r.ok()) {
          std::cerr << "adgap detect: " << r.path << ": " << r.error << std::endl;
          return;
        }
        if (image && !no_images) {
          const cv::Mat bgr(image->height, image->width, CV_8UC(image->channels),
                            const_cast<uint8_t*>(image->data), image->stride);
          write_png_atomic(output_path(o.out, r.path, ".detect.png"),
                           draw_detections(bgr, to_detections(r.detections)));
        }
        if (quiet || !image) return;
        log << r.path << ": " << r.detections.size() << " digits:";
        for (const Digit& d : r.detections) log << " " << d.label;
        log << "; numbers:";
        for (const Number& n : r.numbers) log << " " << n.text;
        log << "\n";
      });
  atomic_write_text(json_path, doc.dump(2) + "\n");
  if (!quiet) {
    std::fprintf(stderr, "%lld images (%lld resumed), %lld failed, %.2f s; wrote %s%s%s\n",
              static_cast<long long>(s.images), static_cast<long long>(s.resumed),
              static_cast<long long>(s.failed), s.seconds, json_path.c_str(),
              jsonl_path.empty() ? "" : " and ", jsonl_path.c_str());
  }
  return s.failed > 0 ? 3 : 0;
}

}  // namespace adgap::cli
