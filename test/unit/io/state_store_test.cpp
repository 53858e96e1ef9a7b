#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/pair_state.hpp"
#include "io/file.hpp"
#include "io/state_store.hpp"
#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using weft::pair_keyset;
using weft::pair_state;
using weft::io::load_error_code;
using weft::io::state_store;

constexpr std::uint32_t self = 7;

// A fresh directory under the system temp dir, removed afterwards.
struct temp_dir : weft::test::temp_dir {
    temp_dir() : weft::test::temp_dir("state-test") {}
};

pair_keyset make_keyset(std::uint32_t epoch, std::uint8_t seed) {
    pair_keyset k;
    k.epoch = epoch;
    k.cipher = 3;  // chacha20-poly1305
    k.compression = 1;
    k.level = 1;
    k.established_at = 1'700'000'000;
    k.valid_until = 1'700'003'600;
    std::vector<std::uint8_t> key(32), salt(12);
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(seed + i);
    for (std::size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<std::uint8_t>(seed ^ i);
    k.tx_key = weft::crypto::secret_bytes(std::span<const std::uint8_t>(key));
    key[0] ^= 0xff;
    k.rx_key = weft::crypto::secret_bytes(std::span<const std::uint8_t>(key));
    k.tx_salt = weft::nonce_salt(std::span<const std::uint8_t, 12>(salt.data(), 12));
    salt[0] ^= 0xff;
    k.rx_salt = weft::nonce_salt(std::span<const std::uint8_t, 12>(salt.data(), 12));
    k.tx_reserved = std::uint64_t{3} << 20;
    k.rx_highwater = 12345;
    return k;
}

pair_state make_state(std::uint32_t peer, std::uint32_t self_id = self) {
    pair_state s;
    s.self_id = self_id;
    s.peer_id = peer;
    s.peer_name = "peer" + std::to_string(peer);
    s.peer_cert.fill(0x5a);
    s.highest_epoch = 4;
    s.current = make_keyset(4, static_cast<std::uint8_t>(peer));
    s.previous = make_keyset(3, static_cast<std::uint8_t>(peer + 100));
    return s;
}

state_store open_store(const fs::path& dir, std::uint32_t self_id = self) {
    auto r = state_store::open(dir, self_id);
    BOOST_REQUIRE_MESSAGE(r, "open " << dir << ": " << (r ? "" : r.error()));
    return std::move(r).value();
}

struct stat stat_of(const fs::path& p) {
    struct stat st{};
    BOOST_REQUIRE_MESSAGE(::lstat(p.c_str(), &st) == 0, "lstat " << p);
    return st;
}

unsigned mode_of(const fs::path& p) { return stat_of(p).st_mode & 07777; }

bool exists_no_follow(const fs::path& p) {
    struct stat st{};
    return ::lstat(p.c_str(), &st) == 0;
}

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_raw(const fs::path& p, const std::string& bytes, unsigned mode = 0600) {
    BOOST_REQUIRE(!weft::io::write_file_atomic(p, bytes, mode));
}

std::string encoded(const pair_state& s) {
    const auto b = weft::encode_pair_state(s);
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Expects load() to fail with `code` and leave no file under the state name.
void expect_load_error(state_store& st, std::uint32_t peer, load_error_code code) {
    auto r = st.load(peer);
    BOOST_REQUIRE_MESSAGE(!r, "load " << peer << " unexpectedly succeeded");
    BOOST_TEST((r.error().code == code), "got " << weft::io::to_string(r.error().code) << ": "
                                               << r.error().message);
    BOOST_TEST(!r.error().message.empty());
    BOOST_TEST(!exists_no_follow(st.state_path(peer)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(state_store_tests)

BOOST_AUTO_TEST_CASE(creates_directory_0700_and_round_trips) {
    temp_dir t;
    const fs::path dir = t.path / "a" / "b" / "state";
    state_store st = open_store(dir);
    BOOST_TEST(st.warnings().empty());
    BOOST_TEST(mode_of(dir) == 0700u);
    BOOST_TEST(stat_of(dir).st_uid == ::geteuid());

    const pair_state s = make_state(42);
    BOOST_REQUIRE(!st.save(s));
    BOOST_TEST(mode_of(st.state_path(42)) == 0600u);
    BOOST_TEST(S_ISREG(stat_of(st.state_path(42)).st_mode));
    BOOST_TEST(st.state_path(42).filename() == "pair-42.state");

    // A new store (a restarted daemon) reads it back.
    state_store again = open_store(dir);
    auto r = again.load(42);
    BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    BOOST_TEST((*r == s));
    BOOST_TEST(again.list() == std::vector<std::uint32_t>{42});
    expect_load_error(again, 43, load_error_code::missing);
}

BOOST_AUTO_TEST_CASE(new_directory_is_0700_whatever_the_umask) {
    temp_dir t;
    const mode_t old = ::umask(0);
    auto r = state_store::open(t.path / "state", self);
    ::umask(old);
    BOOST_REQUIRE(r);
    BOOST_TEST(mode_of(t.path / "state") == 0700u);
}

BOOST_AUTO_TEST_CASE(unchanged_state_is_not_rewritten) {
    temp_dir t;
    state_store st = open_store(t.path);
    pair_state s = make_state(5);
    BOOST_REQUIRE(!st.save(s));
    const auto before = stat_of(st.state_path(5));

    BOOST_REQUIRE(!st.save(s));
    BOOST_REQUIRE(!st.save(s.clone()));
    auto after = stat_of(st.state_path(5));
    BOOST_TEST(after.st_ino == before.st_ino);
    BOOST_TEST(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
    BOOST_TEST(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);

    // A change is written (a new file renamed into place: a new inode).
    s.current->tx_reserved += weft::counter_reservation_block;
    BOOST_REQUIRE(!st.save(s));
    after = stat_of(st.state_path(5));
    BOOST_TEST(after.st_ino != before.st_ino);

    // What a restarted store loaded also counts as written.
    state_store again = open_store(t.path);
    BOOST_REQUIRE(again.load(5));
    const auto loaded = stat_of(again.state_path(5));
    BOOST_REQUIRE(!again.save(s));
    BOOST_TEST(stat_of(again.state_path(5)).st_ino == loaded.st_ino);

    // A file deleted behind the store's back is written again, not skipped.
    BOOST_REQUIRE(fs::remove(again.state_path(5)));
    BOOST_REQUIRE(!again.save(s));
    BOOST_TEST(exists_no_follow(again.state_path(5)));
    // So is one replaced by other bytes (an old copy restored).
    const std::string current_bytes = read_all(again.state_path(5));
    pair_state old = s.clone();
    old.current->tx_reserved = 0;
    write_raw(again.state_path(5), encoded(old));
    BOOST_REQUIRE(!again.save(s));
    BOOST_TEST(read_all(again.state_path(5)) == current_bytes);
}

BOOST_AUTO_TEST_CASE(corrupt_file_is_moved_aside) {
    temp_dir t;
    state_store st = open_store(t.path);
    write_raw(st.state_path(9), "this is not a state file");
    expect_load_error(st, 9, load_error_code::corrupt);
    BOOST_TEST(read_all(st.corrupt_path(9)) == "this is not a state file");
    BOOST_TEST(st.corrupt_path(9).filename() == "pair-9.state.corrupt");
    BOOST_TEST(st.list().empty());

    // The next corrupt file replaces the copy.
    std::string damaged = encoded(make_state(9));
    damaged[damaged.size() / 2] ^= 0x01;
    write_raw(st.state_path(9), damaged);
    expect_load_error(st, 9, load_error_code::corrupt);
    BOOST_TEST(read_all(st.corrupt_path(9)) == damaged);

    // Afterwards the peer simply has no state; a new save works.
    expect_load_error(st, 9, load_error_code::missing);
    BOOST_REQUIRE(!st.save(make_state(9)));
    BOOST_TEST(st.load(9).has_value());
}

BOOST_AUTO_TEST_CASE(truncated_and_oversized_files_are_corrupt) {
    temp_dir t;
    state_store st = open_store(t.path);
    const std::string full = encoded(make_state(3));
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{41}, full.size() / 2,
                          full.size() - 1}) {
        write_raw(st.state_path(3), full.substr(0, n));
        expect_load_error(st, 3, load_error_code::corrupt);
        BOOST_TEST(exists_no_follow(st.corrupt_path(3)));
    }
    write_raw(st.state_path(3), full + std::string(1 << 20, 'x'));
    expect_load_error(st, 3, load_error_code::corrupt);
}

BOOST_AUTO_TEST_CASE(wrong_mode_is_refused_and_removed) {
    temp_dir t;
    state_store st = open_store(t.path);
    for (unsigned mode : {0644u, 0640u, 0604u, 0400u, 0700u, 0666u, 04600u}) {
        BOOST_REQUIRE(!st.save(make_state(11)));
        BOOST_REQUIRE(::chmod(st.state_path(11).c_str(), mode) == 0);
        BOOST_TEST_CONTEXT("mode " << std::oct << mode) {
            expect_load_error(st, 11, load_error_code::bad_permissions);
        }
    }
    BOOST_TEST(!exists_no_follow(st.corrupt_path(11)));
}

BOOST_AUTO_TEST_CASE(symlink_is_refused_and_only_the_link_removed) {
    temp_dir t;
    state_store st = open_store(t.path / "state");
    // A perfectly valid state file elsewhere, with the right mode.
    const fs::path target = t.path / "elsewhere.state";
    write_raw(target, encoded(make_state(12)));
    fs::create_symlink(target, st.state_path(12));
    expect_load_error(st, 12, load_error_code::bad_permissions);
    BOOST_TEST(exists_no_follow(target));
    // A dangling symlink too.
    fs::create_symlink(t.path / "nothing", st.state_path(12));
    expect_load_error(st, 12, load_error_code::bad_permissions);
}

BOOST_AUTO_TEST_CASE(other_file_types_and_hard_links_are_refused) {
    temp_dir t;
    state_store st = open_store(t.path / "state");
    // A FIFO must neither block nor be read.
    BOOST_REQUIRE(::mkfifo(st.state_path(13).c_str(), 0600) == 0);
    expect_load_error(st, 13, load_error_code::bad_permissions);
    // A directory.
    BOOST_REQUIRE(fs::create_directory(st.state_path(13)));
    BOOST_REQUIRE(::chmod(st.state_path(13).c_str(), 0600) == 0);
    expect_load_error(st, 13, load_error_code::bad_permissions);
    // A second name for the keys.
    BOOST_REQUIRE(!st.save(make_state(13)));
    fs::create_hard_link(st.state_path(13), t.path / "copy");
    expect_load_error(st, 13, load_error_code::bad_permissions);
}

BOOST_AUTO_TEST_CASE(file_of_another_owner_is_refused) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: cannot chown, skipped");
        return;
    }
    temp_dir t;
    state_store st = open_store(t.path / "state");
    BOOST_REQUIRE(!st.save(make_state(14)));
    BOOST_REQUIRE(::chown(st.state_path(14).c_str(), 65534, 65534) == 0);
    BOOST_REQUIRE(mode_of(st.state_path(14)) == 0600u);
    expect_load_error(st, 14, load_error_code::bad_permissions);
}

BOOST_AUTO_TEST_CASE(foreign_state_is_refused_and_removed) {
    temp_dir t;
    {
        state_store st = open_store(t.path);
        BOOST_REQUIRE(!st.save(make_state(2)));
        // Under another peer's name: the peer id inside does not match.
        fs::copy_file(st.state_path(2), st.state_path(3));
        BOOST_REQUIRE(::chmod(st.state_path(3).c_str(), 0600) == 0);
        expect_load_error(st, 3, load_error_code::foreign);
        BOOST_TEST(exists_no_follow(st.state_path(2)));
    }
    // The directory of another node (self id 8 reading 7's files).
    state_store other = open_store(t.path, 8);
    expect_load_error(other, 2, load_error_code::foreign);
    BOOST_TEST(!exists_no_follow(other.corrupt_path(2)));
}

BOOST_AUTO_TEST_CASE(save_refuses_another_self_id) {
    temp_dir t;
    state_store st = open_store(t.path);
    BOOST_TEST((st.save(make_state(2, 8)) == std::errc::invalid_argument));
    BOOST_TEST(st.list().empty());
}

BOOST_AUTO_TEST_CASE(wide_directory_is_tightened_and_its_state_discarded) {
    temp_dir t;
    const fs::path dir = t.path / "state";
    {
        state_store st = open_store(dir);
        BOOST_REQUIRE(!st.save(make_state(2)));
        BOOST_REQUIRE(!st.save(make_state(3)));
        write_raw(st.corrupt_path(4), "junk");
        write_raw(dir / "unrelated.txt", "kept");
    }
    BOOST_REQUIRE(::chmod(dir.c_str(), 0755) == 0);
    state_store st = open_store(dir);
    BOOST_TEST(mode_of(dir) == 0700u);
    BOOST_REQUIRE(!st.warnings().empty());
    BOOST_TEST(st.warnings().front().find("0755") != std::string::npos);
    BOOST_TEST(st.list().empty());
    expect_load_error(st, 2, load_error_code::missing);
    BOOST_TEST(!exists_no_follow(st.corrupt_path(4)));
    BOOST_TEST(exists_no_follow(dir / "unrelated.txt"));

    // Reopened at 0700: nothing more to say, and new state is kept.
    BOOST_REQUIRE(!st.save(make_state(2)));
    state_store again = open_store(dir);
    BOOST_TEST(again.warnings().empty());
    BOOST_TEST(again.load(2).has_value());
}

BOOST_AUTO_TEST_CASE(narrow_directory_is_fixed_without_discarding) {
    temp_dir t;
    const fs::path dir = t.path / "state";
    {
        state_store st = open_store(dir);
        BOOST_REQUIRE(!st.save(make_state(2)));
    }
    BOOST_REQUIRE(::chmod(dir.c_str(), 0500) == 0);
    state_store st = open_store(dir);
    BOOST_TEST(mode_of(dir) == 0700u);
    BOOST_TEST(st.warnings().empty());
    BOOST_TEST(st.load(2).has_value());
}

BOOST_AUTO_TEST_CASE(unusable_directories_are_errors) {
    temp_dir t;
    write_raw(t.path / "file", "x");
    BOOST_TEST(!state_store::open(t.path / "file", self));
    BOOST_TEST(!state_store::open(t.path / "file" / "sub", self));
    BOOST_TEST(!state_store::open(t.path / "ok", 0));
    BOOST_TEST(!state_store::open("", self));
    if (::geteuid() == 0) {
        BOOST_REQUIRE(fs::create_directory(t.path / "theirs"));
        BOOST_REQUIRE(::chmod((t.path / "theirs").c_str(), 0700) == 0);
        BOOST_REQUIRE(::chown((t.path / "theirs").c_str(), 65534, 65534) == 0);
        auto r = state_store::open(t.path / "theirs", self);
        BOOST_REQUIRE(!r);
        BOOST_TEST(r.error().find("owned by uid 65534") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(list_ignores_temporaries_and_other_names) {
    temp_dir t;
    state_store st = open_store(t.path);
    for (std::uint32_t p : {10u, 3u, 2u, 4294967295u}) BOOST_REQUIRE(!st.save(make_state(p)));
    for (const char* name :
         {"pair-7.state.tmp.0123456789abcdef", "pair-8.state.corrupt", "pair-01.state",
          "pair-0.state", "pair-4294967296.state", "pair--1.state", "pair-+5.state", "pair-.state",
          "pair-5.state~", "pair-6.statex", "notes.txt", "PAIR-9.state"})
        write_raw(t.path / name, "x");
    BOOST_TEST(st.list() == (std::vector<std::uint32_t>{2, 3, 10, 4294967295u}));

    // Reopening removes leftover temporaries (they hold keys) and nothing else.
    state_store again = open_store(t.path);
    BOOST_TEST(again.warnings().empty());
    BOOST_TEST(!exists_no_follow(t.path / "pair-7.state.tmp.0123456789abcdef"));
    BOOST_TEST(exists_no_follow(t.path / "pair-8.state.corrupt"));
    BOOST_TEST(exists_no_follow(t.path / "notes.txt"));
    BOOST_TEST(again.list() == (std::vector<std::uint32_t>{2, 3, 10, 4294967295u}));
}

BOOST_AUTO_TEST_CASE(remove_deletes_state_and_corrupt_copy) {
    temp_dir t;
    state_store st = open_store(t.path);
    BOOST_REQUIRE(!st.save(make_state(2)));
    BOOST_REQUIRE(!st.save(make_state(3)));
    write_raw(st.corrupt_path(2), "junk");
    BOOST_TEST(!st.remove(2));
    BOOST_TEST(!exists_no_follow(st.state_path(2)));
    BOOST_TEST(!exists_no_follow(st.corrupt_path(2)));
    BOOST_TEST(st.list() == std::vector<std::uint32_t>{3});
    expect_load_error(st, 2, load_error_code::missing);
    BOOST_TEST(!st.remove(2));  // already gone: fine
    // After remove, saving the same state writes it again (no stale cache).
    BOOST_REQUIRE(!st.save(make_state(3)));
    BOOST_TEST(!st.remove(3));
    BOOST_REQUIRE(!st.save(make_state(3)));
    BOOST_TEST(st.list() == std::vector<std::uint32_t>{3});
}

BOOST_AUTO_TEST_CASE(directory_deleted_while_running_is_recreated) {
    temp_dir t;
    const fs::path dir = t.path / "state";
    state_store st = open_store(dir);
    BOOST_REQUIRE(!st.save(make_state(2)));
    fs::remove_all(dir);
    BOOST_REQUIRE(!st.save(make_state(2)));
    BOOST_TEST(mode_of(dir) == 0700u);
    BOOST_TEST(st.load(2).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
