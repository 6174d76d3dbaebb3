"""The full-size digits figures of issue 6 (run with ``pytest -m slow``)."""

import pytest

pytestmark = pytest.mark.slow


def test_small_cnn_pruned_to_a_quarter_of_the_flops():
    import structsparse.nn as nn
    from structsparse.nn.experiment import digits_pruning

    out = digits_pruning("cnn", budget=0.25, quick=False, rng=0, verbose=False, speed_repeats=10)
    res, speed = out.result, out.speed
    # 60/20/20 split, selection on validation only, test scored once (0.969 and 0.981 measured with seed 0);
    # the earlier 70/30 split chose lam on the test part and trained on more data
    assert out.dense_acc >= 0.96
    assert out.pruned_acc >= 0.96
    assert res.dense_flops / res.flops >= 4.0
    # speed is measured in the same run and reported, not asserted as a timing (see benchmarks/bench_nn.py);
    # what must hold whatever the machine load: the pruned network computes with fewer FLOPs and its
    # structured form beats the same density stored as CSR
    assert speed.batch == 1024
    assert speed.theoretical == pytest.approx(nn.flops(nn.fold_batchnorm(out.dense)) / nn.flops(nn.fold_batchnorm(res.net)))
    assert speed.csr_efficiency < speed.efficiency
    print(f"\nefficiency {speed.efficiency:.2f} (realized {speed.realized:.2f}x of {speed.theoretical:.2f}x), "
          f"CSR {speed.csr_realized:.2f}x; accuracy {out.dense_acc:.4f} -> {out.pruned_acc:.4f}")


def test_mlp_group_lasso_on_pixels_keeps_a_small_set(tmp_path):
    from structsparse.nn.experiment import pixel_selection
    import matplotlib.pyplot as plt

    from structsparse.nn.plots import pixel_mask_figure

    out = pixel_selection(lam=0.1, epochs=25, fine_tune=10, rng=0)
    assert len(out.kept_pixels) <= 32
    assert out.accuracy >= 0.95
    fig = pixel_mask_figure(out.kept_pixels, tmp_path / "pixels.png", accuracy=out.accuracy, example=out.example)
    assert (tmp_path / "pixels.png").stat().st_size > 5_000
    plt.close(fig)
