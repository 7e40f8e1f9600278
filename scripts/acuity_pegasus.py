#!/usr/bin/env python3
"""A `pegasus` command line over the ACUITY engine published on PyPI as `acuitylite`.

acuitylite has no `pegasus` entry point; its command modules each describe their options
(`arguments()`), and `acuitylib.console.custom_args.build_options` turns them into argparse
sub-commands. This maps the pegasus spellings onto them:

    pegasus import onnx|tflite|caffe|tensorflow|darknet|pytorch|keras ...
    pegasus generate inputmeta|postprocess-file|fakedata ...
    pegasus quantize|inference|dump|measure|train ...
    pegasus export ovxlib|ide ...
    pegasus serve DIR        (the warm engine: see serve())

scripts/setup-acuitylite copies this file to ENV/bin/pegasus with the environment's python
in the shebang. Exit status: the engine's (a non-zero int returned or SystemExit passed
through); 1 when the engine raises.
"""
import os
import sys

# TensorFlow's C++ start-up chatter only; the engine's own `I/W/E HH:MM:SS` lines stay.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GROUPS = {
    # pegasus word -> (engine module, word shown in usage)
    "import": "acuitylib.app.importer.commands",
    "generate": "acuitylib.app.console.commands",
    "export": "acuitylib.app.exporter.commands",
}
# These are top-level pegasus commands handled by the medusa module.
MEDUSA = "acuitylib.app.medusa.commands"
MEDUSA_COMMANDS = ("quantize", "inference", "dump", "measure", "train")

USAGE = """usage: pegasus COMMAND ...

commands:
  import {onnx,tflite,caffe,tensorflow,darknet,pytorch,keras} ...
  generate {inputmeta,postprocess-file,fakedata} ...
  quantize ...
  inference ...
  dump ...
  measure ...
  train ...
  export {ovxlib,ide} ...

`pegasus COMMAND [SUBCOMMAND] --help` lists the options of the engine (acuitylite).
"""


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    word = argv[0]
    if word in GROUPS:
        module_name, prog, rest = GROUPS[word], "pegasus " + word, argv[1:]
    elif word in MEDUSA_COMMANDS:
        module_name, prog, rest = MEDUSA, "pegasus", argv
    else:
        sys.stderr.write(USAGE)
        sys.stderr.write("pegasus: error: unknown command %r\n" % word)
        return 2

    import argparse
    import importlib

    module = importlib.import_module(module_name)
    from acuitylib.console.custom_args import build_options

    parser = argparse.ArgumentParser(prog=prog)
    build_options(parser, module.arguments())
    args = parser.parse_args(rest)
    if getattr(args, "which", None) is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write("%s: error: a sub-command is required\n" % prog)
        return 2

    try:
        status = module.execute(args)
    except SystemExit:
        raise
    except BaseException:  # the engine raised: report it and fail
        import traceback

        traceback.print_exc()
        sys.stderr.write("pegasus: error: the engine raised during %r\n" % " ".join(argv[:2]))
        return 1
    if isinstance(status, bool) or not isinstance(status, int):
        return 0
    return status


# quanted-warm-engine: 1 (quanted reads this line to know `serve` is here)
# The warm engine. `pegasus serve DIR` imports the engine once, listens on DIR/engine.sock (DIR
# is the caller's private 0700 folder), prints "ready PID" and from then on forks one child per
# request, which runs main() as the cold command would, in the request's folder, with its
# environment and argv, its stdout and stderr on the pipe the request passed (SCM_RIGHTS).
# Forking is safe here because the server never runs engine code: after the imports it is one
# thread (checked: it refuses to serve otherwise). Each child is a process group of its own
# (a cancel stops it all) that dies with the server (PDEATHSIG); the server dies with its
# keeper, the keeper with quanted.
# Protocol on the connection: request = 4-byte big-endian length + JSON {"argv", "cwd", "env"}
# with the pipe's fd attached; the server answers "pid N\n" then "exit S\n" (S as
# os.waitstatus_to_exitcode); the client may send "term\n" or "kill\n" (to the child's group);
# a connection closed before "exit" kills the child.
SERVE_IMPORTS = (MEDUSA, *GROUPS.values(), "acuitylib.console.custom_args")


def _read_request(conn):
    import json
    import socket

    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 4)
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        more = conn.recv(1 << 20)
        if not more:
            raise ValueError("request cut short")
        data += more
    return json.loads(data[4:4 + int.from_bytes(data[:4], "big")]), fds


def _child(request, out_fd, server, server_fds):
    """The forked child: become the cold command, run it, never return."""
    import atexit
    import ctypes
    import signal
    import tempfile

    status = 1
    try:
        os.setpgid(0, 0)
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != server:
            os._exit(137)
        for fd in server_fds:  # the listening socket, other requests' connections, pidfds
            os.close(fd)
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGUSR2):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(null)
        os.close(out_fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        tempfile.tempdir = None  # as a new process would find it: from the environment
        numpy = sys.modules.get("numpy")
        if numpy is not None:  # a cold process draws fresh entropy; a fork would share it
            numpy.random.seed()
        atexit._clear()  # the server's handlers are the server's
        _own_const_lock()
        try:
            status = main(list(request["argv"][1:]))
            if isinstance(status, bool) or not isinstance(status, int):
                status = 0
        except SystemExit as exc:
            code = exc.code
            if code is None:
                status = 0
            elif isinstance(code, int):
                status = code
            else:
                sys.stderr.write("%s\n" % (code,))
                status = 1
        except KeyboardInterrupt:
            status = 128 + signal.SIGINT
        except BaseException:
            import traceback

            traceback.print_exc()
            status = 1
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(status & 0xFF)


def _own_const_lock():
    """acuitylib guards its constant data with a Lock of a multiprocessing manager it starts
    at import: in a fork server, one lock for every command. A command killed while holding it
    would leave it held, and the next command would wait forever; each command gets a lock of
    its own instead, as each cold process has (a semaphore its own forks share)."""
    const_data = sys.modules.get("acuitylib.core.const_data")
    holder = getattr(const_data, "Const_manager", None)
    if holder is not None and hasattr(holder, "lock"):
        import multiprocessing

        holder.lock = multiprocessing.Lock()


def serve(folder):
    import importlib
    import selectors
    import signal
    import socket
    import threading

    for name in SERVE_IMPORTS:
        importlib.import_module(name)

    threads = len(os.listdir("/proc/self/task"))
    if threads != 1 or threading.active_count() != 1:
        sys.stderr.write("pegasus serve: the engine started %d threads at import; forking "
                         "would not be safe\n" % threads)
        return 3
    path = os.path.join(folder, "engine.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)
    listener.setblocking(False)
    server = os.getpid()
    children = {}  # pid -> [conn, pidfd]
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")

    def stop(signum, frame):
        """A stop from the keeper (quanted asked): the running commands go, then what the
        server leaves in the temp folder (its socket's folder; the folder of the
        multiprocessing manager acuitylib starts at import, which has the group's SIGTERM)."""
        import multiprocessing.process
        import shutil

        for pid in list(children):
            _killpg(pid, signal.SIGKILL)
        config = multiprocessing.process.current_process()._config
        for tree in (folder, config.get("tempdir")):
            if tree:
                shutil.rmtree(tree, ignore_errors=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    sys.stdout.write("ready %d\n" % server)
    sys.stdout.flush()
    null = os.open(os.devnull, os.O_RDWR)  # the client stops reading the start-up log here
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    while True:
        for key, _ in selector.select():
            what = key.data
            if what == "accept":
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(True)
                try:
                    request, fds = _read_request(conn)
                    if len(fds) != 1:
                        raise ValueError("a request passes exactly one fd")
                except (OSError, ValueError) as exc:
                    try:
                        conn.sendall(("error %s\n" % exc).encode())
                    except OSError:
                        pass
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    own = [listener.fileno(), selector.fileno(), conn.fileno()]
                    for other_conn, pidfd in children.values():
                        own.append(pidfd)
                        if other_conn is not None:
                            own.append(other_conn.fileno())
                    _child(request, fds[0], server, own)
                try:
                    os.setpgid(pid, pid)  # also here: a kill may come before the child runs
                except OSError:
                    pass
                os.close(fds[0])
                pidfd = os.pidfd_open(pid)
                children[pid] = [conn, pidfd]
                selector.register(pidfd, selectors.EVENT_READ, ("exit", pid))
                selector.register(conn, selectors.EVENT_READ, ("talk", pid))
                try:
                    conn.sendall(b"pid %d\n" % pid)
                except OSError:
                    _killpg(pid, signal.SIGKILL)
            elif what[0] == "exit":
                pid = what[1]
                conn, pidfd = children.pop(pid)
                _, wstatus = os.waitpid(pid, 0)
                _killpg(pid, signal.SIGKILL)  # whatever it left running in its group
                selector.unregister(pidfd)
                os.close(pidfd)
                if conn is not None:
                    selector.unregister(conn)
                    try:
                        conn.sendall(b"exit %d\n" % os.waitstatus_to_exitcode(wstatus))
                    except OSError:
                        pass
                    conn.close()
            else:
                pid = what[1]
                conn = children[pid][0] if pid in children else None
                if conn is None:  # it ended in this same round
                    continue
                try:
                    words = conn.recv(64).split()
                except OSError:
                    words = []
                if not words:  # the client went away: so does its command
                    selector.unregister(conn)
                    conn.close()
                    children[pid][0] = None
                    _killpg(pid, signal.SIGKILL)
                for word in words:
                    _killpg(pid, signal.SIGKILL if word == b"kill" else signal.SIGTERM)


def _killpg(pgid, signum):
    try:
        os.killpg(pgid, signum)
    except OSError:
        pass


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"] and len(sys.argv) == 3:
        sys.exit(serve(sys.argv[2]))
    sys.exit(main(sys.argv[1:]))
