// Replays fuzz inputs through a fuzz target's entry point without libFuzzer, so that every seed
// and every regression input runs in the normal (g++) test suite: fuzz/replay.cmake builds one
// executable per target from this file and the target's source.
// Usage: fuzz_replay_<target> DIR_OR_FILE...   Every file under each directory is run once, in
// name order. A directory that does not exist is skipped (a target may have no regression inputs
// yet), but at least one input must run. Exit 0 when all ran; a crash is the test's failure.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot open %s\n", p.c_str());
    std::exit(1);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    const fs::path root = argv[i];
    std::vector<fs::path> files;
    if (fs::is_regular_file(root)) {
      files.push_back(root);
    } else if (fs::is_directory(root)) {
      for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      std::printf("replay: %s: none (skipped)\n", root.c_str());
      continue;
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      const std::vector<uint8_t> bytes = read_all(f);
      // A copy of exactly the input's size, as libFuzzer passes it (no readable bytes past it).
      const std::vector<uint8_t> input(bytes);
      LLVMFuzzerTestOneInput(input.data(), input.size());
      ++runs;
    }
    std::printf("replay: %s: %zu inputs\n", root.c_str(), files.size());
  }
  if (runs == 0) {
    std::fprintf(stderr, "replay: no inputs found\n");
    return 1;
  }
  std::printf("replay: %zu inputs ran cleanly\n", runs);
  return 0;
}
