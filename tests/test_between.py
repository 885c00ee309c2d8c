"""Items that lie between two others (labels.csv's between_* columns) and the between term that
GAIA and the AE learn them with."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_one_error_line
from conftest import stimgen_cli as stimgen
from PIL import Image

from stimgen.data import open_folder
from stimgen.errors import StimgenError
from stimgen.models.bundle import load_model
from stimgen.models.gaia import GAIA, GAIAConfig
from stimgen.models.model import Autoencoder, between_loss
from stimgen.models.networks import NetworkConfig
from stimgen.train import TrainSettings, train

SIDE = 16


def bar(column: int) -> np.ndarray:
    """A 16 x 16 image, black but for a two-pixel vertical bar starting at ``column``."""
    image = np.zeros((SIDE, SIDE), dtype=np.uint8)
    image[:, column : column + 2] = 255
    return image


def bars(folder, between=True):
    """Bars at every column (b00-b14) and, with ``between``, bars that lie between two others: the
    bar at c lies (c - c1) / (c2 - c1) of the way from the bar at c1 to the bar at c2."""
    folder.mkdir()
    rows = []
    for c in range(SIDE - 1):
        Image.fromarray(bar(c)).save(folder / f"b{c:02d}.png")
        rows.append({"file": f"b{c:02d}.png", "column": c})
    if between:
        rng = np.random.default_rng(0)
        for k in range(90):
            c1, c2 = sorted(rng.choice(SIDE - 1, size=2, replace=False))
            c = int(rng.integers(c1, c2 + 1))
            Image.fromarray(bar(c)).save(folder / f"m{k:02d}.png")
            rows.append({"file": f"m{k:02d}.png", "column": c, "between_a": f"b{c1:02d}.png",
                         "between_b": f"b{c2:02d}.png", "between_at": (c - c1) / (c2 - c1)})
    pd.DataFrame(rows).to_csv(folder / "labels.csv", index=False)
    return folder


def test_between_rows_are_read_as_positions_and_kept_within_a_split(tmp_path):
    ds = open_folder(bars(tmp_path / "bars"))
    b = ds.betweens()
    assert len(b) == 90 and b.at.min() >= 0 and b.at.max() <= 1
    files = np.array(ds.files)
    column = ds.labels["column"].to_numpy()
    first = int(np.flatnonzero(files == "m00.png")[0])
    k = int(np.flatnonzero(b.item == first)[0])
    assert column[first] == pytest.approx(column[b.a[k]] + b.at[k] * (column[b.b[k]] - column[b.a[k]]))
    keep = np.flatnonzero(files != files[b.a[0]])  # leave out one parent: its rows go, the rest are renumbered
    kept = b.within(keep, len(files))
    assert 0 < len(kept) < len(b)
    survivors = np.flatnonzero((b.a != b.a[0]) & (b.b != b.a[0]) & (b.item != b.a[0]))
    assert len(kept) == len(survivors)
    for name in ("item", "a", "b"):
        assert (files[keep][getattr(kept, name)] == files[getattr(b, name)[survivors]]).all()
    assert np.array_equal(kept.at, b.at[survivors])
    assert open_folder(bars(tmp_path / "plain", between=False)).betweens() is None


@pytest.mark.parametrize("change, message", [
    ({"between_a": "nothere.png"}, "between_a and between_b must both name files of the folder"),
    ({"between_b": np.nan}, "between_a and between_b must both name files of the folder"),
    ({"between_at": 1.5}, "between_at must be a number from 0 to 1, got 1.5"),
])
def test_a_bad_between_row_names_the_table_and_the_row(tmp_path, change, message):
    folder = bars(tmp_path / "bars")
    table = pd.read_csv(folder / "labels.csv")
    for column, value in change.items():
        table.loc[table["file"] == "m03.png", column] = value
    table.to_csv(folder / "labels.csv", index=False)
    with pytest.raises(StimgenError, match=message) as caught:
        open_folder(folder).betweens()
    assert "labels.csv, row of m03.png" in str(caught.value)


def test_between_loss_is_the_error_of_the_decoded_mixture():
    torch.manual_seed(0)
    ae = Autoencoder(NetworkConfig(input_shape=(3,), latent_dim=3, width=8, output="linear"))
    x_a, x_b, x_between = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 3)
    at = torch.tensor([0.0, 0.25, 0.5, 1.0])
    with torch.no_grad():
        mixed = ae.decoder((1 - at[:, None]) * ae.encoder(x_a) + at[:, None] * ae.encoder(x_b))
        loss = float(between_loss(ae, (x_a, x_b, x_between, at)))
        at_ends = float(between_loss(ae, (x_a, x_b, ae(x_a), torch.zeros(4))))
    assert loss == pytest.approx(float((x_between - mixed).abs().mean()))
    assert at_ends < 1e-6  # at 0 the mixture is a's own reconstruction


def _midpoint_mass(run, tmp_path) -> float:
    """How much of the decoded midpoint between the bars at columns 2 and 12 lies at columns 6-8."""
    model = load_model(run)
    with torch.no_grad():
        x = torch.from_numpy(np.stack([bar(2), bar(12)])[:, None].astype(np.float32) / 255)
        z = model.encode(x)
        image = model.decode(z.mean(0, keepdim=True))[0, 0].numpy()
    profile = image.sum(0)
    return float(profile[6:10].sum() / profile.sum())


def test_the_between_term_makes_straight_latent_paths_move_the_bar(tmp_path):
    data = bars(tmp_path / "bars")
    common = dict(model="ae", steps=300, batch_size=16, lr=2e-3, size=SIDE, latent_dim=4, width=8, max_channels=32,
                  seed=0, device="cpu", preview_every=10_000, checkpoint_every=10_000)
    with_term = train(data, tmp_path / "with", TrainSettings(**common, model_options={"between_weight": 1.0}),
                      progress=False)
    without = train(data, tmp_path / "without", TrainSettings(**common), progress=False)
    metrics = pd.read_csv(with_term / "metrics.csv")
    assert "L_between" in metrics.columns and "L_between" not in pd.read_csv(without / "metrics.csv").columns
    assert load_model(with_term).info["training"]["model_options"] == {"between_weight": 1.0}
    moved, faded = _midpoint_mass(with_term, tmp_path), _midpoint_mass(without, tmp_path)
    assert moved > 0.5 and moved > faded + 0.2, (moved, faded)


def test_gaias_between_term_moves_the_generator_only():
    x = torch.rand(8, 1, SIDE, SIDE)
    between = (torch.rand(4, 1, SIDE, SIDE), torch.rand(4, 1, SIDE, SIDE), torch.rand(4, 1, SIDE, SIDE),
               torch.rand(4))
    models = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        model = GAIA(GAIAConfig(NetworkConfig(input_shape=(1, SIDE, SIDE), latent_dim=4, width=4, max_channels=8),
                                between_weight=weight))
        metrics = model.train_step(x, model.configure_optimizers(), torch.Generator().manual_seed(1), between)
        assert ("L_between" in metrics) == (weight > 0)
        models[weight] = model
    plain, with_term = models[0.0], models[1.0]
    assert any(not torch.equal(a, b) for a, b in zip(plain.G.parameters(), with_term.G.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(plain.D.parameters(), with_term.D.parameters()))


def test_between_weight_on_data_without_betweens_is_one_line_and_no_run_folder(tmp_path):
    data = bars(tmp_path / "bars", between=False)
    out = tmp_path / "run"
    result = stimgen("train", "--data", data, "--out", out, "--size", "16", "--steps", "2", "--batch-size", "4",
                     "--set", "between_weight=1")
    assert_one_error_line(result, "between_weight needs items that lie between two others", "vowel-space", "bars")
    assert not out.exists()
