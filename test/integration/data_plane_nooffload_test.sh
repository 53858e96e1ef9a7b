#!/usr/bin/env bash
# data_plane_test.sh on the fallback path: offload = off (no vnet header, no
# TSO, no UDP GSO/GRO; batches with sendmmsg/recvmmsg instead).  Every check
# of the offloaded run must hold here too.  The pairs run ChaCha20-Poly1305
# (ciphers = chacha20-poly1305:10), so every check also covers that cipher and
# its composition from ChaCha20 and Poly1305 (crypto/aead.hpp); the default
# run covers AES-256-GCM.
WEFT_OFFLOAD=off WEFT_CIPHERS=chacha20-poly1305:10 exec bash "$(dirname "$0")/data_plane_test.sh"
