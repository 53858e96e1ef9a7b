// One negotiation message (src/wire/NEGOTIATION.md) read from any Asio byte
// stream: the header, its per-type length limit, the body, the strict
// decode.  The negotiations (HELLO, PROPOSE, CONFIRM) read through this, and
// so does the test tool that pushes lists, so both frame alike.  Node-list
// exchanges use the header and body halves apart (node_list_exchange.cpp):
// a type is refused before its body is read, and BNL_DATA, which may be
// large, is read in chunks of its own.
#pragma once

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/check.hpp"
#include "base/result.hpp"
#include "wire/negotiation.hpp"

namespace weft::io {

struct message_read_error {
    // Set when the stream failed (EOF included); clear when the bytes were
    // read but are not a valid message.
    boost::system::error_code transport;
    std::string text;  // what failed, for a log line
};

// Reads one header and judges it (type known, length within the type's
// limit), so a caller may refuse a type before reading its body.
template <class Stream>
boost::asio::awaitable<result<msg_header, message_read_error>> read_message_header(Stream& stream) {
    constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
    std::array<std::uint8_t, msg_header_size> header{};
    auto [ec, n] = co_await boost::asio::async_read(stream, boost::asio::buffer(header), use_tuple);
    if (ec) co_return unexpected{message_read_error{ec, ec.message()}};
    auto h = decode_header(header);
    if (!h) co_return unexpected{message_read_error{{}, h.error().message}};
    co_return *h;
}

// Reads the body `h` announces and decodes it strictly.  `h` came from
// read_message_header(), so the body is within its type's limit.
template <class Stream>
boost::asio::awaitable<result<message, message_read_error>> read_message_body(Stream& stream, const msg_header& h) {
    constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
    WEFT_CHECK(h.length <= body_limit(h.type));
    std::vector<std::uint8_t> body(h.length);
    if (!body.empty()) {
        auto [ec, n] = co_await boost::asio::async_read(stream, boost::asio::buffer(body), use_tuple);
        if (ec) co_return unexpected{message_read_error{ec, ec.message()}};
    }
    auto m = decode_body(h.type, body);
    if (!m) co_return unexpected{message_read_error{{}, m.error().message}};
    co_return std::move(m).value();
}

// Reads exactly one message.  The body is never larger than decode_header()
// allows for its type, so a peer cannot make this allocate more.
template <class Stream>
boost::asio::awaitable<result<message, message_read_error>> read_one_message(Stream& stream) {
    auto h = co_await read_message_header(stream);
    if (!h) co_return unexpected{std::move(h).error()};
    co_return co_await read_message_body(stream, *h);
}

}  // namespace weft::io
