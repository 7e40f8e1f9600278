"""A STAND-IN for pegasus (not the engine): it does what a --hybrid run does to the user's
files at its start (rewrites the .quantize without comments, half written, and entropy.txt),
says so on stdout, records its pid, then runs until it is killed."""

import os
import sys
import time
from pathlib import Path

args = sys.argv[1:]
quantize = Path(args[args.index("--model-quantize") + 1])
Path(os.environ["STANDIN_PID_FILE"]).write_text(str(os.getpid()))
quantize.write_text("version: 2\nquantize_parameters:\n  '@half")  # torn, like a killed dump
Path("entropy.txt").write_text("@overwritten:out0, 1.0\n")
print("I stand-in: rewrote the file, running", flush=True)
with open(os.environ["STANDIN_READY"], "w") as ready:  # a FIFO the test waits on
    ready.write("ready\n")
while True:  # until a signal ends it; no exit on its own
    time.sleep(3600)
