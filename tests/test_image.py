import numpy as np
import pytest
from PIL import Image

from stimgen.errors import StimgenError
from stimgen.image import load_image, save_image


def test_png_round_trip_gray_and_rgb(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.random((20, 30)).astype(np.float32)
    save_image(tmp_path / "g.png", gray)
    back = load_image(tmp_path / "g.png")
    assert back.shape == (20, 30) and back.dtype == np.float32
    assert np.max(np.abs(back - gray)) <= 0.5 / 255 + 1e-6
    rgb = rng.random((16, 16, 3))
    save_image(tmp_path / "c.png", rgb)
    assert load_image(tmp_path / "c.png", mode="rgb").shape == (16, 16, 3)
    assert load_image(tmp_path / "c.png", mode="gray").shape == (16, 16)


def test_resize_to_model_size_and_jpeg(tmp_path):
    x = np.zeros((40, 60, 3))
    x[:, 30:] = 1.0
    save_image(tmp_path / "half.jpg", x)
    y = load_image(tmp_path / "half.jpg", size=32, mode="rgb")
    assert y.shape == (32, 32, 3) and 0.0 <= y.min() and y.max() <= 1.0
    assert y[:, :8].mean() < 0.1 and y[:, -8:].mean() > 0.9


def test_bad_images(tmp_path):
    with pytest.raises(StimgenError, match="no such file"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(StimgenError, match=r"text\.png: not an image"):
        load_image(tmp_path / "text.png")
    Image.new("L", (8, 8)).save(tmp_path / "ok.png")
    truncated = (tmp_path / "ok.png").read_bytes()[:30]
    (tmp_path / "cut.png").write_bytes(truncated)
    with pytest.raises(StimgenError, match="not an image"):
        load_image(tmp_path / "cut.png")
    with pytest.raises(StimgenError, match=r"in \[0, 1\]"):
        save_image(tmp_path / "x.png", np.full((4, 4), 2.0))
    with pytest.raises(StimgenError, match="NaN"):
        save_image(tmp_path / "x.png", np.full((4, 4), np.nan))
    assert not (tmp_path / "x.png").exists()
