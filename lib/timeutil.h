/* Clocks and the Go time formats the contract uses. */
#ifndef CTRD_TIMEUTIL_H
#define CTRD_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSEC_PER_SEC 1000000000LL
#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_USEC 1000LL

/* CLOCK_MONOTONIC in ns (for deadlines and measurements). */
int64_t time_now_mono_ns (void);
/* CLOCK_REALTIME in ns since the Unix epoch (for event timestamps). */
int64_t time_now_real_ns (void);

/* Go's RFC3339Nano: fraction without trailing zeros (omitted when zero),
 * zone "Z" in UTC or ±hh:mm for the local zone. Returns the length, or -1
 * when the buffer (≥ 40 bytes is enough) is too small. */
int time_format_rfc3339_nano (int64_t unix_ns, bool utc, char *buf, size_t len);
/* Parse RFC 3339 with an optional fraction (up to 9 digits) and zone Z or
 * ±hh:mm. Returns 0 with seconds since the epoch and nanoseconds in
 * [0, 1e9), or -1. (Seconds, not ns: 0001-01-01 does not fit an int64 of ns.) */
int time_parse_rfc3339 (const char *s, int64_t *sec, int32_t *nsec);
/* Split into protobuf Timestamp seconds/nanos (nanos always in [0, 1e9)). */
void time_to_timestamp (int64_t unix_ns, int64_t *seconds, int32_t *nanos);

/* Go time.ParseDuration: "300ms", "1h30m", "1.5s", "-2m", bare "0"; units
 * ns, us, µs, ms, s, m, h. Returns 0 and ns, or -1. */
int duration_parse (const char *s, int64_t *ns);
/* Go Duration.String(): "5m0s", "30s", "1.5s", "300ms", "0s". */
void duration_format (int64_t ns, char *buf, size_t len);

#endif
