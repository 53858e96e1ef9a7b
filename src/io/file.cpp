#include "io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>
#include <vector>

#include "crypto/random.hpp"

namespace weft::io {

namespace {
std::error_code last_error() { return {errno, std::generic_category()}; }

struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

std::error_code write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}
}  // namespace

std::error_code read_file_bounded(const std::filesystem::path& path, std::size_t max_bytes,
                                  std::string& out) {
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer before the
    // S_ISREG check could refuse it.  It changes nothing for a regular file.
    fd_guard f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
    if (f.fd < 0) return last_error();
    struct stat st{};
    if (::fstat(f.fd, &st) != 0) return last_error();
    if (!S_ISREG(st.st_mode)) return std::make_error_code(std::errc::invalid_argument);
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
        return std::make_error_code(std::errc::file_too_large);
    std::string buf;
    buf.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t got = 0;
    for (;;) {
        if (got == buf.size()) {
            if (buf.size() > max_bytes) return std::make_error_code(std::errc::file_too_large);
            buf.resize(std::min(buf.size() * 2, max_bytes + 1));
        }
        ssize_t n = ::read(f.fd, buf.data() + got, buf.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got > max_bytes) return std::make_error_code(std::errc::file_too_large);
    buf.resize(got);
    out = std::move(buf);
    return {};
}

std::error_code final_symlink_target(const std::filesystem::path& path, std::filesystem::path& out) {
    std::filesystem::path p = path;
    for (int hop = 0; hop <= max_symlink_hops; ++hop) {
        struct stat st{};
        if (::lstat(p.c_str(), &st) != 0) {
            if (errno != ENOENT) return last_error();
            out = p;  // a new file, or a dangling link's target: created there
            return {};
        }
        if (!S_ISLNK(st.st_mode)) {
            out = p;
            return {};
        }
        if (hop == max_symlink_hops) break;
        std::array<char, 4096> buf{};
        ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
        if (n < 0) return last_error();
        if (static_cast<std::size_t>(n) == buf.size())
            return std::make_error_code(std::errc::filename_too_long);
        std::filesystem::path t(std::string(buf.data(), static_cast<std::size_t>(n)));
        p = t.is_absolute() ? t : p.parent_path() / t;
    }
    return std::make_error_code(std::errc::too_many_symbolic_link_levels);
}

namespace {
// What a replacement carries over from the file it replaces.
struct old_file_meta {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<std::pair<const char*, std::string>> xattrs;
};

// The extended attributes a replacement keeps: the SELinux label, and the
// ACL (which also holds the permission bits).  Nothing else: a user.*
// attribute describes the old content, not the file's place.
constexpr std::array<const char*, 2> kept_xattrs{"security.selinux", "system.posix_acl_access"};

bool xattr_unsupported(int err) { return err == ENOTSUP || err == ENODATA; }  // ENOTSUP == EOPNOTSUPP

// The metadata of `path` if it is an existing regular file (not a link:
// replacing a link keeps nothing of it), else nullopt.
std::error_code read_old_meta(const std::filesystem::path& path, std::optional<old_file_meta>& out) {
    out.reset();
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? std::error_code{} : last_error();
    if (!S_ISREG(st.st_mode)) return {};
    old_file_meta m;
    m.uid = st.st_uid;
    m.gid = st.st_gid;
    for (const char* name : kept_xattrs) {
        std::string value;
        for (int tries = 0;; ++tries) {
            ssize_t n = ::lgetxattr(path.c_str(), name, nullptr, 0);
            if (n < 0) {
                if (xattr_unsupported(errno)) break;
                return last_error();
            }
            value.resize(static_cast<std::size_t>(n));
            n = ::lgetxattr(path.c_str(), name, value.data(), value.size());
            if (n >= 0) {
                value.resize(static_cast<std::size_t>(n));
                m.xattrs.emplace_back(name, std::move(value));
                break;
            }
            if (xattr_unsupported(errno)) break;
            if (errno != ERANGE || tries == 3) return last_error();  // ERANGE: it grew meanwhile
        }
    }
    out = std::move(m);
    return {};
}

// Gives the open temporary `fd` the old file's owner and attributes.
std::error_code apply_old_meta(int fd, const old_file_meta& m, owner_policy owner) {
    if (::fchown(fd, m.uid, m.gid) != 0 && (errno != EPERM || owner == owner_policy::keep_or_fail))
        return last_error();
    for (const auto& [name, value] : m.xattrs) {
        if (::fsetxattr(fd, name, value.data(), value.size(), 0) != 0 && !xattr_unsupported(errno))
            return last_error();
    }
    return {};
}

// Writes a temporary beside `path`, durable and with exactly `mode` (and the
// old file's metadata, if given); returns its name through `tmp`.
std::error_code write_temp(const std::filesystem::path& path, std::string_view bytes, unsigned mode,
                           std::filesystem::path& tmp, const old_file_meta* meta = nullptr,
                           owner_policy owner = owner_policy::keep_if_permitted) {
    std::array<std::uint8_t, 8> rnd{};
    crypto::random_bytes(rnd);
    std::string suffix = ".tmp.";
    for (auto b : rnd) suffix += "0123456789abcdef"[b & 15];
    tmp = path;
    tmp += suffix;

    fd_guard f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                      static_cast<mode_t>(mode))};
    if (f.fd < 0) return last_error();
    auto fail = [&](std::error_code ec) {
        ::unlink(tmp.c_str());
        return ec;
    };
    // fchown first: it may clear set-id bits, which fchmod then sets.
    if (meta)
        if (auto ec = apply_old_meta(f.fd, *meta, owner)) return fail(ec);
    // The umask may have narrowed the mode; never widened.  Set it exactly.
    if (::fchmod(f.fd, static_cast<mode_t>(mode)) != 0) return fail(last_error());
    if (auto ec = write_all(f.fd, bytes)) return fail(ec);
    if (::fsync(f.fd) != 0) return fail(last_error());
    if (::close(f.fd) != 0) {
        f.fd = -1;
        return fail(last_error());
    }
    f.fd = -1;
    return {};
}

std::error_code sync_dir(const std::filesystem::path& path) {
    std::filesystem::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd < 0) return last_error();
    if (::fsync(d.fd) != 0) return last_error();
    return {};
}
}  // namespace

std::error_code write_file_atomic(const std::filesystem::path& path, std::string_view bytes,
                                  const write_options& options) {
    std::filesystem::path target = path;
    if (options.symlinks == symlink_policy::follow)
        if (auto ec = final_symlink_target(path, target)) return ec;
    std::optional<old_file_meta> meta;
    if (auto ec = read_old_meta(target, meta)) return ec;
    std::filesystem::path tmp;
    if (auto ec = write_temp(target, bytes, options.mode, tmp, meta ? &*meta : nullptr, options.owner))
        return ec;
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        auto ec = last_error();
        ::unlink(tmp.c_str());
        return ec;
    }
    return sync_dir(target);
}

std::error_code write_file_atomic(const std::filesystem::path& path, std::string_view bytes,
                                  unsigned mode) {
    return write_file_atomic(path, bytes, write_options{.mode = mode});
}

std::error_code write_file_new(const std::filesystem::path& path, std::string_view bytes,
                               unsigned mode) {
    std::filesystem::path tmp;
    if (auto ec = write_temp(path, bytes, mode, tmp)) return ec;
    // link() fails with EEXIST instead of replacing: the exclusive publish.
    int rc = ::link(tmp.c_str(), path.c_str());
    auto ec = rc != 0 ? last_error() : std::error_code{};
    ::unlink(tmp.c_str());
    if (ec) return ec;
    return sync_dir(path);
}

std::error_code file_mode(const std::filesystem::path& path, unsigned& mode) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return last_error();
    mode = st.st_mode & 07777;
    return {};
}

}  // namespace weft::io
