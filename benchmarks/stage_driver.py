"""Run ``lacgeo run ...`` in this fresh process and charge every CPU second to the stage that spent it.

Used by ``benchmarks/stages.py`` and ``benchmarks/london.py`` (with the repo's venv and with an older
commit's venv), not run by hand:

    python benchmarks/stage_driver.py RESULT.json run --la E06000054 --out DIR -q

It does what ``python -m lacgeo.cli run ...`` does (import ``lacgeo.cli``, call ``main``) with timers
wrapped around the pipeline's stages (``lacgeo.pipeline._stage``) and the output writers that
``lacgeo.outputs.folder`` calls, patched in this process only. The accounting is exclusive: a stack of
labels, and each CPU second (``time.process_time``, every thread of the process) goes to the label on
top, so the labels add up to the process's CPU and nothing is counted twice. Modules imported after
``import lacgeo.cli`` (through ``import`` statements or ``importlib.import_module``) go to "imports
during run", not to the stage that imported them. The interpreter's start-up is the CPU already spent
when this file's first line runs; its shutdown is what the parent measures beyond the last timer.
"""

import time

_STARTUP_CPU = time.process_time()
_STARTUP_WALL_MARK = time.perf_counter()

import builtins  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from contextlib import contextmanager  # noqa: E402


class Ledger:
    """Exclusive CPU and wall seconds per label, charged to the label on top of a stack."""

    def __init__(self, base: str) -> None:
        self.stack = [base]
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}
        self.cpu_mark = time.process_time()
        self.wall_mark = time.perf_counter()

    def _charge(self) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        top = self.stack[-1]
        self.cpu[top] = self.cpu.get(top, 0.0) + cpu - self.cpu_mark
        self.wall[top] = self.wall.get(top, 0.0) + wall - self.wall_mark
        self.cpu_mark, self.wall_mark = cpu, wall

    def push(self, label: str) -> None:
        self._charge()
        self.stack.append(label)

    def pop(self) -> None:
        self._charge()
        self.stack.pop()

    @contextmanager
    def label(self, name: str):
        self.push(name)
        try:
            yield
        finally:
            self.pop()

    def wrap(self, name: str, func):
        def timed(*args, **kwargs):
            if self.stack[-1] == name:
                return func(*args, **kwargs)
            with self.label(name):
                return func(*args, **kwargs)

        timed.__wrapped__ = func
        return timed


LAZY = "imports during run"
OUTPUT_LABELS = {  # names lacgeo.outputs.folder calls (where they exist in this version) -> label
    "write_geopackage": "gpkg",
    "area_table": "tables",
    "patch_table": "tables",
    "rollout_table": "tables",
    "assessment_table": "tables",
    "district_table": "tables",
    "comparison_table": "tables",
    "write_csv": "tables",
    "make_result_map": "map",
    "render_report": "report",
    "write_workbook": "workbook",
    "manifest": "run.json",
    "sha256": "run.json",
}


def install(ledger: Ledger) -> list[str]:
    """Patch the timers into this process's lacgeo; returns the names wrapped."""
    import folium
    import geopandas

    from lacgeo import pipeline
    from lacgeo.outputs import folder

    wrapped = []
    original_stage = pipeline._stage

    @contextmanager
    def _stage(timings, name):
        with original_stage(timings, name):  # run.json keeps its own wall timings
            with ledger.label(name):
                yield

    pipeline._stage = _stage
    wrapped.append("pipeline._stage")
    for name, label in OUTPUT_LABELS.items():
        if hasattr(folder, name):
            setattr(folder, name, ledger.wrap(label, getattr(folder, name)))
            wrapped.append(f"folder.{name}")
    folder._write_all = ledger.wrap("outputs other", folder._write_all)
    folium.Map.save = ledger.wrap("map", folium.Map.save)
    geopandas.GeoDataFrame.to_file = ledger.wrap("gpkg", geopandas.GeoDataFrame.to_file)  # the older commit's gpkg
    wrapped += ["folder._write_all", "folium.Map.save", "GeoDataFrame.to_file"]

    original_import, original_import_module = builtins.__import__, importlib.import_module

    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        if ledger.stack[-1] == LAZY or (level == 0 and not fromlist and name in sys.modules):
            return original_import(name, globals, locals, fromlist, level)
        with ledger.label(LAZY):
            return original_import(name, globals, locals, fromlist, level)

    def _import_module(name, package=None):
        if ledger.stack[-1] == LAZY or name in sys.modules:
            return original_import_module(name, package)
        with ledger.label(LAZY):
            return original_import_module(name, package)

    builtins.__import__ = _import
    importlib.import_module = _import_module
    return wrapped


def main() -> int:
    result_path, argv = sys.argv[1], sys.argv[2:]
    ledger = Ledger("driver")
    ledger.cpu_mark, ledger.wall_mark = _STARTUP_CPU, _STARTUP_WALL_MARK  # this file's own imports: "driver"
    ledger.cpu["interpreter start-up"] = _STARTUP_CPU
    modules_before = len(sys.modules)
    with ledger.label("imports (lacgeo.cli)"):
        import lacgeo.cli
    modules_at_start = len(sys.modules)
    wrapped = install(ledger)
    freeze = hasattr(lacgeo.cli, "console")  # the command freezes the collector's objects as console() does
    if freeze:
        gc.freeze()
    ledger.push("cli other")
    code = lacgeo.cli.main(argv)
    ledger.pop()
    if freeze:
        gc.freeze()
    ledger._charge()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    record = {
        "exit_code": code,
        "cpu": {k: round(v, 4) for k, v in ledger.cpu.items()},
        "wall": {k: round(v, 4) for k, v in ledger.wall.items()},
        "cpu_at_end": round(time.process_time(), 4),
        "wall_in_driver": round(time.perf_counter() - _STARTUP_WALL_MARK, 4),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "modules": {"before_lacgeo": modules_before, "after_import": modules_at_start, "at_end": len(sys.modules)},
        "wrapped": wrapped,
        "lacgeo_file": lacgeo.__file__,
        "lacgeo_version": getattr(lacgeo, "__version__", None),
    }
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1)
    return code


if __name__ == "__main__":
    sys.exit(main())
