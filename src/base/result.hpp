// result<T, E>: a value or an error, for code that must not throw (parsers,
// crypto, the packet path).  A small stand-in for C++23 std::expected, which
// clang 14 with libstdc++ 12 cannot compile.
#pragma once

#include <utility>
#include <variant>

#include "base/check.hpp"

namespace weft {

template <class E>
struct unexpected {
    E error;
};
template <class E>
unexpected(E) -> unexpected<E>;

template <class T, class E>
class [[nodiscard]] result {
public:
    result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    template <class G>
    result(unexpected<G> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    // Accessing the wrong alternative is a programmer error: it aborts.
    T& value() & {
        WEFT_CHECK(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        WEFT_CHECK(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        WEFT_CHECK(has_value());
        return std::get<0>(std::move(v_));
    }
    const E& error() const& {
        WEFT_CHECK(!has_value());
        return std::get<1>(v_);
    }
    E&& error() && {
        WEFT_CHECK(!has_value());
        return std::get<1>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, E> v_;
};

// result<void, E>
struct ok_t {};
inline constexpr ok_t ok{};

template <class E>
class [[nodiscard]] status {
public:
    status(ok_t) {}  // NOLINT
    template <class G>
    status(unexpected<G> e) : err_(std::move(e.error)), failed_(true) {}  // NOLINT
    bool has_value() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return !failed_; }
    const E& error() const& {
        WEFT_CHECK(failed_);
        return err_;
    }

private:
    E err_{};
    bool failed_ = false;
};

}  // namespace weft
