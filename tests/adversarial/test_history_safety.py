"""Issue 11 items 6 and 7: `.quanted/` is used without following links planted there, entries
naming paths outside it are ignored, and odd history content is a warning, never a crash."""

from __future__ import annotations

import json
import os
import sys

import pytest

from quanted.cli import main
from quanted.core.state.history import History, HistoryWarning
from tests.conftest import SAMPLE

STAND_IN = "import sys\nsys.exit(0)\n"  # a STAND-IN pegasus that leaves the file as it is


@pytest.fixture
def sample(tmp_path):
    for item in SAMPLE.iterdir():
        if item.is_file() and item.suffix != ".md":
            (tmp_path / item.name).write_bytes(item.read_bytes())
    script = tmp_path / "standin.py"
    script.write_text(STAND_IN)
    return tmp_path / "tinynet_uint8.quantize"


def hybrid(sample) -> int:
    standin = f"{sys.executable} {sample.parent / 'standin.py'}"
    return main(["hybrid", str(sample), "--pegasus", standin])


def test_a_planted_index_link_is_not_appended_to(sample, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    history = sample.parent / ".quanted" / "history"
    history.mkdir(parents=True)
    (history / "history.jsonl").symlink_to(victim)
    assert hybrid(sample) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "keep\n"


def test_a_planted_history_folder_link_is_not_followed(sample, tmp_path, capsys):
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (sample.parent / ".quanted").mkdir()
    (sample.parent / ".quanted" / "history").symlink_to(elsewhere)
    assert hybrid(sample) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_a_planted_state_folder_link_is_not_followed(sample, tmp_path, capsys):
    elsewhere = tmp_path.parent / f"{tmp_path.name}-state"
    elsewhere.mkdir()
    (sample.parent / ".quanted").symlink_to(elsewhere)
    assert hybrid(sample) == 2
    assert list(elsewhere.iterdir()) == []


def test_entries_naming_paths_outside_are_ignored_with_a_warning(sample, tmp_path):
    outside = tmp_path / "x"
    outside.write_bytes(sample.read_bytes())
    history = History(sample)
    history.record("note", {})
    index = sample.parent / ".quanted" / "history" / "history.jsonl"
    with index.open("a") as handle:
        for name in ("../../x", "/etc/passwd", ".hidden"):
            handle.write(json.dumps({"time": "t", "kind": "before-hybrid", "file": name,
                                     "data": {}}) + "\n")
    with pytest.warns(HistoryWarning, match="not a file in the history folder"):
        assert history.first_copy("before-hybrid") is None


def test_verify_does_not_use_an_entry_outside(sample, capsys):
    # A raised table with no kept base: verify looks for a plain copy in the history.
    text = sample.read_text()
    sample.write_text(text.replace("qtype: u8\n    quantizer: asymmetric_affine",
                                   "qtype: i16\n    quantizer: dynamic_fixed_point", 1))
    History(sample).record("note", {})
    index = sample.parent / ".quanted" / "history" / "history.jsonl"
    with index.open("a") as handle:
        handle.write(json.dumps({"time": "t", "kind": "before-hybrid", "file": "../../../x",
                                 "data": {}}) + "\n")
    assert main(["verify", str(sample), "--pegasus", "pegasus", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "../../../x" not in out
    assert "quanted: warning:" in err and "'../../../x'" in err


@pytest.mark.parametrize("content", [b"\x00\xff\xfe binary\n", b"{not json\n",
                                     b'{"time": 1, "kind": [], "data": 3}\n'])
def test_malformed_lines_are_skipped_with_a_warning(sample, content, capsys):
    History(sample).record("note", {})
    index = sample.parent / ".quanted" / "history" / "history.jsonl"
    index.write_bytes(content + index.read_bytes())
    assert main(["verify", str(sample), "--history"]) == 0
    assert "skipped 1 line(s)" in capsys.readouterr().err


def test_iterations_that_are_not_a_number_are_skipped(sample, capsys):
    History(sample).record("verify", {"summary": {"quantized": {"mean_cosine": 0.9}},
                                      "iterations": "a"})
    assert main(["verify", str(sample), "--history"]) == 0
    assert "no verify results" in capsys.readouterr().out


@pytest.mark.parametrize("layout", ["state-is-a-file", "index-is-a-folder"])
def test_odd_layouts_are_exit_2_with_a_message(sample, layout, capsys):
    if layout == "state-is-a-file":
        (sample.parent / ".quanted").write_text("")
        expected = "is not a folder"
    else:
        (sample.parent / ".quanted" / "history" / "history.jsonl").mkdir(parents=True)
        expected = "history.jsonl"
    assert hybrid(sample) == 2
    err = capsys.readouterr().err
    assert expected in err and "internal error" not in err
    assert main(["verify", str(sample), "--history"]) == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_an_unwritable_history_folder_is_exit_2(sample, capsys):
    history = sample.parent / ".quanted" / "history"
    history.mkdir(parents=True)
    history.chmod(0o500)
    try:
        assert hybrid(sample) == 2
        assert "internal error" not in capsys.readouterr().err
    finally:
        history.chmod(0o700)


def test_a_history_folder_refusing_writes_is_exit_2_even_for_root(sample, monkeypatch, capsys):
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if str(path) == "history.jsonl" and flags & os.O_WRONLY:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    before = sample.read_bytes()
    assert hybrid(sample) == 2
    err = capsys.readouterr().err
    assert "history.jsonl: cannot use it: Permission denied" in err
    assert "internal error" not in err
    assert sample.read_bytes() == before
