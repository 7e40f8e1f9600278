"""`quanted [FILE]`: which arguments open the editor, and what happens around it (the editor
itself is tested in tests/tui)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from quanted.cli import dispatch as cli_main
from quanted.cli import open_command
from quanted.tui.app import QuantedApp
from tests.conftest import SAMPLE, SAMPLE_QUANTIZE


def test_cli_routes_files_to_the_editor_and_subcommands_elsewhere():
    subs = cli_main.COMMANDS
    assert "layers" in subs
    assert open_command.wants_editor([], subs)
    assert open_command.wants_editor(["model.quantize"], subs)
    assert open_command.wants_editor(["-e", "x.txt", "m.quantize"], subs)
    assert not open_command.wants_editor(["layers", "m.quantize"], subs)
    assert not open_command.wants_editor(["--version"], subs)
    args = open_command.parse(["m.quantize", "-e", "x.txt"])
    assert args.file == Path("m.quantize") and args.entropy == Path("x.txt")


def test_the_commands_named_ahead_of_the_parser_are_the_parsers():
    parser = cli_main.build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert cli_main.COMMANDS == tuple(sub.choices)


def test_cli_missing_file_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli_main.main(["nothing.quantize"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cli_without_argument_copies_the_sample_and_says_where(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    seen = {}

    def fake_run(self):
        seen.update(path=self.path, name=self.display_name, note=self.note)

    monkeypatch.setattr(QuantedApp, "run", fake_run)
    assert cli_main.main([]) == 0
    out = capsys.readouterr().out
    assert str(seen["path"]) in out and seen["path"].is_file()
    assert seen["name"] == str(seen["path"])  # the status line shows where the copy is
    assert seen["path"].parent.name.startswith("quanted-sample-")
    assert seen["path"].read_bytes() == (SAMPLE / SAMPLE_QUANTIZE).read_bytes()
    assert (seen["path"].parent / "entropy.txt").is_file()
    shutil.rmtree(seen["path"].parent)
