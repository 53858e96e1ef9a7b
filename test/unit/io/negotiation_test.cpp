// The negotiation service end to end over loopback: real certificates from
// pki/weft-ca, real TLS 1.3, real state files.  Attacks come from a "rogue"
// client on its own thread that speaks raw TLS.
#include <openssl/ssl.h>

#include <atomic>
#include <future>
#include <thread>

#include "base/endian.hpp"
#include "mesh_fixture.hpp"
#include "wire/negotiation.hpp"

namespace {

using namespace weft;
using namespace weft::test;
using namespace std::chrono_literals;

struct rogue_result {
    bool connected = false;
    bool handshake_ok = false;
    bool peer_closed = false;  // the server ended the connection
    std::string error;
};

// Connects to 127.0.0.1:port with the given certificate (or none), TLS
// between min and max version, then runs `script` on the stream.
rogue_result rogue(std::uint16_t port, const std::optional<io::tls_files>& files, int max_version,
                   std::function<void(asio::ssl::stream<asio::ip::tcp::socket>&, rogue_result&)> script) {
    rogue_result r;
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
    ctx.set_verify_mode(asio::ssl::verify_none);
    if (files) {
        ctx.use_certificate_chain_file(files->cert.string());
        ctx.use_private_key_file(files->key.string(), asio::ssl::context::pem);
    }
    asio::ssl::stream<asio::ip::tcp::socket> s(io, ctx);
    boost::system::error_code ec;
    s.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) {
        r.error = ec.message();
        return r;
    }
    r.connected = true;
    s.handshake(asio::ssl::stream_base::client, ec);
    if (ec) {
        r.error = ec.message();
        return r;
    }
    // TLS 1.3: the server's verdict on our certificate arrives after the
    // client's handshake completes; a read tells whether it kept us.
    r.handshake_ok = true;
    script(s, r);
    return r;
}

// Waits for the server to close (or the read to fail).
void expect_close(asio::ssl::stream<asio::ip::tcp::socket>& s, rogue_result& r) {
    std::array<char, 512> buf{};
    boost::system::error_code ec;
    for (int i = 0; i < 100 && !ec; ++i) s.read_some(asio::buffer(buf), ec);
    r.peer_closed = static_cast<bool>(ec);
}

void send_raw(asio::ssl::stream<asio::ip::tcp::socket>& s, const std::vector<std::uint8_t>& bytes) {
    boost::system::error_code ec;
    asio::write(s, asio::buffer(bytes), ec);
}

template <class A, class B>
bool same(const A& a, const B& b) {
    auto x = a.span();
    auto y = b.span();
    return std::equal(x.begin(), x.end(), y.begin(), y.end());
}

// Negotiates with `target` as `as` (its certificate) up to the point where
// `target` has persisted the new epoch and sent CONFIRM, then vanishes
// without confirming.  True when `target`'s CONFIRM arrived.
bool persist_and_vanish(mesh& m, const node& target, const node& as) {
    auto r = m.run_beside([&] {
        return rogue(target.port, as.files, TLS1_3_VERSION, [&](auto& s, rogue_result& rr) {
            send_raw(s, encode(hello_msg{as.id, 1, hello_purpose::negotiate}));
            send_raw(s, encode(propose_msg{1, {{cipher_id::aes_256_gcm, 1}}, {{compression_id::none, 0, 1}}}));
            for (int seen = 0; seen < 3;) {  // HELLO, PROPOSE, then CONFIRM
                std::array<std::uint8_t, msg_header_size> hdr{};
                boost::system::error_code ec;
                asio::read(s, asio::buffer(hdr), ec);
                if (ec) return;
                auto h = decode_header(hdr);
                if (!h) return;
                std::vector<std::uint8_t> body(h->length);
                asio::read(s, asio::buffer(body), ec);
                if (ec) return;
                if (++seen == 3) rr.peer_closed = h->type == msg_type::confirm;
            }
        });
    });
    return r.peer_closed;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(negotiation_service)

BOOST_FIXTURE_TEST_CASE(two_nodes_agree_on_algorithms_and_mirrored_keys, alpha_beta) {
    m.start_all();
    a.svc->request(b.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    const auto& ka = *a.svc->pair(b.id)->current;
    const auto& kb = *b.svc->pair(a.id)->current;
    // Defaults on both sides: aes-256-gcm 10+10 beats chacha 8+8; none 5+5 beats lz4 3+3.
    BOOST_TEST(ka.cipher == 1);
    BOOST_TEST(ka.compression == 0);
    BOOST_TEST(ka.epoch == 1u);
    BOOST_TEST(ka.tx_key.size() == 32u);
    BOOST_TEST(same(ka.tx_key, kb.rx_key));
    BOOST_TEST(same(ka.rx_key, kb.tx_key));
    BOOST_TEST(same(ka.tx_salt, kb.rx_salt));
    BOOST_TEST(!same(ka.tx_key, ka.rx_key));
    BOOST_TEST(a.svc->stats().negotiated == 1u);
    BOOST_TEST(b.svc->stats().negotiated == 1u);
    // Persisted, 0600 in a 0700 directory.
    auto mode = [](const fs::path& p) { return static_cast<unsigned>(fs::status(p).permissions()) & 0777u; };
    BOOST_TEST(mode(a.store->state_path(b.id)) == 0600u);
    BOOST_TEST(mode(a.state_dir) == 0700u);
    BOOST_TEST(contains(a.log_text(), "negotiation: with beta: epoch 1, aes-256-gcm, compression none level 0"));
}

BOOST_AUTO_TEST_CASE(preference_tables_decide_the_same_way_on_both_sides) {
    struct table {
        const char *a_ciphers, *a_comp, *b_ciphers, *b_comp;
        int cipher, compression, level;
    };
    const table tables[] = {
        // chacha 8+10=18 beats aes-256 10+1=11; lz4 3+9=12 beats none 5+1=6; level max(1,4)
        {"aes-256-gcm:10 chacha20-poly1305:8 aes-128-gcm:5", "none:0:5 lz4:1:3 zlib:6:1",
         "chacha20-poly1305:10 aes-256-gcm:1", "lz4:4:9 none:0:1", 3, 1, 4},
        // only aes-128 in common; zlib only, level max(2,9)
        {"aes-128-gcm:1 aes-256-gcm:9", "zlib:2:1", "aes-128-gcm:3 chacha20-poly1305:9", "zlib:9:1 lz4:1:7", 2, 2, 9},
        // tie 10+10 == 10+10: the fixed order puts aes-256-gcm before chacha20
        {"chacha20-poly1305:10 aes-256-gcm:10", "none:0:1", "aes-256-gcm:10 chacha20-poly1305:10", "none:0:1", 1, 0, 0},
    };
    for (const auto& t : tables) {
        mesh m;
        auto& a = m.add("alpha", 1);
        auto& b = m.add("beta", 2);
        a.settings.prefs = parse_prefs(t.a_ciphers, t.a_comp).value();
        b.settings.prefs = parse_prefs(t.b_ciphers, t.b_comp).value();
        m.start_all();
        b.svc->request(a.id);
        BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
        for (const auto* n : {&a, &b}) {
            const auto& k = *n->svc->pair(n == &a ? b.id : a.id)->current;
            BOOST_TEST(k.cipher == t.cipher);
            BOOST_TEST(k.compression == t.compression);
            BOOST_TEST(k.level == t.level);
        }
    }
}

BOOST_FIXTURE_TEST_CASE(per_peer_override_applies_to_that_peer_only, alpha_beta) {
    auto& c = m.add("gamma", 3);
    a.settings.peer_prefs["beta"] = parse_prefs("chacha20-poly1305:10", "none:0:1").value();
    m.start_all();
    a.svc->request(b.id);
    a.svc->request(c.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b) && m.established(a, c); }));
    BOOST_TEST(a.svc->pair(b.id)->current->cipher == 3);
    BOOST_TEST(a.svc->pair(c.id)->current->cipher == 1);
}

BOOST_FIXTURE_TEST_CASE(three_nodes_negotiate_every_pair_and_keys_differ_per_pair, alpha_beta) {
    auto& c = m.add("gamma", 3);
    m.start_all();
    for (auto* n : {&a, &b, &c}) n->svc->request_missing(200ms);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b) && m.established(a, c) && m.established(b, c); }));
    const auto& ab = *a.svc->pair(b.id)->current;
    const auto& ac = *a.svc->pair(c.id)->current;
    BOOST_TEST(!same(ab.tx_key, ac.tx_key));
    BOOST_TEST(same(c.svc->pair(b.id)->current->tx_key, b.svc->pair(c.id)->current->rx_key));
}

BOOST_AUTO_TEST_CASE(simultaneous_negotiations_converge_to_one_result) {
    for (int round = 0; round < 5; ++round) {
        mesh m;
        auto& a = m.add("alpha", 1);
        auto& b = m.add("beta", 2);
        m.start_all();
        a.svc->request(b.id);
        b.svc->request(a.id);
        BOOST_REQUIRE(m.run_until([&] { return m.established(a, b) && !a.svc->in_flight(b.id) && !b.svc->in_flight(a.id); }));
        m.run_for(200ms);
        const auto& ka = *a.svc->pair(b.id)->current;
        const auto& kb = *b.svc->pair(a.id)->current;
        BOOST_TEST(ka.epoch == kb.epoch);
        BOOST_TEST(same(ka.tx_key, kb.rx_key));
        BOOST_TEST(same(ka.rx_key, kb.tx_key));
        BOOST_TEST(a.svc->stats().collisions + b.svc->stats().collisions >= 1u);
    }
}

BOOST_FIXTURE_TEST_CASE(state_survives_a_restart_with_the_same_keys_and_counters, alpha_beta) {
    m.start_all();
    a.svc->request(b.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    // The data plane reserves counters ahead of use; emulate a reservation.
    pair_state st = a.svc->pair(b.id)->clone();
    st.current->tx_reserved = 3u << 20;
    BOOST_REQUIRE(!a.store->save(st));
    auto before = st.clone();
    m.stop(a);
    m.start(a);
    const pair_state* again = a.svc->pair(b.id);
    BOOST_REQUIRE(again);
    BOOST_TEST(same(again->current->tx_key, before.current->tx_key));
    BOOST_TEST(same(again->current->rx_key, before.current->rx_key));
    BOOST_TEST(again->current->tx_reserved == 3u << 20);
    BOOST_TEST(again->current->epoch == before.current->epoch);
    BOOST_TEST(a.svc->stats().negotiated == 0u);  // nothing renegotiated
    // The next negotiation takes a higher epoch.
    a.svc->request(b.id);
    BOOST_REQUIRE(m.run_until([&] { return a.svc->pair(b.id)->current->epoch == 2u && m.established(a, b); }));
    BOOST_TEST(a.svc->pair(b.id)->previous->epoch == 1u);
}

BOOST_FIXTURE_TEST_CASE(corrupt_state_is_reported_and_the_pair_renegotiates, alpha_beta) {
    m.start_all();
    a.svc->request(b.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    fs::path file = a.store->state_path(b.id);
    m.stop(a);
    {
        std::string bytes = slurp(file);
        bytes[bytes.size() / 2] ^= 0x40;
        std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
    }
    m.start(a);
    BOOST_TEST(!a.svc->pair(b.id));
    BOOST_TEST(contains(a.log_text(), "not used (corrupt)"));
    a.svc->request(b.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    BOOST_TEST(a.svc->pair(b.id)->current->epoch == 2u);  // beta remembered epoch 1
}

BOOST_FIXTURE_TEST_CASE(rekey_before_expiry_keeps_the_previous_epoch_for_the_grace_period, alpha_beta) {
    a.settings.rekey_after = 2s;  // rekeys at 90 %: 1.8 s
    a.settings.rekey_grace = 30s;
    m.start_all();
    a.svc->request(b.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    BOOST_REQUIRE(m.run_until([&] { return a.svc->pair(b.id)->current->epoch >= 2u && m.established(a, b); }, 10s));
    const auto* pa = a.svc->pair(b.id);
    const auto* pb = b.svc->pair(a.id);
    BOOST_TEST(pa->previous.has_value());
    BOOST_TEST(pa->previous->epoch + 1 == pa->current->epoch);
    BOOST_TEST(pb->previous.has_value());
    BOOST_TEST(pa->previous->valid_until > 0);
    BOOST_TEST(same(pa->previous->tx_key, pb->previous->rx_key));
    BOOST_TEST(contains(a.log_text(), "rekeying"));
}

BOOST_FIXTURE_TEST_CASE(rekey_after_a_message_count, alpha_beta) {
    a.settings.rekey_messages = 1000;
    m.start_all();
    a.svc->request(b.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    a.svc->note_sent(b.id, 899);  // below 90 %: nothing
    m.run_for(300ms);
    BOOST_TEST(a.svc->pair(b.id)->current->epoch == 1u);
    a.svc->note_sent(b.id, 900);
    BOOST_REQUIRE(m.run_until([&] { return a.svc->pair(b.id)->current->epoch == 2u && m.established(a, b); }));
}

// ---- refusals, each with its reason

BOOST_AUTO_TEST_CASE(refuses_a_certificate_from_another_ca) {
    mesh m;
    auto& a = m.add("alpha", 1);
    m.add("beta", 2);
    m.start(a);
    auto evil = m.certs.issue("beta", "", true);
    auto r = m.run_beside([&] { return rogue(a.port, evil, TLS1_3_VERSION, expect_close); });
    m.run_for(100ms);
    BOOST_TEST(!a.svc->pair(2));
    BOOST_TEST(a.svc->stats().refused_peer >= 1u);
    BOOST_TEST(contains(a.log_text(), "refused"));
    BOOST_TEST(contains(a.log_text(), "unable to get local issuer certificate"));
}

BOOST_AUTO_TEST_CASE(refuses_a_common_name_not_in_the_list) {
    mesh m;
    auto& a = m.add("alpha", 1);
    m.start(a);
    auto mallory = m.certs.issue("mallory");
    auto r = m.run_beside([&] { return rogue(a.port, mallory, TLS1_3_VERSION, expect_close); });
    m.run_for(100ms);
    BOOST_TEST(r.peer_closed);
    BOOST_TEST(contains(a.log_text(), "common name is not a node of the node list: CN mallory"));
}

BOOST_FIXTURE_TEST_CASE(refuses_a_hello_claiming_another_node_id, alpha_beta) {
    m.add("gamma", 3);
    m.start(a);
    auto r = m.run_beside([&] {
        return rogue(a.port, b.files, TLS1_3_VERSION, [](auto& s, rogue_result& rr) {
            send_raw(s, encode(hello_msg{3, 1, hello_purpose::negotiate}));
            expect_close(s, rr);
        });
    });
    m.run_for(100ms);
    BOOST_TEST(r.peer_closed);
    BOOST_TEST(!a.svc->pair(2));
    BOOST_TEST(!a.svc->pair(3));
    BOOST_TEST(contains(a.log_text(), "claims node id 3 but its certificate is node beta (id 2)"));
}

BOOST_AUTO_TEST_CASE(require_ou_refuses_other_units_and_accepts_its_own) {
    mesh m;
    auto& a = m.add("alpha", 1, m.certs.issue("alpha", "--ou mesh"));
    auto& b = m.add("beta", 2, m.certs.issue("beta", "--ou office"));
    auto& c = m.add("gamma", 3, m.certs.issue("gamma", "--ou mesh"));
    a.settings.require_ou = "mesh";
    m.start_all();
    b.svc->request(a.id);
    c.svc->request(a.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, c); }));
    m.run_until([&] { return a.svc->stats().refused_peer >= 1; }, 5s);
    BOOST_TEST(!a.svc->pair(b.id));
    BOOST_TEST(contains(a.log_text(), "organisational unit does not match require-ou: node beta has OU 'office', required 'mesh'"));
}

BOOST_FIXTURE_TEST_CASE(pin_in_the_list_must_match_the_certificate, alpha_beta) {
    auto& c = m.add("gamma", 3);
    auto other = m.certs.issue("other");
    bnl_list l = m.list;
    l.nodes[1].pin = parse_pin(m.certs.fingerprint(other.cert));   // beta pinned to another cert
    l.nodes[2].pin = parse_pin(m.certs.fingerprint(c.files.cert)); // gamma pinned correctly
    m.set_list(l);
    m.start_all();
    b.svc->request(a.id);
    c.svc->request(a.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, c); }));
    m.run_until([&] { return a.svc->stats().refused_peer >= 1; }, 5s);
    BOOST_TEST(!a.svc->pair(b.id));
    BOOST_TEST(contains(a.log_text(), "certificate does not match the node list's pin: node beta"));
    // The dialler checks the listener's pin too.
    a.svc->request(b.id);
    m.run_until([&] { return a.svc->stats().refused_peer >= 2; }, 5s);
    BOOST_TEST(!a.svc->pair(b.id));
}

BOOST_AUTO_TEST_CASE(refuses_an_expired_certificate) {
    mesh m;
    auto& a = m.add("alpha", 1);
    auto expired = m.certs.issue("beta", "--not-before 20200101000000Z --not-after 20210101000000Z");
    m.add("beta", 2, expired);
    m.start(a);
    auto r = m.run_beside([&] { return rogue(a.port, expired, TLS1_3_VERSION, expect_close); });
    m.run_for(100ms);
    BOOST_TEST(!a.svc->pair(2));
    BOOST_TEST(contains(a.log_text(), "certificate has expired"));
}

BOOST_FIXTURE_TEST_CASE(refuses_a_tls_1_2_client, alpha_beta) {
    m.start(a);
    auto r = m.run_beside([&] { return rogue(a.port, b.files, TLS1_2_VERSION, expect_close); });
    m.run_for(100ms);
    BOOST_TEST(r.connected);
    BOOST_TEST(!r.handshake_ok);
    BOOST_TEST(contains(a.log_text(), "unsupported protocol"));
}

BOOST_FIXTURE_TEST_CASE(no_common_cipher_fails_with_both_lists_in_the_log, alpha_beta) {
    a.settings.prefs = parse_prefs("aes-128-gcm:5", "none:0:1").value();
    b.settings.prefs = parse_prefs("chacha20-poly1305:5", "none:0:1").value();
    m.start_all();
    b.svc->request(a.id);
    BOOST_REQUIRE(m.run_until([&] { return a.svc->stats().failed >= 1 && b.svc->stats().failed >= 1; }));
    BOOST_TEST(!a.svc->pair(b.id));
    BOOST_TEST(!b.svc->pair(a.id));
    BOOST_TEST(contains(a.log_text(), "no common cipher"));
    BOOST_TEST(contains(a.log_text(), "aes-128-gcm"));
    BOOST_TEST(contains(a.log_text(), "chacha20-poly1305"));
    BOOST_TEST(contains(b.log_text(), "no common cipher"));
}

// Alpha persists epoch 1 with a peer that then vanishes before CONFIRM.
// The next negotiation must not use epoch 1 again: the same number under
// other keys would meet the keys alpha already accepted for it.
BOOST_FIXTURE_TEST_CASE(an_epoch_persisted_by_a_failed_negotiation_is_never_reused, alpha_beta) {
    m.start(a);
    BOOST_REQUIRE(persist_and_vanish(m, a, b));  // alpha has saved epoch 1
    BOOST_REQUIRE(m.run_until([&] { return a.svc->stats().failed >= 1; }));
    BOOST_TEST(!a.svc->pair(b.id));
    m.start(b);
    b.svc->request(a.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    BOOST_TEST(a.svc->pair(b.id)->current->epoch == 2u);
    BOOST_TEST(b.svc->pair(a.id)->current->epoch == 2u);
}

// The same, with a crash in between: a save of the older pair after the
// failed negotiation (a counter reservation, the clean-stop mark) must not
// lower the highest epoch on disk, or the restarted node would propose the
// persisted epoch again.
BOOST_FIXTURE_TEST_CASE(a_later_save_keeps_the_persisted_epoch_across_a_restart, alpha_beta) {
    m.start_all();
    a.svc->request(b.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    BOOST_REQUIRE(persist_and_vanish(m, a, b));  // alpha has saved epoch 2
    BOOST_REQUIRE(m.run_until([&] { return a.svc->stats().failed >= 1; }));
    BOOST_REQUIRE(a.svc->pair(b.id)->current->epoch == 1u);
    BOOST_REQUIRE(!a.svc->update(b.id, [](pair_state&) {}));  // the older pair saved again
    m.stop(a);
    m.start(a);
    BOOST_TEST(a.svc->pair(b.id)->highest_epoch == 2u);
    a.svc->request(b.id);
    BOOST_REQUIRE(m.run_until([&] { return a.svc->pair(b.id)->current->epoch > 1u && m.established(a, b); }));
    BOOST_TEST(a.svc->pair(b.id)->current->epoch == 3u);
}

// A connection that passed TLS under one list and sends its HELLO only after
// the list re-pinned its node (a leaked key, revoked): no keys come of it.
// With `forget` the daemon's reaction to the new list closes it at once;
// without, the check against the list in force just before saving refuses.
void negotiate_after_a_repin(alpha_beta& t, bool forget) {
    t.m.start(t.a);
    std::atomic<bool> tls_done{false}, go{false};
    auto fut = std::async(std::launch::async, [&] {
        return rogue(t.a.port, t.b.files, TLS1_3_VERSION, [&](auto& s, rogue_result& rr) {
            tls_done = true;
            for (int i = 0; i < 500 && !go; ++i) std::this_thread::sleep_for(10ms);
            send_raw(s, encode(hello_msg{t.b.id, 1, hello_purpose::negotiate}));
            send_raw(s, encode(propose_msg{1, {{cipher_id::aes_256_gcm, 1}}, {{compression_id::none, 0, 1}}}));
            expect_close(s, rr);
        });
    });
    // The listener checks the certificate under the old list.
    BOOST_REQUIRE(t.m.run_until([&] { return tls_done.load() && contains(t.a.log_text(), "beta (127.0.0.1:"); }, 10s));
    BOOST_REQUIRE(contains(t.a.log_text(), "authenticated"));
    BOOST_REQUIRE(t.a.svc->open_connections() == 1u);
    bnl_list l = t.m.list;
    auto other = t.m.certs.issue("other");
    l.nodes[1].pin = parse_pin(t.m.certs.fingerprint(other.cert));  // beta re-pinned
    t.m.set_list(l);
    if (forget) {
        t.a.svc->forget(t.b.id);
        BOOST_TEST(t.a.svc->open_connections() == 0u);
    }
    go = true;
    BOOST_REQUIRE(t.m.run_until([&] { return fut.wait_for(0s) == std::future_status::ready; }, 15s));
    auto r = fut.get();
    t.m.run_for(100ms);
    BOOST_TEST(r.peer_closed);
    BOOST_TEST(!t.a.svc->pair(t.b.id));
    BOOST_TEST(!fs::exists(t.a.store->state_path(t.b.id)));
    BOOST_TEST(t.a.svc->stats().negotiated == 0u);
    const bool rechecked = contains(t.a.log_text(), "refused under the current node list: certificate does not match "
                                                    "the node list's pin: node beta");
    BOOST_TEST(rechecked == !forget, t.a.log_text());
}

BOOST_FIXTURE_TEST_CASE(forget_closes_a_connection_authenticated_under_the_old_list, alpha_beta) {
    negotiate_after_a_repin(*this, true);
}

BOOST_FIXTURE_TEST_CASE(keys_are_saved_only_if_the_list_in_force_still_accepts_the_peer, alpha_beta) {
    negotiate_after_a_repin(*this, false);
}

// Frames under keys we do not hold ask for a negotiation, but they are
// unauthenticated: at most one per interval per peer, however it ended.
BOOST_FIXTURE_TEST_CASE(frames_ask_for_a_negotiation_at_most_once_per_interval, alpha_beta) {
    a.settings.frame_request_interval = 3s;
    m.start_all();
    a.svc->request(b.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    a.svc->request_for_frame(b.id);  // the first asks at once
    BOOST_REQUIRE(m.run_until([&] { return a.svc->pair(b.id)->current->epoch == 2u && m.established(a, b); }));
    a.svc->request_for_frame(b.id);  // within the interval: nothing
    BOOST_TEST(a.svc->negotiations_in_flight() == 0u);
    m.run_for(500ms);
    BOOST_TEST(a.svc->pair(b.id)->current->epoch == 2u);
    m.run_for(2600ms);  // the interval has passed
    a.svc->request_for_frame(b.id);
    BOOST_REQUIRE(m.run_until([&] { return a.svc->pair(b.id)->current->epoch == 3u && m.established(a, b); }));
    // Not listed, or this node: never a negotiation.
    a.svc->request_for_frame(99);
    a.svc->request_for_frame(a.id);
    BOOST_TEST(a.svc->negotiations_in_flight() == 0u);
}

// A negotiation reads only HELLO, PROPOSE, CONFIRM or ERROR: a BNL_DATA
// header (16 MiB) is refused before anything is read or allocated for it.
BOOST_FIXTURE_TEST_CASE(a_large_type_in_a_negotiation_is_refused_from_its_header, alpha_beta) {
    m.start(a);
    auto r = m.run_beside([&] {
        return rogue(a.port, b.files, TLS1_3_VERSION, [](auto& s, rogue_result& rr) {
            const auto header = encode_header(msg_type::bnl_data, bnl_data_body_limit);
            send_raw(s, {header.begin(), header.end()});
            expect_close(s, rr);
        });
    });
    m.run_for(100ms);
    BOOST_TEST(r.peer_closed);
    BOOST_TEST(a.svc->stats().timed_out == 0u);
    BOOST_TEST(contains(a.log_text(), "expected HELLO, got BNL_DATA"), a.log_text());
}

BOOST_FIXTURE_TEST_CASE(an_oversized_message_closes_the_connection, alpha_beta) {
    m.start(a);
    auto r = m.run_beside([&] {
        return rogue(a.port, b.files, TLS1_3_VERSION, [](auto& s, rogue_result& rr) {
            std::vector<std::uint8_t> hdr(5);
            hdr[0] = 1;  // HELLO, whose body is 15 bytes
            store_be<std::uint32_t>(hdr, 1, 1u << 20);
            send_raw(s, hdr);
            expect_close(s, rr);
        });
    });
    m.run_for(100ms);
    BOOST_TEST(r.peer_closed);
    BOOST_TEST(a.svc->stats().failed >= 1u);
    BOOST_TEST(contains(a.log_text(), "reading HELLO"));
}

// A TLS client that sends `bytes` of its HELLO and then nothing: alpha cuts
// it at the handshake deadline and logs that reading HELLO timed out.
void stall_inside_hello(alpha_beta& t, std::vector<std::uint8_t> bytes) {
    t.a.settings.handshake_timeout = 1s;
    t.m.start(t.a);
    auto r = t.m.run_beside([&] {
        return rogue(t.a.port, t.b.files, TLS1_3_VERSION, [&](auto& s, rogue_result& rr) {
            send_raw(s, bytes);
            expect_close(s, rr);
        });
    });
    BOOST_TEST(r.handshake_ok);
    BOOST_TEST(r.peer_closed);
    // The log line follows the close by a few handlers.
    BOOST_TEST(t.m.run_until([&] { return contains(t.a.log_text(), "reading HELLO: timed out"); }, 2s),
               t.a.log_text());
    BOOST_TEST(t.a.svc->stats().timed_out >= 1u);
}

BOOST_FIXTURE_TEST_CASE(a_client_that_stalls_inside_a_header_times_out, alpha_beta) {
    stall_inside_hello(*this, {1, 0, 0});  // three bytes of the five-byte header
}

BOOST_FIXTURE_TEST_CASE(a_client_that_stalls_inside_a_body_times_out, alpha_beta) {
    stall_inside_hello(*this, {1, 0, 0, 0, 15, 0, 0, 0});  // HELLO, length 15, three bytes of it
}

BOOST_FIXTURE_TEST_CASE(a_silent_client_times_out_and_the_listener_still_serves, alpha_beta) {
    a.settings.handshake_timeout = 1s;
    m.start_all();
    asio::ip::tcp::socket silent(m.io);
    silent.connect({asio::ip::make_address("127.0.0.1"), a.port});
    m.run_for(100ms);
    b.svc->request(a.id);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    BOOST_REQUIRE(m.run_until([&] { return a.svc->stats().timed_out >= 1; }, 5s));
    BOOST_TEST(contains(a.log_text(), "timed out"));
}

BOOST_FIXTURE_TEST_CASE(two_hundred_connections_at_once_cannot_hold_the_listener, alpha_beta) {
    a.settings.max_connections = 16;
    a.settings.handshake_timeout = 5s;
    m.start_all();
    std::vector<std::unique_ptr<asio::ip::tcp::socket>> flood;
    for (int i = 0; i < 200; ++i) {
        auto s = std::make_unique<asio::ip::tcp::socket>(m.io);
        boost::system::error_code ec;
        s->connect({asio::ip::make_address("127.0.0.1"), a.port}, ec);
        flood.push_back(std::move(s));
    }
    std::size_t most = 0;
    m.run_until([&] {
        most = std::max(most, a.svc->open_connections());
        return a.svc->stats().accepted >= 200;
    }, 10s);
    BOOST_TEST(most <= 16u);
    BOOST_TEST(a.svc->stats().evicted >= 184u);
    b.svc->request(a.id);
    BOOST_REQUIRE(m.run_until([&] {
        most = std::max(most, a.svc->open_connections());
        return m.established(a, b);
    }));
    BOOST_TEST(most <= 16u);
}

// A node whose list holds hundreds of peers that never answer (their TCP
// connects succeed into a listener that never accepts, so each TLS
// handshake hangs until its timeout): the tick starts at most
// max_connections dials at once, the rest later; memory stays bounded.
BOOST_AUTO_TEST_CASE(a_large_list_is_dialled_at_most_max_connections_at_a_time) {
    mesh m;
    auto& a = m.add("alpha", 1);
    a.settings.max_connections = 16;
    a.settings.handshake_timeout = 1500ms;
    asio::ip::tcp::acceptor silent(m.io, {asio::ip::make_address("127.0.0.1"), 0});
    const std::uint16_t port = silent.local_endpoint().port();
    bnl_list l = m.list;
    for (std::uint32_t id = 2; id < 302; ++id) {
        bnl_node bn;
        bn.name = "away" + std::to_string(id);
        bn.id = id;
        bn.ipv4 = ip_address::v4(127, 0, 0, 1);
        bn.port = port;
        l.nodes.push_back(bn);
    }
    m.set_list(l);
    m.start(a);
    a.svc->request_missing(0ms);
    std::size_t most = 0;
    m.run_until(
        [&] {
            most = std::max(most, a.svc->negotiations_in_flight());
            return false;
        },
        3500ms);
    BOOST_TEST(most == 16u);
    // Asked for directly (the data path, rekeys), all at once: the same cap.
    m.run_until([&] { return a.svc->negotiations_in_flight() == 0; }, 5s);
    for (std::uint32_t id = 2; id < 302; ++id) a.svc->request(id);
    BOOST_TEST(a.svc->negotiations_in_flight() <= 16u);
}

// Both nodes start wanting the pair (request_missing); whichever dials
// first, the other's wish is fulfilled by that negotiation: no second one a
// tick later (which used to stall the first seconds of traffic).
BOOST_FIXTURE_TEST_CASE(one_negotiation_when_both_sides_want_the_pair, alpha_beta) {
    m.start_all();
    a.svc->request_missing(0ms);
    b.svc->request_missing(2000ms);
    BOOST_REQUIRE(m.run_until([&] { return m.established(a, b); }));
    m.run_for(3500ms);
    BOOST_TEST(m.established(a, b));
    BOOST_TEST(a.svc->pair(b.id)->current->epoch == 1u);
    BOOST_TEST(a.svc->stats().negotiated + b.svc->stats().negotiated == 2u);  // one negotiation, counted by each side
}

BOOST_AUTO_TEST_SUITE_END()
