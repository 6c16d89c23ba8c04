r"""Text from data made safe for the pages lacgeo writes (``map.html``, ``report.html``).

A leaf: it imports nothing from lacgeo, so every writer can use it without pulling in
the map's libraries.

>>> escape_text('<b>Ward & "Co"</b> ${x}')
'&lt;b&gt;Ward &amp; &quot;Co&quot;&lt;/b&gt; &#36;&#123;x&#125;'
>>> script_json({"name": "</script>"})
'{"name":"\\u003c/script\\u003e"}'
"""

from __future__ import annotations

import html
import json


def escape_text(value: object) -> str:
    """Text from data, safe for HTML and for the map's JavaScript and templates.

    HTML special characters become entities, and so do the characters that start a
    JavaScript template substitution (a backtick, ``${``) or a Jinja tag (``{{``, ``{%``,
    ``{#``): folium compiles its rendered JavaScript as a Jinja template a second time,
    so a brace that reached it raw would be evaluated. Every place that shows the text
    (page, tooltips, labels) reads it as HTML, so the reader sees the original text.
    """
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


def script_json(value: object) -> str:
    """``value`` as a JavaScript literal that is safe inside an inline ``<script>``.

    JSON, ASCII only (so U+2028 and U+2029 cannot end a line), with ``<``, ``>`` and
    ``&`` written as ``\\u`` escapes: nothing in it can close the script element or
    open an HTML comment.
    """
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- the legend -------------------------------------------------------------------------------
