"""`serve`: the editor in a browser (textual-serve), behind a random token."""

from __future__ import annotations

import argparse
import secrets
import shlex
import socket
import sys
from pathlib import Path

INSTALL = "pip install 'quanted[serve]'"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="the editor in a browser",
                       description="Serve the editor on FILE to a browser (textual-serve). The "
                       "first line on stdout is the URL to open, with a random token the "
                       "server requires (403 without it). Each browser tab runs its own "
                       "editor; the file lock and the changed-on-disk checks keep them from "
                       "overwriting each other. Bound to 127.0.0.1: forward the port over SSH "
                       "(ssh -L 8000:127.0.0.1:8000 HOST) rather than binding elsewhere.")
    p.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    p.add_argument("--port", type=int, default=8000,
                   help="the port (default 8000; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to bind (default 127.0.0.1; another one is reachable by "
                   "anyone with the URL, and is warned about)")
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from quanted.core.document.model import QuantizeDocument
    from quanted.core.errors import QuantedError

    QuantizeDocument.open(args.file)  # an unreadable FILE is exit 2 before anything listens
    try:
        from quanted.serve.server import TokenServer
    except ImportError:
        raise QuantedError(f"quanted serve needs textual-serve, which is not installed: "
                           f"{INSTALL}", args.file) from None
    if args.host not in LOOPBACK:
        print(f"quanted: warning: serving on {args.host}: anyone who can reach it and has the "
              "URL can edit the file; an SSH tunnel to 127.0.0.1 is safer", file=sys.stderr)
    try:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        sock = socket.create_server((args.host, args.port), family=family)
    except OSError as exc:
        raise QuantedError(f"cannot listen on {args.host}:{args.port}: "
                           f"{exc.strerror or exc}", args.file) from None
    token = secrets.token_urlsafe(24)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    command = shlex.join([sys.executable, "-m", "quanted", str(args.file.absolute())])
    server = TokenServer(command, f"quanted {args.file.name}", token, port)
    print(f"http://{host}:{port}/?token={token}", flush=True)
    server.serve_on(sock)
    return 0
