#!/bin/sh
# Build an OCI bundle from busybox-static: DIR/rootfs with the applet links
# and DIR/config.json from `runc spec`, adjusted for tests (no terminal,
# writable rootfs, the given process args). Nothing is downloaded.
#
# Usage: make-bundle.sh [--terminal] [--memory BYTES] DIR [ARG...]
#   ARG... is process.args (default: sh -c 'echo hello from busybox').
set -eu
terminal=false
memory=
while [ $# -gt 0 ]; do
  case "$1" in
    --terminal) terminal=true; shift ;;
    --memory) memory=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "make-bundle.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: make-bundle.sh [--terminal] [--memory BYTES] DIR [ARG...]" >&2; exit 2; }
dir=$1; shift
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q static || busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-bundle.sh: busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
command -v jq >/dev/null || { echo "make-bundle.sh: jq is not installed (apt-get install jq)" >&2; exit 1; }

mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" \
         "$dir/rootfs/tmp" "$dir/rootfs/etc" "$dir/rootfs/root"
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$dir/rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
echo 'root:x:0:' > "$dir/rootfs/etc/group"

if [ $# -eq 0 ]; then set -- sh -c 'echo hello from busybox'; fi
# jq parses options even after --args, so encode each argument separately
args=$(for a in "$@"; do printf '%s' "$a" | jq -Rs .; done | jq -cs .)
tmp=$(mktemp -d)
(cd "$tmp" && runc spec)
jq --argjson args "$args" --argjson term "$terminal" --arg mem "$memory" '
  .process.terminal = $term
  | .process.args = $args
  | .process.env = ["PATH=/bin:/usr/bin:/sbin:/usr/sbin", "HOME=/root", "TERM=xterm"]
  | .root.readonly = false
  | .hostname = "ctrd-test"
  | (if $mem != "" then .linux.resources.memory = {"limit": ($mem|tonumber), "swap": ($mem|tonumber)} else . end)
' "$tmp/config.json" > "$dir/config.json"
rm -rf "$tmp"
