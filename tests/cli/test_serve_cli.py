"""`quanted serve` before any browser (tests/browser/test_serve.py has the browser): an unreadable
file is refused before anything listens, binding beyond the loopback is warned about, and a
missing textual-serve names the extra to install."""

from __future__ import annotations

import subprocess
import sys

from quanted.cli import main


def test_an_unreadable_file_is_exit_2_and_nothing_listens(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "missing.quantize"), "--port", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "missing.quantize" in captured.err


def test_another_host_is_served_only_with_a_warning(sample):
    server = subprocess.Popen([sys.executable, "-m", "quanted", "serve", str(sample), "--host",
                               "0.0.0.0", "--port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        assert server.stdout is not None and server.stderr is not None
        url = server.stdout.readline().decode()
        assert url.startswith("http://0.0.0.0:") and "/?token=" in url
        assert "warning: serving on 0.0.0.0" in server.stderr.readline().decode()
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_without_textual_serve_the_error_names_the_extra(sample, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "quanted.serve.server", None)
    assert main(["serve", str(sample), "--port", "0"]) == 1
    assert "pip install 'quanted[serve]'" in capsys.readouterr().err
