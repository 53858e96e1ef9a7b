// The control socket (src/wire/CONTROL.md): a Unix stream socket, mode 0600,
// serving one request per connection to weftctl.
//
// Threading: everything runs on the io_context's thread, the handler too;
// no locks.  One coroutine accepts, one per client serves it under a
// deadline.  Bounded: at most `max_clients` at once (more are answered
// "busy" and closed), a request line of at most control_request_max bytes
// read within `read_timeout`, an answer of at most control_reply_max bytes
// written within `write_timeout`.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "base/result.hpp"
#include "io/log.hpp"
#include "wire/control.hpp"

namespace weft::io {

// Thrown by a handler to refuse a request: the message becomes the answer's
// "error" (one line).
class control_error : public std::runtime_error {
  public:
    using runtime_error::runtime_error;
};

struct control_limits {
    std::chrono::milliseconds read_timeout{5000};   // from accept to the request's LF
    std::chrono::milliseconds write_timeout{5000};  // to write the whole answer
    std::size_t max_clients = 16;
};

class control_server {
  public:
    // Runs on the io thread; returns the "result" JSON, or throws
    // control_error(msg) -> {"ok":false,"error":msg}.  Any other exception is
    // logged and answered "internal error: ...".
    using handler = std::function<nlohmann::json(const control_request&)>;

    // Creates the socket at `path`, mode 0600 from the start (bound under
    // umask 0177; umask is process-wide, so call this while no other thread
    // creates files).  The parent directory is created 0755 if missing (only
    // the last component).  An existing path: a socket something answers on
    // -> refused ("another daemon is listening on PATH"); a stale socket ->
    // replaced; anything else -> refused.  `log` must outlive the server.
    // Errors: one line naming the path and the reason.
    static result<std::unique_ptr<control_server>, std::string> open(boost::asio::io_context& io,
                                                                     std::filesystem::path path,
                                                                     logger& log, handler h,
                                                                     control_limits limits = {});

    control_server(const control_server&) = delete;
    control_server& operator=(const control_server&) = delete;
    ~control_server();  // stop()

    void start();  // the accept loop
    // Closes the acceptor and every client and removes the socket file (if
    // it is still the one this server created).  Idempotent.
    void stop();

    const std::filesystem::path& path() const noexcept { return path_; }
    std::size_t clients() const noexcept;  // being served right now

    struct state;  // shared with the coroutines, which may outlive the server

  private:
    control_server(std::shared_ptr<state> st, std::filesystem::path path, dev_t dev, ino_t ino);

    std::shared_ptr<state> st_;
    std::filesystem::path path_;
    dev_t dev_;  // identity of the socket file created, so stop() never
    ino_t ino_;  // removes one a later daemon put in its place
    bool stopped_ = false;
};

}  // namespace weft::io
