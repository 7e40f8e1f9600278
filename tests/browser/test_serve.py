"""`quanted serve` in Chromium: without the token the page (and the websocket) is refused;
with it the editor starts and draws into the page, and keys typed in the browser reach it: a
toggle then ctrl+s lands in the file."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from quanted.core.document import QuantizeDocument
from tests.conftest import copy_sample

pytestmark = pytest.mark.browser

APP_WAIT_MS = 60_000  # a ceiling for a loaded machine; the waits end on the app's output


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`quanted serve` on a copy of the sample: (the URL it printed, the file)."""
    quantize = copy_sample(tmp_path)
    with open(tmp_path / "serve.err", "wb") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "quanted", "serve", str(quantize), "--port", "0"],
            stdout=subprocess.PIPE, stderr=err, cwd=tmp_path)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().decode().strip()  # the first line: printed listening
        assert url.startswith("http://127.0.0.1:") and "?token=" in url, (
            url, (tmp_path / "serve.err").read_text())
        yield url, quantize
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_without_the_token_everything_is_403(browser, served):
    url, _ = served
    base = url.split("?", 1)[0]
    page = browser.new_page()
    response = page.goto(base)
    assert response is not None and response.status == 403
    assert "needs its token" in page.content()
    page.close()
    for path in ("ws", "static/js/textual.js", "?token=wrong"):
        assert status(base + path) == 403


class Output:
    """What the app has written to the page's websocket (its screen, as terminal output)."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.data = b""
        socket.on("framereceived", self.add)

    def add(self, frame: bytes | str) -> None:
        self.data += frame if isinstance(frame, bytes) else frame.encode()

    def wait_for(self, text: bytes) -> None:
        """Until the app has written `text` (frames are delivered during Playwright calls)."""
        if text not in self.data:
            self.socket.wait_for_event("framereceived", lambda _: text in self.data,
                                       timeout=APP_WAIT_MS)


def test_keys_sent_through_the_browser_edit_and_save_the_file(browser, served, shots):
    url, quantize = served
    before = QuantizeDocument.open(quantize).customized
    page = browser.new_page()
    with page.expect_websocket() as opened:
        response = page.goto(url)
    assert response is not None and response.status == 200
    output = Output(opened.value)
    output.wait_for(b"customized")  # the editor is up and drew its table
    page.wait_for_selector("body.-first-byte")  # and the page shows the terminal
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "serve.png"))
    page.locator("#terminal").click()
    page.keyboard.press("Space")
    page.keyboard.press("Control+s")
    output.wait_for(b"Saved")  # the editor says so once the file is on disk
    after = QuantizeDocument.open(quantize).customized
    assert len(set(after.items()) ^ set(before.items())) == 1  # one layer toggled, no more
    page.close()
