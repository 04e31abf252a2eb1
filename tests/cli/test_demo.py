"""The demo (``python -m sklearn_r2t demo``) and its comparison table."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_r2t import SymbolicLeastSquares
from sklearn_r2t.__main__ import main
from sklearn_r2t._compare import compare_methods, format_table, standard_methods
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.symbolic import HeartRate, SpO2

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_demo_prints_table_and_writes_figure(tmp_path, capsys):
    out = tmp_path / "demo.png"
    status = main(["demo", "--n-sequences", "6", "--output", str(out), "--no-progress"])
    assert status == 0
    text = capsys.readouterr().out
    labels = [label for label, _ in standard_methods(HeartRate())]
    assert {"OLS", "Cauchy (auto)", "R2T"} <= set(labels)
    assert not any("refine" in label for label in labels)  # deprecated: equals R2T
    for label in labels:
        assert f"| {label} |" in text
    assert "median NMSE" in text and "acrophase (h)" in text and "ms / seq" in text
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_demo_three_channel_model(tmp_path, capsys):
    out = tmp_path / "wearable.png"
    main(["demo", "--model", "wearable", "--n-sequences", "2", "--n-timesteps", "48",
          "--output", str(out), "--no-progress"])
    assert "spo2_nadir (h)" in capsys.readouterr().out
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_demo_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--n-sequences", "0"])
    with pytest.raises(SystemExit):
        main([])  # a command is required
    assert "usage" in capsys.readouterr().err


def test_module_entry_point(tmp_path):
    out = tmp_path / "cli.png"
    res = subprocess.run(
        [sys.executable, "-m", "sklearn_r2t", "demo", "--n-sequences", "3", "--output",
         str(out)],
        capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[2],  # the package source, installed or not
    )
    assert res.returncode == 0, res.stderr
    assert "| OLS |" in res.stdout
    assert out.exists()


def test_compare_methods_rows_and_markdown():
    model = HeartRate()
    bunch = make_wearable_sequences(5, model=model, noise=None, random_state=0)
    methods = [("OLS", SymbolicLeastSquares(model, loss="linear"))]
    rows, params = compare_methods(
        methods, bunch, batch_size=2, progress=False, return_params=True
    )
    oracle, row = rows  # the generator's artefact mask adds the oracle's row first
    assert oracle["method"] == "Oracle" and oracle["median_nmse"] < 1e-12
    assert row["method"] == "OLS" and row["n_sequences"] == 5 and row["n_failed"] == 0
    assert row["median_nmse"] < 1e-12  # clean data: exact fit
    assert set(row["median_abs_error"]) == {"mesor", "amplitude", "acrophase"}
    assert row["ms_per_sequence"] > 0
    np.testing.assert_allclose(params["OLS"][:, :2], bunch.params[:, :2], atol=1e-6)
    table = format_table(rows)
    lines = table.splitlines()
    assert lines[0].startswith("| method | median NMSE | mesor (bpm)")
    assert len(lines) == 4 and lines[3].startswith("| OLS | ")


def test_compare_methods_reports_the_ratio_to_the_oracle():
    model = HeartRate()
    bunch = make_wearable_sequences(60, model=model, random_state=0)
    rows = compare_methods(
        [("OLS", SymbolicLeastSquares(model, loss="linear")),
         ("Bisquare", SymbolicLeastSquares(model, loss="bisquare", f_scale="auto"))],
        bunch, progress=False,
    )
    ratio = {r["method"]: r["ratio_to_oracle"] for r in rows}
    assert ratio["Oracle"] == 1.0
    assert ratio["OLS"] > 20 * ratio["Bisquare"] and 0.8 < ratio["Bisquare"] < 2.0
    assert "x oracle" in format_table(rows).splitlines()[0]


def test_compare_methods_reports_failed_sequences():
    model = HeartRate()
    bunch = make_wearable_sequences(4, model=model, noise=None, random_state=1)
    bunch.X = bunch.X.copy()
    bunch.X[0] = np.nan
    with pytest.warns(UserWarning, match="entirely NaN"):
        rows = compare_methods(
            [("OLS", SymbolicLeastSquares(model, loss="linear"))], bunch, progress=False
        )
    assert rows[0]["n_failed"] == 1
    assert "failed" in format_table(rows).splitlines()[0]


def test_demo_says_where_r2t_loses():
    from sklearn_r2t.cli._demo import r2t_verdict

    rows = [{"method": "Oracle", "median_nmse": 1.0}, {"method": "Bisquare", "median_nmse": 1.2},
            {"method": "R2T", "median_nmse": 2.4},
            {"method": "R2T (paper's head)", "median_nmse": 1.1}]
    assert r2t_verdict(rows).startswith("Where R2T loses: here the best classical fit, "
                                        "Bisquare, is 2.0x")
    rows[2]["median_nmse"] = 0.6
    assert r2t_verdict(rows) == "R2T is 2.0x more accurate than the best classical fit, Bisquare."
    assert r2t_verdict(rows[:2]) == ""


@pytest.mark.parametrize("model", [HeartRate(), SpO2()], ids=lambda m: type(m).__name__)
def test_no_listed_method_equals_another(model):
    # "R2T + refine" (its calibrated blend weight was 0) and "Huber (f_scale=1)"
    # (no normalised residual reaches its knee: ordinary least squares) were
    # listed beside the methods they equal.
    data = make_wearable_sequences(30, model=model, severity=2, random_state=0)
    out = {label: est.fit(data.X).transform(data.X)
           for label, est in standard_methods(model)}
    labels = list(out)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert np.nanmax(np.abs(out[a] - out[b])) > 1e-6, (a, b)
