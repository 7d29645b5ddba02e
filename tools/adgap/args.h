// A small command-line parser: named options with types and ranges, checked up front.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace adgap::cli {

// A command line that cannot be used as given; main prints it with the usage hint, exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  Args(std::string command, std::string summary);

  void flag(const std::string& name, bool* target, const std::string& help);
  void text(const std::string& name, std::string* target, const std::string& metavar,
            const std::string& help);
  void integer(const std::string& name, int64_t* target, int64_t lo, int64_t hi,
               const std::string& help);
  void real(const std::string& name, double* target, double lo, double hi, const std::string& help);
  // Accepts arguments not starting with "--" into `target` (at least `min_count` of them).
  void positionals(std::vector<std::string>* target, const std::string& metavar, size_t min_count);

  // Parses argv[first..argc). Returns false when --help was given (usage already printed to
  // stdout); throws UsageError for an unknown option, a missing or malformed value, or a value
  // out of range.
  bool parse(int argc, char** argv, int first);
  std::string usage() const;

 private:
  enum class Kind { kFlag, kText, kInt, kReal };
  struct Option {
    std::string name, metavar, help, default_text;
    Kind kind;
    void* target;
    double lo = 0, hi = 0;
  };
  void add(Option o);
  std::string command_, summary_;
  std::vector<Option> options_;
  std::vector<std::string>* positionals_ = nullptr;
  std::string positional_metavar_;
  size_t positional_min_ = 0;
};

}  // namespace adgap::cli
