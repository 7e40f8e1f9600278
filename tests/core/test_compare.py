"""`quantize --compare` without the engine: the scratch folder, the pick, the side-by-side text.
The real runs are in tests/engine/test_workflow_engine.py."""

from __future__ import annotations

from pathlib import Path

from quanted.core.engine import compare as cmp
from quanted.core.engine.command import ModelFiles
from quanted.core.engine.outputs import VerifySummary
from quanted.core.engine.quantize import QuantizeOptions, QuantizePlan


def side(name: str, mean: float | None, error: str | None = None) -> cmp.Side:
    plan = QuantizePlan(ModelFiles("m", Path("."), Path("m.json"), Path("m.data"),
                                   Path("m_inputmeta.yml")), Path("m_uint8.quantize"), ["x"],
                        QuantizeOptions(kld=name == cmp.KLD))
    made = cmp.Side(name, plan, error=error)
    if mean is not None:
        made.verify = _Verified(mean)  # type: ignore[assignment]
    return made


class _Verified:
    def __init__(self, mean: float) -> None:
        self.mean = mean

    def summary(self) -> VerifySummary:
        return VerifySummary(count=4, mean_cosine=self.mean, min_cosine=self.mean - 0.1,
                             max_abs_error=0.5, top1_agree=3, top1_agreement=0.75,
                             mean_top5_overlap=0.8)


def test_the_higher_mean_cosine_wins_and_a_tie_goes_to_the_default():
    assert cmp.best_side(cmp.QuantizeComparison([side("default", 0.9), side("kld", 0.95)],
                                                Path("."))).name == "kld"
    assert cmp.best_side(cmp.QuantizeComparison([side("default", 0.9), side("kld", 0.9)],
                                                Path("."))).name == "default"
    assert cmp.best_side(cmp.QuantizeComparison([side("default", None, "boom"),
                                                 side("kld", None, "x")],
                                                Path("."))) is None


def test_figures_side_by_side_and_failures_named():
    lines = cmp.figures_lines(cmp.QuantizeComparison([side("default", 0.5),
                                                      side("kld", None, "status 1")],
                                                     Path(".")))
    assert lines[0].split() == ["default", "kld"]
    assert lines[1].split() == ["mean", "cosine", "0.500000", "-"]
    assert "top-1 agrees          3/4                   -" in lines
    assert lines[-1] == "kld: failed: status 1"


def test_scratch_copy_copies_the_data_links_the_inputs_and_leaves_outputs(tmp_path):
    src = tmp_path / "model"
    src.mkdir()
    for name in ("m.json", "m.data", "m_inputmeta.yml", "dataset.txt", "m_uint8.quantize",
                 "m_uint8.quantize.json", "entropy.txt"):
        (src / name).write_text(name)
    (src / ".quanted").mkdir()
    (src / "inputs").mkdir()
    files = ModelFiles("m", src, src / "m.json", src / "m.data", src / "m_inputmeta.yml")
    target = tmp_path / "scratch" / "default"
    cmp.scratch_copy(files, target)
    names = {p.name for p in target.iterdir()}
    assert names == {"m.json", "m.data", "m_inputmeta.yml", "dataset.txt", "inputs"}
    assert not (target / "m.data").is_symlink() and not (target / "m.json").is_symlink()
    assert (target / "dataset.txt").is_symlink() and (target / "inputs").is_symlink()
    (target / "m.data").write_text("rewritten by the engine")
    assert (src / "m.data").read_text() == "m.data"
