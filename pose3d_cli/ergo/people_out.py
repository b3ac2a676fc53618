"""Outputs of several people scored from one infer output (``pose3d ergo --person all``).

One person keeps the single-person layouts exactly. Several: the per-frame CSV gets a ``person`` column after
``frame`` (rows grouped by person), the summary JSON is ``{"people": [{"person": id, ...summary}]}``, the HTML
report has one section per person (each person's own self-contained report in an ``iframe srcdoc``), and the
plots are named ``person<ID>_<plot>.png``.
"""

from __future__ import annotations

import html as html_mod
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
    sections, pngs = [], {}
    for A in results:
        page, plots = build_report(A)
        pngs.update({f"person{A.person}_{name}": data for name, data in plots.items()})
        s = A.summary
        sections.append(
            f'<section><h2 id="person{A.person}">Person {A.person}: RULA max {s["rula"]["max"]}, '
            f'REBA max {s["reba"]["max"]}</h2>'
            f'<iframe title="person {A.person}" style="width:100%;height:2400px;border:1px solid #ccc" '
            f'srcdoc="{html_mod.escape(page, quote=True)}"></iframe></section>')
    toc = " · ".join(f'<a href="#person{A.person}">person {A.person}</a>' for A in results)
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>pose3d ergo: "
            f"{len(results)} people</title></head><body style='font-family:sans-serif'>"
            f"<h1>pose3d ergo: {len(results)} people</h1><p>{toc}</p>{''.join(sections)}</body></html>")
    return page, pngs
