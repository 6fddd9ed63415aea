/* Pure gRPC wire helpers of the server (no I/O, unit-tested on their own):
 * grpc-timeout, grpc-message percent-encoding, content-type, the health
 * service's two tiny messages. */
#ifndef CTRD_API_GRPC_WIRE_H
#define CTRD_API_GRPC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Parse a grpc-timeout value ("1*8DIGIT unit", unit one of H M S m u n) into
 * nanoseconds (saturating at INT64_MAX). Returns 0, or -1 when malformed. */
int grpc_wire_parse_timeout (const char *value, size_t len, int64_t *ns);
/* Percent-encode a grpc-message: bytes outside 0x20..0x7e and '%' become
 * %XX. Returns a malloc'd string. */
char *grpc_wire_percent_encode (const char *msg);
/* The same, cut (at a UTF-8 character boundary, "..." appended) so that the
 * result has at most max bytes (max >= 8): clients limit the size of
 * response metadata (grpcio: 8 KiB) and fail the call beyond it. */
char *grpc_wire_percent_encode_max (const char *msg, size_t max);
/* Whether a request content-type is gRPC: "application/grpc" alone or
 * followed by '+' (subtype) or ';' (parameters). */
bool grpc_wire_content_type_ok (const char *value, size_t len);
/* grpc.health.v1.HealthCheckRequest { string service = 1; }: copy the
 * service name (unknown fields skipped). Returns 0, -1 when undecodable. */
int grpc_wire_health_decode (const uint8_t *buf, size_t len, char **service);
/* Percent-decode (lenient: a malformed escape is kept as is). malloc'd. */
char *grpc_wire_percent_decode (const char *msg);
/* Does a string field of the message (desc), at any depth (sub-messages,
 * repeated fields), hold a NUL byte? protobuf-c unpacks strings as C strings,
 * so "ab\0cd" would silently become "ab": the server checks the raw bytes
 * first. Returns the field's name ("id", "processes.args"...: static
 * descriptor names, the innermost one), or NULL when there is none. Wire
 * data it cannot parse is left to protobuf_c_message_unpack to reject. */
const char *grpc_wire_nul_string_field (const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
                                        size_t len);

#endif
