"""The classroom exercises: nbgrader metadata, the student-version tool, the student run.

The student version, made by ``make_student_version.py``, must run, and each check
cell must fail with a ``CheckFailed`` that says the work is "not implemented yet",
never with another exception.  The solution version (the notebooks as committed)
is executed by ``tests/test_notebooks.py::test_notebook_runs`` with the lessons, and
its stored form (no outputs, kernel ``python3``, no ``sys.path``) is checked there
too; this file does not run them twice.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import pytest

from framework import exercises

EXERCISES = Path(__file__).resolve().parents[1] / "notebooks" / "exercises"
NOTEBOOKS = sorted(EXERCISES.glob("ex*.ipynb"))
IDS = [path.stem for path in NOTEBOOKS]


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        "make_student_version", EXERCISES / "make_student_version.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


msv = _load_tool()


def _read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell) -> str:
    return "".join(cell["source"])


def _nbgrader(cell) -> dict:
    return cell["metadata"].get("nbgrader", {})


def _check_cells(nb):
    return [c for c in nb["cells"] if _nbgrader(c).get("grade")]


# -- how the notebooks are stored ----------------------------------------------------


def test_there_are_at_least_sixteen_graded_exercises():
    assert len(NOTEBOOKS) >= 16
    points = [sum(_nbgrader(c)["points"] for c in _check_cells(_read(p))) for p in NOTEBOOKS]
    assert all(p > 0 for p in points), dict(zip(IDS, points, strict=True))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_path_of_the_authors_machine(path):
    for cell in _read(path)["cells"]:
        assert not re.search(r"/home/|/Users/|/work/|/tmp/|[A-Z]:\\\\", _source(cell))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_nbgrader_metadata_is_valid(path):
    nb = _read(path)
    marked = [c for c in nb["cells"] if "nbgrader" in c["metadata"]]
    ids = [_nbgrader(c)["grade_id"] for c in marked]
    assert len(ids) == len(set(ids)), f"grade_id used twice: {ids}"
    for cell in marked:
        meta = _nbgrader(cell)
        assert meta["schema_version"] == 3 and re.fullmatch(r"[\w-]+", meta["grade_id"])
        assert {"grade", "solution", "locked", "task"} <= meta.keys(), meta
    solutions = [c for c in marked if _nbgrader(c)["solution"]]
    assert solutions, "no solution cell"
    for cell in solutions:
        text = _source(cell)
        assert cell["cell_type"] == "code" and not _nbgrader(cell)["locked"]
        assert text.count("### BEGIN SOLUTION") == text.count("### END SOLUTION") > 0
        # solution regions sit inside a def, so the student version defines the names
        assert all(line.startswith(" ") for line in text.splitlines() if "SOLUTION" in line)
    for cell in nb["cells"]:
        if not _nbgrader(cell).get("solution"):
            assert "SOLUTION" not in _source(cell), "solution region outside a solution cell"
    checks = _check_cells(nb)
    assert checks, "no graded check cell"
    for cell in checks:
        meta = _nbgrader(cell)
        assert cell["cell_type"] == "code" and not meta["solution"] and meta["locked"]
        assert meta["points"] > 0
        text = _source(cell)
        called = set(re.findall(r"\b(check_\w+)\(", text))
        assert called and called <= set(exercises.__all__), called
        # the checker is loaded afresh from disk, and hidden tests recheck the numbers
        assert "importlib.reload(framework.exercises).check_" in text, text
        assert text.count("### BEGIN HIDDEN TESTS") == text.count("### END HIDDEN TESTS") == 1


def test_the_readme_lists_every_exercise_with_its_points():
    readme = (EXERCISES / "README.md").read_text(encoding="utf-8")
    total = 0
    for path in NOTEBOOKS:
        row = next((line for line in readme.splitlines() if f"`{path.stem}`" in line), None)
        assert row, f"notebooks/exercises/README.md has no row for {path.stem}"
        for cell in _check_cells(_read(path)):
            for name in re.findall(r"\b(check_\w+)\(", _source(cell)):
                assert f"`{name}`" in row, (path.stem, name)
            total += _nbgrader(cell)["points"]
    assert f"{total} points in all" in readme


def test_every_checker_is_used_by_an_exercise():
    text = "".join(_source(c) for p in NOTEBOOKS for c in _check_cells(_read(p)))
    unused = [name for name in exercises.__all__ if name.startswith("check_") and name not in text]
    assert unused == []


# -- the student-version tool ------------------------------------------------------


def _cell(source, cell_type="code", **nbgrader):
    meta = {"nbgrader": {"grade_id": "x", "schema_version": 3, **nbgrader}} if nbgrader else {}
    cell = {"cell_type": cell_type, "metadata": meta, "source": source}
    if cell_type == "code":
        cell |= {"outputs": [{"output_type": "stream", "text": "hi"}], "execution_count": 3}
    return cell


def _nb(*cells):
    return {"cells": list(cells), "metadata": {"kernelspec": {"language": "python"}}}


def test_solution_region_becomes_the_indented_stub():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    new, found = msv.clear_solution_regions(source, msv.CODE_STUB)
    assert found
    assert new == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"


def test_student_version_clears_outputs_and_locks_checks_without_changing_its_input():
    nb = _nb(
        _cell("def f():\n    ### BEGIN SOLUTION\n    1\n    ### END SOLUTION", solution=True),
        _cell("check(f)", grade=True, solution=False, locked=True, points=1),
        _cell("answer", "markdown", solution=True, grade=False, locked=False),
        _cell("print(1)", scrolled=True),
    )
    before = copy.deepcopy(nb)
    student = msv.student_version(nb)
    assert nb == before
    solution, check, text, plain = student["cells"]
    assert "raise NotImplementedError()" in solution["source"]
    assert solution["metadata"]["deletable"] is False and "editable" not in solution["metadata"]
    assert check["metadata"]["editable"] is False and check["source"] == "check(f)"
    assert text["source"] == "YOUR ANSWER HERE"
    assert plain["outputs"] == [] and plain["execution_count"] is None
    assert plain["source"] == "print(1)" and "deletable" not in plain["metadata"]


@pytest.mark.parametrize(
    ("cell", "match"),
    [
        (_cell("### BEGIN SOLUTION\n" * 2 + "### END SOLUTION", solution=True), "nested"),
        (_cell("### BEGIN SOLUTION\nx = 1", solution=True), "without"),
        (_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "outside a solution cell"),
        (_cell("### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"), "outside a grade cell"),
        (_cell("### BEGIN HIDDEN TESTS\nx = 1", grade=True), "without"),
        (_cell("### BEGIN MARK SCHEME\n### END MARK SCHEME", grade=True), "nbgrader"),
    ],
)
def test_student_version_refuses_what_it_cannot_strip(cell, match):
    with pytest.raises(ValueError, match=match):
        msv.student_version(_nb(cell))


def test_hidden_tests_are_removed_with_their_delimiters():
    source = "check(f)\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS"
    student = msv.student_version(_nb(_cell(source, grade=True, solution=False, locked=True)))
    assert student["cells"][0]["source"] == "check(f)"


def test_tool_refuses_to_overwrite_the_solutions():
    with pytest.raises(SystemExit):
        msv.main([str(EXERCISES), str(NOTEBOOKS[0])])


def test_student_version_matches_nbgrader(tmp_path):
    """Our stripper and nbgrader's own preprocessors give the same notebooks."""
    nbformat = pytest.importorskip("nbformat")
    preprocessors = pytest.importorskip("nbgrader.preprocessors")
    steps = [preprocessors.LockCells(), preprocessors.ClearSolutions()]
    steps += [preprocessors.ClearOutput(), preprocessors.ClearHiddenTests()]
    for path in NOTEBOOKS:
        theirs = nbformat.read(path, as_version=4)
        resources = {}
        for step in steps:
            theirs, resources = step.preprocess(theirs, resources)
        ours = msv.student_version(nbformat.read(path, as_version=4))
        assert ours == json.loads(json.dumps(theirs)), path.name


# -- executing both versions -------------------------------------------------------


def _execute(path, cwd):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


def _errors(cell):
    return [o for o in cell.get("outputs", []) if o["output_type"] == "error"]


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_version_reports_unfinished_work(path, tmp_path):
    msv.main([str(tmp_path), str(path)])
    nb = _execute(tmp_path / path.name, tmp_path)
    for cell in nb["cells"]:
        errors = _errors(cell) if cell["cell_type"] == "code" else []
        if not _nbgrader(cell).get("grade"):
            assert errors == [], f"a non-check cell failed: {_source(cell)!r} -> {errors}"
            continue
        assert len(errors) == 1, f"check cell did not fail: {_source(cell)!r}"
        assert errors[0]["ename"] == "CheckFailed", errors[0]
        assert "is not implemented yet" in errors[0]["evalue"], errors[0]["evalue"]
        # the learner sees the message alone: no traceback, no checker source
        assert errors[0]["traceback"] == [f"CheckFailed: {errors[0]['evalue']}"]
