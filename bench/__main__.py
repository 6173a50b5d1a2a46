"""`python -m bench` lists the benchmarks; `python -m bench NAME` runs one.

Each figure prints on its own line as ``figure_name value unit``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

from bench import Figure

USAGE_ERROR = 2


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(here)])
        if not info.name.startswith("_") and not info.ispkg
    )


def main(argv: list[str]) -> int:
    names = available()
    if not argv:
        print("Benchmarks (run one with `python -m bench NAME`):")
        for name in names:
            module = importlib.import_module(f"bench.{name}")
            summary = (module.__doc__ or "").strip().splitlines()
            print(f"  {name:<16} {summary[0] if summary else ''}")
        return 0
    if len(argv) > 1:
        print("usage: python -m bench [NAME]", file=sys.stderr)
        return USAGE_ERROR
    name = argv[0]
    if name not in names:
        known = ", ".join(names) or "none"
        print(f"unknown benchmark {name!r}; known benchmarks: {known}", file=sys.stderr)
        return USAGE_ERROR
    module = importlib.import_module(f"bench.{name}")
    run = cast(Callable[[], list[Figure]], getattr(module, "run", None))
    if not callable(run):
        print(f"bench/{name}.py has no run() function", file=sys.stderr)
        return USAGE_ERROR
    for figure, value, unit in run():
        print(f"{figure} {value:.6g} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
