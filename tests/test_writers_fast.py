"""The vectorised CSV writer is byte-identical to a plain per-cell reference (written here, independently)."""

import csv
import io

import numpy as np

from pose3d_cli.infer.writers import Photos, PoseTrack, csv_text


def _ref_cell(v, digits=2):
    return "" if not np.isfinite(v) else f"{float(v):.{digits}f}"


def _reference_csv(tr: PoseTrack, with_2d: bool, min_conf: float) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = tr.joint_names
    angle_names = list(tr.angles or {})
    header = ["frame", "time_s", "detected"] + (["file", "width", "height", "fx", "fy", "cx", "cy"] if tr.photos else [])
    header += [f"{j}_{a}" for j in names for a in "xyz"] + [f"{j}_conf" for j in names] + ["low_conf"]
    header += [f"{a}_deg" for a in angle_names] + ([f"{j}_{a}" for j in names for a in "uv"] if with_2d else [])
    w.writerow(header)
    for t in range(len(tr.frame)):
        row = [int(tr.frame[t]), "%.4f" % tr.time_s[t], int(bool(tr.detected[t]))]
        if tr.photos:
            K = tr.photos.K[t]
            row += [tr.photos.files[t], int(tr.photos.sizes[t][0]), int(tr.photos.sizes[t][1])]
            row += ["%.3f" % v for v in (K[0, 0], K[1, 1], K[0, 2], K[1, 2])]
        if tr.detected[t]:
            for j in range(len(names)):
                row += [_ref_cell(tr.joints3d[t, j, a]) for a in range(3)]
            row += ["%.3f" % c for c in tr.conf[t]]
            row.append(";".join(n for n, c in zip(names, tr.conf[t]) if c < min_conf))
            row += [_ref_cell(tr.angles[a][t], 1) for a in angle_names]
            if with_2d:
                for j in range(len(names)):
                    row += [_ref_cell(tr.uv[t, j, a]) if tr.conf[t, j] > 0 else "" for a in range(2)]
        else:
            row += [""] * (len(header) - len(row))
        w.writerow(row)
    return buf.getvalue()


def _track(photos: bool) -> PoseTrack:
    rng = np.random.default_rng(3)
    T, names = 40, ("pelvis", "knee, left", "head")  # a comma in a name exercises csv quoting
    j3 = rng.normal(0, 300, (T, len(names), 3)).astype(np.float32)
    j3[5, 1] = np.nan
    j3[7, 2, 0] = np.inf
    det = rng.random(T) > 0.2
    j3[~det] = np.nan
    conf = rng.random((T, len(names)))
    conf[3, 0] = 0.0
    ang = rng.normal(40, 20, T)
    ang[9] = np.nan
    ph = None
    if photos:
        K = np.tile(np.array([[1000.0, 0, 640], [0, 1001.5, 360], [0, 0, 1]]), (T, 1, 1))
        ph = Photos([f"img,{t}.jpg" for t in range(T)], np.tile([1280, 720], (T, 1)), K)
    return PoseTrack(np.arange(T) + 10, np.arange(T) / 60.0, det, j3, rng.normal(500, 200, (T, len(names), 2)),
                     conf, names, {}, {"trunk_flexion": ang}, ph)


def test_csv_byte_identical_to_reference():
    for photos in (False, True):
        tr = _track(photos)
        for with_2d in (False, True):
            got = csv_text(tr, with_2d=with_2d, min_conf=0.4)
            assert got == _reference_csv(tr, with_2d, 0.4)
    assert ",," in got and '"knee, left_x"' in got  # empty cells and quoting are really exercised
