// One negotiation message (src/wire/NEGOTIATION.md) read from any Asio byte
// stream: the header, its per-type length limit, the body, the strict
// decode.  The negotiations (HELLO, PROPOSE, CONFIRM) read through this, and
// so does the test tool that pushes lists, so both frame alike.  Node-list
// exchanges have their own reader (node_list_exchange.cpp): BNL_DATA's type
// is checked before its body, which may be large, is read.
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

#include "base/result.hpp"
#include "wire/negotiation.hpp"

namespace weft::io {

struct message_read_error {
    // Set when the stream failed (EOF included); clear when the bytes were
    // read but are not a valid message.
    boost::system::error_code transport;
    std::string text;  // what failed, for a log line
};

// Reads exactly one message.  The body is never larger than decode_header()
// allows for its type, so a peer cannot make this allocate more.
template <class Stream>
boost::asio::awaitable<result<message, message_read_error>> read_one_message(Stream& stream) {
    constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
    std::array<std::uint8_t, msg_header_size> header{};
    auto [ec, n] = co_await boost::asio::async_read(stream, boost::asio::buffer(header), use_tuple);
    if (ec) co_return unexpected{message_read_error{ec, ec.message()}};
    auto h = decode_header(header);
    if (!h) co_return unexpected{message_read_error{{}, h.error().message}};
    std::vector<std::uint8_t> body(h->length);
    if (!body.empty()) {
        auto [ec2, n2] = co_await boost::asio::async_read(stream, boost::asio::buffer(body), use_tuple);
        if (ec2) co_return unexpected{message_read_error{ec2, ec2.message()}};
    }
    auto m = decode_body(h->type, body);
    if (!m) co_return unexpected{message_read_error{{}, m.error().message}};
    co_return std::move(m).value();
}

}  // namespace weft::io
