#!/bin/sh
# Crash injection: the daemon SIGKILLed during every kind of operation,
# restarted on the same state dir, invariants checked after each; TAP.
. "$(cd "$(dirname "$0")" && pwd)/python-test.sh"
