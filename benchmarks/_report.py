"""What every benchmark here does last: write its results as JSON and its table as markdown."""

from __future__ import annotations

import json
from pathlib import Path


def write_results(out: Path, results: dict, lines: list[str], elapsed: float) -> None:
    """Write ``results`` to ``out`` (JSON) and ``lines`` beside it (``.md``), and say where."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"results written to {out} and {out.with_suffix('.md')} ({elapsed:.0f} s)")
