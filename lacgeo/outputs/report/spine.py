"""The spine chart of a patch, in the style of OHID's Fingertips profiles.

One row per indicator: its label, the patch's, the area's and the nation's values, and a
horizontal bar centred on the nation's value. The grey bar spans the area's patches (the
darker middle, their middle half); the marker is this patch, its shape and colour saying
how it compares with the nation: a triangle pointing right where significantly worse
(more need), left where better, a circle where similar, a hollow circle where no
interval is published (not tested), a diamond for a context indicator that is higher or
lower. Shapes as well as colours, so the chart reads in greyscale and for colour-blind
readers. More need is always to the right, whatever the indicator's polarity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..escape import escape_text as E
from .svg import Canvas

WORSE, BETTER, SIMILAR, OPEN, CONTEXT = "#b2182b", "#2166ac", "#f0b400", "#ffffff", "#762a83"
ROW, HEAD, FOOT = 22, 40, 62
LABEL_W, VALUE_W, SPINE_W = 300, 62, 220
WIDTH = LABEL_W + 3 * VALUE_W + SPINE_W + 16


def _marker(kind: str, x: float, y: float) -> str:
    t = ""
    shapes = {  # more need to the right: "worse" points right, "better" points left
        "worse": ((-6, -7), (8, 0), (-6, 7)),
        "better": ((6, -7), (-8, 0), (6, 7)),
        "context": ((0, -7), (7, 0), (0, 7), (-7, 0)),
    }
    if kind in shapes:
        d = "M" + "L".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in shapes[kind]) + "Z"
        fill = {"worse": WORSE, "better": BETTER, "context": CONTEXT}[kind]
        return f'<path d="{d}" fill="{fill}" stroke="#111">{t}</path>'
    fill = SIMILAR if kind == "similar" else OPEN
    return f'<circle cx="{x:.1f}" cy="{y}" r="6" fill="{fill}" stroke="#111" stroke-width="1.5">{t}</circle>'


def _kind(verdict: str) -> str:
    if verdict.startswith("not tested"):
        return "open"
    if verdict in ("higher than", "lower than"):
        return "context"
    return {"worse than": "worse", "better than": "better"}.get(verdict, "similar")


def _text(value: float, unit: str) -> str:
    if pd.isna(value):
        return "–"
    if "England = 100" in unit or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 1 else f"{value:.2f}"


def spine_chart(rows: pd.DataFrame, spread: pd.DataFrame, *, la: str, nation: str, svg_id: str) -> str:
    """An SVG spine chart for one patch.

    ``rows``: the patch's rows of the comparisons table (one per indicator, in order).
    ``spread``: per indicator, ``lo``, ``q1``, ``q3``, ``hi`` of the value across the area's patches.
    """
    height = HEAD + ROW * len(rows) + FOOT
    x0 = LABEL_W + 3 * VALUE_W + 8
    centre_x = x0 + SPINE_W / 2
    out = [
        f'<g font-size="12" font-weight="600"><text x="0" y="{HEAD - 12}">Indicator</text>',
        *(
            f'<text x="{LABEL_W + VALUE_W * (k + 1) - 6}" y="{HEAD - 12}" text-anchor="end">{E(h[:9])}</text>'
            for k, h in enumerate(("Patch", la, nation))
        ),
        f'<text x="{x0}" y="{HEAD - 26}" font-weight="400" font-size="11">less need</text>'
        f'<text x="{x0 + SPINE_W}" y="{HEAD - 26}" font-weight="400" font-size="11" text-anchor="end">more need</text>'
        f'<text x="{centre_x:.1f}" y="{HEAD - 12}" text-anchor="middle">{E(nation)}</text></g>',
    ]
    for i, row in enumerate(rows.itertuples(index=False)):
        y = HEAD + ROW * i + ROW / 2
        if i % 2 == 0:
            out.append(f'<rect x="0" y="{y - ROW / 2:.1f}" width="{WIDTH}" height="{ROW}" fill="#f3f3f3"/>')
        label = str(row.label) if len(str(row.label)) <= 46 else str(row.label)[:45] + "…"
        out.append(f'<text x="0" y="{y + 4:.1f}" font-size="12">{E(label)}</text>')
        for k, v in enumerate((row.patch_value, row.area_value, row.national_value)):
            out.append(
                f'<text x="{LABEL_W + VALUE_W * (k + 1) - 6}" y="{y + 4:.1f}" font-size="12" text-anchor="end">'
                f"{_text(v, row.unit)}</text>"
            )
        s = spread.loc[row.indicator]
        centre = row.national_value if not pd.isna(row.national_value) else row.area_value
        values = [s["lo"], s["hi"], row.patch_value, centre]
        half = max((abs(v - centre) for v in values if not pd.isna(v)), default=0.0) * 1.08 or 1.0
        sign = -1.0 if row.polarity == "higher_is_better" else 1.0

        def x(v: float, centre=centre, half=half, sign=sign) -> float:
            return centre_x + sign * (v - centre) / half * (SPINE_W / 2)

        lo, hi = sorted((x(s["lo"]), x(s["hi"])))
        q1, q3 = sorted((x(s["q1"]), x(s["q3"])))
        if np.isnan([lo, hi, q1, q3]).any():  # no patch has a value: no bar
            continue
        out.append(
            f'<rect x="{lo:.1f}" y="{y - 6:.1f}" width="{max(hi - lo, 1):.1f}" height="12" fill="#d9d9d9"/>'
            f'<rect x="{q1:.1f}" y="{y - 6:.1f}" width="{max(q3 - q1, 1):.1f}" height="12" fill="#a6a6a6"/>'
        )
        verdict = str(row.compared_with_nation)
        if pd.notna(row.patch_value):  # a value the source suppressed has no marker, and "–" in its column
            out.append(_marker(_kind(verdict), x(row.patch_value), round(y, 1)))
    top, bottom = HEAD - 4, HEAD + ROW * len(rows)
    out.append(
        f'<line x1="{centre_x:.1f}" x2="{centre_x:.1f}" y1="{top}" y2="{bottom}" stroke="#111" stroke-width="1.5"/>'
    )
    legend_y = bottom + 22
    legend = [("worse", f"worse than {nation}"), ("similar", "similar"), ("better", "better"), ("open", "not tested")]
    if rows["polarity"].eq("context").any():
        legend.append(("context", "higher or lower (context)"))
    lx = 0.0
    for kind, words in legend:
        out.append(_marker(kind, lx + 8, legend_y))
        out.append(f'<text x="{lx + 20:.0f}" y="{legend_y + 4}" font-size="11">{E(words)}</text>')
        lx += 30 + 6.2 * len(words)
    out.append(
        f'<text x="0" y="{legend_y + 20}" font-size="11">Grey bar: the range over {E(la)}\'s patches (darker: '
        "their middle half). Black line: the national value;</text>"
        f'<text x="0" y="{legend_y + 34}" font-size="11">where none is shipped, the row is centred on {E(la)}.</text>'
    )
    desc = f"Spine chart of {len(rows)} indicators for this patch against {E(la)} and {E(nation)}. " + " ".join(
        f"{E(r.label)}: {_text(r.patch_value, r.unit)} ({E(str(r.compared_with_nation).split(':')[0])} {E(nation)})."
        for r in rows.itertuples(index=False)
    )
    canvas = Canvas((0, 0, WIDTH, height), width=WIDTH, max_height=height, pad=0)
    return canvas.svg("".join(out), title=f"How the patch compares with {E(nation)}", desc=desc, svg_id=svg_id)


def spread_over_patches(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Per indicator, the least, lower quartile, upper quartile and greatest patch value."""
    grouped = comparisons.groupby("indicator", sort=False)["patch_value"]
    return (
        pd.DataFrame(
            {
                "lo": grouped.min(),
                "q1": grouped.quantile(0.25),
                "q3": grouped.quantile(0.75),
                "hi": grouped.max(),
            }
        )
        .astype(float)
        .fillna(np.nan)
    )


__all__ = ["spine_chart", "spread_over_patches"]
