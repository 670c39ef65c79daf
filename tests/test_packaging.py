"""What a wheel and an sdist built from this tree hold: CI installs editable, where every file
is there anyway, so a wheel without the C++ source went unnoticed (each install warned and ran
the engine 2.7x slower). Built offline with the installed setuptools, as pip's backend would."""

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, set[str]]:
    """The member names of a wheel and an sdist built from a copy of the tree."""
    pytest.importorskip("setuptools", minversion="77", reason="the dev extra installs it")
    tree = tmp_path_factory.mktemp("tree")
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*", "build", "dist")
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(ROOT / name, tree / name)
    for folder in ("src", "tests", "docs", "examples", "benchmarks"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=skip)
    script = (  # setuptools logs to stdout: the names go to a file
        "from setuptools import build_meta as b; from pathlib import Path; "
        "Path('built.txt').write_text(b.build_wheel('dist') + ' ' + b.build_sdist('dist'))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tree, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    wheel, sdist = (tree / "built.txt").read_text().split()
    with zipfile.ZipFile(tree / "dist" / wheel) as zf:
        wheel_names = set(zf.namelist())
    with tarfile.open(tree / "dist" / sdist) as tf:
        sdist_names = {name.split("/", 1)[1] for name in tf.getnames() if "/" in name}
    return {"wheel": wheel_names, "sdist": sdist_names}


def test_the_wheel_holds_the_engines_source_the_licence_and_the_command(built):
    names = built["wheel"]
    assert "lstmcast/models/csrc/lstm_cpu.cpp" in names  # built from on first use
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert entry and not any(n.startswith(("tests/", "docs/", "benchmarks/")) for n in names)


def test_the_sdist_can_run_its_own_tests(built):
    names = built["sdist"]
    for needed in (
        "src/lstmcast/models/csrc/lstm_cpu.cpp",
        "LICENSE",
        "tests/conftest.py",
        "tests/fixtures/model_v1/manifest.json",
        "tests/fixtures/model_v1/weights.safetensors",
        "docs/errors.md",
        "benchmarks/results.md",
    ):
        assert needed in names, needed
    assert not any("__pycache__" in n for n in names)
