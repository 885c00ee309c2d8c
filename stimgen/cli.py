"""The ``stimgen`` command: a thin layer over the Python API.

Bad input ends with one line on stderr naming the file and the problem, and exit code 2.
"""

from __future__ import annotations

import os
import sys
import warnings

import click

import stimgen
from stimgen import data as data_api
from stimgen import options
from stimgen.errors import StimgenError
from stimgen.options import RenderSettings, TrainSettings
from stimgen.outputs import exit_cleanly_on_sigterm

FORCE_HELP = "Replace --out if it exists and stimgen wrote it (never your own files or the inputs)."


def _seed(ctx, param, value: int) -> int:
    """--seed of every verb: refused outside what numpy and torch accept (stimgen.options.check_seed),
    before any work."""
    return options.check_seed(value)


def _representation_help() -> str:
    """--representation's help: the representations of each medium and its default (stimgen.options)."""
    media = {"audio": "sounds", "image": "images"}
    parts = [f"{', '.join(n for n, m in options.REPRESENTATIONS.items() if m == medium)} for {media[medium]} "
             f"(default {name})" for medium, name in options.DEFAULT_REPRESENTATIONS.items()]
    return f"How the model sees the data: {'; '.join(parts)}."


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(stimgen.__version__, prog_name="stimgen")
def cli() -> None:
    """Calibrated morph stimuli for psychophysics: GAIA models of vowels, birdsong and images.

    Start with `stimgen data build vowels --out data/vowels`, then look at its preview.png.
    """


@cli.group()
def data() -> None:
    """Build the built-in data sets, cut recordings into units and inspect data folders."""


@data.command("build")
@click.argument("name", type=click.Choice(data_api.BUILTIN_NAMES))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write (must not exist).")
@click.option("--n", type=int,
              help="How many items. Default: vowels 1,520 (the whole table; more adds jittered tokens), "
                   "birdsong 2,000, digits 5,000.")
@click.option("--seed", type=int, default=options.SEED, show_default=True, callback=_seed,
              help="Random seed; same seed, same files.")
@click.option("--size", type=int, default=options.DIGIT_SIZE, show_default=True,
              help="Image size in pixels (digits only).")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def data_build(name: str, out: str, n: int | None, seed: int, size: int, force: bool) -> None:
    """Write a built-in data set NAME: its files, labels.csv, meta.json and preview.png.

    The set is generated offline (deterministic from --seed), cached in $STIMGEN_CACHE or the
    user cache folder, and copied to --out.

    Example: stimgen data build birdsong --n 500 --seed 1 --out data/birdsong
    """
    ds = data_api.build(name, out, n=n, seed=seed, size=size, force=force, progress=True)
    click.echo(f"wrote {len(ds)} {ds.medium} files, labels.csv and preview.png to {ds.root}")


@data.command("show")
@click.argument("folder", type=click.Path())
def data_show(folder: str) -> None:
    """Print counts and a summary of the labels of a data FOLDER (built-in or your own).

    Example: stimgen data show data/vowels
    """
    click.echo(data_api.summarize(data_api.open_folder(folder)))


@data.command("segment")
@click.argument("recordings", type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write (must not exist).")
@click.option("--kind", default=options.SEGMENT_KIND, show_default=True, type=click.Choice(options.SEGMENT_KINDS),
              help="birdsong: syllables by dynamic thresholding of the spectral envelope; speech: Praat's voiced "
                   "stretches.")
@click.option("--min-unit", type=float, help="Shorter units are dropped (ms). [birdsong 20, speech 50]")
@click.option("--max-unit", type=float,
              help="birdsong: the threshold rises until no unit is longer (ms). [400]")
@click.option("--min-silence", type=float, help="Shorter gaps are closed (ms). [birdsong 5, speech 50]")
@click.option("--fmin", type=float, help="birdsong: lowest frequency of the envelope's band (Hz). [1000]")
@click.option("--fmax", type=float, help="birdsong: highest frequency of the band (Hz). [12000]")
@click.option("--start-db", type=float, help="birdsong: first threshold above the noise floor (dB). [8]")
@click.option("--range-db", type=float,
              help="Units (speech: frames) more than this far below the loudest are noise (dB). "
                   "[birdsong 40, speech 30]")
@click.option("--pad", type=float,
              help="Recording kept on each side of a unit (ms). [birdsong 5, speech 20]")
@click.option("--labels", is_flag=True,
              help="Cut at your hand labels instead of finding units: NAME.csv beside each recording NAME.wav "
                   "(columns onset_s, offset_s in seconds, label); labels.csv gets their label column.")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def data_segment(recordings: str, out: str, kind: str, min_unit: float | None, max_unit: float | None,
                 min_silence: float | None, fmin: float | None, fmax: float | None, start_db: float | None,
                 range_db: float | None, pad: float | None, labels: bool, force: bool) -> None:
    """Cut the long recordings in folder RECORDINGS into one WAV per syllable (or voiced stretch).

    Writes the units, labels.csv (source, onset, offset, duration, peak_dbfs; with --labels, label),
    meta.json and preview.png (each recording's spectrogram with the cuts). Train on it: stimgen
    train --data OUT.

    Example: stimgen data segment songs/ --kind birdsong --out syllables
    """
    from stimgen.data.recordings import segment_folder
    from stimgen.signal.segment import SegmentSettings

    settings = SegmentSettings.for_kind(kind, min_unit=min_unit, max_unit=max_unit, min_silence=min_silence, fmin=fmin,
                                        fmax=fmax, start_db=start_db, range_db=range_db, pad=pad)
    path = segment_folder(recordings, out, settings, force=force, progress=True, command=_command(), labels=labels)
    ds = data_api.open_folder(path)
    sources = ds.labels["source"].nunique()
    click.echo(f"wrote {len(ds)} units from {sources} recordings, labels.csv and preview.png to {path}")


@cli.command("train")
@click.option("--data", required=True,
              help="A built-in set (vowels, vowel-space, birdsong, digits) or a folder of your files.")
@click.option("--model", "model", default=TrainSettings.model, show_default=True,
              type=click.Choice(options.MODEL_NAMES))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder; becomes the model folder.")
@click.option("--steps", default=TrainSettings.steps, show_default=True, help="Training steps.")
@click.option("--batch-size", default=TrainSettings.batch_size, show_default=True,
              help="Items per step (split over processes).")
@click.option("--lr", default=TrainSettings.lr, show_default=True, help="Adam learning rate.")
@click.option("--latent-dim", default=TrainSettings.latent_dim, show_default=True, help="Latent units.")
@click.option("--width", default=TrainSettings.width, show_default=True,
              help="Channels of the first layer (doubling per halving).")
@click.option("--size", type=int, help="Image or spectrogram side in pixels (32, 64, 128).")
@click.option("--representation", type=click.Choice(list(options.REPRESENTATIONS)),
              help=_representation_help())
@click.option("--distance-weight", type=float, help="GAIA's pairwise-distance loss weight.")
@click.option("--recon-weight", default=TrainSettings.recon_weight, show_default=True,
              help="GAIA: weight of a direct |x - G(x)| term (0 = the paper; see docs/models.md).")
@click.option("--warmup-steps", type=int,
              help="GAIA: the first steps train the generator alone as an autoencoder, then GAIA from it "
                   "[default: half of --steps; 0 with --init]; 0 with --recon-weight 0 is the paper's objective.")
@click.option("--set", "model_options", multiple=True, metavar="KEY=VALUE",
              help="An option of the model's own, by its config's name; repeatable: e.g. --set kl_weight=0.1 (vae), "
                   "--set lam=0.3 (acai), --set gamma=0.7 (gaia). A wrong KEY lists the model's options.")
@click.option("--augment", is_flag=True, default=TrainSettings.augment,
              help="Shift spectrograms a little in time, pitch and level at every step (small data sets).")
@click.option("--init", "init", metavar="MODEL", default=TrainSettings.init,
              help="Start the generator from this model folder's (a warm start: same --size, --latent-dim, --width).")
@click.option("--device", default=TrainSettings.device, show_default=True, type=click.Choice(options.DEVICES))
@click.option("--threads", type=int, help="CPU threads (default: one per core no other process keeps busy; "
              "give it for bit-identical reruns).")
@click.option("--seed", default=TrainSettings.seed, show_default=True, callback=_seed,
              help="Random seed: same seed, same model on the CPU.")
@click.option("--preview-every", default=TrainSettings.preview_every, show_default=True,
              help="Steps between preview PNGs.")
@click.option("--checkpoint-every", default=TrainSettings.checkpoint_every, show_default=True,
              help="Steps between checkpoints.")
@click.option("--resume", is_flag=True, help="Continue from the run folder's last checkpoint.")
@click.option("--force", is_flag=True, help="Start over in an existing run folder that stimgen wrote.")
def train_cmd(data: str, model: str, out: str, steps: int, batch_size: int, lr: float, latent_dim: int, width: int,
              size: int | None, representation: str | None, distance_weight: float | None, recon_weight: float,
              warmup_steps: int | None, model_options: tuple[str, ...], augment: bool, init: str | None, device: str,
              threads: int | None, seed: int, preview_every: int, checkpoint_every: int, resume: bool,
              force: bool) -> None:
    """Train a model (GAIA by default) and write it to --out as a model folder.

    Watch previews/ and metrics.csv while it runs; Ctrl-C saves a checkpoint. Several
    processes or GPUs: torchrun --nproc_per_node N -m stimgen train ...

    Example: stimgen train --data vowels --model gaia --steps 3000 --out runs/vowels
    """
    given = {}
    for item in model_options:  # KEY=VALUE; the API checks the key against the model and reads the value
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise StimgenError(f"--set {item}: give KEY=VALUE, e.g. --set kl_weight=0.1")
        if key.strip() in given:
            raise StimgenError(f"--set {key.strip()} given twice")
        given[key.strip()] = value

    from stimgen.train import Interrupted, TrainSettings, train

    settings = TrainSettings(model=model, steps=steps, batch_size=batch_size, lr=lr, latent_dim=latent_dim,
                             width=width, size=size, representation=representation, distance_weight=distance_weight,
                             recon_weight=recon_weight, warmup_steps=warmup_steps, device=device, seed=seed,
                             augment=augment, init=init,
                             preview_every=preview_every, checkpoint_every=checkpoint_every, model_options=given)
    try:
        path = train(data, out, settings, resume=resume, force=force, threads=threads)
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


# --- morph verbs ------------------------------------------------------------------------------------------

def _render_options(f):
    """--sr, --level and --ramp-ms: how sounds are written (images ignore them)."""
    f = click.option("--ramp-ms", default=RenderSettings.ramp_ms, show_default=True,
                     help="Raised-cosine on/off ramps (ms).")(f)
    f = click.option("--level", default=RenderSettings.level_dbfs, show_default=True,
                     help="RMS level of every sound (dBFS).")(f)
    f = click.option("--sr", default=RenderSettings.sr, show_default=True, help="Sample rate of every WAV (Hz).")(f)
    return f


def _f0_option(choices: str, default: str):
    """--f0: the voice's F0 for WORLD models (parsed by stimgen.signal.world.parse_f0 in the verb)."""
    return click.option("--f0", default=None, metavar="|".join([*(c for c in choices.split(",") if c), "HZ"]),
                        help=f"WORLD models: F0 of every stimulus: {default}; a number holds every stimulus at "
                             "that many Hz (the usual choice for vowel continua).")


def _f0(value: str | None, inputs: int):
    from stimgen.signal.world import parse_f0

    return parse_f0(value, inputs)


def _onset_option(f):
    """--onset: the window of sounds longer than the model's (see stimgen.signal.segment.choose_excerpt)."""
    return click.option("--onset", type=float, multiple=True, metavar="SECONDS",
                        help="Sounds longer than the model's window: the window starts here (s). Once for every "
                             "file, or once per file in order. Default: centred on the file's one syllable or "
                             "voiced stretch; a file with several is refused.")(f)


def _onsets(onset: tuple[float, ...]) -> list[float] | None:
    return list(onset) or None


def _output_options(f):
    f = click.option("--force", is_flag=True, help=FORCE_HELP)(f)
    f = click.option("--seed", default=options.SEED, show_default=True, callback=_seed,
                     help="Seed of the phase reconstruction.")(f)
    f = click.option("--out", required=True, type=click.Path(), help="Folder to write (must not exist).")(f)
    return f


def _command() -> str:
    import shlex

    return "stimgen " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _render(sr: int, level: float, ramp_ms: float):
    return RenderSettings(sr=sr, level_dbfs=level, ramp_ms=ramp_ms)


def _check_out(out: str, force: bool, model, *inputs: str) -> None:
    """Refuse an --out that cannot be written or replaced before any work (see stimgen.outputs)."""
    from stimgen.outputs import check_output

    check_output(out, force, [*inputs, model.info["path"]])


def _write(stimuli, out: str, render, force: bool) -> None:
    """Export a stimulus set (the morph verbs' last step) and say where it went."""
    from stimgen.export import export

    click.echo(f"wrote {len(stimuli)} stimuli and manifest.csv to {export(stimuli, out, render, _command(), force)}")


MODEL_HELP = ("A model folder, or a shipped model: vowels, birdsong, digits. "
              "Default: vowels for sounds, digits for images.")


@cli.command("continuum")
@click.option("--a", "a", required=True, type=click.Path(), help="First endpoint (sound or image file).")
@click.option("--b", "b", required=True, type=click.Path(), help="Last endpoint.")
@click.option("--steps", default=options.CONTINUUM_STEPS, show_default=True, help="Stimuli, endpoints included.")
@click.option("--model", help=MODEL_HELP)
@click.option("--spacing", default=options.SPACING, show_default=True, type=click.Choice(options.SPACINGS),
              help="equal: equal distances between neighbours in --metric; linear: equal latent steps.")
@click.option("--path", "path", default=options.PATH, show_default=True, type=click.Choice(options.PATHS),
              help="Interpolation between the two codes.")
@click.option("--metric", type=click.Choice(list(options.METRIC_UNITS)),
              help="Distance for --spacing equal: formants (F1/F2 in Bark, Praat; default for speech voiced by "
                   "WORLD), spectral (log-mel, dB; default for other sounds), pixel (images).")
@click.option("--endpoints", default=options.ENDPOINT, show_default=True, type=click.Choice(options.ENDPOINTS),
              help="How the first and last steps come to be the files (docs/morph.md): warp: what the model misses "
                   "at each end, warped along frequency and mixed along the path; tune: a copy of the decoder tuned "
                   "on the two files (slower); refine: codes optimised against the files; residual: what the model "
                   "misses, cross-faded; reconstruct: the model's own ends; original: the files pasted as steps 0 "
                   "and N-1.")
@click.option("--model-share", type=click.FloatRange(0.0, 1.0),
              help="--endpoints warp, sounds: how much of each step between the ends is the model's own item; the "
                   "rest is the two files moved to the step's formants and mixed. Default 0.5 for speech, 1 (the "
                   "model's path) for other sounds.")
@_f0_option("interpolate,a,b", "interpolate (default) moves it log-linearly from --a's contour to --b's, a or b "
                               "uses that endpoint's contour")
@_onset_option
@_render_options
@_output_options
def continuum_cmd(a: str, b: str, steps: int, model: str | None, spacing: str, path: str, metric: str | None,
                  endpoints: str, model_share: float | None, f0: str | None, onset: tuple[float, ...], sr: int,
                  level: float, ramp_ms: float, out: str, seed: int, force: bool) -> None:
    """Write an N-step continuum from --a to --b with manifest.csv for PsychoPy.

    Example: stimgen continuum --a i.wav --b a.wav --steps 11 --f0 120 --out i-a
    """
    from stimgen import load_model
    from stimgen.morph.continuum import continuum
    from stimgen.morph.domain import default_model

    render, f0 = _render(sr, level, ramp_ms), _f0(f0, 2)
    m = load_model(model or default_model(a))
    _check_out(out, force, m, a, b)
    stimuli = continuum(m, a, b, steps=steps, spacing=spacing, path=path, metric=metric, endpoints=endpoints, seed=seed,
                        f0=f0, onset=_onsets(onset), model_share=model_share)
    _write(stimuli, out, render, force)


@cli.group()
def attributes() -> None:
    """Latent attribute vectors (fit them, then use them with stimgen edit)."""


@attributes.command("fit")
@click.option("--model", required=True, help="A model folder or a shipped model (vowels, birdsong, digits).")
@click.option("--columns", required=True, help="Comma-separated label columns, e.g. F1,F2,F0,sex.")
@click.option("--data",
              help="A built-in set or a folder with labels.csv. Default: the model's own training items.")
@click.option("--method", default=options.ATTRIBUTE_METHOD, show_default=True,
              type=click.Choice(options.ATTRIBUTE_METHODS))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="JSON file to write.")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def attributes_fit(model: str, columns: str, data: str | None, method: str, out: str, force: bool) -> None:
    """Fit one latent direction per unit of each attribute (OLS with an intercept, or mean differences).

    Example: stimgen attributes fit --model vowels --columns F1,F2,F0,sex --out vectors.json
    """
    from stimgen import load_model
    from stimgen.morph.attributes import fit_model_attributes
    from stimgen.outputs import check_output

    m = load_model(model)
    inputs = [m.info["path"], *([data] if data and os.path.exists(data) else [])]
    check_output(out, force, inputs, folder=False)  # before the fit, not after it
    vectors = fit_model_attributes(m, [c.strip() for c in columns.split(",") if c.strip()], data=data,
                                   method=method, progress=True)
    vectors.save(out, force=force)
    r2 = ", ".join(f"{v:.2f}" for v in vectors.r2)
    click.echo(f"wrote {len(vectors.names)} vectors ({', '.join(vectors.names)}) fitted on {vectors.n} items to "
               f"{out}\nR² per latent dimension: {r2}")


@cli.command("edit")
@click.option("--model", required=True, help="The model the vectors were fitted on.")
@click.option("--input", "input_", required=True, type=click.Path(), help="The file to edit.")
@click.option("--vectors", type=click.Path(),
              help="vectors.json from stimgen attributes fit (not needed to edit F0 of a WORLD model).")
@click.option("--attribute", required=True, help="Which vector, e.g. F1 (or sex=m for a categorical level).")
@click.option("--values", required=True,
              help="Comma-separated changes in the attribute's units, e.g. -200,-100,0,100,200.")
@click.option("--calibrate/--no-calibrate", default=options.CALIBRATE, show_default=True,
              help="For F0, F1, F2 of sounds: choose the steps along the vector so that the change measured by "
                   "Praat matches the request. --no-calibrate: step by the vector's own linear estimate.")
@_f0_option("a", "a (default) keeps the input's own contour; --attribute F0 moves it exactly by --values Hz")
@click.option("--onset", type=float, metavar="SECONDS",
              help="A sound longer than the model's window: the window starts here (s). Default: centred on its "
                   "one syllable or voiced stretch.")
@_render_options
@_output_options
def edit_cmd(model: str, input_: str, vectors: str | None, attribute: str, values: str, calibrate: bool,
             f0: str | None, onset: float | None, sr: int, level: float, ramp_ms: float, out: str, seed: int,
             force: bool) -> None:
    """Move a stimulus along an attribute vector; the manifest has the requested and measured change.

    Example: stimgen edit --model vowels --input eh.wav --vectors vectors.json --attribute F1 --values -200,0,200
    --out f1
    """
    from stimgen import load_model
    from stimgen.morph.attributes import AttributeVectors, edit

    try:
        numbers = [float(v) for v in values.split(",")]
    except ValueError:
        raise StimgenError(f"--values must be comma-separated numbers, got {values!r}") from None
    render, f0 = _render(sr, level, ramp_ms), _f0(f0, 1)
    m = load_model(model)
    _check_out(out, force, m, input_, *([vectors] if vectors else []))
    stimuli = edit(m, input_, AttributeVectors.load(vectors) if vectors else None, attribute, numbers, seed=seed,
                   vectors_path=vectors, calibrate=calibrate, f0=f0, onset=onset)
    _write(stimuli, out, render, force)


@cli.command("grid")
@click.option("--anchors", required=True,
              help="3 or 4 comma-separated files: A,B,C[,D] at (0,0), (1,0), (0,1)[, (1,1)].")
@click.option("--steps", default=options.GRID_STEPS, show_default=True, help="Points per side.")
@click.option("--model", help=MODEL_HELP)
@_f0_option("interpolate,a,b,c,d", "interpolate (default) mixes the anchors' contours by the grid weights, a-d uses "
                                   "one anchor's")
@_onset_option
@_render_options
@_output_options
def grid_cmd(anchors: str, steps: int, model: str | None, f0: str | None, onset: tuple[float, ...], sr: int,
             level: float, ramp_ms: float, out: str, seed: int, force: bool) -> None:
    """Write a 2D grid of stimuli spanned by 3 (a triangle) or 4 anchors (bilinear), e.g. a vowel space.

    Example: stimgen grid --anchors i.wav,a.wav,u.wav --steps 5 --out vowel-space
    """
    from stimgen import load_model
    from stimgen.morph.domain import default_model
    from stimgen.morph.grid import grid

    files = [f.strip() for f in anchors.split(",") if f.strip()]
    render, f0 = _render(sr, level, ramp_ms), _f0(f0, len(files))
    m = load_model(model or default_model(files[0] if files else ""))
    _check_out(out, force, m, *files)
    stimuli = grid(m, files, steps=steps, seed=seed, f0=f0, onset=_onsets(onset))
    _write(stimuli, out, render, force)


@cli.command("encode")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--model", help=MODEL_HELP)
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="CSV to write (its provenance goes beside it, .json).")
@_onset_option
@click.option("--force", is_flag=True, help=FORCE_HELP)
def encode_cmd(files: tuple[str, ...], model: str | None, out: str, onset: tuple[float, ...], force: bool) -> None:
    """Write the latent codes of FILES as a CSV (file, sha256, z0, z1, ...).

    Example: stimgen encode --model vowels i.wav a.wav --out codes.csv
    """
    from stimgen import load_model
    from stimgen.export import write_latents
    from stimgen.morph.codes import encode_files
    from stimgen.morph.domain import Domain, default_model
    from stimgen.outputs import check_output

    m = load_model(model or default_model(files[0]))
    for path in (out, f"{out}.json"):  # the codes and their provenance beside them, before the work
        check_output(path, force, [*files, m.info["path"]], folder=False)
    path = write_latents(encode_files(m, list(files), _onsets(onset)), out, Domain(m), _command(), force, inputs=files)
    click.echo(f"wrote the codes of {len(files)} files to {path}")


@cli.command("decode")
@click.option("--latents", required=True, type=click.Path(),
              help="CSV with columns z0, z1, ... (as stimgen encode writes).")
@click.option("--model", required=True, help="A model folder or a shipped model (vowels, birdsong, digits).")
@_f0_option("", "by default the model's (its training set's median)")
@_render_options
@_output_options
def decode_cmd(latents: str, model: str, f0: str | None, sr: int, level: float, ramp_ms: float, out: str, seed: int,
               force: bool) -> None:
    """Write the stimuli of the codes in a latents CSV, with a manifest.

    Example: stimgen decode --model vowels --latents codes.csv --out decoded
    """
    from stimgen import load_model
    from stimgen.morph.codes import decode_latents

    render, f0 = _render(sr, level, ramp_ms), _f0(f0, 0)
    m = load_model(model)
    _check_out(out, force, m, latents)
    stimuli = decode_latents(m, latents, seed=seed, f0=f0)
    _write(stimuli, out, render, force)


@cli.command("pilot")
@click.argument("continuum_dir", type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write (must not exist).")
@click.option("--reps", default=options.PILOT_REPS, show_default=True, help="Presentations of every step.")
@click.option("--labels", help="The two answers, A,B. Default: the endpoints' file names.")
@click.option("--seed", default=options.SEED, show_default=True, callback=_seed, help="Seed of the trial order.")
@click.option("--task", default=options.PILOT_TASK, show_default=True, type=click.Choice(options.PILOT_TASKS),
              help="Identification of every step, or discrimination of pairs of steps: AX (same-different, with "
                   "same pairs as catch trials), ABX, 3-interval oddity or 2IFC (which was more B), or adaptive "
                   "identification: a weighted up-down staircase or QUEST picks each level (best on a dense "
                   "continuum, e.g. --steps 101).")
@click.option("--pair-step", type=int,
              help=f"Discrimination: the step distance of the pairs [{options.PAIR_STEP}].")
@click.option("--isi-ms", type=float,
              help=f"Discrimination: the silence between the intervals, ms [{options.ISI_MS:g}].")
@click.option("--image-ms", type=float,
              help=f"Discrimination or adaptive runs of images: how long each is shown, ms [{options.IMAGE_MS:g}].")
@click.option("--trial-files", is_flag=True,
              help="Discrimination of sounds: write every trial as one WAV (A, silence, X, ...), the ISI exact "
                   "to the sample.")
@click.option("--rove-db", type=float,
              help="With --trial-files: rove every interval's level by a uniform +-R dB, recorded per trial.")
@click.option("--trials", type=int, help=f"Staircase and QUEST: trials in a run [{options.ADAPTIVE_TRIALS}].")
@click.option("--target", type=float,
              help=f"Staircase and QUEST: the P(B) whose level they track [{options.ADAPTIVE_TARGET:g}: the boundary].")
@click.option("--start", type=float, help=f"Staircase and QUEST: the first morph level [{options.ADAPTIVE_START:g}].")
@click.option("--on-demand", is_flag=True,
              help="Staircase and QUEST: the PsychoPy script makes each level with stimgen.Continuum (stimgen "
                   "importable in PsychoPy) instead of presenting the nearest step.")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def pilot_cmd(continuum_dir: str, out: str, reps: int, labels: str | None, seed: int, task: str,
              pair_step: int | None, isi_ms: float | None, image_ms: float | None, trial_files: bool,
              rove_db: float | None, trials: int | None, target: float | None, start: float | None,
              on_demand: bool, force: bool) -> None:
    """Write an identification or discrimination experiment over a continuum: PsychoPy and browser (jsPsych).

    Example: stimgen pilot i-a --reps 20 --labels ee,ah --out i-a-pilot;
    stimgen pilot i-a --task abx --pair-step 2 --out i-a-abx; stimgen pilot i-a-101 --task quest --out i-a-quest
    """
    from stimgen.pilot import make_pilot

    pair = None if labels is None else tuple(x.strip() for x in labels.split(","))
    path = make_pilot(continuum_dir, out, reps=reps, seed=seed, labels=pair, force=force, command=_command(),
                      task=task, pair_step=pair_step, isi_ms=isi_ms, image_ms=image_ms, trial_files=trial_files,
                      rove_db=rove_db, trials=trials, target=target, start=start, on_demand=on_demand)
    script = "psychopy_identification.py" if task == "identification" else f"psychopy_{task}.py"
    click.echo(f"wrote the pilot to {path}: {script}, index.html; see {path / 'README.md'}")


@cli.command("fit")
@click.argument("data", nargs=-1, required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write (must not exist).")
@click.option("--sigmoid", default=options.SIGMOID, show_default=True, type=click.Choice(options.SIGMOIDS))
@click.option("--continuum", "continuum_dir", type=click.Path(),
              help="The continuum the data came from. Default: the pilot folder the data files lie in.")
@click.option("--bootstrap", "n_boot", default=options.N_BOOT, show_default=True,
              help="Bootstrap samples for the intervals.")
@click.option("--seed", default=options.SEED, show_default=True, callback=_seed, help="Seed of the bootstrap.")
@click.option("--identification", multiple=True, type=click.Path(),
              help="Identification data of the same continuum and listeners as discrimination DATA: the "
                   "discrimination they predict is set beside it (repeat for more files).")
@click.option("--model", default=options.DISCRIMINATION_MODEL, show_default=True,
              type=click.Choice(options.DISCRIMINATION_MODELS),
              help="Discrimination: the observer of d' (differencing: compares the intervals, for roving designs; "
                   "independent: knows the two stimuli).")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def fit_cmd(data: tuple[str, ...], out: str, sigmoid: str, continuum_dir: str | None, n_boot: int, seed: int,
            identification: tuple[str, ...], model: str, force: bool) -> None:
    """Fit identification DATA (P("B") against morph level), a discrimination task's (proportion correct
    and d' per pair) or adaptive runs (threshold and psychometric function); PsychoPy, jsPsych or plain CSV files.

    Example: stimgen fit i-a-pilot/data/*.csv --out i-a-fit;
    stimgen fit i-a-abx/data/P01.csv --identification i-a-pilot/data/P01.csv --out abx-fit
    """
    from stimgen.discrimination_data import describe, fit_files

    for file in (*data, *identification):  # the API would call a folder "no such data file"
        if os.path.isdir(file):
            raise StimgenError("is a folder, not a data file: give the CSV files in it (e.g. PILOT/data/*.csv)",
                               path=file)
    manifest = None if continuum_dir is None else os.path.join(continuum_dir, "manifest.csv")
    path = fit_files(list(data), out, sigmoid=sigmoid, manifest=manifest, n_boot=n_boot, seed=seed, force=force,
                     command=_command(), identification=identification, model=model)
    click.echo(describe(path))


@cli.command("respace")
@click.argument("continuum_dir", type=click.Path())
@click.option("--fit", "fit_file", required=True, type=click.Path(), help="fit.json from stimgen fit.")
@click.option("--steps", type=int, help="Steps of the new continuum. Default: as many as the old.")
@click.option("--scheme", default=options.RESPACE_SCHEME, show_default=True,
              type=click.Choice(options.RESPACE_SCHEMES),
              help="equal-probability: equal steps of the fitted P(B); boundary: packed within 2 spreads of the PSE.")
@click.option("--p-range", default=",".join(f"{p:g}" for p in options.P_RANGE), show_default=True,
              help="equal-probability: the first and last P(B).")
@click.option("--keep-endpoints", is_flag=True,
              help="Keep the old endpoints (levels 0 and 1) as the first and last step.")
@click.option("--model", help="The model, if not the shipped one the continuum names.")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write (must not exist).")
def respace_cmd(continuum_dir: str, fit_file: str, steps: int | None, scheme: str, p_range: str, keep_endpoints: bool,
                model: str | None, force: bool, out: str) -> None:
    """A new continuum between the same endpoints, its steps placed by a fitted psychometric function.

    Example: stimgen respace i-a --fit i-a-fit/fit.json --steps 9 --out i-a-respaced
    """
    from stimgen.export import export
    from stimgen.outputs import check_output
    from stimgen.respace import respace

    try:
        low, high = (float(v) for v in p_range.split(","))
    except ValueError:
        raise StimgenError(f"--p-range must be two numbers, LOW,HIGH; got {p_range!r}") from None
    check_output(out, force, [continuum_dir, fit_file, *([model] if model and os.path.exists(model) else [])])
    stimuli, render, picture = respace(continuum_dir, fit_file, steps=steps, scheme=scheme, p_range=(low, high),
                                       keep_endpoints=keep_endpoints, model=model)
    path = export(stimuli, out, render, _command(), force, after=picture)
    click.echo(f"wrote {len(stimuli)} re-spaced stimuli, manifest.csv and respace.png to {path}")


@cli.command("in-song")
@click.option("--stimuli", "continuum", required=True, type=click.Path(),
              help="A continuum of sounds (stimgen continuum, respace).")
@click.option("--song", required=True, type=click.Path(), help="The song (WAV, FLAC, ...): its rate is the output's.")
@click.option("--onset", type=float, help="Start of the syllable replaced (s).")
@click.option("--offset", type=float, help="End of the syllable replaced (s).")
@click.option("--labels", type=click.Path(),
              help="Or the song's hand labels: a CSV with onset_s, offset_s, label (as data segment --labels reads).")
@click.option("--syllable", type=int, help="With --labels: the syllable replaced, its row counting from 1.")
@click.option("--crossfade-ms", default=options.CROSSFADE_MS, show_default=True,
              help="Each equal-power fade, inside the part replaced (ms).")
@click.option("--match", default=options.LEVEL_MATCH, show_default=True, type=click.Choice(options.LEVEL_MATCHES),
              help="Each step gets the syllable's RMS, or its peak.")
@click.option("--keep-below", "keep_below_hz", default=options.KEEP_BELOW_HZ, show_default=True,
              help="The song's sound below this goes on under the step (its hum, cage noise) (Hz); 0 replaces all.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write (must not exist).")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def in_song_cmd(continuum: str, song: str, onset: float | None, offset: float | None, labels: str | None,
                syllable: int | None, crossfade_ms: float, match: str, keep_below_hz: float, out: str,
                force: bool) -> None:
    """Write every step of a continuum into its song, in the place of one syllable, with a manifest.

    Each step is trimmed to its sounding part, matched to the syllable's level and crossfaded in at
    --onset; the rest of the song keeps its samples and its times. See docs/in-song.md.

    Example: stimgen in-song --stimuli b-c --song song.flac --labels song.csv --syllable 13 --out b-c-in-song
    """
    from stimgen.in_song import in_song

    path = in_song(continuum, song, out, onset, offset, labels, syllable, crossfade_ms=crossfade_ms, match=match,
                   keep_below_hz=keep_below_hz, force=force, command=_command())
    click.echo(f"wrote the steps of {continuum} into {song} and manifest.csv to {path}")


@cli.command("demo")
@click.option("--out", default=options.DEMO_OUT, show_default=True, type=click.Path(), help="Folder to write.")
@click.option("--seed", default=options.SEED, show_default=True, callback=_seed,
              help="Seed of the synthesis and the phase reconstruction.")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def demo_cmd(out: str, seed: int, force: bool) -> None:
    """An /i/-/a/ continuum, F1 attribute vectors and an F1 edit from the shipped vowel model, in one folder.

    Example: stimgen demo --out demo   (then open demo/README.md and demo/continuum_i_a/sheet.png)
    """
    from stimgen.demo import demo

    path = demo(out, seed=seed, command=_command(), force=force)
    click.echo(f"wrote the demo to {path}: see {path / 'README.md'}")


_WARNED: set[str] = set()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line on stderr, ``stimgen: warning: ...``, without Python's source location;
    each only once (a file may be read more than once)."""
    if str(message) not in _WARNED:
        _WARNED.add(str(message))
        click.echo(f"stimgen: warning: {message}", err=True)


def main() -> None:
    """Entry point: run the command, turning bad input into one line and exit code 2."""
    warnings.showwarning = _show_warning
    exit_cleanly_on_sigterm()
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
