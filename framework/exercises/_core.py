"""What every checker shares: the verdict, the comparisons, and the integrity rules.

A check passes only for the learner's own work, so before it runs any code it
asks three questions, and after each call of the learner's code it asks a fourth:

1. *Is the environment intact?*  NumPy's functions, the builtins the checker uses
   and the profiler hook are the real ones (``np.allclose = lambda *a, **k: True``
   in a notebook is found here).
2. *Was the class or function written in the notebook?*  Its ``__module__`` is the
   notebook's (``"__main__"``), it is not an alias or a subclass of a library class,
   and its code was not compiled from a file of an installed package.
3. *Are the inputs fresh?*  Every check draws its inputs from the operating
   system's entropy, so a layer that returns values remembered from an earlier run
   cannot match, and the right answer is computed only *after* the learner's code
   has returned, so there is nothing in memory to read.
4. *Did the learner's code call the library?*  While it runs, a profile hook
   (``sys.setprofile``) watches every Python call; a call into ``framework`` (the
   library's ``Relu``, the checker's own helpers) fails the check, except for the
   helpers an exercise hands out (``im2col`` in the convolution exercise).

Limits: all of this runs in the learner's own Python process.  Code that replaces
the import system, reads and rewrites this module while a check runs, or runs the
library in another thread can still fool it; the hidden tests of each exercise
(``### BEGIN HIDDEN TESTS``) and a teacher's glance are the next line.
"""

from __future__ import annotations

import builtins
import os
import sys
import sysconfig
import types

import numpy as np

__all__ = ["CheckFailed", "Checker"]

FRAMEWORK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))
_PACKAGE_DIRS = tuple(
    {
        FRAMEWORK_DIR + os.sep,
        *(
            os.path.abspath(sysconfig.get_paths()[key]) + os.sep
            for key in ("purelib", "platlib", "stdlib")
        ),
    }
)
_NOTEBOOK = "__main__"


class CheckFailed(AssertionError):  # noqa: N818 (reads as a verdict in a notebook)
    """The learner's code did not pass a check; the message says what to fix.

    In IPython and Jupyter the error shows as one line, ``CheckFailed: <message>``,
    without the checker's source or its traceback (``_render_traceback_`` is the
    hook IPython calls for that).  nbgrader counts a cell that raises it as failed.
    """

    def _render_traceback_(self):
        return [f"CheckFailed: {self}"]


def tampering(detail: str) -> CheckFailed:
    """Build the verdict for a check that was interfered with."""
    return CheckFailed(
        f"tampering detected, so this check cannot pass: {detail}. Remove the code that "
        "does this, restart the kernel and run all cells again"
    )


# -- 1. the environment ----------------------------------------------------------------

_BUILTIN_FUNCTIONS = (
    "abs", "all", "any", "callable", "getattr", "hasattr", "isinstance", "issubclass",
    "len", "max", "min", "print", "repr", "round", "sorted", "sum",
)  # fmt: skip
_BUILTIN_TYPES = {
    "float": 0.0, "int": 0, "bool": True, "str": "", "tuple": (), "list": [], "zip": zip(),
    "range": range(0), "type": int, "dict": {},
}  # fmt: skip
_NUMPY_TYPES = ("builtins", "numpy", "numpy._pytesttester")


def _numpy_own(value) -> bool:
    """Whether ``value``, found on a NumPy module, is NumPy's own function."""
    where = getattr(value, "__module__", None)
    kind = type(value).__module__
    if not (isinstance(where, str) and where.startswith("numpy")):
        return False
    if kind.startswith("_cython"):  # compiled Cython functions (np.random.default_rng)
        return True
    if kind not in _NUMPY_TYPES:
        return False
    if isinstance(value, types.MethodType):  # np.random.beta: a method of the global state
        return type(value.__self__).__module__.startswith("numpy")
    code = getattr(value, "__code__", None)
    if code is None:
        return True
    path = os.path.abspath(code.co_filename)
    return path.startswith(NUMPY_DIR) or (  # np.printoptions is a contextlib wrapper
        os.path.basename(path) == "contextlib.py" and value.__name__ == "printoptions"
    )


def _numpy_replaced(module, prefix: str) -> str | None:
    """Name the first public function of a NumPy module that is not NumPy's own, or None."""
    for name, value in list(vars(module).items()):  # not dir(): that imports lazy modules
        if name.startswith("_") or isinstance(value, (type, types.ModuleType)):
            continue
        if callable(value) and not _numpy_own(value):
            return f"{prefix}.{name} is not NumPy's own function (it was replaced)"
    return None


def check_environment() -> None:
    """Raise a tampering CheckFailed if NumPy or a builtin the checker uses was replaced."""
    if sys.modules.get("numpy") is not np:
        raise tampering("sys.modules['numpy'] was replaced")
    for module, prefix in ((np, "np"), (np.random, "np.random"), (np.linalg, "np.linalg")):
        found = _numpy_replaced(module, prefix)
        if found:
            raise tampering(found)
    for name in _BUILTIN_FUNCTIONS:
        value = getattr(builtins, name)
        if type(value) is not types.BuiltinFunctionType or value.__self__ is not builtins:
            raise tampering(f"the builtin {name} was replaced")
    for name, example in _BUILTIN_TYPES.items():
        if getattr(builtins, name) is not type(example):
            raise tampering(f"the builtin {name} was replaced")
    if type(sys.setprofile) is not types.BuiltinFunctionType:
        raise tampering("sys.setprofile was replaced")


# -- 2. the learner's own code ---------------------------------------------------------


def _code_file(obj) -> str | None:
    code = getattr(obj, "__code__", None)
    return None if code is None else os.path.abspath(code.co_filename)


def _from_a_package(path: str | None) -> bool:
    return path is not None and path.startswith(_PACKAGE_DIRS)


def require_own(obj, name: str, kind: str = "class", bases: tuple = ()) -> None:
    """Fail unless ``obj`` was written in the notebook (not imported, aliased or subclassed).

    ``bases`` lists library classes the exercise asks the learner to subclass
    (DeZero's ``Function``); any other base outside the notebook fails.
    """
    if obj is None:
        raise CheckFailed(f"{name} is None: run the solution cell that defines it")
    where = getattr(obj, "__module__", None)
    if where != _NOTEBOOK:
        origin = f"{where}.{getattr(obj, '__qualname__', name)}" if where else repr(obj)
        raise CheckFailed(
            f"{name} is {origin}, which comes from a library, not from this notebook: "
            f"the exercise is to write the {kind} yourself in the solution cell"
        )
    if isinstance(obj, type):
        for base in obj.__mro__[1:]:
            if base is object or base in bases:
                continue
            if base.__module__ != _NOTEBOOK:
                raise CheckFailed(
                    f"{name} is a subclass of {base.__module__}.{base.__qualname__}: "
                    f"write the {kind} yourself instead of inheriting it"
                )
        members = [m for klass in obj.__mro__ if klass not in bases for m in vars(klass).values()]
    elif callable(obj):
        if _code_file(obj) is None:
            raise CheckFailed(f"{name} is not a function written in this notebook")
        members = [obj]
    else:
        raise CheckFailed(f"{name} should be a {kind}, got {type(obj).__name__}")
    for member in members:
        function = getattr(member, "__func__", member)
        if _from_a_package(_code_file(function)):
            raise CheckFailed(
                f"{name} takes its code from {function.__module__}.{function.__qualname__}"
                f" (an installed package): write the {kind} yourself"
            )


# -- 4. watching the learner's code run ------------------------------------------------


class Checker:
    """One check's rules: what the learner's code may call, and how to call it.

    ``allowed`` lists paths inside the ``framework`` package (relative, with ``/``; a
    folder ends with ``/``) that the exercise hands out, e.g. ``("functions.py",)``
    for ``im2col``.  ``denied`` lists ``(path, qualname prefix)`` pairs that stay
    forbidden inside them: the library's own answer to the exercise, such as
    ``("autograd/models.py", "MLP")``.
    """

    def __init__(self, allowed: tuple = (), denied: tuple = ()):
        check_environment()
        self.allowed = tuple(os.path.join(FRAMEWORK_DIR, *p.split("/")) for p in allowed)
        self.denied = tuple((os.path.join(FRAMEWORK_DIR, *p.split("/")), q) for p, q in denied)
        self.used = None
        self._watch = self._hook  # one bound method, to compare with sys.getprofile()
        # what the environment looked like when it was found intact, to compare after
        # every call of the learner's code (cheaper than the full scan)
        self._snapshot = [(m, dict(vars(m))) for m in (np, np.random, np.linalg, builtins)]

    def _unchanged(self) -> str | None:
        for module, before in self._snapshot:
            now = vars(module)
            for name, value in before.items():
                if not name.startswith("_") and now.get(name) is not value:
                    return f"{module.__name__}.{name} was replaced"
        return None

    def _hook(self, frame, event, arg):
        if event != "call" or self.used is not None:
            return
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(FRAMEWORK_DIR + os.sep):
            return
        qualname = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
        denied = any(path.startswith(p) and qualname.startswith(q) for p, q in self.denied)
        if denied or not path.startswith(self.allowed):
            module = frame.f_globals.get("__name__", "framework")
            self.used = f"{module}.{qualname}"

    def call(self, what: str, fn, *args, hint: str = "", **kwargs):
        """Call the learner's code; stubs, crashes and calls into the library fail the check."""
        self.used = None
        previous = sys.getprofile()
        sys.setprofile(self._watch)
        try:
            result = fn(*args, **kwargs)
        except NotImplementedError as err:
            detail = f" ({err})" if str(err) else ""
            raise CheckFailed(
                f"{what} is not implemented yet{detail}: write it in the solution cell "
                "above, run that cell, then run this check again"
            ) from None
        except CheckFailed:
            raise
        except Exception as err:
            raise CheckFailed(_crash_message(what, err, hint)) from None
        finally:
            hooked = sys.getprofile() is self._watch
            sys.setprofile(previous)
        if not hooked:
            raise tampering(f"{what} changed the profiler the check watches with")
        if self.used is not None:
            raise CheckFailed(
                f"{what} called the library's {self.used}: the exercise is to write it "
                "yourself, with NumPy"
            )
        changed = self._unchanged()
        if changed:
            raise tampering(f"while {what} ran, {changed}")
        return result

    def new(self, name: str, cls, *args):
        """Build the learner's object; a stub or a crash in ``__init__`` fails the check."""
        return self.call(f"{name}.__init__", cls, *args)


def _crash_message(what: str, err: Exception, hint: str) -> str:
    message = f"{what} raised {type(err).__name__}: {err}"
    if isinstance(err, NameError) and getattr(err, "name", None) in ("np", "numpy"):
        return (
            f"{what} uses np, but np is not defined: NumPy is not imported. Run the setup "
            "cell at the top (import numpy as np), or import it in your solution cell"
        )
    if isinstance(err, NameError):
        return f"{message}; define it (or run the cell that defines it) before this check"
    return message + (f"; {hint}" if hint else "")


# -- comparisons -----------------------------------------------------------------------


def as_array(what: str, name: str, value):
    """``value`` as a fresh float64 ndarray (a subclass or a lookalike is turned into one)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise CheckFailed(
            f"{what} returned {name} = {type(value).__name__}, not numbers ({err})"
        ) from None
    if type(arr) is not np.ndarray:
        raise tampering(f"{what} returned {name} that is not a NumPy array")
    return arr


def expect_shape(what: str, name: str, got, want: tuple, of: str) -> None:
    shape = np.shape(got)
    if shape != tuple(want):
        raise CheckFailed(
            f"{what} returned {name} of shape {shape}; it must have the shape of {of} "
            f"{tuple(want)}"
        )


def close(got, want, rtol=1e-6, atol=1e-8):
    """Elementwise ``|got - want| <= atol + rtol |want|``, with ndarray operators only."""
    got = np.array(got, dtype=np.float64)
    want = np.array(want, dtype=np.float64)
    if got.shape != want.shape:
        return np.zeros(want.shape, dtype=bool)
    return abs(got - want) <= atol + rtol * abs(want)


def matches(got, want, rtol=1e-6, atol=1e-8) -> bool:
    return bool(np.shape(got) == np.shape(want) and close(got, want, rtol, atol).all())


def expect_close(what, name, got, want, hint: str = "", rtol=1e-6, atol=1e-8) -> None:
    got = as_array(what, name, got)
    want = np.array(want, dtype=np.float64)
    expect_shape(what, name, got, want.shape, "the right answer")
    ok = close(got, want, rtol, atol)
    if not ok.all():
        bad = ~ok
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        where = "[" + ", ".join(map(str, idx)) + "]" if idx else ""
        raise CheckFailed(
            f"{what}: {name}{where} is {got[idx]:.6g} but should be {want[idx]:.6g} "
            f"({int(bad.sum())} of {bad.size} values differ)" + (f"; {hint}" if hint else "")
        )


def expect_unchanged(what: str, name: str, arr, before, hint: str = "") -> None:
    changed = int((np.asarray(arr) != before).sum())
    if changed:
        raise CheckFailed(
            f"{what} changed the array {name} it was given ({changed} values differ): "
            f"the caller still needs its {name}, so compute a new array instead"
            + (f"; {hint}" if hint else "")
        )


def expect_attr(what: str, obj, name: str, hint: str):
    value = getattr(obj, name, None)
    if value is None:
        raise CheckFailed(f"{what} did not set self.{name}; {hint}")
    return value


def passed(name: str, count: int) -> None:
    check_environment()
    print(f"All {count} checks passed for {name}.")


def rng():
    """Return a generator seeded from the operating system: new inputs on every run."""
    return np.random.default_rng()


def away_from_zero(gen, shape, low=0.2, high=2.0):
    """Random values with ``low <= |x| <= high`` and both signs (no kink at 0 to straddle)."""
    x = gen.uniform(low, high, shape) * gen.choice((-1.0, 1.0), shape)
    flat = x.reshape(-1)
    flat[0], flat[-1] = -abs(flat[0]), abs(flat[-1])
    return x


def numerical_gradient(f, x, eps: float = 1e-5):
    """Central differences of the scalar ``f()`` with respect to ``x``, changed in place."""
    grad = np.zeros(x.shape)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        up = f()
        flat[i] = keep - eps
        down = f()
        flat[i] = keep
        gflat[i] = (up - down) / (2 * eps)
    return grad


# -- the installed package -------------------------------------------------------------


def installed_root() -> str | None:
    """Return the installed ``framework`` package's folder, from its metadata (None if absent)."""
    import json
    from importlib import metadata
    from urllib.parse import unquote, urlparse

    try:
        dist = metadata.distribution("framework")
    except metadata.PackageNotFoundError:
        return None
    direct = dist.read_text("direct_url.json")
    if direct:
        info = json.loads(direct)
        if info.get("dir_info", {}).get("editable"):
            return os.path.join(os.path.abspath(unquote(urlparse(info["url"]).path)), "framework")
    return os.path.abspath(str(dist.locate_file("framework")))


def verify_installed(path: str) -> None:
    """Fail if the checkers at ``path`` are not the installed package's (a copy elsewhere)."""
    root = installed_root()
    here = os.path.abspath(path)
    if root is not None and not here.startswith(root + os.sep):
        raise tampering(
            f"the checkers were loaded from {os.path.dirname(here)}, not from the installed "
            f"package in {root} (a copy of the package was put on sys.path)"
        )
