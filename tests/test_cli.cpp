// The adgap CLI as a user meets it: help, bad arguments, missing or broken files.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fixtures.h"

namespace adgap {
namespace {

struct CliRun {
  int code;
  std::string out;  // stdout and stderr together
};

CliRun run_cli(const std::string& args) {
  test::TempDir dir;
  const std::string log = dir.file("out.txt");
  const std::string cmd = std::string(ADGAP_CLI) + " " + args + " > " + log + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

size_t lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

TEST(Cli, HelpExitsZeroForEveryCommand) {
  for (const char* c : {"--help", "train --help", "eval --help", "demo --help"}) {
    const CliRun r = run_cli(c);
    EXPECT_EQ(r.code, 0) << c << ": " << r.out;
    EXPECT_NE(r.out.find("usage: adgap"), std::string::npos) << c;
  }
}

TEST(Cli, NoCommandOrUnknownCommandIsAUsageError) {
  EXPECT_EQ(run_cli("").code, 2);
  const CliRun r = run_cli("frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown command 'frobnicate'"), std::string::npos) << r.out;
}

TEST(Cli, BadOptionValuesAreRejectedUpFront) {
  struct Case {
    const char* args;
    const char* says;
  } cases[] = {
      {"train --epochs 0", "--epochs: 0 is out of range [1, 1000]"},
      {"train --epochs ten", "'ten' is not a valid integer"},
      {"train --lr", "--lr needs a value"},
      {"train --bogus", "unknown option '--bogus'"},
      {"eval --split validation", "neither 'train' nor 'test'"},
      {"demo stray", "unexpected argument 'stray'"},
  };
  for (const Case& c : cases) {
    const CliRun r = run_cli(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << ": " << r.out;
    EXPECT_EQ(lines(r.out), 1u) << c.args << ": " << r.out;
  }
}

TEST(Cli, MissingDataOrModelGivesOneLineNamingTheFile) {
  test::TempDir dir;
  CliRun r = run_cli("train --data " + dir.file("nowhere") + " --out " + dir.file("run"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(dir.file("nowhere") + "/train-images-idx3-ubyte: not found"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(lines(r.out), 1u) << r.out;

  r = run_cli("eval --model " + dir.file("none.pt"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(dir.file("none.pt") + ": model file not found"), std::string::npos) << r.out;
  EXPECT_EQ(lines(r.out), 1u) << r.out;

  test::write_bytes(dir.file("junk.pt"), {'n', 'o', 't', ' ', 'a', ' ', 'm', 'o', 'd', 'e', 'l'});
  r = run_cli("eval --model " + dir.file("junk.pt") + " --data " + test::mnist_dir());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(dir.file("junk.pt") + ": not a readable model file"), std::string::npos)
      << r.out;
}

TEST(Cli, TruncatedDataFileIsReportedAndNothingIsWritten) {
  test::TempDir dir;
  test::write_split(dir.str(), "train", 10, 28, 28, 10);
  test::write_split(dir.str(), "t10k", 10, 28, 28, 10);
  std::vector<uint8_t> bytes = test::read_bytes(dir.file("train-images-idx3-ubyte"));
  bytes.resize(bytes.size() - 100);
  test::write_bytes(dir.file("train-images-idx3-ubyte"), bytes);
  const CliRun r = run_cli("train --data " + dir.str() + " --out " + dir.file("run"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("train-images-idx3-ubyte: payload is 7740 bytes but the header declares "
                       "7840 (file truncated)"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));
}

TEST(Cli, TrainsAndEvaluatesATinyRunEndToEnd) {
  test::TempDir dir;
  CliRun r = run_cli("train --limit 600 --epochs 1 --batch 100 --quiet --out " + dir.file("run") +
                     " --data " + test::mnist_dir());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("images per second"), std::string::npos) << r.out;
  r = run_cli("eval --model " + dir.file("run/model.pt") + " --data " + test::mnist_dir() +
              " --json " + dir.file("e.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("confusion"), std::string::npos);
  std::ifstream in(dir.file("e.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("\"count\": 10000"), std::string::npos) << ss.str();
}

}  // namespace
}  // namespace adgap
