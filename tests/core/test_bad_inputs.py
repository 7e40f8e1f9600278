"""Every kind of bad input is exit 2 with one `quanted: error: PATH[:LINE[:COL]]: ...` line."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from quanted.cli import main
from tests.core.docs import legacy_doc, v2_doc

GOOD = v2_doc()
BAD_INPUTS = {
    "empty": (b"", "empty file"),
    "whitespace": (b"  \n\n", "empty file"),
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary"),
    "latin1": (GOOD.replace("rtne", "rt\xe9ne", 1).encode("latin-1"), "not UTF-8"),
    "not-yaml": (b"this is: not: yaml: at all\n", "not valid"),
    "json": (b'{"quantize_parameters": {}}\n', "not valid"),
    "other-yaml": (b"input_meta:\n  databases: []\n", "no quantize_parameters"),
    "unclosed-quote-key": (GOOD.replace("'@c2_6:out0':", "'@c2_6:out0:", 1).encode(),
                           "unclosed quote"),
    "unclosed-quote-value": (GOOD.replace("rounding: rtne", "rounding: 'rtne", 1).encode(),
                             "unclosed quote"),
    "tab": (GOOD.replace("    qtype: u8", "\tqtype: u8", 1).encode(), "tab"),
    "truncated-mid-line": (GOOD[: GOOD.index("customized") - 20].encode(),
                           "customized_quantize_layers"),
    "truncated-after-key": (GOOD[: GOOD.index("'@c2_6:out0':") + 14].encode(), "no fields"),
    "no-customized": (GOOD.replace("customized_quantize_layers: {}\n", "").encode(),
                      "customized_quantize_layers"),
    "params-scalar": (b"version: 2\nquantize_parameters: 5\ncustomized_quantize_layers: {}\n",
                      "not a mapping"),
    "customized-list": (GOOD.replace("customized_quantize_layers: {}",
                                     "customized_quantize_layers:\n- a").encode(), "list item"),
    "bad-indent": (GOOD.replace("    qtype: u8", " qtype: u8", 1).encode(), "indentation"),
    "duplicate-top-level": (GOOD.replace("version: 2\n", "version: 2\nversion: 2\n").encode(),
                            "duplicate top-level"),
    "legacy-truncated": (legacy_doc()[:-40].encode(), ""),
    # found by the fuzzer: a compact list where the tensor key's fields belong
    "list-at-key-indent": (legacy_doc().replace("        dtype: asymmetric_affine\n",
                                                "    -    dt x\n", 1).encode(),
                           "expected a quoted tensor key"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_exit_2_with_one_line(name, tmp_path, capsys):
    data, fragment = BAD_INPUTS[name]
    path = tmp_path / "bad.quantize"
    path.write_bytes(data)
    for argv in (["check", str(path)], ["add", str(path), "c1_8"], ["layers", str(path)]):
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert re.match(rf"quanted: error: {re.escape(str(path))}(:\d+(:\d+)?)?: ",
                        lines[0]), lines[0]
        assert fragment in lines[0]
    assert path.read_bytes() == data  # nothing written


def test_missing_file_and_directory(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.quantize")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["check", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_no_permission(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked.quantize"
    locked.write_text(GOOD)
    locked.chmod(0)
    if os.geteuid() == 0:
        # root reads files whatever their mode bits (CI runs as root): make the read fail
        # the way it does for everyone else.
        real_open = os.open

        def refuse(path, *args, **kwargs):
            if str(path) == str(locked):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", refuse)
    try:
        assert main(["check", str(locked)]) == 2
        assert capsys.readouterr().err.strip() == f"quanted: error: {locked}: permission denied"
    finally:
        locked.chmod(0o644)


def test_bad_entropy_report_names_path_and_line(tmp_path, capsys):
    path = tmp_path / "m.quantize"
    path.write_text(GOOD)
    (tmp_path / "entropy.txt").write_text("@c1_8:out0, 0.5\n@c2_6:out0, zero\n")
    assert main(["layers", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"quanted: error: {tmp_path / 'entropy.txt'}:2: not a number: 'zero'"
    )


def test_no_traceback_reaches_the_user_from_the_real_binary(tmp_path):
    for name, (data, _) in sorted(BAD_INPUTS.items()):
        path = tmp_path / f"{name}.quantize"
        path.write_bytes(data)
        result = subprocess.run(
            [sys.executable, "-m", "quanted", "check", str(path)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(os.getcwd())},
        )
        assert result.returncode == 2, (name, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
