"""Real data (PyWavelets' signals and images), PSNR / SSIM, and `structsparse recover --signal / --image`."""

import numpy as np
import pytest

from structsparse import cs
from structsparse.cli import main
from structsparse.cs.data import load_image, load_signal
from structsparse.cs.metrics import psnr, ssim, ssim_map
from structsparse.cs.real import best_k_term_error, best_tree_error, make_problem
from structsparse.exceptions import ParameterError, ShapeError


def test_data_loaders():
    import pywt

    assert np.array_equal(load_signal("ecg"), pywt.data.ecg())
    assert np.allclose(load_signal("doppler", 512), pywt.data.demo_signal("Doppler", 512))
    img = load_image("camera", 64)
    assert img.shape == (64, 64) and 0 <= img.min() and img.max() <= 1
    # block averages of the original
    assert np.isclose(img[3, 5], pywt.data.camera()[24:32, 40:48].mean() / 255)
    with pytest.raises(ParameterError, match="size"):
        load_image("ascent", 100)
    with pytest.raises(ParameterError, match="'n'"):
        load_signal("ecg", 512)
    with pytest.raises(ParameterError, match="name"):
        load_signal("sine")


def test_psnr_closed_form():
    a = np.zeros((16, 16))
    b = np.full((16, 16), 0.1)
    assert np.isclose(psnr(a, b, data_range=1.0), 20.0)  # MSE 0.01
    assert psnr(a, a, 1.0) == np.inf
    with pytest.raises(ShapeError, match="image"):
        psnr(a, np.zeros((16, 15)))


def test_ssim_against_a_direct_computation():
    rng = np.random.default_rng(0)
    x = rng.random((24, 20))
    y = x + 0.1 * rng.standard_normal(x.shape)
    L = 1.0
    # one pixel by hand: Gaussian weights (sigma 1.5, radius 5, normalized), biased local statistics
    t = np.arange(-5, 6)
    w1 = np.exp(-t ** 2 / (2 * 1.5 ** 2))
    w = np.outer(w1, w1) / np.outer(w1, w1).sum()
    i, j = 8, 7  # map index -> pixel (i + 5, j + 5)
    px, py = x[i:i + 11, j:j + 11], y[i:i + 11, j:j + 11]
    mx, my = np.sum(w * px), np.sum(w * py)
    vx, vy = np.sum(w * (px - mx) ** 2), np.sum(w * (py - my) ** 2)
    cxy = np.sum(w * (px - mx) * (py - my))
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    ref = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    smap = ssim_map(x, y, data_range=L)
    assert smap.shape == (14, 10)
    assert np.isclose(smap[i, j], ref)
    assert np.isclose(ssim(x, y, L), smap.mean())
    # properties: identity gives 1, symmetric, below 1 otherwise
    assert np.isclose(ssim(x, x, L), 1.0)
    assert np.isclose(ssim(x, y, L), ssim(y, x, L))
    assert ssim(x, y, L) < ssim(x, x + 0.01 * rng.standard_normal(x.shape), L) < 1


def test_ssim_of_constant_images_is_the_luminance_term():
    a, b = np.full((16, 16), 0.2), np.full((16, 16), 0.6)
    c1 = 0.01 ** 2
    assert np.isclose(ssim(a, b, 1.0), (2 * 0.2 * 0.6 + c1) / (0.2 ** 2 + 0.6 ** 2 + c1))
    with pytest.raises(ShapeError, match="reference"):
        ssim(np.zeros((8, 8)), np.zeros((8, 8)))


@pytest.mark.parametrize("sampling", ["fourier", "radial", "cartesian", "dct", "gaussian"])
def test_image_problems_measure_the_image(sampling):
    prob = make_problem("ascent", 0.25, sampling, size=32, rng=0)
    assert prob.shape == (32, 32) and abs(prob.m - 256) <= 40
    assert np.allclose(prob.truth, load_image("ascent", 32))
    mv = (lambda v: prob.A @ v) if isinstance(prob.A, np.ndarray) else prob.A.matvec
    assert np.allclose(mv(prob.coef), prob.y)
    cs.dottest(prob.A, rng=0)
    back = prob.backprojection()
    assert back.shape == (32, 32)
    if sampling != "gaussian":  # orthogonal rows: the back-projection is the minimum-norm fit
        assert np.allclose(mv(prob.synthesis.rmatvec(back.ravel())), prob.y)


def test_best_approximation_errors():
    c = np.array([3.0, 0, 4.0, 0, 0, 0, 0, 0])
    assert np.isclose(best_k_term_error(c, 1), 3 / 5)
    model = cs.TreeSparse(8, 1, "haar", 3)  # the root owns one coefficient: c[0]
    assert np.isclose(best_tree_error(c, model), 4 / 5)
    prob = make_problem("bumps", 0.25, n=256, rng=0)
    model = cs.TreeSparse(256, 40, "db4")
    assert best_tree_error(prob.coef, model) >= best_k_term_error(prob.coef, 40)


def _number(text, key):
    return float(text.split(key)[1].split()[0])


def test_cli_recovers_a_real_signal(capsys, tmp_path):
    out = tmp_path / "sig.png"
    assert main(["recover", "--signal", "piece-regular", "--n", "256", "--fraction", "0.35", "--method",
                 "model_cosamp", "--plot", str(out)]) == 0
    text = capsys.readouterr().out
    err = _number(text, "relative error ")
    back = _number(text, "back-projection relative error ")
    best = float(text.split("-coefficient tree ")[1].split(")")[0])
    assert best <= err < 0.5 * back  # recovery far better than the back-projection, no better than the best tree
    assert out.stat().st_size > 5000


def test_cli_recovers_a_real_image_with_psnr_and_ssim(capsys, tmp_path):
    out = tmp_path / "img.png"
    assert main(["recover", "--image", "camera", "--size", "32", "--fraction", "0.5", "--method", "model_iht",
                 "--plot", str(out)]) == 0
    text = capsys.readouterr().out
    assert "M=512" in text and "fourier sampling" in text
    rec_psnr = _number(text.split("recovery:")[1], "PSNR ")
    rec_ssim = _number(text.split("recovery:")[1], "SSIM ")
    assert 15 < rec_psnr < 60 and 0 < rec_ssim <= 1
    assert out.stat().st_size > 5000


def test_cli_real_data_errors(capsys):
    assert main(["recover", "--image", "camera", "--sampling", "bernoulli", "--size", "32"]) == 2
    assert "--sampling" in capsys.readouterr().err
    assert main(["recover", "--signal", "ecg", "--image", "camera"]) == 2
    assert "exclude" in capsys.readouterr().err
    assert main(["recover", "--image", "camera", "--size", "100"]) == 2
    assert "size" in capsys.readouterr().err
