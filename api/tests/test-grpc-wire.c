/* Unit tests of the server's pure wire helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.pb-c.h"
#include "api/grpc-wire.h"

static int
parse (const char *s, int64_t *ns)
{
  return grpc_wire_parse_timeout (s, strlen (s), ns);
}

static void
test_timeout (void **state)
{
  (void) state;
  int64_t ns = 0;
  assert_int_equal (parse ("1S", &ns), 0);
  assert_int_equal (ns, 1000000000);
  assert_int_equal (parse ("250m", &ns), 0);
  assert_int_equal (ns, 250000000);
  assert_int_equal (parse ("7u", &ns), 0);
  assert_int_equal (ns, 7000);
  assert_int_equal (parse ("99999999n", &ns), 0);
  assert_int_equal (ns, 99999999);
  assert_int_equal (parse ("2M", &ns), 0);
  assert_int_equal (ns, 120000000000LL);
  assert_int_equal (parse ("99999999H", &ns), 0);
  /* 99999999 hours do not fit in int64 nanoseconds: saturated */
  assert_int_equal (ns, INT64_MAX);
  assert_int_equal (parse ("", &ns), -1);
  assert_int_equal (parse ("S", &ns), -1);
  assert_int_equal (parse ("10", &ns), -1);
  assert_int_equal (parse ("1x", &ns), -1);
  assert_int_equal (parse ("-1S", &ns), -1);
  assert_int_equal (parse ("123456789S", &ns), -1); /* 9 digits */
}

static void
test_percent (void **state)
{
  (void) state;
  char *e = grpc_wire_percent_encode ("a b%c\n\xc3\xa9~");
  assert_string_equal (e, "a b%25c%0A%C3%A9~");
  char *d = grpc_wire_percent_decode (e);
  assert_string_equal (d, "a b%c\n\xc3\xa9~");
  free (e);
  free (d);
  d = grpc_wire_percent_decode ("100%");
  assert_string_equal (d, "100%");
  free (d);
  d = grpc_wire_percent_decode ("%zz%4");
  assert_string_equal (d, "%zz%4");
  free (d);
  /* no header value may start or end with a space */
  e = grpc_wire_percent_encode ("containerd: unknown container status ");
  assert_string_equal (e, "containerd: unknown container status%20");
  d = grpc_wire_percent_decode (e);
  assert_string_equal (d, "containerd: unknown container status ");
  free (e);
  free (d);
  e = grpc_wire_percent_encode (" x ");
  assert_string_equal (e, "%20x%20");
  free (e);
  e = grpc_wire_percent_encode (" ");
  assert_string_equal (e, "%20");
  free (e);
}

static void
test_percent_max (void **state)
{
  (void) state;
  char *e = grpc_wire_percent_encode_max ("abcdefghij", 10);
  assert_string_equal (e, "abcdefghij");
  free (e);
  e = grpc_wire_percent_encode_max ("abcdefghijk", 10);
  assert_string_equal (e, "abcdefg...");
  free (e);
  /* "é" is two bytes, 6 encoded: never split */
  e = grpc_wire_percent_encode_max ("abcd\xc3\xa9zzzzzz", 12);
  assert_string_equal (e, "abcd...");
  free (e);
  e = grpc_wire_percent_encode_max ("ab\xc3\xa9zzzzzzzz", 12);
  assert_string_equal (e, "ab%C3%A9z...");
  free (e);
  e = grpc_wire_percent_encode_max ("%%%%%%", 8);
  assert_string_equal (e, "%25...");
  free (e);
}

static bool
ctype (const char *s)
{
  return grpc_wire_content_type_ok (s, strlen (s));
}

static void
test_content_type (void **state)
{
  (void) state;
  assert_true (ctype ("application/grpc"));
  assert_true (ctype ("application/grpc+proto"));
  assert_true (ctype ("application/grpc; charset=utf-8"));
  assert_true (ctype ("Application/GRPC"));
  assert_false (ctype ("application/grpcx"));
  assert_false (ctype ("application/json"));
  assert_false (ctype ("application/grp"));
  assert_false (ctype (""));
}

static void
test_health (void **state)
{
  (void) state;
  char *svc = NULL;
  assert_int_equal (grpc_wire_health_decode (NULL, 0, &svc), 0);
  assert_string_equal (svc, "");
  free (svc);
  const uint8_t named[] = { 0x0a, 3, 'f', 'o', 'o' };
  assert_int_equal (grpc_wire_health_decode (named, sizeof named, &svc), 0);
  assert_string_equal (svc, "foo");
  free (svc);
  /* unknown varint, fixed64, fixed32 fields before the name are skipped */
  const uint8_t unknown[] = { 0x10, 0x96, 0x01, 0x19, 1, 2, 3, 4,    5, 6,
                              7,    8,    0x25, 1,    2, 3, 4, 0x0a, 1, 'x' };
  assert_int_equal (grpc_wire_health_decode (unknown, sizeof unknown, &svc), 0);
  assert_string_equal (svc, "x");
  free (svc);
  const uint8_t truncated[] = { 0x0a, 5, 'a' };
  assert_int_equal (grpc_wire_health_decode (truncated, sizeof truncated, &svc), -1);
  const uint8_t badvarint[] = { 0x08, 0xff, 0xff };
  assert_int_equal (grpc_wire_health_decode (badvarint, sizeof badvarint, &svc), -1);
  const uint8_t group[] = { 0x0b };
  assert_int_equal (grpc_wire_health_decode (group, sizeof group, &svc), -1);
  const uint8_t field0[] = { 0x00, 0x01 };
  assert_int_equal (grpc_wire_health_decode (field0, sizeof field0, &svc), -1);
}

/* A NUL in any string field, top level, repeated or nested, is found on the
 * raw bytes (protobuf-c's unpack would cut "ab\0cd" to "ab"); other bytes,
 * bytes of non-string fields and unknown fields are not. */
static void
test_nul_string (void **state)
{
  (void) state;
  const ProtobufCMessageDescriptor *cc = &types__create_container_request__descriptor;
  const ProtobufCMessageDescriptor *up = &types__update_container_request__descriptor;
  /* id = "ab\0cd" */
  static const uint8_t id_nul[] = { 0x0a, 5, 'a', 'b', 0, 'c', 'd' };
  assert_string_equal (grpc_wire_nul_string_field (cc, id_nul, sizeof id_nul), "id");
  /* id = "abcd", bundlePath = "/b", noPivotRoot = true, runtimeArgs = ["x", "y\0"] */
  static const uint8_t args_nul[] = { 0x0a, 4, 'a',  'b', 'c', 'd',  0x12, 2,   '/', 'b',
                                      0x40, 1, 0x52, 1,   'x', 0x52, 2,    'y', 0 };
  assert_string_equal (grpc_wire_nul_string_field (cc, args_nul, sizeof args_nul), "runtimeArgs");
  assert_null (grpc_wire_nul_string_field (cc, args_nul, sizeof args_nul - 4));
  /* unknown field 99 (length-delimited) holding a NUL: not a string of ours */
  static const uint8_t unknown[] = { 0x9a, 0x06, 2, 0, 0, 0x0a, 1, 'a' };
  assert_null (grpc_wire_nul_string_field (cc, unknown, sizeof unknown));
  /* resources { cpusetCpus = "0\01" }, nested */
  static const uint8_t nested[] = { 0x0a, 1, 'c', 0x22, 5, 0x2a, 3, '0', 0, '1' };
  assert_string_equal (grpc_wire_nul_string_field (up, nested, sizeof nested), "cpusetCpus");
  /* a clean message, a packed one from protobuf-c */
  Types__UpdateContainerRequest r = TYPES__UPDATE_CONTAINER_REQUEST__INIT;
  Types__UpdateResource res = TYPES__UPDATE_RESOURCE__INIT;
  r.id = (char *) "c1";
  r.status = (char *) "paused";
  res.cpusetcpus = (char *) "0-1";
  res.memorylimit = 1 << 20;
  r.resources = &res;
  uint8_t buf[256];
  size_t n = protobuf_c_message_pack (&r.base, buf);
  assert_null (grpc_wire_nul_string_field (up, buf, n));
  /* truncated or malformed input: left to unpack (no crash, no false hit) */
  for (size_t i = 0; i < sizeof id_nul; i++)
    assert_null (grpc_wire_nul_string_field (cc, id_nul, i));
  static const uint8_t badlen[] = { 0x0a, 0x7f, 0 };
  assert_null (grpc_wire_nul_string_field (cc, badlen, sizeof badlen));
  assert_null (grpc_wire_nul_string_field (cc, NULL, 0));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_timeout),     cmocka_unit_test (test_percent),
    cmocka_unit_test (test_percent_max), cmocka_unit_test (test_content_type),
    cmocka_unit_test (test_health),      cmocka_unit_test (test_nul_string),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
