// A longest-prefix-match table from IP prefixes to values: the routing table,
// used both ways.  On send the destination address picks the peer; on receive
// it answers whether a decrypted packet's inner source lies in the subnets of
// the peer that sent it.
//
// One path-compressed binary trie (PATRICIA-style) per address family, keyed
// on the address bits, most significant first.  Each node holds a whole key
// and the number of leading bits that are significant, so a node stands for
// a prefix, and comparing it with an address takes one xor and one count of
// leading zeros per 64-bit word.  Lengths strictly increase downwards, so
// lookup() is O(address bits) and visits at most 33 (IPv4) or 129 (IPv6)
// nodes; it allocates nothing and takes no locks.
//
// Storage: the nodes of one family live in a std::vector and link to each
// other by 32-bit index, not by pointer or unique_ptr.  That halves the size
// of the links, packs an IPv4 node into 16 bytes and an IPv6 node into 32 (so
// a lookup touches few cache lines), makes copying a table a plain vector
// copy, and needs one allocation per vector growth instead of one per node.
// Nodes freed by erase() go on a free list and are reused by insert(); the
// vectors do not shrink until clear() or destruction.  Values live in a
// parallel vector so the nodes a lookup walks through stay small.
//
// Threading: const member functions may run concurrently with each other;
// anything that modifies the table needs exclusive access (or build a new
// table and swap it in).
//
// Programmer errors abort (WEFT_CHECK): a prefix whose length exceeds its
// family's width or whose host bits are not zero (ip_prefix's invariant, which
// parse_prefix guarantees).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "base/check.hpp"
#include "base/endian.hpp"
#include "wire/ip.hpp"

namespace weft {
namespace detail {

// The bits of an IPv4 address as one integer, first address bit as the most
// significant.  Both key types offer the same small interface to the trie.
struct prefix_key_v4 {
    static constexpr unsigned max_bits = 32;
    std::uint32_t word = 0;

    static prefix_key_v4 from(const ip_address& a) noexcept { return {load_be32(a.bytes, 0)}; }
    ip_address to_address() const noexcept {
        ip_address a;
        a.family = ip_family::v4;
        store_be<std::uint32_t>(a.bytes, 0, word);
        return a;
    }
    // Bit i, counted from the most significant; requires i < max_bits.
    unsigned bit(unsigned i) const noexcept { return (word >> (31u - i)) & 1u; }
    // The first len bits, the rest zero; requires len <= max_bits.
    prefix_key_v4 masked(unsigned len) const noexcept {
        return {len == 0 ? 0u : word & (~std::uint32_t{0} << (32u - len))};
    }
    // How many leading bits a and b share: max_bits when they are equal.
    friend unsigned common_bits(prefix_key_v4 a, prefix_key_v4 b) noexcept {
        return static_cast<unsigned>(std::countl_zero(a.word ^ b.word));
    }
    friend bool operator==(prefix_key_v4, prefix_key_v4) = default;
};

// The bits of an IPv6 address as two integers, high word first.
struct prefix_key_v6 {
    static constexpr unsigned max_bits = 128;
    std::uint64_t high = 0;
    std::uint64_t low = 0;

    static prefix_key_v6 from(const ip_address& a) noexcept {
        return {load_be64(a.bytes, 0), load_be64(a.bytes, 8)};
    }
    ip_address to_address() const noexcept {
        ip_address a;
        a.family = ip_family::v6;
        store_be<std::uint64_t>(a.bytes, 0, high);
        store_be<std::uint64_t>(a.bytes, 8, low);
        return a;
    }
    unsigned bit(unsigned i) const noexcept {
        return i < 64 ? static_cast<unsigned>(high >> (63u - i)) & 1u
                      : static_cast<unsigned>(low >> (127u - i)) & 1u;
    }
    prefix_key_v6 masked(unsigned len) const noexcept {
        constexpr std::uint64_t ones = ~std::uint64_t{0};
        if (len == 0) return {};
        if (len <= 64) return {high & (ones << (64u - len)), 0};
        return {high, low & (ones << (128u - len))};
    }
    friend unsigned common_bits(const prefix_key_v6& a, const prefix_key_v6& b) noexcept {
        std::uint64_t x = a.high ^ b.high;
        if (x != 0) return static_cast<unsigned>(std::countl_zero(x));
        return 64u + static_cast<unsigned>(std::countl_zero(a.low ^ b.low));
    }
    friend bool operator==(const prefix_key_v6&, const prefix_key_v6&) = default;
};

// The trie of one family.  Invariants, kept by every modifying function:
//  - a node's key has zero bits past its length;
//  - a child is longer than its parent, agrees with it on the parent's
//    length bits, and its next bit (at the parent's length) is the index of
//    the link that leads to it, so a node's subtree is exactly the stored
//    prefixes its own prefix contains;
//  - a node without a value has exactly two children (path compression), so
//    there are fewer valueless nodes than values;
//  - a free node is reachable only through the free list (linked by
//    child[0]) and its value slot is empty.
template <class Key, class V>
class prefix_trie {
public:
    static constexpr std::uint32_t npos = ~std::uint32_t{0};

    struct node {
        Key key;
        std::array<std::uint32_t, 2> child{npos, npos};
        std::uint8_t length = 0;
        bool has_value = false;
    };

    prefix_trie() = default;
    prefix_trie(const prefix_trie&) = default;
    prefix_trie& operator=(const prefix_trie&) = default;
    // Moves leave the source empty and usable: its root index must not
    // outlive the vectors it pointed into.
    prefix_trie(prefix_trie&& o) noexcept
        : nodes_(std::move(o.nodes_)),
          values_(std::move(o.values_)),
          root_(std::exchange(o.root_, npos)),
          free_(std::exchange(o.free_, npos)),
          size_(std::exchange(o.size_, 0)),
          free_count_(std::exchange(o.free_count_, 0)) {}
    prefix_trie& operator=(prefix_trie&& o) noexcept {
        prefix_trie tmp(std::move(o));
        swap(tmp);
        return *this;
    }
    ~prefix_trie() = default;

    void swap(prefix_trie& o) noexcept {
        nodes_.swap(o.nodes_);
        values_.swap(o.values_);
        std::swap(root_, o.root_);
        std::swap(free_, o.free_);
        std::swap(size_, o.size_);
        std::swap(free_count_, o.free_count_);
    }

    // Index of the node holding the longest prefix that contains k, or npos.
    std::uint32_t longest_match(const Key& k) const noexcept {
        // Only nodes with a value are compared with k.  A valueless fork
        // that does not match is harmless to pass: every node below it shares
        // its prefix, so the first value below fails the comparison and ends
        // the walk.  This saves the comparison on about half the nodes.
        std::uint32_t best = npos;
        std::uint32_t i = root_;
        while (i != npos) {
            const node& n = nodes_[i];
            if (n.has_value) {
                if (common_bits(k, n.key) < n.length) break;
                best = i;
            }
            // A max_bits node has no children, so for it any bit will do (and
            // the wrap keeps the shift in range without a branch).
            i = n.child[k.bit(n.length & (Key::max_bits - 1))];
        }
        return best;
    }

    // Index of the node holding exactly k/len (value or not), or npos.
    std::uint32_t find_node(const Key& k, unsigned len) const noexcept {
        std::uint32_t i = root_;
        while (i != npos) {
            const node& n = nodes_[i];
            if (n.length > len || common_bits(k, n.key) < n.length) return npos;
            if (n.length == len) return i;
            i = n.child[k.bit(n.length)];
        }
        return npos;
    }

    const node& at(std::uint32_t i) const noexcept { return nodes_[i]; }
    const V* value_at(std::uint32_t i) const noexcept {
        return i != npos && nodes_[i].has_value ? &*values_[i] : nullptr;
    }

    // k must already be masked to len.  Returns true if the prefix was new.
    // If an allocation or V's move throws, the trie's shape and size are
    // unchanged (a replaced value is in whatever state V's move left it).
    bool insert(const Key& k, unsigned len, V&& value) {
        std::uint32_t parent = npos;
        unsigned dir = 0;
        std::uint32_t cur = root_;
        while (cur != npos) {
            const node& n = nodes_[cur];
            unsigned common = std::min({common_bits(k, n.key), len, unsigned{n.length}});
            if (common == n.length) {
                if (n.length == len) return set_value(cur, std::move(value));
                // n is a proper prefix of k/len: go on down.
                parent = cur;
                dir = k.bit(n.length);
                cur = n.child[dir];
                continue;
            }
            // k/len leaves n's path inside n's compressed bits.  Allocate
            // before linking (no reference into nodes_ survives from here).
            if (common == len) {
                // k/len is a proper prefix of n: it becomes n's parent.
                std::uint32_t fresh = alloc_leaf(k, len, std::move(value));
                nodes_[fresh].child[nodes_[cur].key.bit(len)] = cur;
                link(parent, dir) = fresh;
                ++size_;
                return true;
            }
            // They diverge at bit `common`: a valueless fork holds both.
            std::uint32_t fork = alloc_node(k.masked(common), common);
            std::uint32_t leaf = npos;
            try {
                leaf = alloc_leaf(k, len, std::move(value));
            } catch (...) {
                free_node(fork);
                throw;
            }
            nodes_[fork].child[k.bit(common)] = leaf;
            nodes_[fork].child[nodes_[cur].key.bit(common)] = cur;
            link(parent, dir) = fork;
            ++size_;
            return true;
        }
        std::uint32_t leaf = alloc_leaf(k, len, std::move(value));
        link(parent, dir) = leaf;
        ++size_;
        return true;
    }

    // k must already be masked to len.  Returns true if the prefix was there.
    bool erase(const Key& k, unsigned len) noexcept {
        std::uint32_t grandparent = npos, parent = npos, cur = root_;
        unsigned grand_dir = 0, dir = 0;
        while (cur != npos) {
            const node& n = nodes_[cur];
            if (n.length > len || common_bits(k, n.key) < n.length) return false;
            if (n.length == len) break;
            grandparent = std::exchange(parent, cur);
            grand_dir = std::exchange(dir, k.bit(n.length));
            cur = n.child[dir];
        }
        if (cur == npos || !nodes_[cur].has_value) return false;
        --size_;
        node& n = nodes_[cur];
        if (n.child[0] != npos && n.child[1] != npos) {
            // Still a fork between two subtrees: keep it, valueless.
            n.has_value = false;
            values_[cur].reset();
            return true;
        }
        // At most one child: the child (or nothing) takes n's place.
        std::uint32_t only = n.child[0] != npos ? n.child[0] : n.child[1];
        link(parent, dir) = only;
        free_node(cur);
        // A valueless parent had two children; if it lost one it is no
        // longer a fork, and its other child takes its place.
        if (only == npos && parent != npos && !nodes_[parent].has_value) {
            link(grandparent, grand_dir) = nodes_[parent].child[dir ^ 1u];
            free_node(parent);
        }
        return true;
    }

    // Keeps the vectors' capacity for a refill.
    void clear() noexcept {
        nodes_.clear();
        values_.clear();
        root_ = free_ = npos;
        size_ = free_count_ = 0;
    }

    std::size_t size() const noexcept { return size_; }
    std::size_t node_count() const noexcept { return nodes_.size() - free_count_; }
    std::size_t memory_bytes() const noexcept {
        return nodes_.capacity() * sizeof(node) + values_.capacity() * sizeof(std::optional<V>);
    }

    // f(key, length, value) for each stored prefix, in address order with a
    // prefix before the longer ones it contains.  Recursion depth is bounded
    // by the node lengths: at most max_bits + 1.
    template <class F>
    void for_each(F& f) const {
        walk(root_, f);
    }

private:
    std::uint32_t& link(std::uint32_t parent, unsigned dir) noexcept {
        return parent == npos ? root_ : nodes_[parent].child[dir];
    }

    bool set_value(std::uint32_t i, V&& value) {
        if (nodes_[i].has_value) {
            *values_[i] = std::move(value);
            return false;
        }
        // A valueless fork becomes a stored prefix.
        values_[i].emplace(std::move(value));
        nodes_[i].has_value = true;
        ++size_;
        return true;
    }

    std::uint32_t alloc_node(const Key& k, unsigned len) {
        node fresh{k, {npos, npos}, static_cast<std::uint8_t>(len), false};
        if (free_ != npos) {
            std::uint32_t i = free_;
            free_ = nodes_[i].child[0];
            --free_count_;
            nodes_[i] = fresh;
            return i;
        }
        if (nodes_.size() >= npos) throw std::length_error("prefix_table: too many nodes");
        nodes_.push_back(fresh);
        try {
            values_.emplace_back();
        } catch (...) {
            nodes_.pop_back();
            throw;
        }
        return static_cast<std::uint32_t>(nodes_.size() - 1);
    }

    std::uint32_t alloc_leaf(const Key& k, unsigned len, V&& value) {
        std::uint32_t i = alloc_node(k, len);
        try {
            values_[i].emplace(std::move(value));
        } catch (...) {
            free_node(i);
            throw;
        }
        nodes_[i].has_value = true;
        return i;
    }

    void free_node(std::uint32_t i) noexcept {
        values_[i].reset();  // release what the value owns now, not on reuse
        nodes_[i].has_value = false;
        nodes_[i].child = {free_, npos};
        free_ = i;
        ++free_count_;
    }

    template <class F>
    void walk(std::uint32_t i, F& f) const {
        if (i == npos) return;
        const node& n = nodes_[i];
        if (n.has_value) f(n.key, unsigned{n.length}, *values_[i]);
        walk(n.child[0], f);
        walk(n.child[1], f);
    }

    std::vector<node> nodes_;
    std::vector<std::optional<V>> values_;  // values_[i] is engaged iff nodes_[i].has_value
    std::uint32_t root_ = npos;
    std::uint32_t free_ = npos;  // head of the free list
    std::size_t size_ = 0;       // nodes with a value
    std::size_t free_count_ = 0;
};

}  // namespace detail

// V must be move-constructible and move-assignable.  Copies of the table are
// deep and independent; a moved-from table is empty.
template <class V>
class prefix_table {
public:
    // Inserts or replaces the value for exactly this prefix; true if it was
    // new.  If an allocation throws, the table is unchanged; if V's move
    // throws, only a value being replaced may be affected.
    bool insert(const ip_prefix& p, V value) {
        if (p.address.family == ip_family::v4)
            return v4_.insert(key_of<v4_key>(p), p.length, std::move(value));
        return v6_.insert(key_of<v6_key>(p), p.length, std::move(value));
    }

    // Removes exactly this prefix (not the ones it contains); true if it was there.
    bool erase(const ip_prefix& p) noexcept {
        if (p.address.family == ip_family::v4) return v4_.erase(key_of<v4_key>(p), p.length);
        return v6_.erase(key_of<v6_key>(p), p.length);
    }

    // The value stored for exactly this prefix; nullptr if absent.
    const V* find_exact(const ip_prefix& p) const noexcept {
        if (p.address.family == ip_family::v4)
            return v4_.value_at(v4_.find_node(key_of<v4_key>(p), p.length));
        return v6_.value_at(v6_.find_node(key_of<v6_key>(p), p.length));
    }

    // The value of the longest stored prefix of addr's family that contains
    // addr; nullptr if none.  Does not allocate.
    [[gnu::hot]] const V* lookup(const ip_address& addr) const noexcept {
        if (addr.family == ip_family::v4)
            return v4_.value_at(v4_.longest_match(v4_key::from(addr)));
        return v6_.value_at(v6_.longest_match(v6_key::from(addr)));
    }

    // Same as lookup(), also giving the matched prefix; nullopt if none.
    std::optional<std::pair<ip_prefix, const V*>> lookup_prefix(const ip_address& addr) const {
        if (addr.family == ip_family::v4)
            return matched(v4_, v4_.longest_match(v4_key::from(addr)));
        return matched(v6_, v6_.longest_match(v6_key::from(addr)));
    }

    std::size_t size() const noexcept { return v4_.size() + v6_.size(); }

    // Keeps the allocated capacity for a refill.
    void clear() noexcept {
        v4_.clear();
        v6_.clear();
    }

    // f(const ip_prefix&, const V&) for every entry: IPv4 then IPv6, each in
    // address order with a prefix before the longer ones inside it.  f must
    // not modify the table.
    template <class F>
    void for_each(F&& f) const {
        auto v4 = [&f](const v4_key& k, unsigned len, const V& v) { f(prefix_of(k, len), v); };
        v4_.for_each(v4);
        auto v6 = [&f](const v6_key& k, unsigned len, const V& v) { f(prefix_of(k, len), v); };
        v6_.for_each(v6);
    }

    // Diagnostics for tests and benchmarks.  Trie nodes in use (at most
    // 2 * size(): path compression bounds the valueless ones).
    std::size_t node_count() const noexcept { return v4_.node_count() + v6_.node_count(); }
    // Bytes the table holds on the heap, not counting what the values own.
    std::size_t memory_bytes() const noexcept { return v4_.memory_bytes() + v6_.memory_bytes(); }

private:
    using v4_key = detail::prefix_key_v4;
    using v6_key = detail::prefix_key_v6;

    template <class Key>
    static Key key_of(const ip_prefix& p) noexcept {
        WEFT_CHECK(p.length <= Key::max_bits);
        Key k = Key::from(p.address);
        WEFT_CHECK(k.masked(p.length) == k);  // host bits must be zero
        return k;
    }

    template <class Key>
    static ip_prefix prefix_of(const Key& k, unsigned len) noexcept {
        return ip_prefix{k.to_address(), static_cast<std::uint8_t>(len)};
    }

    template <class Trie>
    static std::optional<std::pair<ip_prefix, const V*>> matched(const Trie& t, std::uint32_t i) {
        if (i == Trie::npos) return std::nullopt;
        const auto& n = t.at(i);
        return std::pair<ip_prefix, const V*>{prefix_of(n.key, n.length), t.value_at(i)};
    }

    detail::prefix_trie<v4_key, V> v4_;
    detail::prefix_trie<v6_key, V> v6_;
};

}  // namespace weft
