#!/bin/sh
# Where `make install` puts the systemd units and the bash completion (TAP).
# A private --prefix keeps everything under it (the units used to go to
# systemd.pc's /lib/systemd/system whatever the prefix); --prefix=/usr uses
# systemd.pc's directory; --with-systemdsystemunitdir and
# --with-bashcompletiondir override. Runs configure in temporary build dirs
# (one config cache) and installs only the top directory's data with DESTDIR:
# nothing is written outside its temporary directory; no root needed.
src=${CTRD_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
if [ -f "$src/config.status" ]; then # configure refuses another build dir then
  echo "1..0 # SKIP $src is configured in place"; exit 0
fi
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
n=0; fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'; fi; }
echo "1..7"

# configure in $t/NAME with ARGS; make the top directory's data install into
# $t/NAME.dest. Prints the files installed (relative to the DESTDIR).
inst() { # NAME ARGS...
  name=$1; shift
  mkdir -p "$t/$name" && (cd "$t/$name" &&
    "$src/configure" -q --cache-file="$t/config.cache" "$@" >"$t/$name.log" 2>&1 &&
    make -s install-data-am DESTDIR="$t/$name.dest" >>"$t/$name.log" 2>&1) &&
  (cd "$t/$name.dest" && find . ! -type d | sed 's|^\.||' | sort)
}
unit_exec() { sed -n 's/^ExecStart=//p' "$1" 2>/dev/null; }

# 1-3. a private prefix
p=$t/prefix
files=$(inst private --prefix="$p")
want="$p/lib/systemd/system/containerd.service
$p/lib/systemd/system/containerd.socket
$p/share/bash-completion/completions/ctr"
[ "$files" = "$want" ]; ok $? "--prefix=PRIVATE: units in PRIVATE/lib/systemd/system, completion in PRIVATE/share/bash-completion/completions, nothing else" "installed: $files
$(tail -n 5 "$t/private.log")"
e=$(unit_exec "$t/private.dest$p/lib/systemd/system/containerd.service")
[ "$e" = "$p/bin/containerd --listen fd://" ]; ok $? "--prefix=PRIVATE: the unit's ExecStart runs PRIVATE/bin/containerd" "ExecStart=$e"
(cd "$t/private" && make -s uninstall-local uninstall-systemdsystemunitDATA DESTDIR="$t/private.dest" >/dev/null 2>&1)
left=$(cd "$t/private.dest" 2>/dev/null && find . ! -type d)
[ -z "$left" ]; ok $? "make uninstall removes the units and the completion again" "left: $left"

# 4-5. --prefix=/usr: systemd's own unit directory (systemd.pc; Debian 12: /lib/systemd/system)
sysdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
syspfx=$(pkg-config --variable=prefix systemd 2>/dev/null)
[ "$syspfx" = /usr ] || sysdir=/usr/lib/systemd/system
files=$(inst usr --prefix=/usr)
echo "$files" | grep -qx "$sysdir/containerd.service" && echo "$files" | grep -qx "$sysdir/containerd.socket"
ok $? "--prefix=/usr: units in systemd.pc's directory ($sysdir)" "installed: $files
$(tail -n 5 "$t/usr.log")"
e=$(unit_exec "$t/usr.dest$sysdir/containerd.service")
[ "$e" = "/usr/bin/containerd --listen fd://" ]; ok $? "--prefix=/usr: ExecStart runs /usr/bin/containerd" "ExecStart=$e"

# 6-7. explicit directories
files=$(inst explicit --prefix="$p" --with-systemdsystemunitdir="$t/units" --with-bashcompletiondir="$t/compl")
want="$t/compl/ctr
$t/units/containerd.service
$t/units/containerd.socket"
[ "$files" = "$want" ]; ok $? "--with-systemdsystemunitdir and --with-bashcompletiondir are where they go" "installed: $files"
files=$(inst name --prefix="$p" --with-name-prefix=docker-)
e=$(unit_exec "$t/name.dest$p/lib/systemd/system/containerd.service")
echo "$files" | grep -qx "$p/share/bash-completion/completions/docker-ctr" && [ "$e" = "$p/bin/docker-containerd --listen fd://" ]
ok $? "--with-name-prefix=docker-: completion docker-ctr, ExecStart runs docker-containerd" "installed: $files
ExecStart=$e"
exit $fail
