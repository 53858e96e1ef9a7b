// The node-list exchange of the negotiation service (NEGOTIATION.md,
// "Node-list exchange") over loopback with real certificates and TLS 1.3.
// Misbehaving peers are raw TLS clients or listeners on their own thread
// that speak the codec by hand.
#include <openssl/ssl.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "mesh_fixture.hpp"
#include "wire/negotiation.hpp"

// Boost.Test prints values of failed checks through these (found by ADL).
namespace weft::io {
std::ostream& boost_test_print_type(std::ostream& os, negotiation_service::exchange_outcome o) {
    return os << to_string(o);
}
}  // namespace weft::io
namespace weft {
std::ostream& boost_test_print_type(std::ostream& os, error_msg_code c) { return os << to_string(c); }
}  // namespace weft

namespace {

using namespace weft;
using namespace weft::test;
using namespace std::chrono_literals;
using outcome = io::negotiation_service::exchange_outcome;
using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;

// Random bytes standing in for a signed list: the service must move them
// untouched without ever parsing them.
std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& ch : s) ch = static_cast<char>(rng() & 0xffu);
    return s;
}

// What a node-list test records of one node.
struct watch {
    std::vector<std::pair<std::uint32_t, std::string>> received;  // on_bnl_received
    std::vector<std::pair<std::uint32_t, std::uint64_t>> hellos;   // on_peer_hello
    void attach(node& n) {
        n.svc->on_bnl_received = [this](std::uint32_t id, std::string bytes) {
            received.emplace_back(id, std::move(bytes));
        };
        n.svc->on_peer_hello = [this](std::uint32_t id, std::uint64_t v) { hellos.emplace_back(id, v); };
    }
};

// Starts an exchange and runs the loop until it reports.
outcome exchange(mesh& m, node& from, const node& to, std::chrono::milliseconds limit = 15s) {
    std::optional<outcome> got;
    from.svc->exchange_bnl(to.id, [&](outcome o) {
        BOOST_TEST(!got.has_value());  // exactly once
        got = o;
    });
    BOOST_REQUIRE(m.run_until([&] { return got.has_value(); }, limit));
    m.run_for(50ms);  // let the other side finish its half
    return *got;
}

// ------------------------------------------------------ raw TLS peers --

void send_msg(tls_stream& s, const message& msg) {
    auto bytes = encode(msg);
    boost::system::error_code ec;
    asio::write(s, asio::buffer(bytes), ec);
}

// One message from the service, or nullopt when it closed (or sent garbage).
std::optional<message> read_msg(tls_stream& s) {
    std::array<std::uint8_t, msg_header_size> hdr{};
    boost::system::error_code ec;
    asio::read(s, asio::buffer(hdr), ec);
    if (ec) return std::nullopt;
    auto h = decode_header(hdr);
    if (!h) return std::nullopt;
    std::vector<std::uint8_t> body(h->length);
    if (!body.empty()) asio::read(s, asio::buffer(body), ec);
    if (ec) return std::nullopt;
    auto m = decode_body(h->type, body);
    if (!m) return std::nullopt;
    return std::move(m).value();
}

// Reads until the service closes; the ERROR it sent on the way, if any.
std::optional<error_msg> read_until_close(tls_stream& s) {
    std::optional<error_msg> err;
    for (int i = 0; i < 20; ++i) {
        auto m = read_msg(s);
        if (!m) return err;
        if (auto* e = std::get_if<error_msg>(&*m)) err = *e;
    }
    return err;
}

struct rogue_log {
    bool handshake_ok = false;
    std::vector<msg_type> got;  // what the service sent, in order
    std::optional<error_msg> error;
    std::string data;           // the last BNL_DATA body
};

// A TLS 1.3 client with `files` (the identity of a listed node) that dials
// 127.0.0.1:port and runs `script`.
rogue_log rogue_client(std::uint16_t port, const io::tls_files& files,
                       const std::function<void(tls_stream&, rogue_log&)>& script) {
    rogue_log r;
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
    ctx.set_verify_mode(asio::ssl::verify_none);
    ctx.use_certificate_chain_file(files.cert.string());
    ctx.use_private_key_file(files.key.string(), asio::ssl::context::pem);
    tls_stream s(io, ctx);
    boost::system::error_code ec;
    s.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) return r;
    s.handshake(asio::ssl::stream_base::client, ec);
    if (ec) return r;
    r.handshake_ok = true;
    script(s, r);
    return r;
}

// A TLS 1.3 listener on 127.0.0.1:port with `files` that takes one
// connection and runs `script` on it.
rogue_log rogue_listener(asio::ip::tcp::acceptor& acc, const io::tls_files& files,
                         const std::function<void(tls_stream&, rogue_log&)>& script) {
    rogue_log r;
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
    ctx.set_verify_mode(asio::ssl::verify_none);
    ctx.use_certificate_chain_file(files.cert.string());
    ctx.use_private_key_file(files.key.string(), asio::ssl::context::pem);
    auto& io = static_cast<asio::io_context&>(acc.get_executor().context());
    tls_stream s(io, ctx);
    boost::system::error_code ec;
    acc.accept(s.lowest_layer(), ec);
    if (ec) return r;
    s.handshake(asio::ssl::stream_base::server, ec);
    if (ec) return r;
    r.handshake_ok = true;
    script(s, r);
    return r;
}

// The service (listener, holding `service_version`) and a rogue node-list
// client that announces `claim` and then runs `then`.
rogue_log node_list_client(mesh& m, const node& target, const node& as, std::uint64_t claim,
                           std::function<void(tls_stream&, rogue_log&)> then) {
    return m.run_beside([&, then] {
        return rogue_client(target.port, as.files, [&](tls_stream& s, rogue_log& r) {
            send_msg(s, hello_msg{as.id, claim, hello_purpose::node_list});
            auto h = read_msg(s);
            if (!h) return;
            r.got.push_back(type_of(*h));
            then(s, r);
        });
    }, 20s, 100ms);
}

// `from` dials beta's port for a node-list exchange; a rogue TLS listener
// with beta's identity takes the connection and runs `script`.  The
// exchange's outcome and what the rogue saw.
std::pair<outcome, rogue_log> exchange_with_rogue_listener(mesh& m, node& from, const node& as,
                                                           std::function<void(tls_stream&, rogue_log&)> script) {
    asio::io_context rio;
    asio::ip::tcp::acceptor acc(rio, {asio::ip::make_address("127.0.0.1"), as.port});
    auto fut = std::async(std::launch::async, [&] { return rogue_listener(acc, as.files, script); });
    const outcome o = exchange(m, from, as);
    BOOST_REQUIRE(m.run_until([&] { return fut.wait_for(0ms) == std::future_status::ready; }, 10s));
    return {o, fut.get()};
}

// Runs the test tool weft-test-bnl-push (built beside this test, in
// tools/) with `args`; its output and exit status.
struct tool_run {
    int status = -1;
    std::string out;
};
tool_run run_push_tool(mesh& m, const std::string& args) {
    const fs::path tool = fs::read_symlink("/proc/self/exe").parent_path() / "tools" / "weft-test-bnl-push";
    BOOST_REQUIRE_MESSAGE(fs::exists(tool), "not built: " << tool);
    return m.run_beside([cmd = sh_quote(tool.string()) + " " + args + " 2>&1"] {
        tool_run r;
        FILE* p = ::popen(cmd.c_str(), "r");
        if (!p) return r;
        char buf[4096];
        while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
        int st = ::pclose(p);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return r;
    }, 30s, 100ms);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bnl_exchange)

BOOST_FIXTURE_TEST_CASE(pull_from_a_newer_peer, alpha_beta) {
    m.give_list(a, 3, "list v3 of alpha");
    const std::string newer = random_bytes(70'000, 1);
    m.give_list(b, 7, newer);
    m.start_all();
    watch wa, wb;
    wa.attach(a);
    wb.attach(b);
    BOOST_TEST(exchange(m, a, b) == outcome::received);
    BOOST_REQUIRE(wa.received.size() == 1u);
    BOOST_TEST(wa.received[0].first == b.id);
    BOOST_TEST(wa.received[0].second == newer);  // byte for byte
    BOOST_TEST(wb.received.empty());
    // Both learnt the other's announced version from the node-list HELLOs.
    BOOST_TEST((wa.hellos == std::vector<std::pair<std::uint32_t, std::uint64_t>>{{b.id, 7}}));
    BOOST_TEST((wb.hellos == std::vector<std::pair<std::uint32_t, std::uint64_t>>{{a.id, 3}}));
    BOOST_TEST(a.svc->stats().lists_received == 1u);
    BOOST_TEST(b.svc->stats().lists_served == 1u);
    BOOST_TEST(a.svc->stats().list_exchange_failed + b.svc->stats().list_exchange_failed == 0u);
    BOOST_TEST(a.svc->exchanges_in_flight() == 0u);
    // No negotiation happened, nothing was persisted.
    BOOST_TEST(!a.svc->pair(b.id));
    BOOST_TEST(!b.svc->pair(a.id));
    BOOST_TEST(a.svc->stats().failed + b.svc->stats().failed == 0u);
    BOOST_TEST(contains(a.log_text(), "node list: received 70000 bytes from beta"));
    BOOST_TEST(contains(b.log_text(), "node list: sent version 7 (70000 bytes) to alpha"));
}

BOOST_FIXTURE_TEST_CASE(push_to_an_older_peer, alpha_beta) {
    const std::string newer = random_bytes(1000, 2);
    m.give_list(a, 9, newer);
    m.give_list(b, 4, "old");
    m.start_all();
    watch wa, wb;
    wa.attach(a);
    wb.attach(b);
    BOOST_TEST(exchange(m, a, b) == outcome::sent);
    BOOST_TEST(wa.received.empty());
    BOOST_REQUIRE(wb.received.size() == 1u);
    BOOST_TEST(wb.received[0].first == a.id);
    BOOST_TEST(wb.received[0].second == newer);
    BOOST_TEST(a.svc->stats().lists_served == 1u);
    BOOST_TEST(b.svc->stats().lists_received == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_list_at_the_size_limit_is_moved_whole, alpha_beta) {
    const std::string big = random_bytes(bnl_data_body_limit, 3);
    m.give_list(a, 2, big);
    m.give_list(b, 1, "x");
    m.start_all();
    watch wb;
    wb.attach(b);
    BOOST_TEST(exchange(m, a, b) == outcome::sent);
    BOOST_REQUIRE(wb.received.size() == 1u);
    BOOST_TEST(wb.received[0].second.size() == bnl_data_body_limit);
    BOOST_TEST((wb.received[0].second == big));
}

BOOST_FIXTURE_TEST_CASE(equal_versions_move_nothing, alpha_beta) {
    m.give_list(a, 5, "same");
    m.give_list(b, 5, "same");
    m.start_all();
    watch wa, wb;
    wa.attach(a);
    wb.attach(b);
    BOOST_TEST(exchange(m, a, b) == outcome::equal);
    BOOST_TEST(wa.received.empty());
    BOOST_TEST(wb.received.empty());
    BOOST_TEST(wa.hellos.size() == 1u);
    BOOST_TEST(wb.hellos.size() == 1u);
    for (auto* n : {&a, &b}) {
        BOOST_TEST(n->svc->stats().lists_served == 0u);
        BOOST_TEST(n->svc->stats().lists_received == 0u);
        BOOST_TEST(n->svc->stats().list_exchange_failed == 0u);
    }
}

BOOST_FIXTURE_TEST_CASE(an_answerer_with_nothing_newer_answers_empty, alpha_beta) {
    m.give_list(a, 2, "alpha's");
    m.give_list(b, 6, "beta's v6");
    m.start_all();
    watch wa;
    wa.attach(a);
    // beta announces 6, but its list changes (here: back to 2) between its
    // HELLO and alpha's request: the answer follows what is current.
    b.svc->on_peer_hello = [&](std::uint32_t, std::uint64_t) { m.give_list(b, 2, "beta's v2"); };
    BOOST_TEST(exchange(m, a, b) == outcome::peer_had_nothing);
    BOOST_TEST(wa.received.empty());
    BOOST_TEST(a.svc->stats().lists_received == 0u);
    BOOST_TEST(b.svc->stats().lists_served == 0u);
    BOOST_TEST(contains(a.log_text(), "beta (127.0.0.1:" + std::to_string(b.port) +
                                          ") announced version 6 but had nothing newer than our 2"));
    BOOST_TEST(contains(b.log_text(), "asked for a list newer than 2; we hold 2: answered with nothing"));
}

BOOST_FIXTURE_TEST_CASE(a_node_that_has_no_bytes_to_serve_answers_empty_and_says_so, alpha_beta) {
    m.give_list(a, 1, "a");
    m.give_list(b, 3, "b");
    m.start_all();
    b.svc->bnl_bytes = nullptr;  // the daemon forgot to set it
    BOOST_TEST(exchange(m, a, b) == outcome::peer_had_nothing);
    BOOST_TEST(b.svc->stats().list_exchange_failed == 1u);
    BOOST_TEST(contains(b.log_text(), "hold version 3 but have no list bytes to serve"));
}

BOOST_FIXTURE_TEST_CASE(an_unasked_bnl_data_closes_the_connection_and_delivers_nothing, alpha_beta) {
    m.give_list(a, 5, "alpha's");
    m.start(a);
    watch wa;
    wa.attach(a);
    // Lower version: alpha waits for a request; the rogue pushes instead.
    auto r = node_list_client(m, a, b, 1, [](tls_stream& s, rogue_log& rr) {
        send_msg(s, bnl_data_msg{"take this"});
        rr.error = read_until_close(s);
    });
    BOOST_TEST(r.handshake_ok);
    BOOST_TEST((r.got == std::vector<msg_type>{msg_type::hello}));
    BOOST_REQUIRE(r.error.has_value());
    BOOST_TEST(r.error->code == error_msg_code::bad_message);
    BOOST_TEST(r.error->text == "sent BNL_DATA we did not ask for");
    BOOST_TEST(wa.received.empty());
    BOOST_TEST(a.svc->stats().lists_received == 0u);
    BOOST_TEST(a.svc->stats().lists_served == 0u);
    BOOST_TEST(a.svc->stats().list_exchange_failed == 1u);
    BOOST_TEST(contains(a.log_text(), "node list: with beta (127.0.0.1:"));
    BOOST_TEST(contains(a.log_text(), "): sent BNL_DATA we did not ask for: closed"));
}

BOOST_FIXTURE_TEST_CASE(an_unasked_bnl_data_at_equal_versions_is_never_read, alpha_beta) {
    m.give_list(a, 5, "alpha's");
    m.start(a);
    watch wa;
    wa.attach(a);
    auto r = node_list_client(m, a, b, 5, [](tls_stream& s, rogue_log& rr) {
        send_msg(s, bnl_data_msg{"take this"});
        rr.error = read_until_close(s);
    });
    BOOST_TEST((r.got == std::vector<msg_type>{msg_type::hello}));
    BOOST_TEST(!r.error.has_value());  // closed: nothing to do
    BOOST_TEST(wa.received.empty());
    BOOST_TEST(a.svc->stats().list_exchange_failed == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_second_request_closes_the_connection, alpha_beta) {
    m.give_list(a, 5, "alpha's v5");
    m.start(a);
    watch wa;
    wa.attach(a);
    auto r = node_list_client(m, a, b, 1, [](tls_stream& s, rogue_log& rr) {
        send_msg(s, bnl_request_msg{1});
        auto d = read_msg(s);
        if (d) {
            rr.got.push_back(type_of(*d));
            if (auto* data = std::get_if<bnl_data_msg>(&*d)) rr.data = data->bytes;
        }
        send_msg(s, bnl_request_msg{1});
        rr.error = read_until_close(s);
    });
    BOOST_TEST((r.got == std::vector<msg_type>{msg_type::hello, msg_type::bnl_data}));
    BOOST_TEST(r.data == "alpha's v5");
    BOOST_REQUIRE(r.error.has_value());
    BOOST_TEST(r.error->text == "sent a second BNL_REQUEST");
    BOOST_TEST(wa.received.empty());
    BOOST_TEST(a.svc->stats().lists_served == 1u);
    BOOST_TEST(a.svc->stats().list_exchange_failed == 1u);
    BOOST_TEST(contains(a.log_text(), "): sent a second BNL_REQUEST: closed"));
}

// The side holding the newer list waits for BNL_REQUEST, then for the
// asker to close; each wait ends at list_timeout, and what the asker did
// instead is logged.
BOOST_FIXTURE_TEST_CASE(a_silent_asker_times_out_before_its_request, alpha_beta) {
    a.settings.list_timeout = 1s;
    m.give_list(a, 5, "alpha's v5");
    m.start(a);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = node_list_client(m, a, b, 1, [](tls_stream& s, rogue_log& rr) { rr.error = read_until_close(s); });
    BOOST_TEST((r.got == std::vector<msg_type>{msg_type::hello}));
    BOOST_TEST((std::chrono::steady_clock::now() - t0 >= 900ms));
    BOOST_TEST(a.svc->stats().lists_served == 0u);
    BOOST_TEST(a.svc->stats().list_exchange_failed == 1u);
    BOOST_TEST(contains(a.log_text(), "): reading BNL_REQUEST: timed out"));
}

BOOST_FIXTURE_TEST_CASE(an_asker_that_keeps_the_connection_open_times_out, alpha_beta) {
    a.settings.list_timeout = 1s;
    m.give_list(a, 5, "alpha's v5");
    m.start(a);
    auto r = node_list_client(m, a, b, 1, [](tls_stream& s, rogue_log& rr) {
        send_msg(s, bnl_request_msg{1});
        if (auto d = read_msg(s)) rr.got.push_back(type_of(*d));
        rr.error = read_until_close(s);  // and never closes itself
    });
    BOOST_TEST((r.got == std::vector<msg_type>{msg_type::hello, msg_type::bnl_data}));
    BOOST_TEST(a.svc->stats().lists_served == 1u);
    BOOST_TEST(a.svc->stats().list_exchange_failed == 1u);
    BOOST_TEST(contains(a.log_text(), "): did not close the connection in time: closed"));
}

BOOST_FIXTURE_TEST_CASE(an_invalid_header_after_the_list_is_refused, alpha_beta) {
    m.give_list(a, 5, "alpha's v5");
    m.start(a);
    auto r = node_list_client(m, a, b, 1, [](tls_stream& s, rogue_log& rr) {
        send_msg(s, bnl_request_msg{1});
        if (auto d = read_msg(s)) rr.got.push_back(type_of(*d));
        const std::array<std::uint8_t, msg_header_size> unknown{99, 0, 0, 0, 0};
        boost::system::error_code ec;
        asio::write(s, asio::buffer(unknown), ec);
        rr.error = read_until_close(s);
    });
    BOOST_TEST((r.got == std::vector<msg_type>{msg_type::hello, msg_type::bnl_data}));
    BOOST_REQUIRE(r.error.has_value());
    BOOST_TEST(r.error->code == error_msg_code::bad_message);
    BOOST_TEST(r.error->text == "sent an invalid message after the exchange: message type 99");
    BOOST_TEST(a.svc->stats().list_exchange_failed == 1u);
    BOOST_TEST(contains(a.log_text(), "): sent an invalid message after the exchange: message type 99: closed"));
}

BOOST_FIXTURE_TEST_CASE(a_propose_in_a_node_list_exchange_closes_it, alpha_beta) {
    m.give_list(a, 5, "alpha's");
    m.start(a);
    watch wa;
    wa.attach(a);
    auto r = node_list_client(m, a, b, 1, [](tls_stream& s, rogue_log& rr) {
        send_msg(s, propose_msg{1, {{cipher_id::aes_256_gcm, 1}}, {{compression_id::none, 0, 1}}});
        rr.error = read_until_close(s);
    });
    BOOST_REQUIRE(r.error.has_value());
    BOOST_TEST(r.error->text == "sent PROPOSE in a node-list exchange");
    BOOST_TEST(wa.received.empty());
    BOOST_TEST(!a.svc->pair(b.id));
    BOOST_TEST(!a.svc->in_flight(b.id));
    BOOST_TEST(a.svc->stats().failed == 0u);  // not a negotiation
    BOOST_TEST(a.svc->stats().list_exchange_failed == 1u);
    BOOST_TEST(contains(a.log_text(), "): sent PROPOSE in a node-list exchange: closed"));
}

BOOST_FIXTURE_TEST_CASE(the_side_that_announced_the_newer_list_may_not_ask, alpha_beta) {
    m.give_list(a, 5, "alpha's");
    m.start(a);
    watch wa;
    wa.attach(a);
    // The rogue announces 9: alpha asks; the rogue asks back instead of answering.
    auto r = node_list_client(m, a, b, 9, [](tls_stream& s, rogue_log& rr) {
        if (auto q = read_msg(s)) rr.got.push_back(type_of(*q));
        send_msg(s, bnl_request_msg{9});
        rr.error = read_until_close(s);
    });
    BOOST_TEST((r.got == std::vector<msg_type>{msg_type::hello, msg_type::bnl_request}));
    BOOST_REQUIRE(r.error.has_value());
    BOOST_TEST(r.error->text == "sent BNL_REQUEST although it announced the newer list");
    BOOST_TEST(wa.received.empty());
    BOOST_TEST(a.svc->stats().list_exchange_failed == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_pushed_list_from_an_authenticated_rogue_is_handed_up_unparsed, alpha_beta) {
    m.give_list(a, 5, "alpha's");
    m.start(a);
    watch wa;
    wa.attach(a);
    auto r = node_list_client(m, a, b, 9, [](tls_stream& s, rogue_log& rr) {
        auto q = read_msg(s);
        if (!q) return;
        rr.got.push_back(type_of(*q));
        if (auto* req = std::get_if<bnl_request_msg>(&*q)) rr.data = std::to_string(req->version);
        send_msg(s, bnl_data_msg{std::string("\0garbage\n", 9)});
        rr.error = read_until_close(s);
    });
    BOOST_TEST((r.got == std::vector<msg_type>{msg_type::hello, msg_type::bnl_request}));
    BOOST_TEST(r.data == "5");  // the version alpha holds
    BOOST_TEST(!r.error.has_value());
    BOOST_REQUIRE(wa.received.size() == 1u);
    BOOST_TEST(wa.received[0].first == b.id);
    BOOST_TEST((wa.received[0].second == std::string("\0garbage\n", 9)));
    BOOST_TEST((wa.hellos == std::vector<std::pair<std::uint32_t, std::uint64_t>>{{b.id, 9}}));
}

// A listed node that keeps connecting to announce a newer list is asked for
// it once per list_ask_interval: in between it is answered ERROR busy and
// nothing it sends is read or handed up (each list costs the daemon a
// signature check and a parse).  Every greeting still reaches the daemon,
// another peer is asked meanwhile, and the first is asked again once the
// interval has passed.
BOOST_FIXTURE_TEST_CASE(a_peer_is_asked_for_its_list_once_per_interval, alpha_beta) {
    auto& g = m.add("gamma", 3);
    a.settings.list_ask_interval = 1500ms;
    m.give_list(a, 5, "alpha's");
    m.start(a);
    watch wa;
    wa.attach(a);
    auto announce = [&](const node& as) {
        return node_list_client(m, a, as, 9, [](tls_stream& s, rogue_log& rr) {
            auto q = read_msg(s);
            if (!q) return;
            rr.got.push_back(type_of(*q));
            if (auto* e = std::get_if<error_msg>(&*q)) {
                rr.error = *e;
                return;
            }
            send_msg(s, bnl_data_msg{"list"});
            rr.error = read_until_close(s);
        });
    };
    const auto t0 = std::chrono::steady_clock::now();
    const auto first = announce(b);
    const auto again = announce(b);
    const auto other = announce(g);
    const bool within = std::chrono::steady_clock::now() - t0 < 1500ms;
    std::this_thread::sleep_until(t0 + 1600ms);
    const auto later = announce(b);

    const std::vector<msg_type> asked{msg_type::hello, msg_type::bnl_request};
    BOOST_TEST((first.got == asked));
    BOOST_TEST(!first.error.has_value());
    BOOST_TEST(within);  // else "again" proves nothing
    BOOST_TEST((again.got == std::vector<msg_type>{msg_type::hello, msg_type::error}));
    BOOST_REQUIRE(again.error.has_value());
    BOOST_TEST(again.error->code == error_msg_code::busy);
    BOOST_TEST(again.error->text == "asked you for a node list a moment ago; try later");
    BOOST_TEST((other.got == asked));
    BOOST_TEST((later.got == asked));
    BOOST_TEST((wa.received == std::vector<std::pair<std::uint32_t, std::string>>{
                                   {b.id, "list"}, {g.id, "list"}, {b.id, "list"}}));
    BOOST_TEST(wa.hellos.size() == 4u);
    BOOST_TEST(contains(a.log_text(), "announced version 9 (we hold 5); not asking now: asked it "));
    BOOST_TEST(a.svc->stats().lists_received == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_node_list_hello_claiming_another_id_is_refused, alpha_beta) {
    m.add("gamma", 3);
    m.give_list(a, 5, "alpha's");
    m.start(a);
    watch wa;
    wa.attach(a);
    auto r = m.run_beside([&] {
        return rogue_client(a.port, b.files, [](tls_stream& s, rogue_log& rr) {
            send_msg(s, hello_msg{3, 1, hello_purpose::node_list});
            rr.error = read_until_close(s);
        });
    }, 20s, 100ms);
    BOOST_TEST(r.handshake_ok);
    BOOST_TEST(wa.hellos.empty());
    BOOST_TEST(contains(a.log_text(), "claims node id 3 but its certificate is node beta (id 2)"));
}

BOOST_FIXTURE_TEST_CASE(a_dialled_peer_that_pushes_unasked_is_refused, alpha_beta) {
    m.give_list(a, 5, "alpha's");
    m.start(a);
    watch wa;
    wa.attach(a);
    auto [o, r] = exchange_with_rogue_listener(m, a, b, [&](tls_stream& s, rogue_log& rr) {
        if (auto h = read_msg(s)) rr.got.push_back(type_of(*h));
        send_msg(s, hello_msg{b.id, 1, hello_purpose::node_list});
        send_msg(s, bnl_data_msg{"unasked"});
        rr.error = read_until_close(s);
    });
    BOOST_TEST(o == outcome::failed);
    BOOST_TEST((r.got == std::vector<msg_type>{msg_type::hello}));
    BOOST_TEST(wa.received.empty());
    BOOST_TEST(a.svc->stats().list_exchange_failed == 1u);
    BOOST_TEST(contains(a.log_text(), "node list: with beta (127.0.0.1:" + std::to_string(b.port) +
                                          "): sent BNL_DATA we did not ask for: closed"));
}

BOOST_FIXTURE_TEST_CASE(an_asker_that_resets_instead_of_closing_is_not_counted_as_served, alpha_beta) {
    m.give_list(a, 5, "alpha's v5");
    m.start(a);
    auto [o, r] = exchange_with_rogue_listener(m, a, b, [&](tls_stream& s, rogue_log& rr) {
        if (auto h = read_msg(s)) rr.got.push_back(type_of(*h));
        send_msg(s, hello_msg{b.id, 1, hello_purpose::node_list});
        send_msg(s, bnl_request_msg{1});
        if (auto d = read_msg(s)) {
            rr.got.push_back(type_of(*d));
            if (auto* data = std::get_if<bnl_data_msg>(&*d)) rr.data = data->bytes;
        }
        // An abortive close: RST, not FIN.
        boost::system::error_code ec;
        s.lowest_layer().set_option(asio::socket_base::linger(true, 0), ec);
        s.lowest_layer().close(ec);
    });
    BOOST_TEST(o == outcome::failed);  // was "sent"
    BOOST_TEST((r.got == std::vector<msg_type>{msg_type::hello, msg_type::bnl_data}));
    BOOST_TEST(r.data == "alpha's v5");
    BOOST_TEST(a.svc->stats().list_exchange_failed == 1u);
    BOOST_TEST(contains(a.log_text(), "): reset the connection instead of closing it (the list may not have arrived)"));
}

BOOST_FIXTURE_TEST_CASE(a_peer_that_does_not_serve_node_lists_fails_the_exchange_with_its_reason, alpha_beta) {
    m.give_list(a, 5, "alpha's");
    m.start(a);
    auto [o, r] = exchange_with_rogue_listener(m, a, b, [&](tls_stream& s, rogue_log&) {
        read_msg(s);
        send_msg(s, make_error_msg(error_msg_code::bad_message, "not served\n[forged]"));
        read_until_close(s);
    });
    BOOST_TEST(o == outcome::failed);
    BOOST_TEST(r.handshake_ok);
    BOOST_TEST(contains(a.log_text(), "peer refused: bad message: not served\\x0a[forged]"));
}

BOOST_FIXTURE_TEST_CASE(more_than_the_cap_is_busy_at_once, alpha_beta) {
    a.settings.max_list_exchanges = 2;
    m.give_list(a, 1, "a");
    m.give_list(b, 2, "b");
    m.start_all();
    std::vector<outcome> got;
    auto record = [&](outcome o) { got.push_back(o); };
    a.svc->exchange_bnl(b.id, record);
    a.svc->exchange_bnl(b.id, record);
    BOOST_TEST(got.empty());  // never from within the call, except busy
    BOOST_TEST(a.svc->exchanges_in_flight() == 2u);
    a.svc->exchange_bnl(b.id, record);
    BOOST_TEST((got == std::vector<outcome>{outcome::busy}));
    BOOST_REQUIRE(m.run_until([&] { return got.size() == 3; }));
    BOOST_TEST((got == std::vector<outcome>{outcome::busy, outcome::received, outcome::received}));
    BOOST_TEST(a.svc->exchanges_in_flight() == 0u);
    // Room again.
    BOOST_TEST(exchange(m, a, b) == outcome::received);
}

namespace {
// Resident memory of this process, from /proc/self/status (KiB).
std::size_t rss_kib() {
    std::istringstream in(slurp("/proc/self/status"));
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
    }
    return 0;
}
}  // namespace

// Listed peers that connect to announce a newer list can make alpha read at
// most max_list_exchanges lists at once (the next one is answered ERROR
// busy), and a BNL_DATA that announces the 16 MiB limit but sends 100 bytes
// costs alpha about 100 bytes, not 16 MiB.
BOOST_FIXTURE_TEST_CASE(served_transfers_are_capped_and_their_buffers_grow_with_what_arrives, alpha_beta) {
    a.settings.max_list_exchanges = 2;
    a.settings.list_ask_interval = 0ms;  // every client below is beta
    m.give_list(a, 5, "alpha's");
    m.start(a);
    watch wa;
    wa.attach(a);

    struct outcome_of_client {
        std::vector<msg_type> got;
        std::optional<error_msg> error;
    };
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    // Announces version 9, and when asked sends a BNL_DATA header for the
    // largest body allowed plus 100 bytes of it, then stalls until released.
    auto staller = [&](std::promise<void>& stalled) {
        return rogue_client(a.port, b.files, [&](tls_stream& s, rogue_log& r) {
            send_msg(s, hello_msg{b.id, 9, hello_purpose::node_list});
            for (int i = 0; i < 2; ++i)
                if (auto q = read_msg(s)) r.got.push_back(type_of(*q));
            if (r.got == std::vector<msg_type>{msg_type::hello, msg_type::bnl_request}) {
                std::array<std::uint8_t, msg_header_size + 100> part{};
                const auto header = encode_header(msg_type::bnl_data, static_cast<std::uint32_t>(bnl_data_body_limit));
                std::copy(header.begin(), header.end(), part.begin());
                boost::system::error_code ec;
                asio::write(s, asio::buffer(part), ec);
            }
            stalled.set_value();
            released.wait();
        });
    };
    // Announces version 9 and records what alpha answers after its HELLO.
    auto asker = [&] {
        outcome_of_client o;
        auto r = rogue_client(a.port, b.files, [&](tls_stream& s, rogue_log&) {
            send_msg(s, hello_msg{b.id, 9, hello_purpose::node_list});
            for (int i = 0; i < 2; ++i) {
                auto q = read_msg(s);
                if (!q) break;
                o.got.push_back(type_of(*q));
                if (auto* e = std::get_if<error_msg>(&*q)) o.error = *e;
            }
        });
        BOOST_TEST(r.handshake_ok);
        return o;
    };

    const std::size_t before = rss_kib();
    struct result_set {
        rogue_log s1, s2;
        outcome_of_client third, after;
        long grown_kib = 0;
    };
    auto res = m.run_beside([&] {
        result_set out;
        std::promise<void> stalled1, stalled2;
        auto f1 = std::async(std::launch::async, [&] { return staller(stalled1); });
        auto f2 = std::async(std::launch::async, [&] { return staller(stalled2); });
        stalled1.get_future().wait();
        stalled2.get_future().wait();
        std::this_thread::sleep_for(300ms);  // alpha reads what they sent
        out.grown_kib = static_cast<long>(rss_kib()) - static_cast<long>(before);
        out.third = asker();  // both slots are held
        release.set_value();
        out.s1 = f1.get();
        out.s2 = f2.get();
        // Once alpha has seen both connections end, the slots are free again.
        const auto give_up = std::chrono::steady_clock::now() + 10s;
        do {
            out.after = asker();
        } while (out.after.error && out.after.error->code == error_msg_code::busy &&
                 std::chrono::steady_clock::now() < give_up);
        return out;
    }, 30s, 100ms);

    const std::vector<msg_type> asked{msg_type::hello, msg_type::bnl_request};
    BOOST_TEST((res.s1.got == asked));
    BOOST_TEST((res.s2.got == asked));
    BOOST_TEST(res.grown_kib < 8L * 1024);  // two 16 MiB buffers would be 32 MiB
    BOOST_TEST((res.third.got == std::vector<msg_type>{msg_type::hello, msg_type::error}));
    BOOST_REQUIRE(res.third.error.has_value());
    BOOST_TEST(res.third.error->code == error_msg_code::busy);
    BOOST_TEST(res.third.error->text == "too many node-list transfers; try later");
    BOOST_TEST((res.after.got == asked));
    BOOST_TEST(contains(a.log_text(), "announced version 9 (we hold 5); not asking now: 2 lists already on their way"));
    BOOST_TEST(wa.received.empty());
    // Every HELLO still told the daemon that beta holds version 9.
    BOOST_TEST(wa.hellos.size() >= 4u);
    for (const auto& h : wa.hellos) BOOST_TEST((h == std::pair<std::uint32_t, std::uint64_t>{b.id, 9}));
}

BOOST_FIXTURE_TEST_CASE(a_stopped_peer_fails_at_once, alpha_beta) {
    m.give_list(a, 1, "a");
    m.start(a);  // beta never runs: its port refuses
    auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(exchange(m, a, b) == outcome::failed);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 3s));
    BOOST_TEST(a.svc->stats().list_exchange_failed == 1u);
    BOOST_TEST(contains(a.log_text(), "node list: with beta (127.0.0.1:" + std::to_string(b.port) + "): connect: "));
}

BOOST_AUTO_TEST_CASE(an_unknown_peer_or_this_node_fails_without_dialling) {
    mesh m;
    auto& a = m.add("alpha", 1);
    m.give_list(a, 1, "a");
    m.start(a);
    std::vector<outcome> got;
    a.svc->exchange_bnl(42, [&](outcome o) { got.push_back(o); });
    a.svc->exchange_bnl(a.id, [&](outcome o) { got.push_back(o); });
    BOOST_TEST(got.empty());
    BOOST_REQUIRE(m.run_until([&] { return got.size() == 2; }, 5s));
    BOOST_TEST((got == std::vector<outcome>{outcome::failed, outcome::failed}));
    BOOST_TEST(a.svc->stats().list_exchange_failed == 2u);
    BOOST_TEST(contains(a.log_text(), "node list: with id 42: not in the node list"));
    BOOST_TEST(contains(a.log_text(), "node list: with id 1: this node itself"));
}

BOOST_FIXTURE_TEST_CASE(a_silent_peer_fails_within_the_timeout, alpha_beta) {
    a.settings.list_timeout = 1s;
    m.give_list(a, 1, "a");
    m.start(a);
    // Something holds beta's port and accepts, but never speaks TLS.
    asio::ip::tcp::acceptor hole(m.io, {asio::ip::make_address("127.0.0.1"), b.port});
    asio::ip::tcp::socket held(m.io);
    hole.async_accept(held, [](boost::system::error_code) {});
    auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(exchange(m, a, b, 5s) == outcome::failed);
    auto took = std::chrono::steady_clock::now() - t0;
    BOOST_TEST((took >= 900ms));
    BOOST_TEST((took < 3s));
    BOOST_TEST(contains(a.log_text(), "TLS handshake: timed out"));
}

// The node was re-pinned or removed while we exchange lists with it: the
// daemon's forget() ends the exchange at once, not at its timeout.
BOOST_FIXTURE_TEST_CASE(forget_ends_a_dialled_exchange_with_that_node, alpha_beta) {
    a.settings.list_timeout = 10s;
    m.give_list(a, 1, "a");
    m.start(a);
    asio::io_context rio;
    asio::ip::tcp::acceptor acc(rio, {asio::ip::make_address("127.0.0.1"), b.port});
    std::atomic<bool> hello_seen{false};
    auto fut = std::async(std::launch::async, [&] {
        return rogue_listener(acc, b.files, [&](tls_stream& s, rogue_log& r) {
            if (auto h = read_msg(s)) r.got.push_back(type_of(*h));
            hello_seen = true;
            read_until_close(s);  // silent until alpha closes
        });
    });
    std::optional<outcome> got;
    a.svc->exchange_bnl(b.id, [&](outcome o) { got = o; });
    BOOST_REQUIRE(m.run_until([&] { return hello_seen.load(); }, 5s));
    a.svc->forget(b.id);
    BOOST_TEST(m.run_until([&] { return got.has_value(); }, 3s));  // not left to the 10 s timeout
    BOOST_TEST((got == outcome::failed));
    // (Without forget() closing it, the timeout ends it and frees the rogue.)
    BOOST_REQUIRE(m.run_until([&] { return fut.wait_for(0ms) == std::future_status::ready; }, 15s));
    BOOST_TEST((fut.get().got == std::vector<msg_type>{msg_type::hello}));
}

BOOST_FIXTURE_TEST_CASE(stop_reports_exchanges_in_flight_as_failed, alpha_beta) {
    m.give_list(a, 1, "a");
    m.start(a);
    asio::ip::tcp::acceptor hole(m.io, {asio::ip::make_address("127.0.0.1"), b.port});
    asio::ip::tcp::socket held(m.io);
    hole.async_accept(held, [](boost::system::error_code) {});
    std::vector<outcome> got;
    a.svc->exchange_bnl(b.id, [&](outcome o) { got.push_back(o); });
    m.run_for(100ms);
    BOOST_TEST(got.empty());
    a.svc->stop();
    BOOST_TEST((got == std::vector<outcome>{outcome::failed}));  // reported by stop() itself
    m.run_for(100ms);
    BOOST_TEST(got.size() == 1u);  // and never again
    BOOST_TEST(a.svc->exchanges_in_flight() == 0u);
    a.svc->exchange_bnl(b.id, [&](outcome o) { got.push_back(o); });
    BOOST_TEST((got == std::vector<outcome>{outcome::failed, outcome::failed}));
}

BOOST_AUTO_TEST_CASE(a_negotiation_and_a_node_list_exchange_with_the_same_peer_both_complete) {
    for (int round = 0; round < 3; ++round) {
        mesh m;
        auto& a = m.add("alpha", 1);
        auto& b = m.add("beta", 2);
        const std::string newer = random_bytes(200'000, 4);
        m.give_list(a, 1, "a");
        m.give_list(b, 2, newer);
        m.start_all();
        watch wa;
        wa.attach(a);
        std::optional<outcome> pull, push;
        a.svc->request(b.id);
        a.svc->exchange_bnl(b.id, [&](outcome o) { pull = o; });
        b.svc->exchange_bnl(a.id, [&](outcome o) { push = o; });
        BOOST_REQUIRE(m.run_until([&] { return m.established(a, b) && pull && push; }));
        m.run_for(100ms);
        BOOST_TEST((pull == outcome::received));
        BOOST_TEST((push == outcome::sent));
        BOOST_REQUIRE(wa.received.size() == 2u);
        BOOST_TEST(wa.received[0].second == newer);
        BOOST_TEST(wa.received[1].second == newer);
        BOOST_TEST(a.svc->stats().negotiated == 1u);
        BOOST_TEST(b.svc->stats().negotiated == 1u);
        BOOST_TEST(a.svc->stats().collisions + b.svc->stats().collisions == 0u);
        BOOST_TEST(a.svc->stats().failed + b.svc->stats().failed == 0u);
        BOOST_TEST(!a.svc->in_flight(b.id));
        BOOST_TEST(!b.svc->in_flight(a.id));
    }
}

BOOST_FIXTURE_TEST_CASE(the_push_tool_pushes_what_it_is_given_and_reports_what_the_peer_did, alpha_beta) {
    a.settings.list_timeout = 1s;
    a.settings.list_ask_interval = 0ms;  // --count 2 pushes twice at once
    m.give_list(a, 5, "alpha's");
    m.start(a);
    watch wa;
    wa.attach(a);
    const fs::path data = m.tmp.path / "list.bin";
    std::ofstream(data, std::ios::binary) << "not a list\n";
    const std::string common = "--cert " + sh_quote(b.files.cert.string()) + " --key " +
                               sh_quote(b.files.key.string()) + " --ca " + sh_quote(b.files.ca.string()) +
                               " --id 2 --to 127.0.0.1:" + std::to_string(a.port) + " --peer-name alpha";

    auto r = run_push_tool(m, common + " --claim-version 9 --count 2 --data " + sh_quote(data.string()));
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.out == "exchange 1: hello version 5; asked (holds 5); sent 11 bytes; closed\n"
                        "exchange 2: hello version 5; asked (holds 5); sent 11 bytes; closed\n");
    BOOST_REQUIRE(wa.received.size() == 2u);
    BOOST_TEST(wa.received[1].second == "not a list\n");

    r = run_push_tool(m, common + " --claim-version 9 --count 3 --data /nonexistent --garbage");
    BOOST_TEST(r.status == 0);
    BOOST_TEST(wa.received.size() == 5u);
    BOOST_TEST(contains(r.out, "exchange 3: hello version 5; asked (holds 5); sent "));

    // Equal: alpha closes at once; lower: alpha waits for a request that
    // never comes, until its list_timeout.
    r = run_push_tool(m, common + " --claim-version 5 --data " + sh_quote(data.string()));
    BOOST_TEST(r.status == 0);
    BOOST_TEST(contains(r.out, "exchange 1: hello version 5; closed without asking"));
    r = run_push_tool(m, common + " --claim-version 1 --data " + sh_quote(data.string()));
    BOOST_TEST(r.status == 0);
    BOOST_TEST(contains(r.out, "exchange 1: hello version 5; closed without asking"));
    BOOST_TEST(wa.received.size() == 5u);

    // Not the node it meant to reach: exit 1.
    r = run_push_tool(m, sh_quote("--peer-name") + " gamma " + common.substr(0, common.find(" --peer-name")) +
                             " --claim-version 9 --garbage");
    BOOST_TEST(r.status == 1);
    BOOST_TEST(contains(r.out, "peer is alpha, not gamma"));
    r = run_push_tool(m, "--help");
    BOOST_TEST(r.status == 0);
    BOOST_TEST(contains(r.out, "usage: weft-test-bnl-push"));
    r = run_push_tool(m, common + " --claim-version 9");
    BOOST_TEST(r.status == 2);
}

BOOST_AUTO_TEST_SUITE_END()
