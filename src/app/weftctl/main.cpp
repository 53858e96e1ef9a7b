// weftctl: talks to a running weftd over its control socket (src/wire/CONTROL.md).
//   weftctl [-s SOCKET | -c CONFDIR] [-t SECONDS] COMMAND [ARGS]
//
// Exit codes: 0 done; 1 weftd refused the command; 2 usage error; 3 cannot
// reach weftd (no socket, not running, permission denied, unreadable -c
// configuration); 4 no answer within the timeout; 5 malformed answer.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/config.hpp"
#include "app/status.hpp"
#include "io/unique_fd.hpp"
#include "wire/bnl.hpp"
#include "wire/control.hpp"

namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

enum exit_code : int {
    exit_ok = 0,
    exit_refused = 1,      // the daemon answered {"ok":false}
    exit_usage = 2,        // bad command line
    exit_unreachable = 3,  // no socket, nothing listening, permission denied, bad -c
    exit_timeout = 4,      // no (complete) answer within -t
    exit_bad_answer = 5,   // an answer that is not the protocol's
    exit_output = 6,       // weftd did it, but the answer could not be written to stdout
};

// Every failure: one line on stderr and its exit code.
struct failure {
    int code;
    std::string message;
};

// weftd's default for the default interface (app/config.hpp).
const std::string default_socket = weft::default_control_socket(weft::weft_config{}.interface).string();

const char* usage_text =
    "usage: weftctl [-s SOCKET | -c CONFDIR] [-t SECONDS] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  status [--json]     this node, its node list and every peer with its counters\n"
    "  bnl                 print the signed node list in force\n"
    "  push                reload the node list from disk and push it to every peer (as SIGUSR1)\n"
    "  reload              reload the node list from disk (as SIGHUP)\n"
    "  renegotiate NAME    negotiate a new key epoch with peer NAME now\n"
    "\n"
    "options:\n"
    "  -s, --socket PATH   the control socket (default /run/weft/weft0.sock)\n"
    "  -c, --config DIR    read the socket's path from DIR/weft.conf (control-socket)\n"
    "  -t, --timeout SECS  wait at most this long for the answer (default 5)\n"
    "      --json          print the daemon's answer as JSON (any command)\n"
    "  -h, --help          this help\n"
    "      --version       print the version\n"
    "\n"
    "exit status: 0 done, 1 weftd refused the command, 2 usage error,\n"
    "3 cannot reach weftd, 4 no answer in time, 5 malformed answer,\n"
    "6 done but the answer could not be written to stdout\n";

struct options {
    std::optional<std::string> socket;
    std::optional<std::string> config;
    std::chrono::milliseconds timeout{5000};
    bool json = false;
    bool help = false;
    bool version = false;
    std::vector<std::string> args;  // COMMAND [ARGS]
};

failure usage(std::string message) {
    return {exit_usage, message + " (see weftctl --help)"};
}

std::chrono::milliseconds parse_timeout(const std::string& text) {
    char* end = nullptr;
    errno = 0;
    const double s = std::strtod(text.c_str(), &end);
    if (text.empty() || errno != 0 || end != text.c_str() + text.size() || !std::isfinite(s) ||
        s < 0.001 || s > 3600)
        throw usage("-t: expected seconds between 0.001 and 3600, got '" +
                    weft::one_line(text, 32) + "'");
    return std::chrono::milliseconds(static_cast<long long>(std::llround(s * 1000)));
}

options parse_args(int argc, char** argv) {
    options o;
    bool only_args = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (only_args || a.empty() || a[0] != '-' || a == "-") {
            o.args.push_back(a);
            continue;
        }
        if (a == "--") {
            only_args = true;
            continue;
        }
        std::optional<std::string> inline_value;
        if (a.rfind("--", 0) == 0) {
            if (const auto eq = a.find('='); eq != std::string::npos) {
                inline_value = a.substr(eq + 1);
                a.resize(eq);
            }
        }
        auto value = [&](const std::string& name) -> std::string {
            if (inline_value) return *inline_value;
            if (i + 1 >= argc) throw usage(name + " needs a value");
            return argv[++i];
        };
        if (a == "-s" || a == "--socket") {
            if (o.socket) throw usage("-s given twice");
            o.socket = value(a);
        } else if (a == "-c" || a == "--config") {
            if (o.config) throw usage("-c given twice");
            o.config = value(a);
        } else if (a == "-t" || a == "--timeout") {
            o.timeout = parse_timeout(value(a));
        } else if (inline_value) {
            throw usage("option " + weft::one_line(a, 32) + " takes no value");
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "-h" || a == "--help") {
            o.help = true;
        } else if (a == "--version") {
            o.version = true;
        } else {
            throw usage("unknown option '" + weft::one_line(a, 32) + "'");
        }
    }
    if (o.socket && o.config) throw usage("-s and -c exclude each other");
    return o;
}

weft::control_request make_request(const options& o) {
    if (o.args.empty()) throw usage("no command given");
    const std::string& name = o.args[0];
    const auto command = weft::parse_control_command(name);
    if (!command) throw usage("unknown command '" + weft::one_line(name, 32) + "'");
    weft::control_request req;
    req.command = *command;
    const std::size_t want = *command == weft::control_command::renegotiate ? 2 : 1;
    if (o.args.size() < want) throw usage(name + " needs a peer name");
    if (o.args.size() > want)
        throw usage("unexpected argument '" + weft::one_line(o.args[want], 32) + "' after " + name);
    if (want == 2) {
        if (!weft::is_valid_bnl_name(o.args[1]))
            throw usage("invalid node name '" + weft::one_line(o.args[1], 64) + "'");
        req.peer = o.args[1];
    }
    return req;
}

std::string socket_path(const options& o) {
    if (o.socket) {
        if (o.socket->empty()) throw usage("-s: empty path");
        return *o.socket;
    }
    if (!o.config) return default_socket;
    auto cfg = weft::load_config(*o.config);
    if (!cfg) {
        std::string e = cfg.error();
        const auto nl = e.find('\n');
        if (nl != std::string::npos) e = e.substr(0, nl) + " (and more)";
        throw failure{exit_unreachable, "cannot read the configuration: " + weft::one_line(e, 400)};
    }
    return cfg->control_socket.string();
}

std::string seconds_text(std::chrono::milliseconds t) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(t.count()) / 1000.0);
    return buf;
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_for(int fd, short events, clock_type::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, events, 0};
        const int n =
            ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count() + 1, 60'000)));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return true;  // let the read/write report the error
    }
}

failure connect_failure(const std::string& path, int err) {
    struct stat sb {};
    const bool exists = ::stat(path.c_str(), &sb) == 0;
    switch (err) {
        case ENOENT:
            return {exit_unreachable, "no control socket at " + path +
                                          ": weftd is not running (or give -s SOCKET / -c DIR)"};
        case ECONNREFUSED:
            if (exists && !S_ISSOCK(sb.st_mode))
                return {exit_unreachable, path + " is not a socket"};
            return {exit_unreachable, "weftd is not running (nothing listens on " + path + ")"};
        case EACCES:
        case EPERM:
            if (exists && sb.st_uid == 0)
                return {exit_unreachable, "permission denied: the control socket " + path +
                                              " is root's; run as root"};
            return {exit_unreachable, "permission denied: cannot connect to " + path};
        default:
            return {exit_unreachable, "cannot connect to " + path + ": " + std::strerror(err)};
    }
}

// One request, one answer (everything until the daemon closes).
std::string exchange(const std::string& path, const std::string& request,
                     std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path)
        throw usage("socket path longer than " + std::to_string(sizeof addr.sun_path - 1) +
                    " bytes");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const auto deadline = clock_type::now() + timeout;
    const failure timed_out{
        exit_timeout, "weftd did not answer within " + seconds_text(timeout) + " (" + path + ")"};

    weft::io::unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0)
        throw failure{exit_unreachable, std::string("socket: ") + std::strerror(errno)};
    while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const int err = errno;
        if (err == EINTR) continue;
        if (err != EAGAIN) throw connect_failure(path, err);
        // The listener's backlog is full: the daemon is alive but busy.
        if (clock_type::now() >= deadline) throw timed_out;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }

    for (std::size_t sent = 0; sent < request.size();) {
        const ssize_t n =
            ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN)
            throw failure{exit_bad_answer,
                          std::string("weftd closed the connection: ") + std::strerror(errno)};
        if (!wait_for(fd.get(), POLLOUT, deadline)) throw timed_out;
    }

    std::string answer;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n > 0) {
            answer.append(buf, static_cast<std::size_t>(n));
            if (answer.size() > weft::control_reply_max + 1)
                throw failure{exit_bad_answer, "answer from weftd longer than " +
                                                   std::to_string(weft::control_reply_max >> 20) +
                                                   " MiB"};
            continue;
        }
        if (n == 0) break;
        if (errno == EINTR) continue;
        if (errno == ECONNRESET && !answer.empty()) break;
        if (errno != EAGAIN)
            throw failure{exit_bad_answer,
                          std::string("weftd closed the connection: ") + std::strerror(errno)};
        if (!wait_for(fd.get(), POLLIN, deadline)) throw timed_out;
    }
    if (answer.empty())
        throw failure{exit_bad_answer, "weftd closed the connection without an answer"};
    return answer;
}

failure bad_result(const std::string& what) {
    return {exit_bad_answer, "unexpected answer from weftd: " + what};
}

const json& field(const json& r, const char* key, bool (json::*is)() const noexcept,
                  const char* type) {
    if (!r.is_object()) throw bad_result("result is not an object");
    const auto it = r.find(key);
    if (it == r.end() || !((*it).*is)())
        throw bad_result(std::string("no ") + type + " '" + key + "'");
    return *it;
}

std::string print_result(const weft::control_request& req, const json& r) {
    using weft::control_command;
    switch (req.command) {
        case control_command::status:
            if (!r.is_object()) throw bad_result("status is not an object");
            return weft::app::render_status(r);
        case control_command::bnl: {
            std::string text = field(r, "text", &json::is_string, "string").get<std::string>();
            if (!text.empty() && text.back() != '\n') text += '\n';
            return text;
        }
        case control_command::push: {
            const auto version =
                field(r, "version", &json::is_number_unsigned, "number").get<std::uint64_t>();
            const auto peers =
                field(r, "peers", &json::is_number_unsigned, "number").get<std::uint64_t>();
            const std::string to = std::to_string(peers) + (peers == 1 ? " peer" : " peers");
            // "pushed_before" is absent in answers of older daemons.
            if (r.contains("pushed_before") && r["pushed_before"] == true)
                return "node list version " + std::to_string(version) + " was pushed before; still pending for " +
                       to + "\n";
            return "pushed node list version " + std::to_string(version) + " to " + to + "\n";
        }
        case control_command::reload: {
            const auto version =
                field(r, "version", &json::is_number_unsigned, "number").get<std::uint64_t>();
            const bool applied = field(r, "applied", &json::is_boolean, "boolean").get<bool>();
            const std::string message =
                field(r, "message", &json::is_string, "string").get<std::string>();
            std::string out =
                applied ? "applied node list version " : "node list unchanged at version ";
            out += std::to_string(version);
            if (!message.empty()) out += ": " + weft::one_line(message, 1024);
            return out + '\n';
        }
        case control_command::renegotiate: {
            const std::string peer =
                field(r, "peer", &json::is_string, "string").get<std::string>();
            if (!field(r, "requested", &json::is_boolean, "boolean").get<bool>())
                throw bad_result("renegotiation not requested");
            return "renegotiation with " + weft::one_line(peer, 64) + " requested\n";
        }
    }
    throw bad_result("unknown command");
}

int run(int argc, char** argv) {
    const options o = parse_args(argc, argv);
    if (o.help) {
        std::cout << usage_text;
        return exit_ok;
    }
    if (o.version) {
        std::cout << "weftctl (weft) " WEFT_VERSION "\n";
        return exit_ok;
    }
    const weft::control_request req = make_request(o);
    const std::string path = socket_path(o);
    const std::string text = exchange(path, weft::serialise(req), o.timeout);
    auto reply = weft::parse_control_reply(text);
    if (!reply) throw failure{exit_bad_answer, "malformed answer from weftd: " + reply.error()};
    if (!reply->ok) throw failure{exit_refused, "weftd: " + reply->error};
    const std::string out =
        o.json ? reply->result.dump(2, ' ', false, json::error_handler_t::replace) + "\n"
               : print_result(req, reply->result);
    std::cout << out << std::flush;
    // weftd has done the command: say so, with its own status, rather than
    // "refused" (a script would retry a push or a renegotiation).
    if (!std::cout) throw failure{exit_output, "the command was done, but its answer could not be written to stdout"};
    return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const failure& f) {
        std::cerr << "weftctl: " << f.message << '\n';
        return f.code;
    } catch (const std::exception& e) {
        std::cerr << "weftctl: " << e.what() << '\n';
        return exit_bad_answer;
    }
}
