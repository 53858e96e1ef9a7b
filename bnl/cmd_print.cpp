// print
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/hex.hpp"
#include "cli.hpp"
#include "wire/bnl_signature.hpp"

namespace weft::bnl_sign {

namespace {

std::string subnets_text(const bnl_node& n) {
    std::string s;
    for (const auto& p : n.subnets) s += (s.empty() ? "" : ",") + to_string(p);
    return s.empty() ? "-" : s;
}

void print_table(const bnl_list& list, const std::string& signature_line) {
    std::cout << "network " << list.network << ", version " << list.version;
    if (list.signed_at) std::cout << ", signed " << format_utc_time(*list.signed_at);
    std::cout << ", " << list.nodes.size() << " nodes\n" << signature_line << "\n\n";
    std::size_t wname = 4, wv4 = 4, wv6 = 4;
    for (const auto& n : list.nodes) {
        wname = std::max(wname, n.name.size());
        wv4 = std::max(wv4, n.ipv4 ? to_string(*n.ipv4).size() : 1);
        wv6 = std::max(wv6, n.ipv6 ? to_string(*n.ipv6).size() : 1);
    }
    auto row = [&](const std::string& name, const std::string& id, const std::string& v4, const std::string& v6,
                   const std::string& port, const std::string& pref, const std::string& pin, const std::string& subnets) {
        std::cout << std::left << std::setw(static_cast<int>(wname)) << name << "  " << std::setw(10) << id << "  "
                  << std::setw(static_cast<int>(wv4)) << v4 << "  " << std::setw(static_cast<int>(wv6)) << v6 << "  "
                  << std::setw(5) << port << "  " << std::setw(6) << pref << "  " << std::setw(4) << pin << "  "
                  << subnets << '\n';
    };
    row("NAME", "ID", "IPV4", "IPV6", "PORT", "PREFER", "PIN", "SUBNETS");
    for (const auto& n : list.nodes)
        row(n.name, std::to_string(n.id), n.ipv4 ? to_string(*n.ipv4) : "-", n.ipv6 ? to_string(*n.ipv6) : "-",
            std::to_string(n.port), n.prefer == ip_family::v4 ? "ipv4" : "ipv6", n.pin ? "yes" : "-",
            subnets_text(n));
}

nlohmann::json to_json(const bnl_list& list) {
    nlohmann::json j;
    j["network"] = list.network;
    j["version"] = list.version;
    j["signed"] = list.signed_at ? nlohmann::json(format_utc_time(*list.signed_at)) : nlohmann::json(nullptr);
    j["nodes"] = nlohmann::json::array();
    for (const auto& n : list.nodes) {
        nlohmann::json jn;
        jn["name"] = n.name;
        jn["id"] = n.id;
        jn["ipv4"] = n.ipv4 ? nlohmann::json(to_string(*n.ipv4)) : nlohmann::json(nullptr);
        jn["ipv6"] = n.ipv6 ? nlohmann::json(to_string(*n.ipv6)) : nlohmann::json(nullptr);
        jn["port"] = n.port;
        jn["prefer"] = n.prefer == ip_family::v4 ? "ipv4" : "ipv6";
        jn["subnets"] = nlohmann::json::array();
        for (const auto& p : n.subnets) jn["subnets"].push_back(to_string(p));
        jn["pin"] = n.pin ? nlohmann::json(format_pin(*n.pin)) : nlohmann::json(nullptr);
        j["nodes"].push_back(std::move(jn));
    }
    return j;
}

}  // namespace

int cmd_print(const std::vector<std::string>& args) {
    po::options_description opts("options");
    opts.add_options()("json,j", "print JSON instead of a table")
        ("pub,p", po::value<std::vector<std::string>>(), "verify a signed list against this key first (repeatable)");
    auto cl = parse_command(args, opts, {"file"});
    if (cl.help) {
        print_help("print SIGNED|FILE [--json] [--pub PUB...]",
                   "Prints a signed or source list.  A signed list's signature is checked only with\n"
                   "--pub (and then an invalid list is an error, an unsigned source list too);\n"
                   "without it the output says so.",
                   opts);
        return 0;
    }
    // --pub means "verify": the keys are loaded first, and a list that cannot
    // verify (an unsigned source list too) is an error, as with verify.
    const bool verify = cl.vars.count("pub") > 0;
    std::vector<crypto::public_key> keys;
    if (verify) keys = load_public_keys(cl.vars["pub"].as<std::vector<std::string>>());
    std::string path = cl.vars["file"].as<std::string>();
    std::string text = read_text(path, bnl_max_file_bytes);
    bnl_list list;
    nlohmann::json sig = nullptr;
    std::string sig_line;
    auto parts = split_signed_bnl(text);
    if (!parts && (verify || parts.error().code != bnl_errc::unsigned_list))
        throw tool_error(path + (verify ? ": invalid: " : ": ") + to_string(parts.error()));
    if (!parts) {
        auto l = parse_bnl(text);
        if (!l) throw tool_error(path + ": " + to_string(l.error()));
        list = std::move(l).value();
        sig_line = "unsigned source list";
    } else {
        bool verified = false;
        if (verify) {
            auto v = verify_bnl(text, keys);
            if (!v) throw tool_error(path + ": invalid: " + to_string(v.error()));
            list = std::move(v->list);
            verified = true;
        } else {
            auto l = parse_bnl(parts->body);
            if (!l) throw tool_error(path + ": " + to_string(l.error()));
            list = std::move(l).value();
        }
        std::string fp = "sha256:" + to_hex(parts->block.key_fingerprint);
        sig = {{"algorithm", to_string(parts->block.algorithm)}, {"key", fp}, {"verified", verified}};
        sig_line = std::string("signed with ") + to_string(parts->block.algorithm) + " key " + fp +
                   (verified ? " (verified)" : " (signature NOT checked: give --pub to verify)");
    }
    if (cl.vars.count("json")) {
        auto j = to_json(list);
        j["signature"] = sig;
        std::cout << j.dump(2) << '\n';
    } else {
        print_table(list, sig_line);
    }
    return 0;
}

}  // namespace weft::bnl_sign
