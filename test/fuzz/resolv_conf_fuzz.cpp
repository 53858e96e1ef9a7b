// Fuzz target: the resolv.conf model.  Whatever it accepts renders back to
// the exact input, and any subset of its nameservers renders to a file that
// parses again to exactly that subset.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/check.hpp"
#include "wire/resolv_conf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto rc = weft::resolv_conf::parse(text);
    if (!rc) {
        WEFT_CHECK(!rc.error().message().empty());
        return 0;
    }
    WEFT_CHECK(rc->render() == text);
    auto servers = rc->nameservers();
    WEFT_CHECK(servers.size() <= weft::resolv_conf_limits::max_nameservers);
    // A subset chosen from the input's own bytes.
    std::vector<bool> keep(servers.size());
    std::vector<weft::nameserver> chosen;
    for (std::size_t i = 0; i < servers.size(); ++i) {
        keep[i] = (data[i % size] >> (i % 8)) & 1;
        if (keep[i]) chosen.push_back(servers[i]);
    }
    std::string subset = rc->render(keep);
    auto again = weft::resolv_conf::parse(subset);
    WEFT_CHECK(again.has_value());
    WEFT_CHECK(again->render() == subset);
    WEFT_CHECK(again->nameservers() == chosen);
    for (const auto& s : servers) {
        // The canonical text of an address parses back to the same server.
        auto one = weft::resolv_conf::parse("nameserver " + s.to_string() + "\n");
        WEFT_CHECK(one.has_value());
        WEFT_CHECK(one->nameservers().size() == 1 && one->nameservers()[0] == s);
    }
    return 0;
}
