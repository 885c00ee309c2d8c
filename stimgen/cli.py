"""The ``stimgen`` command: a thin layer over the Python API.

Bad input ends with one line on stderr naming the file and the problem, and exit code 2.
"""

from __future__ import annotations

import os
import sys

import click

import stimgen
from stimgen import data as data_api
from stimgen.errors import StimgenError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(stimgen.__version__, prog_name="stimgen")
def cli() -> None:
    """Calibrated morph stimuli for psychophysics: GAIA models of vowels, birdsong and images.

    Start with `stimgen data build vowels --out data/vowels`, then look at its preview.png.
    """


@cli.group()
def data() -> None:
    """Build the built-in data sets and inspect data folders."""


@data.command("build")
@click.argument("name", type=click.Choice(data_api.BUILTIN_NAMES))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write (must not exist).")
@click.option("--n", type=int, default=None,
              help="How many items. Default: vowels 1,520 (the whole table; more adds jittered tokens), "
                   "birdsong 2,000, digits 5,000.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed; same seed, same files.")
@click.option("--size", type=int, default=32, show_default=True, help="Image size in pixels (digits only).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def data_build(name: str, out: str, n: int | None, seed: int, size: int, force: bool) -> None:
    """Write a built-in data set NAME: its files, labels.csv, meta.json and preview.png.

    The set is generated offline (deterministic from --seed), cached in $STIMGEN_CACHE or the
    user cache folder, and copied to --out.

    Example: stimgen data build birdsong --n 500 --seed 1 --out data/birdsong
    """
    ds = data_api.build(name, out, n=n, seed=seed, size=size, force=force, progress=True)
    click.echo(f"wrote {len(ds)} {ds.kind} files, labels.csv and preview.png to {ds.root}")


@data.command("show")
@click.argument("folder", type=click.Path())
def data_show(folder: str) -> None:
    """Print counts and a summary of the labels of a data FOLDER (built-in or your own).

    Example: stimgen data show data/vowels
    """
    click.echo(data_api.summarize(data_api.open_folder(folder)))


@cli.command("train")
@click.option("--data", required=True, help="A built-in set (vowels, birdsong, digits) or a folder of your files.")
@click.option("--model", "model", default="gaia", show_default=True, type=click.Choice(["gaia", "ae", "vae", "acai"]))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder; becomes the model folder.")
@click.option("--steps", default=2000, show_default=True, help="Training steps.")
@click.option("--batch-size", default=32, show_default=True, help="Items per step (split over processes).")
@click.option("--lr", default=1e-4, show_default=True, help="Adam learning rate.")
@click.option("--latent-dim", default=64, show_default=True, help="Latent units.")
@click.option("--width", default=16, show_default=True, help="Channels of the first layer (doubling per halving).")
@click.option("--size", type=int, default=None, help="Image or spectrogram side in pixels (32, 64, 128).")
@click.option("--distance-weight", type=float, default=None, help="GAIA's pairwise-distance loss weight.")
@click.option("--recon-weight", default=0.0, show_default=True,
              help="GAIA: weight of a direct |x - G(x)| term (0 = the paper; see docs/models.md).")
@click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--seed", default=0, show_default=True, help="Random seed: same seed, same model on the CPU.")
@click.option("--preview-every", default=250, show_default=True, help="Steps between preview PNGs.")
@click.option("--checkpoint-every", default=250, show_default=True, help="Steps between checkpoints.")
@click.option("--resume", is_flag=True, help="Continue from the run folder's last checkpoint.")
@click.option("--force", is_flag=True, help="Start over in an existing run folder.")
def train_cmd(data: str, model: str, out: str, steps: int, batch_size: int, lr: float, latent_dim: int, width: int,
              size: int | None, distance_weight: float | None, recon_weight: float, device: str, seed: int, preview_every: int,
              checkpoint_every: int, resume: bool, force: bool) -> None:
    """Train a model (GAIA by default) and write it to --out as a model folder.

    Watch previews/ and metrics.csv while it runs; Ctrl-C saves a checkpoint. Several
    processes or GPUs: torchrun --nproc_per_node N -m stimgen train ...

    Example: stimgen train --data vowels --model gaia --steps 3000 --out runs/vowels
    """
    from stimgen.train import Interrupted, TrainSettings, train

    settings = TrainSettings(model=model, steps=steps, batch_size=batch_size, lr=lr, latent_dim=latent_dim,
                             width=width, size=size, distance_weight=distance_weight, recon_weight=recon_weight,
                             device=device, seed=seed,
                             preview_every=preview_every, checkpoint_every=checkpoint_every)
    try:
        path = train(data, out, settings, resume=resume, force=force)
    except Interrupted as exc:
        click.echo(f"stimgen: {exc}", err=True)
        sys.exit(130)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, only rank 0 writes and speaks
        click.echo(f"wrote the model folder {path}")


@cli.group()
def model() -> None:
    """Inspect trained models (folders, or the shipped vowels, birdsong, digits)."""


@model.command("show")
@click.argument("name_or_path")
def model_show(name_or_path: str) -> None:
    """Print what a model is, what it was trained on and how.

    Example: stimgen model show vowels
    """
    from stimgen.models.bundle import describe, load_model

    click.echo(describe(load_model(name_or_path)))


def main() -> None:
    """Entry point: run the command, turning bad input into one line and exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except StimgenError as exc:
        click.echo(f"stimgen: error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("stimgen: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
