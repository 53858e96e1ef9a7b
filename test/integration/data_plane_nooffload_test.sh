#!/usr/bin/env bash
# data_plane_test.sh on the fallback path: offload = off (no vnet header, no
# TSO, no UDP GSO/GRO; batches with sendmmsg/recvmmsg instead).  Every check
# of the offloaded run must hold here too.
WEFT_OFFLOAD=off exec bash "$(dirname "$0")/data_plane_test.sh"
