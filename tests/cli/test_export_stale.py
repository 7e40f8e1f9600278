"""When `quanted export` refuses the quantize.json as stale (quanted.core.engine.export_stale):
the customized list changed since the recorded hybrid run, the file was rebuilt after it, or
the file lacks the model's converter layers. The hybrid runs are records written here and the
quantize.json a stand-in file (the real run: tests/engine/test_workflow_engine.py); `--dry-run`
plans and runs nothing."""

from __future__ import annotations

import os
import shlex

import pytest

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.state.history import History
from tests.core.docs import v2_doc
from tests.core.model_folder import write_model_folder

PEGASUS = "/opt/acuity/bin/pegasus"
ENGINE = "customized_quantize_layers:\n  c1_8: dynamic_fixed_point-i16\n"
FIX = "run `quanted hybrid m_uint8.quantize` (ctrl+r in the editor) first (--force exports anyway)"


@pytest.fixture
def quantized(tmp_path):
    write_model_folder(tmp_path, ["c1_8", "c2_6", "c3_4"], ["a.npy"])
    path = tmp_path / "m_uint8.quantize"
    path.write_text(v2_doc(layers=("c1_8", "c2_6", "c3_4", "c1_8_to_i16"), customized=ENGINE))
    return path


def hybrid_run(path, customized: dict[str, str] | None = None, seconds_before: int = 5):
    """What `quanted hybrid` leaves: the quantize.json (with a converter layer), then its
    record; the file saved again after it (comments put back), so the file is the newest."""
    model = path.with_name(path.name + ".json")
    model.write_text('{"Layers": {"c1_8": {}, "c2_6": {}, "c3_4": {}, "c1_8_to_i16": {}}}')
    stamp = path.stat().st_mtime_ns - seconds_before * 10**9
    os.utime(model, ns=(stamp, stamp))
    doc = QuantizeDocument.open(path)
    ran = doc.customized if customized is None else customized
    return History(path).record("hybrid", {"customized": ran, "block": doc.block_text(),
                                           "customized_after": ran, "failures": 0})


def export(capsys, path, *args: str) -> tuple[int, str, str]:
    status = main(["export", str(path), *args, "--pegasus", PEGASUS, "--dry-run"])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_file_saved_again_after_its_hybrid_run_is_not_stale(quantized, capsys):
    hybrid_run(quantized)
    status, out, err = export(capsys, quantized)
    assert status == 0, err
    assert "--model m_uint8.quantize.json " in out and err == ""


@pytest.mark.parametrize(("edit", "changed"), [
    (["add", "c2_6", "--qtype", "float16"], "added c2_6 (float16)"),
    (["remove", "c1_8"], "removed c1_8"),
    (["add", "c1_8", "--qtype", "float16"],
     "retyped c1_8 (dynamic_fixed_point-i16 -> float16)"),
])
def test_a_list_changed_since_the_hybrid_run_is_refused_naming_the_change(
        quantized, capsys, edit, changed):
    entry = hybrid_run(quantized)
    assert main([edit[0], str(quantized), *edit[1:]]) == 0
    capsys.readouterr()
    status, out, err = export(capsys, quantized)
    assert status == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"quanted: error: {quantized}: refusing to export: the customized "
                          "list changed since the hybrid run that made m_uint8.quantize.json "
                          f"(attempt {entry.id}, ")
    assert f"): {changed}; {FIX}\n" in err
    status, out, err = export(capsys, quantized, "--force")
    assert status == 0 and shlex.split(out)[4] == "m_uint8.quantize.json"
    assert changed in err and "(--force)" in err


def test_many_changes_are_counted(quantized, capsys):
    hybrid_run(quantized, {f"gone_{i}": "float16" for i in range(5)} | {
        "c1_8": "dynamic_fixed_point-i16"})
    status, _, err = export(capsys, quantized)
    assert status == 1 and "removed gone_0, gone_1, gone_2 and 2 more; run" in err


def test_the_list_put_back_as_it_was_is_not_stale(quantized, capsys):
    hybrid_run(quantized)
    assert main(["add", str(quantized), "c2_6", "--qtype", "float16"]) == 0
    assert main(["remove", str(quantized), "c2_6"]) == 0
    assert export(capsys, quantized)[0] == 0


def test_a_rebuild_after_the_hybrid_run_is_refused(quantized, capsys):
    hybrid_run(quantized)
    rebuild = History(quantized).record("quantize", {"customized": {}, "algorithm": "normal"})
    status, _, err = export(capsys, quantized)
    assert status == 1
    assert (f"refusing to export: m_uint8.quantize was rebuilt (attempt {rebuild.id}, "
            in err) and "after the hybrid run that made m_uint8.quantize.json; run" in err


def test_converter_layers_the_file_has_no_entries_for_are_refused(quantized, capsys):
    hybrid_run(quantized)
    quantized.write_text(v2_doc(layers=("c1_8", "c2_6", "c3_4"), customized=ENGINE))
    status, _, err = export(capsys, quantized)
    assert status == 1
    assert ("m_uint8.quantize.json has 1 converter layer(s) m_uint8.quantize has no entries "
            "for (c1_8_to_i16): the file was rebuilt or replaced after the hybrid run, and the "
            "export would run them in float32; run `quanted hybrid" in err)


def test_a_model_newer_than_the_record_falls_back_to_the_applied_rule(quantized, capsys):
    """A hybrid run quanted did not record (pegasus by hand) made the model after the last
    record: the file's customized layers must then be applied in quantize_parameters."""
    hybrid_run(quantized, {"c3_4": "float16"})
    model = quantized.with_name(quantized.name + ".json")
    later = quantized.stat().st_mtime_ns + 10 * 10**9
    os.utime(model, ns=(later, later))
    assert export(capsys, quantized)[0] == 0  # model newer than the file: nothing to tell
    os.utime(quantized, ns=(later + 10**9, later + 10**9))
    status, _, err = export(capsys, quantized)
    assert status == 1 and "customized layer(s) are not applied yet (c1_8)" in err


def test_an_output_folder_under_a_file_is_refused_before_the_engine_starts(quantized, capsys):
    hybrid_run(quantized)
    (quantized.parent / "afile").write_text("")
    status, _, err = export(capsys, quantized, "--output", str(quantized.parent / "afile" / "x"))
    assert status == 1 and f"{quantized.parent / 'afile'} is not a folder" in err
