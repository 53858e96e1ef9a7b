#include <boost/test/unit_test.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "base/endian.hpp"
#include "base/hex.hpp"
#include "crypto/aead.hpp"
#include "crypto/random.hpp"

// The header's test hooks: drop the composition's contexts and libsodium's
// key, so seal() and open() go through OpenSSL's AEAD only; or libsodium's
// key alone, so small ChaCha20-Poly1305 payloads take the composition.
struct weft::crypto::aead_key_test_access {
    static void use_openssl_aead_only(aead_key& key) noexcept {
        key.stream_ctx_ = {};
        key.mac_ctx_.reset();
        key.small_.reset();
    }
    static void drop_libsodium(aead_key& key) noexcept { key.small_.reset(); }
    // Which path a seal()/open() of these spans would take.
    static bool takes_libsodium(const aead_key& key, std::span<const std::uint8_t> aad,
                                std::span<const std::uint8_t> inout) noexcept {
        return key.takes_libsodium(aad, inout);
    }
};

namespace {

using weft::crypto::aead_algorithm;
using weft::crypto::aead_key;
using weft::crypto::aead_nonce_size;
using weft::crypto::aead_tag_size;
using bytes = std::vector<std::uint8_t>;
using nonce_t = std::array<std::uint8_t, aead_nonce_size>;
using tag_t = std::array<std::uint8_t, aead_tag_size>;

// Counts every allocation OpenSSL makes, to prove the packet path makes none.
// OpenSSL accepts replacement allocators only before its first allocation,
// hence the namespace-scope initialiser (it runs before main).  If something
// allocated earlier, the hook is not installed and the test that needs it
// says so rather than pass on no evidence.
std::atomic<std::size_t> openssl_allocations{0};

void* counting_malloc(std::size_t n, const char*, int) {
    openssl_allocations.fetch_add(1, std::memory_order_relaxed);
    return n == 0 ? nullptr : std::malloc(n);
}
void* counting_realloc(void* p, std::size_t n, const char*, int) {
    openssl_allocations.fetch_add(1, std::memory_order_relaxed);
    if (n == 0) {
        std::free(p);
        return nullptr;
    }
    return std::realloc(p, n);
}
void counting_free(void* p, const char*, int) { std::free(p); }

const bool allocation_hook_installed =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;

bytes hex(std::string_view text) {
    auto out = weft::from_hex(text);
    BOOST_TEST_REQUIRE(out.has_value(), "bad hex in a test vector: " << text);
    return *out;
}

template <std::size_t N>
std::array<std::uint8_t, N> hex_array(std::string_view text) {
    bytes b = hex(text);
    BOOST_TEST_REQUIRE(b.size() == N);
    std::array<std::uint8_t, N> out{};
    std::copy(b.begin(), b.end(), out.begin());
    return out;
}

bytes random_vector(std::size_t n) {
    bytes out(n);
    weft::crypto::random_bytes(out);
    return out;
}

aead_key make_key(aead_algorithm alg, std::span<const std::uint8_t> key) {
    auto k = aead_key::create(alg, key);
    // The message is built even when the check passes: only read error() on failure.
    BOOST_TEST_REQUIRE(k.has_value(),
                       weft::crypto::name(alg) << ": " << (k ? "" : k.error().message));
    return std::move(k).value();
}

// A nonce the way the frame layer will build one: a counter, big-endian, in
// the last eight bytes (the salt is left out; it does not matter here).
nonce_t counter_nonce(std::uint64_t counter) {
    nonce_t n{};
    weft::store_be<std::uint64_t>(n, 4, counter);
    return n;
}

// A packet laid out as a frame: the AAD (header) right before the payload,
// the tag right after, all in one buffer.
struct framed {
    bytes buffer;
    std::size_t aad_size, size;

    framed(const bytes& aad, const bytes& plain) : buffer(aad), aad_size(aad.size()), size(plain.size()) {
        buffer.insert(buffer.end(), plain.begin(), plain.end());
        buffer.resize(buffer.size() + aead_tag_size);
    }
    std::span<std::uint8_t> head() { return std::span(buffer).first(aad_size); }
    std::span<std::uint8_t> payload() { return std::span(buffer).subspan(aad_size, size); }
    std::span<std::uint8_t, aead_tag_size> tag() {
        return std::span(buffer).subspan(aad_size + size).first<aead_tag_size>();
    }
    bool payload_is(const bytes& b) const {
        return std::equal(b.begin(), b.end(), buffer.begin() + static_cast<std::ptrdiff_t>(aad_size)) && b.size() == size;
    }
    bool tag_is(const tag_t& t) const {
        return std::equal(t.begin(), t.end(), buffer.begin() + static_cast<std::ptrdiff_t>(aad_size + size));
    }
};

// Seals `plain` with `ours` and with `reference` (same key bytes), requires
// the same ciphertext and tag, and opens each one's output with the other.
// Returns the ciphertext and the tag.
std::pair<bytes, tag_t> same_bytes_both_ways(aead_key& ours, aead_key& reference, const nonce_t& nonce,
                                             const bytes& aad, const bytes& plain) {
    bytes a = plain, b = plain;
    tag_t ta{}, tb{};
    BOOST_TEST_REQUIRE(ours.seal(nonce, aad, a, ta));
    BOOST_TEST_REQUIRE(reference.seal(nonce, aad, b, tb));
    BOOST_TEST_REQUIRE((a == b && ta == tb), "size " << plain.size() << " aad " << aad.size());
    bytes c = a;
    BOOST_TEST_REQUIRE(ours.open(nonce, aad, c, tb));
    BOOST_TEST_REQUIRE((c == plain), "size " << plain.size());
    BOOST_TEST_REQUIRE(reference.open(nonce, aad, b, ta));
    BOOST_TEST_REQUIRE((b == plain), "size " << plain.size());
    return {a, ta};
}

struct known_answer {
    const char* source;
    aead_algorithm alg;
    const char* key;
    const char* nonce;
    const char* aad;
    const char* plaintext;
    const char* ciphertext;
    const char* tag;
};

// Sources: RFC 8439 section 2.8.2 (the plaintext is the ASCII of "Ladies and
// Gentlemen of the class of '99: If I could offer you only one tip for the
// future, sunscreen would be it.").  McGrew & Viega, "The Galois/Counter Mode
// of Operation (GCM)", appendix B, test cases 4 and 13 to 16, as carried in
// OpenSSL's test/recipes/30-test_evp_data/evpciph_aes_common.txt.
const known_answer known_answers[] = {
    {"RFC 8439 2.8.2", aead_algorithm::chacha20_poly1305,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
     "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
     "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
     "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
     "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
     "637265656e20776f756c642062652069742e",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
     "3ff4def08e4b7a9de576d26586cec64b6116",
     "1ae10b594f09e26a7e902ecbd0600691"},
    {"GCM spec test case 4", aead_algorithm::aes_128_gcm, "feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"GCM spec test case 13", aead_algorithm::aes_256_gcm,
     "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"GCM spec test case 14", aead_algorithm::aes_256_gcm,
     "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"GCM spec test case 15", aead_algorithm::aes_256_gcm,
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"GCM spec test case 16", aead_algorithm::aes_256_gcm,
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

// Seals `kat` with `key` and checks ciphertext and tag against the vector.
void check_seal(aead_key& key, const known_answer& kat) {
    const auto nonce = hex_array<aead_nonce_size>(kat.nonce);
    const bytes aad = hex(kat.aad);
    bytes buf = hex(kat.plaintext);
    tag_t tag{};
    BOOST_TEST_REQUIRE(key.seal(nonce, aad, buf, tag));
    BOOST_TEST(weft::to_hex(buf) == kat.ciphertext);
    BOOST_TEST(weft::to_hex(tag) == kat.tag);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(aead)

BOOST_AUTO_TEST_CASE(names_sizes_and_ids) {
    using weft::crypto::aead_algorithm_from_id;
    using weft::crypto::key_size;
    using weft::crypto::parse_aead_algorithm;
    static_assert(key_size(aead_algorithm::aes_256_gcm) == 32);
    static_assert(key_size(aead_algorithm::aes_128_gcm) == 16);
    static_assert(key_size(aead_algorithm::chacha20_poly1305) == 32);
    static_assert(aead_nonce_size == 12 && aead_tag_size == 16);
    static_assert(!std::is_copy_constructible_v<aead_key> && !std::is_copy_assignable_v<aead_key>);
    static_assert(std::is_nothrow_move_constructible_v<aead_key> &&
                  std::is_nothrow_move_assignable_v<aead_key>);

    BOOST_TEST(weft::crypto::name(aead_algorithm::aes_256_gcm) == "aes-256-gcm");
    BOOST_TEST(weft::crypto::name(aead_algorithm::aes_128_gcm) == "aes-128-gcm");
    BOOST_TEST(weft::crypto::name(aead_algorithm::chacha20_poly1305) == "chacha20-poly1305");
    for (aead_algorithm alg : weft::crypto::all_aead_algorithms) {
        BOOST_TEST((parse_aead_algorithm(weft::crypto::name(alg)) == alg));
        BOOST_TEST((aead_algorithm_from_id(static_cast<std::uint8_t>(alg)) == alg));
    }
    for (std::string_view bad : {"", "AES-256-GCM", "aes-256-gcm ", "aes256gcm", "chacha20",
                                 "unknown", "aes-192-gcm"}) {
        BOOST_TEST(!parse_aead_algorithm(bad), bad);
    }
    BOOST_TEST(!aead_algorithm_from_id(0));
    BOOST_TEST(!aead_algorithm_from_id(4));
    BOOST_TEST(!aead_algorithm_from_id(255));
    BOOST_TEST(key_size(static_cast<aead_algorithm>(0)) == 0u);
    BOOST_TEST(weft::crypto::name(static_cast<aead_algorithm>(9)) == "unknown");
}

BOOST_AUTO_TEST_CASE(known_answer_vectors) {
    for (const auto& kat : known_answers) {
        BOOST_TEST_CONTEXT(kat.source) {
            const bytes key_bytes = hex(kat.key);
            aead_key sealer = make_key(kat.alg, key_bytes);
            check_seal(sealer, kat);

            // Opened by a separate instance built from the same key bytes,
            // as the receiving node would.
            aead_key opener = make_key(kat.alg, key_bytes);
            const auto nonce = hex_array<aead_nonce_size>(kat.nonce);
            const bytes aad = hex(kat.aad);
            const auto tag = hex_array<aead_tag_size>(kat.tag);
            bytes buf = hex(kat.ciphertext);
            BOOST_TEST_REQUIRE(opener.open(nonce, aad, buf, tag));
            BOOST_TEST(weft::to_hex(buf) == kat.plaintext);

            // The published tag with its last bit flipped is refused.
            auto bad_tag = tag;
            bad_tag.back() ^= 1;
            buf = hex(kat.ciphertext);
            BOOST_TEST(!opener.open(nonce, aad, buf, bad_tag));
        }
    }
}

BOOST_AUTO_TEST_CASE(round_trip_every_algorithm_and_size) {
    const std::size_t sizes[] = {0, 1, 15, 16, 17, 1400, 65535};
    for (aead_algorithm alg : weft::crypto::all_aead_algorithms) {
        const bytes key_bytes = random_vector(weft::crypto::key_size(alg));
        aead_key sealer = make_key(alg, key_bytes);
        aead_key opener = make_key(alg, key_bytes);
        for (std::size_t size : sizes) {
            for (std::size_t aad_size : {std::size_t{0}, std::size_t{16}}) {
                BOOST_TEST_CONTEXT(weft::crypto::name(alg) << " size " << size << " aad "
                                                           << aad_size) {
                    nonce_t nonce{};
                    weft::crypto::random_bytes(nonce);
                    const bytes aad = random_vector(aad_size);
                    const bytes plain = random_vector(size);
                    bytes buf = plain;
                    tag_t tag{};
                    BOOST_TEST_REQUIRE(sealer.seal(nonce, aad, buf, tag));
                    if (size >= 16) BOOST_TEST((buf != plain));  // in place, really encrypted
                    BOOST_TEST_REQUIRE(opener.open(nonce, aad, buf, tag));
                    BOOST_TEST((buf == plain));
                }
            }
        }
    }
}

// aead_key drives the providers' functions directly (provider_cipher.hpp);
// the bytes are those of OpenSSL's EVP interface, used here the plain way
// with a fresh context per packet, and each opens the other's packets.
BOOST_AUTO_TEST_CASE(same_bytes_as_openssls_evp_interface) {
    auto evp_seal = [](const char* cipher_name, const bytes& key, const nonce_t& nonce, const bytes& aad,
                       bytes& buf, tag_t& tag) {
        EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
        int len = 0;
        bool ok = ctx != nullptr &&
                  EVP_EncryptInit_ex(ctx, EVP_get_cipherbyname(cipher_name), nullptr, key.data(), nonce.data()) == 1 &&
                  (aad.empty() || EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1) &&
                  (buf.empty() ||
                   EVP_EncryptUpdate(ctx, buf.data(), &len, buf.data(), static_cast<int>(buf.size())) == 1);
        unsigned char rest[32];
        ok = ok && EVP_EncryptFinal_ex(ctx, rest, &len) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag.size()), tag.data()) == 1;
        EVP_CIPHER_CTX_free(ctx);
        return ok;
    };
    const std::pair<aead_algorithm, const char*> ciphers[] = {{aead_algorithm::aes_256_gcm, "aes-256-gcm"},
                                                             {aead_algorithm::aes_128_gcm, "aes-128-gcm"},
                                                             {aead_algorithm::chacha20_poly1305, "chacha20-poly1305"}};
    for (const auto& [alg, evp_name] : ciphers) {
        const bytes key_bytes = random_vector(weft::crypto::key_size(alg));
        aead_key ours = make_key(alg, key_bytes);
        aead_key ours_aead_only = make_key(alg, key_bytes);
        weft::crypto::aead_key_test_access::use_openssl_aead_only(ours_aead_only);
        for (std::size_t size : {0, 1, 15, 16, 17, 63, 64, 65, 1400, 4097, 65535}) {
            for (std::size_t aad_size : {0, 1, 16, 33}) {
                BOOST_TEST_CONTEXT(evp_name << " size " << size << " aad " << aad_size) {
                    nonce_t nonce{};
                    weft::crypto::random_bytes(nonce);
                    const bytes aad = random_vector(aad_size);
                    const bytes plain = random_vector(size);
                    bytes reference = plain;
                    tag_t reference_tag{};
                    BOOST_TEST_REQUIRE(evp_seal(evp_name, key_bytes, nonce, aad, reference, reference_tag));
                    for (aead_key* k : {&ours, &ours_aead_only}) {
                        bytes buf = plain;
                        tag_t tag{};
                        BOOST_TEST_REQUIRE(k->seal(nonce, aad, buf, tag));
                        BOOST_TEST((buf == reference));
                        BOOST_TEST((tag == reference_tag));
                        buf = reference;
                        BOOST_TEST_REQUIRE(k->open(nonce, aad, buf, reference_tag));
                        BOOST_TEST((buf == plain));
                    }
                }
            }
        }
    }
}

// The providers keep the expected tag's length across messages, and a fresh
// ChaCha20-Poly1305 decryption context compares zero bytes: only setting
// each packet's tag before finishing makes an open fail.  So: the very
// first open under a new key refuses a forged tag, a forged packet does not
// spoil the genuine one after it, and no failure leaves anything on
// OpenSSL's error queue.  For ChaCha20-Poly1305 the sizes reach libsodium
// (0 and 1 B), the composition (300 B) and OpenSSL's AEAD (over 2048 B),
// and a key without the composition and libsodium OpenSSL's AEAD at every
// size.
BOOST_AUTO_TEST_CASE(the_first_open_of_a_fresh_key_checks_the_tag) {
    for (aead_algorithm alg : weft::crypto::all_aead_algorithms) {
        for (bool composition : {true, false}) {
            for (std::size_t size : {0, 1, 300, 2049, 4096}) {
                BOOST_TEST_CONTEXT(weft::crypto::name(alg) << " size " << size << " composition " << composition) {
                    const bytes key_bytes = random_vector(weft::crypto::key_size(alg));
                    aead_key sealer = make_key(alg, key_bytes);
                    aead_key opener = make_key(alg, key_bytes);
                    if (!composition) weft::crypto::aead_key_test_access::use_openssl_aead_only(opener);
                    nonce_t nonce{};
                    weft::crypto::random_bytes(nonce);
                    const bytes aad = random_vector(16);
                    const bytes plain = random_vector(size);
                    bytes sealed = plain;
                    tag_t tag{};
                    BOOST_TEST_REQUIRE(sealer.seal(nonce, aad, sealed, tag));
                    ERR_clear_error();
                    tag_t forged = tag;
                    forged[0] ^= 0x01;
                    bytes buf = sealed;
                    BOOST_TEST(!opener.open(nonce, aad, buf, forged));  // first use of `opener`
                    tag_t zero{};
                    buf = sealed;
                    BOOST_TEST(!opener.open(nonce, aad, buf, zero));
                    BOOST_TEST(ERR_peek_error() == 0u);
                    buf = sealed;
                    BOOST_TEST_REQUIRE(opener.open(nonce, aad, buf, tag));
                    BOOST_TEST((buf == plain));
                }
            }
        }
    }
}

// ChaCha20-Poly1305 composed from ChaCha20 and Poly1305 (aead.hpp) gives
// OpenSSL's AEAD bytes exactly, at every payload length around the block
// and tag boundaries and past the composition's limit, and each opens the
// other's frames.  A forged tag or AAD is refused, and the composition then
// leaves the payload as it was.
BOOST_AUTO_TEST_CASE(composed_chacha20_poly1305_equals_openssls_aead) {
    const bytes key_bytes = random_vector(32);
    aead_key composed = make_key(aead_algorithm::chacha20_poly1305, key_bytes);
    weft::crypto::aead_key_test_access::drop_libsodium(composed);  // else it takes up to 256 B
    aead_key plain_aead = make_key(aead_algorithm::chacha20_poly1305, key_bytes);
    weft::crypto::aead_key_test_access::use_openssl_aead_only(plain_aead);
    BOOST_TEST_REQUIRE(composed.composed());
    BOOST_TEST(!plain_aead.composed());
    BOOST_TEST(!make_key(aead_algorithm::aes_256_gcm, random_vector(32)).composed());
    std::size_t checked = 0;
    for (std::size_t size = 0; size <= aead_key::composed_max_payload + 70; ++size) {
        for (std::size_t aad_size : {0, 1, 15, 16, 17, 32, 33}) {
            if (size > 200 && size % 61 != 0 && size < aead_key::composed_max_payload - 2 && aad_size != 16)
                continue;  // every length with a frame header's AAD; a sample with the others
            nonce_t nonce{};
            weft::crypto::random_bytes(nonce);
            const bytes aad = random_vector(aad_size);
            const bytes plain = random_vector(size);
            const auto [a, ta] = same_bytes_both_ways(composed, plain_aead, nonce, aad, plain);
            tag_t forged = ta;
            forged[size % aead_tag_size] ^= 0x01;
            bytes d = a;
            BOOST_TEST_REQUIRE(!composed.open(nonce, aad, d, forged), "size " << size);
            // (OpenSSL's AEAD, past the limit, leaves it partly decrypted.)
            if (size <= aead_key::composed_max_payload) BOOST_TEST_REQUIRE((d == a), "size " << size);
            if (!aad.empty()) {
                bytes aad2 = aad;
                aad2.back() ^= 0x80;
                BOOST_TEST_REQUIRE(!composed.open(nonce, aad2, d, ta), "size " << size);
                if (size <= aead_key::composed_max_payload) BOOST_TEST_REQUIRE((d == a), "size " << size);
            }
            {
                // Laid out as a frame, AAD right before the payload (one
                // Poly1305 update covers both when the AAD is a multiple of
                // 16 bytes): the same bytes again.
                framed f(aad, plain);
                BOOST_TEST_REQUIRE(composed.seal(nonce, f.head(), f.payload(), f.tag()));
                BOOST_TEST_REQUIRE((f.payload_is(a) && f.tag_is(ta)), "framed size " << size);
                const bytes sealed(f.buffer);
                BOOST_TEST_REQUIRE(composed.open(nonce, f.head(), f.payload(), f.tag()));
                BOOST_TEST_REQUIRE(f.payload_is(plain), "framed size " << size);
                if (aad_size != 0) {
                    f.buffer = sealed;
                    f.buffer[aad_size / 2] ^= 0x10;  // the header is authenticated
                    BOOST_TEST_REQUIRE(!composed.open(nonce, f.head(), f.payload(), f.tag()), "framed size " << size);
                    if (size <= aead_key::composed_max_payload)
                        BOOST_TEST_REQUIRE(f.payload_is(a), "framed size " << size);
                }
            }
            ++checked;
        }
    }
    BOOST_TEST(checked > 2100u);
}

// AAD that overlaps the payload: the composition would authenticate the
// bytes after encryption, and libsodium wants the two apart, so such calls
// take OpenSSL's AEAD, which reads the AAD first.  Both keys then give the
// same bytes.
BOOST_AUTO_TEST_CASE(overlapping_aad_takes_openssls_aead_with_the_same_bytes) {
    for (aead_algorithm alg : {aead_algorithm::chacha20_poly1305, aead_algorithm::aes_256_gcm}) {
        const bytes key_bytes = random_vector(32);
        aead_key ours = make_key(alg, key_bytes);
        aead_key plain_aead = make_key(alg, key_bytes);
        weft::crypto::aead_key_test_access::use_openssl_aead_only(plain_aead);
        const bytes packet = random_vector(100);
        bytes a = packet, b = packet;
        tag_t ta{}, tb{};
        const nonce_t nonce = counter_nonce(7);
        // AAD = bytes 10..40, payload = bytes 20..100.
        BOOST_TEST_REQUIRE(ours.seal(nonce, std::span(a).subspan(10, 30), std::span(a).subspan(20), ta));
        BOOST_TEST_REQUIRE(plain_aead.seal(nonce, std::span(b).subspan(10, 30), std::span(b).subspan(20), tb));
        BOOST_TEST((a == b), weft::crypto::name(alg));
        BOOST_TEST((ta == tb), weft::crypto::name(alg));
    }
}

// Small AES-256-GCM and ChaCha20-Poly1305 payloads go through libsodium
// where it can (aead.hpp): AES-256-GCM on a CPU with AES-NI and PCLMUL,
// ChaCha20-Poly1305 everywhere, never AES-128-GCM.  Its bytes are OpenSSL's
// exactly at every length up to and past the limit, with any AAD and laid
// out as a frame; each opens the other's packets; a forged tag, AAD,
// ciphertext or nonce is refused.
namespace {

void small_payloads_take_libsodium_with_openssls_bytes(aead_algorithm alg) {
    const bool aes_ni = sodium_init() >= 0 && crypto_aead_aes256gcm_is_available() == 1;
    const bool expected = alg == aead_algorithm::chacha20_poly1305 || aes_ni;
    const bytes key_bytes = random_vector(32);
    aead_key fast = make_key(alg, key_bytes);
    aead_key reference = make_key(alg, key_bytes);
    weft::crypto::aead_key_test_access::use_openssl_aead_only(reference);
    BOOST_TEST(fast.via_libsodium() == expected);
    BOOST_TEST(!reference.via_libsodium());
    BOOST_TEST(!make_key(aead_algorithm::aes_128_gcm, random_vector(16)).via_libsodium());
    if (!expected) {
        BOOST_TEST_MESSAGE("no AES-NI/PCLMUL: libsodium's AES-256-GCM is not used here");
        return;
    }
    // The routing itself: up to the limit and apart from the AAD, libsodium.
    using access = weft::crypto::aead_key_test_access;
    const bytes packet = random_vector(aead_key::libsodium_max_payload + 40);
    const std::span<const std::uint8_t> p(packet);
    BOOST_TEST(access::takes_libsodium(fast, p.first(16), p.subspan(16, 0)));
    BOOST_TEST(access::takes_libsodium(fast, p.first(16), p.subspan(16, aead_key::libsodium_max_payload)));
    BOOST_TEST(!access::takes_libsodium(fast, p.first(16), p.subspan(16, aead_key::libsodium_max_payload + 1)));
    BOOST_TEST(!access::takes_libsodium(fast, p.subspan(10, 30), p.subspan(20, 80)));  // overlapping
    BOOST_TEST(!access::takes_libsodium(reference, p.first(16), p.subspan(16, 100)));
    std::size_t checked = 0;
    for (std::size_t size = 0; size <= aead_key::libsodium_max_payload + 70; ++size) {
        for (std::size_t aad_size : {0, 1, 15, 16, 17, 33}) {
            if (size % 7 != 0 && aad_size != 16) continue;  // every length with a header's AAD
            const nonce_t nonce = counter_nonce(1000 * size + aad_size);
            const bytes aad = random_vector(aad_size);
            const bytes plain = random_vector(size);
            const auto [a, ta] = same_bytes_both_ways(fast, reference, nonce, aad, plain);
            tag_t forged = ta;
            forged[size % aead_tag_size] ^= 0x01;
            bytes c = a;
            BOOST_TEST_REQUIRE(!fast.open(nonce, aad, c, forged), "size " << size);
            if (size != 0) {
                c = a;
                c[size / 2] ^= 0x40;
                BOOST_TEST_REQUIRE(!fast.open(nonce, aad, c, ta), "size " << size);
            }
            if (!aad.empty()) {
                bytes aad2 = aad;
                aad2.front() ^= 0x02;
                c = a;
                BOOST_TEST_REQUIRE(!fast.open(nonce, aad2, c, ta), "size " << size);
            }
            c = a;
            BOOST_TEST_REQUIRE(!fast.open(counter_nonce(1000 * size + aad_size + 1), aad, c, ta), "size " << size);
            {
                framed f(aad, plain);
                BOOST_TEST_REQUIRE(fast.seal(nonce, f.head(), f.payload(), f.tag()));
                BOOST_TEST_REQUIRE((f.payload_is(a) && f.tag_is(ta)), "framed size " << size);
                BOOST_TEST_REQUIRE(reference.open(nonce, f.head(), f.payload(), f.tag()));
                BOOST_TEST_REQUIRE(f.payload_is(plain), "framed size " << size);
            }
            ++checked;
        }
    }
    BOOST_TEST(checked > 500u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(small_aes_256_gcm_payloads_take_libsodium) {
    small_payloads_take_libsodium_with_openssls_bytes(aead_algorithm::aes_256_gcm);
}

BOOST_AUTO_TEST_CASE(small_chacha20_poly1305_payloads_take_libsodium) {
    small_payloads_take_libsodium_with_openssls_bytes(aead_algorithm::chacha20_poly1305);
}

// Two threads seal and open at once, each with its own keys: the working
// copy is per thread, so neither sees the other's bytes.
BOOST_AUTO_TEST_CASE(composed_chacha20_poly1305_from_two_threads) {
    std::atomic<int> wrong{0};
    auto work = [&wrong](std::uint8_t seed) {
        const bytes key_bytes(32, seed);
        aead_key sealer = make_key(aead_algorithm::chacha20_poly1305, key_bytes);
        aead_key opener = make_key(aead_algorithm::chacha20_poly1305, key_bytes);
        aead_key reference = make_key(aead_algorithm::chacha20_poly1305, key_bytes);
        weft::crypto::aead_key_test_access::use_openssl_aead_only(reference);
        const bytes aad(16, seed);
        for (std::uint64_t i = 0; i < 5000; ++i) {
            const bytes plain(64 + i % 1400, static_cast<std::uint8_t>(seed + i));
            bytes a = plain, b = plain;
            tag_t ta{}, tb{};
            const nonce_t nonce = counter_nonce(i);
            if (!sealer.seal(nonce, aad, a, ta) || !reference.seal(nonce, aad, b, tb) || a != b || ta != tb ||
                !opener.open(nonce, aad, a, ta) || a != plain)
                ++wrong;
        }
    };
    std::thread t1(work, 0x11), t2(work, 0x22);
    t1.join();
    t2.join();
    BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_CASE(any_single_bit_flip_is_rejected) {
    for (aead_algorithm alg : weft::crypto::all_aead_algorithms) {
        BOOST_TEST_CONTEXT(weft::crypto::name(alg)) {
            const bytes key_bytes = random_vector(weft::crypto::key_size(alg));
            aead_key sealer = make_key(alg, key_bytes);
            aead_key opener = make_key(alg, key_bytes);
            nonce_t nonce{};
            weft::crypto::random_bytes(nonce);
            const bytes aad = random_vector(16);  // a frame header's worth
            const bytes plain = random_vector(33);
            bytes cipher = plain;
            tag_t tag{};
            BOOST_TEST_REQUIRE(sealer.seal(nonce, aad, cipher, tag));

            // Opens a copy of `c`: a failed open leaves its buffer
            // unspecified, so every attempt starts from intact bytes.
            auto opens = [&](const nonce_t& n, const bytes& a, const bytes& c, const tag_t& t) {
                bytes buf = c;
                return opener.open(n, a, buf, t);
            };
            int accepted = 0;
            for (std::size_t bit = 0; bit < cipher.size() * 8; ++bit) {
                bytes c = cipher;
                c[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
                accepted += opens(nonce, aad, c, tag);
            }
            for (std::size_t bit = 0; bit < tag.size() * 8; ++bit) {
                tag_t t = tag;
                t[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
                accepted += opens(nonce, aad, cipher, t);
            }
            for (std::size_t bit = 0; bit < aad.size() * 8; ++bit) {
                bytes a = aad;
                a[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
                accepted += opens(nonce, a, cipher, tag);
            }
            for (std::size_t bit = 0; bit < nonce.size() * 8; ++bit) {
                nonce_t n = nonce;
                n[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
                accepted += opens(n, aad, cipher, tag);
            }
            // Truncated or extended AAD is a different AAD.
            accepted += opens(nonce, bytes(aad.begin(), aad.end() - 1), cipher, tag);
            accepted += opens(nonce, bytes{}, cipher, tag);
            BOOST_TEST(accepted == 0);
            // Hundreds of failures later the same context still opens the
            // genuine packet, and OpenSSL's error queue was left empty.
            bytes buf = cipher;
            BOOST_TEST(opener.open(nonce, aad, buf, tag));
            BOOST_TEST((buf == plain));
            BOOST_TEST(ERR_peek_error() == 0ul);
        }
    }
}

BOOST_AUTO_TEST_CASE(key_size_and_algorithm_checked_by_create) {
    const bytes long_key = random_vector(64);
    for (aead_algorithm alg : weft::crypto::all_aead_algorithms) {
        const std::size_t good = weft::crypto::key_size(alg);
        for (std::size_t size : {std::size_t{0}, good - 1, good + 1, std::size_t{16},
                                 std::size_t{24}, std::size_t{32}, std::size_t{64}}) {
            if (size == good) continue;
            auto k = aead_key::create(alg, std::span(long_key).first(size));
            BOOST_TEST_REQUIRE(!k.has_value(), weft::crypto::name(alg) << " took " << size);
            const std::string& msg = k.error().message;
            BOOST_TEST(msg.find(std::string(weft::crypto::name(alg))) != std::string::npos, msg);
            BOOST_TEST(msg.find(std::to_string(good) + "-byte key") != std::string::npos, msg);
            BOOST_TEST(msg.find("got " + std::to_string(size)) != std::string::npos, msg);
        }
        BOOST_TEST(aead_key::create(alg, std::span(long_key).first(good)).has_value());
    }
    for (int raw : {0, 4, 255}) {
        auto k = aead_key::create(static_cast<aead_algorithm>(raw), std::span(long_key).first(32));
        BOOST_TEST_REQUIRE(!k.has_value());
        BOOST_TEST(k.error().message.find("unknown") != std::string::npos, k.error().message);
    }
}

BOOST_AUTO_TEST_CASE(same_bytes_interoperate_other_bytes_do_not) {
    for (aead_algorithm alg : weft::crypto::all_aead_algorithms) {
        BOOST_TEST_CONTEXT(weft::crypto::name(alg)) {
            const bytes key_bytes = random_vector(weft::crypto::key_size(alg));
            bytes other_bytes = key_bytes;
            other_bytes[0] ^= 0x80;
            aead_key a = make_key(alg, key_bytes);
            aead_key b = make_key(alg, key_bytes);
            aead_key c = make_key(alg, other_bytes);
            const nonce_t nonce = counter_nonce(42);
            const bytes aad = random_vector(16);
            const bytes plain = random_vector(100);

            bytes buf = plain;
            tag_t tag{};
            BOOST_TEST_REQUIRE(a.seal(nonce, aad, buf, tag));
            const bytes cipher = buf;
            BOOST_TEST(!c.open(nonce, aad, buf, tag));
            buf = cipher;
            BOOST_TEST(b.open(nonce, aad, buf, tag));
            BOOST_TEST((buf == plain));
            // And the object that sealed can open too (its own open context).
            buf = cipher;
            BOOST_TEST(a.open(nonce, aad, buf, tag));
            BOOST_TEST((buf == plain));

            // A move keeps the contexts: the new owner opens the same packet.
            aead_key moved = std::move(b);
            buf = cipher;
            BOOST_TEST(moved.open(nonce, aad, buf, tag));
            BOOST_TEST((buf == plain));
            BOOST_TEST((moved.algorithm() == alg));
        }
    }
}

// One long-lived key object per direction, thousands of packets, every size
// from 0 to 1499 bytes, with forged packets mixed in.  Every 97th packet is
// compared with what a freshly created object produces for the same input, and
// a known-answer vector sealed at the end by the well-worn object must still
// come out exactly: reusing the contexts must leave no state behind.
BOOST_AUTO_TEST_CASE(context_reuse_over_thousands_of_packets) {
    for (const auto& kat : known_answers) {
        // The vectors with AAD are exactly one per algorithm (8439, TC4, TC16).
        if (std::string_view(kat.aad).empty()) continue;
        BOOST_TEST_CONTEXT(weft::crypto::name(kat.alg)) {
            const bytes key_bytes = hex(kat.key);
            aead_key sealer = make_key(kat.alg, key_bytes);
            aead_key opener = make_key(kat.alg, key_bytes);
            const bytes aad = random_vector(16);
            const bytes source = random_vector(1500);
            int failures = 0;
            int forgeries_accepted = 0;
            int reference_mismatches = 0;
            for (std::uint64_t counter = 0; counter < 3000; ++counter) {
                const nonce_t nonce = counter_nonce(counter);
                const std::size_t size = counter % 1500;
                const bytes plain(source.begin(),
                                  source.begin() + static_cast<std::ptrdiff_t>(size));
                bytes buf = plain;
                tag_t tag{};
                if (!sealer.seal(nonce, aad, buf, tag)) ++failures;

                if (counter % 97 == 0) {
                    aead_key fresh = make_key(kat.alg, key_bytes);
                    bytes ref = plain;
                    tag_t ref_tag{};
                    if (!fresh.seal(nonce, aad, ref, ref_tag) || ref != buf || ref_tag != tag) {
                        ++reference_mismatches;
                    }
                }
                if (counter % 7 == 0) {  // a forgery first: it must not poison the next open
                    bytes forged = buf;
                    tag_t forged_tag = tag;
                    forged_tag[counter % aead_tag_size] ^= 0x01;
                    forgeries_accepted += opener.open(nonce, aad, forged, forged_tag);
                }
                if (!opener.open(nonce, aad, buf, tag) || buf != plain) ++failures;
            }
            BOOST_TEST(failures == 0);
            BOOST_TEST(forgeries_accepted == 0);
            BOOST_TEST(reference_mismatches == 0);
            check_seal(sealer, kat);
        }
    }
}

BOOST_AUTO_TEST_CASE(seal_and_open_do_not_allocate) {
    if (!allocation_hook_installed) {
        BOOST_WARN_MESSAGE(false,
                           "OpenSSL allocated before main(): allocation counting unavailable, "
                           "no-allocation property not checked");
        return;
    }
    for (aead_algorithm alg : weft::crypto::all_aead_algorithms) {
        BOOST_TEST_CONTEXT(weft::crypto::name(alg)) {
            const bytes key_bytes = random_vector(weft::crypto::key_size(alg));
            const std::size_t before_create = openssl_allocations.load();
            aead_key key = make_key(alg, key_bytes);
            // create() allocates its contexts: proof the counter is live.
            BOOST_TEST(openssl_allocations.load() > before_create);
            const bytes aad(16, 0xaa);
            // ChaCha20-Poly1305: 1400 bytes are composed, 4096 go through
            // OpenSSL's AEAD; both must not allocate.
            for (std::size_t size : {std::size_t{1400}, std::size_t{4096}}) {
            bytes buf(size, 0x55);
            bytes scratch(buf.size());  // sized up front: the loop must not allocate either
            tag_t tag{};
            // Warm-up: per-thread state OpenSSL sets up once (the error queue).
            bool ok = key.seal(counter_nonce(0), aad, buf, tag);
            std::copy(buf.begin(), buf.end(), scratch.begin());
            tag_t bad = tag;
            bad[0] ^= 1;
            ok = ok && !key.open(counter_nonce(0), aad, scratch, bad);
            ok = ok && key.open(counter_nonce(0), aad, buf, tag);
            BOOST_TEST_REQUIRE(ok);

            const std::size_t before = openssl_allocations.load();
            int wrong = 0;
            for (std::uint64_t i = 1; i <= 1000; ++i) {
                const nonce_t nonce = counter_nonce(i);
                wrong += !key.seal(nonce, aad, buf, tag);
                if (i % 2 == 0) {  // the failure path too, on a copy of the packet
                    bad = tag;
                    bad[i % aead_tag_size] ^= 0x40;
                    std::copy(buf.begin(), buf.end(), scratch.begin());
                    wrong += key.open(nonce, aad, scratch, bad);
                }
                wrong += !key.open(nonce, aad, buf, tag);
            }
            const std::size_t during = openssl_allocations.load() - before;
            BOOST_TEST(wrong == 0, "size " << size);
            BOOST_TEST(during == 0u, "size " << size);
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
