#include "io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

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
    fd_guard f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
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

namespace {
// Writes a temporary beside `path`, durable and with exactly `mode`; returns
// its name through `tmp`.
std::error_code write_temp(const std::filesystem::path& path, std::string_view bytes, unsigned mode,
                           std::filesystem::path& tmp) {
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
                                  unsigned mode) {
    std::filesystem::path tmp;
    if (auto ec = write_temp(path, bytes, mode, tmp)) return ec;
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto ec = last_error();
        ::unlink(tmp.c_str());
        return ec;
    }
    return sync_dir(path);
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
