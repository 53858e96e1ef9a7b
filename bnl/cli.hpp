// Shared plumbing of the bnl-sign subcommands: option parsing, loading and
// saving lists, and the two error kinds main() turns into exit codes.
#pragma once

#include <boost/program_options.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/bnl_trust.hpp"
#include "crypto/signature.hpp"
#include "wire/bnl.hpp"

namespace weft::bnl_sign {

namespace po = boost::program_options;

// Bad command line: exit 2 with a hint to --help.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The command could not be done (bad list, refused edit, I/O): exit 1.
struct tool_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct command_line {
    po::variables_map vars;
    std::vector<std::string> rest;  // positionals beyond the named ones
    bool help = false;
};

// Parses a subcommand's arguments.  `positional` names the leading
// positional options in order; with `rest_name` set, further positionals are
// collected into command_line::rest.
command_line parse_command(const std::vector<std::string>& args, po::options_description& opts,
                           const std::vector<std::string>& positional, const char* rest_name = nullptr);

void print_help(const char* synopsis, const char* description, const po::options_description& opts);

std::string read_text(const std::filesystem::path& path, std::size_t max_bytes);

// An unsigned source list (a signed file is refused with a hint).
bnl_list load_source(const std::filesystem::path& path);
// Rewrites an existing source list atomically, keeping its mode.
void save_source(const std::filesystem::path& path, const bnl_list& list);
// Creates a new file; refuses to replace one.
void create_file(const std::filesystem::path& path, const std::string& bytes, unsigned mode);

std::vector<crypto::public_key> load_public_keys(const std::vector<std::string>& paths);
crypto::private_key load_private_key(const std::filesystem::path& path);

// "bnl-sign: " prefix for every message the tool prints.
std::string quote(const std::filesystem::path& p);

// Subcommands.
int cmd_keygen(const std::vector<std::string>& args);
int cmd_fingerprint(const std::vector<std::string>& args);
int cmd_new(const std::vector<std::string>& args);
int cmd_add(const std::vector<std::string>& args);
int cmd_modify(const std::vector<std::string>& args);
int cmd_remove(const std::vector<std::string>& args);
int cmd_addsubnet(const std::vector<std::string>& args);
int cmd_delsubnet(const std::vector<std::string>& args);
int cmd_import_csv(const std::vector<std::string>& args);
int cmd_sign(const std::vector<std::string>& args);
int cmd_verify(const std::vector<std::string>& args);
int cmd_print(const std::vector<std::string>& args);

}  // namespace weft::bnl_sign
