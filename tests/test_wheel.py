"""A wheel of this checkout, installed in a fresh virtual environment, finds its shipped models.

The wheel is built offline with this environment's setuptools (``pip wheel --no-build-isolation``)
from a clean copy of the checkout (an in-tree build would pack stale files left in ``build/lib``),
and installed without dependencies into a fresh venv that reads this environment's site-packages
through a plain path line in a ``.pth`` file: the dependencies are found there, but the ``.pth``
files inside it (the editable install's import hook) are not run, so ``stimgen`` is the wheel's.
"""

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["vowels", "birdsong", "bengalese-finch", "digits"]
#: What a wheel build needs no copy of (all git-ignored, or large and unused by the build).
NOT_COPIED = {".git", ".venv", "build", "dist", "runs", "out", ".pytest_cache", ".hypothesis", "docs"}


def _run(args, **kwargs):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_wheel_installed_outside_the_checkout_loads_the_shipped_models_and_runs_the_demo(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("STIMGEN_MODELS", "PYTHONPATH", "PYTHONHOME")}
    env.update(STIMGEN_CACHE=str(tmp_path / "cache"), PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")

    src = tmp_path / "src"
    src.mkdir()
    for item in ROOT.iterdir():
        if item.name in NOT_COPIED or item.name.endswith(".egg-info"):
            continue
        if item.is_dir():
            shutil.copytree(item, src / item.name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(item, src / item.name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", tmp_path / "wheels", "."], cwd=src, env=env)
    (wheel,) = (tmp_path / "wheels").glob("stimgen-*.whl")

    # the wheel holds every module of the checkout and the shipped models, and nothing else
    members = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "stimgen").rglob("*.py")}
    assert modules - members == set(), "modules missing from the wheel (a subpackage not listed in setup.cfg?)"
    model_files = {f"stimgen/shipped_models/{p.parent.name}/{p.name}"
                   for p in (ROOT / "data" / "models").glob("*/*") if p.is_file()}
    assert len(model_files) == 3 * len(NAMES) and model_files <= members
    assets = {p.relative_to(ROOT).as_posix() for p in (ROOT / "stimgen" / "assets").rglob("*") if p.is_file()}
    assert len(assets) >= 6 and assets <= members   # jsPsych for stimgen pilot
    assert all(m.startswith(("stimgen/", "stimgen-")) for m in members), sorted(members)

    fresh = tmp_path / "fresh"
    _run([sys.executable, "-m", "venv", "--without-pip", fresh], env=env)
    python = fresh / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], env=env).strip())
    (purelib / "test_env.pth").write_text("".join(f"{p}\n" for p in site.getsitepackages()))
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", wheel],
         cwd=tmp_path, env=env)
    package = Path(_run([python, "-c", "import stimgen; print(stimgen.__file__)"], cwd=tmp_path, env=env).strip())
    assert package.resolve().is_relative_to(fresh.resolve()), package

    stimgen_cmd = fresh / "bin" / "stimgen"
    for name in NAMES:
        out = _run([stimgen_cmd, "model", "show", name], cwd=tmp_path, env=env)
        path = Path(out.splitlines()[0].split(": ")[0])
        assert path.name == name and path.resolve().is_relative_to(fresh.resolve()), out
        assert not path.resolve().is_relative_to(ROOT / "data"), out
        recorded = json.loads((ROOT / "data" / "models" / name / "config.json").read_text())["model_sha256"]
        assert f"model sha256: {recorded}" in out.splitlines()

    _run([stimgen_cmd, "demo", "--out", tmp_path / "demo"], cwd=tmp_path, env=env)
    assert (tmp_path / "demo" / "continuum_i_a" / "manifest.csv").is_file()
