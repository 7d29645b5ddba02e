#include "adgap/io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace adgap {
namespace fs = std::filesystem;

namespace {
// Makes the temporary file's bytes durable before the rename makes them visible.
void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}
}  // namespace

namespace {

// The file a write to `path` replaces: `path`, or what a link there points to (a chain of
// links followed; a dangling link's target is created).
fs::path write_target(const std::string& path) {
  fs::path target(path);
  std::error_code ec;
  for (int hops = 0; hops < 40 && fs::is_symlink(fs::symlink_status(target, ec)); ++hops) {
    const fs::path to = fs::read_symlink(target, ec);
    if (ec) break;
    target = to.is_absolute() ? to : target.parent_path() / to;
  }
  return target;
}

}  // namespace

bool writes_in_place(const std::string& path) {
  if (path == "-") return false;
  std::error_code ec;
  const fs::file_status st = fs::status(write_target(path), ec);
  return !fs::exists(st) || fs::is_regular_file(st) || fs::is_directory(st);
}

namespace {

// Refuses a path whose kind cannot be told (a loop of links, a folder not searchable): it
// might be a link that a rename would replace.
void check_status(const std::string& path, const fs::path& target) {
  std::error_code ec;
  (void)fs::status(target, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw std::runtime_error(path + ": cannot tell what it is (" + ec.message() + ")");
  }
}

}  // namespace

void atomic_write(const std::string& path, const std::function<void(const std::string&)>& write) {
  if (path == "-") {
    write("/dev/stdout");
    return;
  }
  const fs::path target = write_target(path);
  check_status(path, target);
  std::error_code ec;
  const fs::file_status st = fs::status(target, ec);
  if (fs::is_directory(st)) throw std::runtime_error(path + ": is a directory");
  if (!writes_in_place(path)) {  // a FIFO, a device, a socket: written through
    write(target.string());
    return;
  }
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw std::runtime_error(path + ": cannot create directory (" + ec.message() + ")");
  }
  const std::string tmp = target.string() + ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
    fsync_path(tmp);
    fs::rename(tmp, target, ec);
    if (ec)
      throw std::runtime_error(path + ": cannot rename temporary file (" + ec.message() + ")");
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void atomic_write_text(const std::string& path, const std::string& content) {
  if (path == "-") {
    std::cout.write(content.data(), static_cast<std::streamsize>(content.size()));
    std::cout.flush();
    if (!std::cout) throw std::runtime_error("standard output: write failed");
    return;
  }
  atomic_write(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw std::runtime_error(tmp + ": cannot open for writing (" + std::strerror(errno) + ")");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) throw std::runtime_error(tmp + ": write failed");
  });
}

int remove_stale_temporaries(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t dot = name.rfind(".tmp.");
    if (dot == std::string::npos || dot + 5 == name.size()) continue;
    const std::string pid_text = name.substr(dot + 5);
    if (pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to tell
    std::error_code ignored;
    if (fs::remove(it->path(), ignored)) ++removed;
  }
  return removed;
}

}  // namespace adgap
