// Counts every global operator new in the test executable that links
// alloc_counter.cpp (unit_core): single-threaded tests compare it before
// and after a call.
#pragma once

#include <cstddef>

namespace weft::test {
extern std::size_t new_calls;
}  // namespace weft::test
