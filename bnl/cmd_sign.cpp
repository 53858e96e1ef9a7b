// sign, verify
#include <ctime>
#include <iostream>

#include "base/hex.hpp"
#include "cli.hpp"
#include "io/file.hpp"
#include "wire/bnl_signature.hpp"

namespace weft::bnl_sign {

namespace {

// The version of the list currently at `path`, if a signed list is there.
// Anything else at that path is refused: we never overwrite what we did not write.
std::uint64_t previous_signed_version(const std::filesystem::path& path, const std::string& network) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return 0;
    std::string text = read_text(path, bnl_max_file_bytes);
    auto parts = split_signed_bnl(text);
    if (!parts) throw tool_error(quote(path) + " exists but is not a signed list (" + to_string(parts.error()) + "); refusing to overwrite it");
    auto list = parse_bnl(parts->body);
    if (!list) throw tool_error(quote(path) + " exists but does not parse (" + to_string(list.error()) + "); refusing to overwrite it");
    if (list->network != network)
        throw tool_error(quote(path) + " holds a list of network '" + list->network + "', not '" + network + "'");
    return list->version;
}

std::string describe(const verified_bnl& v) {
    return "network " + v.list.network + ", version " + std::to_string(v.list.version) + " (signed " +
           format_utc_time(*v.list.signed_at) + "), " + std::to_string(v.list.nodes.size()) + " nodes, " +
           to_string(v.algorithm) + " key sha256:" + to_hex(v.key_fingerprint);
}

}  // namespace

int cmd_sign(const std::vector<std::string>& args) {
    po::options_description opts("options");
    opts.add_options()("key,k", po::value<std::string>()->required(), "private signing key (from keygen)")
        ("out,o", po::value<std::string>()->required(), "the signed list to write");
    auto cl = parse_command(args, opts, {"file"});
    if (cl.help) {
        print_help("sign FILE --key KEY --out SIGNED",
                   "Signs the source list FILE into SIGNED.  The version becomes\n"
                   "max(now in unix seconds, previous + 1), where previous is the larger of FILE's\n"
                   "version and SIGNED's, so versions always increase; FILE records the new version\n"
                   "and signing time.  SIGNED is replaced atomically.",
                   opts);
        return 0;
    }
    std::filesystem::path file = cl.vars["file"].as<std::string>(), out = cl.vars["out"].as<std::string>();
    auto key = load_private_key(cl.vars["key"].as<std::string>());
    bnl_list list = load_source(file);
    std::int64_t now = std::time(nullptr);
    std::uint64_t previous = std::max(list.version, previous_signed_version(out, list.network));
    list.version = next_bnl_version(previous, now);
    list.signed_at = now;
    auto signed_text = sign_bnl(list, key);
    if (!signed_text) throw tool_error(quote(file) + ": " + to_string(signed_text.error()));
    // Judge the result as a node will, with the key's own public half, before
    // anything is written: a list no node would accept must not replace SIGNED.
    std::vector<crypto::public_key> own;
    if (auto pub = crypto::public_key::from_pem(key.public_part().to_pem())) own.push_back(std::move(pub).value());
    if (auto check = verify_bnl(*signed_text, own); !check)
        throw tool_error("the new signature does not verify with the key's own public key (" +
                         to_string(check.error()) + "); " + quote(out) + " and " + quote(file) + " left unchanged");
    if (auto ec = io::write_file_atomic(out, *signed_text,
                                        io::write_options{.mode = 0644, .symlinks = io::symlink_policy::follow}))
        throw tool_error(quote(out) + ": cannot write: " + ec.message());
    // Record the version in the source too (after SIGNED exists: if this
    // write fails, the next sign still sees the version in SIGNED).
    save_source(file, list);
    std::cout << "signed " << out.string() << ": network " << list.network << ", version " << list.version
              << ", " << list.nodes.size() << " nodes, " << crypto::to_string(key.type()) << " key sha256:"
              << to_hex(key.public_part().fingerprint()) << '\n';
    return 0;
}

int cmd_verify(const std::vector<std::string>& args) {
    po::options_description opts("options");
    opts.add_options()("pub,p", po::value<std::vector<std::string>>()->required(), "a trusted public key (repeatable)")
        ("current,c", po::value<std::string>(), "the list a node holds now: also check SIGNED may replace it")
        ("quiet,q", "print nothing on success");
    auto cl = parse_command(args, opts, {"signed"});
    if (cl.help) {
        print_help("verify SIGNED --pub PUB [--pub PUB2] [--current CURRENT]",
                   "Verifies SIGNED against the trusted keys exactly as a node does: signature over\n"
                   "the exact bytes, strict parse, size limits.  With --current, also decides as a\n"
                   "node holding CURRENT would: accepted only when SIGNED is newer and of the same\n"
                   "network.  Exit 0 valid (and accepted), 1 invalid or refused (reason on stderr).",
                   opts);
        return 0;
    }
    auto keys = load_public_keys(cl.vars["pub"].as<std::vector<std::string>>());
    std::string path = cl.vars["signed"].as<std::string>();
    bool quiet = cl.vars.count("quiet") > 0;
    auto cand = verify_bnl(read_text(path, bnl_max_file_bytes), keys);
    if (!cand) throw tool_error(path + ": invalid: " + to_string(cand.error()));
    if (!quiet) std::cout << path << ": valid: " << describe(*cand) << '\n';
    if (!cl.vars.count("current")) return 0;
    std::string cur_path = cl.vars["current"].as<std::string>();
    auto cur = verify_bnl(read_text(cur_path, bnl_max_file_bytes), keys);
    if (!cur) throw tool_error(cur_path + ": the current list is itself invalid: " + to_string(cur.error()));
    auto d = decide_replacement(*cur, *cand);
    if (d != bnl_decision::accept) throw tool_error(path + ": refused: " + explain(d, *cur, *cand));
    if (!quiet) std::cout << path << ": would be accepted: " << explain(d, *cur, *cand) << '\n';
    return 0;
}

}  // namespace weft::bnl_sign
