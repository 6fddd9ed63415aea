"""Pre-1.0 bundles through the real daemon and shim (issue 16, docs/oci-translation.md):
the config.json that Docker 1.12.6 and 1.13.1 really wrote (specs/tests/fixtures/, default and
many-options containers) run on runc 1.1.5 and on crun, with the capabilities, OOM score, user
and rlimits runc 1.0.0-rc2 gave them; the runtime gets <state>/<id>/.bundle, the client's
config.json is never changed (hash before and after), a current config is passed as it is; an
exec, a daemon restart that adopts the container, delete removes .bundle; a config with no 1.0
form is INVALID_ARGUMENT naming the field. TAP.

What the test changes in a fixture before using it as the client's bundle: process.args (the
checks to run), Docker's data root /var/lib/docker (a temp dir, with the hostname file and shm
dir Docker would have made), linux.cgroupsPath (unique to the run). Everything else is as
Docker wrote it."""
import hashlib
import json
import os
import shutil
import signal
import subprocess

import grpc

import daemon_harness as h
from daemon_harness import pb

FIXTURES = os.path.join(h.TOP_SRC, "specs", "tests", "fixtures")
NAMES = ["docker-1.12.6-defaults", "docker-1.12.6-options", "docker-1.13.1-defaults",
         "docker-1.13.1-options"]
RUNTIMES = ["runc", "crun"]
# per run: create, result, .bundle, hash, cleanup = 5 checks
t = h.Tap(len(NAMES) * len(RUNTIMES) * 5 + 16)

CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ"]


def mask(caps):
    m = 0
    for c in caps:
        m |= 1 << CAPS.index(c)
    return "%016x" % m


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


CHECKS = ("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status; echo oom=$(cat /proc/self/oom_score_adj);"
          " echo id=$(id); echo nofile=$(ulimit -n)")


def client_bundle(d, name, n, script):
    """The fixture as a client's bundle: <tmp>/bundles/<name>-<n> with its own rootfs."""
    b = os.path.join(d.tmp, "bundles", "%s-%d" % (name, n))
    subprocess.check_call(["sh", os.path.join(h.TOP_SRC, "tests", "make-bundle.sh"), b, "true"],
                          stdout=subprocess.DEVNULL)
    with open(os.path.join(FIXTURES, name + ".json")) as f:
        text = f.read()
    droot = os.path.join(d.tmp, "docker-%s-%d" % (name, n))
    text = text.replace("/var/lib/docker", droot)
    cfg = json.loads(text)
    cfg["process"]["args"] = ["/bin/busybox", "sh", "-c", script]
    cfg["linux"]["cgroupsPath"] = "/ctrd-translate-%s-%d" % (h.RUN_TAG, n)
    for m in cfg["mounts"]:
        if m["source"].startswith(droot):
            if m["destination"] == "/dev/shm":
                os.makedirs(m["source"], exist_ok=True)
                os.chmod(m["source"], 0o1777)
            else:
                os.makedirs(os.path.dirname(m["source"]), exist_ok=True)
                with open(m["source"], "w") as f:
                    f.write("fixture\n")
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    shm = [m["source"] for m in cfg["mounts"] if m["destination"] == "/dev/shm"][0]
    return b, cfg, shm


def shim_argv(d, cid, pid="init"):
    try:
        with open(os.path.join(d.state, cid, pid, "shim.pid")) as f:
            spid = int(f.read())
        with open("/proc/%d/cmdline" % spid, "rb") as f:
            return f.read().split(b"\0")[:-1]
    except (OSError, ValueError):
        return []


d = h.Daemon()
try:
    d.start()
    d.start_events()
    n = 0
    # ---- every fixture on both runtimes: runs as runc rc2 ran it ----------
    for name in NAMES:
        orig = json.load(open(os.path.join(FIXTURES, name + ".json")))
        want_caps = mask(orig["process"]["capabilities"])
        options = name.endswith("options")
        for rt in RUNTIMES:
            n += 1
            what = "%s on %s" % (name, rt)
            cid = h.uid("tr%d" % n)
            b, cfg, shm = client_bundle(d, name, n, "{ " + CHECKS + "; } > /dev/shm/r.tmp && mv /dev/shm/r.tmp /dev/shm/result; sleep 600")
            before = sha(os.path.join(b, "config.json"))
            code, r = h.rpc_error(d.create, cid, b, runtime=rt)
            t.ok(code is None, what + ": CreateContainer", (code, r, d.read_log()[-1500:]))
            result = os.path.join(shm, "result")
            ok = False
            got = ""
            # renamed into place by the container: complete when it appears
            if h.wait_path(result, True, 30):
                with open(result) as f:
                    got = f.read()
                fields = dict(line.split(":\t", 1) if ":\t" in line else line.split("=", 1)
                              for line in got.split("\n") if line)
                eff = want_caps if not options else "0000000000000000"  # uid 1000: none after execve
                ok = (fields.get("CapBnd") == want_caps and fields.get("CapInh") == want_caps
                      and fields.get("CapEff") == eff and fields.get("CapPrm") == eff
                      and fields.get("CapAmb") == "0000000000000000"
                      and fields.get("oom") == ("100" if options else "0")
                      and (not options or (fields.get("id", "").startswith("uid=1000 gid=1000 groups=5")
                                           and fields.get("nofile") == "1024")))
            t.ok(ok, what + ": capabilities (bounding, effective, inheritable, permitted; no ambient),"
                 " OOM score, user and rlimit as runc 1.0.0-rc2 applied them", (want_caps, got))
            tb = os.path.join(d.state, cid, ".bundle")
            argv = shim_argv(d, cid)
            tcfg = {}
            try:
                with open(os.path.join(tb, "config.json")) as f:
                    tcfg = json.load(f)
            except (OSError, ValueError):
                pass
            t.ok(len(argv) == 4 and argv[2] == tb.encode() and tcfg.get("ociVersion") == "1.0.2"
                 and tcfg.get("root", {}).get("path") == os.path.realpath(b) + "/rootfs"
                 and "platform" not in tcfg,
                 what + ": the shim and runtime get <state>/<id>/.bundle, root.path the client's rootfs",
                 (argv, tcfg.get("root")))
            if n == 1:
                # ---- exec, restart adoption: only once (runc) ------------
                code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
                    id=cid, pid="e1", args=["/bin/busybox", "sh", "-c", "exit 3"], cwd="/"))
                ev = d.wait_exit(cid, "e1") if code is None else None
                t.ok(ev is not None and ev.status == 3, "exec into a translated container", (code, r, ev))
                d.stop(signal.SIGKILL)
                d.start()
                d.start_events()
                code, r = h.rpc_error(d.stub.State, pb.StateRequest(id=cid))
                t.ok(code is None and len(r.containers) == 1 and r.containers[0].bundlePath == b
                     and r.containers[0].status == "running",
                     "after a daemon restart the translated container is adopted, State shows the "
                     "client's bundle", (code, r))
                code, r = h.rpc_error(d.stub.AddProcess, pb.AddProcessRequest(
                    id=cid, pid="e2", args=["/bin/busybox", "sh", "-c", "exit 4"], cwd="/"))
                ev = d.wait_exit(cid, "e2") if code is None else None
                t.ok(ev is not None and ev.status == 4, "exec after the restart", (code, r, ev))
                # a damaged state.json is rebuilt from the live shim's argv,
                # which names .bundle: the client's bundle comes back
                d.stop(signal.SIGKILL)
                with open(os.path.join(d.state, cid, "state.json"), "w") as f:
                    f.write("{damaged")
                d.start()
                d.start_events()
                code, r = h.rpc_error(d.stub.State, pb.StateRequest(id=cid))
                t.ok(code is None and len(r.containers) == 1 and r.containers[0].bundlePath == b
                     and os.path.exists(os.path.join(tb, "config.json")),
                     "a damaged state.json rebuilt from the shim names the client's bundle, not .bundle",
                     (code, r))
            if name == "docker-1.13.1-defaults" and rt == "runc" and not shutil.which("criu"):
                for what_cp in ("checkpoint of a translated container", "restore from .bundle"):
                    t.skip_expected(what_cp, "no criu on PATH")
            elif name == "docker-1.13.1-defaults" and rt == "runc":
                # ---- checkpoint (Docker 1.13 has it) and restore: the
                # restore reads the translated bundle too -----------------
                cpdir = os.path.join(d.tmp, "checkpoints-%d" % n)
                code, r = h.rpc_error(d.stub.CreateCheckpoint, pb.CreateCheckpointRequest(
                    id=cid, checkpoint=pb.Checkpoint(name="cp", exit=True), checkpointDir=cpdir),
                    timeout=120)
                ev = d.wait_exit(cid, timeout=60) if code is None else None
                h.settle(d, cid)
                t.ok(ev is not None, "checkpoint of a translated container (CRIU)", (code, r, ev))
                code, r = h.rpc_error(d.create, cid, b, checkpoint="cp", checkpointDir=cpdir, timeout=120)
                argv = shim_argv(d, cid)
                code2, st = h.rpc_error(d.stub.State, pb.StateRequest(id=cid))
                t.ok(code is None and code2 is None and st.containers[0].status == "running"
                     and len(argv) == 4 and argv[2] == tb.encode()
                     and os.path.exists(os.path.join(tb, "config.json")),
                     "restored from the checkpoint by the runtime from .bundle", (code, r, argv, d.read_log()[-1500:]))
            code, r = h.rpc_error(d.stub.Signal, pb.SignalRequest(id=cid, pid="init", signal=9))
            ev = d.wait_exit(cid) if code is None else None
            h.settle(d, cid)
            t.ok(ev is not None and not os.path.exists(os.path.join(d.state, cid))
                 and cid not in h.runc_list_ids(rt),
                 what + ": killed; delete removed the state dir with .bundle, no runtime state", ev)
            t.ok(sha(os.path.join(b, "config.json")) == before,
                 what + ": the client's config.json is unchanged (sha256)")

    # ---- a current config: passed as it is ----------------------------------
    cid = h.uid("current")
    b = h.make_bundle(d.tmp, "current", ["sleep", "600"])
    before = sha(os.path.join(b, "config.json"))
    code, r = h.rpc_error(d.create, cid, b)
    argv = shim_argv(d, cid)
    t.ok(code is None and len(argv) == 4 and argv[2] == b.encode()
         and not os.path.exists(os.path.join(d.state, cid, ".bundle")),
         "a 1.0 config: the runtime gets the client's bundle, no .bundle", (code, argv))
    d.stub.Signal(pb.SignalRequest(id=cid, pid="init", signal=9))
    d.wait_exit(cid)
    h.settle(d, cid)
    t.ok(sha(os.path.join(b, "config.json")) == before, "a 1.0 config is unchanged (sha256)")

    # ---- the log says once what was translated ------------------------------
    with open(d.log, errors="replace") as f:
        log = f.read()
    first = h.uid("tr1")
    lines = [ln for ln in log.split("\n") if "pre-1.0 config.json translated" in ln and first in ln]
    t.ok(len(lines) == 1 and "process.capabilities: list of 14" in lines[0]
         and "linux.seccomp.syscalls" in lines[0] and "platform dropped" in lines[0],
         "one log line per container says what was translated", lines)

    # ---- no 1.0 form: INVALID_ARGUMENT naming the field, nothing left -------
    for field, edit, needle in (
            ("platform.os", lambda c: c["platform"].update(os="windows"), "platform.os: \"windows\""),
            ("process.capabilities", lambda c: c["process"]["capabilities"].append("kill"),
             "process.capabilities[14]: \"kill\" is not a capability name"),
            ("linux.namespaces", lambda c: c["linux"]["namespaces"].append({"type": "user", "path": "ns"}),
             "linux.namespaces[5].path: \"ns\" is not an absolute path")):
        n += 1
        cid = h.uid("bad%d" % n)
        b, cfg, _ = client_bundle(d, "docker-1.13.1-defaults", n, "true")
        edit(cfg)
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(cfg, f)
        before = sha(os.path.join(b, "config.json"))
        code, msg = h.rpc_error(d.create, cid, b)
        t.ok(code == grpc.StatusCode.INVALID_ARGUMENT and needle in msg
             and not os.path.exists(os.path.join(d.state, cid))
             and sha(os.path.join(b, "config.json")) == before,
             "%s without a 1.0 form: INVALID_ARGUMENT naming it, no state dir" % field, (code, msg))

    # ---- the daemon is still up, nothing left ---------------------------------
    code, r = h.rpc_error(d.stub.State, pb.StateRequest())
    t.ok(code is None, "daemon still serving", code)
    t.ok(d.proc.poll() is None, "daemon alive")
    leftover = [c for c in os.listdir(d.state) if not c.startswith(".") and os.path.isdir(os.path.join(d.state, c))]
    t.ok(not leftover, "no container state left", leftover)
    t.ok(not [p for p in os.listdir("/sys/fs/cgroup/memory") if p.startswith("ctrd-translate-" + h.RUN_TAG)]
         if os.path.isdir("/sys/fs/cgroup/memory") else True, "no cgroup of the test left")
finally:
    d.cleanup()
    for ctrl in os.listdir("/sys/fs/cgroup") if os.path.isdir("/sys/fs/cgroup") else []:
        base = os.path.join("/sys/fs/cgroup", ctrl)
        for p in os.listdir(base) if os.path.isdir(base) else []:
            if p.startswith("ctrd-translate-" + h.RUN_TAG):
                try:
                    os.rmdir(os.path.join(base, p))
                except OSError:
                    pass
t.done()
