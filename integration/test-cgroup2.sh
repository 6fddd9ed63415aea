#!/bin/sh
# cgroup v2 end to end in a private mount namespace with cgroup2 alone; TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
