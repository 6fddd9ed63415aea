"""Waiting for a path to appear or go, with inotify on its parent
directory (no polling). No gRPC here: fake runtimes import it too."""
import os
import time


def wait_path_gone(path, timeout):
    """Wait (inotify on the parent directory, no polling) until path no
    longer exists. True when gone."""
    return wait_path(path, False, timeout)


def wait_path(path, exists, timeout):
    """Wait (inotify on the parent directory, no polling) until path exists
    (or, exists=False, no longer exists). True when reached."""
    import ctypes
    import select
    libc = ctypes.CDLL(None, use_errno=True)
    IN_DELETE, IN_MOVED_FROM, IN_DELETE_SELF = 0x200, 0x40, 0x400
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1")
    try:
        IN_CREATE, IN_MOVED_TO, IN_CLOSE_WRITE = 0x100, 0x80, 0x8
        libc.inotify_add_watch(fd, os.path.dirname(path).encode(),
                               IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_CREATE
                               | IN_MOVED_TO | IN_CLOSE_WRITE)
        deadline = time.monotonic() + timeout
        while os.path.lexists(path) != exists:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return os.path.lexists(path) == exists
            try:
                os.read(fd, 65536)
            except BlockingIOError:
                pass
        return True
    finally:
        os.close(fd)
