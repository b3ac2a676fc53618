"""Which body part costs one phone its RULA/REBA agreement with the cameras: each view re-scored with one group of
angles taken from the multi-view reference.

    python scripts/ergo_whatif.py DIR --ref-ergo REF.csv [--tag default] [--frames 50:100] [--offset cam03=4 ...]

``DIR/cam0N_<tag>.csv`` are `pose3d ergo` outputs of single views, ``REF.csv`` the same scoring of the multi-view
reference (`pose3d ergo ref.npz -o REF.csv`, its ``frame`` being the instant; view ``v``'s frame ``f + offset`` shows
instant ``f``). For each group (none, neck, trunk, upper arms, elbows, legs, all but the neck, all), every view's
angles of that group are replaced by the reference's at the same instants and the final RULA and REBA scores are
computed again by `pose3d_cli.ergo` (same options, activity flags from the substituted angles): exact agreement
with the reference's final scores and Cohen's kappa, per view and averaged. A group whose substitution raises the
agreement most is where the single view's angles cost the most; "all" must give 100% (a check of the method).

The lower-arm "across the midline / out to the side" adjustment needs the wrist's lateral position, which the
CSV does not carry: it is left out (0) for the views and the reference alike, so the "none" row differs slightly
from ``scripts/ergo_views.py``'s.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from scripts.ergo_views import kappa  # noqa: E402

SIDES = ("left", "right")
GROUPS = {
    "none": [],
    "neck": ["neck_flexion", "neck_side_bend"],
    "trunk": ["trunk_flexion", "trunk_inclination", "trunk_lean", "trunk_side_bend", "trunk_twist"],
    "upper arms": [f"{k}_{s}" for s in SIDES for k in ("upper_arm_flexion", "upper_arm_elevation",
                                                        "upper_arm_abduction", "shoulder_raise")],
    "elbows": [f"elbow_flexion_{s}" for s in SIDES],
    "legs": [f"knee_flexion_{s}" for s in SIDES] + ["foot_raise"],
}
GROUPS["all but the neck"] = [k for g in ("trunk", "upper arms", "elbows", "legs") for k in GROUPS[g]]
GROUPS["all"] = GROUPS["all but the neck"] + GROUPS["neck"]


def load_angles(path: Path) -> dict[str, np.ndarray]:
    """Person 0's per-frame angles (``*_deg`` columns, by angle name), ``foot_raise`` (mm), ``time_s``, ``frame``."""
    rows = [r for r in csv.DictReader(path.open()) if r.get("person", "0") == "0"]
    if not rows:
        raise SystemExit(f"{path}: no row of person 0; give a `pose3d ergo` CSV")
    num = lambda v: float(v) if v not in ("", None) else np.nan  # noqa: E731
    out = {k[:-4]: np.array([num(r[k]) for r in rows]) for k in rows[0] if k.endswith("_deg")}
    out["foot_raise"] = np.array([num(r.get("foot_raise_mm")) for r in rows])
    out["time_s"] = np.array([num(r["time_s"]) for r in rows])
    out["frame"] = np.array([int(float(r["frame"])) for r in rows])
    return out


def final_scores(a: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(T,) RULA grand and REBA scores of the angles ``a`` with ergo's default options (lower-arm adjustment 0)."""
    from pose3d_cli.ergo.assess import _scores
    from pose3d_cli.ergo.options import Conventions, Segments, observation_arrays
    from pose3d_cli.ergo.timeline import TimeRules, activity_flags, watched_series

    conv = Conventions(lower_arm_adjust="0")
    ua = "upper_arm_elevation" if conv.upper_arm_angle == "3d" else "upper_arm_flexion"
    flags = activity_flags(watched_series(a, ua, conv.trunk_key), a["time_s"], TimeRules())
    r, b = _scores(a, observation_arrays(Segments(), a["time_s"]), conv, flags)
    return r["grand"], b["reba"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--ref-ergo", type=Path, required=True, help="ergo's CSV of the multi-view reference")
    ap.add_argument("--tag", default="default")
    ap.add_argument("--views", default="cam01,cam02,cam03,cam04")
    ap.add_argument("--frames", default="0:100", help="instants, half-open")
    ap.add_argument("--offset", action="append", default=[], help="NAME=K: view NAME's frame f + K shows instant f")
    args = ap.parse_args()
    lo, hi = (int(v) for v in args.frames.split(":"))
    offsets = {n: int(k) for n, _, k in (o.partition("=") for o in args.offset)}
    ref = load_angles(args.ref_ergo)
    at = (ref["frame"] >= lo) & (ref["frame"] < hi)
    ref = {k: v[at] for k, v in ref.items()}
    ref_rula, ref_reba = final_scores(ref)
    views = {c: load_angles(args.dir / f"{c}_{args.tag}.csv") for c in args.views.split(",")}
    print(f"instants {args.frames}; each view's angles of a group replaced by the reference's: RULA exact % "
          f"(kappa) per view ({', '.join(views)}), mean; REBA exact %, mean")
    for group, keys in GROUPS.items():
        ex, ka, exb = [], [], []
        for c, v in views.items():
            row = {int(f): i for i, f in enumerate(v["frame"])}
            idx = np.array([row.get(int(f) + offsets.get(c, 0), -1) for f in ref["frame"]])
            a = {k: np.where(idx >= 0, x[np.clip(idx, 0, None)], np.nan) for k, x in v.items() if k != "frame"}
            a["time_s"] = ref["time_s"]  # the instants' own times: a view's missing frame leaves no hole
            for k in keys:
                if k in ref:
                    a[k] = ref[k]
            rula, reba = final_scores(a)
            m = np.isfinite(rula) & np.isfinite(ref_rula)
            ex.append(100 * np.mean(rula[m] == ref_rula[m]))
            ka.append(kappa(rula[m], ref_rula[m]))
            mb = np.isfinite(reba) & np.isfinite(ref_reba)
            exb.append(100 * np.mean(reba[mb] == ref_reba[mb]))
        print(f"  {group:<17} RULA " + " ".join(f"{e:3.0f} ({k:+.2f})" for e, k in zip(ex, ka))
              + f"   mean {np.mean(ex):5.1f}%, kappa {np.nanmean(ka):+.2f} | REBA mean {np.mean(exb):5.1f}%")


if __name__ == "__main__":
    main()
