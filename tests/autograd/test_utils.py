"""gradient_check (random upstream gradient), numerical_grad, comparisons, DOT export."""

from __future__ import annotations

import gc
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import framework.autograd.functions as F
from framework.autograd import Variable, composed, utils
from framework.autograd.functions_math import Softmax
from framework.autograd.utils import (
    array_allclose,
    array_equal,
    get_dot_graph,
    gradient_check,
    numerical_grad,
    plot_dot_graph,
)


class ZeroGradSoftmax(Softmax):
    """A wrong softmax backward that returns zeros."""

    def backward(self, gy):
        return gy * 0.0


def test_gradient_check_passes_correct_functions(rng):
    x = rng.standard_normal((3, 4))
    assert gradient_check(F.tanh, x)
    assert gradient_check(composed.softmax, x, rng=rng)
    W = rng.standard_normal((4, 2))
    assert gradient_check(F.matmul, x, W)  # extra arguments go after x


def test_gradient_check_catches_what_a_sum_check_misses(rng, capsys):
    x = rng.standard_normal((3, 4))

    def broken(v):
        return ZeroGradSoftmax()(v)

    # DeZero's check differentiates sum(f(x)); every softmax row sums to 1, so that
    # gradient is 0 and the broken backward (zeros) would pass it:
    np.testing.assert_allclose(numerical_grad(broken, x.copy()), 0.0, atol=1e-9)
    assert not gradient_check(broken, x, rng=rng)
    assert "gradient_check failed: max |backprop - numerical|" in capsys.readouterr().out


def test_gradient_check_works_in_float64_and_leaves_x_alone(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    before = x.copy()
    seen = []

    def f(v):
        seen.append(v.dtype)
        return F.sigmoid(v)

    assert gradient_check(f, x)
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(x, before)


def test_numerical_grad_of_a_sum_of_squares(rng):
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(numerical_grad(lambda v: v**2, x), 2 * x, rtol=1e-8)
    np.testing.assert_allclose(numerical_grad(lambda v, c: c * v, x, 3.0), 3.0, rtol=1e-8)


def test_array_equal_and_allclose():
    a = np.array([1.0, 2.0])
    assert array_equal(Variable(a), a.copy())
    assert not array_equal(a, a + 1e-12)
    assert array_allclose(Variable(a), a + 1e-9)
    assert not array_allclose(a, a + 1e-3)
    assert not array_allclose(a, np.ones((2, 2)))


def test_get_dot_graph_lists_nodes_and_edges():
    x = Variable(np.array(1.0), name="x")
    y = F.exp(x) * x
    y.name = "y"
    dot = get_dot_graph(y, verbose=False)
    assert dot.startswith("digraph g {\n") and dot.endswith("}")
    assert dot.count("color=lightblue") == 2  # Exp and Mul
    assert f'{id(x)} [label="x", color=orange' in dot
    assert f"{id(x)} -> {id(y.creator)}" in dot  # x feeds Mul directly, and Exp
    assert f"{id(y.creator)} -> {id(y)}" in dot
    verbose = get_dot_graph(y)
    assert 'label="x: () float64"' in verbose
    assert get_dot_graph(x).count("->") == 0  # a lone input


def test_get_dot_graph_of_a_long_chain_needs_no_recursion():
    x = Variable(np.array(1.0))
    y = x
    for _ in range(3000):
        y = -y
    assert get_dot_graph(y, verbose=False).count('label="Neg"') == 3000


def test_plot_dot_graph_draws_with_dot(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot program is not installed")
    y = F.sin(Variable(np.array(1.0)))
    out = tmp_path / "g.svg"
    assert plot_dot_graph(y, to_file=str(out)) == str(out)  # not an image IPython shows
    assert "<svg" in out.read_text()


def test_plot_dot_graph_without_graphviz_returns_the_dot_text(tmp_path, monkeypatch):
    monkeypatch.setattr(utils.shutil, "which", lambda name: None)
    y = F.sin(Variable(np.array(1.0)))
    with pytest.warns(UserWarning, match="install graphviz"):
        text = plot_dot_graph(y, to_file=str(tmp_path / "g.png"))
    first, rest = text.split("\n", 1)
    assert first == "// " + utils.INSTALL_HINT
    assert rest == get_dot_graph(y)


# -- DeZero's NumPy helpers ---------------------------------------------------
@pytest.mark.parametrize(
    ("x_shape", "axis", "keepdims", "expected"),
    [
        ((2, 3, 4), 1, False, (2, 1, 4)),
        ((2, 3, 4), (0, 2), False, (1, 3, 1)),
        ((2, 3, 4), -1, False, (2, 3, 1)),
        ((2, 3, 4), 1, True, (2, 1, 4)),
        ((2, 3, 4), None, False, ()),
        ((), None, False, ()),
    ],
)
def test_reshape_sum_backward_restores_the_summed_axes(x_shape, axis, keepdims, expected, rng):
    x = rng.standard_normal(x_shape)
    gy = x.sum(axis=axis, keepdims=keepdims)
    g = utils.reshape_sum_backward(gy, x_shape, axis, keepdims)
    assert g.shape == expected
    np.testing.assert_array_equal(
        np.broadcast_to(g, x_shape), np.broadcast_to(gy.reshape(expected), x_shape)
    )


def test_reshape_sum_backward_works_on_variables():
    gy = Variable(np.ones((2, 4)))
    assert utils.reshape_sum_backward(gy, (2, 3, 4), 1, False).shape == (2, 1, 4)


def test_logsumexp_matches_the_plain_formula_and_does_not_overflow(rng):
    x = rng.standard_normal((4, 5))
    np.testing.assert_allclose(
        utils.logsumexp(x, axis=1), np.log(np.exp(x).sum(axis=1, keepdims=True)), rtol=1e-12
    )
    big = np.array([[1000.0, 1000.0]])
    np.testing.assert_allclose(utils.logsumexp(big), [[1000.0 + np.log(2.0)]])
    assert utils.logsumexp(x, axis=0).shape == (1, 5)


@pytest.mark.parametrize(
    ("axis", "expected"), [(None, [1, 1, 1]), (1, [2, 1, 4]), ((0, 2), [1, 3, 1]), (-1, [2, 3, 1])]
)
def test_max_backward_shape(axis, expected):
    assert utils.max_backward_shape(np.zeros((2, 3, 4)), axis) == expected


def test_conv_and_deconv_outsize_and_pair():
    assert utils.get_conv_outsize(28, 3, 1, 1) == 28
    assert utils.get_conv_outsize(7, 3, 2, 0) == 3  # floors, as DeZero
    assert utils.get_deconv_outsize(3, 3, 2, 0) == 7
    for size, k, s, p in [(4, 3, 1, 0), (5, 4, 2, 1), (9, 3, 3, 0)]:
        assert utils.get_conv_outsize(utils.get_deconv_outsize(size, k, s, p), k, s, p) == size
    assert utils.pair(3) == (3, 3)
    assert utils.pair((2, 5)) == (2, 5)
    with pytest.raises(ValueError, match="pair"):
        utils.pair((1, 2, 3))


def test_sum_to_is_dezeros_numpy_helper(rng):
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(utils.sum_to(x, (3, 1)), x.sum(axis=(0, 2))[:, None])
    np.testing.assert_allclose(utils.sum_to(x, (1, 3, 4)), x.sum(axis=0, keepdims=True))


def test_show_progress_prints_a_bar(capsys):
    utils.show_progress(5, 10, 100)
    assert capsys.readouterr().out == "\r[###############...............] 50.00%"
    utils.show_progress(50, 10, 100)
    assert "100.00%" in capsys.readouterr().out


# -- get_file: against a local HTTP server (no network) -----------------------
@pytest.fixture
def http_folder(tmp_path):
    """Serve ``tmp_path / 'www'`` on 127.0.0.1 from a thread; yields (folder, base url)."""
    import functools
    import http.server
    import threading

    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        # pooch's HTTP client may leave a closed socket to the garbage collector; collect it
        # here, so its ResourceWarning cannot surface inside an unrelated later test.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setattr(utils, "cache_dir", str(folder))
    return folder


def test_get_file_downloads_once_with_a_checksum(http_folder, cache):
    pytest.importorskip("pooch")
    import hashlib

    www, url = http_folder
    payload = b"0123456789" * 1000
    (www / "data.bin").write_bytes(payload)
    sha = hashlib.sha256(payload).hexdigest()

    path = utils.get_file(url + "data.bin", known_hash=f"sha256:{sha}")
    assert path == str(cache / "data.bin")
    assert Path(path).read_bytes() == payload

    (www / "data.bin").unlink()  # a second call must come from the cache
    assert utils.get_file(url + "data.bin", known_hash=f"sha256:{sha}") == path
    assert utils.get_file(url + "data.bin") == path


def test_get_file_takes_dezeros_file_name(http_folder, cache):
    pytest.importorskip("pooch")
    www, url = http_folder
    (www / "input.txt").write_text("to be or not to be")
    path = utils.get_file(url + "input.txt", "shakespear.txt")
    assert path == str(cache / "shakespear.txt")
    assert Path(path).read_text() == "to be or not to be"


def test_get_file_refuses_a_corrupt_download_and_keeps_nothing(http_folder, cache):
    pytest.importorskip("pooch")
    www, url = http_folder
    (www / "data.bin").write_bytes(b"not what was published")
    with pytest.raises(ValueError, match="get_file: .*corrupt"):
        utils.get_file(url + "data.bin", known_hash="sha256:" + "0" * 64)
    assert not (cache / "data.bin").exists()


def test_get_file_without_the_file_or_network_says_where_to_put_it(http_folder, cache):
    pytest.importorskip("pooch")
    _, url = http_folder
    with pytest.raises(ConnectionError, match="get_file: cannot download .*missing.bin") as err:
        utils.get_file(url + "missing.bin")
    assert str(cache / "missing.bin") in str(err.value)
    assert not (cache / "missing.bin").exists()


def test_get_file_without_pooch_names_the_package(cache, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pooch", None)
    with pytest.raises(ImportError, match="pip install pooch"):
        utils.get_file("http://127.0.0.1:9/x.bin")


def test_array_allclose_broadcasts_as_dezeros_does():
    # DeZero's TestSumTo.test_forward1 compares a (1,) result with a 0-d expectation
    assert array_allclose(np.array([3.0]), np.array(3.0))
    assert array_allclose(Variable(np.ones((2, 3))), 1.0)
    assert not array_allclose(np.ones((2, 3)), np.ones((3, 2)))  # no broadcast: not close


def test_numerical_grad_is_the_hand_written_worlds_numerical_gradient(monkeypatch):
    import framework.gradient

    calls = []
    real = framework.gradient.numerical_gradient
    monkeypatch.setattr(
        utils, "numerical_gradient", lambda f, x, eps: calls.append(eps) or real(f, x, eps)
    )
    np.testing.assert_allclose(numerical_grad(lambda v: v**3, np.array([2.0])), [12.0], rtol=1e-6)
    assert calls == [1e-4]


def test_gradient_check_without_rng_draws_from_numpys_global_state(monkeypatch):
    seen = []
    real = utils.numerical_grad
    monkeypatch.setattr(
        utils, "numerical_grad", lambda f, x, eps: seen.append(f(x)) or real(f, x, eps=eps)
    )
    x = np.array([0.5, -1.0, 2.0])
    np.random.seed(0)  # noqa: NPY002 (the books' habit, on purpose)
    assert gradient_check(F.sin, x)
    np.random.seed(0)  # noqa: NPY002
    assert gradient_check(F.sin, x)
    np.testing.assert_array_equal(seen[0], seen[1])  # the same g both times
