"""Write the poses of several people: CSV with a ``person`` column, JSON with per-person arrays, one BVH each.

- CSV: the columns of :func:`.writers.csv_text` with ``person`` (the track id) after ``frame``; one row per
  frame and person, ordered by frame then id (a person absent from a frame has ``detected=0`` there).
- JSON: ``{"metadata", "frames", "people": [{"id", "left_right_swaps_fixed", "frames"}, ...]}``; the top-level
  ``frames`` are person 0's (the single-person layout, kept for compatibility), ``metadata.people`` lists the ids.
- BVH: the first person written to the given path, each other person ``<stem>_person<ID>.bvh`` beside it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..atomic import write_text_atomic
from ..errors import Pose3dError
from .writers import PoseTrack, csv_text, json_text, write_track


def person_id(track: PoseTrack) -> int:
    return int(track.metadata.get("person", 0))


def bvh_paths(path: str | Path, ids: list[int]) -> list[Path]:
    """The BVH file of each person: the first gets ``path``, the others ``<stem>_person<ID><suffix>``."""
    path = Path(path)
    return [path if k == 0 else path.with_name(f"{path.stem}_person{i}{path.suffix or '.bvh'}")
            for k, i in enumerate(ids)]


def people_csv_text(tracks: list[PoseTrack], with_2d: bool = False, min_conf: float = 0.3) -> str:
    """One CSV for all people (see the module doc); every track has the same frames."""
    tables = [csv_text(t, with_2d, min_conf).splitlines() for t in tracks]
    head = tables[0][0].split(",", 1)
    lines = [f"{head[0]},person,{head[1]}"]
    for row in range(1, len(tables[0])):
        for t, table in zip(tracks, tables):
            first, rest = table[row].split(",", 1)
            lines.append(f"{first},{person_id(t)},{rest}")
    return "\n".join(lines) + "\n"


def people_json_text(tracks: list[PoseTrack], min_conf: float = 0.3) -> str:
    docs = [json.loads(json_text(t, True, min_conf)) for t in tracks]
    out = docs[0]
    out["metadata"]["people"] = [person_id(t) for t in tracks]
    out["people"] = [{"id": person_id(t), "left_right_swaps_fixed": d["metadata"].get("left_right_swaps_fixed", 0),
                      "frames": d["frames"]} for t, d in zip(tracks, docs)]
    return json.dumps(out)


def output_paths(path: str | Path, fmt: str, tracks: list[PoseTrack]) -> list[str]:
    """Every file that :func:`write_people` writes for these tracks."""
    if fmt == "bvh":
        return [str(p) for p in bvh_paths(path, [person_id(t) for t in tracks])]
    return [str(path)]


def refuse_inputs(outputs: list[str], inputs: list) -> None:
    """Pose3dError when an output (e.g. a per-person BVH, known only after detection) is one of the inputs."""
    ins = [Path(i) for i in inputs if i is not None and str(i) != "-" and Path(i).exists()]
    for o in outputs:
        if o == "-" or not Path(o).exists():
            continue
        for i in ins:
            if os.path.samefile(o, i) or (i.is_dir() and Path(o).resolve().is_relative_to(i.resolve())):
                raise Pose3dError(f"{o}: is also an input ({i}); choose another output path")


def write_people(tracks: list[PoseTrack], path: str | Path, fmt: str, with_2d: bool = False,
                 min_conf: float = 0.3, inputs: list | None = None) -> list[str]:
    """Write the tracks (one per person, same frames) to ``path``; returns the paths written. Nothing is written
    when one of the outputs is one of ``inputs``."""
    if not tracks:
        raise Pose3dError(f"{path}: no person to write")
    refuse_inputs(output_paths(path, fmt, tracks), inputs or [])
    if fmt == "csv":
        write_text_atomic(people_csv_text(tracks, with_2d, min_conf), path)
    elif fmt == "json":
        write_text_atomic(people_json_text(tracks, min_conf), path)
    elif fmt == "bvh":
        for t, p in zip(tracks, output_paths(path, fmt, tracks)):
            write_track(t, p, "bvh")
    else:
        write_track(tracks[0], path, fmt)  # raises the one-line error for an unknown format
    return output_paths(path, fmt, tracks)
