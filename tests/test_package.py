"""Packaging: lazy imports, one version, the files a distribution must carry."""

import subprocess
import sys
from pathlib import Path

import pytest

import sklearn_r2t

ROOT = Path(__file__).resolve().parents[1]


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return set(res.stdout.split())


def test_import_is_lazy():
    mods = _modules_after("import sklearn_r2t")
    assert "torch" not in mods and "sklearn" not in mods and "xgboost" not in mods


def test_asrl_regressor_does_not_import_torch():
    mods = _modules_after("import sklearn_r2t; sklearn_r2t.ASRLRegressor")
    assert "sklearn_r2t.asrl._regressor" in mods
    assert "torch" not in mods


@pytest.mark.parametrize("name", sorted(set(sklearn_r2t.__all__) - {"__version__"}))
def test_every_public_name_resolves(name):
    obj = getattr(sklearn_r2t, name)
    assert obj.__name__ == name
    assert name in dir(sklearn_r2t)


def test_unknown_attribute_raises():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        sklearn_r2t.Nope  # noqa: B018


def test_one_version():
    from sklearn_r2t._version import __version__

    assert sklearn_r2t.__version__ == __version__
    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text()
    assert f"version: {__version__}" in (ROOT / "CITATION.cff").read_text()


def test_packaging_files():
    assert (ROOT / "sklearn_r2t" / "py.typed").exists()
    assert "BSD 3-Clause" in (ROOT / "LICENSE").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'license = "BSD-3-Clause"' in pyproject
    assert 'dynamic = ["version"]' in pyproject


def test_all_lists_every_lazy_name():
    assert set(sklearn_r2t.__all__) == {"__version__", *sklearn_r2t._LAZY}
