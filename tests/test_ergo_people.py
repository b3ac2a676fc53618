"""pose3d ergo scores each person of a multi-person infer output (issue 12 / issue 8 d)."""

import csv
import json

from test_ergo_cli import UP_ARG, make_track, run, write


def two_people_csv(tmp_path):
    """Person 0 stands upright all along; person 1 has the trunk flexed 45° and the left arm raised 100° all along."""
    a = list(csv.reader(write(make_track(40), tmp_path / "a.csv").open()))
    b = list(csv.reader(write(make_track(40, bend_from=0), tmp_path / "b.csv").open()))
    rows = [[a[0][0], "person", *a[0][1:]]]
    rows += [[r[0], "0", *r[1:]] for r in a[1:]] + [[r[0], "1", *r[1:]] for r in b[1:]]
    path = tmp_path / "people.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _by_person(path):
    rows = list(csv.DictReader(path.open()))
    return {p: [r for r in rows if r["person"] == p] for p in ("0", "1")}


def test_each_person_is_scored(tmp_path):
    src = two_people_csv(tmp_path)
    out, js, rep = tmp_path / "f.csv", tmp_path / "s.json", tmp_path / "r.html"
    res = run(src, "-o", out, "--json", js, "--report", rep, "--up", UP_ARG)
    assert res.exit_code == 0, res.output
    header = out.read_text().splitlines()[0].split(",")
    assert header[:3] == ["frame", "person", "time_s"]
    per = _by_person(out)
    assert len(per["0"]) == len(per["1"]) == 40
    # hand values: upright trunk → REBA trunk step 1; 45° flexion (20-60°) → step 3; RULA trunk 20-60° → 3
    assert {r["reba_trunk"] for r in per["0"]} == {"1"}
    assert {r["reba_trunk"] for r in per["1"]} == {"3"} and {r["rula_trunk"] for r in per["1"]} == {"3"}
    s = json.loads(js.read_text())
    assert [p["person"] for p in s["people"]] == [0, 1]
    assert s["people"][1]["reba"]["max"] > s["people"][0]["reba"]["max"]
    html = rep.read_text()
    assert 'id="person0"' in html and 'id="person1"' in html
    # each person's report inline (an iframe of fixed height cut most of it), one page, one head
    assert "<iframe" not in html and html.count("<body>") == 1 and html.count("<style>") == 1
    assert html.count("Worst moments") >= 2
    # the overview table: one row per person, its RULA/REBA max from the summary
    overview = html.split('<h2 id="person0"')[0]
    for p in s["people"]:
        row = overview.split(f'<a href="#person{p["person"]}">person {p["person"]}</a></td>')[1].split("</tr>")[0]
        cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
        assert cells[3] == str(p["rula"]["max"]) and cells[6] == str(p["reba"]["max"]), cells


def test_one_person_chosen_keeps_the_single_layout(tmp_path):
    src = two_people_csv(tmp_path)
    out, js = tmp_path / "f.csv", tmp_path / "s.json"
    res = run(src, "-o", out, "--json", js, "--up", UP_ARG, "--person", "1")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert "person" not in rows[0] and {r["reba_trunk"] for r in rows} == {"3"}
    assert "people" not in json.loads(js.read_text())
    res = run(src, "-o", tmp_path / "g.csv", "--up", UP_ARG, "--person", "largest")
    assert res.exit_code == 0 and {r["reba_trunk"] for r in csv.DictReader((tmp_path / "g.csv").open())} == {"1"}


def test_unknown_person_is_refused(tmp_path):
    src = two_people_csv(tmp_path)
    for sel, msg in (("7", "people in the file: 0, 1"), ("tallest", "expected all, largest or a person id")):
        out = tmp_path / "f.csv"
        res = run(src, "-o", out, "--up", UP_ARG, "--person", sel)
        assert res.exit_code != 0 and msg in res.output and "Traceback" not in res.output, res.output
        assert not out.exists()


def test_one_vertical_for_every_person_of_a_video(tmp_path):
    """One camera, one vertical: without --up/--calib everyone's frames are pooled into one estimate, and each
    person is scored against it (per person, the flexed person's own estimate would differ from the upright one's)."""
    import numpy as np

    from pose3d_cli.ergo.assess import resolve_vertical
    from pose3d_cli.ergo.io import read_poses
    from test_ergo_cli import UP

    src = two_people_csv(tmp_path)
    js = tmp_path / "s.json"
    res = run(src, "--json", js)
    assert res.exit_code == 0, res.output
    people = json.loads(js.read_text())["people"]
    ups = [np.array(p["vertical"]["up_camera_frame"]) for p in people]
    assert people[0]["vertical"]["source"] == "estimated from the body poses"
    assert np.allclose(ups[0], ups[1]) and "2 people of the video pooled" in people[0]["vertical"]["note"]
    alone = [resolve_vertical(read_poses(src, pid)).up for pid in (0, 1)]
    assert np.degrees(np.arccos(np.clip(alone[0] @ alone[1], -1, 1))) > 0.5  # what per-person estimates would give
    err = lambda u: np.degrees(np.arccos(np.clip(u @ UP / np.linalg.norm(UP), -1, 1)))  # noqa: E731
    assert err(ups[0]) <= max(err(a) for a in alone) + 1e-6
