"""framework.book: the shims let scripts written in the books' import style run on us.

Each script below is our own, written as the books write theirs (``sys.path.append``,
``from common.layers import *``, ``import dezero.functions as F``); it runs in a
subprocess with the shims first on ``PYTHONPATH`` and its printed numbers are checked
against plain NumPy or known values.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import framework
from framework import book
from framework.datasets import write_idx

ROOT = Path(framework.__file__).resolve().parent.parent  # the framework under test


def run_script(shims, script, cwd, extra_env=None):
    """Run ``script`` (a file) with ``PYTHONPATH=shims:ROOT`` from ``cwd``; return stdout."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(shims), str(ROOT)])
    env.update(extra_env or {})
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout, done.stderr


def printed(stdout):
    """``{first word: [the other words]}`` of each printed line."""
    return {line.split()[0]: line.split()[1:] for line in stdout.splitlines() if line.strip()}


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# A book-1 network class in the book's style, found as common.two_layer_net through
# the __path__ that write_shims extends with <book1>/common.
TWO_LAYER_NET = """\
    import os
    import sys
    from collections import OrderedDict

    sys.path.append(os.pardir)
    import numpy as np
    from common.gradient import numerical_gradient
    from common.layers import *


    class TwoLayerNet:
        def __init__(self, n_in, n_hidden, n_out, scale=0.1):
            self.params = {}
            self.params["W1"] = scale * np.random.randn(n_in, n_hidden)
            self.params["b1"] = np.zeros(n_hidden)
            self.params["W2"] = scale * np.random.randn(n_hidden, n_out)
            self.params["b2"] = np.zeros(n_out)
            self.layers = OrderedDict()
            self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
            self.layers["Relu1"] = Relu()
            self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
            self.lastLayer = SoftmaxWithLoss()

        def predict(self, x):
            for layer in self.layers.values():
                x = layer.forward(x)
            return x

        def loss(self, x, t):
            return self.lastLayer.forward(self.predict(x), t)

        def accuracy(self, x, t):
            y = np.argmax(self.predict(x), axis=1)
            if t.ndim != 1:
                t = np.argmax(t, axis=1)
            return np.sum(y == t) / float(x.shape[0])

        def numerical_gradient(self, x, t):
            loss_W = lambda W: self.loss(x, t)
            return {k: numerical_gradient(loss_W, self.params[k]) for k in self.params}

        def gradient(self, x, t):
            self.loss(x, t)
            dout = self.lastLayer.backward(1)
            for layer in reversed(list(self.layers.values())):
                dout = layer.backward(dout)
            grads = {}
            grads["W1"], grads["b1"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
            grads["W2"], grads["b2"] = self.layers["Affine2"].dW, self.layers["Affine2"].db
            return grads
"""

BOOK1_TRAIN = """\
    import os
    import sys

    sys.path.append(os.pardir)
    from common.optimizer import *  # brings np too, as the book's star import does
    from common.two_layer_net import TwoLayerNet
    from common.functions import softmax
    from common.util import shuffle_dataset, smooth_curve
    from common.trainer import Trainer

    np.random.seed(0)
    x = np.random.randn(6, 4)
    t = np.array([0, 1, 2, 0, 1, 2])
    net = TwoLayerNet(4, 5, 3)
    print("loss0", repr(float(net.loss(x, t))))
    grad = net.gradient(x, t)
    num = net.numerical_gradient(x, t)
    print("maxdiff", max(float(np.abs(grad[k] - num[k]).max()) for k in grad))
    print("softmax_sum", float(softmax(x).sum()))

    optimizer = SGD(lr=0.5)
    for i in range(50):
        optimizer.update(net.params, net.gradient(x, t))
    print("loss50", float(net.loss(x, t)))
    print("aliased", net.params["W1"] is net.layers["Affine1"].W)

    point = {"x": -7.0, "y": 2.0}  # book ch06: a dict of plain floats, moved in place
    Momentum(lr=0.1).update(point, {"x": 1.0, "y": -1.0})
    print("point", point["x"], point["y"])

    xs, ts = shuffle_dataset(x, t)
    print("shuffled", sorted(ts.tolist()) == sorted(t.tolist()), xs.shape[0])
    print("smooth_len", len(smooth_curve(np.arange(20.0))))

    net2 = TwoLayerNet(4, 5, 3)
    trainer = Trainer(net2, x, t, x, t, epochs=3, mini_batch_size=3,
                      optimizer="Adam", optimizer_param={"lr": 0.01}, verbose=False)
    trainer.train()
    print("trainer", len(trainer.train_loss_list), len(trainer.test_acc_list))
"""


@pytest.fixture
def book1(tmp_path):
    """A fake book-1 checkout (our own files) and the shims written for it."""
    root = tmp_path / "book1"
    write(root / "common" / "__init__.py", "")
    write(root / "common" / "two_layer_net.py", TWO_LAYER_NET)
    shims = tmp_path / "shims"
    book.write_shims(shims, book1_dir=root)
    return root, shims


def test_book1_style_script_runs_on_our_layers(book1):
    root, shims = book1
    script = write(root / "ch01" / "train.py", BOOK1_TRAIN)
    out = printed(run_script(shims, script, cwd=root / "ch01")[0])

    # the same numbers in plain NumPy: the draws in the script's order, the book's loss
    state = np.random.RandomState(0)  # the stream np.random.seed(0) starts
    x = state.randn(6, 4)
    t = np.array([0, 1, 2, 0, 1, 2])
    W1 = 0.1 * state.randn(4, 5)
    W2 = 0.1 * state.randn(5, 3)
    a = np.maximum(x @ W1, 0) @ W2
    y = np.exp(a - a.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    loss0 = -np.mean(np.log(y[np.arange(6), t] + 1e-7))
    assert float(out["loss0"][0]) == pytest.approx(loss0, abs=1e-6)
    assert float(out["maxdiff"][0]) < 1e-6  # backprop equals the numerical gradient
    assert float(out["softmax_sum"][0]) == pytest.approx(6.0)
    assert float(out["loss50"][0]) < 0.5 * loss0  # SGD through the dict style learns
    assert out["aliased"] == ["True"]
    assert [float(v) for v in out["point"]] == pytest.approx([-7.1, 2.1])
    assert out["shuffled"] == ["True", "6"]
    assert out["smooth_len"] == ["20"]
    assert out["trainer"] == ["6", "3"]  # 2 iterations an epoch, an accuracy each epoch


def test_star_imports_give_the_books_names(book1):
    root, shims = book1
    script = write(
        root / "ch02" / "names.py",
        """\
        import os
        import sys

        sys.path.append(os.pardir)
        from common.layers import *

        print("layers", Affine.__module__.split(".")[0], np.__name__, im2col.__module__)
        print("funcs", cross_entropy_error(np.array([[0.0, 1.0]]), np.array([1])) < 1e-6)
        """,
    )
    out = printed(run_script(shims, script, cwd=root / "ch02")[0])
    assert out["layers"] == ["framework", "numpy", "framework.functions"]
    assert out["funcs"] == ["True"]


@pytest.mark.parametrize("module", sorted(book.COMMON_MODULES))
def test_every_reexported_name_exists(module):
    for source, names in book.COMMON_MODULES[module]:
        missing = [n for n in names if not hasattr(importlib.import_module(source), n)]
        assert not missing, f"common.{module}: {source} lacks {missing}"


def test_dataset_mnist_loads_mnist_when_installed(tmp_path):
    """A tiny MNIST in $FRAMEWORK_DATA is what ``from dataset.mnist import load_mnist`` gets."""
    rng = np.random.default_rng(0)
    data = tmp_path / "data" / "mnist"
    data.mkdir(parents=True)
    images = {"train": rng.integers(0, 256, (8, 28, 28), dtype=np.uint8)}
    images["t10k"] = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    for part, n in (("train", 8), ("t10k", 3)):
        write_idx(data / f"{part}-images-idx3-ubyte.gz", images[part])
        write_idx(data / f"{part}-labels-idx1-ubyte.gz", np.arange(n, dtype=np.uint8) % 10)
    shims = tmp_path / "shims"
    book.write_shims(shims)
    script = write(
        tmp_path / "ch03" / "load.py",
        """\
        import os
        import sys

        sys.path.append(os.pardir)
        from dataset.mnist import load_mnist

        (x, t), (xt, tt) = load_mnist(normalize=True, one_hot_label=True)
        print("train", x.shape[0], x.shape[1], x.dtype, t.shape[1], float(x.sum()))
        (x, t), _ = load_mnist(flatten=False, normalize=False)
        print("raw", x.shape[1], x.shape[2], x.dtype, t.dtype, *t[:3])
        """,
    )
    env = {"FRAMEWORK_DATA": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    stdout, _ = run_script(shims, script, cwd=tmp_path / "ch03", extra_env=env)
    out = printed(stdout)
    total = float((images["train"].astype(np.float32) / 255).sum())
    assert out["train"][:4] == ["8", "784", "float32", "10"]
    assert float(out["train"][4]) == pytest.approx(total, rel=1e-5)
    assert out["raw"] == ["1", "28", "uint8", "int64", "0", "1", "2"]
    assert "Fashion" not in stdout


@pytest.mark.filterwarnings("ignore::UserWarning")  # Fashion-MNIST may come from the sample
def test_load_mnist_falls_back_to_fashion_mnist_once(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("FRAMEWORK_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(book, "_mnist_missing", False)
    (x, t), (xt, tt) = book.load_mnist(download=False)
    first = capsys.readouterr().out
    assert "MNIST is not installed here" in first and "Fashion-MNIST instead" in first
    assert x.shape[1] == 784 and x.dtype == np.float32 and t.ndim == 1
    assert 0.0 <= x.min() and x.max() <= 1.0
    (x2, t2), _ = book.load_mnist(flatten=False, one_hot_label=True, download=False)
    assert "not installed" not in capsys.readouterr().out  # decided once per process
    assert x2.shape[1:] == (1, 28, 28) and t2.shape[1] == 10


@pytest.mark.filterwarnings("ignore::UserWarning")  # Fashion-MNIST may come from the sample
def test_dezero_mnist_dataset_falls_back_too(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("FRAMEWORK_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(book, "_mnist_missing", False)
    test_set = book.MNIST(train=False, download=False)
    assert "Fashion-MNIST instead" in capsys.readouterr().out
    x, t = test_set[0]
    assert x.shape == (784,) and x.dtype == np.float32 and 0 <= t < 10
    assert test_set.data.shape[1:] == (1, 28, 28) and test_set.data.dtype == np.uint8


DEZERO_STEP = """\
    if "__file__" in globals():
        import os, sys
        sys.path.append(os.path.join(os.path.dirname(__file__), ".."))

    import numpy as np
    import dezero
    import dezero.functions as F
    import dezero.layers as L
    from dezero import DataLoader, Variable, optimizers
    from dezero.models import MLP

    x = Variable(np.array(2.0))
    y = x**4 - 2 * x**2
    y.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    gx.backward()
    print("grads", float(gx.data), float(x.grad.data))

    print("same", dezero.functions.Variable is Variable, dezero.core.Variable is Variable,
          isinstance(L.Linear(3), dezero.Layer), dezero.is_simple_core)

    np.random.seed(0)
    train_set = dezero.datasets.Spiral(train=True)
    loader = DataLoader(train_set, batch_size=30)
    model = MLP((10, 3))
    optimizer = optimizers.SGD(lr=1.0).setup(model)
    losses = []
    for epoch in range(3):
        total = 0.0
        for xb, tb in loader:
            loss = F.softmax_cross_entropy(model(xb), tb)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            total += float(loss.data) * len(tb)
        losses.append(total / len(train_set))
    print("spiral", len(train_set), xb.shape[1], *losses)
    with dezero.no_grad():
        y = model(xb)
    print("no_grad", y.creator is None)
"""


def test_dezero_style_step_runs_on_autograd(tmp_path):
    shims = tmp_path / "shims"
    book.write_shims(shims)
    script = write(tmp_path / "dezero3" / "steps" / "step_x.py", DEZERO_STEP)
    first, _ = run_script(shims, script, cwd=tmp_path)
    out = printed(first)
    assert [float(v) for v in out["grads"]] == [24.0, 44.0]  # 4x^3-4x, 12x^2-4 at x=2
    assert out["same"] == ["True", "True", "True", "False"]
    n, width, *losses = out["spiral"]
    assert (n, width) == ("300", "2")
    losses = [float(v) for v in losses]
    assert losses[-1] < losses[0] and all(np.isfinite(losses))
    assert out["no_grad"] == ["True"]
    again, _ = run_script(shims, script, cwd=tmp_path / "dezero3")
    assert again == first  # np.random.seed(0) repeats the run: shuffles and weights


def test_dezero_core_simple(tmp_path):
    shims = tmp_path / "shims"
    book.write_shims(shims)
    script = write(
        tmp_path / "steps" / "simple.py",
        """\
        import numpy as np
        try:
            from dezero.core_simple import Variable, setup_variable
        except ImportError as err:
            print("missing", str(err).split(":")[0])
        else:
            setup_variable()
            x = Variable(np.array(3.0))
            y = x * x + 1.0
            y.backward()
            print("grad", isinstance(x.grad, Variable), float(x.grad))
        """,
    )
    out = printed(run_script(shims, script, cwd=tmp_path)[0])
    if importlib.util.find_spec("framework.autograd.core_simple") is None:
        assert out == {"missing": ["dezero.core_simple"]}
    else:
        assert out == {"grad": ["False", "6.0"]}  # the simple core's grads are arrays


def test_dezero_modules_reexport_and_explain_missing_names(tmp_path):
    shims = tmp_path / "shims"
    book.write_shims(shims)
    code = (
        "import dezero\n"
        "from dezero import datasets, utils as U\n"
        "print('shims', datasets is dezero.datasets, datasets.__name__, dezero.core.__name__)\n"
        "from dezero.functions import *\n"
        "print('star', sigmoid is dezero.functions.sigmoid, U.get_conv_outsize(4, 3, 1, 0))\n"
        "print('cuda', dezero.cuda.gpu_enable in (True, False))\n"
        "print('mnist', dezero.datasets.MNIST.__module__, dezero.datasets.Spiral.__module__)\n"
        "dezero.functions.no_such_function\n"
    )
    script = write(tmp_path / "m.py", code)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(shims), str(ROOT)]))
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    out = printed(done.stdout)
    assert out["shims"] == ["True", "dezero.datasets", "dezero.core"]
    assert out["star"] == ["True", "2"]
    assert out["cuda"] == ["True"]
    assert out["mnist"] == ["framework.book", "framework.autograd.datasets"]
    assert done.returncode == 1
    assert "module 'dezero.functions' (framework.autograd.functions) has no attribute" in (
        done.stderr
    )


def test_generated_files_say_so_and_rewriting_is_allowed(tmp_path):
    written = book.write_shims(tmp_path / "shims")
    rel = sorted(str(p.relative_to(tmp_path / "shims")) for p in written)
    assert "common/layers.py" in rel and "dataset/mnist.py" in rel
    assert {f"dezero/{m}.py" for m in book.DEZERO_MODULES} <= set(rel)
    for path in written:
        assert path.read_text().splitlines()[0] == book.HEADER
    assert "__path__" not in (tmp_path / "shims" / "common" / "__init__.py").read_text()
    again = book.write_shims(tmp_path / "shims")  # our own files may be rewritten
    assert again == written


def test_missing_book_folder_warns_at_import(book1, tmp_path):
    root, shims = book1
    (root / "common" / "two_layer_net.py").unlink()
    (root / "common" / "__init__.py").unlink()
    (root / "common").rmdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(shims), str(ROOT)]))
    done = subprocess.run(
        [sys.executable, "-c", "import common.layers"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    assert "RuntimeWarning" in done.stderr and "is gone" in done.stderr


def test_refusals(tmp_path):
    (tmp_path / "nobook").mkdir()
    with pytest.raises(ValueError, match="write_shims: book1_dir .* has no common/ folder"):
        book.write_shims(tmp_path / "shims", book1_dir=tmp_path / "nobook")
    (tmp_path / "book" / "common").mkdir(parents=True)
    with pytest.raises(ValueError, match="is book 1's own folder"):
        book.write_shims(tmp_path / "book", book1_dir=tmp_path / "book")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        book.write_shims(tmp_path / "file")
    mine = tmp_path / "taken" / "common" / "layers.py"
    mine.parent.mkdir(parents=True)
    mine.write_text("# my own layers\n")
    with pytest.raises(ValueError, match="not written by framework.book; refusing"):
        book.write_shims(tmp_path / "taken")
    assert mine.read_text() == "# my own layers\n"
    assert sorted(p.name for p in (tmp_path / "taken").rglob("*")) == ["common", "layers.py"]


def test_command_line(tmp_path, capsys):
    book_root = tmp_path / "book"
    (book_root / "common").mkdir(parents=True)
    assert book.main([str(tmp_path / "shims"), "--book1", str(book_root)]) == 0
    out = capsys.readouterr().out
    assert f"PYTHONPATH={tmp_path / 'shims'}" in out and "train_neuralnet.py" in out
    assert str(book_root / "common") in (tmp_path / "shims/common/__init__.py").read_text()
    assert book.main([str(tmp_path / "shims"), "--book1", str(tmp_path / "nope")]) == 2
    assert "error: write_shims: book1_dir" in capsys.readouterr().err


def test_import_framework_does_not_import_book():
    code = "import sys, framework; print('framework.book' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "False"
