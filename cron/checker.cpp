#include "checker.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <system_error>

#include "io/file.hpp"
#include "io/unique_fd.hpp"

namespace weft::nscheck {

namespace fs = std::filesystem;

namespace {

// The lock file of a run: beside the master, so two runs on the same master
// exclude each other and runs on different masters (the tests) do not.
fs::path lock_path(const fs::path& master) {
    fs::path p = master;
    p += ".lock";
    return p;
}

std::string join(const std::vector<nameserver>& v) {
    std::string s;
    for (const auto& n : v) {
        if (!s.empty()) s += ' ';
        s += n.to_string();
    }
    return s.empty() ? "(none)" : s;
}

bool contains(const std::vector<nameserver>& v, const nameserver& n) {
    return std::find(v.begin(), v.end(), n) != v.end();
}

}  // namespace

exit_status checker::run() {
    const auto deadline = clock::now() + s_.deadline;
    // resolvconf and systemd-resolved make resolv.conf a symlink: the file to
    // rewrite is its final target (renaming over the link would replace the
    // link with a plain file).  A loop is an error: nothing to write.
    fs::path target;
    if (auto ec = io::final_symlink_target(s_.resolv, target)) {
        log_.error("cannot follow {}: {}", s_.resolv.string(), ec.message());
        return exit_status::failure;
    }
    // The same file under two names (a symlink, "//"): writing the pruned
    // list would overwrite the master, and the dead servers would be lost.
    if (std::error_code ec; fs::equivalent(target, s_.master, ec)) {
        log_.error("{} and {} are the same file", s_.resolv.string(), s_.master.string());
        return exit_status::failure;
    }

    // One run at a time (cron every 5 minutes, the up hook's --init-master,
    // a hand run): an exclusive lock held until run() returns.  A dry run
    // writes nothing, not even the lock file, and needs no lock.
    io::unique_fd lock;
    if (!s_.dry_run) {
        const fs::path lp = lock_path(s_.master);
        lock.reset(::open(lp.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
        if (lock.get() < 0) {
            log_.error("cannot open the lock file {}: {}", lp.string(), std::strerror(errno));
            return exit_status::failure;
        }
        if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) {
                log_.warning("another weft-nscheck holds {}: this run does nothing", lp.string());
                return exit_status::busy;
            }
            log_.error("cannot lock {}: {}", lp.string(), std::strerror(errno));
            return exit_status::failure;
        }
    }

    // The master: read it, or make it from resolv.conf the first time.
    std::string master_text;
    bool master_is_new = false;
    if (auto ec = io::read_file_bounded(s_.master, resolv_conf_limits::max_size, master_text)) {
        if (ec != std::errc::no_such_file_or_directory) {
            log_.error("cannot read {}: {}", s_.master.string(), ec.message());
            return exit_status::failure;
        }
        if (auto ec2 = io::read_file_bounded(target, resolv_conf_limits::max_size, master_text)) {
            log_.error("no master {} yet, and cannot read {} to make it: {}", s_.master.string(),
                       target.string(), ec2.message());
            return exit_status::failure;
        }
        master_is_new = true;
    }
    auto master = resolv_conf::parse(master_text);
    if (!master) {
        log_.error("{}{}: {}", master_is_new ? "cannot make the master from " : "",
                   master_is_new ? target.string() : s_.master.string(), master.error().message());
        return exit_status::failure;
    }
    // A master without a nameserver would make a resolv.conf without one.
    if (master->nameservers().empty()) {
        if (master_is_new)
            log_.error("{} lists no nameserver: not making the master {} from it", target.string(),
                       s_.master.string());
        else
            log_.error("{} lists no nameserver: {} left as it is", s_.master.string(), target.string());
        return exit_status::failure;
    }
    if (master_is_new && !s_.dry_run) {
        unsigned mode = 0644;
        if (auto ec = io::write_file_new(s_.master, master_text, mode);
            ec == std::errc::file_exists) {
            // The up hook's --init-master made it meanwhile: that one wins.
            log_.info("{} appeared meanwhile; using it from the next run", s_.master.string());
        } else if (ec) {
            log_.error("cannot create {}: {}", s_.master.string(), ec.message());
            return exit_status::failure;
        } else {
            log_.notice("created {} from {} (nameservers: {})", s_.master.string(), target.string(),
                        join(master->nameservers()));
        }
    }
    if (s_.init_master) {
        if (!master_is_new) log_.info("{} exists already", s_.master.string());
        return exit_status::ok;
    }

    const auto servers = master->nameservers();
    std::vector<bool> keep(servers.size(), false);
    bool none_answered = false;
    auto outcomes = probe_all(servers, s_.probe, deadline);
    std::vector<std::string> dead;
    for (std::size_t i = 0; i < servers.size(); ++i) {
        keep[i] = outcomes[i].alive;
        log_.info("nameserver {}: {}", servers[i].to_string(), outcomes[i].detail);
        if (!keep[i]) dead.push_back(servers[i].to_string() + " (" + outcomes[i].detail + ")");
    }
    if (std::none_of(keep.begin(), keep.end(), [](bool b) { return b; })) {
        // Better a slow resolver than none: keep the whole master list.
        none_answered = true;
        std::fill(keep.begin(), keep.end(), true);
        std::string list;
        for (const auto& d : dead) list += (list.empty() ? "" : ", ") + d;
        log_.warning("no nameserver answered: {}; resolv.conf keeps the master list: {}", list,
                     join(servers));
    }
    std::vector<nameserver> listed;
    for (std::size_t i = 0; i < servers.size(); ++i)
        if (keep[i]) listed.push_back(servers[i]);
    // Checked above (the master lists one, and all are kept if none answers);
    // a resolv.conf without a nameserver is never written.
    if (listed.empty()) {
        log_.error("no nameserver to list: {} left as it is", target.string());
        return exit_status::failure;
    }
    const std::string next = master->render(keep);

    // What resolv.conf says now, to log the changes (and skip a write that
    // would change nothing).
    std::string current_text;
    bool have_current = false;
    std::vector<nameserver> current;
    if (auto ec = io::read_file_bounded(target, resolv_conf_limits::max_size, current_text)) {
        if (ec != std::errc::no_such_file_or_directory)
            log_.warning("cannot read {}: {}; rewriting it from the master", target.string(),
                         ec.message());
    } else if (auto parsed = resolv_conf::parse(current_text); !parsed) {
        have_current = true;
        log_.warning("{}: {}; rewriting it from the master", target.string(),
                     parsed.error().message());
    } else {
        have_current = true;
        current = parsed->nameservers();
    }

    const std::string now_lists = join(listed);
    for (const auto& n : current)
        if (!contains(servers, n))
            log_.notice("nameserver {} is in {} but not in the master; resolv.conf now lists: {}",
                        n.to_string(), target.string(), now_lists);
    if (!none_answered) {
        for (std::size_t i = 0; i < servers.size(); ++i) {
            bool was = contains(current, servers[i]);
            if (was && !keep[i])
                log_.notice("nameserver {} stopped answering; resolv.conf now lists: {}",
                            servers[i].to_string(), now_lists);
            else if (!was && keep[i] && have_current && !master_is_new)
                log_.notice("nameserver {} answers again; resolv.conf now lists: {}",
                            servers[i].to_string(), now_lists);
        }
    }

    const bool unchanged = have_current && current_text == next;
    if (s_.dry_run) {
        out_ << next;
        out_.flush();
        log_.info("dry run: {} {}", target.string(),
                  unchanged ? "would stay as it is" : "would change");
    } else if (unchanged) {
        log_.debug("{} is up to date", target.string());
    } else {
        // Keep the file's mode; write_file_atomic keeps its owner, SELinux
        // label and ACL (a resolver daemon may own it), or writes nothing.
        unsigned mode = 0644;
        struct stat before {};
        if (have_current && ::stat(target.c_str(), &before) == 0)
            mode = static_cast<unsigned>(before.st_mode & 07777);
        const io::write_options how{.mode = mode,
                                    .symlinks = io::symlink_policy::follow,
                                    .owner = io::owner_policy::keep_or_fail};
        if (auto ec = io::write_file_atomic(target, next, how)) {
            log_.error("cannot write {}: {}", target.string(), ec.message());
            return exit_status::failure;
        }
        log_.info("wrote {} (nameservers: {})", target.string(), now_lists);
    }
    return none_answered ? exit_status::none_answered : exit_status::ok;
}

}  // namespace weft::nscheck
