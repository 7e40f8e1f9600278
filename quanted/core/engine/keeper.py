"""The engine's keeper: the small process that guarantees no engine outlives quanted."""

from __future__ import annotations

import os
import sys

# The engine's keeper: quanted's child, pegasus's parent. pegasus runs in a process group of
# its own (its workers with it), so the keeper can stop all of it and still reap pegasus:
# when quanted is gone nothing of the engine is left, not even a zombie.
# - The kernel sends the keeper SIGUSR2 when quanted dies (PR_SET_PDEATHSIG = 1), however it
#   dies, SIGKILL included; quanted sends it too for a hard stop: SIGKILL to pegasus's group.
# - SIGTERM (a cancel) is passed on to pegasus's group; one that arrives before pegasus is
#   started is passed on as soon as it is (else pegasus would run its course unstopped).
# - When pegasus ends, whatever it left running in its group is killed; the keeper ends as
#   pegasus ended.
KEEPER = """
import ctypes, os, signal, sys
parent, child, pending = int(sys.argv[1]), 0, 0
def stop(signum, frame):
    global pending
    if not child:
        pending = signum
        return
    try:
        os.killpg(child, signal.SIGKILL if signum == signal.SIGUSR2 else signal.SIGTERM)
    except OSError:
        pass
for s in (signal.SIGUSR2, signal.SIGTERM):
    signal.signal(s, stop)
for s in (signal.SIGHUP, signal.SIGINT):
    signal.signal(s, signal.SIG_IGN)
ctypes.CDLL(None).prctl(1, signal.SIGUSR2, 0, 0, 0)
if os.getppid() != parent:
    os._exit(137)
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGUSR2):
        signal.signal(s, signal.SIG_DFL)
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as exc:
        sys.stderr.write("cannot run %s: %s\\n" % (sys.argv[2], exc.strerror))
        os._exit(127)
try:
    os.setpgid(pid, pid)
except OSError:
    pass
child = pid
if os.getppid() != parent:
    stop(signal.SIGUSR2, None)
elif pending:
    stop(pending, None)
_, status = os.waitpid(pid, 0)
try:
    os.killpg(pid, signal.SIGKILL)
except OSError:
    pass
code = os.waitstatus_to_exitcode(status)
if code < 0:
    if -code not in (signal.SIGKILL, signal.SIGSTOP):
        signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
os._exit(code if code >= 0 else 128 - code)
"""
KEEPING = sys.platform.startswith("linux")


def keeper_argv(command: list[str]) -> list[str]:
    """`command` run under a keeper (Linux), else as it is. PR_SET_PDEATHSIG follows the
    thread that starts the keeper: a keeper started from a thread that ends takes its engine
    down with it (quanted/core/engine/warm.py starts long-lived ones from a thread that stays)."""
    if KEEPING:
        return [sys.executable, "-S", "-E", "-c", KEEPER, str(os.getpid()), *command]
    return list(command)
