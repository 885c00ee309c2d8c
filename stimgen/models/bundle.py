"""A model on disk, and training checkpoints: safetensors plus JSON, nothing ever unpickled.

A model is a folder::

    config.json          model kind and architecture, data kind, spectrogram or image settings,
                         training settings, data hash, stimgen version
    model.safetensors    the generator's weights (what encode/decode need)
    latents.csv          the training items' files, labels and latent codes (if any)

Checkpoints (``checkpoint.safetensors`` in a training run's folder) hold every network, every
optimizer's state and the random generators, with the loop's bookkeeping as JSON metadata, in
one file written atomically.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

import stimgen
from stimgen.errors import StimgenError, StimgenWarning
from stimgen.models.acai import ACAI, ACAIConfig
from stimgen.models.ae import AE, AEConfig
from stimgen.models.gaia import GAIA, GAIAConfig
from stimgen.models.model import StimModel
from stimgen.models.networks import NetworkConfig
from stimgen.models.vae import VAE, VAEConfig
from stimgen.outputs import atomic_file, file_sha256

#: Model kinds by name: (model class, config class).
MODELS = {"gaia": (GAIA, GAIAConfig), "ae": (AE, AEConfig), "vae": (VAE, VAEConfig), "acai": (ACAI, ACAIConfig)}
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
LATENTS_FILE = "latents.csv"


def _shipped_folder() -> Path:
    """The installed package's ``stimgen/shipped_models`` (a wheel or ``pip install .``), else the
    repository's ``data/models`` (an editable install or a checkout), mapped to it in setup.cfg."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "shipped_models"
    return installed if installed.is_dir() else package.parent / "data" / "models"


#: Where the default models ship (``$STIMGEN_MODELS`` overrides it where models are looked up).
SHIPPED = _shipped_folder()


def model_config_to_dict(config) -> dict:
    """A model's frozen config, its network configs included, as the dict of plain values that
    config.json's ``model_config`` holds (:func:`model_config_from_dict` reads it back).

    Parameters
    ----------
    config : AEConfig, VAEConfig, GAIAConfig or ACAIConfig
        The model's config dataclass.

    Returns
    -------
    dict
    """
    return dataclasses.asdict(config)


#: Settings whose default changed, with the value a config.json written before had when it left them
#: out: GAIA trained with no direct reconstruction term (recon_weight 0) until issue 22 made it 10 (100 since).
PREVIOUS_DEFAULTS = {"gaia": {"recon_weight": 0.0}}


def model_config_from_dict(name: str, d: dict):
    """Rebuild a model's frozen config (and its network configs) from JSON; a setting it leaves out
    takes the default it had when the file was written (:data:`PREVIOUS_DEFAULTS`), else today's."""
    if name not in MODELS:
        raise StimgenError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    cls = MODELS[name][1]
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise StimgenError(f"unknown {name} settings: {', '.join(sorted(unknown))}")
    values = {**PREVIOUS_DEFAULTS.get(name, {}), **d}
    for key in ("generator", "discriminator"):
        if isinstance(values.get(key), dict):
            values[key] = NetworkConfig.from_dict(values[key])
    return cls(**values)


def build_model(name: str, config) -> StimModel:
    """A new model ``name`` (gaia, ae, vae, acai), with freshly initialised weights, built from ``config``.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`: ``"gaia"``, ``"ae"``, ``"vae"`` or ``"acai"``.
    config : AEConfig, VAEConfig, GAIAConfig or ACAIConfig
        The config of that model.

    Returns
    -------
    StimModel
    """
    return MODELS[name][0](config)


def save_tensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """safetensors' ``save_file``, the file then given the permissions of the user's umask, as every
    file stimgen writes (``save_file`` makes it readable by its owner only)."""
    save_file(tensors, path, metadata=metadata)
    mask = os.umask(0o022)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def save_model(model: StimModel, out: Path, info: dict) -> str:
    """Write ``config.json`` and ``model.safetensors`` (generator only) into ``out``; return the
    weights' sha256, which is the model's hash."""
    out.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.G.state_dict().items()}
    save_tensors(weights, out / WEIGHTS_FILE, metadata={"format": "stimgen-model"})
    digest = file_sha256(out / WEIGHTS_FILE)
    config = {"stimgen_version": stimgen.__version__, "model": model.name,
              "model_config": model_config_to_dict(model.config), "model_sha256": digest, **info}
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    return digest


def resolve(path_or_name: str | os.PathLike) -> Path:
    """A model folder from a path, or from the name of a shipped model (``vowels``, ...).

    A bare name of a shipped model means that model even where a folder of the same name lies in
    the current folder (a warning says so); write ``./vowels`` for the folder.
    """
    text = os.fspath(path_or_name)
    path = Path(text)
    shipped_root = Path(os.environ.get("STIMGEN_MODELS", SHIPPED))
    shipped = shipped_root / text
    bare = "/" not in text and os.sep not in text and shipped.is_dir()
    if path.is_dir() and not (bare and isinstance(path_or_name, str)):
        return path
    if bare:
        if path.is_dir():
            warnings.warn(StimgenWarning(f"used the shipped model {text!r}, not the folder {text} here; write "
                                         f"./{text} for the folder"), stacklevel=2)
        return shipped
    names = sorted(p.name for p in shipped_root.glob("*") if p.is_dir())
    raise StimgenError(f"no model folder or shipped model of this name (shipped: {', '.join(names) or 'none'})",
                       path=path_or_name)


def read_config(folder: Path) -> dict:
    """The parsed ``config.json`` of a model folder.

    Parameters
    ----------
    folder : Path
        The model folder.

    Returns
    -------
    dict
        The whole config.json; it has at least the keys ``model`` and ``model_config``.

    Raises
    ------
    StimgenError
        When config.json is missing, is not a file, cannot be read, is not valid JSON, or is not a
        JSON object with ``model`` and ``model_config``.
    """
    path = folder / CONFIG_FILE
    if not path.exists():
        raise StimgenError(f"not a model folder (no {CONFIG_FILE})", path=folder)
    if not path.is_file():
        raise StimgenError("is not a file (a model folder's config.json must be one)", path=path)
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StimgenError(f"not valid JSON ({exc})", path=path) from None
    except OSError as exc:
        raise StimgenError(f"cannot be read ({exc.strerror or exc})", path=path) from None
    if not isinstance(config, dict) or "model" not in config or "model_config" not in config:
        raise StimgenError("is not a stimgen model config (needs 'model' and 'model_config')", path=path)
    return config


def check_data_section(data, input_shape: tuple[int, ...], path: Path) -> None:
    """The ``data`` section of a model's config.json must name a representation that can be built
    from it (:func:`stimgen.representations.from_config`) and whose items the weights take."""
    from stimgen.representations import from_config

    shape = from_config(data, path).item_shape
    if tuple(shape) != tuple(input_shape):
        raise StimgenError(f"the data section describes items of shape {shape}, but the weights take "
                           f"{tuple(input_shape)}", path=path)


def load_model(path_or_name: str | os.PathLike, device: str = "cpu") -> StimModel:
    """Load a model folder (or a shipped model by name) for encoding and decoding.

    The weights are read with safetensors (no pickle); the architecture comes from
    ``config.json``. A missing, corrupt, truncated or mismatched file is a :class:`StimgenError`.
    The model's ``info`` attribute holds the whole config.json.

    Parameters
    ----------
    path_or_name : str or os.PathLike
        A model folder, or the name of a shipped model (``"vowels"``, ...; ``$STIMGEN_MODELS``
        overrides where those are looked up). A bare name of a shipped model means that model even
        where a folder of the same name lies in the current folder (a warning says so); write
        ``"./vowels"`` for the folder.
    device : str
        The torch device the model is moved to (``"cpu"``, ``"cuda"``, ...).

    Returns
    -------
    StimModel
        The model, in evaluation mode on ``device``. Its ``info`` holds the whole config.json, with
        ``model_sha256`` (the weights' sha256) and ``path`` (the model folder).

    Raises
    ------
    StimgenError
        When no folder or shipped model has that name; when config.json is missing, unreadable,
        not valid JSON or not a stimgen model config, or holds bad model settings or a ``data``
        section that does not describe the items the weights take; when ``model.safetensors`` is
        missing, does not match the hash in config.json, is not a readable safetensors file, or
        does not match the architecture in config.json.

    Examples
    --------
    >>> model = load_model("vowels")                           # doctest: +SKIP
    >>> z = model.encode(torch.rand(4, *model.input_shape))    # doctest: +SKIP
    """
    folder = resolve(path_or_name)
    info = read_config(folder)
    try:
        config = model_config_from_dict(info["model"], info["model_config"])
    except (TypeError, KeyError) as exc:
        raise StimgenError(f"bad model settings ({exc})", path=folder / CONFIG_FILE) from None
    model = build_model(info["model"], config)
    if "data" in info:
        check_data_section(info["data"], model.input_shape, folder / CONFIG_FILE)
    weights_path = folder / WEIGHTS_FILE
    if not weights_path.exists():
        raise StimgenError(f"model folder has no {WEIGHTS_FILE}", path=folder)
    if not weights_path.is_file():
        raise StimgenError("is not a file (a model folder's weights must be one)", path=weights_path)
    digest = file_sha256(weights_path)
    if info.get("model_sha256") not in (None, digest):
        raise StimgenError("weights do not match the hash in config.json (changed or corrupt)", path=weights_path)
    try:
        weights = load_file(weights_path)
    except (SafetensorError, OSError, ValueError) as exc:
        raise StimgenError(f"not a readable safetensors file ({exc})", path=weights_path) from None
    expected = model.G.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    reshaped = sorted(k for k in set(expected) & set(weights) if expected[k].shape != weights[k].shape)
    if missing or unexpected or reshaped:
        example = (missing or unexpected or reshaped)[0]
        raise StimgenError(f"weights do not match the architecture in config.json ({len(missing)} missing, "
                           f"{len(unexpected)} unexpected, {len(reshaped)} reshaped tensors, e.g. {example})",
                           path=weights_path)
    model.G.load_state_dict(weights)
    model.info = {**info, "model_sha256": digest, "path": str(folder)}
    return model.to(device).eval()


# --- checkpoints ------------------------------------------------------------------------------


def save_checkpoint(path: Path, model: StimModel, optimizers: dict, generators: dict[str, torch.Generator],
                    extra: dict[str, torch.Tensor], state: dict) -> None:
    """Everything needed to continue training, in one safetensors file written atomically."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    groups = {}
    for name, opt in optimizers.items():
        sd = opt.state_dict()
        groups[name] = sd["param_groups"]
        for index, values in sd["state"].items():
            for key, value in values.items():
                tensors[f"optim.{name}.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    for name, g in generators.items():
        tensors[f"rng.{name}"] = g.get_state()
    for name, t in extra.items():
        tensors[f"extra.{name}"] = t.detach().cpu().contiguous()
    metadata = {"format": "stimgen-checkpoint", "state": json.dumps(state), "param_groups": json.dumps(groups)}
    with atomic_file(path, force=True, ours_only=False) as tmp:
        save_tensors(tensors, tmp, metadata=metadata)


def load_checkpoint(path: Path, model: StimModel, optimizers: dict, generators: dict[str, torch.Generator]
                    ) -> tuple[dict, dict[str, torch.Tensor]]:
    """Restore a checkpoint into ``model``, ``optimizers`` and ``generators``; return the loop's
    state and the extra tensors."""
    try:
        tensors = load_file(path)
        from safetensors import safe_open

        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
        state = json.loads(metadata["state"])
        groups = json.loads(metadata["param_groups"])
    except (SafetensorError, OSError, ValueError, KeyError) as exc:
        raise StimgenError(f"not a readable checkpoint ({exc})", path=path) from None
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    except RuntimeError:
        raise StimgenError("checkpoint does not match this model's architecture", path=path) from None
    for name, opt in optimizers.items():
        per_param: dict[int, dict] = {}
        prefix = f"optim.{name}."
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, field = key[len(prefix):].split(".", 1)
                per_param.setdefault(int(index), {})[field] = value
        opt.load_state_dict({"state": per_param, "param_groups": groups[name]})
    for name, g in generators.items():
        g.set_state(tensors[f"rng.{name}"])
    return state, {k[6:]: v for k, v in tensors.items() if k.startswith("extra.")}


def describe(model: StimModel) -> str:
    """A short text report of a loaded model: what it is, what it was trained on, and how."""
    info = model.info
    data = info.get("data", {})
    training = info.get("training", {})
    lines = [f"{info['path']}: {info['model']} model, input {model.input_shape}, {model.latent_dim} latent units",
             f"model sha256: {info['model_sha256']}",
             f"stimgen version: {info.get('stimgen_version', 'unknown')}"]
    if data:
        lines.append(f"trained on: {data.get('source')} ({data.get('count')} {data.get('kind')} items, "
                     f"sha256 {str(data.get('data_sha256', ''))[:16]}...)")
    if data:
        from stimgen.representations import from_config

        lines.append(from_config(data, Path(info["path"]) / "config.json").summary())
    if training:
        lines.append("training: " + ", ".join(f"{k}={v}" for k, v in training.items()))
    if info.get("attribution"):  # where the recordings it learned came from, and their licence
        lines.append(f"data from: {info['attribution']}")
    return "\n".join(lines)
