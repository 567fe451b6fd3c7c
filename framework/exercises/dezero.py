"""Checkers for DeZero (book 3): functions built from autograd nodes.

The learner's function takes and returns a ``framework.autograd.Variable``; its
gradient comes from ``backward`` through the graph and must match the numerical
gradient of a NumPy reference.  The learner may use the autograd package (that is
the point), but not the library's ready-made activations in ``composed.py``.
"""

from __future__ import annotations

import numpy as np

from ._core import (
    Checker,
    CheckFailed,
    as_array,
    expect_close,
    expect_shape,
    expect_unchanged,
    matches,
    numerical_gradient,
    passed,
    require_own,
    rng,
)

__all__ = [
    "check_composed_activation",
    "check_variable_function",
    "check_newton",
    "check_spiral_model",
    "check_simple_rnn",
]

# The autograd package is handed out (with what it builds on); the library's own
# answers to an exercise stay forbidden.
AUTOGRAD = ("autograd/", "backend.py", "functions.py", "initializers.py")


def check_composed_activation(fn, reference, name: str | None = None) -> None:
    """Check an activation built from autograd nodes, against the NumPy function ``reference``."""
    from ..autograd import Variable

    name = name or getattr(fn, "__name__", "the activation")
    require_own(fn, name, kind="function")
    c, gen = Checker(allowed=AUTOGRAD, denied=(("autograd/composed.py", ""),)), rng()
    x = Variable(gen.uniform(-3, 3, (2, 3)))
    x0 = x.data.copy()
    y = c.call(name, fn, x)
    if not isinstance(y, Variable):
        raise CheckFailed(
            f"{name} returned {type(y).__name__}; build it from autograd functions "
            "(F.exp, +, *, ...) on the Variable so that backward works"
        )
    expect_unchanged(name, "x.data", x.data, x0)
    expect_close(name, "y", y.data, reference(x0.copy()))
    g = gen.standard_normal((2, 3))
    y.grad = Variable(g.copy())
    c.call(f"backward through {name}", y.backward)
    if x.grad is None:
        raise CheckFailed(
            f"after backward, x.grad is None: {name} does not depend on x through the graph "
            "(did you compute with x.data instead of x?)"
        )
    a = x0.copy()
    num = numerical_gradient(lambda: float((g * reference(a)).sum()), a)
    expect_close(f"backward through {name}", "x.grad", x.grad.data, num, rtol=1e-5)
    passed(name, 4)


# -- stage 1-2: Variable and Function ----------------------------------------------------


def _grad(var):
    grad = getattr(var, "grad", None)
    return None if grad is None else getattr(grad, "data", grad)


def check_variable_function(Variable, Square, Add) -> None:
    """Check a Variable and Function pair: the chain, accumulation, and generation order.

    ``Square`` and ``Add`` are the notebook's subclasses of the learner's ``Function``.
    """
    for name, obj in (("Variable", Variable), ("Square", Square), ("Add", Add)):
        require_own(obj, name)
    c, gen = Checker(allowed=("exercises/dezero.py",)), rng()  # its graphs are lambdas here
    value = float(np.round(gen.uniform(1.5, 3.0), 2))

    def build(what, fn):
        x = c.new("Variable", Variable, np.array(value))
        y = c.call(what, fn, x)
        c.call(f"{what}: y.backward()", y.backward)
        got = _grad(x)
        if got is None:
            raise CheckFailed(
                f"{what}: after y.backward(), x.grad is None: backward must walk from y to "
                "the functions that made it (y.creator) and on to their inputs"
            )
        return x, y, float(as_array(what, "x.grad", got))

    what = f"y = square(x) at x = {value}"
    x, y, got = build(what, lambda x: Square()(x))
    if getattr(x, "generation", None) != 0 or getattr(y, "generation", None) != 1:
        raise CheckFailed(
            f"{what}: x.generation is {getattr(x, 'generation', None)} and y.generation "
            f"{getattr(y, 'generation', None)}; a new Variable is generation 0, and a "
            "function's outputs are one generation after its latest input"
        )
    if got == 1.0:
        raise CheckFailed(f"{what}: x.grad is 1: the gradient did not go through square")
    expect_close(what, "x.grad", got, 2 * value)
    what = f"y = add(x, x) at x = {value}"
    _, _, got = build(what, lambda x: Add()(x, x))
    if got == 1.0:
        raise CheckFailed(
            f"{what}: x.grad is 1 but should be 2: x is used twice, and the second gradient "
            "overwrote the first; add it to x.grad when x.grad is already set"
        )
    expect_close(what, "x.grad", got, 2.0)
    what = f"a = square(x); y = add(square(a), square(a)) at x = {value}"

    def diamond(x):
        a = Square()(x)
        return Add()(Square()(a), Square()(a))

    _, _, got = build(what, diamond)
    if not matches(got, 8 * value**3):
        raise CheckFailed(
            f"{what}: x.grad is {got:.6g} but should be {8 * value**3:.6g}: a's creator "
            "ran before both gradients reached a; take the functions in order of "
            "generation, the latest first, and each only once"
        )
    passed("Variable and Function", 6)


# -- stage 4: a Model trained on the spiral data set ----------------------------------------


def spiral(gen, per_class=100, classes=3):
    """Draw the spiral data set of DeZero (and CS231n): 3 arms of 100 points each."""
    n = per_class * classes
    x, t = np.zeros((n, 2)), np.zeros(n, dtype=int)
    for j in range(classes):
        r = np.arange(per_class) / per_class
        theta = j * 4.0 + 4.0 * r + gen.standard_normal(per_class) * 0.2
        x[j * per_class : (j + 1) * per_class] = np.c_[r * np.sin(theta), r * np.cos(theta)]
        t[j * per_class : (j + 1) * per_class] = j
    return x, t


def check_spiral_model(TwoLayerNet, train) -> None:
    """Check a Model subclass with two Linear layers, and a loop that trains it on the spiral."""
    from ..autograd import Variable
    from ..autograd.layers import Layer
    from ..autograd.models import Model

    require_own(TwoLayerNet, "TwoLayerNet", bases=(Model, Layer))
    require_own(train, "train", kind="function")
    denied = (("autograd/models.py", "MLP"), ("autograd/optimizers.py", ""), ("trainer.py", ""))
    c, gen = Checker(allowed=AUTOGRAD, denied=denied), rng()
    model = c.new("TwoLayerNet", TwoLayerNet, 10, 3)
    x, t = spiral(gen)
    y = c.call("TwoLayerNet.forward", model, x[:5])
    if not isinstance(y, Variable):
        raise CheckFailed(f"model(x) returned {type(y).__name__}; a Model returns a Variable")
    expect_shape("model(x[:5])", "y", y.data, (5, 3), "(N, out_size)")
    params = list(c.call("model.params", model.params))
    if len(params) != 4:
        raise CheckFailed(
            f"model.params() gave {len(params)} parameters; two Linear layers have 4 (W and b "
            "each): assign the layers as attributes (self.l1 = L.Linear(...))"
        )
    c.call("train", train, model, x, t, max_epoch=150, batch_size=30, lr=1.0)
    scores = np.asarray(c.call("model(x)", model, x).data)
    accuracy = float((scores.argmax(axis=1) == t).mean())
    if accuracy < 0.75:
        raise CheckFailed(
            f"after train, the model classifies {accuracy:.0%} of the spiral correctly; "
            "expected at least 75%: in each step call model.cleargrads(), loss.backward(), "
            "then p.data -= lr * p.grad.data for every parameter"
        )
    passed("TwoLayerNet and train", 4)


# -- stage 3: higher-order derivatives ------------------------------------------------------


def check_newton(newton) -> None:
    """Check ``newton(f, x0, iters)``: Newton's method with f'' from double backprop."""
    require_own(newton, "newton", kind="function")
    c, gen = Checker(allowed=AUTOGRAD + ("exercises/dezero.py",)), rng()
    a, b = (float(np.round(v, 2)) for v in gen.uniform((0.5, 1.0), (2.0, 3.0)))
    x0 = float(np.round(gen.uniform(1.5, 2.5), 2))

    def f(x):
        return a * x**4 - b * x**2

    what = f"newton(f, {x0}, iters=3) for f(x) = {a} x^4 - {b} x^2"
    got = c.call(what, newton, f, x0, 3)
    got = float(as_array(what, "x", getattr(got, "data", got)))
    want = wrong = x0
    for _ in range(3):
        g1, g2 = 4 * a * want**3 - 2 * b * want, 12 * a * want**2 - 2 * b
        want -= g1 / g2
        h1, h2 = 4 * a * wrong**3 - 2 * b * wrong, 12 * a * wrong**2 - 2 * b
        wrong -= h1 / (h1 + h2)
    if not matches(got, want, 1e-6) and matches(got, wrong, 1e-6):
        raise CheckFailed(
            f"{what} gave {got:.6g}: the second derivative came out as f' + f'', because "
            "x.grad still held f' when the second backward added to it; clear x's gradient "
            "before differentiating gx"
        )
    if matches(got, x0):
        raise CheckFailed(f"{what} returned x0 unchanged: update x in every iteration")
    expect_close(what, "x", got, want, "x <- x - f'(x) / f''(x), both from backward", 1e-6)
    passed("newton", 3)


# -- stage 5: a recurrent network -----------------------------------------------------------


def _rnn_reference(xs, Wx, bx, Wh, Wf, bf):
    h, ys = None, []
    for x in xs:
        a = x @ Wx + bx if h is None else x @ Wx + bx + h @ Wh
        h = np.tanh(a)
        ys.append(h @ Wf + bf)
    return ys


def check_simple_rnn(SimpleRNN) -> None:
    """Check SimpleRNN: a hidden state carried across calls, reset_state, and BPTT."""
    from ..autograd import Variable
    from ..autograd.layers import Layer
    from ..autograd.models import Model

    require_own(SimpleRNN, "SimpleRNN", bases=(Model, Layer))
    denied = tuple(("autograd/", name) for name in ("RNN", "LSTM", "SimpleRNN", "BetterRNN"))
    c, gen = Checker(allowed=AUTOGRAD, denied=denied), rng()
    model = c.new("SimpleRNN", SimpleRNN, 4, 2)
    xs = gen.standard_normal((5, 1, 3))
    c.call("model.reset_state", model.reset_state)
    ys = [c.call(f"model(xs[{i}])", model, Variable(x)) for i, x in enumerate(xs)]
    for name in ("x2h", "h2h", "fc"):
        if not hasattr(model, name):
            raise CheckFailed(f"SimpleRNN has no attribute {name}: name the layers as asked")
    if getattr(model.h2h, "b", None) is not None:
        raise CheckFailed("h2h has a bias: create it with nobias=True (x2h already adds one)")
    for name in ("x2h", "h2h", "fc"):
        if getattr(getattr(model, name), "W", None) is None or getattr(model, name).W.data is None:
            raise CheckFailed(
                f"after 5 steps, {name} never ran: the new state is tanh(x2h(x) + h2h(h)) "
                "from the second step on (it ignored the hidden state of the step before), "
                "and the output is fc(h)"
            )
    weights = [
        np.asarray(p.data, dtype=np.float64)
        for p in (model.x2h.W, model.x2h.b, model.h2h.W, model.fc.W, model.fc.b)
    ]
    want = _rnn_reference(xs, *weights)
    if matches(ys[1].data, _rnn_reference(xs[1:2], *weights)[0], 1e-5):
        raise CheckFailed(
            "model(xs[1]) ignored the hidden state of the step before: keep h on self and "
            "add h2h(h) to x2h(x) from the second step on"
        )
    for i, (y, w) in enumerate(zip(ys, want, strict=True)):
        expect_close(f"model(xs[{i}]) after reset_state", "y", y.data, w, rtol=1e-5)
    c.call("model.reset_state", model.reset_state)
    y0 = c.call("model(xs[0])", model, Variable(xs[0]))
    expect_close("model(xs[0]) after a second reset_state", "y", y0.data, want[0], rtol=1e-5)
    c.call("model.reset_state", model.reset_state)
    c.call("model.cleargrads", model.cleargrads)
    g = gen.standard_normal((5, 1, 2))
    loss = None
    for i, x in enumerate(xs):
        term = (c.call(f"model(xs[{i}])", model, Variable(x)) * Variable(g[i])).sum()
        loss = term if loss is None else loss + term
    c.call("loss.backward", loss.backward)
    if model.h2h.W.grad is None:
        raise CheckFailed("after loss.backward(), h2h.W.grad is None: h2h never ran")
    Wh = weights[2].copy()

    def total():
        ys = _rnn_reference(xs, weights[0], weights[1], Wh, weights[3], weights[4])
        return float(sum((gi * yi).sum() for gi, yi in zip(g, ys, strict=True)))

    num = numerical_gradient(total, Wh)
    expect_close(
        "backpropagation through time",
        "h2h.W.grad",
        model.h2h.W.grad.data,
        num,
        rtol=1e-4,
        atol=1e-5,
    )
    passed("SimpleRNN", 8)
