#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "crypto/secret.hpp"

namespace {

using weft::crypto::basic_secret_bytes;
using weft::crypto::secret_array;
using weft::crypto::secret_bytes;

// What a watching_allocator saw.  A buffer is "dirty" when any of its bytes
// is non-zero at the moment it is handed back.
struct free_log {
    int allocations = 0;
    int frees = 0;
    int dirty_frees = 0;
};

// Forwards to std::allocator and inspects every buffer as it is freed.  The
// bytes it reads are std::uint8_t objects that are still alive (the container
// only wiped them, it never ended their lifetime), so the inspection is
// well-defined, unlike reading an object's storage after its destructor ran.
template <class T>
struct watching_allocator {
    using value_type = T;
    free_log* log;

    explicit watching_allocator(free_log* l) noexcept : log(l) {}
    template <class U>
    watching_allocator(const watching_allocator<U>& other) noexcept : log(other.log) {}  // NOLINT

    T* allocate(std::size_t n) {
        ++log->allocations;
        return std::allocator<T>{}.allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        ++log->frees;
        if (std::any_of(p, p + n, [](T b) { return b != 0; })) ++log->dirty_frees;
        std::allocator<T>{}.deallocate(p, n);
    }
    friend bool operator==(const watching_allocator& a, const watching_allocator& b) noexcept {
        return a.log == b.log;
    }
};

using watched_bytes = basic_secret_bytes<watching_allocator<std::uint8_t>>;

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t start = 1) {
    std::vector<std::uint8_t> v(n);
    std::iota(v.begin(), v.end(), start);
    // iota wraps to 0 every 256 bytes; keep every byte non-zero so a wipe
    // is never mistaken for data.
    for (auto& b : v) b = b == 0 ? std::uint8_t{0xff} : b;
    return v;
}

template <class Span>
bool all_zero(Span s) {
    return std::all_of(s.begin(), s.end(), [](std::uint8_t b) { return b == 0; });
}

template <class A, class B>
bool same_bytes(const A& a, const B& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

// No implicit copies, ever; moves cannot throw.
static_assert(!std::is_copy_constructible_v<secret_array<32>>);
static_assert(!std::is_copy_assignable_v<secret_array<32>>);
static_assert(std::is_nothrow_move_constructible_v<secret_array<32>>);
static_assert(std::is_nothrow_move_assignable_v<secret_array<32>>);
static_assert(!std::is_copy_constructible_v<secret_bytes>);
static_assert(!std::is_copy_assignable_v<secret_bytes>);
static_assert(std::is_nothrow_move_constructible_v<secret_bytes>);
static_assert(std::is_nothrow_move_assignable_v<secret_bytes>);
// Nor implicit conversions from byte spans or sizes.
static_assert(!std::is_convertible_v<std::span<const std::uint8_t, 32>, secret_array<32>>);
static_assert(!std::is_convertible_v<std::span<const std::uint8_t>, secret_bytes>);
static_assert(!std::is_convertible_v<std::size_t, secret_bytes>);
// secret_array stays inline: no hidden heap copy.
static_assert(sizeof(secret_array<32>) == 32);

BOOST_AUTO_TEST_SUITE(secret)

// Destruction of a secret_array runs wipe() and nothing else.  Its effect
// cannot be observed afterwards without reading dead storage (undefined
// behaviour), so what is tested is wipe() itself and the moved-from state.
BOOST_AUTO_TEST_CASE(secret_array_moves_wipe_the_source) {
    const auto bytes = pattern(32);
    secret_array<32> a{std::span<const std::uint8_t, 32>(bytes.data(), 32)};
    BOOST_TEST(same_bytes(a.span(), bytes));

    secret_array<32> b(std::move(a));
    BOOST_TEST(same_bytes(b.span(), bytes));
    BOOST_TEST(all_zero(a.span()));  // NOLINT(bugprone-use-after-move): inspecting on purpose

    secret_array<32> c;
    BOOST_TEST(all_zero(c.span()));
    const auto other = pattern(32, 100);
    c = secret_array<32>{std::span<const std::uint8_t, 32>(other.data(), 32)};
    c = std::move(b);
    BOOST_TEST(same_bytes(c.span(), bytes));
    BOOST_TEST(all_zero(b.span()));  // NOLINT(bugprone-use-after-move)

    // Self-move leaves the bytes in place.
    secret_array<32>& alias = c;
    c = std::move(alias);
    BOOST_TEST(same_bytes(c.span(), bytes));

    secret_array<32> d = c.clone();
    BOOST_TEST(same_bytes(d.span(), bytes));
    BOOST_TEST(d.data() != c.data());
    d.wipe();
    BOOST_TEST(all_zero(d.span()));
    BOOST_TEST(same_bytes(c.span(), bytes));  // the clone was independent
}

BOOST_AUTO_TEST_CASE(watching_allocator_notices_an_unwiped_free) {
    // Guards the tests below against passing vacuously.
    free_log log;
    watching_allocator<std::uint8_t> alloc(&log);
    std::uint8_t* p = alloc.allocate(8);
    std::fill(p, p + 8, std::uint8_t{0});
    p[3] = 1;
    alloc.deallocate(p, 8);
    BOOST_TEST(log.dirty_frees == 1);
}

BOOST_AUTO_TEST_CASE(secret_bytes_wipes_on_destruction_and_reset) {
    free_log log;
    const auto bytes = pattern(48);
    {
        watched_bytes s{std::span<const std::uint8_t>(bytes),
                        watching_allocator<std::uint8_t>(&log)};
        BOOST_TEST(same_bytes(s.span(), bytes));
        BOOST_TEST(log.allocations == 1);
    }
    BOOST_TEST(log.frees == 1);
    BOOST_TEST(log.dirty_frees == 0);

    watched_bytes t{std::span<const std::uint8_t>(bytes), watching_allocator<std::uint8_t>(&log)};
    t.reset();
    BOOST_TEST(t.empty());
    BOOST_TEST(t.data() == nullptr);
    BOOST_TEST(log.frees == 2);
    BOOST_TEST(log.dirty_frees == 0);
}

BOOST_AUTO_TEST_CASE(secret_bytes_wipes_every_buffer_it_outgrows) {
    free_log log;
    const auto bytes = pattern(1000);
    std::vector<std::uint8_t> expect;
    {
        watched_bytes s{watching_allocator<std::uint8_t>(&log)};
        for (std::size_t i = 0; i < bytes.size(); i += 7) {
            const std::size_t n = std::min<std::size_t>(7, bytes.size() - i);
            s.append(std::span(bytes).subspan(i, n));
            expect.insert(expect.end(), bytes.begin() + static_cast<std::ptrdiff_t>(i),
                          bytes.begin() + static_cast<std::ptrdiff_t>(i + n));
        }
        BOOST_TEST(same_bytes(s.span(), expect));
        BOOST_TEST(log.allocations > 3);  // it really did reallocate
        BOOST_TEST(log.frees == log.allocations - 1);
        BOOST_TEST(log.dirty_frees == 0);

        // Appending a view of itself while growing: the old buffer must stay
        // valid until copied (ASan would see a use after free).
        const std::size_t before = s.size();
        s.append(s.span());
        BOOST_TEST(s.size() == 2 * before);
        BOOST_TEST(same_bytes(s.span().first(before), expect));
        BOOST_TEST(same_bytes(s.span().last(before), expect));
    }
    BOOST_TEST(log.frees == log.allocations);
    BOOST_TEST(log.dirty_frees == 0);
}

BOOST_AUTO_TEST_CASE(secret_bytes_move_leaves_nothing_behind) {
    free_log log;
    const auto bytes = pattern(40);
    const watching_allocator<std::uint8_t> alloc(&log);

    watched_bytes a{std::span<const std::uint8_t>(bytes), alloc};
    const std::uint8_t* buffer = a.data();
    watched_bytes b(std::move(a));
    // The buffer changed hands; nothing was copied, so no copy needs wiping.
    BOOST_TEST(b.data() == buffer);
    BOOST_TEST(same_bytes(b.span(), bytes));
    BOOST_TEST(a.empty());              // NOLINT(bugprone-use-after-move)
    BOOST_TEST(a.data() == nullptr);    // NOLINT(bugprone-use-after-move)
    BOOST_TEST(a.capacity() == 0u);     // NOLINT(bugprone-use-after-move)
    BOOST_TEST(log.allocations == 1);

    // Assigning over an object that holds a secret wipes the old secret's
    // buffer before freeing it.
    const auto other = pattern(64, 50);
    watched_bytes c{std::span<const std::uint8_t>(other), alloc};
    BOOST_TEST(log.frees == 0);
    c = std::move(b);
    BOOST_TEST(log.frees == 1);
    BOOST_TEST(log.dirty_frees == 0);
    BOOST_TEST(same_bytes(c.span(), bytes));
    BOOST_TEST(b.data() == nullptr);  // NOLINT(bugprone-use-after-move)

    // Self-move changes nothing.
    watched_bytes& alias = c;
    c = std::move(alias);
    BOOST_TEST(same_bytes(c.span(), bytes));
    BOOST_TEST(log.frees == 1);

    // A moved-from object is reusable.
    a.append(std::span(other).first(3));  // NOLINT(bugprone-use-after-move)
    BOOST_TEST(same_bytes(a.span(), std::span(other).first(3)));
}

BOOST_AUTO_TEST_CASE(secret_bytes_shrinking_and_clearing_wipe_in_place) {
    // The buffer is still owned after clear() and a shrinking resize(), so
    // its bytes can be read through data() without any lifetime question.
    const auto bytes = pattern(64);
    secret_bytes s{std::span<const std::uint8_t>(bytes)};
    const std::size_t cap = s.capacity();
    const std::uint8_t* buffer = s.data();

    s.resize(10);
    BOOST_TEST(s.size() == 10u);
    BOOST_TEST(s.data() == buffer);
    BOOST_TEST(same_bytes(s.span(), std::span(bytes).first(10)));
    BOOST_TEST(all_zero(std::span<const std::uint8_t>(s.data() + 10, cap - 10)));

    s.resize(20);  // growing within capacity: the new bytes are zero
    BOOST_TEST(same_bytes(s.span().first(10), std::span(bytes).first(10)));
    BOOST_TEST(all_zero(s.span().subspan(10)));

    s.clear();
    BOOST_TEST(s.empty());
    BOOST_TEST(s.capacity() == cap);
    BOOST_TEST(all_zero(std::span<const std::uint8_t>(s.data(), cap)));

    secret_bytes z(5);
    BOOST_TEST(z.size() == 5u);
    BOOST_TEST(all_zero(z.span()));
}

BOOST_AUTO_TEST_CASE(secret_bytes_clone_is_independent) {
    const auto bytes = pattern(33);
    secret_bytes a{std::span<const std::uint8_t>(bytes)};
    secret_bytes b = a.clone();
    BOOST_TEST(same_bytes(b.span(), bytes));
    BOOST_TEST(b.data() != a.data());
    b.clear();
    BOOST_TEST(same_bytes(a.span(), bytes));

    secret_bytes empty;
    secret_bytes empty_clone = empty.clone();
    BOOST_TEST(empty_clone.empty());
    BOOST_TEST(empty_clone.data() == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
