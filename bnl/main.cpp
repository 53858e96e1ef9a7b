// bnl-sign: the administrator's tool for the bootstrap node list.
#include <exception>
#include <iostream>
#include <string_view>

#include "cli.hpp"

namespace {

using namespace weft::bnl_sign;

struct command {
    std::string_view name;
    int (*run)(const std::vector<std::string>&);
    std::string_view summary;
};

constexpr command commands[] = {
    {"keygen", cmd_keygen, "make a signing key pair: PREFIX.key (0600) and PREFIX.pub"},
    {"fingerprint", cmd_fingerprint, "print the sha256 fingerprint of a key"},
    {"new", cmd_new, "start an empty source list for a network"},
    {"add", cmd_add, "add a node to a source list"},
    {"modify", cmd_modify, "change fields of a node"},
    {"remove", cmd_remove, "remove a node"},
    {"addsubnet", cmd_addsubnet, "route one more subnet to a node"},
    {"delsubnet", cmd_delsubnet, "stop routing a subnet to a node"},
    {"import-csv", cmd_import_csv, "convert the original CSV node list into a source list"},
    {"sign", cmd_sign, "sign a source list (sets version and signing time)"},
    {"verify", cmd_verify, "verify a signed list, and optionally whether it may replace another"},
    {"print", cmd_print, "print a list (signed or source) as a table or JSON"},
};

void usage(std::ostream& out) {
    out << "usage: bnl-sign COMMAND [ARGS...]   (bnl-sign COMMAND --help for details)\n\n"
           "Creates, edits, signs and verifies weft's bootstrap node list.\n\ncommands:\n";
    for (const auto& c : commands) {
        out << "  " << c.name;
        for (std::size_t i = c.name.size(); i < 13; ++i) out << ' ';
        out << c.summary << '\n';
    }
    out << "\nexit status: 0 success, 1 failure (invalid or refused), 2 usage error\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(std::cerr);
        return 2;
    }
    std::string_view name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(std::cout);
        return 0;
    }
    if (name == "--version") {
        std::cout << "bnl-sign (weft) " WEFT_VERSION "\n";
        return 0;
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    for (const auto& c : commands) {
        if (c.name != name) continue;
        try {
            return c.run(args);
        } catch (const usage_error& e) {
            std::cerr << "bnl-sign " << name << ": " << e.what() << " (see bnl-sign " << name
                      << " --help)\n";
            return 2;
        } catch (const std::exception& e) {
            std::cerr << "bnl-sign " << name << ": " << e.what() << '\n';
            return 1;
        }
    }
    std::cerr << "bnl-sign: unknown command '" << name << "'\n";
    usage(std::cerr);
    return 2;
}
