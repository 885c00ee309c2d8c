"""The ``stimgen`` command: a thin layer over the Python API.

Bad input ends with one line on stderr naming the file and the problem, and exit code 2.
"""

from __future__ import annotations

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
