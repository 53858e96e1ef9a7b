#include "io/state_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string_view>
#include <utility>

#include "io/file.hpp"

namespace weft::io {

namespace {

constexpr unsigned dir_mode = 0700;
constexpr unsigned file_mode_bits = 0600;
constexpr std::string_view name_prefix = "pair-";
constexpr std::string_view state_suffix = ".state";
constexpr std::string_view corrupt_suffix = ".state.corrupt";
// write_file_atomic's temporaries: the target name, ".tmp.", random hex.
constexpr std::string_view temp_infix = ".state.tmp.";

std::error_code last_error() { return {errno, std::generic_category()}; }

struct fd_guard {
    explicit fd_guard(int f) noexcept : fd(f) {}
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
    int fd;
};

std::string octal(unsigned mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", mode);
    return buf;
}

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::error_code sync_dir(const std::filesystem::path& dir) {
    fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd < 0) return last_error();
    if (::fsync(d.fd) != 0) return last_error();
    return {};
}

// The peer id of "pair-<id><suffix>", where <id> is canonical decimal
// (no sign, no leading zero) in 1 .. 2^32-1; nullopt for any other name.
std::optional<std::uint32_t> peer_of(std::string_view name, std::string_view suffix) {
    if (!name.starts_with(name_prefix) || !name.ends_with(suffix)) return std::nullopt;
    if (name.size() < name_prefix.size() + suffix.size()) return std::nullopt;
    const std::string_view digits =
        name.substr(name_prefix.size(), name.size() - name_prefix.size() - suffix.size());
    if (digits.empty() || digits.front() == '0') return std::nullopt;
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    std::uint32_t id = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    return id;
}

// A temporary of an interrupted save: "pair-<id>.state.tmp.<anything>".
bool is_temp_name(std::string_view name) {
    const auto at = name.find(temp_infix);
    return at != std::string_view::npos &&
           peer_of(name.substr(0, at + state_suffix.size()), state_suffix).has_value();
}

// Removes whatever sits at `path` without following it (a symlink goes, its
// target stays).  Returns "" or why it could not.
std::string discard(const std::filesystem::path& path) {
    if (::unlink(path.c_str()) == 0 || errno == ENOENT) return "";
    // unlink cannot remove a directory; an empty one can still go.
    if ((errno == EISDIR || errno == EPERM) && ::rmdir(path.c_str()) == 0) return "";
    return "; could not remove it: " + last_error().message();
}

unexpected<load_error> load_fail(load_error_code code, std::string message) {
    return unexpected{load_error{code, std::move(message)}};
}

}  // namespace

const char* to_string(load_error_code c) noexcept {
    switch (c) {
        case load_error_code::missing: return "missing";
        case load_error_code::corrupt: return "corrupt";
        case load_error_code::foreign: return "foreign";
        case load_error_code::bad_permissions: return "bad permissions";
        case load_error_code::io: return "i/o error";
    }
    return "unknown";
}

result<state_store, std::string> state_store::open(std::filesystem::path dir,
                                                   std::uint32_t self_id) {
    if (dir.empty()) return unexpected{std::string("state directory: empty path")};
    if (self_id == 0) return unexpected{std::string("state directory: node id 0")};
    const std::string shown = quoted(dir);  // `dir` moves into the store below
    auto failed = [&](const std::string& what, std::error_code ec = {}) {
        std::string m = "state directory " + shown + ": " + what;
        if (ec) m += ": " + ec.message();
        return unexpected{std::move(m)};
    };

    struct stat st{};
    // stat, not lstat: the configured directory may be a symlink to the
    // real one; what it points to must pass the same checks.
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT) return failed("cannot stat", last_error());
        std::error_code ec;
        if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
        if (ec) return failed("cannot create its parent", ec);
        // EEXIST: created meanwhile by someone else; the checks below decide.
        if (::mkdir(dir.c_str(), dir_mode) != 0 && errno != EEXIST)
            return failed("cannot create", last_error());
        if (::stat(dir.c_str(), &st) != 0) return failed("cannot stat", last_error());
    }
    if (!S_ISDIR(st.st_mode)) return failed("not a directory");
    // Checked explicitly: root can read anything, so "we could open it"
    // proves nothing about who else can.
    if (st.st_uid != ::geteuid())
        return failed("owned by uid " + std::to_string(st.st_uid) + ", not by the daemon's uid " +
                      std::to_string(::geteuid()));

    state_store store(std::move(dir), self_id);
    const unsigned mode = st.st_mode & 07777;
    // Group or other bits: someone else may have read the keys (or placed
    // files).  Policy: such state is compromised and deleted now, rather
    // than flagged for load(), so no later code path can use it by mistake;
    // the pairs renegotiate fresh keys.
    const bool exposed = (mode & 0077) != 0;
    if (mode != dir_mode) {
        // chmod also fixes a mkdir narrowed by the umask, or a missing owner bit.
        if (::chmod(store.dir_.c_str(), dir_mode) != 0)
            return failed("cannot set mode " + octal(dir_mode), last_error());
        if (exposed)
            store.warnings_.push_back("state directory " + quoted(store.dir_) + " had mode " +
                                      octal(mode) + "; set to " + octal(dir_mode) +
                                      ", and its pair state discarded as possibly read by others");
    }

    // Sweep: temporaries of an interrupted save always (they hold keys and
    // nothing will ever rename them); state and .corrupt files when exposed.
    std::error_code ec;
    std::size_t removed = 0;
    std::vector<std::filesystem::path> doomed;
    for (std::filesystem::directory_iterator it(store.dir_, ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (is_temp_name(name) ||
            (exposed && (peer_of(name, state_suffix) || peer_of(name, corrupt_suffix))))
            doomed.push_back(it->path());
    }
    if (ec) return failed("cannot list", ec);
    for (const auto& p : doomed) {
        if (std::string why = discard(p); !why.empty())
            return failed("cannot remove " + quoted(p.filename()) + why);
        ++removed;
    }
    if (removed != 0) {
        if (auto sec = sync_dir(store.dir_)) return failed("cannot sync", sec);
        if (exposed)
            store.warnings_.push_back("removed " + std::to_string(removed) + " file(s) from " +
                                      quoted(store.dir_));
    }
    return store;
}

std::filesystem::path state_store::state_path(std::uint32_t peer_id) const {
    return dir_ / (std::string(name_prefix) + std::to_string(peer_id) + std::string(state_suffix));
}

std::filesystem::path state_store::corrupt_path(std::uint32_t peer_id) const {
    return dir_ /
           (std::string(name_prefix) + std::to_string(peer_id) + std::string(corrupt_suffix));
}

result<pair_state, load_error> state_store::load(std::uint32_t peer_id) {
    // Whatever happens below, the old record no longer describes the file.
    known_.erase(peer_id);
    const std::filesystem::path path = state_path(peer_id);
    const std::string where = "state file " + quoted(path);

    auto reject = [&](std::string why) {
        return load_fail(load_error_code::bad_permissions,
                         where + ": " + why + "; removed" + discard(path));
    };

    // lstat first, so nothing but a regular file is ever opened (a FIFO
    // would block, a device could act on open).
    struct stat lst{};
    if (::lstat(path.c_str(), &lst) != 0) {
        if (errno == ENOENT) return load_fail(load_error_code::missing, where + ": none");
        return load_fail(load_error_code::io, where + ": cannot stat: " + last_error().message());
    }
    if (S_ISLNK(lst.st_mode)) return reject("is a symlink");
    if (!S_ISREG(lst.st_mode)) return reject("is not a regular file");
    // Checked explicitly, not left to open(): the daemon may run as root.
    if (lst.st_uid != ::geteuid()) return reject("owned by uid " + std::to_string(lst.st_uid));
    if ((lst.st_mode & 07777) != file_mode_bits)
        return reject("mode " + octal(lst.st_mode & 07777) + ", not " + octal(file_mode_bits));
    // A second name means the keys live on somewhere this store cannot
    // delete or update (the store itself never makes hard links).
    if (lst.st_nlink != 1) return reject(std::to_string(lst.st_nlink) + " hard links");

    // O_NOFOLLOW and the identity check below close the gap between lstat
    // and open (only this uid can change the 0700 directory anyway).
    fd_guard f{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
    if (f.fd < 0) {
        if (errno == ENOENT) return load_fail(load_error_code::missing, where + ": none");
        if (errno == ELOOP) return reject("is a symlink");
        return load_fail(load_error_code::io, where + ": cannot open: " + last_error().message());
    }
    struct stat st{};
    if (::fstat(f.fd, &st) != 0)
        return load_fail(load_error_code::io, where + ": cannot stat: " + last_error().message());
    if (st.st_dev != lst.st_dev || st.st_ino != lst.st_ino)
        return load_fail(load_error_code::io, where + ": replaced while being opened");

    // Bounded read: one byte past the cap is enough for the decoder to say
    // too_large; the buffer wipes itself (it holds keys).
    crypto::secret_bytes bytes(pair_state_layout::max_size + 1);
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t n = ::read(f.fd, bytes.data() + got, bytes.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return load_fail(load_error_code::io,
                             where + ": cannot read: " + last_error().message());
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);

    auto decoded = decode_pair_state(bytes.span());
    if (!decoded) {
        // Kept (0600, checked above) for the admin to look at; a later
        // corrupt file replaces it, so at most one copy per peer exists.
        const std::filesystem::path aside = corrupt_path(peer_id);
        std::string msg = where + ": " + decoded.error().message;
        if (::rename(path.c_str(), aside.c_str()) == 0) {
            msg += "; moved to " + quoted(aside.filename());
            (void)sync_dir(dir_);  // best effort: it is dealt with again if it comes back
        } else {
            msg += "; could not move it aside (" + last_error().message() + "), removed" +
                   discard(path);
        }
        return load_fail(load_error_code::corrupt, std::move(msg));
    }
    pair_state& s = decoded.value();
    if (s.self_id != self_id_ || s.peer_id != peer_id)
        return load_fail(load_error_code::foreign,
                         where + ": holds the pair " + std::to_string(s.self_id) + " -> " +
                             std::to_string(s.peer_id) + ", expected " + std::to_string(self_id_) +
                             " -> " + std::to_string(peer_id) + "; removed" + discard(path));

    known_[peer_id] = file_record{crypto::sha256(bytes.span()), st.st_dev, st.st_ino, st.st_size,
                                  st.st_mtim};
    return std::move(s);
}

std::error_code state_store::save(const pair_state& s) {
    if (s.self_id != self_id_) return std::make_error_code(std::errc::invalid_argument);
    const crypto::secret_bytes bytes = encode_pair_state(s);
    const crypto::sha256_digest digest = crypto::sha256(bytes.span());
    const std::filesystem::path path = state_path(s.peer_id);

    if (auto it = known_.find(s.peer_id); it != known_.end() && it->second.digest == digest) {
        // Skip only if the file is still the very one recorded: a deleted or
        // replaced file (an old copy would hold a stale tx_reserved) is
        // rewritten.
        struct stat st{};
        const file_record& r = it->second;
        if (::lstat(path.c_str(), &st) == 0 && st.st_dev == r.dev && st.st_ino == r.ino &&
            st.st_size == r.size && st.st_mtim.tv_sec == r.mtime.tv_sec &&
            st.st_mtim.tv_nsec == r.mtime.tv_nsec)
            return {};
    }
    known_.erase(s.peer_id);

    const std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    std::error_code ec = write_file_atomic(path, view, file_mode_bits);
    if (ec == std::errc::no_such_file_or_directory) {
        // The admin deleted the directory while the daemon runs (allowed:
        // design.md); recreate it rather than stop saving.
        if (::mkdir(dir_.c_str(), dir_mode) == 0 && ::chmod(dir_.c_str(), dir_mode) == 0)
            ec = write_file_atomic(path, view, file_mode_bits);
    }
    if (ec) return ec;

    struct stat st{};
    // Without a record the next save writes again; harmless.
    if (::lstat(path.c_str(), &st) == 0)
        known_[s.peer_id] = file_record{digest, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return {};
}

std::error_code state_store::remove(std::uint32_t peer_id) {
    known_.erase(peer_id);
    std::error_code first;
    bool removed = false;
    for (const auto& p : {state_path(peer_id), corrupt_path(peer_id)}) {
        if (::unlink(p.c_str()) == 0) {
            removed = true;
        } else if (errno != ENOENT && !first) {
            first = last_error();
        }
    }
    if (removed) {
        if (auto ec = sync_dir(dir_); ec && !first) first = ec;
    }
    return first;
}

std::vector<std::uint32_t> state_store::list() const {
    std::vector<std::uint32_t> ids;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end;
         it.increment(ec)) {
        if (auto id = peer_of(it->path().filename().string(), state_suffix)) ids.push_back(*id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace weft::io
