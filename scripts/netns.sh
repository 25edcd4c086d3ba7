#!/usr/bin/env bash
# Separate "hosts" on one machine for the scale-out tests (docs/scale-out.md): N network namespaces, each
# joined by a veth pair to one bridge. A process in a namespace has its own loopback and reaches the rest
# only over the bridge (the host side of the bridge holds the first address: the cluster and MinIO bind there).
#
#   bash scripts/netns.sh up <name> <count>   # prints HOST_IP=… and NS_<i>=<namespace> <ip>
#   bash scripts/netns.sh down <name>         # removes every namespace, link and bridge of <name>
#   bash scripts/netns.sh cut <name> <i>      # link down between namespace i and the bridge (fault tests)
#   bash scripts/netns.sh mend <name> <i>     # link up again
#
# <name> is short ([a-z0-9], at most 6 characters: interface names stop at 15) and unique per test run; every
# object is named after it, so `down` removes exactly what `up` made, and `up` cleans up after itself if it
# fails half way. Needs root (or CAP_NET_ADMIN) and iproute2.
set -euo pipefail

die() {
  printf '[netns] error: %s\n' "$*" >&2
  exit 1
}

name_ok() { [[ "$1" =~ ^[a-z0-9]{1,6}$ ]] || die "name must be 1-6 of [a-z0-9], got '$1'"; }

# A /24 derived from the name, so concurrent test runs with different names rarely share a subnet.
subnet_of() { echo "10.$((0x$(printf '%s' "$1" | md5sum | cut -c1-2) % 200 + 20)).$((0x$(printf '%s' "$1" | md5sum | cut -c3-4)))"; }

down() {
  local name="$1" ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^wl${name}n[0-9]+$" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^wl${name}(h[0-9]+|br)$" || true); do
    ip link del "$link" 2>/dev/null || true
  done
}

up() {
  local name="$1" count="$2" net i ns
  [[ "$count" =~ ^[1-9]$ ]] || die "count must be 1-9"
  net="$(subnet_of "$name")"
  trap 'down "$name"' ERR
  ip link add "wl${name}br" type bridge
  ip addr add "$net.1/24" dev "wl${name}br"
  ip link set "wl${name}br" up
  echo "HOST_IP=$net.1"
  for i in $(seq 1 "$count"); do
    ns="wl${name}n$i"
    ip netns add "$ns"
    ip link add "wl${name}h$i" type veth peer name eth0 netns "$ns"
    ip link set "wl${name}h$i" master "wl${name}br" up
    ip -n "$ns" addr add "$net.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    echo "NS_$i=$ns $net.$((10 + i))"
  done
  trap - ERR
}

case "${1:-}" in
  up)
    [ $# -eq 3 ] || die "usage: netns.sh up <name> <count>"
    name_ok "$2"
    up "$2" "$3"
    ;;
  down)
    [ $# -eq 2 ] || die "usage: netns.sh down <name>"
    name_ok "$2"
    down "$2"
    ;;
  cut | mend)
    [ $# -eq 3 ] || die "usage: netns.sh $1 <name> <i>"
    name_ok "$2"
    ip link set "wl${2}h$3" "$([ "$1" = cut ] && echo down || echo up)"
    ;;
  *)
    echo "usage: netns.sh up <name> <count> | down <name> | cut <name> <i> | mend <name> <i>" >&2
    exit 2
    ;;
esac
