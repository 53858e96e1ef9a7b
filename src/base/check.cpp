#include "base/check.hpp"

#include <cstdio>
#include <cstdlib>

namespace weft::detail {

void check_failed(const char* expr, const char* file, int line) noexcept {
    std::fprintf(stderr, "weft: internal check failed: %s at %s:%d\n", expr, file, line);
    std::abort();
}

}  // namespace weft::detail
