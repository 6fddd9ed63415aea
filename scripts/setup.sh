#!/bin/sh
# Install everything ctrd's build, tests and demo need on Debian 12 (bookworm),
# as root. Idempotent: safe to run twice.
#
#   scripts/setup.sh            build deps, runtimes, test tools, CRIU
#   scripts/setup.sh --no-criu  skip CRIU (checkpoint tests then skip)
set -eu

want_criu=yes
for a in "$@"; do
  case "$a" in
    --no-criu) want_criu=no ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

PKGS="build-essential autoconf automake libtool pkg-config git
libjson-c-dev libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev libsystemd-dev
libcgroup-dev libseccomp-dev libcmocka-dev scdoc
runc crun busybox-static iptables jq tmux valgrind file
python3 python3-grpcio python3-grpc-tools python3-protobuf"

missing=
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
updated=no
if [ -n "$missing" ]; then
  apt-get update -qq
  updated=yes
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi

# crun refuses a hybrid cgroup layout while the cgroup2 mount holds a
# controller; moving hugetlb to its own v1 hierarchy fixes that and gives the
# hugetlb stats a source. Test machines only, and only when it is missing.
if [ -d /sys/fs/cgroup/unified ] && [ ! -e /sys/fs/cgroup/hugetlb/hugetlb.2MB.usage_in_bytes ] \
   && grep -qw hugetlb /proc/cgroups && [ -w /sys/fs/cgroup ]; then
  if grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || \
     ! grep -q ' /sys/fs/cgroup/hugetlb ' /proc/self/mountinfo; then
    mkdir -p /sys/fs/cgroup/hugetlb
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb 2>/dev/null || \
      echo "setup.sh: note: could not mount the hugetlb v1 hierarchy (crun may refuse this cgroup layout)" >&2
  fi
fi

[ "$want_criu" = yes ] || exit 0

# CRIU: bookworm's criu when `criu check` passes; otherwise criu from trixie,
# pinned low so that nothing else is taken from trixie unless criu needs it.
criu_ok() { command -v criu >/dev/null 2>&1 && criu check >/dev/null 2>&1; }
if ! command -v criu >/dev/null 2>&1; then
  [ "$updated" = yes ] || { apt-get update -qq; updated=yes; }
  apt-get install -y -qq --no-install-recommends criu || true
fi
if ! criu_ok; then
  if [ ! -f /etc/apt/sources.list.d/ctrd-trixie.sources ]; then
    cat > /etc/apt/sources.list.d/ctrd-trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat > /etc/apt/preferences.d/ctrd-trixie <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    updated=no
  fi
  [ "$updated" = yes ] || apt-get update -qq
  apt-get install -y -qq --no-install-recommends -t trixie criu || true
fi
if criu_ok; then
  echo "setup.sh: criu $(criu --version | head -n1 | awk '{print $2}') works here"
else
  echo "setup.sh: note: criu check still fails here; checkpoint/restore tests will be skipped" >&2
fi
