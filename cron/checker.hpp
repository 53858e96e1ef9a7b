// One run of the nameserver checker: read the master list (creating it from
// resolv.conf the first time), probe its nameservers, and make resolv.conf
// list the ones that answer, in master order, every other line of the
// master kept as it is.  A master without a nameserver is refused.  One run
// at a time: each (but a dry run) holds an exclusive flock(2) on the file
// MASTER.lock beside the master, created 0600 and never removed.
#pragma once

#include <chrono>
#include <filesystem>
#include <iosfwd>

#include "io/log.hpp"
#include "probe.hpp"

namespace weft::nscheck {

// The exit status of weft-nscheck (also in cron/README.md).
enum class exit_status : int {
    ok = 0,             // resolv.conf lists the answering nameservers (written or already so)
    failure = 1,        // unreadable or malformed file, no nameserver listed, failed write
    usage = 2,          // bad command line
    none_answered = 3,  // no nameserver answered: resolv.conf lists the master's
    busy = 4,           // another run holds the lock (MASTER.lock): this one did nothing
};

struct settings {
    std::filesystem::path resolv = "/etc/resolv.conf";
    std::filesystem::path master = "/etc/resolv.conf-master";
    probe_settings probe;
    std::chrono::milliseconds deadline{5000};  // the whole run
    bool dry_run = false;                      // print the result, write nothing
    bool init_master = false;                  // create the master if missing, then stop
};

class checker {
  public:
    // `out` receives the file a dry run would write.
    checker(settings s, io::logger& log, std::ostream& out)
        : s_(std::move(s)), log_(log), out_(out) {}
    exit_status run();

  private:
    settings s_;
    io::logger& log_;
    std::ostream& out_;
};

}  // namespace weft::nscheck
