"""The wheel holds every package and the bundled sample."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile

import pytest

from tests.conftest import REPO


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "quanted").rglob("__init__.py")
    }
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"


@pytest.mark.slow
def test_wheel_contains_the_sample_and_styles(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    wheel = next(tmp_path.glob("quanted-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "quanted/sample_data/tinynet_uint8.quantize" in names
    assert "quanted/sample_data/entropy.txt" in names
    assert any(n.startswith("quanted/tui/") and n.endswith(".tcss") for n in names)
    # Installed from the wheel (not the checkout), quanted finds its sample.
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target",
                              str(site),
                              str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys, quanted.core.sample as s; print(s.copy_sample(sys.argv[1]))",
         str(tmp_path / "copy")],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(site)},
    )
    assert probe.returncode == 0, probe.stderr
    assert (tmp_path / "copy" / "tinynet_uint8.quantize").is_file()
