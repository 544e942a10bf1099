"""The ffmpeg commands of every kind of render, as recorded before issue 18's refactor.

The commands that write files (encodes, trial encodes, the audio's encode, the join)
must come out exactly as recorded, in order; the probes (listings, decodes of the
audio) may only get fewer. ``tests/commands.py`` says what is normalised and how to
record again: ``FASTVIZ_RECORD_COMMANDS=1 python -m pytest tests/test_commands.py``.
"""
import os
import subprocess

import imageio_ffmpeg
import pytest
from commands import RECORDED, SCENARIOS, Recorder, diff, load, record, save

RECORDING = os.environ.get("FASTVIZ_RECORD_COMMANDS") == "1"
AGAIN = "re-record with FASTVIZ_RECORD_COMMANDS=1 python -m pytest tests/test_commands.py"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each scenario's record from this run, made once when first asked for."""
    root, made = tmp_path_factory.mktemp("commands"), {}

    def run(name):
        if name not in made:
            if name == "segments":
                pytest.importorskip("distributed")
            made[name] = record(name, root)
            if RECORDING:
                save({name: made[name]})
        return made[name]

    return run


@pytest.fixture(scope="module")
def recorded():
    return load()


@pytest.mark.parametrize("name", SCENARIOS)
def test_writes_as_recorded(name, runs, recorded):
    got = runs(name)
    if RECORDING:
        return
    if name not in recorded:
        pytest.fail(f"scenario {name} is not in {RECORDED}; {AGAIN}")
    want = recorded[name]
    changed = diff(want["writes"], got["writes"], "writes")
    if changed:
        pytest.fail(f"the commands that write files changed in scenario {name} "
                    f"({want['run']}):\n{changed}\n(if meant, {AGAIN})", pytrace=False)


@pytest.mark.parametrize("name", SCENARIOS)
def test_probes_do_not_increase(name, runs, recorded):
    got = runs(name)
    if RECORDING or name not in recorded:
        return  # the test above says so
    want = recorded[name]["probes"]
    if len(got["probes"]) > len(want):
        pytest.fail(f"scenario {name} runs more probes than recorded:\n"
                    f"{diff(want, got['probes'], 'probes')}", pytrace=False)


def test_recorder_sees_run_once(tmp_path, monkeypatch):
    """subprocess.run starts its process through Popen: noted once, normalised."""
    recorder = Recorder()
    recorder.patches(monkeypatch)
    target = tmp_path / "silence.wav"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "anullsrc", "-t", "0.1", f"file:{target}"], check=True)
    assert recorder.normalised({str(tmp_path): "<tmp>"}) == [
        {"argv": ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc", "-t", "0.1",
                  "file:<tmp>/silence.wav"]}]
