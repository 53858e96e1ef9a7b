// Hook commands (`up`, `down`, `subnet-up`, ... of weft.conf), run the way
// design.md and style.md ("Hooks") fix:
//
// - fork, then exec of `/bin/sh -c COMMAND`.  COMMAND is the administrator's
//   text from weft.conf and nothing else; whatever a peer or the node list
//   supplies travels only in environment variables, so the shell never
//   parses it.
// - The environment is PATH (hook_path below) plus exactly the variables
//   given; nothing of the daemon's environment is inherited.
// - stdin is /dev/null; stdout and stderr share one pipe whose lines are
//   logged as "hook NAME: LINE" (at most max_output_lines lines of at most
//   max_line_bytes each per run; control characters, C1 ones (U+0080..U+009F)
//   included, and bytes that are not UTF-8 replaced by '?', tabs kept).  The
//   working directory is the configuration directory; every other file
//   descriptor is closed (close_range).  Signal dispositions and the signal
//   mask are reset, and the child leads its own process group, so a timeout
//   kill reaches whatever the script started in the foreground as well.
// - One child at a time, in submission order: subnet hooks queued after `up`
//   run after it.  Each has a timeout; then its process group gets SIGTERM,
//   and SIGKILL kill_grace later; both are logged.  A non-zero exit or a
//   death by signal is logged at warning.  Every child is reaped, through
//   waitpid on its pid: a background process the script leaves behind is
//   the script's business (its output after the script's exit is not read).
// - Stop (run_sync): queued hooks that have not started are dropped, the
//   running one is sent SIGTERM at once (SIGKILL kill_grace later), then the
//   stop hooks run in order, together within one timeout.  So a stop takes
//   at most timeout + 2 * kill_grace, however long the queue was.
//
// Exit is watched through a pidfd (pidfd_open, Linux >= 5.3) registered with
// the io_context, not a SIGCHLD signal_set: that leaves SIGCHLD's process-wide
// disposition alone and cannot reap children that other code owns.  If
// SIGCHLD is set to SIG_IGN the kernel reaps the child itself; the hook then
// counts as finished with an unknown status.
//
// Threading: the runner belongs to the io_context's one thread; run(),
// idle() and the destructor are called there (or while the loop is not
// running).  Nothing blocks the loop but the fork itself.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/log.hpp"
#include "wire/ip.hpp"

namespace weft::io {

// Environment variables of one hook run, NAME -> value.
using hook_env = std::vector<std::pair<std::string, std::string>>;

// `up` and `down`: TUNDEV.
hook_env interface_hook_env(std::string_view tundev);
// `subnet-up`, `subnet-down`, `my-subnet-up`, `my-subnet-down`: TUNDEV,
// SUBNET (198.19.1.0/24), SUBADDR (198.19.1.0), SUBCIDR (24), SUBADDRTYPE
// (INET or INET6), NODE (the subnet's node name) and NODEID (its BNL id).
hook_env subnet_hook_env(std::string_view tundev, const ip_prefix& subnet, std::string_view node,
                         std::uint32_t node_id);

class hook_runner {
  public:
    // The only PATH a hook sees.
    static constexpr std::string_view hook_path =
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    static constexpr std::chrono::seconds kill_grace{2};  // SIGTERM .. SIGKILL
    static constexpr std::size_t max_line_bytes = 1024;
    static constexpr std::size_t max_output_lines = 200;

    // Called on the io_context when a run() finishes: true when the command
    // exited with status 0.
    using completion = std::function<void(bool)>;

    // `io` and `log` must outlive the runner.  Hooks run in `cwd` (the configuration
    // directory) and are killed after `timeout` (weft.conf's hook-timeout).
    hook_runner(boost::asio::io_context& io, logger& log, std::filesystem::path cwd,
                std::chrono::seconds timeout);
    // A hook still running is killed (SIGKILL to its group) and reaped;
    // queued ones are dropped.  Both are logged.  A clean stop goes through
    // run_sync first, which leaves nothing for this to do.
    ~hook_runner();
    hook_runner(const hook_runner&) = delete;
    hook_runner& operator=(const hook_runner&) = delete;

    // Queues `command`, run as hook `hook_name` with `env` (plus PATH; a PATH
    // given in `env` replaces it) once every earlier hook has finished.
    // Returns at once.  A variable name other than [A-Za-z_][A-Za-z0-9_]*,
    // or a NUL byte in a name or value, refuses the run with an error
    // logged (and `done(false)`).
    void run(std::string hook_name, std::string command, hook_env env, completion done = {});

    // One hook of the stop sequence.
    struct sync_hook {
        std::string name;
        std::string command;
        hook_env env;
    };

    // The stop sequence, after the io_context has stopped (the device is
    // about to go, so what run() queued is moot):
    // 1. hooks queued by run() that have not started are dropped (one
    //    notice line with their number; done(false) is posted);
    // 2. a hook still running is sent SIGTERM now and SIGKILL kill_grace
    //    later, and reaped;
    // 3. `hooks` run one after another, in order, all within `timeout` of
    //    the first one's start: the one running then gets SIGTERM, SIGKILL
    //    kill_grace later, and those not started by then are not run (a
    //    warning).
    // Returns within timeout + 2 * kill_grace; true when every one of
    // `hooks` ran and exited with status 0 (also when `hooks` is empty).
    // Completions are posted to the io_context, which runs them only if it
    // runs again.  Blocks: never call it from a handler.
    bool run_sync(std::vector<sync_hook> hooks, std::chrono::seconds timeout);
    // The same with a single stop hook (`down`).
    bool run_sync(std::string hook_name, std::string command, hook_env env,
                  std::chrono::seconds timeout);

    // No hook running and none queued.
    bool idle() const noexcept;

  private:
    struct job {
        std::uint64_t id;
        std::string name;
        std::string command;
        hook_env env;
        std::chrono::seconds timeout;
        completion done;
    };
    struct child;  // a forked hook: pid, pidfd, pipe, deadline

    void start_next();
    // Forks and execs `j` (moved into the result); nullptr, with the error
    // logged, when that fails (`j` is then left as it was).
    std::unique_ptr<child> spawn(job& j);
    void watch_exit();
    void watch_output();
    void watch_deadline();
    // Reads what the pipe holds now, logging complete lines; at `final`
    // the incomplete last line too.
    void read_output(child& c, bool final);
    // waitpid without blocking; true once the child is reaped (or was
    // reaped by someone else), its status recorded.
    bool try_reap(child& c);
    // The next step of a timed-out child: SIGTERM, then SIGKILL.
    void escalate(child& c);
    // Logs the outcome and closes the child's descriptors; returns success.
    bool finish(child& c);
    // Stop steps 1 and 2 of run_sync.
    void drop_queue_and_terminate();
    // Waits for `c` with poll(2), escalating at its deadlines.
    bool wait_blocking(child& c);
    bool valid_job(const job& j);
    void post_done(completion& done, bool ok);

    boost::asio::io_context& io_;
    logger& log_;
    std::filesystem::path cwd_;
    std::chrono::seconds timeout_;
    std::deque<job> queue_;
    std::unique_ptr<child> current_;
    std::uint64_t next_id_ = 1;
    // Handlers hold a weak_ptr to this: after the runner is gone, handlers
    // that the io_context still runs (with operation_aborted) do nothing.
    std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace weft::io
