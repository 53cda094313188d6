"""Imports point one way (DESIGN.md): checked by parsing every module of the package.

    ir                  imports nothing of Ember's but itself
    frontend, passes    import ir and themselves
    codegen             imports ir, passes and itself
    runtime             imports anything but the top-level __init__ and cli
    nobody              imports cli (but __main__, whose whole job is to run it)

Inside the package imports are relative, so an absolute ``import ember...`` is flagged too.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path

import ember
import pytest

ROOT = Path(ember.__file__).resolve().parent
SKIPPED_DIRS = {"tests", "bench", "build", "dist", "__pycache__", "node_modules", "shared"}

ALLOWED = {
    "ir": {"ir"},
    "frontend": {"ir", "frontend"},
    "passes": {"ir", "passes"},
    "codegen": {"ir", "passes", "codegen"},
}
# Names that `from .. import name` at the package root may mean as modules; any other name is
# an attribute of the top-level __init__.
TOP_LEVEL_MODULES = {"ir", "frontend", "passes", "codegen", "runtime", "bench", "tests", "cli", "__main__"}


def package_modules(root: Path = ROOT) -> list[Path]:
    found = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS and not d.startswith(".")
                            and not d.endswith(".egg-info") and not d.startswith("venv"))
        found += [Path(directory) / f for f in sorted(files) if f.endswith(".py")]
    return found


def module_parts(path: Path, root: Path = ROOT) -> tuple[str, ...]:
    """``passes/cse.py`` -> ("passes", "cse"); a package's ``__init__.py`` names the package."""
    parts = path.relative_to(root).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts


def imported_modules(source: str, parts: tuple[str, ...], is_package: bool) -> list[tuple[int, tuple[str, ...] | str]]:
    """(line, target) for every import of Ember's own modules. A target is the tuple of parts
    inside the package (``()`` for the top-level ``__init__``), or an error string."""
    package = parts if is_package else parts[:-1]
    if parts == ("__init__",):
        package = ()
    found: list[tuple[int, tuple[str, ...] | str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "ember" or alias.name.startswith("ember."):
                    found.append((node.lineno, f"absolute import {alias.name}: import relatively"))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module == "ember" or (node.module or "").startswith("ember."):
                    found.append((node.lineno, f"absolute import from {node.module}: import relatively"))
                continue
            if node.level - 1 > len(package):
                found.append((node.lineno, "relative import above the package root"))
                continue
            base = package[:len(package) - (node.level - 1)]
            module = tuple(node.module.split(".")) if node.module else ()
            if base + module == ():  # `from .. import ir`: a top-level module, or __init__'s attribute
                found += [(node.lineno, (alias.name,) if alias.name in TOP_LEVEL_MODULES else ())
                          for alias in node.names]
            else:
                found.append((node.lineno, base + module))
    return found


def violation(importer: tuple[str, ...], target: tuple[str, ...] | str) -> str | None:
    if isinstance(target, str):
        return target
    layer = importer[0]
    target_layer = target[0] if target else "__init__"
    if target_layer == "cli" and importer != ("__main__",):
        return "nothing imports cli"
    if layer in ALLOWED and target_layer not in ALLOWED[layer]:
        return f"{layer} may import only {sorted(ALLOWED[layer])}, not {target_layer}"
    if layer == "runtime" and target_layer in ("__init__", "cli"):
        return f"runtime may not import the top-level {target_layer}"
    return None


def check(path: Path, root: Path = ROOT) -> list[str]:
    parts = module_parts(path, root)
    problems = []
    for line, target in imported_modules(path.read_text(encoding="utf-8"), parts, path.name == "__init__.py"):
        if (why := violation(parts, target)) is not None:
            problems.append(f"{path.relative_to(root)}:{line}: {why}")
    return problems


def test_the_package_has_the_layers_we_check() -> None:
    layers = {module_parts(p)[0] for p in package_modules()}
    assert {"ir", "passes", "frontend", "codegen", "runtime", "__init__"} <= layers
    assert not any(p.relative_to(ROOT).parts[0] in ("tests", "bench") for p in package_modules())


def test_imports_point_one_way() -> None:
    problems = [problem for path in package_modules() for problem in check(path)]
    assert not problems, "imports against DESIGN.md:\n" + "\n".join(problems)


@pytest.mark.parametrize("path, source, expected", [
    ("ir/graph.py", "from .meta import TensorMeta", None),
    ("ir/ops/views.py", "from ..meta import TensorMeta", None),
    ("ir/ops/views.py", "from ...passes import x", "ir may import only ['ir'], not passes"),
    ("ir/graph.py", "def f():\n    from ..frontend import trace", "ir may import only ['ir'], not frontend"),
    ("passes/cse.py", "from ..ir import Graph", None),
    ("passes/cse.py", "from .. import ir", None),
    ("passes/cse.py", "from ..codegen import llvm", "passes may import only ['ir', 'passes'], not codegen"),
    ("passes/__init__.py", "from .cse import x", None),
    ("passes/__init__.py", "from ..runtime import x", "passes may import only ['ir', 'passes'], not runtime"),
    ("codegen/llvm/emit.py", "from ...passes.kernels import Kernel", None),
    ("codegen/llvm/emit.py", "from ...frontend import x",
     "codegen may import only ['codegen', 'ir', 'passes'], not frontend"),
    ("runtime/cache.py", "from ..frontend import trace\nfrom ..codegen import llvm", None),
    ("runtime/cache.py", "from .. import compile", "runtime may not import the top-level __init__"),
    ("runtime/cache.py", "from ..cli import main", "nothing imports cli"),
    ("runtime/cache.py", "from .. import cli", "nothing imports cli"),
    ("__init__.py", "from .runtime import CompiledFunction", None),
    ("__init__.py", "from .cli import main", "nothing imports cli"),
    ("__main__.py", "from .cli import main", None),
    ("frontend/tracer.py", "import ember.ir", "absolute import ember.ir: import relatively"),
    ("frontend/tracer.py", "from ember.ir import Graph", "absolute import from ember.ir: import relatively"),
    ("frontend/tracer.py", "from .... import x", "relative import above the package root"),
    ("frontend/tracer.py", "import numpy as np\nfrom numpy import ndarray", None),
])
def test_the_checker_itself(tmp_path: Path, path: str, source: str, expected: str | None) -> None:
    file = tmp_path / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(source)
    problems = check(file, tmp_path)
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].endswith(expected), problems
