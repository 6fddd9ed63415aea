"""Independent gRPC server (Python grpcio) for api/tests/test-client.

Usage: py-server.py API_SRCDIR SOCKET_PATH
Also listens on TCP 127.0.0.1 (a free port); prints "ready PORT" on stdout
once it serves, and exits when its stdin is closed. Message classes are generated
from api.proto at start into a temporary directory.

Behaviour (types.API subset):
  GetServerVersion  -> 0.2.3, revision "py-server"
  State id="..."    -> one container with that id (echo)
  State id="error"  -> NOT_FOUND with a message full of non-ASCII and '%'
  State id="slow"   -> waits until the client gives up (deadline/cancel)
  State id="big:N"  -> a container whose bundlePath has N bytes
  State id="die"    -> SIGKILLs the server in the middle of the call
  State id="cancelled" -> number of Events streams cancelled by the client
                       so far, in machine.cpus (waits up to 10 s for one)
  State id="peer"   -> the user-agent and grpc-timeout the client sent,
                       in containers[0].id / bundlePath
  Events id="N"     -> N events (id "ev<i>", status i), then ends OK
  Events id="wait"  -> one event, then waits until cancelled
  Events id="fail"  -> two events, then UNAVAILABLE "stream failed"
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc

API_SRC, SOCK = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="ctrd-py-server.")
try:
    subprocess.check_call([sys.executable, "-m", "grpc_tools.protoc", "-I" + API_SRC,
                           "--python_out=" + TMP, "api.proto",
                           "google/protobuf/timestamp.proto"])
    sys.path.insert(0, TMP)
    import api_pb2  # noqa: E402
finally:
    shutil.rmtree(TMP, ignore_errors=True)

ERROR_MESSAGE = "container not found: ünïcødé 100% «ok» %41 日本"

cancelled = 0
cancelled_cond = threading.Condition()


def on_cancel():
    global cancelled
    with cancelled_cond:
        cancelled += 1
        cancelled_cond.notify_all()


def get_server_version(req, ctx):
    return api_pb2.GetServerVersionResponse(major=0, minor=2, patch=3, revision="py-server")


def state(req, ctx):
    rid = req.id
    if rid == "error":
        ctx.abort(grpc.StatusCode.NOT_FOUND, ERROR_MESSAGE)
    if rid == "slow":
        done = threading.Event()
        ctx.add_callback(done.set)
        done.wait(30)
        ctx.abort(grpc.StatusCode.INTERNAL, "slow call was not cancelled")
    if rid.startswith("big:"):
        n = int(rid[4:])
        return api_pb2.StateResponse(containers=[api_pb2.Container(id="big", bundlePath="x" * n)])
    if rid == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if rid == "cancelled":
        with cancelled_cond:
            cancelled_cond.wait_for(lambda: cancelled > 0, 10)
            return api_pb2.StateResponse(machine=api_pb2.Machine(cpus=cancelled))
    if rid == "peer":
        md = dict(ctx.invocation_metadata())
        remaining = ctx.time_remaining()
        return api_pb2.StateResponse(containers=[api_pb2.Container(
            id=md.get("user-agent", ""),
            bundlePath="none" if remaining is None else "%.3f" % remaining)])
    return api_pb2.StateResponse(containers=[api_pb2.Container(id=rid, status="running")],
                                 machine=api_pb2.Machine(cpus=4, memory=1 << 30))


def events(req, ctx):
    rid = req.id
    if rid == "wait":
        done = threading.Event()
        ctx.add_callback(done.set)
        ctx.add_callback(on_cancel)
        yield api_pb2.Event(type="start", id="wait")
        done.wait(60)
        return
    if rid == "fail":
        yield api_pb2.Event(type="start", id="ev0")
        yield api_pb2.Event(type="start", id="ev1")
        ctx.abort(grpc.StatusCode.UNAVAILABLE, "stream failed")
    for i in range(int(rid or "0")):
        yield api_pb2.Event(type="exit", id="ev%d" % i, status=i, pid="init")


def unary(fn, req_cls, resp_cls):
    return grpc.unary_unary_rpc_method_handler(
        fn, request_deserializer=req_cls.FromString,
        response_serializer=resp_cls.SerializeToString)


handlers = {
    "GetServerVersion": unary(get_server_version, api_pb2.GetServerVersionRequest,
                              api_pb2.GetServerVersionResponse),
    "State": unary(state, api_pb2.StateRequest, api_pb2.StateResponse),
    "Events": grpc.unary_stream_rpc_method_handler(
        events, request_deserializer=api_pb2.EventsRequest.FromString,
        response_serializer=api_pb2.Event.SerializeToString),
}

server = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                     options=[("grpc.max_send_message_length", 128 << 20)])
server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("types.API", handlers),))
if server.add_insecure_port("unix:" + SOCK) == 0:
    sys.exit("cannot listen on " + SOCK)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print("ready %d" % port, flush=True)
# Exit when the test closes our stdin (or dies): no orphaned servers.
sys.stdin.read()
server.stop(0)
