// keygen, fingerprint
#include <iostream>

#include "base/hex.hpp"
#include "cli.hpp"

namespace weft::bnl_sign {

int cmd_keygen(const std::vector<std::string>& args) {
    po::options_description opts("options");
    opts.add_options()("out,o", po::value<std::string>()->required(), "write PREFIX.key and PREFIX.pub")
        ("type,t", po::value<std::string>()->default_value("ed25519"), "ed25519 or dsa")
        ("bits", po::value<unsigned>()->default_value(crypto::min_dsa_bits), "DSA key size (>= 2048)");
    auto cl = parse_command(args, opts, {});
    if (cl.help) {
        print_help("keygen --out PREFIX [--type ed25519|dsa] [--bits N]",
                   "Generates a list-signing key pair.  PREFIX.key is the private key (mode 0600;\n"
                   "keep it off the nodes), PREFIX.pub the public key every node trusts (bnl-key in\n"
                   "weft.conf).  Refuses to overwrite either file.  DSA exists for networks that\n"
                   "already use it; new networks should use ed25519.",
                   opts);
        return 0;
    }
    std::string type = cl.vars["type"].as<std::string>();
    crypto::key_type kt;
    if (type == "ed25519") kt = crypto::key_type::ed25519;
    else if (type == "dsa") kt = crypto::key_type::dsa;
    else throw usage_error("unknown key type '" + type + "' (ed25519 or dsa)");
    std::string prefix = cl.vars["out"].as<std::string>();
    std::filesystem::path key_path = prefix + ".key", pub_path = prefix + ".pub";
    for (const auto& p : {key_path, pub_path})
        if (std::filesystem::exists(std::filesystem::symlink_status(p)))
            throw tool_error(quote(p) + ": already exists; refusing to overwrite it");
    auto key = crypto::private_key::generate(kt, cl.vars["bits"].as<unsigned>());
    if (!key) throw tool_error(key.error().message);
    create_file(key_path, key->to_pem(), 0600);
    create_file(pub_path, key->public_part().to_pem(), 0644);
    std::cout << "wrote " << key_path.string() << " (private, keep it safe) and " << pub_path.string()
              << "\nkey " << crypto::to_string(kt) << " sha256:" << to_hex(key->public_part().fingerprint())
              << '\n';
    return 0;
}

int cmd_fingerprint(const std::vector<std::string>& args) {
    po::options_description opts("options");
    auto cl = parse_command(args, opts, {"key-file"});
    if (cl.help) {
        print_help("fingerprint KEYFILE",
                   "Prints the type and sha256 fingerprint of a public or private key, as signature\n"
                   "blocks name it.",
                   opts);
        return 0;
    }
    std::string path = cl.vars["key-file"].as<std::string>();
    std::string pem = read_text(path, 64 * 1024);
    if (pem.find("PRIVATE KEY") != std::string::npos) {
        auto k = crypto::private_key::from_pem(pem);
        if (!k) throw tool_error(path + ": " + k.error().message);
        std::cout << crypto::to_string(k->type()) << " sha256:" << to_hex(k->public_part().fingerprint()) << '\n';
    } else {
        auto k = crypto::public_key::from_pem(pem);
        if (!k) throw tool_error(path + ": " + k.error().message);
        std::cout << crypto::to_string(k->type()) << " sha256:" << to_hex(k->fingerprint()) << '\n';
    }
    return 0;
}

}  // namespace weft::bnl_sign
