#include "wire/bnl_csv.hpp"

#include <vector>

namespace weft {

namespace {

unexpected<bnl_error> err(bnl_errc code, std::size_t line, std::string message) {
    return unexpected{bnl_error{code, line, std::move(message)}};
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    for (;;) {
        auto comma = line.find(',', pos);
        out.push_back(line.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return out;
}

}  // namespace

result<bnl_list, bnl_error> parse_bnl_csv(std::string_view csv, std::string_view network) {
    if (csv.size() > bnl_max_file_bytes)
        return err(bnl_errc::too_large, 0, "CSV file larger than " + std::to_string(bnl_max_file_bytes) + " bytes");
    if (!is_valid_bnl_name(network))
        return err(bnl_errc::bad_network_name, 0, "invalid network name '" + std::string(network) + "'");
    bnl_list list;
    list.network = network;
    std::size_t line_no = 0, pos = 0;
    while (pos < csv.size()) {
        auto nl = csv.find('\n', pos);
        std::string_view line = csv.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? csv.size() : nl + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > bnl_csv_max_line_bytes)
            return err(bnl_errc::line_too_long, line_no, "line too long");
        for (char c : line)
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
                return err(bnl_errc::bad_encoding, line_no, "control or non-ASCII character");
        if (line.empty() || line.front() == '#') continue;

        auto f = split_fields(line);
        if (f.size() < 7)
            return err(bnl_errc::syntax, line_no,
                       "expected name,id,ipv4,ipv6,port,ipv6preferred,nsubnets[,subnet...]; got " +
                           std::to_string(f.size()) + " fields");
        if (list.nodes.size() >= bnl_max_nodes)
            return err(bnl_errc::too_many_nodes, line_no, "more than " + std::to_string(bnl_max_nodes) + " nodes");
        bnl_node n;
        if (!is_valid_bnl_name(f[0]))
            return err(bnl_errc::bad_node_name, line_no, "invalid node name '" + std::string(f[0]) + "'");
        n.name = f[0];
        auto id = parse_node_id(f[1]);
        if (!id) return err(bnl_errc::bad_id, line_no, "bad node id '" + std::string(f[1]) + "'");
        n.id = *id;
        if (f[2] != "0.0.0.0") {
            auto a = parse_ipv4(f[2]);
            if (!a) return err(bnl_errc::bad_address, line_no, "bad IPv4 address '" + std::string(f[2]) + "'");
            if (const char* why = endpoint_problem(*a))
                return err(bnl_errc::bad_address, line_no, "'" + std::string(f[2]) + "' " + why);
            n.ipv4 = *a;
        }
        if (f[3] != "::") {
            auto a = parse_ipv6(f[3]);
            if (!a) return err(bnl_errc::bad_address, line_no, "bad IPv6 address '" + std::string(f[3]) + "'");
            if (const char* why = endpoint_problem(*a))
                return err(bnl_errc::bad_address, line_no, "'" + std::string(f[3]) + "' " + why);
            n.ipv6 = *a;
        }
        if (!n.ipv4 && !n.ipv6)
            return err(bnl_errc::no_endpoint, line_no, "node " + n.name + " has neither an IPv4 nor an IPv6 address");
        auto port = parse_port(f[4]);
        if (!port) return err(bnl_errc::bad_port, line_no, "bad port '" + std::string(f[4]) + "'");
        n.port = *port;
        if (f[5] != "0" && f[5] != "1")
            return err(bnl_errc::bad_prefer, line_no, "ipv6preferred must be 0 or 1, got '" + std::string(f[5]) + "'");
        bool want_v6 = f[5] == "1";
        if (want_v6 && !n.ipv6)
            return err(bnl_errc::bad_prefer, line_no, "ipv6preferred=1 but node " + n.name + " has no IPv6 address");
        n.prefer = (want_v6 || !n.ipv4) ? ip_family::v6 : ip_family::v4;
        std::size_t count = 0;
        if (f[6].empty() || f[6].size() > 3 || f[6].find_first_not_of("0123456789") != std::string_view::npos ||
            (count = std::stoul(std::string(f[6]))) > bnl_max_subnets_per_node)
            return err(bnl_errc::too_many_subnets, line_no, "bad subnet count '" + std::string(f[6]) + "'");
        if (f.size() - 7 != count)
            return err(bnl_errc::syntax, line_no,
                       "nsubnets says " + std::to_string(count) + " but the line has " +
                           std::to_string(f.size() - 7) + " subnets");
        for (std::size_t i = 7; i < f.size(); ++i) {
            std::string_view s = f[i];
            std::optional<ip_family> want;
            if (s.substr(0, 2) == "4:") want = ip_family::v4, s.remove_prefix(2);
            else if (s.substr(0, 2) == "6:") want = ip_family::v6, s.remove_prefix(2);
            auto p = parse_prefix(s);
            if (!p.prefix)
                return err(bnl_errc::bad_subnet, line_no, "bad subnet '" + std::string(f[i]) + "': " + to_string(p.error));
            if (want && p.prefix->address.family != *want)
                return err(bnl_errc::bad_subnet, line_no, "subnet '" + std::string(f[i]) + "' has the wrong family prefix");
            n.subnets.push_back(*p.prefix);
        }
        list.nodes.push_back(std::move(n));
    }
    if (auto st = validate_bnl(list); !st) return unexpected{st.error()};
    return list;
}

}  // namespace weft
