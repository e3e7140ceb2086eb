"""Fitting the reader: anyone can refit it from the data in the repo and get the shipped parameters."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from conftest import ROOT

from rag.fit_reader import FIT_ARTICLES, fit_logistic, variants
from rag.reader import MODEL_PATH


def test_variants_are_the_question_as_people_type_it():
    got = variants("Who did Lê Hoài Trung meet in Washington?", 5)
    assert got[0] == "who did lê hoài trung meet in washington"
    assert got[1] == "lê hoài trung meet washington"
    typo = got[2]
    assert typo != "Who did Lê Hoài Trung meet in Washington?" and len(typo) == len("Who did Lê Hoài Trung meet in Washington?")
    assert sorted(typo) == sorted("Who did Lê Hoài Trung meet in Washington?")  # two letters swapped


def test_fit_logistic_learns_which_way_a_feature_points():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - 0.2 * x[:, 1] + rng.normal(scale=0.5, size=400) > 0).astype(float)
    part = fit_logistic(x, y, ("good", "bad"))
    assert part["coef"][0] > 1.0 > 0 > part["coef"][1]
    assert part["features"] == ["good", "bad"]


def test_the_fit_reads_only_the_fit_articles():
    assert set(FIT_ARTICLES) == {"imperialism.txt", "warsaw.txt"}
    readme = (ROOT / "eval" / "squad2" / "README.md").read_text(encoding="utf-8")
    assert "force.txt" in readme and "french-and-indian-war.txt" in readme


def test_a_refit_reproduces_the_shipped_model(tmp_path):
    out = tmp_path / "model.json"
    subprocess.run([sys.executable, "-m", "rag.fit_reader", "--out", str(out)], check=True, cwd=ROOT,
                   capture_output=True, timeout=600)
    refit = json.loads(out.read_text(encoding="utf-8"))
    shipped = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert refit["select"] == shipped["select"]
    for part in ("sentence", "answer"):
        assert refit[part]["features"] == shipped[part]["features"]
        for key in ("coef", "mean", "scale"):
            assert np.allclose(refit[part][key], shipped[part][key], atol=1e-3), (part, key)
        assert abs(refit[part]["intercept"] - shipped[part]["intercept"]) < 1e-3
