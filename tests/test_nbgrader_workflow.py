"""The teacher's workflow with the real nbgrader: release, autograde, feedback.

A throwaway course folder gets exercise 2 (ReLU 2 points, sigmoid 2 points). The
test releases it with ``nbgrader generate_assignment``, hands in one submission per
case (a correct one, a wrong one, one per cheat, the release unchanged), grades them
all with ``nbgrader autograde`` and reads the gradebook: full marks for the correct
work, the expected partial marks for the wrong one, and zero on the ReLU cell for
every cheat.  ``nbgrader generate_feedback`` must then write each student's report
with the checker's hint in it.  nbgrader comes with the ``teach`` extra
(``pip install -e ".[teach]"``); in CI a missing nbgrader is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

if not os.environ.get("CI"):
    pytest.importorskip("nbgrader", reason='pip install -e ".[teach]"')

pytestmark = [pytest.mark.slow, pytest.mark.notebooks]

EXERCISES = Path(__file__).resolve().parents[1] / "notebooks" / "exercises"
NAME = "ex02_relu_sigmoid"
ASSIGNMENT = "ex02"

RELU_WRONG = """
class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, dout, 0.0)  # the mask the wrong way round
"""
SIGMOID_NO_DOUT = """
class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return self.out * (1 - self.out)  # forgot dout
"""

# submission -> (changes to the released notebook by grade_id, relu points, sigmoid points)
SUBMISSIONS = {
    "correct": ({}, 2, 2),
    "wrong": ({"sigmoid": SIGMOID_NO_DOUT}, 2, 0),
    "unchanged": (None, 0, 0),
    "cheat_import": ({"relu": "from framework import Relu"}, 0, 2),
    "cheat_lambda": (
        {"relu": RELU_WRONG + '\ncheck_relu = lambda cls: print("All 6 checks passed")'},
        0,
        2,
    ),
    "cheat_patch_module": (
        {
            "relu": RELU_WRONG + "\nimport framework.exercises as fe\n\n"
            "fe.check_relu = fe.ch5.check_relu = lambda cls: None\n"
            "fe._core.expect_close = fe.ch5.expect_close = lambda *a, **k: None"
        },
        0,
        2,
    ),
    "cheat_numpy": ({"relu": RELU_WRONG + "\nnp.allclose = lambda *a, **k: True"}, 0, 0),
    "cheat_cached": (
        {
            "relu": "class Relu:\n    def forward(self, x):\n"
            "        x = np.random.default_rng(1).standard_normal((3, 4))\n"
            "        self.mask = x <= 0\n        return np.where(self.mask, 0.0, x)\n\n"
            "    def backward(self, dout):\n        return np.where(self.mask, 0.0, dout)"
        },
        0,
        2,
    ),
    "cheat_subclass": (
        {"relu": "from framework.layers import Relu as R\n\n\nclass Relu(R):\n    pass"},
        0,
        2,
    ),
    "cheat_delegate": (
        {
            "relu": "from framework.layers import Relu as R\n\n\nclass Relu:\n"
            "    def __init__(self):\n        self.r = R()\n\n    def forward(self, x):\n"
            "        y = self.r.forward(x)\n        self.mask = self.r.mask\n        return y\n\n"
            "    def backward(self, dout):\n        return self.r.backward(dout)"
        },
        0,
        2,
    ),
    "cheat_edit_check_cell": ({"relu": RELU_WRONG, "check_relu": "print('All passed')"}, 0, 2),
}


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _submission(release: dict, source: dict, changes: dict | None) -> dict:
    """The released notebook with the solution cells filled in as the student would."""
    nb = json.loads(json.dumps(release))
    if changes is None:
        return nb
    solutions = {
        c["metadata"]["nbgrader"]["grade_id"]: _source(c)
        for c in source["cells"]
        if c["metadata"].get("nbgrader", {}).get("solution")
    }
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in changes:
            cell["source"] = changes[grade_id]
        elif grade_id in solutions:
            cell["source"] = solutions[grade_id]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Release exercise 2, hand in every submission, autograde and generate feedback."""
    root = tmp_path_factory.mktemp("course")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'course'\n"
        "c.ExecutePreprocessor.timeout = 300\n"
    )
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    source_text = (EXERCISES / f"{NAME}.ipynb").read_text(encoding="utf-8")
    (root / "source" / ASSIGNMENT / f"{NAME}.ipynb").write_text(source_text, encoding="utf-8")
    _nbgrader(root, "generate_assignment", ASSIGNMENT, "--create")
    release = json.loads((root / "release" / ASSIGNMENT / f"{NAME}.ipynb").read_text())
    source = json.loads(source_text)
    for student, (changes, _, _) in SUBMISSIONS.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nb = _submission(release, source, changes)
        (folder / f"{NAME}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    _nbgrader(root, "autograde", ASSIGNMENT, "--create")
    _nbgrader(root, "generate_feedback", ASSIGNMENT)
    return root, release


def _scores(root: Path, student: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {
            cell: gradebook.find_grade(cell, NAME, ASSIGNMENT, student).score
            for cell in ("check_relu", "check_sigmoid")
        }


def test_the_release_has_stubs_and_no_hidden_tests(course):
    _, release = course
    text = "".join(_source(c) for c in release["cells"])
    assert "raise NotImplementedError()" in text
    assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert "dx[self.mask] = 0" not in text


@pytest.mark.parametrize("student", list(SUBMISSIONS))
def test_autograde_gives_the_expected_points(course, student):
    root, _ = course
    _, relu, sigmoid = SUBMISSIONS[student]
    assert _scores(root, student) == {"check_relu": relu, "check_sigmoid": sigmoid}


def test_feedback_carries_the_hints(course):
    root, _ = course
    feedback = root / "feedback"

    def report(student):
        return (feedback / student / ASSIGNMENT / f"{NAME}.html").read_text(encoding="utf-8")

    assert "returned the slope itself" in report("wrong")
    assert "not implemented yet" in report("unchanged")
    assert "comes from a library" in report("cheat_import")
    assert "tampering detected" in report("cheat_numpy")
    assert "let dout through where x &lt;= 0" in report("cheat_lambda")
    assert "called the library" in report("cheat_delegate")
