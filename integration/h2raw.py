"""A bare HTTP/2 client for the limit tests and bench/events-memory: what a
gRPC library never does (ignore SETTINGS_MAX_CONCURRENT_STREAMS, never read
the socket at all), on a unix socket. Frames per RFC 9113; request headers
as HPACK literals without indexing and without Huffman coding (RFC 7541
§6.2.2), so no header table is needed. Responses are read as frames only
(type, flags, stream, payload): their HPACK blocks are not decoded."""
import socket
import struct

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
          7: "REFUSED_STREAM", 8: "CANCEL", 11: "ENHANCE_YOUR_CALM"}


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def _literal(name, value):
    def s(x):
        x = x.encode()
        assert len(x) < 127
        return bytes([len(x)]) + x
    return b"\x00" + s(name) + s(value)


def grpc_headers(path):
    return b"".join(_literal(n, v) for n, v in (
        (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
        ("content-type", "application/grpc"), ("te", "trailers")))


class Conn:
    def __init__(self, sock_path, settings=()):
        """Connect and send the client preface with SETTINGS (id, value)..."""
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(sock_path)
        self.next_id = 1
        self.buf = b""
        try:
            self.s.sendall(PREFACE + frame(SETTINGS, 0, 0, b"".join(
                struct.pack(">HI", k, v) for k, v in settings)))
        except (BrokenPipeError, ConnectionResetError):
            # a refused connection: the server may send its GOAWAY and close
            # before our preface is written; what it sent is still readable
            pass

    def open_call(self, path, message=b""):
        """Start one gRPC call (HEADERS, then the request message with
        END_STREAM). Returns its stream id."""
        sid = self.next_id
        self.next_id += 2
        body = b"\x00" + struct.pack(">I", len(message)) + message
        self.s.sendall(frame(HEADERS, END_HEADERS, sid, grpc_headers(path)) +
                       frame(DATA, END_STREAM, sid, body))
        return sid

    def ack_settings(self):
        self.s.sendall(frame(SETTINGS, ACK, 0))

    def read_frame(self, timeout=10):
        """(type, flags, stream, payload), or None at EOF."""
        self.s.settimeout(timeout)
        while True:
            if len(self.buf) >= 9:
                n = struct.unpack(">I", b"\x00" + self.buf[:3])[0]
                if len(self.buf) >= 9 + n:
                    hd, self.buf = self.buf[:9 + n], self.buf[9 + n:]
                    return hd[3], hd[4], struct.unpack(">I", hd[5:9])[0] & 0x7fffffff, hd[9:]
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def frames_until(self, pred, timeout=10):
        """Read frames (answering SETTINGS and PING) until pred(frame) holds or
        EOF; returns the frame, or None."""
        while True:
            f = self.read_frame(timeout)
            if f is None:
                return None
            try:
                if f[0] == SETTINGS and not f[1] & ACK:
                    self.ack_settings()
                if f[0] == PING and not f[1] & ACK:
                    self.s.sendall(frame(PING, ACK, 0, f[3]))
            except OSError:
                pass  # the server closed its side (after a GOAWAY)
            if pred(f):
                return f

    def close(self):
        self.s.close()


def goaway_info(payload):
    """(last stream id, error name, debug text) of a GOAWAY payload."""
    last, code = struct.unpack(">II", payload[:8])
    return last & 0x7fffffff, ERRORS.get(code, str(code)), payload[8:].decode(errors="replace")


def rst_code(payload):
    return ERRORS.get(struct.unpack(">I", payload[:4])[0], "?")
