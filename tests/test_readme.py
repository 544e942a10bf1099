"""Every Python example in the README runs as it stands, in a new file in an empty folder."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fastviz

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"^```python\n(.*?)^```", README.read_text("utf-8"), re.S | re.M)


def test_the_readme_has_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example-{i + 1}" for i in
                                                 range(len(EXAMPLES))])
def test_readme_example_runs(tmp_path, code):
    (tmp_path / "example.py").write_text(code)
    env = dict(os.environ)
    # the fastviz under test, wherever it is imported from (an editable copy included)
    package_root = str(Path(fastviz.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert set(p.name for p in tmp_path.iterdir()) > {"example.py"}
