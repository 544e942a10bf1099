"""fastviz's modules import one another in one direction: no cycle, function-level
imports included (STYLE.md, "One direction of imports, checked").

The walker reads every module with ``ast`` and takes each import of another module of
the package, wherever it stands (module level, in a function, under ``if``):
``import fastviz._x``, ``from fastviz import _x``, ``from . import _x``,
``from ._x import y``, ``from .. import y``, and ``importlib.import_module`` or
``__import__`` of a literal name. ``from PACKAGE import name`` where ``name`` is no
submodule imports the package's ``__init__``. A module with a PEP 562 ``__getattr__``
(fastviz's ``__init__``) imports, lazily, each submodule that one of its string
literals names (its table of public names); that edge starts at the ``__init__``
only, not at whoever reads the attribute. So ``__init__`` loading the public surface
is no cycle, unless a module it loads imports ``fastviz`` back.
"""
import ast
from pathlib import Path

import fastviz

PACKAGE = Path(fastviz.__file__).parent


def modules(folder, name):
    """``{module name: file}`` of the package ``name`` in ``folder``, subpackages too."""
    found = {}
    for file in sorted(Path(folder).rglob("*.py")):
        parts = [name, *file.relative_to(folder).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = file
    return found


def _imported(node, module, is_package, known):
    """The known modules an import node imports, from ``module``."""
    package = module if is_package else module.rpartition(".")[0]

    def owner(name):  # the module a dotted name is in: its longest known prefix
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    def relative(level, name):
        base = package.split(".")
        base = base[:len(base) - (level - 1)] if level > 1 else base
        return ".".join([*base, *([name] if name else [])])

    if isinstance(node, ast.Import):
        return {owner(alias.name) for alias in node.names}
    if isinstance(node, ast.ImportFrom):
        base = relative(node.level, node.module) if node.level else node.module
        return {f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else owner(base)
                for alias in node.names}
    if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (getattr(node.func, "attr", None) == "import_module"
                 or getattr(node.func, "id", None) in ("import_module", "__import__"))):
        name = node.args[0].value
        stripped = name.lstrip(".")
        return {owner(relative(len(name) - len(stripped), stripped) if name != stripped
                      else name)}
    return set()


def import_graph(folder, name):
    """``{module: {imported module: where}}`` over the package's own modules;
    ``where`` is the first ``file:line`` of that import."""
    known = modules(folder, name)
    graph = {}
    for module, file in known.items():
        tree = ast.parse(file.read_text(), str(file))
        is_package = file.name == "__init__.py"
        edges = graph.setdefault(module, {})
        lazy = any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__"
                   for n in tree.body)
        package = module if is_package else module.rpartition(".")[0]
        for node in ast.walk(tree):
            targets = _imported(node, module, is_package, known)
            if lazy and isinstance(node, ast.Constant) and isinstance(node.value, str):
                targets = {f"{package}.{node.value.lstrip('.')}"} & set(known)
            for target in targets - {None, module}:
                edges.setdefault(target, f"{file.relative_to(folder.parent)}:{node.lineno}")
    return graph


def cycles(graph):
    """Every elementary cycle, as a list of modules starting at its smallest one."""
    found = []

    def walk(start, path, seen):
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == start:
                found.append([*path, start])
            elif nxt > start and nxt not in seen:
                walk(start, [*path, nxt], seen | {nxt})

    for start in sorted(graph):
        walk(start, [start], {start})
    return found


def described(graph, found):
    return "\n".join(
        " -> ".join(cycle) + "\n    " + "\n    ".join(
            f"{a} -> {b} at {graph[a][b]}" for a, b in zip(cycle, cycle[1:]))
        for cycle in found)


def test_walker_reads_fastviz():
    """Outside the expected failure below, so a walker that sees nothing fails."""
    graph = import_graph(PACKAGE, "fastviz")
    assert set(graph) == set(modules(PACKAGE, "fastviz")) >= {"fastviz", "fastviz.cli"}
    assert sum(map(len, graph.values())) > 20
    assert graph["fastviz.cli"]


def test_fastviz_imports_have_no_cycle():
    graph = import_graph(PACKAGE, "fastviz")
    found = cycles(graph)
    assert not found, "import cycles in fastviz:\n" + described(graph, found)


def test_walker_finds_every_import_form_and_the_cycle(tmp_path):
    files = {
        "__init__.py": ('_PUBLIC = {"thing": "_lazy"}\n'
                        "def __getattr__(name):\n"
                        "    import importlib\n"
                        "    return importlib.import_module('.' + _PUBLIC[name], __name__)\n"),
        "_lazy.py": "from ._leaf import y\n",
        "_leaf.py": "import os\ny = 1\n",
        "a.py": "from . import b\nimport pkg.sub.c\n",
        "b.py": "def late():\n    from .a import x\n    return x\n",
        "sub/__init__.py": "",
        "sub/c.py": "from .. import _leaf\nfrom ..sub import d\nfrom pkg import thing\n",
        "sub/d.py": "import importlib\nimportlib.import_module('pkg._leaf')\n",
    }
    for path, text in files.items():
        (tmp_path / "pkg" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / path).write_text(text)
    graph = import_graph(tmp_path / "pkg", "pkg")
    assert {m: set(e) for m, e in graph.items()} == {
        "pkg": {"pkg._lazy"},
        "pkg._lazy": {"pkg._leaf"},
        "pkg._leaf": set(),
        "pkg.a": {"pkg.b", "pkg.sub.c"},
        "pkg.b": {"pkg.a"},
        "pkg.sub": set(),
        "pkg.sub.c": {"pkg._leaf", "pkg.sub.d", "pkg"},
        "pkg.sub.d": {"pkg._leaf"},
    }
    assert graph["pkg.b"]["pkg.a"] == "pkg/b.py:2"  # inside the function
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]
    assert "pkg.a -> pkg.b -> pkg.a" in described(graph, cycles(graph))
