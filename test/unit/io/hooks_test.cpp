#include "io/hooks.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using weft::io::hook_env;
using weft::io::hook_runner;
using clock_type = std::chrono::steady_clock;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> lines_of(const std::string& text, char sep = '\n') {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l, sep);)
        if (!l.empty()) out.push_back(l);
    return out;
}

// No child of this process is left, reaped or not.
bool no_children() {
    return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

// Waits (bounded) until `p` exists: a hook has got that far.
bool wait_for_file(const fs::path& p) {
    for (int i = 0; i < 500 && !fs::exists(p); ++i) std::this_thread::sleep_for(10ms);
    return fs::exists(p);
}

// A scratch configuration directory, a logger writing into it, and a runner
// whose hooks run there.
struct hook_fixture {
    fs::path dir;
    boost::asio::io_context io;
    std::optional<weft::io::logger> log;
    std::optional<hook_runner> runner;

    explicit hook_fixture(std::chrono::seconds timeout = 10s) {
        std::string tmpl = (fs::temp_directory_path() / "weft-hooks-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
        log.emplace((dir / "log").string(), weft::io::log_level::debug, "hooks-test");
        runner.emplace(io, *log, dir, timeout);
    }
    ~hook_fixture() {
        runner.reset();
        log.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    hook_fixture(const hook_fixture&) = delete;
    hook_fixture& operator=(const hook_fixture&) = delete;

    // Runs the io_context until every queued hook is done (bounded).
    void drain() {
        io.restart();
        io.run_for(30s);
        BOOST_TEST(runner->idle());
    }
    std::string log_text() const { return slurp(dir / "log"); }
    bool logged(const std::string& needle) const {
        return log_text().find(needle) != std::string::npos;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(hooks)

BOOST_AUTO_TEST_CASE(environment_is_exactly_path_and_the_given_variables) {
    hook_fixture f;
    BOOST_REQUIRE(::setenv("WEFT_TEST_INHERITED", "must-not-leak", 1) == 0);
    // /proc/$$/environ is what the shell was exec'd with, before the shell
    // adds anything of its own (PWD and the like).
    bool ok = false;
    f.runner->run("up", "tr '\\0' '\\n' < /proc/$$/environ > env.out; env > env2.out",
                  {{"TUNDEV", "weft9"}, {"NODE", "alpha"}}, [&](bool r) { ok = r; });
    f.drain();
    ::unsetenv("WEFT_TEST_INHERITED");
    BOOST_TEST(ok);
    const auto env = lines_of(slurp(f.dir / "env.out"));
    const std::set<std::string> got(env.begin(), env.end());
    const std::set<std::string> want{
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TUNDEV=weft9",
        "NODE=alpha"};
    BOOST_TEST(env.size() == 3u);
    BOOST_TEST((got == want));
    // What a command inside the hook sees: the same, plus what the shell adds.
    const std::string seen = slurp(f.dir / "env2.out");
    BOOST_TEST(seen.find("WEFT_TEST_INHERITED") == std::string::npos);
    BOOST_TEST(seen.find("TUNDEV=weft9") != std::string::npos);
    BOOST_TEST(no_children());
}

BOOST_AUTO_TEST_CASE(given_path_replaces_the_default) {
    hook_fixture f;
    f.runner->run("up", "printf '%s' \"$PATH\" > path.out", {{"PATH", "/bin"}});
    f.drain();
    BOOST_TEST(slurp(f.dir / "path.out") == "/bin");
}

BOOST_AUTO_TEST_CASE(queued_hooks_run_one_at_a_time_in_order) {
    hook_fixture f;
    std::vector<int> done;
    // The first is the slowest: running them at once would reorder the file.
    f.runner->run("up", "sleep 0.4; echo 1 >> order.out", {}, [&](bool) { done.push_back(1); });
    f.runner->run("subnet-up", "echo 2 >> order.out", {}, [&](bool) { done.push_back(2); });
    f.runner->run("subnet-up", "sleep 0.1; echo 3 >> order.out", {},
                  [&](bool) { done.push_back(3); });
    BOOST_TEST(!f.runner->idle());
    f.drain();
    BOOST_TEST(slurp(f.dir / "order.out") == "1\n2\n3\n");
    BOOST_TEST((done == std::vector<int>{1, 2, 3}));
    BOOST_TEST(no_children());
}

BOOST_AUTO_TEST_CASE(output_is_logged_line_by_line_with_the_hook_name) {
    hook_fixture f;
    f.runner->run("up", "echo first; echo second >&2; printf 'no newline'", {});
    f.drain();
    BOOST_TEST(f.logged("hook up: first\n"));
    BOOST_TEST(f.logged("hook up: second\n"));
    BOOST_TEST(f.logged("hook up: no newline\n"));
    BOOST_TEST(f.logged("hook up: done after"));
}

BOOST_AUTO_TEST_CASE(a_background_process_holding_the_pipe_does_not_delay_the_queue) {
    hook_fixture f;
    const auto start = clock_type::now();
    // The backgrounded sleep keeps the pipe's write end open for 3 s.
    f.runner->run("up", "sleep 3 & echo started", {});
    f.runner->run("subnet-up", "echo next", {});
    f.drain();
    BOOST_TEST(seconds_since(start) < 2.0);
    BOOST_TEST(f.logged("hook up: started\n"));
    BOOST_TEST(f.logged("hook subnet-up: next\n"));
    BOOST_TEST(no_children());  // the sleep is the shell's child, not ours
}

BOOST_AUTO_TEST_CASE(control_characters_in_output_are_neutralised) {
    hook_fixture f;
    f.runner->run("up", "printf 'a\\033[31mb\\rc\\n'", {});
    f.drain();
    BOOST_TEST(f.logged("hook up: a?[31mb?c\n"));
}

BOOST_AUTO_TEST_CASE(c1_controls_and_invalid_utf8_in_output_are_neutralised) {
    hook_fixture f;
    // U+009B (CSI) as UTF-8; a raw 0x9b and a lone 0xff (not UTF-8); tab,
    // and real non-ASCII text (U+00E9, U+20AC) kept.
    f.runner->run("up",
                  "printf 'a\\302\\233[2Jb\\n'; printf 'c\\233[2Jd\\377e\\n'; "
                  "printf 'f\\tg \\303\\251 \\342\\202\\254\\n'",
                  {});
    f.drain();
    const std::string log = f.log_text();
    BOOST_TEST(log.find("\xc2\x9b") == std::string::npos);
    BOOST_TEST(log.find('\x9b') == std::string::npos);
    BOOST_TEST(log.find('\xff') == std::string::npos);
    BOOST_TEST(f.logged("hook up: a?[2Jb\n"));
    BOOST_TEST(f.logged("hook up: c?[2Jd?e\n"));
    BOOST_TEST(f.logged("hook up: f\tg \xc3\xa9 \xe2\x82\xac\n"));
}

BOOST_AUTO_TEST_CASE(nonzero_exit_is_logged_at_warning) {
    hook_fixture f;
    std::optional<bool> ok;
    f.runner->run("subnet-down", "echo oops >&2; exit 3", {}, [&](bool r) { ok = r; });
    f.drain();
    BOOST_REQUIRE(ok.has_value());
    BOOST_TEST(!*ok);
    BOOST_TEST(f.logged("warning: hook subnet-down: exited with status 3 after"));
    BOOST_TEST(f.logged("hook subnet-down: oops"));
}

BOOST_AUTO_TEST_CASE(a_hook_past_its_timeout_is_terminated) {
    hook_fixture f(1s);
    const auto start = clock_type::now();
    std::optional<bool> ok;
    f.runner->run("up", "sleep 30", {}, [&](bool r) { ok = r; });
    f.runner->run("subnet-up", "echo after >> after.out", {});
    f.drain();
    const double took = seconds_since(start);
    BOOST_TEST(took >= 0.9);
    BOOST_TEST(took < 2.9);  // SIGTERM sufficed: no SIGKILL round
    BOOST_REQUIRE(ok.has_value());
    BOOST_TEST(!*ok);
    BOOST_TEST(f.logged("warning: hook up: still running after 1 s, sending SIGTERM"));
    BOOST_TEST(f.logged("hook up: killed by signal 15 (SIGTERM)"));
    BOOST_TEST(!f.logged("SIGKILL"));
    // The queue moves on after a kill.
    BOOST_TEST(slurp(f.dir / "after.out") == "after\n");
    BOOST_TEST(no_children());
}

BOOST_AUTO_TEST_CASE(a_hook_ignoring_sigterm_gets_sigkill) {
    hook_fixture f(1s);
    const auto start = clock_type::now();
    // The ignored SIGTERM is inherited by sleep, so the whole group ignores it.
    f.runner->run("up", "trap '' TERM; sleep 30", {});
    f.drain();
    const double took = seconds_since(start);
    BOOST_TEST(took >= 2.9);  // 1 s timeout + 2 s grace
    BOOST_TEST(took < 6.0);
    BOOST_TEST(f.logged("hook up: still running after 1 s, sending SIGTERM"));
    BOOST_TEST(f.logged("warning: hook up: still running 2 s after SIGTERM, sending SIGKILL"));
    BOOST_TEST(f.logged("hook up: killed by signal 9 (SIGKILL)"));
    BOOST_TEST(no_children());
}

BOOST_AUTO_TEST_CASE(shell_metacharacters_in_variables_are_not_executed) {
    hook_fixture f;
    const std::string hostile = "$(touch pwned1); `touch pwned2`; touch pwned3 && id > pwned4 'x\"";
    weft::ip_prefix subnet{*weft::parse_ipv4("198.19.1.0"), 24};
    hook_env env = weft::io::subnet_hook_env("weft0", subnet, hostile, 7);
    // Unquoted on purpose as well: expansion results are never re-parsed.
    f.runner->run("subnet-up", "printf '%s' \"$NODE\" > node.out; echo $NODE > unquoted.out",
                  std::move(env));
    f.drain();
    BOOST_TEST(slurp(f.dir / "node.out") == hostile);
    for (const char* name : {"pwned1", "pwned2", "pwned3", "pwned4"})
        BOOST_TEST(!fs::exists(f.dir / name), name << " was created");
}

BOOST_AUTO_TEST_CASE(runs_in_the_config_dir_with_stdin_empty_and_other_fds_closed) {
    hook_fixture f;
    // An fd this process leaks on purpose (no O_CLOEXEC).
    const int leaked = ::open("/dev/null", O_RDONLY);
    BOOST_REQUIRE(leaked > 2);
    const std::string fd = std::to_string(leaked);
    f.runner->run("up",
                  "pwd -P > pwd.out; cat > stdin.out; "
                  "if [ -e /proc/$$/fd/" +
                      fd + " ]; then echo open; else echo closed; fi > fd.out",
                  {});
    f.drain();
    ::close(leaked);
    BOOST_TEST(lines_of(slurp(f.dir / "pwd.out")).at(0) == fs::canonical(f.dir).string());
    BOOST_TEST(slurp(f.dir / "stdin.out").empty());
    BOOST_TEST(slurp(f.dir / "fd.out") == "closed\n");
}

BOOST_AUTO_TEST_CASE(bad_variable_names_refuse_the_run) {
    hook_fixture f;
    std::optional<bool> ok;
    f.runner->run("up", "touch ran", {{"A=B", "x"}}, [&](bool r) { ok = r; });
    f.drain();
    BOOST_REQUIRE(ok.has_value());
    BOOST_TEST(!*ok);
    BOOST_TEST(!fs::exists(f.dir / "ran"));
    BOOST_TEST(
        f.logged("error: hook up: not run: bad environment variable 'A=B' (a name other "
                 "than [A-Za-z_][A-Za-z0-9_]*, or a NUL byte)"));
    std::optional<bool> ok2;
    f.runner->run("up", "touch ran", {{"X", std::string("a\0b", 3)}}, [&](bool r) { ok2 = r; });
    f.drain();
    BOOST_TEST((ok2 == std::optional<bool>(false)));
}

BOOST_AUTO_TEST_CASE(run_sync_returns_within_its_timeout) {
    hook_fixture f;
    BOOST_TEST(f.runner->run_sync("down", "exit 0", {}, 5s));
    BOOST_TEST(!f.runner->run_sync("down", "exit 1", {}, 5s));
    const auto start = clock_type::now();
    BOOST_TEST(!f.runner->run_sync("down", "sleep 30", {}, 1s));
    const double took = seconds_since(start);
    BOOST_TEST(took >= 0.9);
    BOOST_TEST(took < 1.0 + 2.0);  // timeout, and SIGTERM was enough
    BOOST_TEST(f.logged("hook down: still running after 1 s, sending SIGTERM"));
    BOOST_TEST(no_children());
}

BOOST_AUTO_TEST_CASE(run_sync_drops_queued_hooks_and_terminates_the_running_one_at_once) {
    hook_fixture f;
    std::vector<std::pair<int, bool>> done;
    // Started, but the loop never ran: shutdown.  A 10 s timeout that the
    // stop does not wait for.
    f.runner->run("up", "touch started; sleep 30", {}, [&](bool r) { done.emplace_back(1, r); });
    f.runner->run("subnet-up", "touch ran2", {}, [&](bool r) { done.emplace_back(2, r); });
    BOOST_REQUIRE(wait_for_file(f.dir / "started"));
    const auto start = clock_type::now();
    BOOST_TEST(f.runner->run_sync("down", "echo 3 >> order.out", weft::io::interface_hook_env("weft0"), 5s));
    BOOST_TEST(seconds_since(start) < 1.0);
    BOOST_TEST(f.runner->idle());
    BOOST_TEST(slurp(f.dir / "order.out") == "3\n");
    BOOST_TEST(!fs::exists(f.dir / "ran2"));
    BOOST_TEST(f.logged("warning: hook up: still running at shutdown, sending SIGTERM"));
    BOOST_TEST(f.logged("hook up: killed by signal 15 (SIGTERM)"));
    BOOST_TEST(f.logged("notice: shutting down: 1 queued hook dropped, not run"));
    BOOST_TEST(f.logged("hook subnet-up: not run (shutting down)"));
    BOOST_TEST(no_children());
    // The abandoned async waits end quietly when the loop runs again; the
    // completions say neither succeeded.
    f.drain();
    BOOST_TEST((done == std::vector<std::pair<int, bool>>{{2, false}, {1, false}}));
}

BOOST_AUTO_TEST_CASE(stop_is_bounded_however_many_hooks_are_queued) {
    hook_fixture f(1s);
    // Each ignores SIGTERM: run one after another, as before, they would
    // take 3 * (1 s + kill_grace) before `down` even started.
    for (int i = 1; i <= 3; ++i)
        f.runner->run("subnet-up", "trap '' TERM; touch ran" + std::to_string(i) + "; sleep 30", {});
    BOOST_REQUIRE(wait_for_file(f.dir / "ran1"));
    const auto start = clock_type::now();
    BOOST_TEST(f.runner->run_sync("down", "true", {}, 1s));
    const double took = seconds_since(start);
    BOOST_TEST(took >= 1.9);  // kill_grace: the running one ignores SIGTERM
    BOOST_TEST(took < 1.0 + 2.0 + 0.5);
    BOOST_TEST(!fs::exists(f.dir / "ran2"));
    BOOST_TEST(!fs::exists(f.dir / "ran3"));
    BOOST_TEST(f.logged("hook subnet-up: still running at shutdown, sending SIGTERM"));
    BOOST_TEST(f.logged("hook subnet-up: still running 2 s after SIGTERM, sending SIGKILL"));
    BOOST_TEST(f.logged("notice: shutting down: 2 queued hooks dropped, not run"));
    BOOST_TEST(f.logged("hook down: done after"));
    BOOST_TEST(no_children());
    f.drain();
}

BOOST_AUTO_TEST_CASE(stop_hooks_run_in_order_within_one_timeout) {
    hook_fixture f;
    std::vector<hook_runner::sync_hook> hooks{
        {"my-subnet-down", "echo 1 >> order.out", {}},
        {"my-subnet-down", "echo 2 >> order.out", {}},
        {"down", "echo 3 >> order.out", {}},
    };
    BOOST_TEST(f.runner->run_sync(hooks, 5s));
    BOOST_TEST(slurp(f.dir / "order.out") == "1\n2\n3\n");
    BOOST_TEST(f.runner->run_sync({}, 5s));  // nothing to run, nothing to stop
    BOOST_TEST(!f.runner->run_sync({{"down", "exit 1", {}}}, 5s));

    // One slow stop hook uses up the shared time: the next is cut short at
    // the common deadline (not its own 1 s), the last is not run.
    std::vector<hook_runner::sync_hook> slow{
        {"my-subnet-down", "sleep 0.6", {}},
        {"my-subnet-down", "sleep 30", {}},
        {"down", "touch down-ran", {}},
    };
    const auto start = clock_type::now();
    BOOST_TEST(!f.runner->run_sync(slow, 1s));
    const double took = seconds_since(start);
    BOOST_TEST(took >= 0.9);
    BOOST_TEST(took < 1.0 + 1.0);  // SIGTERM was enough
    BOOST_TEST(!fs::exists(f.dir / "down-ran"));
    BOOST_TEST(f.logged("when the time for stop hooks was up, sending SIGTERM"));
    BOOST_TEST(f.logged("warning: shutting down: 1 stop hook not run: the 1 s for stop hooks are up"));
    BOOST_TEST(no_children());
}

BOOST_AUTO_TEST_CASE(destroying_the_runner_kills_and_reaps_a_running_hook) {
    hook_fixture f;
    const auto start = clock_type::now();
    f.runner->run("up", "sleep 30", {});
    f.runner->run("subnet-up", "touch ran", {});
    f.runner.reset();
    BOOST_TEST(seconds_since(start) < 2.0);
    BOOST_TEST(no_children());
    BOOST_TEST(f.logged("hook up: still running at shutdown, sending SIGKILL"));
    BOOST_TEST(f.logged("hook subnet-up: not run (shutting down)"));
    BOOST_TEST(!fs::exists(f.dir / "ran"));
    f.io.restart();
    f.io.run_for(1s);  // handlers of the destroyed runner do nothing
}

BOOST_AUTO_TEST_CASE(the_design_variables) {
    using weft::io::subnet_hook_env;
    const hook_env v4 = subnet_hook_env("weft0", {*weft::parse_ipv4("198.19.1.0"), 24}, "alpha", 1);
    const hook_env want4{
        {"TUNDEV", "weft0"}, {"SUBNET", "198.19.1.0/24"}, {"SUBADDR", "198.19.1.0"},
        {"SUBCIDR", "24"},   {"SUBADDRTYPE", "INET"},     {"NODE", "alpha"},
        {"NODEID", "1"}};
    BOOST_TEST((v4 == want4));
    const hook_env v6 =
        subnet_hook_env("weft1", {*weft::parse_ipv6("2001:db8:1::"), 48}, "beta", 4294967295u);
    const hook_env want6{{"TUNDEV", "weft1"},         {"SUBNET", "2001:db8:1::/48"},
                         {"SUBADDR", "2001:db8:1::"}, {"SUBCIDR", "48"},
                         {"SUBADDRTYPE", "INET6"},    {"NODE", "beta"},
                         {"NODEID", "4294967295"}};
    BOOST_TEST((v6 == want6));
    BOOST_TEST((weft::io::interface_hook_env("weft0") == hook_env{{"TUNDEV", "weft0"}}));
}

BOOST_AUTO_TEST_SUITE_END()
