"""Data sets: built-in (vowels, vowel-space, birdsong, digits) and folders of the user's own files.

The functions are imported on first use, so that ``import stimgen.data`` (and the command
line's start-up) stays light.

Examples
--------
>>> import stimgen.data
>>> ds = stimgen.data.open_dataset("vowels")                 # doctest: +SKIP
>>> print(stimgen.data.summarize(ds))                         # doctest: +SKIP
"""

import importlib

#: The built-in sets, by name.
BUILTIN_NAMES = ("birdsong", "digits", "vowel-space", "vowels")

_LAZY = {
    "BUILTINS": "builtin", "build": "builtin", "builtin_path": "builtin", "cache_dir": "builtin",
    "open_dataset": "builtin", "write_preview": "builtin",
    "FolderDataset": "folder", "open_folder": "folder", "summarize": "folder",
}

__all__ = ["BUILTIN_NAMES", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"stimgen.data.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'stimgen.data' has no attribute {name!r}")
