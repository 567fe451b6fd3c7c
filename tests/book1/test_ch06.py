"""Book 1, chapter 6 ("learning techniques"): what its scripts ask of ``common/*``.

Written in our own words after the usage of ``ch06/optimizer_compare_naive.py``,
``optimizer_compare_mnist.py``, ``hyperparameter_optimization.py``,
``overfit_weight_decay.py`` and ``overfit_dropout.py``:

* optimizers update plain Python floats kept in a dict (``{'x': -7.0, 'y': 2.0}``);
* a network class written the book's way (``loss(x, t)`` with no ``train``,
  ``gradient(x, t)`` returning a dict, a ``params`` dict, ``accuracy(x, t)``), with
  weights from ``np.random.randn`` (float64) and float32 images, trained by a
  hand-written loop and by ``Trainer`` with the book's call;
* a validation split made with ``shuffle_dataset``, and a random search over the
  learning rate and the weight decay that reads ``trainer.test_acc_list``.

The numbers asserted below were printed by the book's own code (its ``common/``
package, run outside this project) on the same inputs: they are deterministic.
"""

# ruff: noqa: NPY002 (the book seeds NumPy's global state, and so do these tests)

from __future__ import annotations

import numpy as np
import pytest

from framework.layers import Affine, Dropout, Relu, SoftmaxWithLoss
from framework.optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop
from framework.trainer import Trainer

# -- optimizer_compare_naive.py: f(x, y) = x**2 / 20 + y**2 from (-7, 2) ------

# Position after 30 updates, as the book's optimizers leave it.
BOOK_PATH_END = {
    "SGD": (SGD(lr=0.95), (-0.3503929957523197, 0.0847823165504322)),
    "Momentum": (Momentum(lr=0.1), (0.896413858493733, 0.08808560171506971)),
    "AdaGrad": (AdaGrad(lr=1.5), (-0.12016232231416045, 2.486389893984459e-17)),
    "Adam": (Adam(lr=0.3), (0.13600685239498186, 0.31824537553721943)),
    "Nesterov": (Nesterov(lr=0.1), (0.6896149016966209, -0.0006799058361171969)),
    "RMSprop": (RMSprop(lr=0.1), (-0.6974203096807907, 1.4834621508315574e-08)),
}


def df(x, y):
    """Gradient of f(x, y) = x**2 / 20 + y**2."""
    return x / 10.0, 2.0 * y


@pytest.mark.parametrize("name", list(BOOK_PATH_END))
def test_optimizers_move_scalars_kept_in_a_dict(name):
    optimizer, end = BOOK_PATH_END[name]
    params = {"x": -7.0, "y": 2.0}  # plain Python floats, as the script keeps them
    grads = {}
    path = []
    for _ in range(30):
        path.append((params["x"], params["y"]))
        grads["x"], grads["y"] = df(params["x"], params["y"])
        optimizer.update(params, grads)
    assert path[0] == (-7.0, 2.0)
    assert len(set(path)) == 30  # it moved at every step
    np.testing.assert_allclose((params["x"], params["y"]), end, rtol=1e-9, atol=1e-12)
    assert np.isscalar(params["x"]) or np.ndim(params["x"]) == 0


# -- a network written the book's way ------------------------------------------


class BookMultiLayerNet:
    """A fully connected ReLU net written as the book's ``MultiLayerNet``.

    He-scaled weights drawn from ``np.random.randn`` (float64, NumPy's global
    state), one ``Affine``/``Relu`` pair per hidden layer, ``SoftmaxWithLoss``,
    and L2 weight decay ``0.5 * lambda * sum(W**2)`` added to the loss (and
    ``lambda * W`` to each weight's gradient).
    """

    def __init__(self, input_size, hidden_size_list, output_size, weight_decay_lambda=0.0):
        sizes = [input_size, *hidden_size_list, output_size]
        self.weight_decay_lambda = weight_decay_lambda
        self.params = {}
        for i in range(1, len(sizes)):
            scale = np.sqrt(2.0 / sizes[i - 1])
            self.params[f"W{i}"] = scale * np.random.randn(sizes[i - 1], sizes[i])
            self.params[f"b{i}"] = np.zeros(sizes[i])
        self.n_affine = len(sizes) - 1
        self.layers = []
        for i in range(1, self.n_affine + 1):
            self.layers.append(Affine(self.params[f"W{i}"], self.params[f"b{i}"]))
            if i < self.n_affine:
                self.layers.append(Relu())
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        decay = sum(
            0.5 * self.weight_decay_lambda * np.sum(self.params[f"W{i}"] ** 2)
            for i in range(1, self.n_affine + 1)
        )
        return self.last_layer.forward(self.predict(x), t) + decay

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.n_affine + 1):
            affine = self.layers[2 * (i - 1)]
            grads[f"W{i}"] = affine.dW + self.weight_decay_lambda * affine.W
            grads[f"b{i}"] = affine.db
        return grads


@pytest.fixture(scope="module")
def images():
    """The first samples of the bundled Fashion-MNIST sample, as the book loads MNIST."""
    from framework.datasets import load_fashion_mnist

    (x_train, t_train), (x_test, t_test) = load_fashion_mnist(sample=True, verbose=False)
    assert x_train.dtype == np.float32  # and the nets' weights are float64: the book's mix
    return x_train[:500], t_train[:500], x_test[:500], t_test[:500]


# overfit_weight_decay.py on 300 training images, 4 "epochs": the book's accuracies.
BOOK_OVERFIT = {
    0.0: (
        [0.16666666666666666, 0.25666666666666665, 0.29, 0.32666666666666666],
        [0.188, 0.234, 0.26, 0.292],
        2.0296670802134105,
    ),
    0.1: (
        [0.16666666666666666, 0.25333333333333335, 0.29333333333333333, 0.31333333333333335],
        [0.188, 0.232, 0.262, 0.29],
        61.751001859048905,
    ),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weight_decay_lambda", [0.0, 0.1])
def test_overfit_weight_decay_loop_gives_the_books_numbers(images, weight_decay_lambda, dtype):
    x_all, t_all, x_test, t_test = images
    x_train, t_train = x_all[:300].astype(dtype), t_all[:300]
    x_test = x_test.astype(dtype)
    np.random.seed(0)
    network = BookMultiLayerNet(784, [100] * 6, 10, weight_decay_lambda=weight_decay_lambda)
    optimizer = SGD(lr=0.01)
    train_size, batch_size, max_epochs = 300, 100, 4
    iter_per_epoch = max(train_size / batch_size, 1)
    train_acc_list, test_acc_list = [], []
    epoch_cnt = 0
    for i in range(10**9):
        batch_mask = np.random.choice(train_size, batch_size)
        grads = network.gradient(x_train[batch_mask], t_train[batch_mask])
        optimizer.update(network.params, grads)
        if i % iter_per_epoch == 0:
            train_acc_list.append(network.accuracy(x_train, t_train))
            test_acc_list.append(network.accuracy(x_test, t_test))
            epoch_cnt += 1
            if epoch_cnt >= max_epochs:
                break
    train_acc, test_acc, loss = BOOK_OVERFIT[weight_decay_lambda]
    assert train_acc_list == train_acc
    assert test_acc_list == test_acc
    assert abs(network.loss(x_train, t_train) - loss) < 1e-6
    assert network.params["W1"] is network.layers[0].W  # updated in place


def test_trainer_with_the_books_call_trains_a_book_network(images):
    x_train, t_train, x_test, t_test = images
    x_train, t_train = x_train[:400], t_train[:400]
    np.random.seed(0)
    network = BookMultiLayerNet(784, [50, 50], 10)
    trainer = Trainer(
        network,
        x_train,
        t_train,
        x_test,
        t_test,
        epochs=5,
        mini_batch_size=100,
        optimizer="Adam",
        optimizer_param={"lr": 0.001},
        evaluate_sample_num_per_epoch=None,
        verbose=False,
    )
    trainer.train()
    # The book: max_iter = epochs * N / batch_size steps, one accuracy per epoch.
    assert len(trainer.train_loss_list) == 5 * 400 // 100
    assert len(trainer.train_acc_list) == len(trainer.test_acc_list) == 5
    assert trainer.test_acc_list[-1] == network.accuracy(x_test, t_test)
    assert trainer.train_acc_list[-1] == network.accuracy(x_train, t_train)
    assert trainer.train_acc_list[-1] > 0.6  # 10 classes: chance is 0.1
    assert np.mean(trainer.train_loss_list[-4:]) < np.mean(trainer.train_loss_list[:4])
    assert isinstance(trainer.optimizer, Adam)


def test_trainer_runs_repeat_under_np_random_seed(images):
    x_train, t_train, x_test, t_test = images

    def run():
        np.random.seed(3)
        net = BookMultiLayerNet(784, [20], 10)
        trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=2, verbose=False)
        trainer.train()
        return trainer.train_loss_list, trainer.test_acc_list

    assert run() == run()


class BookDropoutNet(BookMultiLayerNet):
    """The book's ``MultiLayerNetExtend`` with dropout: ``loss(x, t, train_flg=False)``."""

    def __init__(self, *args, dropout_ration=0.15, **kwargs):
        super().__init__(*args, **kwargs)
        layers = []
        for layer in self.layers:
            layers.append(layer)
            if isinstance(layer, Relu):
                layers.append(Dropout(dropout_ration))
        self.layers = layers

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            x = layer.forward(x, train_flg) if isinstance(layer, Dropout) else layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        return self.last_layer.forward(self.predict(x, train_flg), t)

    def gradient(self, x, t):
        self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        affines = [layer for layer in self.layers if isinstance(layer, Affine)]
        grads = {}
        for i, affine in enumerate(affines, start=1):
            grads[f"W{i}"], grads[f"b{i}"] = affine.dW, affine.db
        return grads


def test_overfit_dropout_usage_trains_a_net_whose_loss_takes_train_flg(images, capsys):
    x_train, t_train, x_test, t_test = images
    x_train, t_train = x_train[:300], t_train[:300]
    np.random.seed(0)
    network = BookDropoutNet(784, [100, 100], 10, dropout_ration=0.15)
    trainer = Trainer(
        network,
        x_train,
        t_train,
        x_test,
        t_test,
        epochs=3,
        mini_batch_size=100,
        optimizer="sgd",
        optimizer_param={"lr": 0.01},
        verbose=True,
    )
    assert trainer.kind == "book"
    trainer.train()
    out = capsys.readouterr().out
    assert [line[:9] for line in out.splitlines()] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert len(trainer.train_loss_list) == 9
    assert len(trainer.train_acc_list) == len(trainer.test_acc_list) == 3
    # Accuracy is measured in test mode (no units dropped): the same number twice.
    assert trainer.test_acc_list[-1] == network.accuracy(x_test, t_test)


# -- hyperparameter_optimization.py: a validation split and a random search ----


def test_validation_split_with_shuffle_dataset(images):
    from framework.functions import shuffle_dataset

    x_train, t_train, _, _ = images
    validation_num = int(x_train.shape[0] * 0.20)
    np.random.seed(0)
    x_shuffled, t_shuffled = shuffle_dataset(x_train, t_train)
    np.random.seed(0)
    order = np.random.permutation(len(x_train))  # what the book's shuffle_dataset draws
    np.testing.assert_array_equal(t_shuffled, t_train[order])
    np.testing.assert_array_equal(x_shuffled, x_train[order])
    x_val, t_val = x_shuffled[:validation_num], t_shuffled[:validation_num]
    x_rest = x_shuffled[validation_num:]
    assert validation_num == 100 and len(x_val) == len(t_val) == 100 and len(x_rest) == 400
    assert x_shuffled.dtype == x_train.dtype and t_train.tolist() != t_shuffled.tolist()


def test_random_search_reads_the_books_lists(images):
    x_all, t_all, _, _ = images
    np.random.seed(1)
    order = np.random.permutation(len(x_all))
    x_val, t_val = x_all[order[:100]], t_all[order[:100]]
    x_train, t_train = x_all[order[100:]], t_all[order[100:]]

    def train(lr, weight_decay, epochs=3):
        network = BookMultiLayerNet(784, [50, 50], 10, weight_decay_lambda=weight_decay)
        trainer = Trainer(
            network,
            x_train,
            t_train,
            x_val,
            t_val,
            epochs=epochs,
            mini_batch_size=100,
            optimizer="sgd",
            optimizer_param={"lr": lr},
            verbose=False,
        )
        trainer.train()
        return trainer.test_acc_list, trainer.train_acc_list

    results_val = {}
    for _ in range(4):
        weight_decay = 10 ** np.random.uniform(-8, -4)
        lr = 10 ** np.random.uniform(-6, -2)
        val_acc_list, train_acc_list = train(lr, weight_decay)
        assert len(val_acc_list) == len(train_acc_list) == 3
        results_val[f"lr:{lr}, weight decay:{weight_decay}"] = val_acc_list
    ranked = sorted(results_val.items(), key=lambda kv: kv[1][-1], reverse=True)
    assert ranked[0][1][-1] >= ranked[-1][1][-1]
    best_lr = float(ranked[0][0].split(",")[0].split(":")[1])
    assert 1e-6 <= best_lr <= 1e-2
