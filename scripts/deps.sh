#!/usr/bin/env bash
# deps.sh - install, with apt-get, whatever weft needs to build, test and run
# that this machine lacks.  Idempotent; does nothing when all is present.
# Usage: scripts/deps.sh [--bench]   (--bench adds the peer VPNs for ../shared/bench)
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-program-options1.81-dev libboost-test1.81-dev
  libssl-dev openssl zlib1g-dev liblz4-dev libsodium-dev nlohmann-json3-dev libfmt-dev
  clang libclang-rt-14-dev
  iproute2 iputils-ping procps psmisc tcpdump iperf3 jq python3
)
if [[ ${1:-} == --bench ]]; then
  pkgs+=(wireguard-go wireguard-tools tinc fastd nebula openvpn)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if [[ $EUID -ne 0 ]]; then
  echo "deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
