// weft-nscheck: keeps only answering nameservers in resolv.conf, for nodes
// whose resolvers are reachable only over the VPN.  Run from cron.
#include <boost/program_options.hpp>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>

#include "checker.hpp"
#include "wire/dns_probe.hpp"

namespace {

namespace po = boost::program_options;
using namespace weft::nscheck;

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr const char* summary =
    "usage: weft-nscheck [OPTIONS]\n\n"
    "Checks every nameserver of the master list (created from resolv.conf on the\n"
    "first run) and rewrites resolv.conf to list only those that answer a DNS\n"
    "query, in master order, every other line kept.  If none answers, resolv.conf\n"
    "lists the master's nameservers.  Changes are logged.\n\noptions";

constexpr const char* exit_codes =
    "\nexit status: 0 done (resolv.conf lists the answering nameservers),\n"
    "  1 failure (unreadable or malformed file, no nameserver in the master, failed\n"
    "  write), 2 usage error, 3 no nameserver answered (resolv.conf lists the\n"
    "  master's), 4 another run holds the lock MASTER.lock (nothing done)\n";

template <class T>
T in_range(const po::variables_map& vm, const char* name, T lo, T hi) {
    auto v = vm[name].as<long long>();
    if (v < static_cast<long long>(lo) || v > static_cast<long long>(hi))
        throw usage_error("--" + std::string(name) + " must be " + std::to_string(lo) + " to " +
                          std::to_string(hi));
    return static_cast<T>(v);
}

struct parsed {
    settings s;
    std::string log_target;
    weft::io::log_level level = weft::io::log_level::notice;
    bool help = false;
};

parsed parse(int argc, char** argv, po::options_description& desc) {
    // clang-format off
    desc.add_options()
        ("help,h", "show this help")
        ("resolv", po::value<std::string>()->value_name("PATH")->default_value("/etc/resolv.conf"), "the file to rewrite (a symlink is followed)")
        ("master", po::value<std::string>()->value_name("PATH")->default_value("/etc/resolv.conf-master"), "the master list")
        ("timeout", po::value<long long>()->value_name("MS")->default_value(1500), "wait for an answer, per attempt (1..60000)")
        ("deadline", po::value<long long>()->value_name("MS")->default_value(5000), "the whole run may take this long (1..600000)")
        ("attempts", po::value<long long>()->value_name("N")->default_value(2), "attempts per server (1..10)")
        ("port", po::value<long long>()->value_name("N")->default_value(53), "DNS port to query")
        ("query", po::value<std::string>()->value_name("NAME")->default_value("."), "the name to ask NS records for")
        ("probe", po::value<std::string>()->value_name("METHOD")->default_value("dns"), "dns, ping (ICMP echo), or dns-or-ping")
        ("log", po::value<std::string>()->value_name("SINK")->default_value("syslog"), "syslog or stderr")
        ("log-level", po::value<std::string>()->value_name("LEVEL")->default_value("notice"), "error, warning, notice, info or debug")
        ("dry-run", "print the file that would be written; write nothing")
        ("init-master", "create the master from resolv.conf if it is missing, then exit");
    // clang-format on
    po::variables_map vm;
    const po::positional_options_description no_positionals;  // any argument is an error
    try {
        po::store(
            po::command_line_parser(argc, argv).options(desc).positional(no_positionals).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw usage_error(e.what());
    }
    parsed p;
    if (vm.count("help")) {
        p.help = true;
        return p;
    }
    settings& s = p.s;
    s.resolv = vm["resolv"].as<std::string>();
    s.master = vm["master"].as<std::string>();
    if (s.resolv.empty() || s.master.empty())
        throw usage_error("--resolv and --master need a path");
    if (s.resolv == s.master) throw usage_error("--resolv and --master must differ");
    s.probe.timeout = std::chrono::milliseconds(in_range<long long>(vm, "timeout", 1, 60000));
    s.deadline = std::chrono::milliseconds(in_range<long long>(vm, "deadline", 1, 600000));
    s.probe.attempts = in_range<unsigned>(vm, "attempts", 1, 10);
    s.probe.port = in_range<std::uint16_t>(vm, "port", 1, 65535);
    s.probe.query_name = vm["query"].as<std::string>();
    if (auto n = weft::dns::encode_name(s.probe.query_name); !n)
        throw usage_error("--query: " + std::string(weft::dns::to_string(n.error())));
    const auto& probe = vm["probe"].as<std::string>();
    if (probe == "dns")
        s.probe.method = probe_method::dns;
    else if (probe == "ping")
        s.probe.method = probe_method::ping;
    else if (probe == "dns-or-ping")
        s.probe.method = probe_method::dns_or_ping;
    else
        throw usage_error("--probe must be dns, ping or dns-or-ping");
    p.log_target = vm["log"].as<std::string>();
    if (p.log_target != "syslog" && p.log_target != "stderr")
        throw usage_error("--log must be syslog or stderr");
    auto level = weft::io::parse_log_level(vm["log-level"].as<std::string>());
    if (!level) throw usage_error("--log-level must be error, warning, notice, info or debug");
    p.level = *level;
    s.dry_run = vm.count("dry-run") > 0;
    s.init_master = vm.count("init-master") > 0;
    return p;
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description desc(summary);
    parsed p;
    try {
        p = parse(argc, argv, desc);
    } catch (const usage_error& e) {
        std::cerr << "weft-nscheck: " << e.what() << " (see weft-nscheck --help)\n";
        return static_cast<int>(exit_status::usage);
    }
    if (p.help) {
        std::cout << desc << exit_codes;
        return 0;
    }
    try {
        weft::io::logger log(p.log_target, p.level, "weft-nscheck");
        checker c(std::move(p.s), log, std::cout);
        return static_cast<int>(c.run());
    } catch (const std::exception& e) {
        std::cerr << "weft-nscheck: " << e.what() << '\n';
        return static_cast<int>(exit_status::failure);
    }
}
