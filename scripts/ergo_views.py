"""Agreement of `pose3d ergo` between synchronised views of the same instants (pose2sim's 4 cameras).

    python scripts/ergo_views.py DIR [--tag calib] [--ref ref_pose2sim.npz] [--frames 0:100] [--views cam01,cam02]

Reads ``DIR/cam0N_<tag>.csv`` (per-frame outputs of `pose3d ergo` on each view) and prints, over the frames
scored in both views of each pair (6 pairs): per-angle RMSE between views (degrees), and for the final RULA and
REBA scores the exact agreement (%) and Cohen's kappa (unweighted), averaged over the pairs (and their range), and
what the report says of the clip per view (share of time at each action level, mean score) with the largest
difference between two views.

The views are compared at the same instants: with ``--ref`` (the multi-view reference of
``benchmarks/reference_pose2sim.py``), view ``v``'s frame ``f + sync_offsets[v]`` is instant ``f`` (the pose2sim
cam03 runs 4 frames late); without it, row ``f`` of every view (the clip's files as they are). ``--frames`` picks
the instants (half-open; 0:50 dev, 50:100 report split). Where the CSVs have ``lift_flip`` (ergo on a video), the
final-score agreement is also split by it: does a frame whose score hangs on the lift agree less with other views?

With ``--ref``, each view's trunk angles are also scored against the reference's own (its joints, world Z up, through
the same ``body_angles``): bias (mean error) and RMSE per view: accuracy, not only agreement (a constant answer
agrees perfectly).

With ``--ref-ergo REF.csv`` (``pose3d ergo ref.npz -o REF.csv``: the same scoring on the multi-view reference, whose
``frame`` is the instant), each view's final RULA/REBA and body-part scores are scored against the reference's: exact
agreement, Cohen's kappa, linear-weighted kappa, within one point, and the clip's action-level shares next to the
reference's. ``--offset NAME=K`` gives a view's sync offset where ``--ref`` does not name it (e.g. a two-view
triangulation ``pair0304_<tag>.csv`` whose frames are cam03's: ``--offset pair0304=4``).
"""

from __future__ import annotations

import argparse
import csv
import itertools
from pathlib import Path

import numpy as np

ANGLES = ("trunk_flexion", "trunk_inclination", "trunk_lean", "trunk_side_bend", "trunk_twist", "neck_flexion", "upper_arm_elevation_left",
          "upper_arm_elevation_right", "upper_arm_abduction_left", "upper_arm_abduction_right", "elbow_flexion_left",
          "elbow_flexion_right", "knee_flexion_left", "knee_flexion_right")


#: the body-part scores compared against the reference (per-frame CSV columns of `pose3d ergo`)
PARTS = ("rula_upper_arm_left", "rula_upper_arm_right", "rula_lower_arm_left", "rula_lower_arm_right", "rula_neck",
         "rula_trunk", "rula_legs", "reba_trunk", "reba_neck", "reba_legs")


def load(path: Path) -> dict[str, np.ndarray]:
    rows = [r for r in csv.DictReader(path.open()) if r.get("person", "0") == "0"]  # person 0: the tracked subject
    f = lambda v: float(v) if v != "" else np.nan  # noqa: E731
    out = {a: np.array([f(r[f"{a}_deg"]) if f"{a}_deg" in r else np.nan for r in rows]) for a in ANGLES}
    out["frame"] = np.array([int(float(r["frame"])) for r in rows])
    out["lift_flip"] = np.array([f(r.get("lift_flip", "")) for r in rows])
    out["rula"] = np.array([f(r["rula_grand"]) for r in rows])
    out["reba"] = np.array([f(r["reba_reba"]) for r in rows])
    out["rula_al"] = np.array([f(r["rula_action_level"]) for r in rows])
    out["reba_al"] = np.array([f(r["reba_action_level"]) for r in rows])
    for part in PARTS:  # an ergo CSV of an earlier release may lack some: NaN
        out[part] = np.array([f(r.get(part, "")) for r in rows])
    return out


def kappa(a: np.ndarray, b: np.ndarray) -> float:
    cats = np.union1d(a, b)
    po = float(np.mean(a == b))
    pe = float(sum(np.mean(a == c) * np.mean(b == c) for c in cats))
    return float("nan") if pe == 1 else (po - pe) / (1 - pe)


def weighted_kappa(a: np.ndarray, b: np.ndarray, lo: int, hi: int) -> float:
    """Cohen's kappa with linear weights over the ordinal scores lo..hi (RULA 1-7, REBA 1-15): a disagreement by
    one step costs 1/(hi - lo) of one across the whole scale (the statistic of ergonomics agreement studies)."""
    cats = np.arange(lo, hi + 1)
    w = 1 - np.abs(cats[:, None] - cats[None, :]) / (hi - lo)
    obs = np.array([[np.mean((a == i) & (b == j)) for j in cats] for i in cats])
    exp = np.outer([np.mean(a == i) for i in cats], [np.mean(b == j) for j in cats])
    po, pe = (w * obs).sum(), (w * exp).sum()
    return float("nan") if pe == 1 else float((po - pe) / (1 - pe))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--tag", default="calib")
    ap.add_argument("--ref", type=Path, default=None, help="ref_pose2sim.npz: align the views by its sync offsets")
    ap.add_argument("--frames", default="0:100", help="instants compared, half-open")
    ap.add_argument("--views", default="cam01,cam02,cam03,cam04", help="the views compared (e.g. the front ones)")
    ap.add_argument("--ref-ergo", type=Path, default=None, help="ergo's CSV of the multi-view reference itself")
    ap.add_argument("--offset", action="append", default=[], help="NAME=K: a view's sync offset (frames)")
    args = ap.parse_args()
    cams = tuple(args.views.split(","))
    offsets = dict.fromkeys(cams, 0)
    if len(cams) < 2 and args.ref_ergo is None:
        raise SystemExit("--views: give at least two views to compare")
    if args.ref is not None:
        z = np.load(args.ref)
        offsets.update({str(c): int(o) for c, o in zip(z["camera_names"], z["sync_offsets"])})
    for o in args.offset:
        name, _, k = o.partition("=")
        if name not in cams or not k.lstrip("-").isdigit():
            raise SystemExit(f"--offset {o!r}: give NAME=FRAMES for a view of --views ({', '.join(cams)})")
        offsets[name] = int(k)
    lo, hi = (int(v) for v in args.frames.split(":"))
    views = {}
    for c in cams:
        raw = load(args.dir / f"{c}_{args.tag}.csv")
        row = {int(fr): k for k, fr in enumerate(raw["frame"])}
        idx = np.array([row.get(f + offsets[c], -1) for f in range(lo, hi)])
        views[c] = {k: np.where(idx >= 0, v[np.clip(idx, 0, None)], np.nan) for k, v in raw.items() if k != "frame"}
    ref = None
    if args.ref_ergo is not None:
        raw = load(args.ref_ergo)
        row = {int(fr): k for k, fr in enumerate(raw["frame"])}
        idx = np.array([row.get(f, -1) for f in range(lo, hi)])
        ref = {k: np.where(idx >= 0, v[np.clip(idx, 0, None)], np.nan) for k, v in raw.items() if k != "frame"}
        against_reference(views, ref, args.frames)
        if len(cams) < 2:
            return
    pairs = list(itertools.combinations(views, 2))
    print(f"{args.tag}: {len(pairs)} view pairs, instants {args.frames}, sync offsets {offsets}")
    for a in ANGLES:
        r = []
        for u, v in pairs:
            x, y = views[u][a], views[v][a]
            m = np.isfinite(x) & np.isfinite(y)
            r.append(np.sqrt(np.mean((x[m] - y[m]) ** 2)) if m.any() else np.nan)
        print(f"  {a:<28} RMSE {np.nanmean(r):5.1f} deg (pairs {np.nanmin(r):.1f}-{np.nanmax(r):.1f})")
    if args.ref is not None:
        accuracy(views, z, lo, hi, ref)
    clip_summary(views)
    for s in ("rula", "reba"):
        ex, ka, n, one, wk = [], [], [], [], []
        for u, v in pairs:
            x, y = views[u][s], views[v][s]
            m = np.isfinite(x) & np.isfinite(y)
            ex.append(100 * np.mean(x[m] == y[m]))
            one.append(100 * np.mean(np.abs(x[m] - y[m]) <= 1))
            ka.append(kappa(x[m], y[m]))
            wk.append(weighted_kappa(x[m], y[m], 1, 7 if s == "rula" else 15))
            n.append(int(m.sum()))
        print(f"  {s.upper():<5} exact {np.mean(ex):5.1f}% ({min(ex):.0f}-{max(ex):.0f}), kappa {np.nanmean(ka):.2f} "
              f"({np.nanmin(ka):.2f}-{np.nanmax(ka):.2f}), within one point {np.mean(one):.0f}%, linear-weighted "
              f"kappa {np.nanmean(wk):.2f} ({np.nanmin(wk):.2f}-{np.nanmax(wk):.2f}), frames per pair {min(n)}-{max(n)}")
        split = {}
        for u, v in itertools.permutations(views, 2):  # judged from view u alone, as a user would
            x, y, fl = views[u][s], views[v][s], views[u]["lift_flip"]
            for k in (0, 1):
                m = np.isfinite(x) & np.isfinite(y) & (fl == k)
                split.setdefault(k, []).extend((x[m] == y[m]).tolist())
        if split[0] or split[1]:
            print(f"        exact where the view's lift_flip = 0: {100 * np.mean(split[0]):.0f}% of {len(split[0])}, "
                  f"= 1: {100 * np.mean(split[1]):.0f}% of {len(split[1])} (ordered pairs)")


def agreement(x: np.ndarray, y: np.ndarray, lo: int, hi: int) -> tuple[float, float, float, float, int]:
    """Exact %, kappa, linear-weighted kappa, within one point %, frames: over the instants both score."""
    m = np.isfinite(x) & np.isfinite(y)
    x, y = x[m], y[m]
    return (100 * np.mean(x == y), kappa(x, y), weighted_kappa(x, y, lo, hi), 100 * np.mean(np.abs(x - y) <= 1),
            int(m.sum()))


def against_reference(views: dict, ref: dict, frames: str) -> None:
    """Each view's scores against the reference's own (the same scoring on the multi-view 3D): accuracy."""
    print(f"against the multi-view reference's own scores, instants {frames}:")
    for s, lo, hi in (("rula", 1, 7), ("reba", 1, 15)):
        cells = []
        for c, v in views.items():
            ex, ka, wk, one, n = agreement(v[s], ref[s], lo, hi)
            cells.append((ex, ka, wk, one, n))
            print(f"  {s.upper():<5} {c:<10} exact {ex:5.1f}%, kappa {ka:5.2f}, linear-weighted kappa {wk:5.2f}, "
                  f"within one point {one:3.0f}%, frames {n}")
        if len(cells) > 1:
            m = np.nanmean(np.array([c[:4] for c in cells]), axis=0)
            print(f"  {s.upper():<5} {'mean':<10} exact {m[0]:5.1f}%, kappa {m[1]:5.2f}, linear-weighted kappa "
                  f"{m[2]:5.2f}, within one point {m[3]:3.0f}%")
    for a in ANGLES:
        line = []
        for c, v in views.items():
            e = v[a] - ref[a]
            e = e[np.isfinite(e)]
            line.append(f"{c} {np.sqrt(np.mean(e ** 2)):.1f}" if e.size else f"{c} -")
        print(f"  {a:<28} RMSE vs reference deg: {', '.join(line)}")
    for part in PARTS:
        line = []
        for c, v in views.items():
            x, y = v[part], ref[part]
            ok = np.isfinite(x) & np.isfinite(y)
            line.append(f"{c} {100 * np.mean(x[ok] == y[ok]):.0f}" if ok.any() else f"{c} -")
        print(f"  {part:<22} exact % vs reference: {', '.join(line)}")
    for s, levels in (("rula", (1, 2, 3, 4)), ("reba", (0, 1, 2, 3, 4))):
        def shares(al):
            al = al[np.isfinite(al)]
            return np.array([100 * np.mean(al == k) if len(al) else np.nan for k in levels])
        r = shares(ref[f"{s}_al"])
        diffs = {c: np.nanmax(np.abs(shares(v[f"{s}_al"]) - r)) for c, v in views.items()}
        print(f"  {s.upper():<5} clip, % at action level {'/'.join(map(str, levels))}: reference "
              + "/".join(f"{x:.0f}" for x in r) + "; largest difference per view: "
              + ", ".join(f"{c} {d:.0f}" for c, d in diffs.items()) + " points")


def clip_summary(views: dict) -> None:
    """What the report says of the clip, per view: the share of the scored instants at each action level (RULA
    1-4, REBA 0-4) and the mean final score, and the largest difference between two views."""
    for s, levels in (("rula", (1, 2, 3, 4)), ("reba", (0, 1, 2, 3, 4))):
        shares = {}  # view -> (L,) % of its scored instants at each level
        for c, v in views.items():
            al = v[f"{s}_al"][np.isfinite(v[f"{s}_al"])]
            shares[c] = np.array([100 * np.mean(al == k) if len(al) else np.nan for k in levels])
        cells = ", ".join(f"{c} " + "/".join(f"{x:.0f}" for x in sh) + f" (mean {np.nanmean(views[c][s]):.1f})"
                          for c, sh in shares.items())
        table = np.stack(list(shares.values()))  # (V, L)
        spread = np.nanmax(np.nanmax(table, axis=0) - np.nanmin(table, axis=0))
        print(f"  {s.upper():<5} clip: % of instants at action level {'/'.join(map(str, levels))}: {cells}; largest "
              f"difference between views {spread:.0f} points")


def accuracy(views: dict, z, lo: int, hi: int, ref_ergo: dict | None = None) -> None:
    """Per view: trunk angles against the reference's (same instants), bias and RMSE in degrees. With ``ref_ergo``
    (``--ref-ergo``: the reference scored by `pose3d ergo`, its angles smoothed as the views' are) against those;
    else against the reference's raw joints' angles, unsmoothed (said: a perfect view then scores 3-7° off)."""
    from pose3d_cli.body.frame import body_angles
    from pose3d_cli.skeleton import H36M17

    raw = body_angles(np.asarray(z["joints"], float), np.array([0.0, 0.0, 1.0]), H36M17)
    frame = np.asarray(z["frame"])
    rows = [int(np.flatnonzero(frame == f)[0]) if (frame == f).any() else -1 for f in range(lo, hi)]
    if ref_ergo is None:
        print("  (trunk angles against the reference's raw joints, unsmoothed: give --ref-ergo to compare like with like)")
    for a in ("trunk_lean", "trunk_flexion", "trunk_side_bend"):
        r = ref_ergo[a] if ref_ergo is not None else np.array([raw[a][i] if i >= 0 else np.nan for i in rows])
        out, rm = [], []
        for c, v in views.items():
            e = v[a] - r
            e = e[np.isfinite(e)]
            out.append(f"{c} {e.mean():+.1f}/{np.sqrt(np.mean(e ** 2)):.1f}")
            rm.append(np.sqrt(np.mean(e ** 2)))
        print(f"  {a:<28} vs reference, bias/RMSE deg: {', '.join(out)}; mean RMSE {np.mean(rm):.1f}")


if __name__ == "__main__":
    main()
