"""The documents the code cites exist in docs/, the README quickstart runs as printed, LICENSE and CITATION.cff."""
import re
import subprocess
import sys
from pathlib import Path

import empo_tabular

ROOT = Path(__file__).resolve().parents[1]
CITED = {"CONTRACTION_THEORY": "CONTRACTION_THEORY.md", "EMPO_SEMANTICS": "EMPO_SEMANTICS.md",
         "REFERENCE_FORMAT": "REFERENCE_FORMAT.md", "DESIGN_NOTE_CLAIMS": "DESIGN_NOTE_CLAIMS.md"}


def _sources():
    for folder in ("empo_tabular", "tests", "examples"):
        yield from (ROOT / folder).rglob("*.py")
    yield ROOT / "README.md"


def test_cited_documents_exist_and_cited_sections_exist():
    for name, file in CITED.items():
        doc = ROOT / "docs" / file
        assert doc.exists(), doc
        headings = " ".join(ln for ln in doc.read_text().splitlines() if ln.startswith("#"))
        for src in _sources():
            for sec in re.findall(rf"{name}(?:\.md)? §(\d+(?:\.\d+)?)", src.read_text()):
                assert f"# {sec} " in headings or f"# {sec}." in headings, f"{src}: {name} §{sec}"


def test_no_reference_to_a_folder_outside_the_repository():
    outside = "../" + "shared"  # spelled in two parts so that this file does not match itself
    for src in _sources():
        assert outside not in src.read_text(), src


def _quickstart() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Quickstart"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_quickstart_runs_converges_and_prints_action_names():
    out = subprocess.run([sys.executable, "-c", _quickstart()], capture_output=True, text=True, timeout=600,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "pi_r(R0:toggle | s0)" in out.stdout and "pi_r(  R0:stay | s0)" in out.stdout
    m = re.search(r"largest final sup-norm error (\S+) \((\w+)\) <= 1e-06", out.stdout)
    assert m and float(m.group(1)) <= 1e-6, out.stdout
    # the numbers the README states under the block
    readme = (ROOT / "README.md").read_text()
    v = re.search(r"V_r\(s0\) = (-\d+\.\d+)", out.stdout).group(1)
    p = re.search(r"pi_r\(R0:toggle \| s0\) = (\d\.\d+)", out.stdout).group(1)
    assert f"V_r(s0) = {v}" in readme and f"probability {p}" in readme


def test_license_and_citation():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "Copyright (c) 2026 the empo_tabular developers" in (ROOT / "LICENSE").read_text()
    cff = (ROOT / "CITATION.cff").read_text()
    assert "cff-version: 1.2.0" in cff and "license: MIT" in cff and "title:" in cff
    assert f'version: "{empo_tabular.__version__}"' in cff
