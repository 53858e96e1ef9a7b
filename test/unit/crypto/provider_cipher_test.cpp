// provider_cipher against a provider of the test's own, loaded into a
// library context of its own: a trivial "cipher" (a copy) that one provider
// lists once and another twice, so both the direct calls and the refusal
// of a cipher EVP would pick among by property are exercised.
#include <boost/test/unit_test.hpp>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "crypto/provider_cipher.hpp"

namespace {

int copy_ctx_slot;
void* copy_newctx(void*) { return &copy_ctx_slot; }
void copy_freectx(void*) {}
int copy_init(void*, const unsigned char*, size_t, const unsigned char*, size_t, const OSSL_PARAM[]) { return 1; }
int copy_update(void*, unsigned char* out, size_t* outl, size_t outsize, const unsigned char* in, size_t inl) {
    if (outsize < inl) return 0;
    if (out != nullptr) std::memmove(out, in, inl);
    *outl = inl;
    return 1;
}
int copy_final(void*, unsigned char*, size_t* outl, size_t) {
    *outl = 0;
    return 1;
}
int copy_get_params(OSSL_PARAM params[]) {
    OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_KEYLEN);
    if (p != nullptr && OSSL_PARAM_set_size_t(p, 16) != 1) return 0;
    p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_IVLEN);
    if (p != nullptr && OSSL_PARAM_set_size_t(p, 12) != 1) return 0;
    p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_BLOCK_SIZE);
    if (p != nullptr && OSSL_PARAM_set_size_t(p, 1) != 1) return 0;
    return 1;
}
using fn = void (*)();
const OSSL_DISPATCH copy_cipher[] = {
    {OSSL_FUNC_CIPHER_NEWCTX, reinterpret_cast<fn>(copy_newctx)},
    {OSSL_FUNC_CIPHER_FREECTX, reinterpret_cast<fn>(copy_freectx)},
    {OSSL_FUNC_CIPHER_ENCRYPT_INIT, reinterpret_cast<fn>(copy_init)},
    {OSSL_FUNC_CIPHER_DECRYPT_INIT, reinterpret_cast<fn>(copy_init)},
    {OSSL_FUNC_CIPHER_UPDATE, reinterpret_cast<fn>(copy_update)},
    {OSSL_FUNC_CIPHER_FINAL, reinterpret_cast<fn>(copy_final)},
    {OSSL_FUNC_CIPHER_GET_PARAMS, reinterpret_cast<fn>(copy_get_params)},
    {0, nullptr}};
const OSSL_ALGORITHM listed_once[] = {{"WEFT-TEST-COPY", "", copy_cipher, "copy"}, {nullptr, nullptr, nullptr, nullptr}};
const OSSL_ALGORITHM listed_twice[] = {{"WEFT-TEST-COPY", "", copy_cipher, "copy"},
                                       {"WEFT-TEST-COPY", "", copy_cipher, "copy too"},
                                       {nullptr, nullptr, nullptr, nullptr}};
const OSSL_ALGORITHM* query_once(void*, int id, int* no_cache) {
    *no_cache = 0;
    return id == OSSL_OP_CIPHER ? listed_once : nullptr;
}
const OSSL_ALGORITHM* query_twice(void*, int id, int* no_cache) {
    *no_cache = 0;
    return id == OSSL_OP_CIPHER ? listed_twice : nullptr;
}
const OSSL_DISPATCH once_provider[] = {{OSSL_FUNC_PROVIDER_QUERY_OPERATION, reinterpret_cast<fn>(query_once)},
                                       {0, nullptr}};
const OSSL_DISPATCH twice_provider[] = {{OSSL_FUNC_PROVIDER_QUERY_OPERATION, reinterpret_cast<fn>(query_twice)},
                                        {0, nullptr}};
int init_once(const OSSL_CORE_HANDLE* h, const OSSL_DISPATCH*, const OSSL_DISPATCH** out, void** ctx) {
    *out = once_provider;
    *ctx = const_cast<OSSL_CORE_HANDLE*>(h);
    return 1;
}
int init_twice(const OSSL_CORE_HANDLE* h, const OSSL_DISPATCH*, const OSSL_DISPATCH** out, void** ctx) {
    *out = twice_provider;
    *ctx = const_cast<OSSL_CORE_HANDLE*>(h);
    return 1;
}

// A library context holding only the provider `init` makes, and the test
// cipher fetched from it.
struct test_provider {
    OSSL_LIB_CTX* lib = OSSL_LIB_CTX_new();
    OSSL_PROVIDER* prov = nullptr;
    EVP_CIPHER* cipher = nullptr;
    explicit test_provider(OSSL_provider_init_fn* init) {
        BOOST_TEST_REQUIRE(lib != nullptr);
        BOOST_TEST_REQUIRE(OSSL_PROVIDER_add_builtin(lib, "weft-test", init) == 1);
        prov = OSSL_PROVIDER_load(lib, "weft-test");
        BOOST_TEST_REQUIRE(prov != nullptr);
        cipher = EVP_CIPHER_fetch(lib, "WEFT-TEST-COPY", nullptr);
        BOOST_TEST_REQUIRE(cipher != nullptr);
    }
    ~test_provider() {
        EVP_CIPHER_free(cipher);
        OSSL_PROVIDER_unload(prov);
        OSSL_LIB_CTX_free(lib);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(provider_cipher)

BOOST_AUTO_TEST_CASE(calls_the_listed_implementation) {
    test_provider t(init_once);
    const std::array<std::uint8_t, 16> key{};
    auto c = weft::crypto::provider_cipher::create(t.cipher, key, true, /*aead=*/false);
    BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
    std::array<std::uint8_t, 12> iv{};
    const std::string text = "moved through the provider's own update";
    std::string out(text.size(), '\0');
    BOOST_TEST(c->start(iv));
    BOOST_TEST(c->update(reinterpret_cast<std::uint8_t*>(out.data()), reinterpret_cast<const std::uint8_t*>(text.data()),
                         text.size()));
    BOOST_TEST(out == text);
    // This "cipher" has no context parameters: usable as a stream, not as an AEAD.
    auto aead = weft::crypto::provider_cipher::create(t.cipher, key, true, /*aead=*/true);
    BOOST_TEST_REQUIRE(!aead.has_value());
    BOOST_TEST(aead.error().message == "WEFT-TEST-COPY: its provider lacks a cipher function weft calls");
}

BOOST_AUTO_TEST_CASE(a_cipher_listed_twice_is_refused) {
    test_provider t(init_twice);
    const std::array<std::uint8_t, 16> key{};
    auto c = weft::crypto::provider_cipher::create(t.cipher, key, true, /*aead=*/false);
    BOOST_TEST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error().message == "WEFT-TEST-COPY: its provider lists more than one implementation of it");
}

BOOST_AUTO_TEST_CASE(an_empty_object_is_not_valid) {
    weft::crypto::provider_cipher empty;
    BOOST_TEST(!empty.valid());
    test_provider t(init_once);
    const std::array<std::uint8_t, 16> key{};
    auto c = weft::crypto::provider_cipher::create(t.cipher, key, false, /*aead=*/false);
    BOOST_TEST_REQUIRE(c.has_value());
    weft::crypto::provider_cipher moved = std::move(*c);
    BOOST_TEST(moved.valid());
    BOOST_TEST(!c->valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
}

BOOST_AUTO_TEST_SUITE_END()
