"""The layering rules of docs/architecture.md, checked on the source: the core and the event path import no
façade, no delivery, no store implementation and no web framework; no module imports another's private
name; a family's package imports no other family."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "callyard"
FORBIDDEN_BELOW = {
    "core": ("callyard.api", "callyard.delivery", "callyard.store", "callyard.container", "callyard.app",
             "callyard.sim", "callyard.faults", "callyard.audit", "callyard.cli", "fastapi", "starlette"),
    "events": ("callyard.api", "callyard.delivery", "callyard.store", "callyard.container", "callyard.app",
               "callyard.sim", "callyard.faults", "callyard.audit", "callyard.cli", "fastapi", "starlette"),
}
FAMILIES = ("cloudlink", "control", "uc", "cx", "console")


def _modules(below: Path) -> list[Path]:
    return sorted(p for p in below.rglob("*.py") if "migrations" not in p.parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every import in ``path``, relative imports resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(("callyard", *path.relative_to(SRC).with_suffix("").parts[:-1]))
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.append((module, [alias.name for alias in node.names]))
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN_BELOW))
def test_the_core_and_the_event_path_import_no_outer_layer(layer: str) -> None:
    offences = [f"{path.relative_to(SRC)} imports {module}"
                for path in _modules(SRC / layer)
                for module, _names in _imports(path)
                if module.startswith(FORBIDDEN_BELOW[layer])]
    assert offences == []


def test_no_module_imports_a_private_name_of_another() -> None:
    offences = [f"{path.relative_to(SRC)}: from {module} import {name}"
                for path in _modules(SRC)
                for module, names in _imports(path) if module.startswith("callyard")
                for name in names if name.startswith("_") and not name.startswith("__")]
    assert offences == []


@pytest.mark.parametrize("family", FAMILIES)
def test_a_family_imports_no_other_family(family: str) -> None:
    others = tuple(f"callyard.api.{other}" for other in FAMILIES if other != family)
    offences = [f"{path.relative_to(SRC)} imports {module}"
                for path in _modules(SRC / "api" / family)
                for module, _names in _imports(path) if module.startswith(others)]
    assert offences == []
