"""The README's quick tour runs as written and prints what it promises."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_two_commands():
    text = README.read_text()
    assert "pip install -e . && python -m framework train" in text
    test_command = re.search(r"```bash\n(pip install -e \"\.\[test.*?)\n```", text).group(1)
    ci = (README.parent / ".ci" / "run").read_text()
    assert test_command in ci, "the CI script must run the README's test command exactly"


def test_shopping_block_gives_the_books_numbers():
    scope: dict = {}
    exec(python_blocks()[0], scope)
    assert scope["price"] == pytest.approx(715)
    assert scope["dtax"] == pytest.approx(650)
    assert scope["dapple_price"] == pytest.approx(2.2)
    assert scope["dapple_num"] == pytest.approx(110)
    assert scope["dorange_price"] == pytest.approx(3.3)
    assert scope["dorange_num"] == pytest.approx(165)


def test_training_tour_runs_on_the_sample_with_the_books_trainer_call(tmp_path, monkeypatch):
    import framework.datasets

    load = framework.datasets.load_fashion_mnist
    monkeypatch.setattr(
        framework.datasets,
        "load_fashion_mnist",
        lambda **kw: load(sample=True, verbose=False, **kw),
    )
    monkeypatch.chdir(tmp_path)
    block = python_blocks()[1]
    assert re.search(r"Trainer\(\s*net, x_train, t_train, x_test, t_test, epochs=3,", block)
    scope: dict = {}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        exec(block, scope)
    trainer = scope["trainer"]
    assert trainer.optimizer.__class__.__name__ == "Adam" and trainer.optimizer.lr == 0.001
    assert len(trainer.train_acc_list) == len(trainer.test_acc_list) == 3
    assert trainer.test_acc_list[-1] > 0.75  # 3 epochs on the 6,000-image sample
    assert (tmp_path / "curves.png").stat().st_size > 0
    assert (tmp_path / "weights.npz").stat().st_size > 0


@pytest.mark.slow
def test_training_tour_reaches_the_promised_accuracy(fashion_mnist_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FRAMEWORK_DATA", str(fashion_mnist_dir))
    scope: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(python_blocks()[1], scope)
        accuracy = scope["net"].accuracy(scope["x_test"], scope["t_test"])
        exec(python_blocks()[2], scope)
    assert len(scope["x_train"]) == 60000
    assert accuracy >= 0.85  # the README says "about 0.86"
    assert (tmp_path / "curves.png").stat().st_size > 0
    assert (tmp_path / "weights.npz").stat().st_size > 0
    errors = scope["gradient_check"](
        scope["net64"], scope["x_train"][:3].astype("float64"), scope["t_train"][:3]
    )
    assert max(errors.values()) < 1e-7
