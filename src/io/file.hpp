// Files that matter: bounded reads and atomic, durable writes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace weft::io {

// Reads a regular file of at most max_bytes.  The size is checked with
// fstat before anything is read, and again while reading (a file that grows
// meanwhile is refused).  Errors: the errno of the failing call, or
// errc::file_too_large, or errc::invalid_argument for a non-regular file.
std::error_code read_file_bounded(const std::filesystem::path& path, std::size_t max_bytes,
                                  std::string& out);

// Replaces `path` atomically: a temporary file in the same directory created
// with `mode` from the start (O_EXCL), the bytes written, fsync, rename over
// `path`, fsync of the directory.  On any error the old file is untouched and
// the temporary is removed.  Returns the errno of the failing call.
std::error_code write_file_atomic(const std::filesystem::path& path, std::string_view bytes,
                                  unsigned mode = 0600);

// Creates `path`, which must not exist yet (errc::file_exists otherwise),
// with the same durability as write_file_atomic: the bytes go to a temporary
// first, and link(2) publishes them only complete.  For keys: never
// overwrite one by accident.
std::error_code write_file_new(const std::filesystem::path& path, std::string_view bytes,
                               unsigned mode = 0600);

// The permission bits of an existing file (for rewriting it with the same
// mode), or errno.
std::error_code file_mode(const std::filesystem::path& path, unsigned& mode);

}  // namespace weft::io
