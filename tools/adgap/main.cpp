// adgap: find and read digits in images of any size with an MNIST-trained CNN (AdGAP).
// This file only dispatches to the subcommands and reports errors, once, on one line.
#include <c10/util/Exception.h>

#include <cstdio>
#include <cstring>
#include <iostream>

#include "args.h"
#include "commands.h"

namespace {

constexpr const char* kUsage =
    "usage: adgap <command> [options]\n"
    "\n"
    "commands:\n"
    "  train   train the paper's network on MNIST (or another IDX dataset)\n"
    "  eval    accuracy, per-class accuracy and confusion matrix of a trained model\n"
    "  weights filter importance (paper Eq. 1), globally and per class\n"
    "  heatmap AdGAP heatmaps (paper Eq. 2) of images of any size, overlays and masks\n"
    "  detect  find and read the digits in images, JSON and overlays\n"
    "  eval-scenes  detection and reading measured on generated scenes, per map mode\n"
    "  eval-v2      the detector on benchmark v2's scenes, recall per condition\n"
    "  scenes       generated scenes as PNG files with their ground truth\n"
    "  read-cells   reader accuracy on a grid of digit cells (opencv-doc's digits.png)\n"
    "  bench-loc    every localisation method on the generated benchmark, tuned on a held-out "
    "split\n"
    "  train-reader the reader: digits plus a 'not a digit' class, from mined detector crops\n"
    "  serve   the viewer: a page in the browser showing a photo's map, mask and digits\n"
    "  demo    the whole pipeline on defaults: train (or reuse), weights, heatmaps, detection\n"
    "  convert an adgap model of the old LibTorch format (.pt) as a safetensors file\n"
    "\n"
    "`adgap <command> --help` describes a command's options.\n";

// First line of a message: LibTorch errors carry multi-line context we do not want on stderr.
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

int main(int argc, char** argv) {
  using namespace adgap::cli;
  // Line-buffered stdout even into a file or pipe, so that a log interleaves stdout and stderr
  // lines in the order they were written.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  try {
    if (cmd == "train") return cmd_train(argc, argv);
    if (cmd == "eval") return cmd_eval(argc, argv);
    if (cmd == "demo") return cmd_demo(argc, argv);
    if (cmd == "weights") return cmd_weights(argc, argv);
    if (cmd == "heatmap") return cmd_heatmap(argc, argv);
    if (cmd == "detect") return cmd_detect(argc, argv);
    if (cmd == "eval-scenes") return cmd_eval_scenes(argc, argv);
    if (cmd == "eval-v2") return cmd_eval_v2(argc, argv);
    if (cmd == "scenes") return cmd_scenes(argc, argv);
    if (cmd == "read-cells") return cmd_read_cells(argc, argv);
    if (cmd == "bench-loc") return cmd_bench_loc(argc, argv);
    if (cmd == "train-reader") return cmd_train_reader(argc, argv);
    if (cmd == "serve") return cmd_serve(argc, argv);
    if (cmd == "convert") return cmd_convert(argc, argv);
    std::cerr << "adgap: unknown command '" << cmd << "'\n" << kUsage;
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "adgap " << cmd << ": " << e.what() << " (see 'adgap " << cmd << " --help')\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "adgap " << cmd << ": error: " << first_line(e.what_without_backtrace()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "adgap " << cmd << ": error: " << first_line(e.what()) << "\n";
    return 1;
  }
}
