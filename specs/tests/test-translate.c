/* specs/translate.c: pre-1.0 config.json to runtime-spec 1.0, field by field
 * (docs/oci-translation.md), and the configs Docker 1.12.6 and 1.13.1 really
 * wrote (fixtures/, captured with fixtures/capture.sh). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util.h"
#include "lib/tests/testutil.h"
#include "specs/spec.h"
#include "specs/translate.h"

#ifndef FIXTURES_DIR
#error FIXTURES_DIR must name specs/tests/fixtures
#endif

static char *
bundle_with (const char *config)
{
  return test_bundle (test_dir, config);
}

#define RC "\"ociVersion\":\"1.0.0-rc2-dev\",\"root\":{\"path\":\"rootfs\"},"
#define PROC_BODY "\"args\":[\"sh\"],\"cwd\":\"/\""
#define PROC "\"process\":{" PROC_BODY "}"

/* Load and translate; the document (caller puts it) and the summary. */
static json_object *
translate_ok (const char *config, char **summary)
{
  cleanup_free char *b = bundle_with (config);
  struct ctrd_error *err = NULL;
  json_object *o = spec_load_bundle (b, &err);
  if (!o)
    fail_msg ("load: %s", err->msg);
  assert_true (spec_needs_translation (o));
  char *s = NULL;
  if (spec_translate (o, b, &s, &err) < 0)
    fail_msg ("translate: %s", err->msg);
  assert_non_null (s);
  if (summary)
    *summary = s;
  else
    free (s);
  return o;
}

static void
translate_err (const char *config, const char *needle)
{
  cleanup_free char *b = bundle_with (config);
  struct ctrd_error *err = NULL;
  json_object *o = spec_load_bundle (b, &err);
  if (!o)
    fail_msg ("load: %s", err->msg);
  assert_int_equal (spec_translate (o, b, NULL, &err), -1);
  assert_non_null (err);
  cleanup_free char *full = xasprintf ("bundle %s: config.json: %s", b, needle);
  if (!strstr (err->msg, full))
    fail_msg ("error \"%s\" does not contain \"%s\"", err->msg, full);
  assert_int_equal (ctrd_error_code (err), GRPC_INVALID_ARGUMENT);
  ctrd_error_free (&err);
  json_object_put (o);
}

/* The value at a dotted path ("linux.resources.memory"), NULL when absent. */
static json_object *
at (json_object *o, const char *path)
{
  cleanup_free char *p = xstrdup (path);
  char *save = NULL;
  for (char *k = strtok_r (p, ".", &save); k && o; k = strtok_r (NULL, ".", &save))
    {
      json_object *v = NULL;
      if (!json_object_is_type (o, json_type_object) || !json_object_object_get_ex (o, k, &v))
        return NULL;
      o = v;
    }
  return o;
}

static const char *
js (json_object *o)
{
  return o ? json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN
                                                    | JSON_C_TO_STRING_NOSLASHESCAPE)
           : "(absent)";
}

#define assert_json(o, path, text) assert_string_equal (js (at (o, path)), text)
#define assert_absent(o, path) assert_null (at (o, path))

static void
test_versions (void **state UNUSED)
{
  const char *before[] = { "1.0.0-rc2-dev", "1.0.0-rc2", "1.0.0-rc5", "1.0.0-rc6-dev",
                           "0.6.0",         "0.5.0-dev", "0.1.1",     "1.0.0-rc1+build.5" };
  const char *not_before[] = { "1.0.0",       "1.0.1",  "1.0.2-dev",  "1.1.0-rc.1",
                               "1.0.0+b",     "1.0",    "1",          "",
                               "1.0.0-",      "01.0.0", "1.0.0-rc2 ", "v1.0.0-rc2",
                               "1.0.0-rc..2", "1.2.3.4" };
  for (size_t i = 0; i < ARRAY_SIZE (before); i++)
    if (!spec_version_before_1_0 (before[i]))
      fail_msg ("%s: not seen as before 1.0.0", before[i]);
  for (size_t i = 0; i < ARRAY_SIZE (not_before); i++)
    if (spec_version_before_1_0 (not_before[i]))
      fail_msg ("\"%s\": seen as before 1.0.0", not_before[i]);
  assert_false (spec_version_before_1_0 (NULL));

  json_object *o = json_tokener_parse ("{\"ociVersion\":1}");
  assert_false (spec_needs_translation (o));
  json_object_put (o);
  o = json_tokener_parse ("{}");
  assert_false (spec_needs_translation (o));
  json_object_put (o);
  o = json_tokener_parse ("{\"ociVersion\":\"1.0.2\"}");
  assert_false (spec_needs_translation (o));
  json_object_put (o);

  cleanup_free char *sum = NULL;
  o = translate_ok ("{" RC PROC "}", &sum);
  assert_json (o, "ociVersion", "\"" SPEC_TRANSLATED_VERSION "\"");
  assert_non_null (strstr (sum, "ociVersion 1.0.0-rc2-dev -> " SPEC_TRANSLATED_VERSION));
  assert_false (spec_needs_translation (o));
  json_object_put (o);
}

static void
test_capabilities (void **state UNUSED)
{
  cleanup_free char *sum = NULL;
  json_object *o = translate_ok (
      "{" RC "\"process\":{" PROC_BODY ",\"capabilities\":[\"CAP_KILL\",\"CAP_CHOWN\"]}}", &sum);
  const char *list = "[\"CAP_KILL\",\"CAP_CHOWN\"]";
  assert_json (o, "process.capabilities.bounding", list);
  assert_json (o, "process.capabilities.effective", list);
  assert_json (o, "process.capabilities.inheritable", list);
  assert_json (o, "process.capabilities.permitted", list);
  assert_absent (o, "process.capabilities.ambient");
  assert_non_null (strstr (sum, "process.capabilities: list of 2"));
  json_object_put (o);

  /* absent and empty: the rc runtimes dropped every capability */
  const char *none[] = { "{" RC PROC "}",
                         "{" RC "\"process\":{" PROC_BODY ",\"capabilities\":[]}}" };
  for (size_t i = 0; i < ARRAY_SIZE (none); i++)
    {
      o = translate_ok (none[i], NULL);
      assert_json (o, "process.capabilities",
                   "{\"bounding\":[],\"effective\":[],\"inheritable\":[],\"permitted\":[]}");
      json_object_put (o);
    }

  /* already the 1.0 object (e.g. 1.0.0-rc5): kept */
  o = translate_ok ("{" RC "\"process\":{" PROC_BODY
                    ",\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]}}}",
                    NULL);
  assert_json (o, "process.capabilities",
               "{\"bounding\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]}");
  json_object_put (o);

  translate_err ("{" RC "\"process\":{" PROC_BODY ",\"capabilities\":[\"CAP_KILL\",\"kill\"]}}",
                 "process.capabilities[1]: \"kill\" is not a capability name");
  translate_err ("{" RC "\"process\":{" PROC_BODY ",\"capabilities\":[1]}}",
                 "process.capabilities[0]: not a string");
  translate_err ("{" RC "\"process\":{" PROC_BODY ",\"capabilities\":\"CAP_KILL\"}}",
                 "process.capabilities: not a list of names");
}

static void
test_platform (void **state UNUSED)
{
  cleanup_free char *sum = NULL;
#if defined(__x86_64__)
  const char *arch = "amd64";
#elif defined(__aarch64__)
  const char *arch = "arm64";
#else
  const char *arch = NULL;
#endif
  if (arch)
    {
      cleanup_free char *cfg =
          xasprintf ("{" RC PROC ",\"platform\":{\"os\":\"linux\",\"arch\":\"%s\"}}", arch);
      json_object *o = translate_ok (cfg, &sum);
      assert_absent (o, "platform");
      assert_non_null (strstr (sum, "platform dropped"));
      json_object_put (o);
      translate_err ("{" RC PROC ",\"platform\":{\"os\":\"linux\",\"arch\":\"s390\"}}",
                     "platform.arch: \"s390\" is not this host's architecture");
    }
  translate_err ("{" RC PROC ",\"platform\":{\"os\":\"windows\",\"arch\":\"amd64\"}}",
                 "platform.os: \"windows\": only linux containers can run here");
  translate_err ("{" RC PROC ",\"platform\":[]}", "platform: not an object");
}

static void
test_seccomp_syscalls (void **state UNUSED)
{
  cleanup_free char *sum = NULL;
  json_object *o = translate_ok (
      "{" RC PROC ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
      "\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":["
      "{\"name\":\"read\",\"action\":\"SCMP_ACT_ALLOW\"},"
      "{\"name\":\"personality\",\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
      "\"value\":8,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"write\",\"close\"],\"action\":\"SCMP_ACT_ALLOW\",\"comment\":\"rc5\"}]}}}",
      &sum);
  assert_json (o, "linux.seccomp.syscalls",
               "[{\"action\":\"SCMP_ACT_ALLOW\",\"names\":[\"read\"]},"
               "{\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":8,\"valueTwo\":0,"
               "\"op\":\"SCMP_CMP_EQ\"}],\"names\":[\"personality\"]},"
               "{\"names\":[\"write\",\"close\"],\"action\":\"SCMP_ACT_ALLOW\"}]");
  assert_json (o, "linux.seccomp.defaultAction", "\"SCMP_ACT_ERRNO\"");
  assert_non_null (strstr (sum, "2 entries' name -> names [name]"));
  json_object_put (o);
}

static void
test_rlimits (void **state UNUSED)
{
  json_object *o = translate_ok ("{" RC "\"process\":{" PROC_BODY ",\"rlimits\":["
                                 "{\"type\":\"RLIMIT_NOFILE\",\"hard\":10,\"soft\":10},"
                                 "{\"type\":\"RLIMIT_NPROC\",\"hard\":5,\"soft\":5},"
                                 "{\"type\":\"RLIMIT_NOFILE\",\"hard\":2048,\"soft\":1024}]}}",
                                 NULL);
  assert_json (o, "process.rlimits",
               "[{\"type\":\"RLIMIT_NPROC\",\"hard\":5,\"soft\":5},"
               "{\"type\":\"RLIMIT_NOFILE\",\"hard\":2048,\"soft\":1024}]");
  json_object_put (o);
  translate_err ("{" RC "\"process\":{" PROC_BODY ",\"rlimits\":[{\"hard\":1}]}}",
                 "process.rlimits[0].type: not a string");
}

static void
test_hooks (void **state UNUSED)
{
  const char *hooks = "{\"prestart\":[{\"path\":\"/proc/1/exe\",\"args\":[\"libnetwork-setkey\","
                      "\"x\"],\"timeout\":5}],\"poststop\":[]}";
  cleanup_free char *cfg = xasprintf ("{" RC PROC ",\"hooks\":%s}", hooks);
  json_object *o = translate_ok (cfg, NULL);
  assert_json (o, "hooks", hooks);
  json_object_put (o);
  translate_err ("{" RC PROC ",\"hooks\":{\"prestart\":[{\"path\":\"hook\"}]}}",
                 "hooks.prestart[0].path: not an absolute path");
  translate_err ("{" RC PROC ",\"hooks\":{\"poststart\":{}}}", "hooks.poststart: not a list");
}

static void
test_devices (void **state UNUSED)
{
  const char *dev = "[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,"
                    "\"fileMode\":8630,\"uid\":0,\"gid\":0}]";
  const char *allow = "[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\","
                      "\"major\":1,\"minor\":3,\"access\":\"rw\"}]";
  cleanup_free char *cfg = xasprintf (
      "{" RC PROC ",\"linux\":{\"devices\":%s,\"resources\":{\"devices\":%s}}}", dev, allow);
  json_object *o = translate_ok (cfg, NULL);
  assert_json (o, "linux.devices", dev);
  assert_json (o, "linux.resources.devices", allow);
  json_object_put (o);
  /* explicit nulls (Go pointers without omitempty) are not 1.0 */
  o = translate_ok ("{" RC PROC ",\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,"
                    "\"type\":null,\"major\":null,\"minor\":null,\"access\":\"rwm\"}]}}}",
                    NULL);
  assert_json (o, "linux.resources.devices", "[{\"allow\":false,\"access\":\"rwm\"}]");
  json_object_put (o);
  translate_err ("{" RC PROC ",\"linux\":{\"devices\":[{\"path\":1,\"type\":\"c\"}]}}",
                 "linux.devices[0]: path and type must be strings");
  translate_err ("{" RC PROC ",\"linux\":{\"resources\":{\"devices\":[{\"allow\":\"yes\"}]}}}",
                 "linux.resources.devices[0].allow: not a boolean");
}

static void
test_mounts_and_root (void **state UNUSED)
{
  cleanup_free char *sum = NULL;
  json_object *o = translate_ok (
      "{" RC PROC ",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
      "{\"destination\":\"data\",\"type\":\"bind\",\"source\":\"vol\",\"options\":[\"rbind\"]},"
      "{\"destination\":\"/etc/hosts\",\"type\":\"none\",\"source\":\"hosts\",\"options\":"
      "[\"bind\",\"ro\"]},{\"destination\":\"/abs\",\"type\":\"bind\",\"source\":\"/srv\"}]}",
      &sum);
  const char *root = json_object_get_string (at (o, "root.path"));
  assert_true (root[0] == '/');
  size_t n = strlen (root);
  assert_true (n > 7 && strcmp (root + n - 7, "/rootfs") == 0);
  cleanup_free char *dir = xstrndup (root, n - 7);
  cleanup_free char *expect = xasprintf (
      "[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
      "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"%s/vol\",\"options\":[\"rbind\"]},"
      "{\"destination\":\"/etc/hosts\",\"type\":\"none\",\"source\":\"%s/hosts\",\"options\":"
      "[\"bind\",\"ro\"]},{\"destination\":\"/abs\",\"type\":\"bind\",\"source\":\"/srv\"}]",
      dir, dir);
  assert_json (o, "mounts", expect);
  assert_non_null (strstr (sum, "root.path made absolute"));
  json_object_put (o);

  /* the bundle named through a symlink: paths resolve as the runtime's
   * getcwd() in it did (runc refuses a rootfs path with a symlink) */
  cleanup_free char *real = bundle_with ("{" RC PROC "}");
  cleanup_free char *link = xasprintf ("%s/link", test_dir);
  assert_int_equal (symlink (real, link), 0);
  struct ctrd_error *err = NULL;
  o = spec_load_bundle (link, &err);
  assert_non_null (o);
  assert_int_equal (spec_translate (o, link, NULL, &err), 0);
  cleanup_free char *rreal = realpath (real, NULL);
  cleanup_free char *want = xasprintf ("%s/rootfs", rreal);
  assert_string_equal (json_object_get_string (at (o, "root.path")), want);
  json_object_put (o);

  /* an absolute root.path is kept */
  cleanup_free char *abs =
      xasprintf ("{\"ociVersion\":\"0.6.0\",\"root\":{\"path\":\"%s/rootfs\"}," PROC "}", rreal);
  o = translate_ok (abs, NULL);
  assert_string_equal (json_object_get_string (at (o, "root.path")), want);
  json_object_put (o);

  translate_err ("{" RC PROC ",\"mounts\":[{\"type\":\"tmpfs\"}]}",
                 "mounts[0].destination: not a non-empty string");
  translate_err ("{" RC PROC ",\"mounts\":{}}", "mounts: not a list");
}

static void
test_namespaces_idmaps (void **state UNUSED)
{
  const char *ns = "[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"},"
                   "{\"type\":\"user\"}]";
  const char *map = "[{\"hostID\":100000,\"containerID\":0,\"size\":65536}]";
  cleanup_free char *cfg = xasprintf (
      "{" RC PROC ",\"linux\":{\"namespaces\":%s,\"uidMappings\":%s,\"gidMappings\":%s}}", ns, map,
      map);
  json_object *o = translate_ok (cfg, NULL);
  assert_json (o, "linux.namespaces", ns);
  assert_json (o, "linux.uidMappings", map);
  assert_json (o, "linux.gidMappings", map);
  json_object_put (o);
  translate_err ("{" RC PROC
                 ",\"linux\":{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"ns/ipc\"}]}}",
                 "linux.namespaces[0].path: \"ns/ipc\" is not an absolute path");
  translate_err ("{" RC PROC ",\"linux\":{\"uidMappings\":[{\"hostID\":1,\"containerID\":0}]}}",
                 "linux.uidMappings[0].size: not an integer");
}

static void
test_resources (void **state UNUSED)
{
  cleanup_free char *sum = NULL;
  json_object *o = translate_ok (
      "{" RC "\"process\":{" PROC_BODY "},\"linux\":{\"resources\":{"
      "\"disableOOMKiller\":true,\"oomScoreAdj\":100,"
      "\"memory\":{\"limit\":67108864,\"swap\":18446744073709551615,\"kernel\":50331648,"
      "\"swappiness\":18446744073709551615},"
      "\"cpu\":{\"shares\":512,\"quota\":18446744073709551615,\"period\":100000,\"cpus\":\"0\"},"
      "\"pids\":{\"limit\":50},"
      "\"blockIO\":{\"blkioWeight\":300,\"blkioLeafWeight\":0,"
      "\"blkioWeightDevice\":[{\"major\":7,\"minor\":0,\"weight\":200}],"
      "\"blkioThrottleReadBpsDevice\":[{\"major\":7,\"minor\":0,\"rate\":1048576}],"
      "\"blkioThrottleWriteIOPSDevice\":[{\"major\":7,\"minor\":0,\"rate\":100}]}}}}",
      &sum);
  assert_json (o, "process.oomScoreAdj", "100");
  assert_absent (o, "linux.resources.oomScoreAdj");
  assert_absent (o, "linux.resources.disableOOMKiller");
  assert_json (o, "linux.resources.memory",
               "{\"limit\":67108864,\"swap\":-1,\"kernel\":50331648,\"disableOOMKiller\":true}");
  assert_json (o, "linux.resources.cpu",
               "{\"shares\":512,\"quota\":-1,\"period\":100000,\"cpus\":\"0\"}");
  assert_json (o, "linux.resources.pids", "{\"limit\":50}");
  assert_json (o, "linux.resources.blockIO",
               "{\"weight\":300,\"weightDevice\":[{\"major\":7,\"minor\":0,\"weight\":200}],"
               "\"throttleReadBpsDevice\":[{\"major\":7,\"minor\":0,\"rate\":1048576}],"
               "\"throttleWriteIOPSDevice\":[{\"major\":7,\"minor\":0,\"rate\":100}]}");
  assert_non_null (strstr (sum, "linux.resources.oomScoreAdj -> process.oomScoreAdj"));
  assert_non_null (strstr (sum, "linux.resources.memory.swap: uint64"));
  json_object_put (o);

  /* Docker's unset values: 0 and -1 as uint64 mean "not set" */
  o = translate_ok ("{" RC PROC ",\"linux\":{\"resources\":{\"disableOOMKiller\":false,"
                    "\"oomScoreAdj\":0,\"memory\":{\"swappiness\":10},\"pids\":{\"limit\":0},"
                    "\"blockIO\":{\"blkioWeight\":0},\"cpu\":{}}}}",
                    NULL);
  assert_json (o, "linux.resources.memory", "{\"swappiness\":10,\"disableOOMKiller\":false}");
  assert_json (o, "linux.resources.blockIO", "{}");
  assert_json (o, "linux.resources.cpu", "{}");
  assert_absent (o, "linux.resources.pids");
  assert_absent (o, "linux.resources.oomScoreAdj");
  assert_absent (o, "linux.resources.disableOOMKiller");
  assert_json (o, "process.oomScoreAdj", "0");
  json_object_put (o);

  /* the process's own oomScoreAdj (rc6 form) wins; memory created for the
   * OOM flag alone */
  o = translate_ok ("{" RC "\"process\":{" PROC_BODY ",\"oomScoreAdj\":-5},\"linux\":{"
                    "\"resources\":{\"oomScoreAdj\":7,\"disableOOMKiller\":true}}}",
                    NULL);
  assert_json (o, "process.oomScoreAdj", "-5");
  assert_json (o, "linux.resources", "{\"memory\":{\"disableOOMKiller\":true}}");
  json_object_put (o);

  translate_err ("{" RC PROC ",\"linux\":{\"resources\":{\"oomScoreAdj\":\"x\"}}}",
                 "linux.resources.oomScoreAdj: not an integer");
  translate_err ("{" RC PROC ",\"linux\":{\"resources\":{\"disableOOMKiller\":1}}}",
                 "linux.resources.disableOOMKiller: not a boolean");
  translate_err ("{" RC PROC ",\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1g\"}}}}",
                 "linux.resources.memory.limit: not an integer");
  translate_err ("{" RC PROC ",\"linux\":{\"resources\":{\"cpu\":{\"cpus\":0}}}}",
                 "linux.resources.cpu.cpus: not a string");
  translate_err ("{" RC PROC ",\"linux\":{\"resources\":{\"pids\":{\"limit\":\"9\"}}}}",
                 "linux.resources.pids.limit: not an integer");
}

static void
test_user_terminal (void **state UNUSED)
{
  json_object *o = translate_ok (
      "{" RC "\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":0,\"width\":0},"
      "\"user\":{\"uid\":1000,\"gid\":1000,\"additionalGids\":[5,6]}," PROC_BODY "}}",
      NULL);
  assert_json (o, "process.terminal", "true");
  assert_absent (o, "process.consoleSize");
  assert_json (o, "process.user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[5,6]}");
  json_object_put (o);
  o = translate_ok ("{" RC "\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":24,"
                    "\"width\":80}," PROC_BODY "}}",
                    NULL);
  assert_json (o, "process.consoleSize", "{\"height\":24,\"width\":80}");
  json_object_put (o);
  translate_err ("{" RC "\"process\":{\"user\":{\"uid\":\"root\"}," PROC_BODY "}}",
                 "process.user.uid: not an integer");
  translate_err ("{" RC
                 "\"process\":{\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[\"5\"]}," PROC_BODY
                 "}}",
                 "process.user.additionalGids[0]: not an integer");
}

/* ---- the configs Docker really wrote ---- */

static char *
fixture_text (const char *name)
{
  cleanup_free char *p = xasprintf ("%s/%s", FIXTURES_DIR, name);
  char *text = NULL;
  size_t len;
  assert_int_equal (read_file (p, &text, &len, 1 << 20, NULL), 0);
  return text;
}

static int
count_key (json_object *o, const char *key)
{
  int n = 0;
  if (json_object_is_type (o, json_type_array))
    for (size_t i = 0; i < json_object_array_length (o); i++)
      n += count_key (json_object_array_get_idx (o, i), key);
  else if (json_object_is_type (o, json_type_object))
    {
      json_object_object_foreach (o, k, v)
      {
        n += strcmp (k, key) == 0;
        n += count_key (v, key);
      }
    }
  return n;
}

static void
check_fixture (const char *name, bool options)
{
  cleanup_free char *text = fixture_text (name);
  json_object *orig = json_tokener_parse (text);
  assert_non_null (orig);
  assert_json (orig, "ociVersion", "\"1.0.0-rc2-dev\"");
  assert_true (json_object_is_type (at (orig, "process.capabilities"), json_type_array));
  size_t ncaps = json_object_array_length (at (orig, "process.capabilities"));
  size_t nsys = json_object_array_length (at (orig, "linux.seccomp.syscalls"));
  cleanup_free char *sum = NULL;
  json_object *o = translate_ok (text, &sum);

  assert_absent (o, "platform");
  assert_absent (o, "process.consoleSize");
  assert_int_equal (json_object_array_length (at (o, "process.capabilities.bounding")), ncaps);
  assert_string_equal (js (at (o, "process.capabilities.permitted")),
                       js (at (orig, "process.capabilities")));
  assert_absent (o, "process.capabilities.ambient");
  assert_int_equal (json_object_array_length (at (o, "linux.seccomp.syscalls")), nsys);
  assert_int_equal (count_key (at (o, "linux.seccomp"), "name"), 0);
  assert_int_equal (count_key (at (o, "linux.seccomp"), "names"), (int) nsys);
  assert_int_equal (count_key (at (o, "linux.resources"), "blkioWeight"), 0);
  assert_absent (o, "linux.resources.oomScoreAdj");
  assert_absent (o, "linux.resources.disableOOMKiller");
  assert_json (o, "process.oomScoreAdj", options ? "100" : "0");
  assert_json (o, "linux.resources.memory.disableOOMKiller", options ? "true" : "false");
  if (options)
    {
      assert_json (o, "linux.resources.memory.swappiness", "10");
      assert_json (o, "linux.resources.pids", "{\"limit\":50}");
      assert_json (o, "process.user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[5]}");
      assert_json (o, "process.rlimits",
                   "[{\"type\":\"RLIMIT_NOFILE\",\"hard\":2048,\"soft\":1024}]");
      assert_json (o, "linux.resources.blockIO.throttleReadBpsDevice",
                   "[{\"major\":7,\"minor\":0,\"rate\":1048576}]");
      assert_json (o, "linux.resources.memory.limit", "67108864");
      assert_json (o, "process.terminal", "true");
    }
  else
    {
      assert_absent (o, "linux.resources.pids");
      assert_absent (o, "linux.resources.memory.swappiness"); /* Docker's -1 */
    }
  /* the rest is as Docker wrote it */
  static const char *const same[] = { "process.args",
                                      "process.env",
                                      "process.cwd",
                                      "hostname",
                                      "mounts",
                                      "hooks",
                                      "linux.namespaces",
                                      "linux.devices",
                                      "linux.resources.devices",
                                      "linux.maskedPaths",
                                      "linux.readonlyPaths",
                                      "linux.cgroupsPath",
                                      "linux.sysctl",
                                      "linux.seccomp.defaultAction",
                                      "linux.seccomp.architectures" };
  for (size_t i = 0; i < ARRAY_SIZE (same); i++)
    assert_string_equal (js (at (o, same[i])), js (at (orig, same[i])));
  /* translated once is current: nothing more to do */
  assert_false (spec_needs_translation (o));
  json_object_put (o);
  json_object_put (orig);
}

static void
test_docker_fixtures (void **state UNUSED)
{
  check_fixture ("docker-1.12.6-defaults.json", false);
  check_fixture ("docker-1.12.6-options.json", true);
  check_fixture ("docker-1.13.1-defaults.json", false);
  check_fixture ("docker-1.13.1-options.json", true);
}

/* Issue 16 #3: an exec's process object is 1.0 whatever the bundle's version:
 * with the rc2 init process of Docker 1.13 as its defaults, a capability
 * list from the client is applied to the four sets, as runc 1.0.0-rc2 did. */
static void
test_exec_of_rc_bundle (void **state UNUSED)
{
  cleanup_free char *text = fixture_text ("docker-1.13.1-options.json");
  json_object *config = json_tokener_parse (text);
  char *args[] = { "sh" };
  char *caps[] = { "CAP_SYS_ADMIN", "CAP_KILL" };
  struct spec_exec req = { 0 };
  req.n_args = 1;
  req.args = args;
  req.n_capabilities = 2;
  req.capabilities = caps;
  struct ctrd_error *err = NULL;
  json_object *o = spec_exec_process (config, &req, &err);
  assert_non_null (o);
  const char *list = "[\"CAP_SYS_ADMIN\",\"CAP_KILL\"]";
  assert_json (o, "capabilities.bounding", list);
  assert_json (o, "capabilities.effective", list);
  assert_json (o, "capabilities.inheritable", list);
  assert_json (o, "capabilities.permitted", list);
  assert_absent (o, "capabilities.ambient");
  assert_json (o, "user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[5]}");
  assert_absent (o, "consoleSize");
  json_object_put (o);
  json_object_put (config);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_versions),          cmocka_unit_test (test_capabilities),
    cmocka_unit_test (test_platform),          cmocka_unit_test (test_seccomp_syscalls),
    cmocka_unit_test (test_rlimits),           cmocka_unit_test (test_hooks),
    cmocka_unit_test (test_devices),           cmocka_unit_test (test_mounts_and_root),
    cmocka_unit_test (test_namespaces_idmaps), cmocka_unit_test (test_resources),
    cmocka_unit_test (test_user_terminal),     cmocka_unit_test (test_docker_fixtures),
    cmocka_unit_test (test_exec_of_rc_bundle),
  };
  return cmocka_run_group_tests (tests, test_dir_setup, test_dir_teardown);
}
