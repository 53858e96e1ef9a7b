// A node list prepared for the daemon's lookups: by name, by id, and (with
// the prefix table) by address.  Immutable once built; the daemon swaps in a
// new index when it applies a new list.
#pragma once

#include <memory>
#include <string_view>
#include <unordered_map>

#include "core/bnl_trust.hpp"
#include "core/prefix_table.hpp"
#include "wire/bnl.hpp"

namespace weft {

class bnl_index {
public:
    // `list` must be valid (verified or validated).
    explicit bnl_index(bnl_list list);
    // The lookup tables point into list_: not copyable or movable.  Share it
    // through std::shared_ptr<const bnl_index>.
    bnl_index(const bnl_index&) = delete;
    bnl_index& operator=(const bnl_index&) = delete;

    const bnl_list& list() const noexcept { return list_; }
    const bnl_node* by_name(std::string_view name) const noexcept;
    const bnl_node* by_id(std::uint32_t id) const noexcept;
    // The node whose subnets hold `address` (longest prefix), or nullptr.
    const bnl_node* owner(const ip_address& address) const noexcept;

private:
    bnl_list list_;
    std::unordered_map<std::string_view, const bnl_node*> by_name_;  // views into list_
    std::unordered_map<std::uint32_t, const bnl_node*> by_id_;
    prefix_table<const bnl_node*> subnets_;
};

}  // namespace weft
