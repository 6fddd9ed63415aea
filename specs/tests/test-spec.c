/* specs/: bundle loading and validation, seccomp validation with the real
 * libseccomp, exec process objects. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util.h"
#include "lib/tests/testutil.h"
#include "specs/spec.h"

/* A fresh bundle directory with rootfs/ and the given config.json text
 * (NULL: no config.json). */
static char *
bundle_with (const char *config)
{
  return test_bundle (test_dir, config);
}

#define GOOD_PROCESS "\"process\":{\"args\":[\"sh\",\"-c\",\"true\"],\"cwd\":\"/\"}"
#define GOOD_ROOT "\"root\":{\"path\":\"rootfs\"}"

static void
expect_error (const char *bundle, const char *needle)
{
  struct ctrd_error *err = NULL;
  json_object *o = spec_load_bundle (bundle, &err);
  assert_null (o);
  assert_non_null (err);
  if (!strstr (err->msg, needle))
    fail_msg ("error \"%s\" does not contain \"%s\"", err->msg, needle);
  assert_int_equal (ctrd_error_code (err), GRPC_INVALID_ARGUMENT);
  ctrd_error_free (&err);
}

static void
expect_config_error (const char *config, const char *needle)
{
  cleanup_free char *b = bundle_with (config);
  cleanup_free char *full = xasprintf ("bundle %s: config.json: %s", b, needle);
  expect_error (b, full);
}

static void
test_good_bundle (void **state UNUSED)
{
  cleanup_free char *b =
      bundle_with ("{\"ociVersion\":\"1.0.2\"," GOOD_PROCESS "," GOOD_ROOT "}\n\n");
  struct ctrd_error *err = NULL;
  json_object *o = spec_load_bundle (b, &err);
  assert_null (err);
  assert_non_null (o);
  json_object *p, *args;
  assert_true (json_object_object_get_ex (o, "process", &p));
  assert_true (json_object_object_get_ex (p, "args", &args));
  assert_int_equal (json_object_array_length (args), 3);
  json_object_put (o);

  /* absolute root.path */
  cleanup_free char *cfg = xasprintf ("{" GOOD_PROCESS ",\"root\":{\"path\":\"%s/rootfs\"}}", b);
  cleanup_free char *b2 = bundle_with (cfg);
  o = spec_load_bundle (b2, &err);
  assert_null (err);
  json_object_put (o);
}

static void
test_bundle_path_errors (void **state UNUSED)
{
  expect_error ("", "empty bundle path");
  expect_error ("relative/bundle", "bundle relative/bundle: not an absolute path");
  cleanup_free char *missing = path_join (test_dir, "does-not-exist");
  cleanup_free char *m1 = xasprintf ("bundle %s: No such file or directory", missing);
  expect_error (missing, m1);
  cleanup_free char *file = path_join (test_dir, "a-file");
  assert_int_equal (write_file (file, "x", 1, 0644, NULL), 0);
  cleanup_free char *m2 = xasprintf ("bundle %s: not a directory", file);
  expect_error (file, m2);
  cleanup_free char *b = bundle_with (NULL);
  cleanup_free char *m3 = xasprintf ("bundle %s: config.json: No such file or directory", b);
  expect_error (b, m3);
}

/* Out of file descriptors while reading config.json is RESOURCE_EXHAUSTED,
 * not a bad bundle (INVALID_ARGUMENT). The limit is lowered to the lowest
 * free fd, so the open of config.json is the one that fails. */
static void
test_bundle_out_of_fds (void **state UNUSED)
{
  cleanup_free char *b = bundle_with ("{\"ociVersion\":\"1.0.2\"," GOOD_PROCESS "," GOOD_ROOT "}");
  struct rlimit saved;
  assert_int_equal (getrlimit (RLIMIT_NOFILE, &saved), 0);
  int lowest = dup (0);
  assert_true (lowest >= 0);
  close (lowest);
  struct rlimit low = { .rlim_cur = (rlim_t) lowest, .rlim_max = saved.rlim_max };
  assert_int_equal (setrlimit (RLIMIT_NOFILE, &low), 0);
  struct ctrd_error *err = NULL;
  json_object *o = spec_load_bundle (b, &err);
  assert_int_equal (setrlimit (RLIMIT_NOFILE, &saved), 0);
  assert_null (o);
  assert_non_null (err);
  assert_int_equal (ctrd_error_code (err), GRPC_RESOURCE_EXHAUSTED);
  assert_non_null (strstr (err->msg, "Too many open files"));
  ctrd_error_free (&err);
}

static void
test_bad_json (void **state UNUSED)
{
  expect_config_error ("{\n  \"process\": {\n    \"args\": [\"sh\",]\n", "invalid JSON at line 3");
  expect_config_error ("{\"process\":",
                       "invalid JSON at line 1 column 12 (offset 11): unexpected end of data");
  expect_config_error ("", "invalid JSON at line 1 column 1");
  expect_config_error ("{" GOOD_PROCESS "," GOOD_ROOT "} trailing",
                       "invalid JSON at line 1 column 76 (offset 75): unexpected character");
  expect_config_error ("[1,2]", "not a JSON object");
}

static void
test_process_errors (void **state UNUSED)
{
  expect_config_error ("{" GOOD_ROOT "}", "process: missing");
  expect_config_error ("{\"process\":3," GOOD_ROOT "}", "process: not an object");
  expect_config_error ("{\"process\":{\"cwd\":\"/\"}," GOOD_ROOT "}", "process.args: missing");
  expect_config_error ("{\"process\":{\"args\":\"sh\",\"cwd\":\"/\"}," GOOD_ROOT "}",
                       "process.args: not an array");
  expect_config_error ("{\"process\":{\"args\":[],\"cwd\":\"/\"}," GOOD_ROOT "}",
                       "process.args: empty");
  expect_config_error ("{\"process\":{\"args\":[\"sh\",1],\"cwd\":\"/\"}," GOOD_ROOT "}",
                       "process.args[1]: not a string");
  expect_config_error ("{\"process\":{\"args\":[\"sh\"]}," GOOD_ROOT "}", "process.cwd: missing");
  expect_config_error ("{\"process\":{\"args\":[\"sh\"],\"cwd\":\"tmp\"}," GOOD_ROOT "}",
                       "process.cwd: not an absolute path: \"tmp\"");
}

static void
test_root_errors (void **state UNUSED)
{
  expect_config_error ("{" GOOD_PROCESS "}", "root: missing");
  expect_config_error ("{" GOOD_PROCESS ",\"root\":{}}", "root.path: missing");
  expect_config_error ("{" GOOD_PROCESS ",\"root\":{\"path\":\"\"}}",
                       "root.path: not a non-empty string");
  cleanup_free char *b = bundle_with ("{" GOOD_PROCESS ",\"root\":{\"path\":\"nope\"}}");
  cleanup_free char *m = xasprintf ("bundle %s: config.json: root.path: %s/nope: No such file "
                                    "or directory",
                                    b, b);
  expect_error (b, m);
  cleanup_free char *b2 = bundle_with ("{" GOOD_PROCESS ",\"root\":{\"path\":\"config.json\"}}");
  cleanup_free char *m2 = xasprintf ("root.path: %s/config.json: not a directory", b2);
  expect_error (b2, m2);
}

#define SECCOMP(body) "{" GOOD_PROCESS "," GOOD_ROOT ",\"linux\":{\"seccomp\":" body "}}"

static void
test_seccomp (void **state UNUSED)
{
  /* A valid profile, including a name that exists only on a listed foreign
   * architecture (x86's socketcall-style names resolve via the arch list). */
  cleanup_free char *b = bundle_with (
      SECCOMP ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
               "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\","
               "\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"],"
               "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
               "\"syscalls\":[{\"names\":[\"read\",\"write\",\"exit_group\",\"arm_fadvise64_64\"],"
               "\"action\":\"SCMP_ACT_ALLOW\"},"
               "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","
               "\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]}"));
  struct ctrd_error *err = NULL;
  json_object *o = spec_load_bundle (b, &err);
  if (err)
    fail_msg ("%s", err->msg);
  json_object_put (o);

  expect_config_error (SECCOMP ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                "{\"names\":[\"read\",\"no_such_syscall\"],"
                                "\"action\":\"SCMP_ACT_ERRNO\"}]}"),
                       "linux.seccomp: syscalls[0].names: unknown syscall \"no_such_syscall\"");
  expect_config_error (SECCOMP ("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_VAX\"]}"),
                       "linux.seccomp: architectures: unknown architecture \"SCMP_ARCH_VAX\"");
  expect_config_error (SECCOMP ("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                                "\"architectures\":[\"x86_64\"]}"),
                       "linux.seccomp: architectures: unknown architecture \"x86_64\"");
  expect_config_error (SECCOMP ("{\"defaultAction\":\"SCMP_ACT_MAYBE\"}"),
                       "linux.seccomp: defaultAction: unknown value \"SCMP_ACT_MAYBE\"");
  expect_config_error (SECCOMP ("{}"), "linux.seccomp: defaultAction: missing");
  expect_config_error (SECCOMP ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                                "{\"names\":[\"write\"],\"action\":\"ALLOW\"}]}"),
                       "linux.seccomp: syscalls[1].action: unknown value \"ALLOW\"");
  expect_config_error (SECCOMP ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
                                "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_SAME\"}]}]}"),
                       "linux.seccomp: syscalls[0].args[0].op: unknown value \"SCMP_CMP_SAME\"");
  expect_config_error (SECCOMP ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
                                "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}"),
                       "linux.seccomp: syscalls[0].args[0].index: not an argument number 0-5");
  expect_config_error (SECCOMP ("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                                "\"flags\":[\"SECCOMP_FILTER_FLAG_FAST\"]}"),
                       "linux.seccomp: flags: unknown flag \"SECCOMP_FILTER_FLAG_FAST\"");
  expect_config_error (SECCOMP ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                "{\"action\":\"SCMP_ACT_ALLOW\"}]}"),
                       "linux.seccomp: syscalls[0].names: missing");
  expect_config_error (SECCOMP ("[]"), "linux.seccomp: not an object");
  /* direct call: NULL is "no seccomp" */
  assert_int_equal (spec_validate_seccomp (NULL, NULL), 0);
}

/* The bundle tests/make-bundle.sh builds (from `runc spec`) must load. */
static void
test_make_bundle (void **state UNUSED)
{
  const char *src = getenv ("CTRD_TOP_SRCDIR");
  if (!src || access ("/bin/busybox", X_OK) != 0)
    skip ();
  cleanup_free char *b = path_join (test_dir, "busybox-bundle");
  cleanup_free char *cmd = xasprintf ("%s/tests/make-bundle.sh %s >/dev/null 2>&1", src, b);
  if (test_sh (cmd) != 0)
    skip ();
  struct ctrd_error *err = NULL;
  json_object *o = spec_load_bundle (b, &err);
  if (err)
    fail_msg ("%s", err->msg);
  assert_true (spec_has_own_pid_ns (o));
  json_object_put (o);
}

static void
test_pid_ns (void **state UNUSED)
{
  json_object *o =
      json_tokener_parse ("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"}]}}");
  assert_true (spec_has_own_pid_ns (o));
  json_object_put (o);
  o = json_tokener_parse (
      "{\"linux\":{\"namespaces\":[{\"type\":\"pid\",\"path\":\"/proc/1/ns/pid\"}]}}");
  assert_false (spec_has_own_pid_ns (o));
  json_object_put (o);
  o = json_tokener_parse ("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}");
  assert_false (spec_has_own_pid_ns (o));
  json_object_put (o);
  o = json_tokener_parse ("{\"process\":{}}");
  assert_false (spec_has_own_pid_ns (o));
  json_object_put (o);
  assert_false (spec_has_own_pid_ns (NULL));
}

static void
test_exec_every_option (void **state UNUSED)
{
  char *args[] = { "sh", "-c", "id" };
  char *env[] = { "PATH=/bin", "A=b" };
  char *caps[] = { "CAP_KILL", "CAP_NET_RAW" };
  uint32_t gids[] = { 10, 20 };
  struct spec_user user = {
    .uid = 1000, .gid = 1001, .additional_gids = gids, .n_additional_gids = 2
  };
  struct spec_rlimit rls[] = { { .type = "RLIMIT_NOFILE", .soft = 1024, .hard = 4096 } };
  struct spec_exec req = { 0 };
  req.terminal = true;
  req.user = &user;
  req.n_args = 3;
  req.args = args;
  req.n_env = 2;
  req.env = env;
  req.cwd = "/tmp";
  req.n_capabilities = 2;
  req.capabilities = caps;
  req.apparmor_profile = "docker-default";
  req.selinux_label = "system_u:system_r:svirt_lxc_net_t:s0:c1,c2";
  req.no_new_privileges = true;
  req.n_rlimits = 1;
  req.rlimits = rls;
  struct ctrd_error *err = NULL;
  json_object *o = spec_exec_process (NULL, &req, &err);
  assert_null (err);
  assert_string_equal (
      json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN),
      "{\"terminal\":true,\"user\":{\"uid\":1000,\"gid\":1001,\"additionalGids\":[10,20]},"
      "\"args\":[\"sh\",\"-c\",\"id\"],\"env\":[\"PATH=\\/bin\",\"A=b\"],\"cwd\":\"\\/tmp\","
      "\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_NET_RAW\"],"
      "\"effective\":[\"CAP_KILL\",\"CAP_NET_RAW\"],\"inheritable\":[\"CAP_KILL\",\"CAP_NET_RAW\"],"
      "\"permitted\":[\"CAP_KILL\",\"CAP_NET_RAW\"]},"
      "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":4096,\"soft\":1024}],"
      "\"noNewPrivileges\":true,\"apparmorProfile\":\"docker-default\","
      "\"selinuxLabel\":\"system_u:system_r:svirt_lxc_net_t:s0:c1,c2\"}");
  json_object_put (o);
}

static void
test_exec_defaults (void **state UNUSED)
{
  char *args[] = { "true" };
  struct spec_exec req = { 0 };
  req.n_args = 1;
  req.args = args;
  struct ctrd_error *err = NULL;
  /* no config, no user, no cwd → uid/gid 0, cwd "/", minimal keys */
  json_object *o = spec_exec_process (NULL, &req, &err);
  assert_null (err);
  assert_string_equal (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN),
                       "{\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"true\"],\"cwd\":\"\\/\"}");
  json_object_put (o);
  /* config given: its user and cwd are the defaults */
  json_object *cfg = json_tokener_parse (
      "{\"process\":{\"cwd\":\"/work\",\"user\":{\"uid\":5,\"gid\":6,\"username\":\"u\"}}}");
  o = spec_exec_process (cfg, &req, &err);
  assert_null (err);
  assert_string_equal (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN),
                       "{\"user\":{\"uid\":5,\"gid\":6,\"username\":\"u\"},\"args\":[\"true\"],"
                       "\"cwd\":\"\\/work\"}");
  json_object_put (o);
  json_object_put (cfg);
}

static void
expect_exec_error (const struct spec_exec *req, const char *msg)
{
  struct ctrd_error *err = NULL;
  json_object *o = spec_exec_process (NULL, req, &err);
  assert_null (o);
  assert_non_null (err);
  assert_string_equal (err->msg, msg);
  assert_int_equal (ctrd_error_code (err), GRPC_INVALID_ARGUMENT);
  ctrd_error_free (&err);
}

static void
test_exec_errors (void **state UNUSED)
{
  char *args[] = { "true" };
  struct spec_exec req = { 0 };
  expect_exec_error (&req, "process args cannot be empty");
  req.n_args = 1;
  req.args = args;
  req.cwd = "relative";
  expect_exec_error (&req, "process cwd: not an absolute path: \"relative\"");
  req.cwd = "/";
  char *caps[] = { "CAP_KILL", "kill" };
  req.n_capabilities = 2;
  req.capabilities = caps;
  expect_exec_error (&req, "process capabilities: unknown capability \"kill\"");
  req.n_capabilities = 0;
  struct spec_rlimit rl = { .type = "RLIMIT_FILES" };
  req.n_rlimits = 1;
  req.rlimits = &rl;
  expect_exec_error (&req, "process rlimits: unknown rlimit type \"RLIMIT_FILES\"");
  rl.type = NULL;
  expect_exec_error (&req, "process rlimits: unknown rlimit type \"\"");
  rl.type = "RLIMIT_NPROC";
  rl.soft = 10;
  rl.hard = 5;
  expect_exec_error (&req, "process rlimits: RLIMIT_NPROC: soft limit 10 above hard limit 5");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_good_bundle),       cmocka_unit_test (test_bundle_path_errors),
    cmocka_unit_test (test_bad_json),          cmocka_unit_test (test_process_errors),
    cmocka_unit_test (test_root_errors),       cmocka_unit_test (test_seccomp),
    cmocka_unit_test (test_make_bundle),       cmocka_unit_test (test_pid_ns),
    cmocka_unit_test (test_exec_every_option), cmocka_unit_test (test_exec_defaults),
    cmocka_unit_test (test_exec_errors),       cmocka_unit_test (test_bundle_out_of_fds),
  };
  return cmocka_run_group_tests (tests, test_dir_setup, test_dir_teardown);
}
