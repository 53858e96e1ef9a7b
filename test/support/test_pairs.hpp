// Pair states as a negotiation would leave them, made from fixed "exporter
// output" instead of a TLS session: for tests, fuzz targets and benchmarks
// that drive the data plane without the negotiation service.  Both sides
// built with the same seed hold mirrored keys.
#pragma once

#include <numeric>
#include <string>
#include <vector>

#include "core/key_schedule.hpp"
#include "core/pair_state.hpp"

namespace weft::test {

inline pair_state make_pair_state(std::uint32_t self, std::uint32_t peer, std::string peer_name, cipher_id c,
                                  std::uint8_t compression = 0, std::uint8_t level = 0, std::uint32_t epoch = 1,
                                  std::uint8_t seed = 7) {
    std::vector<std::uint8_t> exported(exporter_length(c));
    std::iota(exported.begin(), exported.end(), seed);
    auto keys = split_keys(self, peer, c, exported).value();
    pair_state st;
    st.self_id = self;
    st.peer_id = peer;
    st.peer_name = std::move(peer_name);
    st.highest_epoch = epoch;
    pair_keyset ks;
    ks.epoch = epoch;
    ks.cipher = static_cast<std::uint8_t>(c);
    ks.compression = compression;
    ks.level = level;
    ks.tx_key = std::move(keys.tx_key);
    ks.rx_key = std::move(keys.rx_key);
    ks.tx_salt = std::move(keys.tx_salt);
    ks.rx_salt = std::move(keys.rx_salt);
    st.current = std::move(ks);
    return st;
}

}  // namespace weft::test
