// Writing files so that a reader never sees a half-written one: write a temporary file in the
// same directory, flush it, then rename it over the target (atomic on POSIX).
#pragma once

#include <functional>
#include <string>

namespace adgap {

// Calls `write(tmp_path)` to produce the content, then renames tmp_path to `path`. If `write`
// throws, the temporary file is removed and the exception propagates; `path` is untouched.
// Creates missing parent directories.
void atomic_write(const std::string& path, const std::function<void(const std::string&)>& write);

// atomic_write for a string's bytes.
void atomic_write_text(const std::string& path, const std::string& content);

// Removes the temporary files atomic_write left in `dir` when its process was killed mid-write
// (`NAME.tmp.PID` whose PID no longer runs); returns how many. Others' live files stay.
int remove_stale_temporaries(const std::string& dir);

}  // namespace adgap
