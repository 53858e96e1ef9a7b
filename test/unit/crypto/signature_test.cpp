// crypto/signature: Ed25519 and DSA-SHA256 keys for the node list.
//
// RFC 8032 known answers, PEM round trips, the fingerprint checked against
// the openssl command line, and every refusal of the key loaders (small DSA,
// other key types, encrypted keys, data before or after the one PEM block, a
// DSA key whose public value does not match its private value).
#include "crypto/signature.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/hex.hpp"
#include "crypto/evp_ptr.hpp"

namespace {

namespace crypto = weft::crypto;
using crypto::key_type;
using crypto::private_key;
using crypto::public_key;

using bytes = std::vector<std::uint8_t>;

bytes to_bytes(std::string_view s) {
    return bytes(s.begin(), s.end());
}

bytes hex(std::string_view h) {
    auto b = weft::from_hex(h);
    BOOST_REQUIRE(b.has_value());
    return *b;
}

template <class R>
std::string error_text(const R& r) {
    return r ? std::string() : r.error().message;
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

// PEM texts written by OpenSSL itself, independently of the code under test.
std::string pkcs8_pem(EVP_PKEY* key, const EVP_CIPHER* cipher = nullptr,
                      const char* pass = nullptr) {
    crypto::bio_ptr bio{BIO_new(BIO_s_mem())};
    BOOST_REQUIRE(bio);
    BOOST_REQUIRE(
        PEM_write_bio_PKCS8PrivateKey(bio.get(), key, cipher, pass,
                                      pass ? static_cast<int>(std::string_view(pass).size()) : 0,
                                      nullptr, nullptr) == 1);
    return bio_text(bio.get());
}

std::string traditional_pem(EVP_PKEY* key, const EVP_CIPHER* cipher = nullptr,
                            const char* pass = nullptr) {
    crypto::bio_ptr bio{BIO_new(BIO_s_mem())};
    BOOST_REQUIRE(bio);
    auto* kstr = reinterpret_cast<const unsigned char*>(pass);
    BOOST_REQUIRE(PEM_write_bio_PrivateKey_traditional(
                      bio.get(), key, cipher, kstr,
                      pass ? static_cast<int>(std::string_view(pass).size()) : 0, nullptr,
                      nullptr) == 1);
    return bio_text(bio.get());
}

std::string spki_pem(EVP_PKEY* key) {
    crypto::bio_ptr bio{BIO_new(BIO_s_mem())};
    BOOST_REQUIRE(bio);
    BOOST_REQUIRE(PEM_write_bio_PUBKEY(bio.get(), key) == 1);
    return bio_text(bio.get());
}

crypto::evp_pkey_ptr read_spki_pem(const std::string& pem) {
    crypto::bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
    BOOST_REQUIRE(bio);
    crypto::evp_pkey_ptr key{PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)};
    BOOST_REQUIRE(key);
    return key;
}

crypto::evp_pkey_ptr dsa_with_bits(int bits, int q_bits) {
    crypto::evp_pkey_ctx_ptr pctx{EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr)};
    EVP_PKEY* params = nullptr;
    BOOST_REQUIRE(pctx);
    BOOST_REQUIRE(EVP_PKEY_paramgen_init(pctx.get()) == 1);
    BOOST_REQUIRE(EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx.get(), bits) == 1);
    BOOST_REQUIRE(EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pctx.get(), q_bits) == 1);
    BOOST_REQUIRE(EVP_PKEY_paramgen(pctx.get(), &params) == 1);
    crypto::evp_pkey_ptr param_key{params};
    crypto::evp_pkey_ctx_ptr kctx{EVP_PKEY_CTX_new_from_pkey(nullptr, param_key.get(), nullptr)};
    EVP_PKEY* raw = nullptr;
    BOOST_REQUIRE(kctx);
    BOOST_REQUIRE(EVP_PKEY_keygen_init(kctx.get()) == 1);
    BOOST_REQUIRE(EVP_PKEY_keygen(kctx.get(), &raw) == 1);
    return crypto::evp_pkey_ptr{raw};
}

crypto::evp_pkey_ptr ed25519_from_seed(const bytes& seed) {
    crypto::evp_pkey_ptr k{
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size())};
    BOOST_REQUIRE(k);
    return k;
}

// One DSA key per test binary: parameter generation at 2048 bits takes
// seconds.  Made on first use, so runs that skip the DSA cases do not pay.
const private_key& shared_dsa_key() {
    static std::optional<private_key> key;
    if (!key) {
        auto k = private_key::generate(key_type::dsa);
        BOOST_REQUIRE_MESSAGE(k.has_value(), error_text(k));
        key.emplace(std::move(k).value());
    }
    return *key;
}

private_key new_ed25519() {
    auto k = private_key::generate(key_type::ed25519);
    BOOST_REQUIRE_MESSAGE(k.has_value(), error_text(k));
    return std::move(k).value();
}

private_key load_private(const std::string& pem) {
    auto k = private_key::from_pem(pem);
    BOOST_REQUIRE_MESSAGE(k.has_value(), error_text(k));
    return std::move(k).value();
}

public_key load_public(const std::string& pem) {
    auto k = public_key::from_pem(pem);
    BOOST_REQUIRE_MESSAGE(k.has_value(), error_text(k));
    return std::move(k).value();
}

bytes sign(const private_key& k, std::span<const std::uint8_t> msg) {
    auto s = k.sign(msg);
    BOOST_REQUIRE_MESSAGE(s.has_value(), error_text(s));
    return std::move(s).value();
}

// Refusals leave nothing behind on the thread's OpenSSL error queue, where
// it would be blamed on the next unrelated call.
void expect_private_refused(const std::string& pem, std::string_view needle = {}) {
    auto k = private_key::from_pem(pem);
    BOOST_REQUIRE_MESSAGE(!k.has_value(), "private key accepted");
    if (!needle.empty())
        BOOST_CHECK_MESSAGE(k.error().message.find(needle) != std::string::npos,
                            "message \"" << k.error().message << "\" lacks \"" << needle << "\"");
    BOOST_TEST(ERR_peek_error() == 0ul);
    ERR_clear_error();
}

void expect_public_refused(const std::string& pem, std::string_view needle = {}) {
    auto k = public_key::from_pem(pem);
    BOOST_REQUIRE_MESSAGE(!k.has_value(), "public key accepted");
    if (!needle.empty())
        BOOST_CHECK_MESSAGE(k.error().message.find(needle) != std::string::npos,
                            "message \"" << k.error().message << "\" lacks \"" << needle << "\"");
    BOOST_TEST(ERR_peek_error() == 0ul);
    ERR_clear_error();
}

// SHA-256 of `openssl pkey -pubin -outform DER` run on `pem`, as lowercase hex.
std::string openssl_cli_fingerprint(const std::string& pem) {
    std::string path = (std::filesystem::temp_directory_path() / "weft-sigtest-XXXXXX").string();
    int fd = mkstemp(path.data());
    BOOST_REQUIRE(fd >= 0);
    close(fd);
    {
        std::ofstream out(path, std::ios::binary);
        out << pem;
    }
    const std::string cmd =
        "openssl pkey -pubin -in '" + path + "' -outform DER | openssl dgst -sha256 -r";
    std::string output;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char buf[256];
        while (std::fgets(buf, sizeof buf, p)) output += buf;
        pclose(p);
    }
    std::filesystem::remove(path);
    BOOST_REQUIRE_MESSAGE(output.size() >= 64, "openssl printed '" << output << "'");
    return output.substr(0, 64);
}

std::string sha256_hex(const bytes& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    BOOST_REQUIRE(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) == 1);
    return weft::to_hex(std::span<const std::uint8_t>(md, len));
}

// RFC 8032 section 7.1, TEST 1 and TEST 2.
struct rfc8032_vector {
    const char* name;
    const char* secret;
    const char* public_key;
    const char* message;
    const char* signature;
};
const rfc8032_vector rfc8032_vectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(signature)

BOOST_AUTO_TEST_CASE(rfc8032_known_answers) {
    for (const auto& v : rfc8032_vectors) {
        BOOST_TEST_CONTEXT(v.name) {
            auto raw = ed25519_from_seed(hex(v.secret));
            const private_key key = load_private(pkcs8_pem(raw.get()));
            BOOST_TEST((key.type() == key_type::ed25519));
            const bytes msg = hex(v.message);

            // The signature, byte for byte.
            BOOST_TEST(weft::to_hex(sign(key, msg)) == std::string(v.signature));

            // The public half is the vector's public key.
            auto pub = read_spki_pem(key.public_part().to_pem());
            bytes raw_pub(32);
            std::size_t len = raw_pub.size();
            BOOST_REQUIRE(EVP_PKEY_get_raw_public_key(pub.get(), raw_pub.data(), &len) == 1);
            BOOST_TEST(weft::to_hex(raw_pub) == std::string(v.public_key));

            // A public key made from the vector's bytes accepts the vector's
            // signature, and its fingerprint is SHA-256 over the 44-byte SPKI.
            crypto::evp_pkey_ptr vk{EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                                hex(v.public_key).data(), 32)};
            BOOST_REQUIRE(vk);
            const public_key verifier = load_public(spki_pem(vk.get()));
            BOOST_TEST(verifier.verify(msg, hex(v.signature)));
            bytes spki = hex(std::string("302a300506032b6570032100") + v.public_key);
            BOOST_TEST(weft::to_hex(verifier.fingerprint()) == sha256_hex(spki));
            BOOST_TEST((verifier.fingerprint() == key.public_part().fingerprint()));
        }
    }
}

BOOST_AUTO_TEST_CASE(ed25519_generate_pem_round_trip) {
    const private_key key = new_ed25519();
    BOOST_TEST((key.type() == key_type::ed25519));
    BOOST_TEST(std::string(crypto::to_string(key.type())) == "ed25519");

    const std::string pem = key.to_pem();
    BOOST_TEST(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0u);
    const private_key again = load_private(pem);
    BOOST_TEST((again.public_part().fingerprint() == key.public_part().fingerprint()));
    BOOST_TEST(again.to_pem() == pem);

    const std::string pub_pem = key.public_part().to_pem();
    BOOST_TEST(pub_pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0) == 0u);
    const public_key pub = load_public(pub_pem);
    BOOST_TEST((pub.type() == key_type::ed25519));
    BOOST_TEST((pub.fingerprint() == key.public_part().fingerprint()));
    BOOST_TEST(pub.to_pem() == pub_pem);

    // Pure Ed25519 is deterministic: the reloaded key signs identically, and
    // the signatures verify under the reloaded public key.
    const bytes msg = to_bytes("weft-bnl-signature-v1\nnetwork = t\n");
    const bytes sig = sign(key, msg);
    BOOST_TEST(sig.size() == 64u);
    BOOST_TEST((sign(again, msg) == sig));
    BOOST_TEST(pub.verify(msg, sig));
    BOOST_TEST(pub.verify(bytes{}, sign(key, bytes{})));

    // Two generated keys differ.
    BOOST_TEST((new_ed25519().public_part().fingerprint() != key.public_part().fingerprint()));
}

BOOST_AUTO_TEST_CASE(dsa_generate_pem_round_trip) {
    const private_key& key = shared_dsa_key();
    BOOST_TEST((key.type() == key_type::dsa));
    BOOST_TEST(std::string(crypto::to_string(key.type())) == "dsa");
    BOOST_TEST(key.public_part().bits() == 2048u);

    const std::string pem = key.to_pem();
    BOOST_TEST(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0u);
    const private_key again = load_private(pem);
    BOOST_TEST((again.public_part().fingerprint() == key.public_part().fingerprint()));
    const public_key pub = load_public(key.public_part().to_pem());
    BOOST_TEST((pub.type() == key_type::dsa));
    BOOST_TEST(pub.bits() == 2048u);

    // DSA-SHA256 signatures are DER and randomised; each verifies.
    const bytes msg = to_bytes("a node list");
    const bytes s1 = sign(key, msg), s2 = sign(again, msg);
    BOOST_TEST(s1.at(0) == 0x30);
    BOOST_TEST((s1 != s2));
    BOOST_TEST(pub.verify(msg, s1));
    BOOST_TEST(pub.verify(msg, s2));
    BOOST_TEST(!pub.verify(to_bytes("another list"), s1));
}

BOOST_AUTO_TEST_CASE(traditional_dsa_pem_loads) {
    const private_key& key = shared_dsa_key();
    // Re-encode the shared key in the traditional "DSA PRIVATE KEY" form.
    const std::string pkcs8 = key.to_pem();
    crypto::bio_ptr in{BIO_new_mem_buf(pkcs8.data(), static_cast<int>(pkcs8.size()))};
    crypto::evp_pkey_ptr raw{PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr)};
    BOOST_REQUIRE(raw);
    const std::string trad = traditional_pem(raw.get());
    BOOST_TEST(trad.rfind("-----BEGIN DSA PRIVATE KEY-----\n", 0) == 0u);
    const private_key loaded = load_private(trad);
    BOOST_TEST((loaded.public_part().fingerprint() == key.public_part().fingerprint()));
}

BOOST_AUTO_TEST_CASE(fingerprint_matches_the_openssl_command_line) {
    const private_key ed = new_ed25519();
    BOOST_TEST(weft::to_hex(ed.public_part().fingerprint()) ==
               openssl_cli_fingerprint(ed.public_part().to_pem()));
    const private_key& dsa = shared_dsa_key();
    BOOST_TEST(weft::to_hex(dsa.public_part().fingerprint()) ==
               openssl_cli_fingerprint(dsa.public_part().to_pem()));
}

BOOST_AUTO_TEST_CASE(small_dsa_keys_are_refused) {
    auto small = dsa_with_bits(1024, 160);
    expect_private_refused(pkcs8_pem(small.get()), "1024");
    expect_private_refused(traditional_pem(small.get()), "1024");
    expect_public_refused(spki_pem(small.get()), "1024");
    auto g = private_key::generate(key_type::dsa, 1024);
    BOOST_REQUIRE(!g.has_value());
    BOOST_TEST(g.error().message.find("2048") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(other_key_types_are_refused) {
    crypto::evp_pkey_ptr rsa{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024})};
    BOOST_REQUIRE(rsa);
    expect_private_refused(pkcs8_pem(rsa.get()), "unsupported key type rsa");
    expect_private_refused(traditional_pem(rsa.get()), "unsupported key type rsa");
    expect_public_refused(spki_pem(rsa.get()), "unsupported key type rsa");

    crypto::evp_pkey_ptr ec{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
    BOOST_REQUIRE(ec);
    expect_private_refused(pkcs8_pem(ec.get()), "unsupported key type");
    expect_public_refused(spki_pem(ec.get()), "unsupported key type");

    crypto::evp_pkey_ptr ed448{EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448")};
    BOOST_REQUIRE(ed448);
    expect_private_refused(pkcs8_pem(ed448.get()), "unsupported key type");
    expect_public_refused(spki_pem(ed448.get()), "unsupported key type");
}

BOOST_AUTO_TEST_CASE(encrypted_keys_are_refused_without_prompting) {
    const private_key key = new_ed25519();
    const std::string plain = key.to_pem();
    crypto::bio_ptr bio{BIO_new_mem_buf(plain.data(), static_cast<int>(plain.size()))};
    crypto::evp_pkey_ptr raw{PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)};
    BOOST_REQUIRE(raw);
    const std::string enc = pkcs8_pem(raw.get(), EVP_aes_256_cbc(), "correct horse");
    BOOST_TEST(enc.rfind("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 0) == 0u);
    expect_private_refused(enc);

    // The traditional form with a DEK-Info header, for a DSA key.
    const std::string dsa_plain = shared_dsa_key().to_pem();
    crypto::bio_ptr dbio{BIO_new_mem_buf(dsa_plain.data(), static_cast<int>(dsa_plain.size()))};
    crypto::evp_pkey_ptr draw{PEM_read_bio_PrivateKey(dbio.get(), nullptr, nullptr, nullptr)};
    BOOST_REQUIRE(draw);
    const std::string dek = traditional_pem(draw.get(), EVP_aes_128_cbc(), "correct horse");
    BOOST_TEST(dek.find("Proc-Type: 4,ENCRYPTED") != std::string::npos);
    expect_private_refused(dek);
}

BOOST_AUTO_TEST_CASE(trailing_data_after_the_pem_is_refused) {
    const private_key key = new_ed25519();
    const std::string pem = key.to_pem();
    const std::string pub = key.public_part().to_pem();
    const private_key other = new_ed25519();

    expect_private_refused(pem + "garbage\n", "unexpected data after the PEM block (a private key file");
    expect_private_refused(pem + "\n\n x", "after the PEM block");
    expect_private_refused(pem + other.to_pem(), "after the PEM block");
    expect_private_refused(pem + pub, "after the PEM block");
    expect_public_refused(pub + "garbage\n", "unexpected data after the PEM block (a public key file");
    expect_public_refused(pub + other.public_part().to_pem(), "after the PEM block");

    // White space after the object is fine.
    BOOST_TEST(private_key::from_pem(pem + "\n \t\r\n").has_value());
    BOOST_TEST(public_key::from_pem(pub + "\n\n").has_value());
}

// The typed PEM readers skip anything before the block they look for, text or
// whole PEM blocks of another kind: `cat signing.key admin.pub > x.pub` must
// not pass as admin.pub, nor a key file that starts with stray lines.
BOOST_AUTO_TEST_CASE(data_before_the_pem_is_refused) {
    const private_key key = new_ed25519();
    const std::string pem = key.to_pem();
    const std::string pub = key.public_part().to_pem();
    const private_key other = new_ed25519();
    const std::string dsa_pem = shared_dsa_key().to_pem();

    expect_public_refused("garbage\n" + pub, "unexpected data before the PEM block (a public key file");
    expect_public_refused("# admin's key\n" + pub, "before the PEM block");
    expect_public_refused(" x\n" + pub, "before the PEM block");
    expect_public_refused(dsa_pem + pub, "after the PEM block");  // a private key, then the public one
    expect_public_refused(pem + pub, "after the PEM block");
    expect_public_refused(other.public_part().to_pem() + pub, "after the PEM block");
    expect_private_refused("garbage\n" + pem, "unexpected data before the PEM block (a private key file");
    expect_private_refused(pub + pem, "after the PEM block");  // a public key, then the private one
    expect_private_refused(dsa_pem + pem, "after the PEM block");

    // White space before the block is fine.
    BOOST_TEST(private_key::from_pem("\n \t\r\n" + pem).has_value());
    BOOST_TEST((load_public("\n\n  " + pub + "\n").fingerprint() == key.public_part().fingerprint()));
}

// A traditional DSA key carries its public value y beside the private x; one
// whose y is not g^x mod p signs lists that no node holding y accepts.
BOOST_AUTO_TEST_CASE(dsa_key_whose_public_value_does_not_match_is_refused) {
    const std::string pkcs8 = shared_dsa_key().to_pem();
    crypto::bio_ptr in{BIO_new_mem_buf(pkcs8.data(), static_cast<int>(pkcs8.size()))};
    crypto::evp_pkey_ptr good{PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr)};
    BOOST_REQUIRE(good);
    BIGNUM *p = nullptr, *q = nullptr, *g = nullptr, *y = nullptr, *x = nullptr;
    BOOST_REQUIRE(EVP_PKEY_get_bn_param(good.get(), OSSL_PKEY_PARAM_FFC_P, &p) == 1);
    BOOST_REQUIRE(EVP_PKEY_get_bn_param(good.get(), OSSL_PKEY_PARAM_FFC_Q, &q) == 1);
    BOOST_REQUIRE(EVP_PKEY_get_bn_param(good.get(), OSSL_PKEY_PARAM_FFC_G, &g) == 1);
    BOOST_REQUIRE(EVP_PKEY_get_bn_param(good.get(), OSSL_PKEY_PARAM_PUB_KEY, &y) == 1);
    BOOST_REQUIRE(EVP_PKEY_get_bn_param(good.get(), OSSL_PKEY_PARAM_PRIV_KEY, &x) == 1);
    BOOST_REQUIRE(BN_add_word(x, 1) == 1);  // x + 1: y no longer belongs to it
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    BOOST_REQUIRE(bld);
    BOOST_REQUIRE(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) == 1);
    BOOST_REQUIRE(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_Q, q) == 1);
    BOOST_REQUIRE(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) == 1);
    BOOST_REQUIRE(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y) == 1);
    BOOST_REQUIRE(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, x) == 1);
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    BOOST_REQUIRE(params);
    crypto::evp_pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr)};
    EVP_PKEY* raw = nullptr;
    BOOST_REQUIRE(ctx);
    BOOST_REQUIRE(EVP_PKEY_fromdata_init(ctx.get()) == 1);
    BOOST_REQUIRE(EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params) == 1);
    crypto::evp_pkey_ptr bad{raw};
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    for (BIGNUM* bn : {p, q, g, y}) BN_free(bn);
    BN_clear_free(x);

    const std::string trad = traditional_pem(bad.get());
    BOOST_TEST(trad.rfind("-----BEGIN DSA PRIVATE KEY-----\n", 0) == 0u);
    expect_private_refused(trad, "the private key does not match its own public key");
    // The matching key in the same form still loads.
    BOOST_TEST(private_key::from_pem(traditional_pem(good.get())).has_value());
}

BOOST_AUTO_TEST_CASE(not_a_key_is_refused) {
    const private_key key = new_ed25519();
    const std::string pem = key.to_pem();
    const std::string pub = key.public_part().to_pem();
    expect_private_refused("");
    expect_private_refused("not a key\n");
    expect_private_refused(pem.substr(0, pem.size() / 2));  // truncated
    expect_private_refused(pub);                            // a public key is not a private key
    expect_public_refused("");
    expect_public_refused(pub.substr(0, pub.size() - 10));
    expect_public_refused(pem);  // nor the other way round
    std::string corrupted = pub;
    corrupted[30] = corrupted[30] == 'A' ? 'B' : 'A';  // inside the base64 body
    expect_public_refused(corrupted);
}

BOOST_AUTO_TEST_CASE(bad_signatures_return_false) {
    const private_key ed = new_ed25519();
    const bytes msg = to_bytes("message");
    const bytes sig = sign(ed, msg);
    const public_key& pub = ed.public_part();
    BOOST_TEST(pub.verify(msg, sig));
    BOOST_TEST(!pub.verify(msg, bytes(sig.begin(), sig.end() - 1)));  // 63 bytes
    bytes longer = sig;
    longer.push_back(0);
    BOOST_TEST(!pub.verify(msg, longer));  // 65 bytes
    BOOST_TEST(!pub.verify(msg, bytes{}));
    BOOST_TEST(!pub.verify(msg, bytes(64, 0)));
    for (std::size_t i = 0; i < sig.size(); i += 7) {
        bytes flipped = sig;
        flipped[i] ^= 0x01;
        BOOST_TEST_CONTEXT("bit 0 of byte " << i) {
            BOOST_TEST(!pub.verify(msg, flipped));
        }
    }
    BOOST_TEST(!pub.verify(to_bytes("messagf"), sig));
    BOOST_TEST(!new_ed25519().public_part().verify(msg, sig));  // another key

    const private_key& dsa = shared_dsa_key();
    const bytes dsig = sign(dsa, msg);
    BOOST_TEST(dsa.public_part().verify(msg, dsig));
    BOOST_TEST(!dsa.public_part().verify(msg, bytes(dsig.begin(), dsig.end() - 1)));
    BOOST_TEST(!dsa.public_part().verify(msg, bytes{}));
    BOOST_TEST(!dsa.public_part().verify(msg, bytes(72, 0x30)));
    BOOST_TEST(!dsa.public_part().verify(msg, sig));  // an Ed25519 signature
    BOOST_TEST(!pub.verify(msg, dsig));               // a DSA signature
    BOOST_TEST(ERR_peek_error() == 0ul);
}

BOOST_AUTO_TEST_SUITE_END()
