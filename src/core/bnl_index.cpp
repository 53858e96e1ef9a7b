#include "core/bnl_index.hpp"

namespace weft {

bnl_index::bnl_index(bnl_list list) : list_(std::move(list)) {
    by_name_.reserve(list_.nodes.size());
    by_id_.reserve(list_.nodes.size());
    for (const auto& n : list_.nodes) {
        by_name_.emplace(n.name, &n);
        by_id_.emplace(n.id, &n);
        for (const auto& p : n.subnets) subnets_.insert(p, &n);
    }
}

const bnl_node* bnl_index::by_name(std::string_view name) const noexcept {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

const bnl_node* bnl_index::owner(const ip_address& address) const noexcept {
    const bnl_node* const* n = subnets_.lookup(address);
    return n ? *n : nullptr;
}

const bnl_node* bnl_index::by_id(std::uint32_t id) const noexcept {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
}

}  // namespace weft
