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
// meanwhile is refused).  The open never blocks: a FIFO or a device is
// refused without waiting for a writer.  Errors: the errno of the failing
// call, or errc::file_too_large, or errc::invalid_argument for a
// non-regular file.
std::error_code read_file_bounded(const std::filesystem::path& path, std::size_t max_bytes,
                                  std::string& out);

// The file a path names once its symlinks are followed: `path` itself when
// it is not a symlink (or does not exist), else the target of its last link,
// a relative target taken from the directory of the link.  At most
// max_symlink_hops links are followed; more (a loop) is
// errc::too_many_symbolic_link_levels (ELOOP).  Other errors: the errno of
// lstat or readlink.  Only the last
// component is resolved: the directories on the way stay as they are, the
// kernel follows them when the path is used.
inline constexpr int max_symlink_hops = 40;  // as the kernel
std::error_code final_symlink_target(const std::filesystem::path& path, std::filesystem::path& out);

// What write_file_atomic does with a symlink at `path`.
enum class symlink_policy {
    replace,  // rename over the link: `path` becomes a regular file
    follow,   // write the link's final target (final_symlink_target); the link stays
};

// What a replacement keeps of the file it replaces.
enum class owner_policy {
    // Keep the owner and group if the caller may (root, or the same owner);
    // if fchown says EPERM the new file is the caller's, as if new.
    keep_if_permitted,
    // Keep them or fail with EPERM, nothing written (a file some daemon owns).
    keep_or_fail,
};

struct write_options {
    unsigned mode = 0600;  // the permission bits of the new file
    symlink_policy symlinks = symlink_policy::replace;
    owner_policy owner = owner_policy::keep_if_permitted;
};

// Replaces `path` atomically: a temporary file in the same directory created
// with `mode` from the start (O_EXCL), the bytes written, fsync, rename over
// `path`, fsync of the directory.  When `path` (after options.symlinks) is an
// existing regular file, the temporary gets its owner and group (see
// options.owner) and its `security.selinux` and `system.posix_acl_access`
// extended attributes before the rename, so the file never appears with
// another owner, label or ACL than the old one had.  `mode` is set after the
// ACL, so it holds as given (the ACL's named entries stay).  An attribute
// the filesystem does not support, or that the old file lacks, is skipped.
// On any error the old file is untouched and the temporary is removed.
// Returns the errno of the failing call (ELOOP for a symlink loop under
// symlink_policy::follow; EPERM for an owner that cannot be kept under
// owner_policy::keep_or_fail).
std::error_code write_file_atomic(const std::filesystem::path& path, std::string_view bytes,
                                  const write_options& options);
// The same with only the mode given: symlink_policy::replace,
// owner_policy::keep_if_permitted.
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
