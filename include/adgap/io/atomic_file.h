// Writing files so that a reader never sees a half-written one: write a temporary file in the
// same directory, flush it, then rename it over the target (atomic on POSIX). Only a regular
// file, or a path where nothing is yet, is replaced so: "-" means standard output, a symbolic
// link is followed (the file it points to is replaced, the link stays), and a FIFO, a
// character device or a socket is written through, never replaced.
#pragma once

#include <functional>
#include <string>

namespace adgap {

// Calls `write(tmp_path)` to produce the content, then renames tmp_path to `path` (or to the
// regular file a link at `path` points to). If `write` throws, the temporary file is removed
// and the exception propagates; `path` is untouched. Creates missing parent directories.
// Where `path` is "-" or names a FIFO, a device or a socket, calls `write` with the path
// itself ("/dev/stdout" for "-"). A directory is refused.
void atomic_write(const std::string& path, const std::function<void(const std::string&)>& write);

// True when atomic_write replaces `path` by a rename (a regular file, or nothing there yet,
// directly or through a link); false for "-", a FIFO, a device or a socket.
bool writes_in_place(const std::string& path);

// atomic_write for a string's bytes ("-": written to standard output, flushed).
void atomic_write_text(const std::string& path, const std::string& content);

// Removes the temporary files atomic_write left in `dir` when its process was killed mid-write
// (`NAME.tmp.PID` whose PID no longer runs); returns how many. Others' live files stay.
int remove_stale_temporaries(const std::string& dir);

}  // namespace adgap
