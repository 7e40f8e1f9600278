"""A STAND-IN for pegasus (not the engine) that serves like scripts/acuity_pegasus.py: the same
`serve` (the fork server itself), with nothing to import and these commands instead of the
engine's:

    say N STATUS     N lines, then the folder and $STANDIN_WORD; exits STATUS
    block            says "blocking", then waits for a signal
    crash-server     kills the server it runs in (SIGKILL), then waits for a signal
    anything else    "stand-in: unknown command", exit 2

With STANDIN_SERVE_FAIL set, `serve` fails at once, as a server whose imports fail would."""
# quanted-warm-engine: 1
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import acuity_pegasus as engine  # noqa: E402


def main(argv):
    if argv[0] == "say":
        for i in range(int(argv[1])):
            print(f"line {i}", flush=True)
        print(os.getcwd(), os.environ.get("STANDIN_WORD"), flush=True)
        return int(argv[2])
    if argv[0] not in ("block", "crash-server"):
        print("stand-in: unknown command", flush=True)
        return 2
    print("blocking", flush=True)
    if argv[0] == "crash-server":
        os.kill(os.getppid(), signal.SIGKILL)
    while True:
        signal.pause()


engine.SERVE_IMPORTS = ()
engine.main = main
if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        if os.environ.get("STANDIN_SERVE_FAIL"):
            sys.stderr.write("stand-in: no engine here\n")
            sys.exit(3)
        sys.exit(engine.serve(sys.argv[2]))
    sys.exit(main(sys.argv[1:]))
