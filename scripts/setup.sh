#!/bin/sh
# Install everything ctrd's build, tests and demo need on Debian 12 (bookworm),
# as root. Idempotent: safe to run twice.
#
#   scripts/setup.sh            build deps, runtimes, test tools, CRIU
#   scripts/setup.sh --no-criu  skip CRIU (checkpoint tests then skip)
#
# Only bookworm's binary packages are installed. When no `criu` here passes
# `criu check`, CRIU 4.x is built from Debian trixie's *source* package
# against bookworm's libraries into /opt/ctrd-criu/sbin/criu, which
# scripts/test.sh, scripts/demo.sh and `make check` put first on PATH.
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

CRIU_PREFIX=/opt/ctrd-criu
CRIU_CACHE=/var/cache/ctrd-criu
TRIXIE_SRC=/etc/apt/sources.list.d/ctrd-trixie.sources

# Older versions of this script added trixie as a *binary* suite (Types: deb)
# with a pin, and installing criu from it upgraded libc6 and base-files. Turn
# that entry into sources only before apt runs, then drop the pin (without the
# entry the pin is moot; without the pin the entry would be dangerous).
if [ -f "$TRIXIE_SRC" ] && grep -Eq '^Types:.*\bdeb\b([^-]|$)' "$TRIXIE_SRC"; then
  rm -f "$TRIXIE_SRC"
  echo "setup.sh: replaced the old trixie binary entry $TRIXIE_SRC by a deb-src one" >&2
fi
rm -f /etc/apt/preferences.d/ctrd-trixie
if [ "$want_criu" = yes ] && [ ! -f "$TRIXIE_SRC" ]; then
  cat > "$TRIXIE_SRC" <<'SRC'
# Added by ctrd's scripts/setup.sh: trixie *sources* only, to build CRIU 4.x
# against bookworm's libraries. No binary package comes from here.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
case $(cat /etc/debian_version 2>/dev/null) in
  12.*) ;;
  *) echo "setup.sh: note: /etc/debian_version says $(cat /etc/debian_version 2>/dev/null); an older setup.sh may have taken libc6/base-files from trixie" >&2 ;;
esac

PKGS="build-essential autoconf automake libtool pkg-config git
libjson-c-dev libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev libsystemd-dev
libcgroup-dev libseccomp-dev libcmocka-dev scdoc
runc crun busybox-static iptables jq tmux valgrind file libsqlite3-0 strace
python3 python3-grpcio python3-grpc-tools python3-protobuf python3-prometheus-client
dpkg-dev debhelper fakeroot lintian
gnuplot-nox clang-format"

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

# ---- CRIU ----
# Debian 12's criu 3.17 fails `criu check` on recent kernels (vDSO). Instead
# of trixie's binary package (which drags in trixie's libc6), build trixie's
# criu *source* package against bookworm's -dev packages, with `make criu`
# only (no docs, no tests, no python, no plugins), and install the one binary
# as $CRIU_PREFIX/sbin/criu. Its run-time libraries are bookworm's (marked
# manually installed so that autoremove keeps them). About 60 s on a fresh
# 2-core machine (apt-get update, 11 packages, 1 MB source, 45 s of make).
criu_version() { "$1" --version 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }
criu_works() { [ -x "$1" ] && "$1" check >/dev/null 2>&1; }

# The build-time packages (all from bookworm) and the run-time libraries.
CRIU_BUILD_PKGS="gcc make pkg-config libc6-dev libprotobuf-c-dev protobuf-c-compiler
libprotobuf-dev libnl-3-dev libnet1-dev libcap-dev uuid-dev libbsd-dev
libnftables-dev libgnutls28-dev xz-utils"
CRIU_RUN_PKGS="libprotobuf-c1 libnl-3-200 libnet1 libcap2 libuuid1 libbsd0
libnftables1 libgnutls30 iproute2"

criu_why=
criu_build() {
  t0=$(date +%s)
  mkdir -p "$CRIU_CACHE" || { criu_why="could not create $CRIU_CACHE"; return 1; }
  if [ "$updated" = no ] || ! ls /var/lib/apt/lists/*_dists_trixie_main_source_Sources* >/dev/null 2>&1; then
    apt-get update -qq || { criu_why="apt-get update failed"; return 1; }
    updated=yes
  fi
  # criu/trixie: the source package; its .dsc names the files and their hashes
  uris=$(cd / && apt-get source -qq --print-uris criu/trixie 2>/dev/null) || uris=
  dsc=$(echo "$uris" | awk '$2 ~ /\.dsc$/ {print $2; exit}')
  [ -n "$dsc" ] || { criu_why="no criu source package in trixie's Sources (deb-src $TRIXIE_SRC)"; return 1; }
  ver=${dsc#criu_}; ver=${ver%.dsc}; upver=${ver%-*}; upver=${upver#*:}
  case $upver in
    [4-9].*) ;;
    *) criu_why="trixie's criu source is $ver, not 4.x"; return 1 ;;
  esac

  need=
  for p in $CRIU_BUILD_PKGS $CRIU_RUN_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
  done
  if [ -n "$need" ]; then
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need >"$CRIU_CACHE/apt.log" 2>&1 ||
      { criu_why="could not install the build packages:$need (see $CRIU_CACHE/apt.log)"; return 1; }
  fi
  # shellcheck disable=SC2086
  apt-mark manual $CRIU_RUN_PKGS >/dev/null 2>&1 || :

  # Download into a directory apt's sandbox user may write to.
  dl=$CRIU_CACHE/src
  mkdir -p "$dl" || { criu_why="could not create $dl"; return 1; }
  chown _apt "$dl" 2>/dev/null || true
  tree=$CRIU_CACHE/criu-$upver
  rm -rf "$tree" "$dl/criu-$upver"
  if (cd "$dl" && apt-get source -qq criu/trixie >"$CRIU_CACHE/source.log" 2>&1) && [ -d "$dl/criu-$upver" ]; then
    mv "$dl/criu-$upver" "$tree"
    from="Debian source package criu $ver (trixie)"
  else
    # Some mirrors and proxies serve trixie's orig tarball but not its .dsc
    # and debian.tar.xz. Then build the upstream tarball of the same version,
    # checked against the SHA256 in trixie's signed Sources index. Debian's
    # patches (packaging and docs) are not needed for `make criu`.
    orig=$(echo "$uris" | awk '$2 ~ /\.orig\.tar\./ {print $2; exit}')
    uri=$(echo "$uris" | awk '$2 ~ /\.orig\.tar\./ {gsub("\047", "", $1); print $1; exit}')
    sum=$(echo "$uris" | awk '$2 ~ /\.orig\.tar\./ {print $4; exit}')
    [ -n "$orig" ] || { criu_why="trixie's criu $ver has no orig tarball"; return 1; }
    if ! { [ -f "$dl/$orig" ] && [ "$(sha256sum < "$dl/$orig" | cut -d' ' -f1)" = "${sum#SHA256:}" ]; }; then
      rm -f "$dl/$orig"
      /usr/lib/apt/apt-helper download-file "$uri" "$dl/$orig" "$sum" >>"$CRIU_CACHE/source.log" 2>&1 ||
        { criu_why="could not download $uri (see $CRIU_CACHE/source.log)"; return 1; }
    fi
    [ "$(sha256sum < "$dl/$orig" | cut -d' ' -f1)" = "${sum#SHA256:}" ] ||
      { criu_why="$orig does not match trixie's Sources index"; return 1; }
    if ! tar -xf "$dl/$orig" -C "$CRIU_CACHE" || [ ! -d "$tree" ]; then
      criu_why="could not unpack $orig"; return 1
    fi
    from="upstream tarball $orig of Debian's criu $ver (trixie; .dsc not served by the mirror)"
  fi

  # `make criu` builds the binary only (compel, soccr and the images with it).
  if ! make -C "$tree" -j"$(nproc)" criu >"$CRIU_CACHE/build.log" 2>&1; then
    criu_why="building criu $upver failed: $(tail -n 1 "$CRIU_CACHE/build.log") (log: $CRIU_CACHE/build.log)"
    return 1
  fi
  if ! install -D -m 0755 "$tree/criu/criu" "$CRIU_PREFIX/sbin/criu.new" ||
     ! mv -f "$CRIU_PREFIX/sbin/criu.new" "$CRIU_PREFIX/sbin/criu"; then
    criu_why="could not install $CRIU_PREFIX/sbin/criu"; return 1
  fi
  cat > "$CRIU_PREFIX/README" <<EOF
criu $upver, built by ctrd's scripts/setup.sh on $(date -u +%Y-%m-%d) from the
$from
against Debian $(cat /etc/debian_version)'s libraries (make criu; binary only).
Remove with: rm -rf $CRIU_PREFIX $CRIU_CACHE
EOF
  rm -rf "$tree"
  criu_secs=$(( $(date +%s) - t0 ))
  return 0
}

criu=$CRIU_PREFIX/sbin/criu
if criu_works "$criu"; then
  echo "setup.sh: criu $(criu_version "$criu") ($criu) works here"
elif sys=$(command -v criu 2>/dev/null) && criu_works "$sys"; then
  echo "setup.sh: criu $(criu_version "$sys") ($sys) works here"
elif criu_build; then
  if criu_works "$criu"; then
    echo "setup.sh: built criu $(criu_version "$criu") into $criu in ${criu_secs} s; it works here"
  else
    echo "setup.sh: no working CRIU: $criu check fails here: $("$criu" check 2>&1 | grep -v '^Warn' | tail -n 1); checkpoint tests will be skipped" >&2
  fi
else
  echo "setup.sh: no working CRIU: $criu_why; checkpoint tests will be skipped" >&2
fi
exit 0
