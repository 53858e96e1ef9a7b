// Always-on invariant checks.  A failed check is a programmer error, never a
// reaction to input: it prints where and aborts, in every build type.
#pragma once

namespace weft::detail {
[[noreturn]] void check_failed(const char* expr, const char* file, int line) noexcept;
}

// A macro only because it must capture the expression text and the location.
#define WEFT_CHECK(cond)                                                    \
    do {                                                                    \
        if (!(cond)) ::weft::detail::check_failed(#cond, __FILE__, __LINE__); \
    } while (false)
