"""Importing stimgen has no side effects on the user's session."""

import subprocess
import sys


def test_importing_stimgen_leaves_matplotlibs_backend_alone():
    code = ("import matplotlib; matplotlib.use('svg'); import stimgen.train, stimgen.preview, stimgen.signal.segment, "
            "stimgen.psychometric; from stimgen.preview import figure; figure().subplots(); "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "svg"
