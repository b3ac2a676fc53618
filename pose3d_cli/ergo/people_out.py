"""Outputs of several people scored from one infer output (``pose3d ergo --person all``).

One person keeps the single-person layouts exactly. Several: the per-frame CSV gets a ``person`` column after
``frame`` (rows grouped by person), the summary JSON is ``{"people": [{"person": id, ...summary}]}``, the HTML
report has one section per person (each person's own report inline, one after the other: it prints and scrolls as
one page; in an iframe of fixed height most of it was cut), and the plots are named ``person<ID>_<plot>.png``.
"""

from __future__ import annotations

import json

from .assess import _json_default, frames_csv_text, summary_json_text


def frames_csv_people(results: list) -> str:
    if len(results) == 1:
        return frames_csv_text(results[0])
    texts = [frames_csv_text(A, person_column=True) for A in results]
    return texts[0] + "".join(t.split("\n", 1)[1] for t in texts[1:])  # one header, then each person's rows


def summary_json_people(results: list) -> str:
    if len(results) == 1:
        return summary_json_text(results[0])
    return json.dumps({"people": [{"person": A.person, **A.summary} for A in results]}, indent=2,
                      default=_json_default)


def report_people(results: list) -> tuple[str, dict[str, bytes]]:
    from .report import build_report

    if len(results) == 1:
        return build_report(results[0])
    from .report import CSS, _img, dash

    sections, pngs = [], {}
    lines_of = None  # the person whose section shows the scene's lines (the camera's: the same for everyone)
    for A in results:
        page, plots = build_report(A)
        pngs.update({f"person{A.person}_{name}": data for name, data in plots.items()})
        s = A.summary
        body = page[page.index("<body>") + len("<body>"):page.rindex("</body>")]
        if "scene_lines.jpg" in plots:  # one copy in the page (each was half a 3 MB report of two people)
            tag = _img(plots["scene_lines.jpg"], "the scene's vertical lines")
            if lines_of is None:
                lines_of = A.person
            else:
                body = body.replace(tag, f"<p class='muted'>(the scene's lines: as for person {lines_of} above)</p>")
        sections.append(
            f'<section style="border-top:4px solid #888;margin-top:2em;padding-top:0.5em">'
            f'<h2 id="person{A.person}">Person {A.person}: RULA max {dash(s["rula"]["max"])}, '
            f'REBA max {dash(s["reba"]["max"])}</h2>{body}</section>')
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>pose3d ergo: "
            f"{len(results)} people</title><style>{CSS}</style></head><body>"
            f"<h1>pose3d ergo: {len(results)} people</h1>{_overview(results)}{''.join(sections)}</body></html>")
    return page, pngs


def _overview(results: list) -> str:
    """One row per person: frames seen and scored, RULA/REBA max and median, % of scored time at the two highest
    action levels (RULA 3-4, REBA 3-4), each person's id linking to its section."""
    from .report import dash

    def high(levels: dict, keys: tuple[str, ...]) -> str:
        vals = [levels.get(k) for k in keys]
        return "–" if all(v is None for v in vals) else f"{sum(v or 0 for v in vals):.0f}"

    rows = []
    for A in results:
        s = A.summary
        c, ru, re = s["counts"], s["rula"], s["reba"]
        rows.append(f'<tr><td><a href="#person{A.person}">person {A.person}</a></td><td>{c["frames"]}</td>'
                    f'<td>{c["detected"]}</td><td>{c["scored"]}</td><td>{dash(ru["max"])}</td><td>{dash(ru["median"])}</td>'
                    f'<td>{high(ru["percent_time_action_level"], ("3", "4"))}</td><td>{dash(re["max"])}</td>'
                    f'<td>{dash(re["median"])}</td><td>{high(re["percent_time_action_level"], ("3", "4"))}</td></tr>')
    head = ("<tr><th>person</th><th>frames</th><th>seen</th><th>scored</th><th>RULA max</th><th>RULA median</th>"
            "<th>% time RULA level 3-4</th><th>REBA max</th><th>REBA median</th><th>% time REBA level 3-4</th></tr>")
    return ('<table style="border-collapse:collapse" border="1" cellpadding="4">'
            f"{head}{''.join(rows)}</table><p>Each person's full report follows (ids as in infer's outputs).</p>")
