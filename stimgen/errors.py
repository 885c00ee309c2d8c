"""The one exception type that users see.

Every problem with a user's input (a file, a setting, an output folder) is raised as
:class:`StimgenError`. Its message is one line that names the file and the problem; the
command line prints it and exits with code 2, without a traceback. Something the user should
know but that does not stop the work (a choice stimgen made for them) is a
:class:`StimgenWarning`, which the command line prints as one line on stderr.
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


class StimgenWarning(UserWarning):
    """A choice stimgen made about a user's input that the user should know of; the work goes on.

    Examples
    --------
    >>> import warnings
    >>> warnings.warn(StimgenWarning("used the left channel", path="a.wav"))   # doctest: +SKIP
    """

    def __init__(self, problem: str, path: str | os.PathLike | None = None):
        self.problem = problem
        self.path = None if path is None else os.fspath(path)
        super().__init__(problem if path is None else f"{self.path}: {problem}")
