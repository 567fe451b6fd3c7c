"""The notebooks: every lesson and exercise solution runs top to bottom, and is committed clean.

Fast tests read the committed files: no outputs, no execution counts, kernel
``python3``, no ``sys.path`` hacks, and the lesson shape (title, prose before each
small code cell, seeds first, "Summary" and "Exercises", a last cell of asserts).
The slow ``notebooks`` tests execute each one with nbclient in a fresh kernel.
New notebooks in ``notebooks/`` and ``notebooks/exercises/`` are picked up by name.
Lesson numbers follow the course, 1, 2, 3, ... with no gaps, one lesson per chapter of
book 1 and per stage of book 3 (DeZero); each matches the lesson's title, and
``notebooks/README.md`` maps every chapter of book 1 to a lesson.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
LESSONS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXERCISES = sorted(NOTEBOOK_DIR.glob("exercises/*.ipynb"))
ALL_NOTEBOOKS = LESSONS + EXERCISES
MAX_CODE_LINES = 20  # "cells small (at most ~15 lines)", with a little slack
CELL_TIMEOUT_S = 600


def _ids(paths):
    return [p.relative_to(NOTEBOOK_DIR).as_posix() for p in paths]


def _read(path):
    import json

    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _source(cell) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _headings(nb):
    return [
        line.lstrip("#").strip()
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
        for line in _source(c).splitlines()
        if line.startswith("#")
    ]


def test_the_lessons_are_found():
    names = [p.name for p in LESSONS]
    for expected in [
        "04_layers_shopping.ipynb",
        "06_affine_softmax.ipynb",
        "07_backprop_vs_numerical.ipynb",
        "08_training_fashion_mnist.ipynb",
        "12_deeper_networks.ipynb",
        "17_gpu.ipynb",
    ]:
        assert expected in names


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_name_is_numbered(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), (
        f"{path.name}: name lessons NN_topic.ipynb, e.g. 04_layers_shopping.ipynb"
    )


def test_lesson_numbers_are_unique():
    numbers = [p.name[:2] for p in LESSONS]
    assert len(numbers) == len(set(numbers)), f"two lessons share a number: {numbers}"


def test_the_course_is_complete():
    numbers = sorted(int(p.name[:2]) for p in LESSONS)
    assert len(numbers) >= 15, f"the course has {len(numbers)} lessons, expected at least 15"
    assert numbers == list(range(1, len(numbers) + 1)), (
        f"lesson numbers {numbers} have a gap: number the lessons 01, 02, ... in course order"
    )


def test_readme_maps_every_chapter_of_book_1():
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if re.match(r"\| \d+ \| \[", line)]
    chapters = {int(c) for row in rows for c in re.findall(r"book 1, ch\. (\d)", row)}
    assert set(range(2, 9)) <= chapters, (
        f"notebooks/README.md maps book 1's chapters {sorted(chapters)} to lessons; "
        "chapters 2 to 8 each need a lesson row ('| N | [NN_topic.ipynb](...) | book 1, ch. N')"
    )
    assert any("book 3" in row for row in rows), "no lesson row follows book 3 (DeZero)"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_title_carries_its_number(path):
    title = _source(_read(path)["cells"][0]).lstrip().splitlines()[0]
    number = int(path.name[:2])
    assert title.startswith(f"# Lesson {number}: "), (
        f"{path.name} is titled {title!r}; start it with '# Lesson {number}: '"
    )


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_names_the_chapter_or_step_it_follows(path):
    first = _source(_read(path)["cells"][0])
    assert re.search(r"Follows book [13]\b.*\b(chapter|step|stage)s? \d", first), (
        f"{path.name}: say under the title which chapter or step it follows, "
        "e.g. '*Follows book 1, chapter 3, ...*'"
    )


def test_readme_links_only_lessons_that_exist():
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\(((?:exercises/)?[\w]+\.ipynb)\)", readme)
    assert linked, "notebooks/README.md links no notebook"
    missing = [name for name in linked if not (NOTEBOOK_DIR / name).is_file()]
    assert missing == [], f"notebooks/README.md links notebooks that do not exist: {missing}"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_readme_lists_the_lesson(path):
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    assert path.name in readme, f"add a line for {path.name} to notebooks/README.md"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_stored_without_outputs(path):
    nb = _read(path)
    for i, cell in enumerate(_code_cells(nb)):
        assert cell.get("outputs") == [], f"code cell {i} has outputs: strip them before commit"
        assert cell.get("execution_count") is None, f"code cell {i} has an execution count"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_kernel_is_python3(path):
    nb = _read(path)
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_imports_the_installed_package(path):
    for i, cell in enumerate(_read(path)["cells"]):
        assert "sys.path" not in _source(cell), (
            f"cell {i} edits sys.path: import the installed package instead "
            '(pip install -e ".[notebooks]")'
        )


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_starts_with_a_title(path):
    first = _read(path)["cells"][0]
    assert first["cell_type"] == "markdown"
    assert _source(first).lstrip().startswith("# "), "the first cell must be a '# Title'"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_shape(path):
    nb = _read(path)
    cells, code = nb["cells"], _code_cells(nb)
    first_markdown = _source(cells[0]).lower()
    assert "learning goals" in first_markdown, "state the learning goals under the title"
    headings = _headings(nb)
    assert "Summary" in headings, f"no '## Summary' heading; headings are {headings}"
    assert "Exercises" in headings, f"no '## Exercises' heading; headings are {headings}"
    assert "default_rng(" in _source(code[0]), "seed the rng in the first code cell"
    assert re.search(r"^assert ", _source(code[-1]), re.M), (
        "the last code cell must assert the numbers the lesson relies on"
    )


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_prose_before_each_small_code_cell(path):
    cells = _read(path)["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        assert cells[i - 1]["cell_type"] == "markdown", f"cell {i}: write prose before code"
        n_lines = len(_source(cell).strip().splitlines())
        assert n_lines <= MAX_CODE_LINES, f"cell {i} has {n_lines} lines; split it"


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_notebook_runs(path, tmp_path, monkeypatch):
    """Execute every cell in a fresh python3 kernel whose working folder is a temp dir."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # Headless, and figures still render inline (the kernel inherits the environment).
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # Lessons multiply small matrices; on a busy 2-core machine OpenBLAS's threads
    # fight over the cores and made lesson 9 (then lesson 6) take 359 s instead of 16 s.
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "error"
    ]
    assert errors == []


# -- show_dot: how the lessons draw hand-written graphs (framework.plot) --------------
SHOP_DOT = 'digraph { apple -> mul [label="100"]; mul [label="x"]; mul -> price }'


def _graphviz_or_skip():
    import shutil

    graphviz = pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("the graphviz `dot` program is not installed (apt-get install graphviz)")
    return graphviz


def test_show_dot_draws_with_graphviz(capsys):
    from framework.plot import show_dot

    graphviz = _graphviz_or_skip()
    source = show_dot(SHOP_DOT)
    assert isinstance(source, graphviz.Source)
    assert source.source.strip() == SHOP_DOT
    svg = source.pipe(format="svg").decode()
    assert "<svg" in svg and "apple" in svg and "price" in svg
    assert capsys.readouterr().out == ""


def test_show_dot_prints_text_and_hint_without_the_package(monkeypatch, capsys):
    import sys

    from framework.plot import show_dot

    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz -> ImportError
    assert show_dot(SHOP_DOT) is None
    out = capsys.readouterr().out
    assert out.startswith(SHOP_DOT)
    assert "pip install graphviz" in out and "apt-get install graphviz" in out


def test_show_dot_prints_text_and_hint_without_the_dot_program(monkeypatch, tmp_path, capsys):
    from framework.plot import show_dot

    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `dot` to run
    assert show_dot(SHOP_DOT) is None
    out = capsys.readouterr().out
    assert out.startswith(SHOP_DOT) and "ExecutableNotFound" in out and "apt-get" in out


def test_show_dot_rejects_bad_input():
    from framework.plot import show_dot

    with pytest.raises(TypeError, match="show_dot: expected DOT text as a str, got int"):
        show_dot(3)
    _graphviz_or_skip()
    with pytest.raises(ValueError, match="show_dot: dot could not read the graph: .*syntax"):
        show_dot("digraph { a -> }")
