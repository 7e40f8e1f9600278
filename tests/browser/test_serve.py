"""`quanted serve` in Chromium: without the token the page (and the websocket) is refused;
with it the editor starts and draws into the page, keys typed in the browser reach it (a toggle
then ctrl+s lands in the file), and a second tab is a second editor that the changed-on-disk
check protects."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from quanted.core.document.model import QuantizeDocument
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


def open_editor(browser, url: str):
    """A tab with the editor loading: (the page, its output)."""
    page = browser.new_page()
    with page.expect_websocket() as opened:
        page.goto(url)
    return page, Output(opened.value)


def test_keys_typed_in_a_tab_are_saved_and_a_second_tab_is_told_of_it(browser, served, shots):
    """Each tab is its own editor: the first one's space then ctrl+s land in the file; the
    second, saving its own edit afterwards, is asked about the change on disk."""
    url, quantize = served
    before = QuantizeDocument.open(quantize).customized
    first, first_output = open_editor(browser, url)
    second, second_output = open_editor(browser, url)  # both editors start at once
    for page, output in ((first, first_output), (second, second_output)):
        output.wait_for(b"customized")  # the editor is up and drew its table
        page.wait_for_selector("body.-first-byte")  # and the page shows the terminal
        page.locator("#terminal").click()
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        first.screenshot(path=str(shots / "serve.png"))
    first.keyboard.press("Space")
    first.keyboard.press("Control+s")
    first_output.wait_for(b"Saved")  # the editor says so once the file is on disk
    saved = QuantizeDocument.open(quantize).customized
    assert len(set(saved.items()) ^ set(before.items())) == 1  # one layer toggled, no more
    second.keyboard.press("j")
    second.keyboard.press("Space")
    second.keyboard.press("Control+s")
    second_output.wait_for(b"changed on disk")  # its own process found the first one's save
    assert QuantizeDocument.open(quantize).customized == saved
    first.close()
    second.close()
