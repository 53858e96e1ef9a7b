// Containers for key material that wipe their bytes with OPENSSL_cleanse
// whenever they let go of them: on destruction, when moved from, when
// assigned over, and (secret_bytes) when shrinking, clearing or reallocating.
//
// Copying is deleted.  A copy is one more place a key lives and has to be
// wiped, so it must never happen by accident (a by-value parameter, a lambda
// capture, a container that copies on growth); clone() makes one on purpose.
//
// What these types do not do: lock pages against swap (mlock), or wipe copies
// that callers take through span()/data().  A key handed to OpenSSL also lives
// in OpenSSL's context, which OpenSSL wipes itself when the context is freed.
//
// Not thread-safe: one owner at a time, like any container.
#pragma once

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace weft::crypto {

// N secret bytes stored inline (no allocation), zero when default-constructed.
// A moved-from secret_array is all zeros.
template <std::size_t N>
class secret_array {
    static_assert(N > 0, "an empty secret is a bug, not a key");

public:
    secret_array() noexcept { bytes_.fill(0); }
    explicit secret_array(std::span<const std::uint8_t, N> src) noexcept {
        std::copy(src.begin(), src.end(), bytes_.begin());
    }

    secret_array(const secret_array&) = delete;
    secret_array& operator=(const secret_array&) = delete;

    // Moving copies the bytes and wipes the source, so exactly one object
    // holds the secret afterwards.
    secret_array(secret_array&& other) noexcept {
        bytes_ = other.bytes_;
        other.wipe();
    }
    secret_array& operator=(secret_array&& other) noexcept {
        if (this != &other) {
            bytes_ = other.bytes_;  // overwrites every old byte: same size
            other.wipe();
        }
        return *this;
    }

    ~secret_array() { wipe(); }

    // The one way to copy: explicit, so every copy is visible in review.
    [[nodiscard]] secret_array clone() const noexcept { return secret_array(span()); }

    // Sets every byte to zero in a way the compiler may not elide.
    void wipe() noexcept { OPENSSL_cleanse(bytes_.data(), N); }

    static constexpr std::size_t size() noexcept { return N; }
    std::uint8_t* data() noexcept { return bytes_.data(); }
    const std::uint8_t* data() const noexcept { return bytes_.data(); }
    std::span<std::uint8_t, N> span() noexcept { return std::span<std::uint8_t, N>(bytes_); }
    std::span<const std::uint8_t, N> span() const noexcept {
        return std::span<const std::uint8_t, N>(bytes_);
    }

private:
    std::array<std::uint8_t, N> bytes_;
};

// A growable run of secret bytes on the heap.  Every buffer it frees is wiped
// first (on destruction, reset(), assignment and reallocation), and bytes past
// size() are always zero, so clear() and shrinking resize() wipe as they go.
// A moved-from basic_secret_bytes is empty and owns no storage: the bytes
// moved with the buffer, no second copy exists.
//
// Growing allocates (through Alloc) and may throw std::bad_alloc or
// std::length_error; nothing else throws.  Not meant for the packet path.
//
// Alloc is a parameter so that tests can watch what is freed; production code
// uses the secret_bytes alias.
template <class Alloc = std::allocator<std::uint8_t>>
class basic_secret_bytes {
    using traits = std::allocator_traits<Alloc>;
    static_assert(std::is_same_v<typename traits::value_type, std::uint8_t>);
    static_assert(std::is_same_v<typename traits::pointer, std::uint8_t*>,
                  "fancy pointers are not supported");

public:
    using allocator_type = Alloc;

    basic_secret_bytes() noexcept(noexcept(Alloc())) = default;
    explicit basic_secret_bytes(const Alloc& alloc) noexcept : alloc_(alloc) {}
    // `n` zero bytes.
    explicit basic_secret_bytes(std::size_t n, const Alloc& alloc = Alloc()) : alloc_(alloc) {
        resize(n);
    }
    explicit basic_secret_bytes(std::span<const std::uint8_t> src, const Alloc& alloc = Alloc())
        : alloc_(alloc) {
        append(src);
    }

    basic_secret_bytes(const basic_secret_bytes&) = delete;
    basic_secret_bytes& operator=(const basic_secret_bytes&) = delete;

    basic_secret_bytes(basic_secret_bytes&& other) noexcept
        : alloc_(std::move(other.alloc_)),
          data_(std::exchange(other.data_, nullptr)),
          size_(std::exchange(other.size_, 0)),
          capacity_(std::exchange(other.capacity_, 0)) {}

    // Wipes and frees this object's old buffer (with its old allocator), then
    // takes over the other's buffer and allocator.
    basic_secret_bytes& operator=(basic_secret_bytes&& other) noexcept {
        if (this != &other) {
            reset();
            alloc_ = std::move(other.alloc_);
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
            capacity_ = std::exchange(other.capacity_, 0);
        }
        return *this;
    }

    ~basic_secret_bytes() { reset(); }

    // The one way to copy: explicit, so every copy is visible in review.
    [[nodiscard]] basic_secret_bytes clone() const {
        return basic_secret_bytes(span(), traits::select_on_container_copy_construction(alloc_));
    }

    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    bool empty() const noexcept { return size_ == 0; }
    std::uint8_t* data() noexcept { return data_; }
    const std::uint8_t* data() const noexcept { return data_; }
    std::span<std::uint8_t> span() noexcept { return {data_, size_}; }
    std::span<const std::uint8_t> span() const noexcept { return {data_, size_}; }
    allocator_type get_allocator() const noexcept { return alloc_; }

    void reserve(std::size_t n) {
        if (n > capacity_) reallocate(n, {});
    }

    // New bytes are zero; bytes cut off by shrinking are wiped at once.
    void resize(std::size_t n) {
        if (n > capacity_) reallocate(grown_capacity(n), {});
        if (n < size_) OPENSSL_cleanse(data_ + n, size_ - n);
        // Bytes in [size_, capacity_) are zero by invariant: growing within
        // capacity needs no fill.
        size_ = n;
    }

    // `src` may point into this object's own bytes.
    void append(std::span<const std::uint8_t> src) {
        if (src.empty()) return;
        if (src.size() > traits::max_size(alloc_) - size_) throw std::length_error("secret_bytes");
        if (size_ + src.size() > capacity_) {
            // The old buffer stays alive until `src` is copied, so an aliasing
            // `src` remains valid.
            reallocate(grown_capacity(size_ + src.size()), src);
        } else {
            // The destination [size_, ...) lies past every live byte, so it
            // cannot overlap a `src` taken from this object.
            std::copy(src.begin(), src.end(), data_ + size_);
            size_ += src.size();
        }
    }

    // Wipes the bytes and keeps the buffer for reuse.
    void clear() noexcept {
        if (size_ != 0) OPENSSL_cleanse(data_, size_);
        size_ = 0;
    }

    // Wipes and frees the buffer.
    void reset() noexcept {
        if (data_ != nullptr) {
            OPENSSL_cleanse(data_, capacity_);
            traits::deallocate(alloc_, data_, capacity_);
        }
        data_ = nullptr;
        size_ = 0;
        capacity_ = 0;
    }

private:
    std::size_t grown_capacity(std::size_t needed) const {
        const std::size_t max = traits::max_size(alloc_);
        if (needed > max) throw std::length_error("secret_bytes");
        // Doubling keeps appends amortised O(1); keys are small, so 32 bytes
        // is a floor that avoids several tiny buffers for one key.
        const std::size_t doubled = capacity_ > max / 2 ? max : capacity_ * 2;
        return std::max({needed, doubled, std::size_t{32}});
    }

    // Moves the live bytes into a new buffer of `new_capacity`, appends
    // `extra`, then wipes and frees the old buffer.
    void reallocate(std::size_t new_capacity, std::span<const std::uint8_t> extra) {
        std::uint8_t* fresh = traits::allocate(alloc_, new_capacity);
        std::uint8_t* end = std::copy(data_, data_ + size_, fresh);
        end = std::copy(extra.begin(), extra.end(), end);
        std::fill(end, fresh + new_capacity, std::uint8_t{0});
        const std::size_t new_size = size_ + extra.size();
        reset();
        data_ = fresh;
        size_ = new_size;
        capacity_ = new_capacity;
    }

    [[no_unique_address]] Alloc alloc_{};
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;  // bytes in [size_, capacity_) are always zero
};

using secret_bytes = basic_secret_bytes<>;

}  // namespace weft::crypto
