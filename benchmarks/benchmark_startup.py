"""Start-up costs a CLI run pays before its first frame: imports and numba compilation.

``timeraw_`` benchmarks run in a fresh interpreter; only the statement is timed, not
the interpreter start-up nor the setup code.
"""
import os
import subprocess
import sys

# A fresh process up to the first raster call on a tiny frame; {cache} is the numba
# cache directory, or None for a new empty one. NUMBA_CACHE_DIR is read when numba is
# first imported, so it is set before fastviz is imported.
_SCENE = """
import os, tempfile
os.environ["NUMBA_CACHE_DIR"] = {cache!r} or tempfile.mkdtemp(prefix="numba-cache-",
                                                            dir=os.getcwd())
import numpy as np
from fastviz import FrameRenderer
renderer = FrameRenderer(np.zeros((48, 64, 3), np.uint8), [20.0, 40.0], [20.0, 30.0])
values = np.array([[0.3, 0.9]])
"""
_CALL = "renderer.frames(values)"


class Import:
    """``import <module>`` in a fresh interpreter: fastviz and the heavy things it imports."""

    params = ["numpy", "numba", "mne", "fastviz"]
    param_names = ["module"]

    def timeraw_import(self, module):
        return f"import {module}"

    def track_import_peakmem(self, module):
        """Peak resident memory (VmHWM) of ``python -c "import <module>"``, in MB."""
        code = f"import {module}; print(open('/proc/self/status').read())"
        status = subprocess.run([sys.executable, "-c", code], check=True,
                                capture_output=True, text=True).stdout
        return int(status.split("VmHWM:")[1].split()[0]) / 1024

    track_import_peakmem.unit = "MB"


class LazyImport:
    """What ``render`` imports on first use, on top of ``import fastviz``: scipy.signal
    (MNE's resampling), scipy.fft (the interval means), pandas (``load_electrodes``),
    joblib (``iter_frames``)."""

    params = ["scipy.signal", "scipy.fft", "pandas", "joblib"]
    param_names = ["module"]

    def timeraw_import_after_fastviz(self, module):
        return f"import {module}", "import fastviz"


class FirstAnalysis:
    """The first ``audio_envelopes`` call in a process (1 s of audio): lazy imports in
    MNE and scipy, which ``import fastviz`` does not pay and every CLI run does."""

    def timeraw_first_audio_envelopes(self):
        return "audio_envelopes(samples, 44100)", """
import numpy as np
from fastviz import audio_envelopes
samples = np.random.default_rng(0).standard_normal(44100).astype(np.float32)
"""


class NumbaCompile:
    """The first ``FrameRenderer.frames`` call in a fresh process.

    cold: ``NUMBA_CACHE_DIR`` is a new empty directory for every sample, so the
    kernels are compiled (and written to it), as on a first run. warm: the directory
    was filled by an earlier process, as on every later run (``cache=True``).
    """

    timeout = 300

    def setup_cache(self):
        warm = os.path.abspath("numba-cache-warm")  # asv's cwd here is a temporary dir
        subprocess.run([sys.executable, "-c", _SCENE.format(cache=warm) + _CALL],
                       check=True)
        return warm

    def timeraw_first_call_cold_cache(self, warm):
        return _CALL, _SCENE.format(cache=None)

    def timeraw_first_call_warm_cache(self, warm):
        return _CALL, _SCENE.format(cache=warm)
