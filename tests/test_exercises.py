"""The exercise checkers: they pass the solutions, catch cheats, and name the mistakes.

Most tests run the notebooks' own cells in this process, the way Jupyter would run
them: every cell but the check cells executes in one namespace whose ``__name__`` is
``"__main__"`` (so classes defined there belong to the "notebook"), with one solution
cell replaced by a cheat or a planted mistake; then the check cell of the source
notebook (the graded one, with its hidden tests) runs and must fail or pass.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from framework import exercises as ex

EXERCISES = Path(__file__).resolve().parents[1] / "notebooks" / "exercises"
NOTEBOOKS = {p.stem.split("_")[0]: p for p in sorted(EXERCISES.glob("ex*.ipynb"))}


def _cells(notebook: str):
    return json.loads(NOTEBOOKS[notebook].read_text(encoding="utf-8"))["cells"]


def _meta(cell) -> dict:
    return cell["metadata"].get("nbgrader", {})


def _source(cell) -> str:
    return "".join(cell["source"])


@pytest.fixture(autouse=True)
def _undo_the_notebook():
    """Cheats patch NumPy and the checker modules of this process: put everything back."""
    modules = (np, np.random, np.linalg)
    saved = [(m, dict(vars(m))) for m in modules]
    framework_modules = {n: m for n, m in sys.modules.items() if n.startswith("framework")}
    profile = sys.getprofile()
    yield
    for module, before in saved:
        for name, value in before.items():
            if vars(module).get(name) is not value:
                setattr(module, name, value)
    for name in [n for n in sys.modules if n.startswith("framework")]:
        del sys.modules[name]
    sys.modules.update(framework_modules)
    import framework

    framework.exercises = framework_modules["framework.exercises"]
    sys.setprofile(profile)


def run_notebook(notebook: str, replace: dict | None = None) -> dict:
    """Run every code cell but the check cells; ``replace`` maps a grade_id to new source."""
    replace = replace or {}
    ns = {"__name__": "__main__"}
    for cell in _cells(notebook):
        meta = _meta(cell)
        if cell["cell_type"] != "code" or meta.get("grade"):
            continue
        source = replace.get(meta.get("grade_id"), _source(cell))
        exec(compile(source, f"<{notebook} {meta.get('grade_id')}>", "exec"), ns)
    return ns


def check_cell(notebook: str, grade_id: str, hidden: bool = True) -> str:
    for cell in _cells(notebook):
        if _meta(cell).get("grade_id") == grade_id:
            source = _source(cell)
            return source if hidden else source.split("### BEGIN HIDDEN TESTS")[0]
    raise KeyError(grade_id)


def grade(notebook: str, grade_id: str, ns: dict, hidden: bool = True) -> None:
    """Run the graded check cell (as nbgrader restores it) in the notebook's namespace."""
    exec(compile(check_cell(notebook, grade_id, hidden), f"<{grade_id}>", "exec"), ns)


def hidden_tests(notebook: str, grade_id: str) -> str:
    source = check_cell(notebook, grade_id)
    return source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]


def _load_student_version_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("msv", EXERCISES / "make_student_version.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


msv = _load_student_version_tool()

ALL_CHECKS = [
    (name, _meta(c)["grade_id"])
    for name in NOTEBOOKS
    for c in _cells(name)
    if _meta(c).get("grade")
]


@pytest.mark.parametrize(("notebook", "grade_id"), ALL_CHECKS)
def test_every_check_passes_the_solution(notebook, grade_id, capsys):
    grade(notebook, grade_id, run_notebook(notebook))
    assert "checks passed" in capsys.readouterr().out


@contextlib.contextmanager
def check_fails(message: str):
    """Expect a CheckFailed matching ``message`` (a graded cell reloads the class, so by name)."""
    with pytest.raises(AssertionError, match=message) as info:
        yield
    assert type(info.value).__name__ == "CheckFailed", info.value


def notebook_class(cls):
    """Mark a class defined in this test file as written in a notebook."""
    cls.__module__ = "__main__"
    return cls


# -- integrity: every cheat fails the graded cell ----------------------------------------

CORRECT_RELU = _source(next(c for c in _cells("ex02") if _meta(c).get("grade_id") == "relu"))
WRONG_RELU = CORRECT_RELU.replace("dx[self.mask] = 0", "dx[~self.mask] = 0")

CHEATS = {
    "import from the library": "from framework import Relu, Sigmoid",
    "alias of the library's class": "import framework\n\nRelu = framework.layers.Relu",
    "subclass of the library's class": (
        "from framework.layers import Relu as R\n\n\nclass Relu(R):\n    pass"
    ),
    "delegate to the library": (
        "from framework.layers import Relu as R\n\n\nclass Relu:\n    def __init__(self):\n"
        "        self.r = R()\n\n    def forward(self, x):\n        out = self.r.forward(x)\n"
        "        self.mask = self.r.mask\n        return out\n\n    def backward(self, dout):\n"
        "        return self.r.backward(dout)"
    ),
    "borrow the library's code": textwrap.dedent("""
        import framework


        class Relu:
            __init__ = framework.layers.Relu.__init__
            forward = framework.layers.Relu.forward
            backward = framework.layers.Relu.backward
    """),
    "replace the checker with a lambda": (
        WRONG_RELU + '\n\ncheck_relu = lambda cls: print("All 6 checks passed for Relu.")'
    ),
    "patch framework.exercises": (
        WRONG_RELU + "\n\nimport framework.exercises as fe\n\n"
        "fe.check_relu = lambda cls: None\nfe.ch5.check_relu = lambda cls: None\n"
        "fe._core.expect_close = lambda *a, **k: None\nfe.ch5.expect_close = lambda *a, **k: None"
    ),
    "replace the module in sys.modules": (
        WRONG_RELU + "\n\nimport sys, types, framework\n\n"
        "fake = types.ModuleType('framework.exercises')\nfake.check_relu = lambda cls: None\n"
        "sys.modules['framework.exercises'] = fake\nframework.exercises = fake"
    ),
    "monkeypatch numpy": (
        WRONG_RELU + "\n\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, **k: True"
    ),
    "patch numpy while the check runs": WRONG_RELU.replace(
        "        dx = dout.copy()",
        "        np.array_equal = lambda *a, **k: True\n        dx = dout.copy()",
    ),
    "switch off the watch": textwrap.dedent("""
        import sys
        from framework.layers import Relu as R


        class Relu:
            def __init__(self):
                sys.setprofile(None)
                self.r = R()

            def forward(self, x):
                sys.setprofile(None)
                out = self.r.forward(x)
                self.mask = self.r.mask
                return out

            def backward(self, dout):
                sys.setprofile(None)
                return self.r.backward(dout)
    """),
    "return values cached from an earlier run": (
        "class Relu:\n    def forward(self, x):\n        g = np.random.default_rng(1)\n"
        "        x = g.standard_normal((3, 4))\n        self.mask = x <= 0\n"
        "        return np.where(self.mask, 0.0, x)\n\n    def backward(self, dout):\n"
        "        return np.where(self.mask, 0.0, dout)"
    ),
    "read the checker's expected arrays": (
        "import sys\n\n\ndef _peek(*names):\n    frame = sys._getframe(2)\n    while frame:\n"
        "        for name in names:\n            if name in frame.f_locals:\n"
        "                return frame.f_locals[name]\n        frame = frame.f_back\n\n\n"
        "class Relu:\n    def forward(self, x):\n        self.mask = _peek('mask', 'want')\n"
        "        return _peek('want', 'expected', 'out')\n\n    def backward(self, dout):\n"
        "        return _peek('want', 'expected', 'dx')"
    ),
    "return an array that equals everything": (
        "class Anything(np.ndarray):\n    def __eq__(self, other):\n        return True\n\n"
        "    def __sub__(self, other):\n        return np.zeros(np.shape(other))\n\n\n"
        "class Relu:\n    def forward(self, x):\n        self.mask = (x <= 0).view(Anything)\n"
        "        return np.zeros_like(x).view(Anything)\n\n    def backward(self, dout):\n"
        "        return np.zeros_like(dout).view(Anything)"
    ),
}


@pytest.mark.parametrize("cheat", list(CHEATS))
def test_every_cheat_fails_the_graded_cell(cheat, capsys):
    ns = run_notebook("ex02", {"relu": CHEATS[cheat]})
    with pytest.raises(Exception) as info:
        grade("ex02", "check_relu", ns)
    assert "checks passed" not in capsys.readouterr().out
    assert not isinstance(info.value, (KeyboardInterrupt, SystemExit))


@pytest.mark.parametrize(
    ("cheat", "message"),
    [
        ("import from the library", r"framework.layers.basic.Relu.*not from this notebook"),
        ("alias of the library's class", r"comes from a library"),
        ("subclass of the library's class", r"subclass of framework.layers.basic.Relu"),
        ("delegate to the library", r"called the library's framework.layers.basic.Relu"),
        ("borrow the library's code", r"takes its code from framework.layers.basic.Relu"),
        ("replace the checker with a lambda", r"Relu.backward let dout through where x <= 0"),
        ("patch framework.exercises", r"Relu.backward let dout through where x <= 0"),
        ("replace the module in sys.modules", r"Relu.backward let dout through where x <= 0"),
        ("monkeypatch numpy", r"tampering detected.*np.allclose is not NumPy's own"),
        ("patch numpy while the check runs", r"tampering.*while Relu.backward ran.*array_equal"),
        ("switch off the watch", r"tampering.*changed the profiler"),
        ("return values cached from an earlier run", r"Relu.forward.*values differ"),
        ("read the checker's expected arrays", r"Relu.forward returned out of shape \(\)"),
        ("return an array that equals everything", r"Relu.forward: out\[.*values differ"),
    ],
)
def test_the_checker_says_what_the_cheat_did(cheat, message):
    ns = run_notebook("ex02", {"relu": CHEATS[cheat]})
    with check_fails(message):
        grade("ex02", "check_relu", ns, hidden=False)


def test_the_librarys_answer_stays_forbidden_where_its_package_is_handed_out():
    """Exercise 16 hands out framework.autograd, but not its MLP."""
    cheat = _replace(
        "ex16",
        "spiral_model",
        ("self.l1 = L.Linear(hidden_size)\n        self.l2 = L.Linear(out_size)",
         "y = F.sigmoid(self.l1(x))\n        y = self.l2(y)\n        return y"),
        ("from framework.autograd.models import MLP\n\n"
         "        self.mlp = MLP((hidden_size, out_size))", "return self.mlp(x)"),
    )  # fmt: skip
    ns = run_notebook("ex16", cheat)
    with check_fails(r"called the library's framework.autograd.models.MLP"):
        grade("ex16", "check_spiral_model", ns, hidden=False)


def test_the_checkers_own_helpers_are_forbidden():
    source = CORRECT_RELU.replace(
        "        dx = dout.copy()",
        "        from framework.exercises import ch6\n\n"
        "        ch6._optimizer_hint('SGD', 1)\n        dx = dout.copy()",
    )
    ns = run_notebook("ex02", {"relu": source})
    with check_fails(r"called the library's framework.exercises.ch6._optimizer_hint"):
        grade("ex02", "check_relu", ns, hidden=False)


def test_a_copy_of_the_package_on_sys_path_is_refused(tmp_path, monkeypatch):
    """A student copies the package, makes a checker always pass, and imports the copy."""
    import framework

    copy = tmp_path / "framework"
    shutil.copytree(Path(framework.__file__).parent, copy)
    ch5 = copy / "exercises" / "ch5.py"
    ch5.write_text(
        ch5.read_text().replace(
            "def check_relu(Relu) -> None:",
            "def check_relu(Relu):\n    return\n\n\ndef _unused(Relu):",
        )
    )
    saved = {
        n: m for n, m in sys.modules.items() if n == "framework" or n.startswith("framework.")
    }
    ns = run_notebook("ex02", {"relu": WRONG_RELU})
    try:
        for name in saved:
            del sys.modules[name]
        monkeypatch.syspath_prepend(str(tmp_path))
        with check_fails(r"tampering.*not from the installed package"):
            grade("ex02", "check_relu", ns, hidden=False)
    finally:
        for name in [n for n in sys.modules if n == "framework" or n.startswith("framework.")]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.mark.parametrize(
    "cheat", ["import from the library", "return values cached from an earlier run"]
)
def test_the_hidden_tests_catch_cheats_without_the_checker(cheat):
    """Even if the visible checker were fooled, the hidden tests fail the cell."""
    ns = run_notebook("ex02", {"relu": CHEATS[cheat]})
    with pytest.raises(AssertionError):
        exec(hidden_tests("ex02", "check_relu"), ns)


@pytest.mark.parametrize(("notebook", "grade_id"), ALL_CHECKS)
def test_the_hidden_tests_pass_the_solution_and_fail_a_stub(notebook, grade_id):
    exec(hidden_tests(notebook, grade_id), run_notebook(notebook))
    nbformat = pytest.importorskip("nbformat")
    stub = {
        _meta(c)["grade_id"]: c["source"]
        for c in msv.student_version(nbformat.read(NOTEBOOKS[notebook], as_version=4))["cells"]
        if _meta(c).get("solution")
    }
    with pytest.raises(NotImplementedError):
        exec(hidden_tests(notebook, grade_id), run_notebook(notebook, stub))


def test_the_error_shows_as_one_line_in_ipython():
    err = ex.CheckFailed("Relu.forward: out[0, 1] is 2 but should be 0")
    assert err._render_traceback_() == [
        "CheckFailed: Relu.forward: out[0, 1] is 2 but should be 0"
    ]
    assert issubclass(ex.CheckFailed, AssertionError)


# -- hints: each planted mistake gets the hint that names it --------------------------------


def _replace(notebook, grade_id, old, new):
    """The solution cell ``grade_id`` with ``old`` replaced by ``new`` (or pairs of them)."""
    source = _source(next(c for c in _cells(notebook) if _meta(c).get("grade_id") == grade_id))
    pairs = zip(old, new, strict=True) if isinstance(old, tuple) else [(old, new)]
    for a, b in pairs:
        assert a in source, a
        source = source.replace(a, b)
    return {grade_id: source}


MISTAKES = [
    # (notebook, solution cell, check cell, old, new, expected message)
    ("ex02", "relu", "check_relu", "self.mask = x <= 0", "self.mask = x > 0",
     r"inverted mask; mask must be True where x <= 0"),
    ("ex02", "relu", "check_relu", "out = x.copy()", "out = x",
     r"Relu.forward changed the array x.*out = x makes out the same array as x"),
    ("ex02", "relu", "check_relu", "dx = dout.copy()", "dx = dout",
     r"changed the array dout.*book's dout\[self.mask\] = 0.*two branches"),
    ("ex02", "relu", "check_relu", "dx[self.mask] = 0", "dx[~self.mask] = 0",
     r"let dout through where x <= 0 and blocked it where x > 0"),
    ("ex02", "sigmoid", "check_sigmoid", "return dout * (1.0 - self.out) * self.out",
     "return (1.0 - self.out) * self.out", r"slope itself: multiply by dout"),
    ("ex02", "sigmoid", "check_sigmoid", "np.exp(-x)", "np.exp(x)", r"the exponent is -x"),
    ("ex02", "sigmoid", "check_sigmoid", "1 / (1 + np.exp(-x))", "sigmoid(x)",
     r"raised NameError: name 'sigmoid' is not defined; define it"),
    ("ex01", "mul_layer", "check_mul_layer", "dx = dout * self.y", "dx = dout * self.x",
     r"MulLayer.backward.*dx\b"),
    ("ex01", "add_layer", "check_add_layer", "dx = dout * 1", "dx = 1",
     r"returned 1: multiply by dout"),
    ("ex03", "affine", "check_affine", "self.db = np.sum(dout, axis=0)", "self.db = dout",
     r"db must have one entry per output.*sum dout over the samples"),
    ("ex03", "affine", "check_affine", "self.db = np.sum(dout, axis=0)",
     "self.db = np.mean(dout, axis=0)", r"sum, don't average"),
    ("ex03", "affine", "check_affine", "self.dW = np.dot(self.x.T, dout)",
     "self.dW = np.dot(dout.T, self.x)", r"dW must have W's shape \(6, 4\)"),
    ("ex03", "affine", "check_affine", "return dx.reshape(*self.original_x_shape)",
     "return dx", r"return it in the shape x came in, \(3, 1, 2, 3\)"),
    ("ex03", "affine", "check_affine", "return np.dot(self.x, self.W) + self.b",
     "return np.dot(self.x, self.W)", r"missing the bias b"),
    ("ex03", "affine", "check_affine", "x = x.reshape(x.shape[0], -1)", "x = x",
     r"shape \(3, 1, 2, 3\) raised ValueError.*flattened to \(N, D\)"),
    ("ex04", "softmax_with_loss", "check_softmax_with_loss",
     "np.max(x, axis=1, keepdims=True)\n    return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)",  # noqa: E501
     "np.max(x)\n    return np.exp(x) / np.sum(np.exp(x))",
     r"you normalised over the whole batch; each row is one sample"),
    ("ex04", "softmax_with_loss", "check_softmax_with_loss",
     "np.sum(np.exp(x), axis=1, keepdims=True)", "np.sum(np.exp(x), axis=0, keepdims=True)",
     r"normalised over axis 0.*each row is one sample"),
    ("ex04", "softmax_with_loss", "check_softmax_with_loss",
     "np.max(x, axis=1, keepdims=True)", "np.max(x, axis=1)",
     r"raised ValueError.*keepdims=True"),
    ("ex04", "softmax_with_loss", "check_softmax_with_loss",
     "return dout * (self.y - self.t) / batch_size", "return dout * (self.y - self.t)",
     r"divide by the batch size N"),
    ("ex04", "softmax_with_loss", "check_softmax_with_loss",
     "return dout * (self.y - self.t) / batch_size",
     "return (self.y - self.t) / batch_size / dout", r"backward\(\d\.\d+\): dx\[0, 0\]"),
    ("ex04", "softmax_with_loss", "check_softmax_with_loss",
     "/ x.shape[0]", "", r"the sum of the losses; the loss is the mean"),
    ("ex04", "softmax_with_loss", "check_softmax_with_loss",
     "    x = x - np.max(x, axis=1, keepdims=True)\n", "",
     r"overflowed.*subtract each row's maximum"),
    ("ex07", "xor", "check_xor", "y = AND(s1, s2)", "y = OR(x1, x2)",
     r"XOR\(1, 1\) returned 1, like OR"),
    ("ex07", "gates", "check_gates", "return 1 if", "return True if",
     r"returned True; a perceptron outputs the number 0 or 1"),
    ("ex07", "gates", "check_gates", "-0.7", "-0.2", r"AND\(1, 0\) returned 1.*bias"),
    ("ex08", "forward", "check_forward_3layer", "y = identity_function(a3)", "y = sigmoid(a3)",
     r"output layer applies sigmoid too"),
    ("ex09", "numerical_diff", "check_numerical_diff", "(f(x + h) - f(x - h)) / (2 * h)",
     "(f(x + h) - f(x)) / h", r"forward difference; use the central difference"),
    ("ex09", "numerical_diff", "check_numerical_diff", "h = 1e-4", "h = 1e-50",
     r"returned 0: h is so small that x \+ h rounds to x"),
    ("ex09", "numerical_gradient", "check_numerical_gradient",
     "        x[idx] = keep  # put it back\n", "",
     r"changed the array x.*put each element back"),
    ("ex09", "gradient_descent", "check_gradient_descent", "x = init_x.copy()", "x = init_x",
     r"changed the array init_x.*x = init_x makes x the same array"),
    ("ex10", "train", "check_training_loop", "network.gradient(x[rows], t[rows])",
     "network.gradient(x, t)",
     r"batches of \[300\] samples: draw a mini-batch"),
    ("ex10", "train", "check_training_loop", "network.params[key] -= lr * grad",
     "network.params[key] = network.params[key] - 0 * grad", r"the loss went from"),
    ("ex11", "sgd", "check_sgd", "params[key] -= self.lr * grads[key]",
     "params[key] = params[key] - self.lr * grads[key]", r"update it in place"),
    ("ex11", "adam", "check_adam", "lr_t = self.lr * np.sqrt", "lr_t = self.lr + 0 * np.sqrt",
     r"Adam.update, step 1.*bias correction"),
    ("ex11", "momentum", "check_momentum", "self.momentum * self.v[key]", "self.v[key]",
     r"Momentum.update, step 2.*v = momentum \* v"),
    ("ex12", "init_std", "check_init_std", "np.sqrt(2.0 / n)", "2.0 / n",
     r"returned the variance"),
    ("ex12", "init_std", "check_init_std", "np.sqrt(1.0 / n)", "np.sqrt(3.0 / n)",
     r"Xavier 1 / n"),
    ("ex12", "dropout", "check_dropout", "> self.dropout_ratio", "< self.dropout_ratio",
     r"the mask is inverted"),
    ("ex12", "dropout", "check_dropout", "return x * (1.0 - self.dropout_ratio)", "return x",
     r"returned x unchanged; at test time scale it"),
    ("ex13", "batchnorm", "check_batchnorm_backward", "self.dbeta = dout.sum(axis=0)",
     "self.dbeta = dout",
     r"self.dbeta has shape \(5, 3\).*one entry per feature"),
    ("ex13", "batchnorm", "check_batchnorm_backward", "return dxc - dxc.mean(axis=0)",
     "return dxn / self.std", r"treats the mean and the variance as constants"),
    ("ex14", "pooling", "check_pooling", "out = windows.max(axis=1)",
     "out = windows.mean(axis=1)",
     r"took the mean of each window"),
    ("ex15", "variable_function", "check_variable_function",
     "x.grad = gx if x.grad is None else x.grad + gx", "x.grad = gx",
     r"the second gradient overwrote the first"),
    ("ex15", "variable_function", "check_variable_function",
     "                todo.sort(key=lambda g: g.generation)  # the latest generation last\n", "",
     r"in order of generation, the latest first"),
    ("ex16", "spiral_model", "check_spiral_model",
     ("self.l1 = L.Linear(hidden_size)\n        self.l2 = L.Linear(out_size)",
      "y = F.sigmoid(self.l1(x))\n        y = self.l2(y)"),
     ("self.layers = [L.Linear(hidden_size), L.Linear(out_size)]",
      "y = F.sigmoid(self.layers[0](x))\n        y = self.layers[1](y)"),
     r"model.params\(\) gave 0 parameters"),
    ("ex17", "newton", "check_newton", "gx = x.grad\n        x.cleargrad()", "gx = x.grad",
     r"came out as f' \+ f''.*clear x's gradient"),
    ("ex18", "random_flip", "check_random_flip", "[..., ::-1]", "[..., ::-1, :]",
     r"upside down"),
    ("ex18", "random_flip", "check_random_flip", "< 0.5", "< 2", r"flipped 100% of the images"),
    ("ex18", "random_crop", "check_random_crop", "out = np.empty_like(x)",
     "out = np.empty_like(padded)\n    return padded", r"returned the padded images"),
    ("ex19", "simple_rnn", "check_simple_rnn", "h_new = F.tanh(self.x2h(x) + self.h2h(self.h))",
     "h_new = F.tanh(self.x2h(x))", r"ignored the hidden state"),
    ("ex19", "simple_rnn", "check_simple_rnn", "L.Linear(hidden_size, nobias=True)",
     "L.Linear(hidden_size)", r"h2h has a bias"),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize(
    ("notebook", "cell", "check", "old", "new", "message"),
    MISTAKES,
    ids=[f"{m[1]}:{str(m[4])[:30]}" for m in MISTAKES],
)
def test_a_planted_mistake_gets_its_hint(notebook, cell, check, old, new, message):
    ns = run_notebook(notebook, _replace(notebook, cell, old, new))
    with check_fails(message):
        grade(notebook, check, ns, hidden=False)


def test_the_books_backward_without_dout_passes_with_a_note(capsys):
    ns = run_notebook(
        "ex04",
        _replace(
            "ex04",
            "softmax_with_loss",
            "return dout * (self.y - self.t) / batch_size",
            "return (self.y - self.t) / batch_size",
        ),
    )
    grade("ex04", "check_softmax_with_loss", ns)
    out = capsys.readouterr().out
    assert "ignores dout, as the book's does" in out and "checks passed" in out


def test_numpy_not_imported_is_named():
    ns = run_notebook("ex02")
    del ns["np"]
    with check_fails(r"uses np, but np is not defined: NumPy is not imported"):
        grade("ex02", "check_sigmoid", ns, hidden=False)


def test_a_stub_is_reported_as_unfinished_with_its_message():
    @notebook_class
    class Relu:
        def forward(self, x):
            raise NotImplementedError("Need to implement for Task 2.1")

    with pytest.raises(ex.CheckFailed, match=r"Relu.forward is not implemented yet.*Task 2.1"):
        ex.check_relu(Relu)


def test_a_crash_is_reported_not_raised_raw():
    @notebook_class
    class MulLayer:
        def forward(self, x, y):
            return x @ y

    with pytest.raises(ex.CheckFailed, match="MulLayer.forward raised"):
        ex.check_mul_layer(MulLayer)


def test_the_books_softmax_with_loss_passes(capsys):
    """The book's layer (log(y + 1e-7), cross_entropy_error by index) as a student types it."""

    @notebook_class
    class SoftmaxWithLoss:
        def forward(self, x, t):
            self.t = t
            x = x - x.max(axis=1, keepdims=True)
            self.y = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
            labels = t.argmax(axis=1)
            rows = np.arange(x.shape[0])
            return -np.sum(np.log(self.y[rows, labels] + 1e-7)) / x.shape[0]

        def backward(self, dout=1):
            return (self.y - self.t) * dout / self.t.shape[0]

    ex.check_softmax_with_loss(SoftmaxWithLoss)
    assert "checks passed" in capsys.readouterr().out


def test_convolution_dw_left_as_a_matrix_names_both_shapes():
    ns = run_notebook(
        "ex06",
        _replace(
            "ex06",
            "convolution",
            "self.dW = (self.col.T @ rows).T.reshape(FN, C, FH, FW)",
            "self.dW = (self.col.T @ rows).T",
        ),
    )
    with check_fails(r"self.dW of shape \(4, 27\).*W \(4, 3, 3, 3\)"):
        grade("ex06", "check_convolution_backward", ns, hidden=False)


def test_inputs_are_new_on_every_run(monkeypatch):
    seen = []

    def spy():
        gen = ex._core.rng()
        seen.append(gen.bit_generator.state["state"]["state"])
        return gen

    monkeypatch.setattr(ex.ch5, "rng", spy)
    ns = run_notebook("ex02")
    for _ in range(2):
        ex.check_sigmoid(ns["Sigmoid"])
    assert len(set(seen)) == 2
