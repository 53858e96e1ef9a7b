// In-process test meshes: several negotiation services on one io_context,
// each with real certificates made by pki/weft-ca, a real state directory
// and a log file the tests read back.  Loopback only.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include "core/bnl_index.hpp"
#include "io/log.hpp"
#include "io/negotiation_service.hpp"
#include "io/state_store.hpp"
#include "io/tls.hpp"

namespace weft::test {

namespace fs = std::filesystem;
namespace asio = boost::asio;

inline std::string sh_quote(const std::string& s) {
    std::string out = "'";
    for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
}

// Runs a shell command; fails the test (with its output) on a non-zero exit.
inline std::string run_or_fail(const std::string& cmd) {
    std::string full = cmd + " 2>&1";
    FILE* p = ::popen(full.c_str(), "r");
    BOOST_REQUIRE(p);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int rc = ::pclose(p);
    BOOST_REQUIRE_MESSAGE(rc == 0, "command failed: " << cmd << "\n" << out);
    return out;
}

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A temporary directory removed at the end of the test.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "weft-unit-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()));
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// A free TCP port on 127.0.0.1, bound and released.  Taken below Linux's
// ephemeral range (32768..60999): a port the kernel hands out could be
// taken again as the source port of one of the mesh's own outgoing
// connections before the node listens on it (seen under ASan).
inline std::uint16_t free_port() {
    static std::minstd_rand rng(static_cast<std::uint32_t>(::getpid()) * 7919u +
                                static_cast<std::uint32_t>(std::random_device{}()));
    asio::io_context io;
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const auto port = static_cast<std::uint16_t>(20000 + rng() % 12000);
        asio::ip::tcp::acceptor a(io);
        boost::system::error_code ec;
        a.open(asio::ip::tcp::v4(), ec);
        if (!ec) a.bind({asio::ip::make_address("127.0.0.1"), port}, ec);
        if (!ec) return port;
    }
    BOOST_FAIL("no free TCP port in 20000..31999");
    return 0;
}

// Certificates for a test network: one CA (and an impostor CA), node certs
// issued on demand.
struct pki {
    fs::path dir, evil_dir, script;
    explicit pki(const fs::path& root) : dir(root / "ca"), evil_dir(root / "evil-ca") {
        script = fs::path(WEFT_SOURCE_DIR) / "pki" / "weft-ca";
        run_or_fail(sh_quote(script.string()) + " init " + sh_quote(dir.string()) + " --name test");
        run_or_fail(sh_quote(script.string()) + " init " + sh_quote(evil_dir.string()) + " --name evil");
    }
    // Issues NAME (extra weft-ca options in `opts`) from the CA or the impostor.
    io::tls_files issue(const std::string& name, const std::string& opts = "", bool evil = false) {
        const fs::path& d = evil ? evil_dir : dir;
        run_or_fail(sh_quote(script.string()) + " issue " + sh_quote(d.string()) + " " + name + " " + opts);
        return {d / "nodes" / (name + ".crt"), d / "nodes" / (name + ".key"), dir / "ca.crt"};
    }
    std::string fingerprint(const fs::path& cert) {
        auto out = run_or_fail(sh_quote(script.string()) + " fingerprint " + sh_quote(cert.string()));
        while (!out.empty() && (out.back() == '\n')) out.pop_back();
        return out;
    }
};

struct node {
    std::string name;
    std::uint32_t id = 0;
    std::uint16_t port = 0;
    io::tls_files files;
    io::negotiation_settings settings;
    fs::path state_dir, log_path;
    std::unique_ptr<io::tls_context> tls;
    std::unique_ptr<io::logger> log;
    std::optional<io::state_store> store;
    std::unique_ptr<io::negotiation_service> svc;
    // The node's own list and its file bytes (node-list exchange tests);
    // null: the mesh's shared list, and nothing to serve.
    std::shared_ptr<const bnl_index> own_bnl;
    std::shared_ptr<const std::string> own_bytes;
    std::string log_text() const { return slurp(log_path); }
};

struct mesh {
    temp_dir tmp;
    pki certs{tmp.path};
    asio::io_context io;
    bnl_list list;
    std::shared_ptr<const bnl_index> bnl;
    std::map<std::string, node> nodes;

    mesh() { list.network = "test"; list.version = 1; list.signed_at = 1; }

    // Adds a node to the list (and issues its certificate unless `files` is given).
    node& add(const std::string& name, std::uint32_t id, std::optional<io::tls_files> files = std::nullopt) {
        node& n = nodes[name];
        n.name = name;
        n.id = id;
        n.port = free_port();
        n.files = files ? *files : certs.issue(name);
        n.state_dir = tmp.path / ("state-" + name);
        n.log_path = tmp.path / (name + ".log");
        n.settings.listen = {{asio::ip::make_address("127.0.0.1"), n.port}};
        bnl_node bn;
        bn.name = name;
        bn.id = id;
        bn.ipv4 = ip_address::v4(127, 0, 0, 1);
        bn.port = n.port;
        list.nodes.push_back(bn);
        bnl = std::make_shared<const bnl_index>(list);
        return n;
    }
    void set_list(bnl_list l) {
        list = std::move(l);
        bnl = std::make_shared<const bnl_index>(list);
    }
    // Gives `n` its own copy of the mesh's list at `version`, served as
    // `bytes` (which stand for the signed file: the service never parses them).
    void give_list(node& n, std::uint64_t version, std::string bytes) {
        bnl_list l = list;
        l.version = version;
        n.own_bnl = std::make_shared<const bnl_index>(l);
        n.own_bytes = std::make_shared<const std::string>(std::move(bytes));
    }

    void start(node& n) {
        auto t = io::tls_context::load(n.files);
        BOOST_REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error()));
        n.tls = std::move(t).value();
        n.log = std::make_unique<io::logger>(n.log_path.string(), io::log_level::debug);
        auto st = io::state_store::open(n.state_dir, n.id);
        BOOST_REQUIRE_MESSAGE(st.has_value(), (st ? "" : st.error()));
        n.store.emplace(std::move(st).value());
        n.svc = std::make_unique<io::negotiation_service>(
            io, n.settings, *n.tls, n.id, [this, &n] { return n.own_bnl ? n.own_bnl : bnl; }, *n.store, *n.log);
        n.svc->bnl_bytes = [&n] { return n.own_bytes; };
        BOOST_REQUIRE(!n.svc->start());
    }
    void start_all() {
        for (auto& [name, n] : nodes) start(n);
    }
    void stop(node& n) {
        if (!n.svc) return;
        n.svc->stop();
        io.poll();  // let closed connections finish their coroutines
        n.svc.reset();
        n.store.reset();
    }
    ~mesh() {
        for (auto& [name, n] : nodes)
            if (n.svc) n.svc->stop();
        io.stop();
    }

    // Runs the event loop until pred() holds or `limit` passes.
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (!pred()) {
            if (std::chrono::steady_clock::now() >= end) return false;
            io.restart();
            io.run_for(std::chrono::milliseconds(20));
        }
        return true;
    }
    void run_for(std::chrono::milliseconds d) {
        io.restart();
        io.run_for(d);
    }
    // Runs the blocking `f` (a raw peer, a tool) on its own thread while the
    // loop runs; requires it to finish within `limit`, then runs the loop
    // `settle` longer so the services finish their side.  f's result.
    template <class F>
    auto run_beside(F&& f, std::chrono::milliseconds limit = std::chrono::seconds(20),
                    std::chrono::milliseconds settle = std::chrono::milliseconds(0)) {
        auto fut = std::async(std::launch::async, std::forward<F>(f));
        auto ready = [&] { return fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready; };
        run_until(ready, limit);
        BOOST_REQUIRE(ready());
        if (settle.count() > 0) run_for(settle);
        return fut.get();
    }
    bool established(const node& a, const node& b) const {
        auto* pa = a.svc->pair(b.id);
        auto* pb = b.svc->pair(a.id);
        return pa && pb && pa->current && pb->current && pa->current->epoch == pb->current->epoch;
    }
};

// The two-node mesh most service tests start from: alpha (id 1) and beta
// (id 2), listed, not started.
struct alpha_beta {
    mesh m;
    node& a = m.add("alpha", 1);
    node& b = m.add("beta", 2);
};

inline bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

}  // namespace weft::test
