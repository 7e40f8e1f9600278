"""textual-serve's Server with a token: every request must carry it, in the URL (`?token=`) or
in the cookie the first page sets (the page's scripts, styles and websocket then need no token
in their URLs); anything else is 403. The websocket URL is made from the Host the browser used,
so a forwarded port works. stdout carries only the URL: textual-serve's banner and log go to
stderr."""

from __future__ import annotations

import asyncio
import hmac
import signal
import socket
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from rich.console import Console
from textual_serve.server import Server, to_int

TEMPLATES = Path(__file__).parent / "templates"
FORBIDDEN = ("403: quanted serve needs its token: open the URL it printed when it started "
             "(http://HOST:PORT/?token=...)\n")


class TokenServer(Server):
    def __init__(self, command: str, title: str, token: str, port: int) -> None:
        super().__init__(command, title=title, port=port, templates_path=TEMPLATES)
        self.token = token
        self.console = Console(stderr=True)
        # Cookies are shared by every port of a host: one name per server, so that a second
        # `quanted serve` does not log the first one's tabs out.
        self.cookie = f"quanted-serve-{port}"

    def allowed(self, request: web.Request) -> bool:
        given = request.query.get("token") or request.cookies.get(self.cookie) or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()

        @web.middleware
        async def require_token(request: web.Request, handler: Any) -> web.StreamResponse:
            if not self.allowed(request):
                return web.Response(status=403, text=FORBIDDEN)
            response: web.StreamResponse = await handler(request)
            if request.query.get("token"):
                response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict")
            return response

        app.middlewares.append(require_token)
        return app

    async def handle_index(self, request: web.Request) -> web.Response:
        scheme = "wss" if request.secure else "ws"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{scheme}://{request.host}/ws",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(f"quanted serve: each browser tab runs {self.command}; "
                           "ctrl+c stops the server", highlight=False)

    def serve_on(self, sock: socket.socket) -> None:
        """Run until ctrl+c or SIGTERM on a socket already bound and listening."""
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit)
        # No access log: its lines would carry the token in the URL.
        web.run_app(self._make_app(), sock=sock, handle_signals=False, loop=loop,
                    access_log=None, print=lambda *args: None)
