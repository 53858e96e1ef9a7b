#include "checker.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <system_error>

#include "io/file.hpp"

namespace weft::nscheck {

namespace fs = std::filesystem;

namespace {

// resolvconf and systemd-resolved make resolv.conf a symlink: the file to
// rewrite is its final target (renaming over the link would replace the link
// with a plain file).  Follows at most 40 links, like the kernel.
fs::path final_target(fs::path p) {
    for (int hop = 0; hop < 40; ++hop) {
        std::error_code ec;
        if (!fs::is_symlink(fs::symlink_status(p, ec)) || ec) return p;
        fs::path t = fs::read_symlink(p, ec);
        if (ec) return p;
        p = t.is_absolute() ? t : p.parent_path() / t;
    }
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
    const fs::path target = final_target(s_.resolv);
    // The same file under two names (a symlink, "//"): writing the pruned
    // list would overwrite the master, and the dead servers would be lost.
    if (std::error_code ec; fs::equivalent(target, s_.master, ec)) {
        log_.error("{} and {} are the same file", s_.resolv.string(), s_.master.string());
        return exit_status::failure;
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
    if (servers.empty()) {
        log_.warning("{} lists no nameserver: nothing to check", s_.master.string());
    } else {
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
    }
    std::vector<nameserver> listed;
    for (std::size_t i = 0; i < servers.size(); ++i)
        if (keep[i]) listed.push_back(servers[i]);
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
        // Keep the file's mode and owner (a resolver daemon may own it).
        unsigned mode = 0644;
        struct stat before {};
        const bool known = have_current && ::stat(target.c_str(), &before) == 0;
        if (known) mode = static_cast<unsigned>(before.st_mode & 07777);
        if (auto ec = io::write_file_atomic(target, next, mode)) {
            log_.error("cannot write {}: {}", target.string(), ec.message());
            return exit_status::failure;
        }
        if (known && (before.st_uid != ::geteuid() || before.st_gid != ::getegid()) &&
            ::chown(target.c_str(), before.st_uid, before.st_gid) != 0)
            log_.warning("cannot give {} back to uid {} gid {}: {}", target.string(), before.st_uid,
                         before.st_gid, std::strerror(errno));
        log_.info("wrote {} (nameservers: {})", target.string(), now_lists);
    }
    return none_answered ? exit_status::none_answered : exit_status::ok;
}

}  // namespace weft::nscheck
