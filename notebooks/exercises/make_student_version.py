"""Make the student version of the exercise notebooks, as nbgrader would.

For these notebooks this does what ``nbgrader generate_assignment`` does to each
cell, with nbgrader's own rules (its ``LockCells``, ``ClearSolutions`` and
``ClearOutput`` preprocessors, nbgrader 0.9):

- every line from one containing ``BEGIN SOLUTION`` to one containing
  ``END SOLUTION`` becomes the stub ``# YOUR CODE HERE`` / ``raise
  NotImplementedError()``, indented like the ``BEGIN SOLUTION`` line; a solution
  cell with no such region is replaced by the stub as a whole (``YOUR ANSWER
  HERE`` for a Markdown cell);
- every region from ``BEGIN HIDDEN TESTS`` to ``END HIDDEN TESTS`` (allowed only in
  grade cells) is removed, delimiters included (nbgrader's ``ClearHiddenTests``);
- outputs and execution counts are cleared (and the ``collapsed``/``scrolled``
  cell metadata that belongs to outputs);
- solution and grade cells become non-deletable, and grade cells and read-only
  cells non-editable.

It refuses what it does not reproduce (mark schemes, task cells):
use nbgrader for those.  It does not write nbgrader's checksums or gradebook;
to release and grade for real, use nbgrader itself (see README.md).  A test
compares its output with ``nbgrader generate_assignment`` whenever nbgrader is
installed.

Usage::

    python notebooks/exercises/make_student_version.py OUT_DIR [NOTEBOOK ...]

With no NOTEBOOK, every ``ex*.ipynb`` beside this script is converted.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

__all__ = [
    "CODE_STUB",
    "TEXT_STUB",
    "clear_solution_regions",
    "clear_hidden_tests",
    "student_version",
    "main",
]

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
UNSUPPORTED = ("BEGIN MARK SCHEME",)


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def clear_solution_regions(source: str, stub: str) -> tuple[str, bool]:
    """Replace each ``BEGIN SOLUTION`` ... ``END SOLUTION`` region of ``source`` with ``stub``.

    The stub takes the indentation of the ``BEGIN SOLUTION`` line.  Returns the new
    source and whether any region was found.  Raises ``ValueError`` for a nested or
    unterminated region (nbgrader raises there too).
    """
    new_lines, inside, found = [], False, False
    for line in source.split("\n"):
        if BEGIN in line:
            if inside:
                raise ValueError(f"nested {BEGIN!r} in a cell:\n{source}")
            inside = found = True
            indent = re.match(r"\s*", line).group(0)
            new_lines += [indent + stub_line for stub_line in stub.split("\n")]
        elif END in line:
            inside = False
        elif not inside:
            new_lines.append(line)
    if inside:
        raise ValueError(f"{BEGIN!r} without {END!r} in a cell:\n{source}")
    return "\n".join(new_lines), found


def clear_hidden_tests(source: str) -> tuple[str, bool]:
    """Remove each ``BEGIN HIDDEN TESTS`` ... ``END HIDDEN TESTS`` region, delimiters included.

    Returns the new source and whether any region was found; ``ValueError`` for a
    nested or unterminated region.
    """
    new_lines, inside, found = [], False, False
    for line in source.split("\n"):
        if HIDDEN_BEGIN in line:
            if inside:
                raise ValueError(f"nested {HIDDEN_BEGIN!r} in a cell:\n{source}")
            inside = found = True
        elif HIDDEN_END in line:
            inside = False
        elif not inside:
            new_lines.append(line)
    if inside:
        raise ValueError(f"{HIDDEN_BEGIN!r} without {HIDDEN_END!r} in a cell:\n{source}")
    return "\n".join(new_lines), found


def _student_cell(cell) -> None:
    """Turn one cell (a dict in nbformat 4 layout) into its student form, in place."""
    meta = _nbgrader(cell)
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    for marker in UNSUPPORTED:
        if marker in source:
            raise ValueError(f"a cell uses {marker!r}; generate this notebook with nbgrader")
    if meta.get("task"):
        raise ValueError(f"task cell {meta.get('grade_id')!r}; generate it with nbgrader")
    stub = CODE_STUB if cell["cell_type"] == "code" else TEXT_STUB
    source, found = clear_solution_regions(source, stub)
    if found and not meta.get("solution"):
        raise ValueError(
            f"a solution region outside a solution cell:\n{source}\nmark the cell as a "
            "solution cell (metadata nbgrader.solution = true)"
        )
    if meta.get("solution") and not found:
        source = stub
    source, hidden = clear_hidden_tests(source)
    if hidden and not meta.get("grade"):
        raise ValueError(f"hidden tests outside a grade cell:\n{source}")
    cell["source"] = source
    # LockCells: a grade or read-only cell that is not a solution is also read-only.
    read_only = not meta.get("solution") and (meta.get("grade") or meta.get("locked"))
    if meta.get("solution") or read_only:
        cell["metadata"]["deletable"] = False
    if read_only:
        cell["metadata"]["editable"] = False
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
        for field in ("collapsed", "scrolled"):
            cell["metadata"].pop(field, None)


def student_version(nb: dict) -> dict:
    """Return the student version of notebook ``nb`` (a dict, nbformat 4); ``nb`` is unchanged.

    The notebook's kernel language must be Python, since the stub is Python code.
    """
    language = nb.get("metadata", {}).get("kernelspec", {}).get("language", "python")
    if language != "python":
        raise ValueError(f"expected a Python notebook, got kernel language {language!r}")
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("celltoolbar", None)
    for cell in nb["cells"]:
        _student_cell(cell)
    return nb


def main(argv: list[str] | None = None) -> int:
    """Write the student version of each notebook into the output folder."""
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for the student notebooks")
    parser.add_argument("notebooks", type=Path, nargs="*", help="default: ex*.ipynb here")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(Path(__file__).parent.glob("ex*.ipynb"))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for path in paths:
        if path.resolve().parent == args.out_dir.resolve():
            parser.error(f"{args.out_dir} holds the solutions; choose another output folder")
        nb = student_version(nbformat.read(path, as_version=4))
        nbformat.write(nbformat.from_dict(nb), args.out_dir / path.name)
        print(f"{path} -> {args.out_dir / path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
