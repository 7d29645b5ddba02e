#include "args.h"

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace adgap::cli {

namespace {
std::string number_text(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

Args::Args(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void Args::add(Option o) { options_.push_back(std::move(o)); }

void Args::flag(const std::string& name, bool* target, const std::string& help) {
  add({name, "", help, "", Kind::kFlag, target});
}
void Args::text(const std::string& name, std::string* target, const std::string& metavar,
                const std::string& help) {
  add({name, metavar, help, *target, Kind::kText, target});
}
void Args::integer(const std::string& name, int64_t* target, int64_t lo, int64_t hi,
                   const std::string& help) {
  add({name, "N", help, std::to_string(*target), Kind::kInt, target, double(lo), double(hi)});
}
void Args::real(const std::string& name, double* target, double lo, double hi,
                const std::string& help) {
  add({name, "X", help, number_text(*target), Kind::kReal, target, lo, hi});
}

void Args::positionals(std::vector<std::string>* target, const std::string& metavar,
                       size_t min_count) {
  positionals_ = target;
  positional_metavar_ = metavar;
  positional_min_ = min_count;
}

std::string Args::usage() const {
  std::ostringstream os;
  os << "usage: adgap " << command_ << " [options]"
     << (positionals_ ? " " + positional_metavar_ + "..." : "") << "\n\n"
     << summary_ << "\n\noptions:\n";
  for (const Option& o : options_) {
    std::string lhs = "  --" + o.name + (o.metavar.empty() ? "" : " " + o.metavar);
    if (lhs.size() < 24)
      lhs.resize(24, ' ');
    else
      lhs += "  ";
    os << lhs << o.help;
    if (o.kind != Kind::kFlag && !o.default_text.empty())
      os << " (default: " << o.default_text << ")";
    os << "\n";
  }
  os << "  --help                  show this help and exit\n";
  return os.str();
}

bool Args::parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage();
      return false;
    }
    if (arg.rfind("--", 0) != 0 && positionals_) {
      positionals_->push_back(arg);
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      throw UsageError("unexpected argument '" + arg + "' for 'adgap " + command_ + "'");
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Option* opt = nullptr;
    for (const Option& o : options_) {
      if (o.name == name) opt = &o;
    }
    if (!opt) throw UsageError("unknown option '--" + name + "' for 'adgap " + command_ + "'");
    if (opt->kind == Kind::kFlag) {
      if (has_value) throw UsageError("--" + name + " takes no value");
      *static_cast<bool*>(opt->target) = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) throw UsageError("--" + name + " needs a value");
      value = argv[++i];
    }
    if (opt->kind == Kind::kText) {
      if (value.empty()) throw UsageError("--" + name + " needs a non-empty value");
      *static_cast<std::string*>(opt->target) = value;
      continue;
    }
    char* end = nullptr;
    errno = 0;
    const double v = opt->kind == Kind::kInt
                         ? static_cast<double>(std::strtoll(value.c_str(), &end, 10))
                         : std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || errno == ERANGE) {
      throw UsageError("--" + name + ": '" + value + "' is not a valid " +
                       (opt->kind == Kind::kInt ? "integer" : "number"));
    }
    if (!(v >= opt->lo && v <= opt->hi)) {
      throw UsageError("--" + name + ": " + value + " is out of range [" + number_text(opt->lo) +
                       ", " + number_text(opt->hi) + "]");
    }
    if (opt->kind == Kind::kInt)
      *static_cast<int64_t*>(opt->target) = std::strtoll(value.c_str(), nullptr, 10);
    else
      *static_cast<double*>(opt->target) = v;
  }
  if (positionals_ && positionals_->size() < positional_min_) {
    throw UsageError("needs at least " + std::to_string(positional_min_) + " " +
                     positional_metavar_ + " argument" + (positional_min_ > 1 ? "s" : ""));
  }
  return true;
}

}  // namespace adgap::cli
