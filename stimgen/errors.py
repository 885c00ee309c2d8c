"""The one exception type that users see.

Every problem with a user's input (a file, a setting, an output folder) is raised as
:class:`StimgenError`. Its message is one line that names the file and the problem; the
command line prints it and exits with code 2, without a traceback.
"""

from __future__ import annotations

import os


class StimgenError(ValueError):
    """Bad input: a file, a value or an output folder that stimgen cannot use.

    Examples
    --------
    >>> raise StimgenError("no such file", path="a.wav")
    Traceback (most recent call last):
    ...
    stimgen.errors.StimgenError: a.wav: no such file
    """

    def __init__(self, problem: str, path: str | os.PathLike | None = None):
        self.problem = problem
        self.path = None if path is None else os.fspath(path)
        super().__init__(problem if path is None else f"{self.path}: {problem}")
