"""Knowledge distillation (loss, gradient by finite differences, training) and progressive pruning."""

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ParameterError


def test_distillation_gradient_by_finite_differences():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 4))
    t = rng.normal(size=(5, 4)) * 3
    y = rng.integers(0, 4, 5)
    for alpha, T in ((0.5, 4.0), (1.0, 2.0), (0.3, 1.0)):
        loss, g = nn.distillation_loss(z, y, t, alpha, T)
        num = np.zeros_like(z)
        h = 1e-6
        for idx in np.ndindex(z.shape):
            zp, zm = z.copy(), z.copy()
            zp[idx] += h
            zm[idx] -= h
            num[idx] = (nn.distillation_loss(zp, y, t, alpha, T)[0] - nn.distillation_loss(zm, y, t, alpha, T)[0]) / (2 * h)
        np.testing.assert_allclose(g, num, atol=1e-8, rtol=1e-6)


def test_distillation_loss_closed_forms():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 3))
    y = rng.integers(0, 3, 6)
    t = rng.normal(size=(6, 3))
    ce, gce = nn.softmax_cross_entropy(z, y)
    loss, g = nn.distillation_loss(z, y, t, alpha=0.0)
    assert loss == ce and np.array_equal(g, gce)
    # alpha = 1, student = teacher: KL = 0 and zero gradient
    loss, g = nn.distillation_loss(t, y, t, alpha=1.0, temperature=3.0)
    assert loss == pytest.approx(0.0, abs=1e-12) and np.allclose(g, 0, atol=1e-12)
    # KL by hand at T = 1
    p = np.exp(t) / np.exp(t).sum(1, keepdims=True)
    q = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    kl = np.mean(np.sum(p * np.log(p / q), axis=1))
    assert nn.distillation_loss(z, y, t, alpha=1.0, temperature=1.0)[0] == pytest.approx(kl, rel=1e-10)


@pytest.fixture(scope="module")
def data():
    return nn.load_digits_splits(rng=0, n_samples=500)


def test_train_with_teacher_moves_student_towards_it(data):
    X_tr, X_va, X_te, y_tr, y_va, y_te = data
    teacher = nn.small_cnn((6, 8), rng=1)
    nn.train(teacher, X_tr, y_tr, epochs=3, lr=0.05, rng=0, progress=False)
    student = nn.small_cnn((4, 4), rng=2)
    t = teacher.forward(X_va)

    def kl(s):
        return nn.distillation_loss(s.forward(X_va), y_va, t, alpha=1.0, temperature=2.0)[0]

    before = kl(student)
    snapshot = student.copy()
    nn.train(student, X_tr, y_tr, epochs=3, lr=0.05, rng=0, progress=False, teacher=teacher, distill=1.0,
             temperature=2.0)
    assert kl(student) < 0.5 * before
    # the teacher is not modified
    other = snapshot.copy()
    nn.train(other, X_tr, y_tr, epochs=1, lr=0.05, rng=0, progress=False, teacher=teacher, distill=0.5)
    np.testing.assert_array_equal(teacher.forward(X_va), t)
    with pytest.raises(ParameterError, match="distill"):
        nn.train(snapshot, X_tr, y_tr, epochs=1, teacher=teacher, distill=2.0, progress=False)
    with pytest.raises(TypeError, match="teacher"):
        nn.train(snapshot, X_tr, y_tr, epochs=1, teacher="t", progress=False)


def test_prune_progressive_steps_and_recipe(data):
    X_tr, X_va, X_te, y_tr, y_va, y_te = data
    net = nn.small_cnn((6, 8), rng=0)
    nn.train(net, X_tr, y_tr, epochs=3, lr=0.05, rng=0, progress=False)
    res = nn.prune_progressive(net, X_tr, y_tr, budgets=[0.7, 0.5], epochs_per_step=1, X_val=X_va, y_val=y_va,
                               teacher=net, distill=0.5, lam0=0.5, grow=3.0, max_trials=4, rng=0)
    d = res.dense_flops
    assert [s["budget"] for s in res.steps] == [0.7, 0.5]
    assert res.steps[0]["flops"] <= 0.7 * d and res.steps[1]["flops"] <= 0.5 * d
    assert nn.flops(res.net) == res.steps[-1]["flops"]
    assert res.epochs_run == sum(s["epochs_run"] for s in res.steps)
    # the recipe refers to the dense network and reproduces the final one
    again = nn.apply_recipe(net, res.recipe)
    np.testing.assert_allclose(again.forward(X_te), res.net.forward(X_te), atol=1e-6, rtol=0)
    with pytest.raises(ParameterError, match="budgets"):
        nn.prune_progressive(net, X_tr, y_tr, budgets=[0.3, 0.5])
