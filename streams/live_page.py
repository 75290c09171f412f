"""The live page (served by the worker) and the static report: one self-contained HTML file.

No CDN and no framework: inline CSS, a little inline JavaScript that draws tables and SVG
charts from the snapshot JSON. Live, it polls `/api/snapshot` every second; as a report, the
snapshot is embedded and nothing is fetched.
"""

from __future__ import annotations

import html
import json
from importlib.resources import files
from typing import Any

ASSETS = files("streams") / "assets"


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")





def render_page(snapshot: dict[str, Any] | None, *, live: bool) -> str:
    """The page: live (polls the worker's API) or a static report with `snapshot` embedded."""
    data = json.dumps(snapshot or {"period": "", "generated_at": "", "panels": {}},
                      ensure_ascii=False).replace("</", "<\\/")
    if live:
        boot = ("async function poll(){try{const q=location.search;"
                "const r=await fetch('/api/snapshot'+q);if(r.ok)draw(await r.json());}"
                "catch(e){}setTimeout(poll,1000);}draw(" + data + ");poll();")
        mode = "live, refreshed every second"
    else:
        boot = "draw(" + data + ");"
        mode = "static report"
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>welfare-monitor</title><style>" + _asset("live.css") + "</style></head><body>"
        + _asset("live.html").replace("{mode}", html.escape(mode))
        + "<script>" + _asset("live.js") + boot + "</script></body></html>\n"
    )
