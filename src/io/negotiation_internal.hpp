// Internal to src/io: what the two translation units of negotiation_service
// share.  negotiation_service.cpp holds the listener, the connections and the
// negotiations; node_list_exchange.cpp holds the node-list exchanges.  Both
// speak over the same connection type with the same message framing.
//
// Not an interface: only those two files include it; nothing outside src/io
// may (the daemon and the tests use negotiation_service.hpp), and nothing
// here is stable.
#pragma once

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "io/message_stream.hpp"
#include "io/negotiation_service.hpp"
#include "wire/negotiation.hpp"

namespace weft::io {

// One TCP+TLS connection.  The watchdog closes it when `deadline` passes;
// whoever reads or writes moves the deadline with touch().
struct negotiation_service::connection {
    connection(boost::asio::any_io_executor ex, boost::asio::ssl::context& ctx)
        : stream(boost::asio::ip::tcp::socket(ex), ctx), timer(ex) {}
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream;
    boost::asio::steady_timer timer;
    clock::time_point started = clock::now();
    clock::time_point deadline;
    bool authenticated = false;
    // The node its certificate showed, once checked: forget() closes every
    // connection of a node that left the list or was re-pinned.
    std::optional<std::uint32_t> peer_id;
    bool closed = false;
    bool timed_out = false;
    // A node-list exchange has one deadline for the whole connection, which
    // reading messages does not move (touch() leaves it alone).
    bool fixed_deadline = false;
    std::string who;  // remote address, then the peer's name once known

    void fix_deadline(clock::time_point at) noexcept {
        deadline = at;
        fixed_deadline = true;
        timer.cancel();  // the watchdog re-arms for the new deadline
    }

    void close() noexcept {
        if (closed) return;
        closed = true;
        boost::system::error_code ec;
        stream.lowest_layer().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
        stream.lowest_layer().close(ec);
        timer.cancel();
    }
};

// A node-list exchange we dialled.  `done` is emptied when it is called.
struct negotiation_service::exchange {
    std::uint32_t peer_id = 0;
    std::function<void(exchange_outcome)> done;
    std::weak_ptr<connection> conn;
};

namespace negotiation_internal {

// Expected errors come back as values (never exceptions) in every loop.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

inline std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
    auto a = e.address();
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(e.port());
}

// Where a node listens, from its BNL entry (preferred family and port).
inline boost::asio::ip::tcp::endpoint endpoint_of(const bnl_node& n) {
    namespace asio = boost::asio;
    const ip_address& a = n.endpoint();
    if (a.family == ip_family::v4) {
        asio::ip::address_v4::bytes_type b{};
        std::copy_n(a.bytes.begin(), 4, b.begin());
        return {asio::ip::address_v4(b), n.port};
    }
    asio::ip::address_v6::bytes_type b{};
    std::copy_n(a.bytes.begin(), 16, b.begin());
    return {asio::ip::address_v6(b), n.port};
}

// The helpers below take the connection as a template parameter: the type is
// private to negotiation_service, so a free function cannot name it.

// Deadline for the next message: the idle timeout, within the session's.
void touch(auto& c, const negotiation_settings& s) {
    if (c.fixed_deadline) return;
    c.deadline = std::min(negotiation_service::clock::now() + s.idle_timeout, c.started + s.session_timeout);
}

// The next negotiation message, which must be `expected` or ERROR: any other
// type is refused from its header, before its body is read or allocated
// (BNL_DATA's limit is 16 MiB; a negotiation never needs it).  Errors are
// whole texts: "reading HELLO: timed out", "expected HELLO, got BNL_DATA".
template <class Conn>
boost::asio::awaitable<result<message, std::string>> read_message(Conn& c, const negotiation_settings& s,
                                                                  msg_type expected) {
    // A transport failure after the watchdog closed the stream is a timeout.
    auto failed = [&](message_read_error e) {
        return unexpected{std::string("reading ") + to_string(expected) + ": " +
                          (e.transport && c.timed_out ? std::string("timed out") : std::move(e.text))};
    };
    auto h = co_await read_message_header(c.stream);
    if (!h) co_return failed(std::move(h).error());
    if (h->type != expected && h->type != msg_type::error)
        co_return unexpected{std::string("expected ") + to_string(expected) + ", got " + to_string(h->type)};
    auto m = co_await read_message_body(c.stream, *h);
    if (!m) co_return failed(std::move(m).error());
    touch(c, s);
    co_return std::move(m).value();
}

template <class Conn>
boost::asio::awaitable<bool> write_message(Conn& c, const message& m) {
    auto bytes = encode(m);
    auto [ec, n] = co_await boost::asio::async_write(c.stream, boost::asio::buffer(bytes), use_tuple);
    co_return !ec;
}

}  // namespace negotiation_internal

}  // namespace weft::io
