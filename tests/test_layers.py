"""The apps are layered, and nothing imports upward (docs: /work/shared/DESIGN.md).

governance <- accounts <- publishing <- inbox <- archive, listening <- analytics:
an app may import its own layer's code and the layers below, never one above.
``archive`` and ``listening`` share a layer and import neither each other nor
``analytics``. Checked on the source (every import statement, at any depth, so a
lazy import inside a function counts too); the apps' own tests are left out, since
a test may set up data from anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYER = {
    "governance": 0,
    "accounts": 1,
    "publishing": 2,
    "inbox": 3,
    "archive": 4,
    "listening": 4,
    "analytics": 5,
}


def _imported_apps(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add((alias.name.split(".")[0], node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def _sources(app: str) -> list[Path]:
    return [
        path
        for path in sorted((ROOT / app).rglob("*.py"))
        if "tests" not in path.relative_to(ROOT / app).parts
        and "migrations" not in path.relative_to(ROOT / app).parts
    ]


def upward_imports(app: str) -> list[str]:
    own = LAYER[app]
    wrong = []
    for path in _sources(app):
        for other, line in _imported_apps(path):
            if other == app or other not in LAYER:
                continue
            if LAYER[other] >= own:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {other}")
    return sorted(wrong)


@pytest.mark.parametrize("app", sorted(LAYER))
def test_nothing_imports_upward(app: str) -> None:
    assert _sources(app), f"no sources found for {app}"
    assert upward_imports(app) == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text(
        "import governance.models\n"
        "def later():\n"
        "    from analytics.models import Goal\n"
        "    from listening import services\n",
        encoding="utf-8",
    )
    assert _imported_apps(source) == {("governance", 1), ("analytics", 3), ("listening", 4)}
