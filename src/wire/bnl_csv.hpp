// The original daemon's CSV node-list format, for migrating a network in one
// command (`bnl-sign import-csv`).  One node per line:
//   name,id,ipv4,ipv6,port,ipv6preferred,nsubnets,subnet,...
// "0.0.0.0" and "::" mean no address; a subnet may carry a "4:" or "6:"
// family prefix, which must then match.  Blank lines and '#' lines are
// skipped; a trailing CR is tolerated (old files were often edited on
// Windows).  Everything else is as strict as the BNL itself.
#pragma once

#include <string_view>

#include "base/result.hpp"
#include "wire/bnl.hpp"

namespace weft {

inline constexpr std::size_t bnl_csv_max_line_bytes = 16384;

// Errors name the CSV line (cross-node errors name the nodes).
result<bnl_list, bnl_error> parse_bnl_csv(std::string_view csv, std::string_view network);

}  // namespace weft
