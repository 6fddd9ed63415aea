#!/bin/sh
# Prometheus /metrics and `ctr containers stats` with real containers; TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
