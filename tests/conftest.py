import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):  # one process per core already: torch takes one thread each
    os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Built-in sets are cached in a folder of the test session's own, never the user's."""
    os.environ["STIMGEN_CACHE"] = str(tmp_path_factory.mktemp("stimgen-cache"))


@pytest.fixture(autouse=True, scope="session")
def _every_manifest_loads_in_psychopy(tmp_path_factory):
    """After the whole session: every manifest.csv any test wrote loads with PsychoPy's own
    importConditions, and every file it names exists relative to the manifest."""
    yield
    for manifest in sorted(tmp_path_factory.getbasetemp().rglob("manifest.csv")):
        if any(part.startswith(".") for part in manifest.relative_to(tmp_path_factory.getbasetemp()).parts):
            continue  # a temporary folder left by a test of failure handling: checked by that test
        check_psychopy_manifest(manifest)


def check_psychopy_manifest(manifest: Path) -> list[dict]:
    """Load ``manifest`` as PsychoPy does and check the files it names; return its rows."""
    from psychopy.data import importConditions

    rows = importConditions(str(manifest))
    assert rows, f"{manifest}: no rows"
    for row in rows:
        for column in ("stim_file", "spectrogram_file"):
            if column in row:
                assert "\\" not in row[column] and not os.path.isabs(row[column])
                assert (manifest.parent / row[column]).is_file(), f"{manifest}: {row[column]} missing"
    return rows


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory):
    """A man's /i/, /ɑ/, /u/ and /ɛ/ (i.wav, a.wav, u.wav, eh.wav): 0.6 s at 16 kHz, F0 120 Hz."""
    from stimgen.data.vowels import mean_vowel
    from stimgen.signal.audio import save_wav

    folder = tmp_path_factory.mktemp("endpoints")
    for name, code in (("i", "iy"), ("a", "aa"), ("u", "uw"), ("eh", "eh")):
        save_wav(folder / f"{name}.wav", mean_vowel(code, "man", f0=120.0, duration=0.6, rng=1), 16000)
    return folder


def digits_folder(folder: Path, n: int = 6) -> Path:
    """A folder of ``n`` random 16 x 16 grey PNGs: the smallest image data set a model trains on."""
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


#: A real Bengalese finch song shipped for the tests, with its hand labels (tests/data/birdsong-gy6or6/README.md).
SONG = Path(__file__).parent / "data" / "birdsong-gy6or6" / "gy6or6_baseline_230312_0811.159.flac"


def song_syllables(folder: Path, rows: tuple[int, ...] = (12, 13)) -> list[Path]:
    """The test song's syllables at these rows of its hand labels (b and c by default), each cut
    with 10 ms either side and written as a WAV into ``folder``."""
    import pandas as pd
    import soundfile as sf

    labels = pd.read_csv(SONG.with_suffix(".csv"))
    y, sr = sf.read(SONG)
    files = []
    for row in rows:
        onset, offset = labels.iloc[row][["onset_s", "offset_s"]]
        files.append(folder / f"{labels.iloc[row]['label']}-{row}.wav")
        sf.write(files[-1], y[int((onset - 0.01) * sr):int((offset + 0.01) * sr)], sr)
    return files


def tone(freq: float = 440.0, sr: int = 16000, seconds: float = 0.5, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def alternating_harmonics() -> np.ndarray:
    """0.5 s at 16 kHz of harmonics of 200 Hz up to 6.8 kHz, each even one 18 dB below the odd ones (as
    espeak-ng's women's lie), with a little white noise: 34 dB by Praat's HNR, which WORLD's own analysis
    and resynthesis makes about 3 dB noisier."""
    t = np.arange(8000) / 16000
    comb = sum((1.0 if k % 2 else 0.126) / k * np.sin(2 * np.pi * k * 200.0 * t) for k in range(1, 35))
    return 0.2 * comb / np.max(np.abs(comb)) + np.random.default_rng(0).normal(0, 0.003, t.size)


class _ForkServer:
    """One ``tests/cli_server.py`` per test process: it forks ``python -m stimgen`` from an interpreter
    that has imported stimgen and its libraries once (see that file)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("cli_server.py"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pending = b""
        self.folder = Path(tempfile.mkdtemp(prefix="stimgen-cli-"))
        atexit.register(self.close)

    def run(self, args: list[str], cwd, env: dict, timeout: float | None) -> subprocess.CompletedProcess:
        umask = os.umask(0)
        os.umask(umask)
        out, err = self.folder / "stdout", self.folder / "stderr"
        request = {"args": args, "cwd": str(cwd or os.getcwd()), "env": env, "umask": umask,
                   "stdout": str(out), "stderr": str(err)}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        pid = int(self._answer(None, "pid"))
        try:
            code = int(self._answer(timeout, "rc"))
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            self._answer(None, "rc")
            raise subprocess.TimeoutExpired(["stimgen", *args], timeout) from None
        return subprocess.CompletedProcess(["stimgen", *args], code, out.read_text(errors="replace"),
                                           err.read_text(errors="replace"))

    def _answer(self, timeout: float | None, kind: str) -> str:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.pending:
            if timeout is not None and not select.select([fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(kind, timeout)
            chunk = os.read(fd, 4096)
            assert chunk, "the stimgen fork server stopped"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        assert line.startswith(kind.encode() + b" "), f"the stimgen fork server said {line!r}"
        return line.split()[1].decode()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_server: _ForkServer | None = None


def stimgen_cli(*args, cwd=None, env=None, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run the real ``stimgen`` command (``python -m stimgen``) and capture its output.

    The command runs in a child forked from a server that imported stimgen once
    (tests/cli_server.py), so that a few hundred commands do not each pay the imports;
    ``STIMGEN_TEST_SUBPROCESS=1`` runs each in a fresh interpreter instead.
    """
    global _server
    full_env = {**os.environ, **(env or {})}
    if os.environ.get("STIMGEN_TEST_SUBPROCESS") == "1":
        return subprocess.run([sys.executable, "-m", "stimgen", *map(str, args)], capture_output=True, text=True,
                              cwd=cwd, env=full_env, timeout=timeout)
    if _server is None:
        _server = _ForkServer()
    return _server.run([str(a) for a in args], cwd, full_env, timeout)


def assert_one_error_line(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit code 2, one line on stderr holding every fragment, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("stimgen: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
