#!/bin/sh
# Pre-1.0 bundles (Docker 1.12.6/1.13.1 configs) through the real daemon on runc and crun; TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
