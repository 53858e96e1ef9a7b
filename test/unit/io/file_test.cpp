// io/file: bounded reads never block on a FIFO; symlinks resolved with a
// bound on the hops; atomic replacement keeping the old file's owner, group,
// ACL (and SELinux label), writing through a symlink on request.
#include "io/file.hpp"
#include "temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace io = weft::io;

struct temp_dir : weft::test::temp_dir {
    temp_dir() : weft::test::temp_dir("file-test") {}
};

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_plain(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << bytes;
    BOOST_REQUIRE(out.good());
}

struct stat lstat_of(const fs::path& p) {
    struct stat st{};
    BOOST_REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}

// Names in `dir` containing ".tmp.": write_file_atomic's leftovers.
std::vector<std::string> temporaries(const fs::path& dir) {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(".tmp.") != std::string::npos) v.push_back(e.path().string());
    return v;
}

// An access ACL in the kernel's xattr format (version 2, entries sorted by
// tag): user::rw- user:12345:r-- group::r-- mask::r-- other::---.
std::string acl_user_12345_read() {
    struct entry {
        std::uint16_t tag, perm;
        std::uint32_t id;
    };
    constexpr std::uint32_t undefined = 0xffffffff;
    const std::array<entry, 5> entries{{{0x01, 6, undefined},
                                        {0x02, 4, 12345},
                                        {0x04, 4, undefined},
                                        {0x10, 4, undefined},
                                        {0x20, 0, undefined}}};
    std::string out;
    auto put16 = [&](std::uint16_t v) { out.append({static_cast<char>(v & 0xff), static_cast<char>(v >> 8)}); };
    auto put32 = [&](std::uint32_t v) {
        put16(static_cast<std::uint16_t>(v & 0xffff));
        put16(static_cast<std::uint16_t>(v >> 16));
    };
    put32(2);
    for (const auto& e : entries) {
        put16(e.tag);
        put16(e.perm);
        put32(e.id);
    }
    return out;
}

// The value of xattr `name` of `p`, or the errno.
int get_xattr(const fs::path& p, const char* name, std::string& value) {
    std::array<char, 4096> buf{};
    ssize_t n = ::lgetxattr(p.c_str(), name, buf.data(), buf.size());
    if (n < 0) return errno;
    value.assign(buf.data(), static_cast<std::size_t>(n));
    return 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(file)

BOOST_AUTO_TEST_CASE(read_bounded_reads_a_regular_file) {
    temp_dir d;
    write_plain(d.path / "f", "hello\n");
    std::string out;
    BOOST_TEST(!io::read_file_bounded(d.path / "f", 64, out));
    BOOST_TEST(out == "hello\n");
    BOOST_TEST((io::read_file_bounded(d.path / "f", 5, out) == std::errc::file_too_large));
}

BOOST_AUTO_TEST_CASE(read_bounded_refuses_a_fifo_without_blocking) {
    temp_dir d;
    const fs::path fifo = d.path / "fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto result = std::async(std::launch::async, [&] {
        std::string out;
        return io::read_file_bounded(fifo, 64, out);
    });
    if (result.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
        BOOST_ERROR("read_file_bounded still blocked on a FIFO after 3 s");
        // Release the blocked open() so the thread can end.
        int w = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
        if (w >= 0) ::close(w);
    }
    BOOST_TEST((result.get() == std::errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(final_symlink_target_follows_chains) {
    temp_dir d;
    fs::create_directory(d.path / "run");
    write_plain(d.path / "run" / "real", "x");
    fs::create_symlink("real", d.path / "run" / "hop");      // relative to run/
    fs::create_symlink("run/hop", d.path / "link");          // relative to d
    fs::create_symlink(d.path / "link", d.path / "abslink");  // absolute
    fs::path out;
    BOOST_TEST(!io::final_symlink_target(d.path / "abslink", out));
    BOOST_TEST(out == d.path / "run" / "real");
    BOOST_TEST(!io::final_symlink_target(d.path / "run" / "real", out));
    BOOST_TEST(out == d.path / "run" / "real");
    BOOST_TEST(!io::final_symlink_target(d.path / "missing", out));
    BOOST_TEST(out == d.path / "missing");
    fs::create_symlink("run/nothing", d.path / "dangling");
    BOOST_TEST(!io::final_symlink_target(d.path / "dangling", out));
    BOOST_TEST(out == d.path / "run" / "nothing");
}

BOOST_AUTO_TEST_CASE(final_symlink_target_refuses_loops) {
    temp_dir d;
    fs::create_symlink("lb", d.path / "la");
    fs::create_symlink("la", d.path / "lb");
    fs::create_symlink("self", d.path / "self");
    fs::path out;
    BOOST_TEST((io::final_symlink_target(d.path / "la", out) == std::errc::too_many_symbolic_link_levels));
    BOOST_TEST((io::final_symlink_target(d.path / "self", out) == std::errc::too_many_symbolic_link_levels));
    // 40 hops are followed, 41 are too many.
    write_plain(d.path / "c0", "end");
    for (int i = 1; i <= io::max_symlink_hops + 1; ++i)
        fs::create_symlink("c" + std::to_string(i - 1), d.path / ("c" + std::to_string(i)));
    BOOST_TEST(!io::final_symlink_target(d.path / ("c" + std::to_string(io::max_symlink_hops)), out));
    BOOST_TEST(out == d.path / "c0");
    BOOST_TEST((io::final_symlink_target(d.path / ("c" + std::to_string(io::max_symlink_hops + 1)), out) ==
                std::errc::too_many_symbolic_link_levels));
}

BOOST_AUTO_TEST_CASE(write_atomic_follows_a_symlink_on_request) {
    temp_dir d;
    fs::create_directory(d.path / "repo");
    write_plain(d.path / "repo" / "real.bnl", "old");
    ::chmod((d.path / "repo" / "real.bnl").c_str(), 0640);
    fs::create_symlink("repo/real.bnl", d.path / "link.bnl");
    const io::write_options follow{.mode = 0640, .symlinks = io::symlink_policy::follow};
    BOOST_TEST(!io::write_file_atomic(d.path / "link.bnl", "new", follow));
    BOOST_TEST(fs::is_symlink(fs::symlink_status(d.path / "link.bnl")));
    BOOST_TEST(read_all(d.path / "repo" / "real.bnl") == "new");
    BOOST_TEST((lstat_of(d.path / "repo" / "real.bnl").st_mode & 07777) == 0640u);
    BOOST_TEST(temporaries(d.path / "repo").empty());
    BOOST_TEST(temporaries(d.path).empty());

    // The default (and the mode-only overload) replaces the link, as before.
    BOOST_TEST(!io::write_file_atomic(d.path / "link.bnl", "replaced", 0600));
    BOOST_TEST(!fs::is_symlink(fs::symlink_status(d.path / "link.bnl")));
    BOOST_TEST(read_all(d.path / "link.bnl") == "replaced");
    BOOST_TEST(read_all(d.path / "repo" / "real.bnl") == "new");
}

BOOST_AUTO_TEST_CASE(write_atomic_through_a_symlink_loop_writes_nothing) {
    temp_dir d;
    fs::create_symlink("lb", d.path / "la");
    fs::create_symlink("la", d.path / "lb");
    const io::write_options follow{.mode = 0644, .symlinks = io::symlink_policy::follow};
    BOOST_TEST((io::write_file_atomic(d.path / "la", "x", follow) == std::errc::too_many_symbolic_link_levels));
    BOOST_TEST(fs::is_symlink(fs::symlink_status(d.path / "la")));
    BOOST_TEST(fs::is_symlink(fs::symlink_status(d.path / "lb")));
    BOOST_TEST(temporaries(d.path).empty());
}

BOOST_AUTO_TEST_CASE(write_atomic_keeps_the_owner) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("skipped: giving a file to uid 12345 needs root");
        return;
    }
    temp_dir d;
    const fs::path p = d.path / "resolv.conf";
    write_plain(p, "old");
    BOOST_REQUIRE(::chown(p.c_str(), 12345, 12346) == 0);
    BOOST_TEST(!io::write_file_atomic(p, "new", 0644));
    BOOST_TEST(read_all(p) == "new");
    BOOST_TEST(lstat_of(p).st_uid == 12345u);
    BOOST_TEST(lstat_of(p).st_gid == 12346u);
    BOOST_TEST((lstat_of(p).st_mode & 07777) == 0644u);
    const io::write_options strict{.mode = 0600, .owner = io::owner_policy::keep_or_fail};
    BOOST_TEST(!io::write_file_atomic(p, "newer", strict));
    BOOST_TEST(lstat_of(p).st_uid == 12345u);
    BOOST_TEST((lstat_of(p).st_mode & 07777) == 0600u);
    // A new file is the caller's.
    BOOST_TEST(!io::write_file_atomic(d.path / "fresh", "x", 0600));
    BOOST_TEST(lstat_of(d.path / "fresh").st_uid == 0u);
}

BOOST_AUTO_TEST_CASE(write_atomic_keeps_the_acl_and_nothing_else) {
    temp_dir d;
    const fs::path p = d.path / "resolv.conf";
    write_plain(p, "old");
    const std::string acl = acl_user_12345_read();
    if (::lsetxattr(p.c_str(), "system.posix_acl_access", acl.data(), acl.size(), 0) != 0) {
        BOOST_TEST_MESSAGE("skipped: no POSIX ACLs on " << d.path << ": " << std::strerror(errno));
        return;
    }
    std::string before;
    BOOST_REQUIRE(get_xattr(p, "system.posix_acl_access", before) == 0);
    const bool user_xattrs = ::lsetxattr(p.c_str(), "user.weft-test", "1", 1, 0) == 0;
    BOOST_TEST((lstat_of(p).st_mode & 07777) == 0640u);  // the ACL's mask is the group bits

    BOOST_TEST(!io::write_file_atomic(p, "new", 0640));
    BOOST_TEST(read_all(p) == "new");
    std::string after;
    BOOST_TEST(get_xattr(p, "system.posix_acl_access", after) == 0);
    BOOST_TEST(after == before);
    BOOST_TEST((lstat_of(p).st_mode & 07777) == 0640u);
    if (user_xattrs) {
        std::string v;
        BOOST_TEST(get_xattr(p, "user.weft-test", v) == ENODATA);  // not one of the kept attributes
    }
}

BOOST_AUTO_TEST_SUITE_END()
