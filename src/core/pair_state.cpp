#include "core/pair_state.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "base/check.hpp"
#include "base/endian.hpp"
#include "crypto/digest.hpp"
#include "wire/bnl.hpp"
#include "wire/negotiation.hpp"

namespace weft {

namespace L = pair_state_layout;

static_assert(L::checksum_size == crypto::sha256_digest{}.size());
static_assert(L::max_key_size >= crypto::key_size(crypto::aead_algorithm::aes_256_gcm) &&
              L::max_key_size >= crypto::key_size(crypto::aead_algorithm::chacha20_poly1305));
// The file stores wire ids; both enumerations must keep their numbering.
static_assert(static_cast<std::uint8_t>(crypto::aead_algorithm::aes_256_gcm) ==
                  static_cast<std::uint8_t>(cipher_id::aes_256_gcm) &&
              static_cast<std::uint8_t>(crypto::aead_algorithm::aes_128_gcm) ==
                  static_cast<std::uint8_t>(cipher_id::aes_128_gcm) &&
              static_cast<std::uint8_t>(crypto::aead_algorithm::chacha20_poly1305) ==
                  static_cast<std::uint8_t>(cipher_id::chacha20_poly1305));

namespace {

// Key length of a stored cipher id; 0 for an id that names no cipher.
// (key_size() of an out-of-range enum value is 0 by its contract.)
std::size_t key_length_of(std::uint8_t cipher) noexcept {
    return crypto::key_size(static_cast<crypto::aead_algorithm>(cipher));
}

bool same_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
    return a.size() == b.size() && (a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0);
}

const char* keyset_problem(const pair_keyset& k) noexcept {
    if (k.epoch == 0) return "keyset epoch 0";
    const std::size_t key_len = key_length_of(k.cipher);
    if (key_len == 0) return "unknown cipher id";
    if (k.tx_key.size() != key_len || k.rx_key.size() != key_len)
        return "key length does not match the cipher";
    // valid_level() is false for every level of an unknown compression id.
    if (!valid_level(static_cast<compression_id>(k.compression), k.level))
        return "unknown compression id or level out of range";
    return nullptr;
}

// Appends fields at a moving offset into a buffer sized in advance.
class writer {
public:
    explicit writer(std::span<std::uint8_t> out) noexcept : out_(out) {}
    void u8(std::uint8_t v) noexcept {
        WEFT_CHECK(pos_ < out_.size());
        out_[pos_++] = v;
    }
    template <class U>
    void be(U v) noexcept {
        store_be(out_, pos_, v);
        pos_ += sizeof(U);
    }
    void bytes(std::span<const std::uint8_t> b) noexcept {
        WEFT_CHECK(b.size() <= out_.size() - pos_);
        std::copy(b.begin(), b.end(), out_.begin() + static_cast<std::ptrdiff_t>(pos_));
        pos_ += b.size();
    }
    std::size_t pos() const noexcept { return pos_; }

private:
    std::span<std::uint8_t> out_;
    std::size_t pos_ = 0;
};

// Reads fields at a moving offset; every read checks the remaining length
// first and fails (without reading) when it is too short.
class reader {
public:
    explicit reader(std::span<const std::uint8_t> in, std::size_t pos) noexcept
        : in_(in), pos_(pos) {}
    bool u8(std::uint8_t& v) noexcept {
        if (remaining() < 1) return false;
        v = in_[pos_++];
        return true;
    }
    template <class U>
    bool be(U& v) noexcept {
        if (remaining() < sizeof(U)) return false;
        v = load_be<U>(in_, pos_);
        pos_ += sizeof(U);
        return true;
    }
    bool bytes(std::size_t n, std::span<const std::uint8_t>& v) noexcept {
        if (remaining() < n) return false;
        v = in_.subspan(pos_, n);
        pos_ += n;
        return true;
    }
    std::size_t remaining() const noexcept { return in_.size() - pos_; }
    std::size_t pos() const noexcept { return pos_; }

private:
    std::span<const std::uint8_t> in_;
    std::size_t pos_;
};

void write_keyset(writer& w, const pair_keyset& k) {
    const std::size_t start = w.pos();
    w.be<std::uint32_t>(k.epoch);
    w.u8(k.cipher);
    w.u8(k.compression);
    w.u8(k.level);
    w.u8(static_cast<std::uint8_t>(k.tx_key.size()));
    w.be<std::uint64_t>(static_cast<std::uint64_t>(k.established_at));
    w.be<std::uint64_t>(static_cast<std::uint64_t>(k.valid_until));
    w.be<std::uint64_t>(k.tx_reserved);
    w.be<std::uint64_t>(k.rx_highwater);
    WEFT_CHECK(w.pos() - start == L::ks_fixed_size);
    w.bytes(k.tx_key.span());
    w.bytes(k.tx_salt.span());
    w.bytes(k.rx_key.span());
    w.bytes(k.rx_salt.span());
    WEFT_CHECK(w.pos() - start == L::keyset_size(k.tx_key.size()));
}

unexpected<state_error> fail(state_error_code code, std::string message) {
    return unexpected{state_error{code, std::move(message)}};
}

unexpected<state_error> malformed(std::string message) {
    return fail(state_error_code::malformed, std::move(message));
}

// Reads one keyset.  On failure returns why; the checks beyond the layout
// (epoch, levels) are left to pair_state_problem() so there is one list.
const char* read_keyset(reader& r, pair_keyset& k) {
    const std::size_t start = r.pos();
    std::uint8_t key_len = 0;
    std::uint64_t established = 0, valid_until = 0;
    if (!r.be(k.epoch) || !r.u8(k.cipher) || !r.u8(k.compression) || !r.u8(k.level) ||
        !r.u8(key_len) || !r.be(established) || !r.be(valid_until) || !r.be(k.tx_reserved) ||
        !r.be(k.rx_highwater))
        return "keyset cut short";
    WEFT_CHECK(r.pos() - start == L::ks_fixed_size);
    // Two's complement reinterpretation, exactly the inverse of the writer.
    k.established_at = static_cast<std::int64_t>(established);
    k.valid_until = static_cast<std::int64_t>(valid_until);
    // Check the length against the cipher before using it to slice.
    const std::size_t expected = key_length_of(k.cipher);
    if (expected == 0) return "unknown cipher id";
    if (key_len != expected) return "key length does not match the cipher";
    std::span<const std::uint8_t> tx_key, tx_salt, rx_key, rx_salt;
    if (!r.bytes(key_len, tx_key) || !r.bytes(L::salt_size, tx_salt) || !r.bytes(key_len, rx_key) ||
        !r.bytes(L::salt_size, rx_salt))
        return "key material cut short";
    k.tx_key = crypto::secret_bytes(tx_key);
    k.rx_key = crypto::secret_bytes(rx_key);
    k.tx_salt = nonce_salt(tx_salt.first<L::salt_size>());
    k.rx_salt = nonce_salt(rx_salt.first<L::salt_size>());
    return nullptr;
}

}  // namespace

pair_keyset pair_keyset::clone() const {
    pair_keyset k;
    k.epoch = epoch;
    k.cipher = cipher;
    k.compression = compression;
    k.level = level;
    k.established_at = established_at;
    k.valid_until = valid_until;
    k.tx_key = tx_key.clone();
    k.rx_key = rx_key.clone();
    k.tx_salt = tx_salt.clone();
    k.rx_salt = rx_salt.clone();
    k.tx_reserved = tx_reserved;
    k.rx_highwater = rx_highwater;
    return k;
}

bool operator==(const pair_keyset& a, const pair_keyset& b) noexcept {
    return a.epoch == b.epoch && a.cipher == b.cipher && a.compression == b.compression &&
           a.level == b.level && a.established_at == b.established_at &&
           a.valid_until == b.valid_until && a.tx_reserved == b.tx_reserved &&
           a.rx_highwater == b.rx_highwater && same_bytes(a.tx_key.span(), b.tx_key.span()) &&
           same_bytes(a.rx_key.span(), b.rx_key.span()) &&
           same_bytes(a.tx_salt.span(), b.tx_salt.span()) &&
           same_bytes(a.rx_salt.span(), b.rx_salt.span());
}

pair_state pair_state::clone() const {
    pair_state s;
    s.self_id = self_id;
    s.peer_id = peer_id;
    s.peer_name = peer_name;
    s.peer_cert = peer_cert;
    s.highest_epoch = highest_epoch;
    if (current) s.current = current->clone();
    if (previous) s.previous = previous->clone();
    s.clean_shutdown = clean_shutdown;
    return s;
}

bool operator==(const pair_state& a, const pair_state& b) noexcept {
    return a.self_id == b.self_id && a.peer_id == b.peer_id && a.peer_name == b.peer_name &&
           a.peer_cert == b.peer_cert && a.highest_epoch == b.highest_epoch &&
           a.current == b.current && a.previous == b.previous &&
           a.clean_shutdown == b.clean_shutdown;
}

const char* to_string(state_error_code c) noexcept {
    switch (c) {
        case state_error_code::truncated: return "truncated";
        case state_error_code::bad_magic: return "bad magic";
        case state_error_code::unsupported_version: return "unsupported version";
        case state_error_code::bad_checksum: return "bad checksum";
        case state_error_code::malformed: return "malformed";
        case state_error_code::too_large: return "too large";
    }
    return "unknown";
}

const char* pair_state_problem(const pair_state& s) noexcept {
    if (s.self_id == 0 || s.peer_id == 0) return "node id 0";
    if (s.self_id == s.peer_id) return "peer id equals own id";
    if (s.peer_name.size() > L::max_name_size || !is_valid_bnl_name(s.peer_name))
        return "invalid peer name";
    if (s.previous && !s.current) return "a previous keyset without a current one";
    if (s.current) {
        if (const char* p = keyset_problem(*s.current)) return p;
        // The next proposal is highest_epoch + 1: it must never reach an
        // epoch already in use.
        if (s.current->epoch > s.highest_epoch) return "current epoch above the highest epoch";
    }
    if (s.previous) {
        if (const char* p = keyset_problem(*s.previous)) return p;
        if (s.previous->epoch >= s.current->epoch) return "previous epoch not below current";
    }
    return nullptr;
}

crypto::secret_bytes encode_pair_state(const pair_state& s) {
    const char* problem = pair_state_problem(s);
    WEFT_CHECK(problem == nullptr);

    std::size_t size = L::header_size + s.peer_name.size() + L::checksum_size;
    if (s.current) size += L::keyset_size(s.current->tx_key.size());
    if (s.previous) size += L::keyset_size(s.previous->tx_key.size());
    WEFT_CHECK(size <= L::max_size);

    crypto::secret_bytes out(size);
    writer w(out.span());
    w.bytes(L::magic);
    w.be<std::uint16_t>(L::format_version);
    w.be<std::uint32_t>(s.self_id);
    w.be<std::uint32_t>(s.peer_id);
    w.be<std::uint32_t>(s.highest_epoch);
    w.u8(s.clean_shutdown ? 1 : 0);
    w.u8(static_cast<std::uint8_t>((s.current ? 1 : 0) + (s.previous ? 1 : 0)));
    w.bytes(s.peer_cert);
    w.u8(static_cast<std::uint8_t>(s.peer_name.size()));
    WEFT_CHECK(w.pos() == L::name_offset);
    w.bytes(std::span(reinterpret_cast<const std::uint8_t*>(s.peer_name.data()),
                      s.peer_name.size()));
    if (s.current) write_keyset(w, *s.current);
    if (s.previous) write_keyset(w, *s.previous);
    const crypto::sha256_digest sum = crypto::sha256(out.span().first(w.pos()));
    w.bytes(sum);
    WEFT_CHECK(w.pos() == size);
    return out;
}

result<pair_state, state_error> decode_pair_state(std::span<const std::uint8_t> in) {
    // The cap first: nothing else is looked at in an oversized input.
    if (in.size() > L::max_size)
        return fail(state_error_code::too_large,
                    std::to_string(in.size()) + " bytes, more than " +
                        std::to_string(L::max_size));
    if (in.size() < L::magic.size())
        return fail(state_error_code::truncated, std::to_string(in.size()) + " bytes");
    if (!std::equal(L::magic.begin(), L::magic.end(), in.begin()))
        return fail(state_error_code::bad_magic, "not a weft pair state file");
    if (in.size() < L::min_checkable_size)
        return fail(state_error_code::truncated, std::to_string(in.size()) + " bytes");

    // The checksum before the version: every version ends with it, and a
    // damaged version field is damage, not a newer format.
    const std::size_t body_end = in.size() - L::checksum_size;
    const crypto::sha256_digest sum = crypto::sha256(in.first(body_end));
    if (!std::equal(sum.begin(), sum.end(), in.begin() + static_cast<std::ptrdiff_t>(body_end)))
        return fail(state_error_code::bad_checksum, "checksum mismatch (torn or damaged file)");

    const std::uint16_t version = load_be16(in, L::version_offset);
    if (version != L::format_version)
        return fail(state_error_code::unsupported_version,
                    "format version " + std::to_string(version) + ", this build reads " +
                        std::to_string(L::format_version));

    const auto body = in.first(body_end);
    if (body.size() < L::header_size) return malformed("header cut short");
    pair_state s;
    s.self_id = load_be32(body, L::self_id_offset);
    s.peer_id = load_be32(body, L::peer_id_offset);
    s.highest_epoch = load_be32(body, L::highest_epoch_offset);
    const std::uint8_t clean = body[L::clean_shutdown_offset];
    if (clean > 1) return malformed("clean-shutdown flag " + std::to_string(clean));
    s.clean_shutdown = clean == 1;
    const std::uint8_t keysets = body[L::keyset_count_offset];
    if (keysets > L::max_keysets) return malformed("keyset count " + std::to_string(keysets));

    const std::span<const std::uint8_t> cert =
        body.subspan(L::peer_cert_offset, s.peer_cert.size());
    std::copy(cert.begin(), cert.end(), s.peer_cert.begin());
    const std::uint8_t name_len = body[L::name_length_offset];
    if (name_len > L::max_name_size) return malformed("peer name too long");
    reader r(body, L::name_offset);
    std::span<const std::uint8_t> name;
    if (!r.bytes(name_len, name)) return malformed("peer name cut short");
    s.peer_name.assign(reinterpret_cast<const char*>(name.data()), name.size());

    for (std::size_t i = 0; i < keysets; ++i) {
        pair_keyset k;
        if (const char* p = read_keyset(r, k))
            return malformed(std::string(i == 0 ? "current" : "previous") + " keyset: " + p);
        (i == 0 ? s.current : s.previous) = std::move(k);
    }
    if (r.remaining() != 0)
        return malformed(std::to_string(r.remaining()) + " trailing bytes before the checksum");
    if (const char* p = pair_state_problem(s)) return malformed(p);
    return s;
}

}  // namespace weft
