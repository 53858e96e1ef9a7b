// A counting global operator new for the unit_core executable: tests read
// weft::test::new_calls before and after a call to prove it allocates nothing.
#include <cstdlib>
#include <new>

#include "alloc_counter.hpp"

// ------------------------------------------------ counting operator new --
// Replaces the global allocation functions of this test executable.  They
// only count and forward to malloc/free; the other tests linked into the
// same executable are unaffected.  No threads allocate here, so a plain
// counter is enough.
namespace weft::test {
std::size_t new_calls = 0;
}  // namespace weft::test

namespace {
void* counted_alloc(std::size_t n) noexcept {
    ++weft::test::new_calls;
    return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

void* operator new(std::size_t n) {
    if (void* p = counted_alloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = counted_alloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return counted_alloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return counted_alloc(n);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
