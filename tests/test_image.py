import numpy as np
import pytest
from PIL import Image

from stimgen.errors import StimgenError
from stimgen.signal.image import load_image, save_image


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


def write_png16(path, values):
    """A 16-bit greyscale PNG of ``values`` (uint16), written byte by byte (not by Pillow)."""
    import struct
    import zlib

    values = np.asarray(values, dtype=np.uint16)
    h, w = values.shape

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in values)
    header = struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0)  # bit depth 16, colour type 0 (grey)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))


def gradient(h=48, w=64):
    """A left-to-right ramp from 0 to 0.972 with mean 0.486, plus a vertical ripple."""
    ramp = np.linspace(0.0, 0.972, w)[None, :] + 0.02 * np.sin(np.linspace(0, 6 * np.pi, h))[:, None]
    return np.clip(ramp, 0.0, 1.0)


@pytest.mark.parametrize("size", [None, 32, (20, 30)])
@pytest.mark.parametrize("mode", ["gray", "rgb"])
def test_16_bit_png_is_read_at_its_full_scale(tmp_path, size, mode):
    truth = gradient()
    write_png16(tmp_path / "g16.png", np.round(truth * 65535))
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")  # Pillow sees a 16-bit image
    x = load_image(tmp_path / "g16.png", size=size, mode=mode)
    shape = {None: (48, 64), 32: (32, 32), (20, 30): (20, 30)}[size]
    assert x.shape == (shape if mode == "gray" else (*shape, 3)) and x.dtype == np.float32
    assert abs(float(x.mean()) - truth.mean()) < 0.01 and 0.0 <= x.min() and x.max() <= 1.0
    if mode == "rgb":
        assert np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 0], x[..., 2])
    if size is None:  # at native size, every pixel to 16-bit precision, not 8
        gray = x if mode == "gray" else x[..., 0]
        assert np.max(np.abs(gray - truth)) < 1e-4
    # the ramp survives resizing: left quarter dark, right quarter light
    gray = x if mode == "gray" else x[..., 0]
    q = gray.shape[1] // 4
    assert gray[:, :q].mean() < 0.2 and gray[:, -q:].mean() > 0.75


def _pgm16(path, values):
    h, w = values.shape
    path.write_bytes(f"P5\n{w} {h}\n65535\n".encode() + values.astype(">u2").tobytes())


def _tiff16_big_endian(path, values):
    Image.frombytes("I;16B", values.shape[::-1], values.astype(">u2").tobytes()).save(path)


@pytest.mark.parametrize("name, write", [
    ("g16.tif", lambda p, v: Image.fromarray(v.astype(np.uint16)).save(p)),  # I;16
    ("g16b.tif", _tiff16_big_endian),  # I;16B
    ("g16.pgm", _pgm16),  # Pillow reads it as 32-bit "I"
    ("g32.tif", lambda p, v: Image.fromarray((v / 65535 * (2**31 - 1)).astype(np.int32)).save(p)),  # "I", 32 bits
    ("f32.tif", lambda p, v: Image.fromarray((v / 65535).astype(np.float32)).save(p)),  # "F" in [0, 1]
])
def test_other_deep_greyscale_files_keep_their_scale(tmp_path, name, write):
    truth = gradient()
    write(tmp_path / name, np.round(truth * 65535))
    assert Image.open(tmp_path / name).mode in ("I;16", "I;16B", "I", "F")
    for size in (None, 24):
        x = load_image(tmp_path / name, size=size)
        assert abs(float(x.mean()) - truth.mean()) < 0.01
    assert np.max(np.abs(load_image(tmp_path / name) - truth)) < 1e-4


def test_deep_images_whose_scale_cannot_be_known_are_refused(tmp_path):
    Image.fromarray(np.full((8, 8), 255.0, dtype=np.float32)).save(tmp_path / "f255.tif")
    with pytest.raises(StimgenError) as info:
        load_image(tmp_path / "f255.tif")
    assert str(info.value) == (f"{tmp_path / 'f255.tif'}: 32-bit float image has values in [255, 255]; "
                               "stimgen reads float images as intensities in [0, 1]")
    Image.fromarray(np.full((8, 8), np.nan, dtype=np.float32)).save(tmp_path / "nan.tif")
    with pytest.raises(StimgenError, match=r"nan\.tif: image contains NaN"):
        load_image(tmp_path / "nan.tif")
    Image.fromarray(np.full((8, 8), -5, dtype=np.int32)).save(tmp_path / "neg.tif")
    with pytest.raises(StimgenError, match=r"neg\.tif: 32-bit integer image has negative values"):
        load_image(tmp_path / "neg.tif")


def test_8_bit_images_are_unchanged(tmp_path):
    truth = gradient()
    Image.fromarray(np.round(truth * 255).astype(np.uint8)).save(tmp_path / "g8.png")
    x = load_image(tmp_path / "g8.png")
    assert np.max(np.abs(x - truth)) <= 0.5 / 255 + 1e-6
    rgb = load_image(tmp_path / "g8.png", size=32, mode="rgb")
    assert rgb.shape == (32, 32, 3) and abs(float(rgb.mean()) - truth.mean()) < 0.01
