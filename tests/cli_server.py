"""A fork server for the suite's ``stimgen`` commands: ``python -m stimgen ARGS`` without paying the
imports (torch, librosa, parselmouth: about 6 s of CPU) on every one of the suite's few hundred
commands.

It imports stimgen's command line and the libraries its commands use once, runs nothing, and then,
for each request on stdin (one JSON line: ``args``, ``cwd``, ``env``, ``umask``, ``stdout``,
``stderr``), forks a child that sets that working directory, environment and umask, sends its fd 1
and 2 to the two files, and runs ``stimgen`` as ``python -m stimgen`` does (``runpy``, so the
program name, exit codes and error lines are the real command's). The server answers ``pid N``
when the child starts and ``rc N`` when it ends (``-N``: killed by signal N, as ``subprocess``
says). Since the server never ran a torch operation, each child starts with no thread pool, as a
fresh process does. Used by ``tests/conftest.py:stimgen_cli``; ``STIMGEN_TEST_SUBPROCESS=1``
runs every command in a fresh interpreter instead.
"""

import json
import os
import runpy
import sys
import traceback

PRELOAD = ("stimgen.cli", "torch", "numpy", "scipy.signal", "pandas", "librosa", "parselmouth", "soundfile",
           "stimgen.morph.continuum", "stimgen.train", "stimgen.export", "stimgen.signal.world")


def _child(request: dict) -> int:
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(request["umask"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = ["stimgen", *request["args"]]
    code = 0
    try:
        runpy.run_module("stimgen", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int) and exc.code is not None:
            print(exc.code, file=sys.stderr)
    except BaseException:  # what the interpreter would print and exit 1 with
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    return code


def serve() -> None:
    for module in PRELOAD:
        __import__(module)
    answer = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _child(request)
            finally:
                os._exit(code)
        answer.write(f"pid {pid}\n")
        answer.flush()
        _, status = os.waitpid(pid, 0)
        answer.write(f"rc {os.waitstatus_to_exitcode(status)}\n")
        answer.flush()


if __name__ == "__main__":
    serve()
