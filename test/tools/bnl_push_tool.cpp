// weft-test-bnl-push: a misbehaving but authenticated node for the
// integration tests.  It dials a node for node-list exchanges
// (src/wire/NEGOTIATION.md, "Node-list exchange"), announces whatever
// version it is told to, and answers the peer's BNL_REQUEST with whatever
// bytes it is given, without checking any of them: the receiving daemon must.
// Not installed.
//
// Exit codes: 0 every connection completed the TLS handshake (and the peer
// was the node named); 1 at least one did not; 2 usage or setup error.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "base/hex.hpp"
#include "io/message_stream.hpp"
#include "io/tls.hpp"
#include "wire/negotiation.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

const char* usage_text =
    "usage: weft-test-bnl-push --cert C --key K --ca CA --id ID --to HOST:PORT --peer-name NAME\n"
    "                          --claim-version N --data FILE [--count K] [--garbage] [--timeout S]\n"
    "\n"
    "Dials HOST:PORT K times (default 1, one connection each), TLS 1.3 with certificate C and\n"
    "key K, requires the peer's certificate to verify against CA with common name NAME, sends\n"
    "HELLO(ID, N, node list), and answers the peer's BNL_REQUEST with BNL_DATA carrying FILE's\n"
    "bytes as they are (any size: nothing is checked), or with --garbage (FILE is then not\n"
    "read, and may be omitted) a random byte string of random length (1..65536) per connection.\n"
    "Prints one line per exchange: the peer's HELLO version, then whether it asked, closed, or\n"
    "sent ERROR (its text escaped).  Each connection is given S seconds (default 30).\n"
    "\n"
    "Exit: 0 every connection completed the TLS handshake with NAME; 1 otherwise; 2 usage error.\n";

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct options {
    weft::io::tls_files files;
    std::uint32_t id = 0;
    std::string host;
    std::string port;
    std::string peer_name;
    std::uint64_t claim_version = 0;
    std::optional<std::filesystem::path> data;
    unsigned count = 1;
    bool garbage = false;
    std::chrono::seconds timeout{30};
};

template <class U>
U parse_number(std::string_view flag, std::string_view text) {
    U v{};
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size())
        throw usage_error(std::string(flag) + ": not a number in range: " + std::string(text));
    return v;
}

options parse(int argc, char** argv) {
    options o;
    bool have_cert = false, have_key = false, have_ca = false, have_id = false, have_to = false,
         have_name = false, have_version = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") throw usage_error("");
        if (flag == "--garbage") {
            o.garbage = true;
            continue;
        }
        if (i + 1 >= argc) throw usage_error(std::string(flag) + " needs a value");
        std::string_view value = argv[++i];
        if (flag == "--cert") {
            o.files.cert = value;
            have_cert = true;
        } else if (flag == "--key") {
            o.files.key = value;
            have_key = true;
        } else if (flag == "--ca") {
            o.files.ca = value;
            have_ca = true;
        } else if (flag == "--id") {
            o.id = parse_number<std::uint32_t>(flag, value);
            have_id = true;
        } else if (flag == "--to") {
            auto colon = value.rfind(':');
            if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size())
                throw usage_error("--to: expected HOST:PORT, got " + std::string(value));
            std::string_view host = value.substr(0, colon);
            if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
            o.host = std::string(host);
            o.port = std::to_string(parse_number<std::uint16_t>(flag, value.substr(colon + 1)));
            have_to = true;
        } else if (flag == "--peer-name") {
            o.peer_name = value;
            have_name = true;
        } else if (flag == "--claim-version") {
            o.claim_version = parse_number<std::uint64_t>(flag, value);
            have_version = true;
        } else if (flag == "--data") {
            o.data = std::filesystem::path(value);
        } else if (flag == "--count") {
            o.count = parse_number<unsigned>(flag, value);
            if (o.count == 0) throw usage_error("--count: at least 1");
        } else if (flag == "--timeout") {
            o.timeout = std::chrono::seconds(parse_number<unsigned>(flag, value));
            if (o.timeout.count() == 0) throw usage_error("--timeout: at least 1");
        } else {
            throw usage_error("unknown option " + std::string(flag));
        }
    }
    if (!have_cert || !have_key || !have_ca || !have_id || !have_to || !have_name || !have_version)
        throw usage_error("--cert, --key, --ca, --id, --to, --peer-name and --claim-version are required");
    if (!o.data && !o.garbage) throw usage_error("--data FILE (or --garbage) is required");
    return o;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw usage_error("cannot open " + p.string());
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw usage_error("cannot read " + p.string());
    return s;
}

using tls_stream = asio::ssl::stream<tcp::socket>;

// One message, decoded strictly; an error text (EOF included) otherwise.
awaitable<weft::result<weft::message, std::string>> read_message(tls_stream& s) {
    auto m = co_await weft::io::read_one_message(s);
    if (!m) {
        if (m.error().transport) co_return weft::unexpected{std::move(m).error().text};
        co_return weft::unexpected{"invalid message: " + m.error().text};
    }
    co_return std::move(m).value();
}

// BNL_DATA framed by hand, so any size the header can state goes out as is.
awaitable<bool> write_bnl_data(tls_stream& s, const std::string& bytes) {
    const auto header = weft::encode_header(weft::msg_type::bnl_data, static_cast<std::uint32_t>(bytes.size()));
    std::array<asio::const_buffer, 2> buffers{asio::buffer(header), asio::buffer(bytes)};
    auto [ec, n] = co_await asio::async_write(s, buffers, use_tuple);
    co_return !ec;
}

std::string describe(const weft::message& m) {
    if (const auto* e = std::get_if<weft::error_msg>(&m))
        return std::string("sent ERROR ") + weft::to_string(e->code) + ": " + weft::printable(e->text);
    return std::string("sent ") + weft::to_string(weft::type_of(m));
}

struct exchange_result {
    bool handshake_ok = false;
    std::string line;
};

awaitable<void> run_exchange(tls_stream& s, const options& o, const std::string& payload, exchange_result& r) {
    tcp::resolver resolver(s.get_executor());
    auto [rec, endpoints] = co_await resolver.async_resolve(o.host, o.port, use_tuple);
    if (rec) {
        r.line = "cannot resolve " + o.host + ": " + rec.message();
        co_return;
    }
    auto [cec, ep] = co_await asio::async_connect(s.lowest_layer(), endpoints, use_tuple);
    if (cec) {
        r.line = "connect: " + cec.message();
        co_return;
    }
    weft::io::prepare_connection(s.native_handle(), weft::io::tls_role::dialler);
    auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (hec) {
        std::string v = weft::io::verify_failure(s.native_handle());
        r.line = "TLS handshake: " + (v.empty() ? hec.message() : v);
        co_return;
    }
    auto peer = weft::io::verified_peer(s.native_handle());
    if (!peer) {
        r.line = "peer certificate: " + peer.error();
        co_return;
    }
    if (peer->common_name != o.peer_name) {
        r.line = "peer is " + weft::printable(peer->common_name) + ", not " + o.peer_name;
        co_return;
    }
    r.handshake_ok = true;

    auto hello = weft::encode(weft::hello_msg{o.id, o.claim_version, weft::hello_purpose::node_list});
    if (auto [ec, n] = co_await asio::async_write(s, asio::buffer(hello), use_tuple); ec) {
        r.line = "cannot send HELLO: " + ec.message();
        co_return;
    }
    auto m = co_await read_message(s);
    if (!m) {
        r.line = "closed before HELLO (" + m.error() + ")";
        co_return;
    }
    const auto* their_hello = std::get_if<weft::hello_msg>(&*m);
    if (!their_hello) {
        r.line = describe(*m) + " instead of HELLO";
        co_return;
    }
    r.line = "hello version " + std::to_string(their_hello->bnl_version) + "; ";
    m = co_await read_message(s);
    if (!m) {
        r.line += "closed without asking (" + m.error() + ")";
        co_return;
    }
    const auto* request = std::get_if<weft::bnl_request_msg>(&*m);
    if (!request) {
        r.line += describe(*m) + " instead of asking";
        co_return;
    }
    r.line += "asked (holds " + std::to_string(request->version) + "); ";
    if (!co_await write_bnl_data(s, payload)) {
        r.line += "sending " + std::to_string(payload.size()) + " bytes failed";
        co_return;
    }
    r.line += "sent " + std::to_string(payload.size()) + " bytes; ";
    // The asker closes once it has the list; anything else is reported.
    m = co_await read_message(s);
    r.line += m ? describe(*m) : "closed";
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    try {
        o = parse(argc, argv);
    } catch (const usage_error& e) {
        const bool help = std::string_view(e.what()).empty();
        if (!help) std::cerr << "weft-test-bnl-push: " << e.what() << "\n";
        (help ? std::cout : std::cerr) << usage_text;
        return help ? 0 : 2;
    }
    try {
        auto tls = weft::io::tls_context::load(o.files);
        if (!tls) {
            std::cerr << "weft-test-bnl-push: " << tls.error() << "\n";
            return 2;
        }
        const std::string data = o.data && !o.garbage ? read_file(*o.data) : std::string();
        if (data.size() > std::numeric_limits<std::uint32_t>::max())
            throw usage_error("--data: over 4 GiB, more than a message header can state");
        std::mt19937 rng(std::random_device{}());
        std::uniform_int_distribution<std::size_t> length(1, 65536);
        bool all_ok = true;
        for (unsigned i = 1; i <= o.count; ++i) {
            std::string payload = data;
            if (o.garbage) {
                payload.resize(length(rng));
                for (auto& ch : payload) ch = static_cast<char>(rng() & 0xffu);
            }
            asio::io_context io;
            tls_stream s(io, (*tls)->native());
            exchange_result r;
            bool timed_out = false;
            asio::steady_timer limit(io, o.timeout);
            limit.async_wait([&](boost::system::error_code ec) {
                if (ec) return;  // cancelled: the exchange ended in time
                timed_out = true;
                boost::system::error_code ignored;
                s.lowest_layer().close(ignored);
            });
            asio::co_spawn(io, run_exchange(s, o, payload, r), [&](std::exception_ptr e) {
                limit.cancel();
                if (!e) return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    r.line += std::string("internal error: ") + ex.what();
                }
            });
            io.run();
            if (timed_out) r.line += " (timed out after " + std::to_string(o.timeout.count()) + " s)";
            std::cout << "exchange " << i << ": " << r.line << std::endl;
            all_ok = all_ok && r.handshake_ok;
        }
        return all_ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "weft-test-bnl-push: " << e.what() << "\n";
        return 2;
    }
}
