"""The architecture contract of docs/ARCHITECTURE.md: layers (import-linter), no cycles, no private imports.

These tests read the source; they fail when a change imports upward, closes an import cycle or reaches
into another module's ``_private`` names, and name the offending module.
"""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "empo_tabular"
MAX_TOP_LEVEL_FILES = 6


def _modules(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def private_imports(folder: Path) -> list:
    """``from X import _name`` where ``_name`` is a private name of another module (dunder names allowed)."""
    found = []
    for path, tree in _modules(folder):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    name = alias.name
                    if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                        # importing a private *module* of a package (``from .. import _kernels``) is allowed;
                        # importing a private name defined inside a module is not
                        target = (node.module or "").split(".")
                        base = path.parent
                        for _ in range(max(node.level - 1, 0)):
                            base = base.parent
                        candidate = (base if node.level else ROOT).joinpath(*[t for t in target if t], name)
                        if candidate.with_suffix(".py").exists() or candidate.is_dir():
                            continue
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name} from "
                                     f"{'.' * node.level}{node.module or ''}")
    return found


def import_graph() -> dict:
    """Module -> set of package modules it imports (relative imports resolved; module-level and local)."""
    graph = {}
    names = {_module_name(p) for p, _ in _modules(PACKAGE)}
    for path, tree in _modules(PACKAGE):
        me = _module_name(path)
        pkg = me if path.name == "__init__.py" else me.rpartition(".")[0]
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")
                    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                for alias in node.names:
                    sub = f"{mod}.{alias.name}"
                    deps.add(sub if sub in names else mod)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[me] = {d for d in deps if d in names and d != me}
    return graph


def cycles(graph: dict) -> list:
    """Strongly connected components with more than one module (Tarjan); package ``__init__`` re-exports
    of their own children are not cycles and are left out."""
    edges = {m: {d for d in ds if not d.startswith(m + ".")} for m, ds in graph.items()}
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


def test_lint_imports_contracts_are_kept():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "broken" in proc.stdout and " 0 broken" in proc.stdout


def test_no_import_cycles_between_modules():
    assert cycles(import_graph()) == []


def test_cycle_finder_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("folder", ["empo_tabular", "tests", "examples", "benchmarks"])
def test_no_module_imports_another_modules_private_names(folder):
    assert private_imports(ROOT / folder) == []


def test_private_import_finder_sees_one(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("def _hidden():\n    pass\n")
    (pkg / "b.py").write_text("from .a import _hidden\nfrom . import a\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert private_imports(pkg) == ["pkg/b.py:1 imports _hidden from .a"]


def test_top_level_stays_small():
    files = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(files) <= MAX_TOP_LEVEL_FILES, files


def test_every_numba_function_lives_in_kernels():
    outside = []
    for path, tree in _modules(PACKAGE):
        if "_kernels" in path.parts:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef,)):
                for dec in node.decorator_list:
                    name = ast.unparse(dec)
                    if name.split("(")[0].split(".")[-1] in ("kernel", "njit", "jit", "vectorize", "guvectorize"):
                        outside.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert outside == []
