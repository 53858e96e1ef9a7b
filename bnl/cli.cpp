#include "cli.hpp"

#include <iostream>

#include "io/file.hpp"
#include "wire/bnl_signature.hpp"

namespace weft::bnl_sign {

command_line parse_command(const std::vector<std::string>& args, po::options_description& opts,
                           const std::vector<std::string>& positional, const char* rest_name) {
    opts.add_options()("help,h", "show this help");
    po::options_description hidden;
    po::positional_options_description pos;
    for (const auto& name : positional) {
        hidden.add_options()(name.c_str(), po::value<std::string>());
        pos.add(name.c_str(), 1);
    }
    if (rest_name) {
        hidden.add_options()(rest_name, po::value<std::vector<std::string>>());
        pos.add(rest_name, -1);
    }
    po::options_description all;
    all.add(opts).add(hidden);
    command_line cl;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), cl.vars);
        cl.help = cl.vars.count("help") > 0;
        if (cl.help) return cl;  // before notify(): --help needs no required option
        po::notify(cl.vars);
    } catch (const po::error& e) {
        throw usage_error(e.what());
    }
    for (const auto& name : positional)
        if (!cl.vars.count(name)) throw usage_error("missing argument " + name);
    if (rest_name && cl.vars.count(rest_name)) cl.rest = cl.vars[rest_name].as<std::vector<std::string>>();
    return cl;
}

void print_help(const char* synopsis, const char* description, const po::options_description& opts) {
    std::cout << "usage: bnl-sign " << synopsis << "\n\n" << description << "\n\n" << opts;
}

std::string quote(const std::filesystem::path& p) { return p.string(); }

std::string read_text(const std::filesystem::path& path, std::size_t max_bytes) {
    std::string out;
    if (auto ec = io::read_file_bounded(path, max_bytes, out)) {
        if (ec == std::errc::file_too_large)
            throw tool_error(quote(path) + ": larger than the limit of " + std::to_string(max_bytes) + " bytes");
        throw tool_error(quote(path) + ": " + ec.message());
    }
    return out;
}

bnl_list load_source(const std::filesystem::path& path) {
    std::string text = read_text(path, bnl_max_file_bytes);
    if (split_signed_bnl(text).has_value())
        throw tool_error(quote(path) +
                         ": is a signed list; edit the source list and sign it again");
    auto list = parse_bnl(text);
    if (!list) throw tool_error(quote(path) + ": " + to_string(list.error()));
    return std::move(list).value();
}

void save_source(const std::filesystem::path& path, const bnl_list& list) {
    if (auto st = validate_bnl(list); !st)
        throw tool_error(to_string(st.error()) + " (" + quote(path) + " left unchanged)");
    unsigned mode = 0644;
    if (auto ec = io::file_mode(path, mode)) throw tool_error(quote(path) + ": " + ec.message());
    // A symlinked list (into a repository, say) is written where it points.
    if (auto ec = io::write_file_atomic(path, serialise_bnl(list),
                                        io::write_options{.mode = mode, .symlinks = io::symlink_policy::follow}))
        throw tool_error(quote(path) + ": cannot write: " + ec.message());
}

void create_file(const std::filesystem::path& path, const std::string& bytes, unsigned mode) {
    if (auto ec = io::write_file_new(path, bytes, mode)) {
        if (ec == std::errc::file_exists)
            throw tool_error(quote(path) + ": already exists; refusing to overwrite it");
        throw tool_error(quote(path) + ": cannot create: " + ec.message());
    }
}

std::vector<crypto::public_key> load_public_keys(const std::vector<std::string>& paths) {
    std::vector<crypto::public_key> keys;
    for (const auto& p : paths) {
        auto k = crypto::public_key::from_pem(read_text(p, 64 * 1024));
        if (!k) throw tool_error(p + ": " + k.error().message);
        keys.push_back(std::move(k).value());
    }
    return keys;
}

crypto::private_key load_private_key(const std::filesystem::path& path) {
    auto k = crypto::private_key::from_pem(read_text(path, 64 * 1024));
    if (!k) throw tool_error(quote(path) + ": " + k.error().message);
    return std::move(k).value();
}

}  // namespace weft::bnl_sign
