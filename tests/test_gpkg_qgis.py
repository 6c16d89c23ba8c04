"""QGIS itself opens lacgeo.gpkg's layers with their default styles (where PyQGIS is installed).

The other GeoPackage tests read the ``layer_styles`` table and its QML as data. This one asks QGIS:
Debian's ``python3-qgis`` (QGIS 3.22 on Debian 12) opens each layer the way a user's *Add Layer*
does, in a separate system Python, and reports the renderer it applied. Without PyQGIS it is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin")

PROBE = r"""
import json, sys
from qgis.core import QgsApplication, QgsRenderContext, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in ("areas", "patches", "recommended"):
    layer = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr")
    renderer = layer.renderer()
    context = QgsRenderContext()
    renderer.startRender(context, layer.fields())
    drawn = sum(1 for f in layer.getFeatures() if renderer.willRenderFeature(f, context))
    renderer.stopRender(context)
    legend = [item.label() for item in renderer.legendSymbolItems()]
    n_styles = layer.listStylesInDatabase()[0]
    out[name] = {
        "valid": layer.isValid(),
        "renderer": renderer.type(),
        "attr": renderer.classAttribute() if hasattr(renderer, "classAttribute") else None,
        "labels": layer.labelsEnabled(),
        "drawn": drawn,
        "features": layer.featureCount(),
        "legend": legend,
        "styles": n_styles,
    }
print(json.dumps(out))
"""


def run_qgis_probe(python: str, probe: str, gpkg, tmp_path) -> dict:
    """Run a PyQGIS ``probe`` script on ``gpkg`` headless; what it printed last, as JSON."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    done = subprocess.run(
        [python, "-c", probe, str(gpkg)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _qgis_python() -> str:
    if SYSTEM_PYTHON is None:
        pytest.skip("no system Python at /usr/bin/python3 to run PyQGIS")
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip("PyQGIS is not installed (Debian: apt-get install python3-qgis qgis-providers)")
    return SYSTEM_PYTHON


@pytest.mark.slow
def test_qgis_opens_every_layer_with_its_default_style(solihull_out, tmp_path):
    python = _qgis_python()
    layers = run_qgis_probe(python, PROBE, solihull_out / "lacgeo.gpkg", tmp_path)
    assert {name: (v["renderer"], v["attr"], v["labels"]) for name, v in layers.items()} == {
        "areas": ("graduatedSymbol", "need_index", False),
        "patches": ("singleSymbol", None, True),
        "recommended": ("categorizedSymbol", "phase", True),
    }
    for name, layer in layers.items():
        assert layer["valid"] and layer["drawn"] == layer["features"] > 0, name  # every feature has a symbol
    assert layers["areas"]["legend"][0].startswith("Highest need")
    assert layers["recommended"]["legend"] == ["Phase 1: start here (3 patches)"]
    assert layers["areas"]["styles"] == 2 and layers["patches"]["styles"] == 2  # the alternatives are listed
