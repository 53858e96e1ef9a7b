// The node-list exchanges of the negotiation service (NEGOTIATION.md,
// "Node-list exchange"): dialled ones (exchange_bnl) and answered ones (a
// node-list HELLO reaching the listener, handed over by negotiate()).  Signed
// lists move as raw bytes; nothing here parses or trusts them.  Connections,
// their deadlines and the message framing are shared with the negotiations
// through negotiation_internal.hpp.
#include "io/negotiation_service.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/read.hpp>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/check.hpp"
#include "base/hex.hpp"
#include "io/message_stream.hpp"
#include "io/negotiation_internal.hpp"

namespace weft::io {

namespace asio = boost::asio;
using asio::awaitable;
using negotiation_internal::endpoint_of;
using negotiation_internal::endpoint_text;
using negotiation_internal::touch;
using negotiation_internal::use_tuple;
using negotiation_internal::write_message;

const char* to_string(negotiation_service::exchange_outcome o) noexcept {
    using eo = negotiation_service::exchange_outcome;
    switch (o) {
        case eo::received: return "received";
        case eo::sent: return "sent";
        case eo::equal: return "equal";
        case eo::peer_had_nothing: return "peer had nothing";
        case eo::failed: return "failed";
        case eo::busy: return "busy";
    }
    return "unknown";
}

namespace {

// A BNL_DATA body is read (and its buffer grown) this much at a time.
constexpr std::size_t bnl_data_read_chunk = 64 * 1024;

// One exchange's place in negotiation_service::receiving_, given back
// however the exchange ends (an exception, a destroyed frame included).
class receiving_slot {
public:
    explicit receiving_slot(std::shared_ptr<std::size_t> count) : count_(std::move(count)) { ++*count_; }
    ~receiving_slot() { --*count_; }
    receiving_slot(const receiving_slot&) = delete;
    receiving_slot& operator=(const receiving_slot&) = delete;

private:
    std::shared_ptr<std::size_t> count_;
};

// Why a node-list message could not be read: a transport or codec failure
// (`text`), or a well-formed header of a type not allowed at this point
// (`type`; its body is never read).
struct list_read_error {
    std::string text;
    std::optional<msg_type> type;
};

// Reads one message of type `want` (or an ERROR).  Any other type is refused
// from its header alone, so an unasked BNL_DATA costs 5 bytes, not 16 MiB.
// BNL_DATA (whose body is the list, see NEGOTIATION.md) is read straight into
// the string handed up, which grows as the body arrives.
template <class Conn>
awaitable<result<message, list_read_error>> read_list_message(Conn& c, const negotiation_settings& s, msg_type want) {
    auto failure = [&c](const message_read_error& e) {
        return unexpected{list_read_error{e.transport && c.timed_out ? std::string("timed out") : e.text, {}}};
    };
    auto h = co_await read_message_header(c.stream);
    if (!h) co_return failure(h.error());
    if (h->type != want && h->type != msg_type::error) co_return unexpected{list_read_error{{}, h->type}};
    if (h->type == msg_type::bnl_data) {
        // Grown as the body arrives, never sized from the header alone: a
        // peer that announces 16 MiB and sends a few bytes pins a few bytes.
        std::string bytes;
        while (bytes.size() < h->length) {
            const std::size_t at = bytes.size();
            const std::size_t chunk = std::min<std::size_t>(h->length - at, bnl_data_read_chunk);
            bytes.resize(at + chunk);
            auto [ec, n] = co_await asio::async_read(c.stream, asio::buffer(bytes.data() + at, chunk), use_tuple);
            if (ec) co_return failure(message_read_error{ec, ec.message()});
        }
        touch(c, s);
        co_return message{bnl_data_msg{std::move(bytes)}};
    }
    auto m = co_await read_message_body(c.stream, *h);
    if (!m) co_return failure(m.error());
    touch(c, s);
    co_return std::move(m).value();
}

// BNL_DATA from the caller's buffer: header built here, body written from
// `bytes` as is, so serving a list never copies it.  `bytes` is at most
// bnl_data_body_limit (checked by the caller).
template <class Conn>
awaitable<bool> write_bnl_data(Conn& c, std::string_view bytes) {
    WEFT_CHECK(bytes.size() <= bnl_data_body_limit);
    const auto header = encode_header(msg_type::bnl_data, static_cast<std::uint32_t>(bytes.size()));
    std::array<asio::const_buffer, 2> buffers{asio::buffer(header), asio::buffer(bytes.data(), bytes.size())};
    auto [ec, n] = co_await asio::async_write(c.stream, buffers, use_tuple);
    co_return !ec;
}

// After our last message of a node-list exchange the peer must close.
// Empty when it did (or the connection otherwise ended); else what it did
// instead (the body of a message it sent is not read).
template <class Conn>
awaitable<std::string> wait_for_close(Conn& c) {
    auto h = co_await read_message_header(c.stream);
    if (!h && h.error().transport) {
        const auto ec = h.error().transport;
        if (c.timed_out) co_return std::string("did not close the connection in time");
        // Only a close (with or without TLS close_notify) says "I have it".
        // A reset or any other error may have lost the list with the
        // connection, so it does not count as sent.
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) co_return std::string();
        if (ec == asio::error::connection_reset)
            co_return std::string("reset the connection instead of closing it (the list may not have arrived)");
        co_return "broke off the connection instead of closing it: " + ec.message() +
                  " (the list may not have arrived)";
    }
    if (!h) co_return "sent an invalid message after the exchange: " + h.error().text;
    if (h->type == msg_type::bnl_request) co_return std::string("sent a second BNL_REQUEST");
    co_return std::string("sent ") + to_string(h->type) + " after the exchange ended";
}

}  // namespace

void negotiation_service::exchange_bnl(std::uint32_t peer_id, std::function<void(exchange_outcome)> done) {
    if (exchanges_.size() >= settings_.max_list_exchanges) {
        if (done) done(exchange_outcome::busy);
        return;
    }
    if (stopping_) {
        ++stats_.list_exchange_failed;
        if (done) done(exchange_outcome::failed);
        return;
    }
    auto ex = std::make_shared<exchange>();
    ex->peer_id = peer_id;
    ex->done = std::move(done);
    exchanges_.push_back(ex);
    spawn(dial_list(ex));
}

void negotiation_service::finish(const std::shared_ptr<exchange>& ex, exchange_outcome outcome) {
    exchanges_.remove(ex);
    if (!ex->done) return;  // already reported (stop())
    if (outcome == exchange_outcome::failed) ++stats_.list_exchange_failed;
    auto done = std::move(ex->done);
    ex->done = nullptr;
    done(outcome);
}

awaitable<void> negotiation_service::dial_list(std::shared_ptr<exchange> ex) {
    auto bnl = bnl_();  // keeps `node` alive while we run
    const bnl_node* node = ex->peer_id == self_id_ ? nullptr : bnl->by_id(ex->peer_id);
    auto c = make_connection();
    ex->conn = c;
    // One deadline for all of it: connect, TLS, both HELLOs and the list.
    c->fix_deadline(c->started + settings_.list_timeout);
    auto out = exchange_outcome::failed;
    std::string why;
    if (!node) {
        c->who = "id " + std::to_string(ex->peer_id);
        why = ex->peer_id == self_id_ ? "this node itself" : "not in the node list";
    } else {
        c->who = node->name + " (" + endpoint_text(endpoint_of(*node)) + ")";
        why = co_await open_to(c, *node, *bnl);
        // The list may have changed while we connected: it must still name
        // this certificate's node before we say anything.
        if (why.empty() && !c->closed) why = still_listed(*c, *node);
    }
    if (why.empty() && !c->closed) {
        c->authenticated = true;
        const std::uint64_t mine = bnl_()->list().version;
        if (!co_await write_message(*c, hello_msg{self_id_, mine, hello_purpose::node_list})) {
            why = "cannot send HELLO";
        } else if (auto m = co_await read_list_message(*c, settings_, msg_type::hello); !m) {
            why = m.error().type ? std::string("sent ") + to_string(*m.error().type) + " instead of HELLO"
                                 : "reading HELLO: " + m.error().text;
        } else if (auto* e = std::get_if<error_msg>(&*m)) {
            why = std::string("peer refused: ") + to_string(e->code) + ": " + printable(e->text);
        } else if (const auto& hello = std::get<hello_msg>(*m); !hello_matches(*c, *node, hello.node_id)) {
            // logged and counted as a refusal
        } else {
            if (on_peer_hello) on_peer_hello(node->id, hello.bnl_version);
            if (hello.purpose != hello_purpose::node_list)
                why = "answered a node-list HELLO with a negotiation HELLO";
            else
                out = co_await list_exchange(c, node->id, mine, hello.bnl_version, true);
        }
    }
    c->close();
    if (!why.empty() && !stopping_) log_.notice("node list: with {}: {}", c->who, why);
    finish(ex, out);
}

awaitable<void> negotiation_service::serve_list(std::shared_ptr<connection> c, std::uint32_t peer_id,
                                                std::uint64_t mine, std::uint64_t theirs) {
    // A node-list exchange: no flight, no pair state, never a collision.
    c->fix_deadline(std::min(clock::now() + settings_.list_timeout, c->started + settings_.session_timeout));
    auto out = exchange_outcome::failed;
    if (!co_await write_message(*c, hello_msg{self_id_, mine, hello_purpose::node_list})) {
        if (!stopping_) log_.notice("node list: with {}: cannot send HELLO", c->who);
    } else {
        out = co_await list_exchange(c, peer_id, mine, theirs, false);
    }
    if (out == exchange_outcome::failed) ++stats_.list_exchange_failed;
}

awaitable<negotiation_service::exchange_outcome> negotiation_service::list_exchange(std::shared_ptr<connection> c,
                                                                                    std::uint32_t peer_id,
                                                                                    std::uint64_t mine,
                                                                                    std::uint64_t theirs,
                                                                                    bool dialled) {
    auto fail = [&](const std::string& why) {
        if (!stopping_) log_.notice("node list: with {}: {}", c->who, why);
        return exchange_outcome::failed;
    };
    // A message not allowed here closes the connection with ERROR bad_message.
    auto refuse = [&](const list_read_error& e, msg_type want) -> awaitable<exchange_outcome> {
        if (!e.type) co_return fail(std::string("reading ") + to_string(want) + ": " + e.text);
        std::string what;
        if (*e.type == msg_type::bnl_data)
            what = "sent BNL_DATA we did not ask for";
        else if (*e.type == msg_type::bnl_request && want == msg_type::bnl_data)
            what = "sent BNL_REQUEST although it announced the newer list";
        else if (*e.type == msg_type::hello)
            what = "sent a second HELLO";
        else
            what = std::string("sent ") + to_string(*e.type) + " in a node-list exchange";
        co_await write_message(*c, make_error_msg(error_msg_code::bad_message, what));
        co_return fail(what + ": closed");
    };

    if (mine == theirs) {
        log_.debug("node list: with {}: both hold version {}", c->who, mine);
        co_return exchange_outcome::equal;
    }
    if (mine < theirs) {
        // We ask, unless max_list_exchanges lists are already on their way
        // to us: a dialled exchange holds a slot from the start, so only a
        // served one can find none.  The peer's HELLO has already told the
        // daemon (on_peer_hello) that it holds a newer list, so the daemon
        // pulls it itself once a slot is free; nothing is lost.
        if (!dialled && *receiving_ >= settings_.max_list_exchanges) {
            log_.info("node list: {} announced version {} (we hold {}); not asking now: {} lists already on their way",
                      c->who, theirs, mine, *receiving_);
            co_await write_message(*c, make_error_msg(error_msg_code::busy, "too many node-list transfers; try later"));
            co_return exchange_outcome::busy;
        }
        // And at most once per list_ask_interval from one peer.
        if (!dialled) {
            const auto now = clock::now();
            auto last = served_asked_.find(peer_id);
            if (last != served_asked_.end() && now - last->second < settings_.list_ask_interval) {
                const auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - last->second);
                log_.info("node list: {} announced version {} (we hold {}); not asking now: asked it {} ms ago",
                          c->who, theirs, mine, ago.count());
                co_await write_message(*c, make_error_msg(error_msg_code::busy,
                                                          "asked you for a node list a moment ago; try later"));
                co_return exchange_outcome::busy;
            }
            served_asked_.insert_or_assign(peer_id, now);
        }
        std::optional<receiving_slot> slot(std::in_place, receiving_);
        if (!co_await write_message(*c, bnl_request_msg{mine})) co_return fail("cannot send BNL_REQUEST");
        auto m = co_await read_list_message(*c, settings_, msg_type::bnl_data);
        slot.reset();
        if (!m) co_return co_await refuse(m.error(), msg_type::bnl_data);
        if (auto* e = std::get_if<error_msg>(&*m))
            co_return fail(std::string("peer refused: ") + to_string(e->code) + ": " + printable(e->text));
        std::string& bytes = std::get<bnl_data_msg>(*m).bytes;
        if (bytes.empty()) {
            log_.info("node list: {} announced version {} but had nothing newer than our {}", c->who, theirs, mine);
            co_return exchange_outcome::peer_had_nothing;
        }
        ++stats_.lists_received;
        log_.info("node list: received {} bytes from {} (it announced version {}, we hold {})", bytes.size(), c->who,
                  theirs, mine);
        if (on_bnl_received) on_bnl_received(peer_id, std::move(bytes));
        co_return exchange_outcome::received;
    }

    // We hold the newer list: the peer asks, once.
    auto m = co_await read_list_message(*c, settings_, msg_type::bnl_request);
    if (!m) co_return co_await refuse(m.error(), msg_type::bnl_request);
    if (auto* e = std::get_if<error_msg>(&*m))
        co_return fail(std::string("peer refused: ") + to_string(e->code) + ": " + printable(e->text));
    const std::uint64_t asked = std::get<bnl_request_msg>(*m).version;
    // What is current now, not at HELLO time: the list may have changed since.
    const std::uint64_t current = bnl_()->list().version;
    std::shared_ptr<const std::string> bytes;
    if (current > asked && bnl_bytes) bytes = bnl_bytes();
    const bool serving = bytes && !bytes->empty() && bytes->size() <= bnl_data_body_limit;
    // (Not a conditional expression inside the co_await: GCC 12 evaluates
    // both arms of one there.)
    std::string_view answer;
    if (serving) answer = *bytes;
    if (!co_await write_bnl_data(*c, answer)) co_return fail("cannot send BNL_DATA");
    auto outcome = exchange_outcome::equal;
    if (serving) {
        ++stats_.lists_served;
        log_.info("node list: sent version {} ({} bytes) to {}, which holds {}", current, bytes->size(), c->who, asked);
        outcome = exchange_outcome::sent;
    } else if (current > asked) {
        // A bug of the daemon, not of the peer: it set a version without bytes.
        if (bytes && !bytes->empty())
            log_.error("node list: hold version {} but its {} bytes are over the limit; answered {} with nothing",
                       current, bytes->size(), c->who);
        else
            log_.error("node list: hold version {} but have no list bytes to serve; answered {} with nothing", current,
                       c->who);
        outcome = exchange_outcome::failed;
    } else {
        log_.info("node list: {} asked for a list newer than {}; we hold {}: answered with nothing", c->who, asked,
                  current);
    }
    // BNL_DATA is the last message: the asker closes first, so our close can
    // never reset the connection under data still in flight, and anything
    // else it sends is a protocol error.
    if (auto after = co_await wait_for_close(*c); !after.empty()) {
        co_await write_message(*c, make_error_msg(error_msg_code::bad_message, after));
        co_return fail(after + ": closed");
    }
    co_return outcome;
}

}  // namespace weft::io
