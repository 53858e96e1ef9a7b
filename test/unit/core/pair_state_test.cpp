#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "base/endian.hpp"
#include "core/pair_state.hpp"
#include "crypto/digest.hpp"

namespace {

namespace L = weft::pair_state_layout;
using weft::pair_keyset;
using weft::pair_state;
using weft::state_error_code;
using bytes = std::vector<std::uint8_t>;

// Deterministic, distinct bytes per (seed, index), so a swapped key or salt
// shows up as a mismatch.
bytes pattern(std::size_t n, std::uint8_t seed) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed * 31 + i * 7 + 1);
    return b;
}

pair_keyset make_keyset(std::uint8_t cipher, std::uint32_t epoch, std::uint8_t seed) {
    const std::size_t key_len =
        weft::crypto::key_size(static_cast<weft::crypto::aead_algorithm>(cipher));
    BOOST_REQUIRE(key_len != 0);
    pair_keyset k;
    k.epoch = epoch;
    k.cipher = cipher;
    k.compression = 2;  // zlib
    k.level = 6;
    k.established_at = 1'700'000'000 + seed;
    k.valid_until = -5;  // any i64 survives, negative included
    const bytes tx = pattern(key_len, seed),
                rx = pattern(key_len, static_cast<std::uint8_t>(seed + 1));
    const bytes txs = pattern(12, static_cast<std::uint8_t>(seed + 2));
    const bytes rxs = pattern(12, static_cast<std::uint8_t>(seed + 3));
    k.tx_key = weft::crypto::secret_bytes(std::span<const std::uint8_t>(tx));
    k.rx_key = weft::crypto::secret_bytes(std::span<const std::uint8_t>(rx));
    k.tx_salt = weft::nonce_salt(std::span<const std::uint8_t, 12>(txs.data(), 12));
    k.rx_salt = weft::nonce_salt(std::span<const std::uint8_t, 12>(rxs.data(), 12));
    k.tx_reserved = 0xfedc'ba98'7654'3210ULL + seed;
    k.rx_highwater = std::numeric_limits<std::uint64_t>::max() - seed;
    return k;
}

pair_state make_state(int keysets, std::uint8_t cipher = 1, std::uint8_t prev_cipher = 3) {
    pair_state s;
    s.self_id = 7;
    s.peer_id = 0xfffffff0;
    s.peer_name = "node-b.example";
    for (std::size_t i = 0; i < s.peer_cert.size(); ++i)
        s.peer_cert[i] = static_cast<std::uint8_t>(0xa0 + i);
    s.highest_epoch = 12;
    if (keysets >= 1) s.current = make_keyset(cipher, 11, 1);
    if (keysets >= 2) s.previous = make_keyset(prev_cipher, 10, 2);
    s.clean_shutdown = true;
    return s;
}

bytes encode(const pair_state& s) {
    const auto enc = weft::encode_pair_state(s);
    return bytes(enc.data(), enc.data() + enc.size());
}

std::optional<state_error_code> decode_error(const bytes& b) {
    auto r = weft::decode_pair_state(b);
    if (r) return std::nullopt;
    BOOST_TEST(!r.error().message.empty());
    return r.error().code;
}

// Recomputes the trailing SHA-256 so a deliberate edit reaches the content
// checks instead of stopping at bad_checksum.
void fix_checksum(bytes& b) {
    BOOST_REQUIRE(b.size() >= L::checksum_size);
    const std::size_t end = b.size() - L::checksum_size;
    const auto sum = weft::crypto::sha256(std::span<const std::uint8_t>(b.data(), end));
    std::copy(sum.begin(), sum.end(), b.begin() + static_cast<std::ptrdiff_t>(end));
}

// Offset of the first keyset in make_state()'s encoding.
std::size_t first_keyset_offset(const pair_state& s) { return L::name_offset + s.peer_name.size(); }

void expect_malformed_after(bytes b, std::size_t offset, std::uint8_t value) {
    BOOST_REQUIRE(offset < b.size() - L::checksum_size);
    b[offset] = value;
    fix_checksum(b);
    BOOST_TEST((decode_error(b) == state_error_code::malformed),
               "byte " << offset << " = " << int(value) << " should be malformed");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pair_state_codec)

BOOST_AUTO_TEST_CASE(round_trip_zero_one_two_keysets_every_cipher) {
    for (const std::uint8_t cipher : std::array<std::uint8_t, 3>{1, 2, 3}) {
        for (int n : {0, 1, 2}) {
            const pair_state s = make_state(n, cipher, cipher == 3 ? 2 : 3);
            const bytes b = encode(s);
            auto d = weft::decode_pair_state(b);
            BOOST_REQUIRE_MESSAGE(d, "cipher " << int(cipher) << ", " << n << " keysets: "
                                                << (d ? "" : d.error().message));
            BOOST_TEST((*d == s));
            BOOST_TEST(encode(*d) == b);
            BOOST_TEST(d->current.has_value() == (n >= 1));
            BOOST_TEST(d->previous.has_value() == (n >= 2));
        }
    }
}

BOOST_AUTO_TEST_CASE(layout_matches_the_spec) {
    const pair_state s = make_state(2, 2, 1);  // aes-128 current (16-byte keys), aes-256 previous
    const bytes b = encode(s);
    BOOST_TEST(b.size() == L::name_offset + s.peer_name.size() + L::keyset_size(16) +
                               L::keyset_size(32) + L::checksum_size);
    BOOST_TEST(bytes(b.begin(), b.begin() + 8) == bytes({'W', 'E', 'F', 'T', 'P', 'A', 'I', 'R'}));
    BOOST_TEST(weft::load_be16(b, L::version_offset) == 1);
    BOOST_TEST(weft::load_be32(b, L::self_id_offset) == 7u);
    BOOST_TEST(weft::load_be32(b, L::peer_id_offset) == 0xfffffff0u);
    BOOST_TEST(weft::load_be32(b, L::highest_epoch_offset) == 12u);
    BOOST_TEST(b[L::clean_shutdown_offset] == 1);
    BOOST_TEST(b[L::keyset_count_offset] == 2);
    BOOST_TEST(b[L::peer_cert_offset] == 0xa0);
    BOOST_TEST(std::size_t{b[L::name_length_offset]} == s.peer_name.size());
    const std::size_t k = first_keyset_offset(s);
    BOOST_TEST(weft::load_be32(b, k + L::ks_epoch_offset) == 11u);
    BOOST_TEST(b[k + L::ks_cipher_offset] == 2);
    BOOST_TEST(b[k + L::ks_key_length_offset] == 16);
    BOOST_TEST(weft::load_be64(b, k + L::ks_valid_until_offset) == std::uint64_t(-5));
    BOOST_TEST(weft::load_be64(b, k + L::ks_tx_reserved_offset) == s.current->tx_reserved);
    BOOST_TEST(b[k + L::ks_fixed_size] == s.current->tx_key.data()[0]);
    const auto sum = weft::crypto::sha256(std::span<const std::uint8_t>(b.data(), b.size() - 32));
    BOOST_TEST(bytes(b.end() - 32, b.end()) == bytes(sum.begin(), sum.end()));
}

BOOST_AUTO_TEST_CASE(every_truncation_is_rejected) {
    const bytes full = encode(make_state(2));
    for (std::size_t n = 0; n < full.size(); ++n) {
        const bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        const auto e = decode_error(cut);
        // Too short to hold magic, version and checksum: truncated; longer:
        // the checksum is read from the wrong place and cannot match.
        const auto expected = n < L::min_checkable_size ? state_error_code::truncated
                                                        : state_error_code::bad_checksum;
        BOOST_TEST((e == expected), "length " << n);
    }
}

BOOST_AUTO_TEST_CASE(every_single_bit_flip_is_rejected) {
    const bytes full = encode(make_state(2));
    for (std::size_t i = 0; i < full.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            bytes b = full;
            b[i] = static_cast<std::uint8_t>(b[i] ^ (1u << bit));
            const auto e = decode_error(b);
            const auto expected =
                i < L::magic.size() ? state_error_code::bad_magic : state_error_code::bad_checksum;
            BOOST_TEST((e == expected), "byte " << i << " bit " << bit);
        }
    }
}

BOOST_AUTO_TEST_CASE(other_versions_are_unsupported) {
    for (const std::uint16_t v : std::array<std::uint16_t, 4>{0, 2, 0x0100, 0xffff}) {
        bytes b = encode(make_state(1));
        weft::store_be<std::uint16_t>(b, L::version_offset, v);
        BOOST_TEST((decode_error(b) == state_error_code::bad_checksum));  // not fixed up yet
        fix_checksum(b);
        BOOST_TEST((decode_error(b) == state_error_code::unsupported_version), "version " << v);
    }
}

BOOST_AUTO_TEST_CASE(key_length_must_match_the_cipher) {
    const pair_state s = make_state(1, 1);  // aes-256-gcm: 32-byte keys
    const std::size_t k = first_keyset_offset(s);
    for (const std::uint8_t len : std::array<std::uint8_t, 5>{0, 16, 31, 33, 255}) {
        expect_malformed_after(encode(s), k + L::ks_key_length_offset, len);
    }
    // The cipher changed under the same 32-byte keys: aes-128-gcm wants 16.
    expect_malformed_after(encode(s), k + L::ks_cipher_offset, 2);
    // chacha20-poly1305 also has 32-byte keys: still valid, a different state.
    bytes b = encode(s);
    b[k + L::ks_cipher_offset] = 3;
    fix_checksum(b);
    auto d = weft::decode_pair_state(b);
    BOOST_REQUIRE(d);
    BOOST_TEST(d->current->cipher == 3);
}

BOOST_AUTO_TEST_CASE(trailing_data_is_malformed) {
    for (int n : {0, 1, 2}) {
        bytes b = encode(make_state(n));
        for (std::size_t extra : {1, 12, 200}) {
            bytes t = b;
            t.insert(t.end() - static_cast<std::ptrdiff_t>(L::checksum_size), extra, 0);
            fix_checksum(t);
            BOOST_TEST((decode_error(t) == state_error_code::malformed),
                       n << " keysets + " << extra);
        }
    }
}

BOOST_AUTO_TEST_CASE(oversize_is_refused_first) {
    bytes big(L::max_size + 1, 0);
    BOOST_TEST((decode_error(big) == state_error_code::too_large));
    // Even a valid encoding followed by padding: the cap comes before anything.
    bytes padded = encode(make_state(2));
    padded.resize(L::max_size + 1000, 0);
    BOOST_TEST((decode_error(padded) == state_error_code::too_large));
    // At the cap exactly, the other checks run.
    big.resize(L::max_size);
    BOOST_TEST((decode_error(big) == state_error_code::bad_magic));
}

BOOST_AUTO_TEST_CASE(content_checks_after_a_valid_checksum) {
    const pair_state s = make_state(2);
    const std::size_t k = first_keyset_offset(s);
    const std::size_t k2 = k + L::keyset_size(32);
    const bytes b = encode(s);
    expect_malformed_after(b, L::clean_shutdown_offset, 2);
    expect_malformed_after(b, L::keyset_count_offset, 3);
    expect_malformed_after(b, L::keyset_count_offset, 1);  // previous keyset becomes trailing bytes
    expect_malformed_after(b, L::name_length_offset, 0);
    expect_malformed_after(b, L::name_length_offset, 64);
    expect_malformed_after(b, L::name_offset, 'A');  // BNL names are lower case
    expect_malformed_after(b, L::name_offset, '-');  // and start with a letter or digit
    expect_malformed_after(b, k + L::ks_cipher_offset, 0);
    expect_malformed_after(b, k + L::ks_cipher_offset, 4);
    expect_malformed_after(b, k + L::ks_compression_offset, 3);
    expect_malformed_after(b, k + L::ks_level_offset, 10);  // zlib: 1..9
    expect_malformed_after(b, k + L::ks_level_offset, 0);
    expect_malformed_after(b, k2 + L::ks_level_offset, 0);
    {
        bytes e = b;  // epoch 0
        weft::store_be<std::uint32_t>(e, k + L::ks_epoch_offset, 0);
        fix_checksum(e);
        BOOST_TEST((decode_error(e) == state_error_code::malformed));
    }
    {
        bytes e = b;  // current epoch above the highest epoch
        weft::store_be<std::uint32_t>(e, L::highest_epoch_offset, 10);
        fix_checksum(e);
        BOOST_TEST((decode_error(e) == state_error_code::malformed));
    }
    {
        bytes e = b;  // previous epoch not below current
        weft::store_be<std::uint32_t>(e, k2 + L::ks_epoch_offset, 11);
        fix_checksum(e);
        BOOST_TEST((decode_error(e) == state_error_code::malformed));
    }
    for (auto [self, peer] : {std::pair<std::uint32_t, std::uint32_t>{0, 5}, {5, 0}, {5, 5}}) {
        bytes e = b;
        weft::store_be<std::uint32_t>(e, L::self_id_offset, self);
        weft::store_be<std::uint32_t>(e, L::peer_id_offset, peer);
        fix_checksum(e);
        BOOST_TEST((decode_error(e) == state_error_code::malformed), self << " -> " << peer);
    }
    // Cut inside the content with a valid checksum: malformed, not a crash.
    for (std::size_t n = L::version_offset + 2; n < b.size() - L::checksum_size; n += 7) {
        bytes e(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        e.resize(n + L::checksum_size);
        fix_checksum(e);
        BOOST_TEST((decode_error(e) == state_error_code::malformed), "content cut at " << n);
    }
}

BOOST_AUTO_TEST_CASE(problem_names_what_cannot_be_encoded) {
    BOOST_TEST(weft::pair_state_problem(make_state(2)) == nullptr);
    {
        pair_state s = make_state(1);
        s.current->rx_key.resize(16);
        BOOST_TEST(weft::pair_state_problem(s) != nullptr);
    }
    {
        pair_state s = make_state(2);
        s.current.reset();
        BOOST_TEST(weft::pair_state_problem(s) != nullptr);
    }
    {
        pair_state s = make_state(0);
        s.peer_name = std::string(64, 'a');
        BOOST_TEST(weft::pair_state_problem(s) != nullptr);
        s.peer_name = std::string(63, 'a');
        BOOST_TEST(weft::pair_state_problem(s) == nullptr);
        auto d = weft::decode_pair_state(encode(s));
        BOOST_REQUIRE(d);
        BOOST_TEST(d->peer_name == s.peer_name);
    }
    {
        pair_state s = make_state(1);
        s.current->compression = 0;  // none takes level 0 only
        BOOST_TEST(weft::pair_state_problem(s) != nullptr);
        s.current->level = 0;
        BOOST_TEST(weft::pair_state_problem(s) == nullptr);
        s.current->compression = 1;  // lz4: 1..12
        s.current->level = 12;
        BOOST_TEST(weft::pair_state_problem(s) == nullptr);
        BOOST_TEST((*weft::decode_pair_state(encode(s)) == s));
    }
}

BOOST_AUTO_TEST_CASE(clone_is_equal_and_independent) {
    const pair_state s = make_state(2);
    pair_state c = s.clone();
    BOOST_TEST((c == s));
    c.current->tx_key.data()[0] ^= 1;
    BOOST_TEST(!(c == s));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(counter_reservation)

constexpr std::uint64_t block = weft::counter_reservation_block;
constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();

static_assert(block == 1u << 20);
static_assert(weft::next_reservation(0, 0) == block);
static_assert(weft::next_reservation(5, 100) == 100);

BOOST_AUTO_TEST_CASE(reserves_ahead_only_when_needed) {
    // Fresh keys: nothing reserved, the first frame needs a reservation.
    BOOST_TEST(*weft::next_reservation(0, 0) == block);
    // Below the reservation: nothing to write.
    BOOST_TEST(*weft::next_reservation(0, block) == block);
    BOOST_TEST(*weft::next_reservation(block - 1, block) == block);
    // At the reservation (the first counter not covered): a new block from it.
    BOOST_TEST(*weft::next_reservation(block, block) == 2 * block);
    // Past it (cannot happen if callers obey, but still never below counter).
    BOOST_TEST(*weft::next_reservation(5 * block + 3, block) == 6 * block + 3);
}

BOOST_AUTO_TEST_CASE(a_restart_never_reuses_a_counter) {
    // Simulate sending with crashes at every point: the resumed counter is
    // always above every counter sent before.
    std::uint64_t reserved_on_disk = 0;
    std::uint64_t counter = 0;
    std::uint64_t highest_sent = 0;
    bool sent_any = false;
    for (int round = 0; round < 5; ++round) {
        for (std::uint64_t i = 0; i < block + block / 2; i += 4096) {
            auto next = weft::next_reservation(counter, reserved_on_disk);
            BOOST_REQUIRE(next);
            reserved_on_disk = *next;  // "saved" before sending
            BOOST_REQUIRE(counter < reserved_on_disk);
            highest_sent = counter;
            sent_any = true;
            counter += 4096;
        }
        // Crash: resume at the reservation.
        counter = reserved_on_disk;
        BOOST_TEST((sent_any && counter > highest_sent));
    }
}

BOOST_AUTO_TEST_CASE(refuses_to_wrap_near_two_to_the_64) {
    BOOST_TEST(*weft::next_reservation(max - block, max - block) == max);
    BOOST_TEST(!weft::next_reservation(max - block + 1, max - block + 1).has_value());
    BOOST_TEST(!weft::next_reservation(max, max).has_value());
    BOOST_TEST(!weft::next_reservation(max, 0).has_value());
    // Below an existing high reservation there is still nothing to write.
    BOOST_TEST(*weft::next_reservation(max - 1, max) == max);
    // No result is ever at or below the counter (which would be a wrap).
    for (std::uint64_t c = max - 2 * block; c != 0 && c >= max - 2 * block; c += block / 3) {
        if (auto r = weft::next_reservation(c, c)) BOOST_TEST(*r > c);
    }
}

BOOST_AUTO_TEST_SUITE_END()
