// new, add, modify, remove, addsubnet, delsubnet, import-csv: every edit
// loads the whole source list, changes it in memory, validates the result
// and only then replaces the file atomically.  A refused edit leaves the file
// as it was.
#include <algorithm>
#include <iostream>
#include <set>

#include "cli.hpp"
#include "wire/bnl_csv.hpp"

namespace weft::bnl_sign {

namespace {

bnl_node& find_node(bnl_list& list, const std::string& name, const std::string& file) {
    auto it = std::find_if(list.nodes.begin(), list.nodes.end(),
                           [&](const bnl_node& n) { return n.name == name; });
    if (it == list.nodes.end()) throw tool_error(file + ": no node named '" + name + "'");
    return *it;
}

std::uint32_t lowest_free_id(const bnl_list& list) {
    std::vector<std::uint32_t> ids;
    for (const auto& n : list.nodes) ids.push_back(n.id);
    std::sort(ids.begin(), ids.end());
    std::uint32_t want = 1;
    for (auto id : ids) {
        if (id == want) ++want;
        else if (id > want) break;
    }
    if (want == 0) throw tool_error("no free node id left");
    return want;
}

struct field_edit {
    bool prefer_given = false;
    bool subnets_replaced = false;
    std::set<std::string> given;  // fields seen so far; only subnet may repeat
};

// Applies one key=value argument.  `modifying` allows `name=` and the value
// `none` (removes ipv4, ipv6 or pin).
void apply_field(bnl_node& n, const std::string& arg, bool modifying, field_edit& ed) {
    auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0)
        throw usage_error("expected key=value, got '" + arg + "'");
    std::string key = arg.substr(0, eq), value = arg.substr(eq + 1);
    if (key != "subnet" && !ed.given.insert(key).second)
        throw usage_error("field '" + key + "' given twice (only subnet= may repeat)");
    bool none = modifying && value == "none";
    auto bad = [&](const std::string& what) { return tool_error("bad " + key + " '" + value + "': " + what); };
    if (key == "id") {
        auto id = parse_node_id(value);
        if (!id) throw bad("a node id is 1 to 4294967295");
        n.id = *id;
    } else if (key == "name" && modifying) {
        if (!is_valid_bnl_name(value)) throw bad("1-63 of a-z 0-9 . -, starting with a letter or digit");
        n.name = value;
    } else if (key == "ipv4" || key == "ipv6") {
        auto& slot = key == "ipv4" ? n.ipv4 : n.ipv6;
        if (none) {
            slot.reset();
            return;
        }
        auto a = key == "ipv4" ? parse_ipv4(value) : parse_ipv6(value);
        if (!a) throw bad(std::string("not an ") + (key == "ipv4" ? "IPv4" : "IPv6") + " address");
        if (const char* why = endpoint_problem(*a)) throw bad(why);
        slot = *a;
    } else if (key == "port") {
        auto p = parse_port(value);
        if (!p) throw bad("a port is 1 to 65535");
        n.port = *p;
    } else if (key == "prefer") {
        if (value != "ipv4" && value != "ipv6") throw bad("ipv4 or ipv6");
        n.prefer = value == "ipv4" ? ip_family::v4 : ip_family::v6;
        ed.prefer_given = true;
    } else if (key == "subnet") {
        auto p = parse_prefix(value);
        if (!p.prefix) throw bad(to_string(p.error));
        if (modifying && !ed.subnets_replaced) {  // modify: the given subnets replace the old ones
            n.subnets.clear();
            ed.subnets_replaced = true;
        }
        n.subnets.push_back(*p.prefix);
    } else if (key == "pin") {
        if (none) {
            n.pin.reset();
            return;
        }
        auto pin = parse_pin(value);
        if (!pin) throw bad("expected sha256: and 64 hex digits (weft-ca fingerprint CERT)");
        n.pin = *pin;
    } else {
        throw usage_error("unknown field '" + key + "' (id, ipv4, ipv6, port, prefer, subnet, pin" +
                          (modifying ? ", name" : "") + ")");
    }
}

// When prefer was not given, follow the endpoints: ipv4 when there is one.
void settle_prefer(bnl_node& n, const field_edit& ed) {
    if (ed.prefer_given) return;
    if (n.prefer == ip_family::v4 && !n.ipv4 && n.ipv6) n.prefer = ip_family::v6;
    if (n.prefer == ip_family::v6 && !n.ipv6 && n.ipv4) n.prefer = ip_family::v4;
}

constexpr const char* fields_help =
    "fields:\n"
    "  id=N            node id, 1..4294967295 (add: the lowest free id if omitted)\n"
    "  ipv4=ADDR       public IPv4 endpoint\n"
    "  ipv6=ADDR       public IPv6 endpoint\n"
    "  port=P          UDP/TCP port (default 3406)\n"
    "  prefer=ipv4|ipv6  endpoint to use when both exist\n"
    "  subnet=CIDR     subnet routed to the node (repeatable)\n"
    "  pin=sha256:HEX  certificate pin, as printed by weft-ca fingerprint";

}  // namespace

int cmd_new(const std::vector<std::string>& args) {
    po::options_description opts("options");
    opts.add_options()("network,n", po::value<std::string>()->required(), "the network's name");
    auto cl = parse_command(args, opts, {"file"});
    if (cl.help) {
        print_help("new FILE --network NAME", "Creates an empty source list.  Refuses to replace an existing FILE.", opts);
        return 0;
    }
    bnl_list list;
    list.network = cl.vars["network"].as<std::string>();
    if (!is_valid_bnl_name(list.network))
        throw tool_error("invalid network name '" + list.network + "' (1-63 of a-z 0-9 . -)");
    create_file(cl.vars["file"].as<std::string>(), serialise_bnl(list), 0644);
    return 0;
}

int cmd_add(const std::vector<std::string>& args) {
    po::options_description opts("options");
    auto cl = parse_command(args, opts, {"file", "name"}, "field");
    if (cl.help) {
        print_help("add FILE NAME [id=N] [ipv4=A] [ipv6=A] [port=P] [prefer=ipv4|ipv6] [subnet=CIDR]... [pin=SHA256]",
                   (std::string("Adds a node.  It needs an ipv4 or ipv6 endpoint.\n\n") + fields_help).c_str(), opts);
        return 0;
    }
    std::string file = cl.vars["file"].as<std::string>(), name = cl.vars["name"].as<std::string>();
    bnl_list list = load_source(file);
    if (!is_valid_bnl_name(name))
        throw tool_error("invalid node name '" + name + "' (1-63 of a-z 0-9 . -, starting with a letter or digit)");
    if (std::any_of(list.nodes.begin(), list.nodes.end(), [&](const bnl_node& n) { return n.name == name; }))
        throw tool_error(file + ": a node named '" + name + "' exists already (use modify)");
    bnl_node n;
    n.name = name;
    field_edit ed;
    for (const auto& f : cl.rest) apply_field(n, f, false, ed);
    if (n.id == 0) n.id = lowest_free_id(list);
    if (!n.ipv4 && !n.ipv6) throw tool_error("node " + name + " needs ipv4= or ipv6= (" + file + " left unchanged)");
    if (!ed.prefer_given) n.prefer = n.ipv4 ? ip_family::v4 : ip_family::v6;
    list.nodes.push_back(std::move(n));
    save_source(file, list);
    std::cout << "added " << name << " (id " << list.nodes.back().id << ")\n";
    return 0;
}

int cmd_modify(const std::vector<std::string>& args) {
    po::options_description opts("options");
    auto cl = parse_command(args, opts, {"file", "name"}, "field");
    if (cl.help) {
        print_help("modify FILE NAME key=value...",
                   (std::string("Changes fields of a node.  subnet= values replace all its subnets (see also\n"
                                "addsubnet/delsubnet); ipv4=none, ipv6=none, pin=none remove a field;\n"
                                "name=NEW renames the node.\n\n") + fields_help).c_str(), opts);
        return 0;
    }
    if (cl.rest.empty()) throw usage_error("nothing to change: give key=value fields");
    std::string file = cl.vars["file"].as<std::string>(), name = cl.vars["name"].as<std::string>();
    bnl_list list = load_source(file);
    bnl_node& n = find_node(list, name, file);
    field_edit ed;
    for (const auto& f : cl.rest) apply_field(n, f, true, ed);
    settle_prefer(n, ed);
    save_source(file, list);
    return 0;
}

int cmd_remove(const std::vector<std::string>& args) {
    po::options_description opts("options");
    auto cl = parse_command(args, opts, {"file", "name"});
    if (cl.help) {
        print_help("remove FILE NAME",
                   "Removes a node.  Once the signed list reaches the mesh, every node tears down its\n"
                   "tunnel to it: removal is revocation.", opts);
        return 0;
    }
    std::string file = cl.vars["file"].as<std::string>(), name = cl.vars["name"].as<std::string>();
    bnl_list list = load_source(file);
    find_node(list, name, file);
    std::erase_if(list.nodes, [&](const bnl_node& n) { return n.name == name; });
    save_source(file, list);
    return 0;
}

namespace {
int edit_subnet(const std::vector<std::string>& args, bool add) {
    po::options_description opts("options");
    auto cl = parse_command(args, opts, {"file", "name", "cidr"});
    if (cl.help) {
        print_help(add ? "addsubnet FILE NAME CIDR" : "delsubnet FILE NAME CIDR",
                   add ? "Routes one more subnet to a node.  It may not overlap any other subnet of the list."
                       : "Stops routing a subnet to a node.",
                   opts);
        return 0;
    }
    std::string file = cl.vars["file"].as<std::string>(), name = cl.vars["name"].as<std::string>();
    std::string cidr = cl.vars["cidr"].as<std::string>();
    auto p = parse_prefix(cidr);
    if (!p.prefix) throw tool_error("bad subnet '" + cidr + "': " + to_string(p.error));
    bnl_list list = load_source(file);
    bnl_node& n = find_node(list, name, file);
    auto it = std::find(n.subnets.begin(), n.subnets.end(), *p.prefix);
    if (add) {
        if (it != n.subnets.end()) throw tool_error("node " + name + " already has subnet " + cidr);
        n.subnets.push_back(*p.prefix);
    } else {
        if (it == n.subnets.end()) throw tool_error("node " + name + " has no subnet " + cidr);
        n.subnets.erase(it);
    }
    save_source(file, list);
    return 0;
}
}  // namespace

int cmd_addsubnet(const std::vector<std::string>& args) { return edit_subnet(args, true); }
int cmd_delsubnet(const std::vector<std::string>& args) { return edit_subnet(args, false); }

int cmd_import_csv(const std::vector<std::string>& args) {
    po::options_description opts("options");
    opts.add_options()("network,n", po::value<std::string>()->required(), "the network's name");
    auto cl = parse_command(args, opts, {"csv", "file"});
    if (cl.help) {
        print_help("import-csv CSV FILE --network NAME",
                   "Converts the original daemon's CSV node list into a new source list FILE.\n"
                   "CSV lines: name,id,ipv4,ipv6,port,ipv6preferred,nsubnets,subnet,...\n"
                   "(0.0.0.0 and :: mean no address; subnets may carry a 4: or 6: prefix).\n"
                   "Refuses to replace an existing FILE.",
                   opts);
        return 0;
    }
    std::string csv_path = cl.vars["csv"].as<std::string>();
    auto list = parse_bnl_csv(read_text(csv_path, bnl_max_file_bytes), cl.vars["network"].as<std::string>());
    if (!list) throw tool_error(csv_path + ": " + to_string(list.error()));
    create_file(cl.vars["file"].as<std::string>(), serialise_bnl(*list), 0644);
    std::cout << "imported " << list->nodes.size() << " nodes\n";
    return 0;
}

}  // namespace weft::bnl_sign
