// The state directory: one file per peer, `pair-<peer id>.state`, holding
// the encoded pair_state (core/PAIR-STATE.md).  Files are 0600 in a 0700
// directory owned by the daemon's effective uid, written atomically
// (io/file.hpp) and only when their bytes change.
//
// Anything doubtful is thrown away, never used: the caller's answer to every
// load error is "renegotiate with that peer", which is always safe, whereas
// a wrong or stale key could reuse a nonce or accept a replay.
//
// Not thread-safe: one owner (the control-plane thread).  The store assumes
// it is the only writer of the directory; an admin may delete the directory
// or any file at any time (the pairs renegotiate).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "core/pair_state.hpp"
#include "crypto/digest.hpp"

namespace weft::io {

enum class load_error_code : std::uint8_t {
    missing,          // no state for that peer: negotiate
    corrupt,          // did not decode; moved aside to pair-<id>.state.corrupt
    foreign,          // decoded, but for another self id or peer id; removed
    bad_permissions,  // not a 0600 regular file owned by the euid (symlinks too); removed
    io,               // a system call failed; the file is left as it is
};

struct load_error {
    load_error_code code;
    std::string message;  // names the file and the reason
};

const char* to_string(load_error_code c) noexcept;

class state_store {
public:
    // Opens (creating it 0700, parents as needed, if missing) the state
    // directory of node `self_id`.  An existing directory must be owned by
    // the euid.  A mode other than 0700 is set to 0700; if it granted
    // anything to group or others, the keys in it may have been read, so
    // every state file in it (and every .corrupt copy) is deleted at once
    // and a warning says so (see warnings()).  Leftover temporaries of an
    // interrupted save are deleted too.
    // Errors: a message naming the path and the reason.
    static result<state_store, std::string> open(std::filesystem::path dir, std::uint32_t self_id);

    state_store(state_store&&) noexcept = default;
    state_store& operator=(state_store&&) noexcept = default;
    state_store(const state_store&) = delete;
    state_store& operator=(const state_store&) = delete;
    ~state_store() = default;

    // Things open() repaired, for the caller to log (warning level).
    const std::vector<std::string>& warnings() const noexcept { return warnings_; }

    const std::filesystem::path& directory() const noexcept { return dir_; }
    std::uint32_t self_id() const noexcept { return self_id_; }

    // The state saved for `peer_id`.  Errors as in load_error_code; every
    // error but io also means no file is left under the state name.  The
    // caller still has to check peer_name and peer_cert against the BNL.
    result<pair_state, load_error> load(std::uint32_t peer_id);

    // Writes `s` (whose self_id must be this store's, else
    // errc::invalid_argument) as the state of s.peer_id, atomically and
    // durably.  Returns at once, writing nothing, when the bytes equal those
    // this store last wrote or loaded for that peer and the file is still
    // the one it wrote or loaded.  Errors: the errno of the failing call;
    // the previous file is then untouched.  Aborts when
    // pair_state_problem(s) != nullptr (a bug in the caller).
    std::error_code save(const pair_state& s);

    // Deletes the state of `peer_id` and its .corrupt copy, if any.  A
    // missing file is not an error.
    std::error_code remove(std::uint32_t peer_id);

    // The peer ids that have a state file, ascending.  Temporaries,
    // .corrupt copies and other names are ignored.  Only names are looked
    // at (load() judges the files); a directory that cannot be read lists
    // what was read before the error, possibly nothing.
    std::vector<std::uint32_t> list() const;

    // The file name of `peer_id`'s state, and its moved-aside copy.
    std::filesystem::path state_path(std::uint32_t peer_id) const;
    std::filesystem::path corrupt_path(std::uint32_t peer_id) const;

private:
    // What this store last wrote or read for a peer: the digest of the bytes
    // and the identity of the file, so a file replaced behind its back (an
    // old copy restored, a file deleted) is rewritten, not trusted.
    struct file_record {
        crypto::sha256_digest digest{};
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = 0;
        std::timespec mtime{};
    };

    state_store(std::filesystem::path dir, std::uint32_t self_id) noexcept
        : dir_(std::move(dir)), self_id_(self_id) {}

    std::filesystem::path dir_;
    std::uint32_t self_id_;
    std::vector<std::string> warnings_;
    std::unordered_map<std::uint32_t, file_record> known_;
};

}  // namespace weft::io
