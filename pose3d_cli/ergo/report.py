"""One self-contained HTML report (inline CSS, images as base64 PNG; no network) and its PNG plots.

``build_report(assessment) -> (html, {name: png bytes})``. Sections: what was assessed and the vertical used;
RULA/REBA summary and action levels; time in posture bands; worst moments (with the video frame and skeleton
when the video is at hand, and the pose in the body frame); longest high-risk episodes; score and angle time
lines with band shading and risk colour strips; options, defaults and time rules used; what was not
observable; frames not scored and why.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter

import numpy as np

from .. import __version__
from ..body.frame import pelvis_frame
from ..skeleton import get_skeleton
from .timeline import frame_weights

RULA_COLOURS = {1: "#4caf50", 2: "#ffeb3b", 3: "#ff9800", 4: "#e53935"}
REBA_COLOURS = {0: "#4caf50", 1: "#aed581", 2: "#ffeb3b", 3: "#ff9800", 4: "#e53935"}

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:24px;margin-bottom:4px} h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px} td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
th{background:#f3f3f3} td.n{text-align:right} .muted{color:#666;font-size:12px} .warn{color:#b71c1c}
.chip{display:inline-block;padding:1px 8px;border-radius:8px;font-weight:bold}
.grid{display:flex;flex-wrap:wrap;gap:12px} .card{border:1px solid #ddd;padding:6px;border-radius:6px;font-size:12px}
img{max-width:100%}
"""


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _img(data: bytes, alt: str, width: int | None = None) -> str:
    """An inline image (PNG plots, JPEG photos: the type read from the bytes)."""
    w = f' width="{width}"' if width else ""
    mime = "jpeg" if data[:2] == b"\xff\xd8" else "png"
    return f'<img alt="{html.escape(alt)}"{w} src="data:image/{mime};base64,{base64.b64encode(data).decode()}">'


#: video frames in the report (thumbnails, the scene's lines) are photos: JPEG at this quality is ~7x smaller than PNG
PHOTO_QUALITY = 85


def _photo(img: np.ndarray) -> bytes | None:
    """A BGR video frame as JPEG bytes (None if OpenCV cannot encode it)."""
    import cv2

    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, PHOTO_QUALITY])
    return data.tobytes() if ok else None


def _esc(v) -> str:
    return html.escape("" if v is None else str(v))


def dash(v) -> str:
    """A figure, escaped, or a dash where there is none (a person never scored)."""
    return "–" if v is None else html.escape(str(v))


def _table(rows, header=None, numeric_from: int = 1) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr>")
    for r in rows:
        out.append("<tr>" + "".join(f'<td class="n">{_esc(c)}</td>' if i >= numeric_from else f"<td>{_esc(c)}</td>"
                                    for i, c in enumerate(r)) + "</tr>")
    out.append("</table>")
    return "".join(out)


#: plain words for the angle names of the CSV columns (``body/frame.py`` ANGLE_NAMES), as the report says them
ANGLE_WORDS = {"trunk_flexion": "trunk flexion (sagittal)", "trunk_inclination": "trunk inclination (3D)",
               "trunk_lean": "trunk flexion (lean)", "trunk_side_bend": "trunk side bend", "trunk_twist": "trunk twist",
               "neck_flexion": "neck flexion", "neck_side_bend": "neck side bend"}
for _side in ("left", "right"):
    ANGLE_WORDS.update({f"upper_arm_flexion_{_side}": f"{_side} upper arm flexion",
                        f"upper_arm_elevation_{_side}": f"{_side} upper arm raised",
                        f"upper_arm_abduction_{_side}": f"{_side} upper arm abduction",
                        f"shoulder_raise_{_side}": f"{_side} shoulder raised",
                        f"elbow_flexion_{_side}": f"{_side} elbow flexion", f"knee_flexion_{_side}": f"{_side} knee flexion"})

#: what each convention means, in a few words, for the report's options table (the full text: ergo/options.py)
CONVENTION_WORDS = {
    "upper_arm_angle": "upper arm angle scored: 3d = raised in any plane, sagittal = forward/backward only",
    "upper_arm_reference": "upper arm measured from the trunk or from the vertical",
    "trunk_angle": "trunk angle scored: lean (out of the pelvis' frontal plane), sagittal, or 3d inclination",
    "knee": "REBA knee adjustment from the more bent knee (max) or the weight-bearing one (support)",
    "edges": "an angle exactly on a band edge: le = the lower score, lt = the higher",
    "upright_deg": "trunk counts as upright within ± this (°)",
    "neutral_neck_deg": "neck extension counts only beyond this (°)",
    "neck_neutral_deg": "the skeleton's own neck angle when upright, subtracted (°)",
    "neck_neutral": "where that neutral came from: fixed (the number), face (the person's own, from the face points "
                    "of a multi-view reference), auto (face for a reference, fixed for lifted poses)",
    "face_line_rise_deg": "how far the ears → eyes line rises in a neutral head (°), for the face neutral",
    "twist_deg": "trunk/neck twist counts beyond this (°)",
    "side_bend_deg": "trunk/neck side bend counts beyond this (°)",
    "abduction_deg": "upper arm counts as abducted beyond this (°)",
    "shoulder_raise_deg": "shoulder counts as raised beyond this (°)",
    "shoulder_raise_ref": "shoulder raise measured from the clip's median or from zero",
    "foot_raise_mm": "one foot counts as raised when the ankles differ by more than this (mm)",
    "rula_trunk_extension": "RULA trunk bent backwards: scored 2, by its size, or as upright",
    "lower_arm_adjust": "RULA lower arm across the body or out to the side: from the wrist (auto) or forced",
    "edge_margin_deg": "a frame is 'near a band edge' when ± this (°) on one angle changes a score",
    "hand_points": "wrist and neck twist from the detector's hand/face points (auto) or from the options only (off)",
    "hand_min_conf": "hand/face points used only above this confidence",
    "hand_margin_deg": "a measured hand/face band used only when ± this (°) keeps the band",
    "wrist_neutral_deg": "RULA wrist counts as neutral within ± this (°)",
    "wrist_deviation_deg": "wrist counts as bent sideways beyond this (°)",
    "wrist_deviation_measured": "use the measured sideways wrist bend (not reliable enough by default)",
    "neck_twist_deg": "neck counts as twisted beyond this head turn (°)",
}


def _key(colours: dict, names: dict, title: str) -> str:
    """A row of colour chips naming what each colour of a strip means."""
    return (f"<span class='muted'>{_esc(title)}:</span> " + " ".join(
        f"<span style='display:inline-block;width:0.9em;height:0.9em;background:{c};border:1px solid #999;"
        f"vertical-align:middle'></span> {_esc(names.get(k, k))}" for k, c in colours.items()))


def _strip(ax, t, level, colours):
    """Each frame coloured over the time it stands for (its step to the next frame, as the summary's % of time
    counts it): a one-frame peak shows, and a change of level leaves no gap (``fill_between`` drew each run from its
    first frame to its last, so a single frame had no width)."""
    from .timeline import frame_weights, runs

    w = frame_weights(t)
    for k, c in colours.items():
        spans = [(float(t[a]), float(t[b - 1] + w[b - 1] - t[a])) for a, b in runs(level == k, t)]  # split at holes
        if spans:
            ax.broken_barh(spans, (0, 1), color=c, linewidth=0)
    ax.set_yticks([])
    ax.set_ylim(0, 1)


def score_plot(A) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = A.poses.time_s
    fig, axes = plt.subplots(4, 1, figsize=(11, 4.6), sharex=True,
                             gridspec_kw={"height_ratios": [3, 0.35, 3, 0.35]})
    axes[0].step(t, A.rula["grand"], where="mid", color="#333")
    axes[0].set_ylim(0.5, 7.5)
    axes[0].set_ylabel("RULA")
    for y, c in ((2.5, RULA_COLOURS[2]), (4.5, RULA_COLOURS[3]), (6.5, RULA_COLOURS[4])):
        axes[0].axhline(y, color=c, lw=1, ls="--")
    _strip(axes[1], t, A.rula["action_level"], RULA_COLOURS)
    axes[1].set_ylabel("AL", rotation=0, labelpad=12)
    axes[2].step(t, A.reba["reba"], where="mid", color="#333")
    axes[2].set_ylim(0.5, 15.5)
    axes[2].set_ylabel("REBA")
    for y, c in ((1.5, REBA_COLOURS[1]), (3.5, REBA_COLOURS[2]), (7.5, REBA_COLOURS[3]), (10.5, REBA_COLOURS[4])):
        axes[2].axhline(y, color=c, lw=1, ls="--")
    _strip(axes[3], t, A.reba["action_level"], REBA_COLOURS)
    axes[3].set_ylabel("AL", rotation=0, labelpad=12)
    axes[3].set_xlabel("time (s)")
    fig.suptitle("Scores over time (colour strip: action level; gaps: frames not scored)", fontsize=11)
    return _png(fig)


#: (title, [(angle key, label)], band edges, each band's shade: 0 neutral, darker with the risk the methods give it
#: (RULA/REBA: trunk upright within 5°, 0-20° either way 2, 20-60° 3, beyond 4; neck 0-10° 1, 10-20° 2, > 20° 3,
#: extension beyond the 5° dead band 4; upper arm ±20° 1, 20-45° 2, 45-90° 3, > 90° 4; lower arm 60-100° 1, else
#: 2; knee 30-60° +1, > 60° +2). ``upper_arm`` keys are replaced by the scored angle (``--upper-arm-angle``).
#: the colour of each side in every drawing of the report (the legend says it: "orange: left side, blue: right side")
SIDE_COLOURS = {"left": "#ff8c00", "right": "#1e78ff"}

ANGLE_PANELS = [
    ("Trunk flexion (+) / extension (−) vs vertical", [("trunk_lean", "lean (scored by default)"),
                                                        ("trunk_flexion", "sagittal projection")],
     [-20, -5, 5, 20, 60], [2, 1, 0, 1, 2, 3]),
    ("Trunk side bend and twist", [("trunk_side_bend", "side bend (+ left)"), ("trunk_twist", "twist (+ left)")],
     [-10, 10], [1, 0, 1]),
    ("Neck flexion (+) / extension (−) vs trunk", [("neck_flexion", "flexion")], [-5, 10, 20], [3, 0, 1, 2]),
    ("Upper arm vs trunk (the scored angle)", [("upper_arm_left", "left"), ("upper_arm_right", "right")],
     [-20, 20, 45, 90], [1, 0, 1, 2, 3]),
    ("Elbow flexion", [("elbow_flexion_left", "left"), ("elbow_flexion_right", "right")], [60, 100], [1, 0, 1]),
    ("Knee flexion", [("knee_flexion_left", "left"), ("knee_flexion_right", "right")], [30, 60], [0, 1, 2]),
]


def angle_plot(A) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = A.poses.time_s
    fig, axes = plt.subplots(len(ANGLE_PANELS), 1, figsize=(11, 2.0 * len(ANGLE_PANELS)), sharex=True)
    shades = ["#ffffff", "#fff8e1", "#ffe0b2", "#ffccbc", "#ffcdd2"]
    ua = A.conventions.upper_arm_key
    for ax, (title, series, edges, levels) in zip(axes, ANGLE_PANELS):
        series = [(k.replace("upper_arm", ua) if k.startswith("upper_arm") else k, label) for k, label in series]
        vals = np.concatenate([A.angles[k] for k, _ in series])
        fin = vals[np.isfinite(vals)]
        lo = min(float(fin.min()) - 5 if len(fin) else -10, min(edges) - 10)  # 5° of headroom: a peak is not
        hi = max(float(fin.max()) + 5 if len(fin) else 10, max(edges) + 10)  # drawn on the frame
        bounds = [lo] + list(edges) + [hi]
        for (a, b), level in zip(zip(bounds[:-1], bounds[1:]), levels):  # each band shaded by its risk
            ax.axhspan(a, b, color=shades[min(level, len(shades) - 1)], zorder=0)
        for e in edges:
            ax.axhline(e, color="#bbb", lw=0.6, zorder=1)
        for k, label in series:  # the report's colours: left orange, right blue (as the skeletons and the legend)
            colour = SIDE_COLOURS.get(k.rsplit("_", 1)[-1])
            ax.plot(t, A.angles[k], lw=1.3, label=label, zorder=2, **({"color": colour} if colour else {}))
        ax.set_ylim(lo, hi)
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylabel("deg")
        if len(series) > 1:
            ax.legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout()
    return _png(fig)


def pose_views(A, i: int) -> bytes:
    """Front and side stick figures of frame ``i`` in the gravity-aligned pelvis frame (the 3D pose)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sk = get_skeleton(A.poses.skeleton)
    p = A.poses.joints[i]
    F = pelvis_frame(p, A.vertical.up_at(A.poses.frame[i:i + 1])[0], sk)  # rows anterior, left, up
    q = (p - p[sk.index("pelvis")]) @ F.T
    fig, axes = plt.subplots(1, 2, figsize=(3.2, 2.4))
    left = set(sk.joints_left)
    for ax, (h, name) in zip(axes, ((1, "front (left →)"), (0, "side (anterior →)"))):
        for c, par in sk.bone_indices:
            col = SIDE_COLOURS["left"] if c in left else (SIDE_COLOURS["right"] if c in sk.joints_right else "#3c3")
            x = q[[c, par], 1] if h == 1 else q[[c, par], 0]  # seen from the front: the person's left on the right
            ax.plot(x, q[[c, par], 2], color=col, lw=2)
        ax.axhline(q[:, 2].min(), color="#999", lw=0.8)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(name, fontsize=7)
    return _png(fig)


def thumbnails(A, indices: list[int], height: int = 260) -> dict[int, bytes]:
    """Video frames at ``indices`` with the 2D skeleton, cropped around the person (needs the video)."""
    if not indices or getattr(A, "video", None) is None or getattr(A, "track", None) is None:
        return {}
    import cv2

    from ..infer.render import draw_skeleton_2d
    from ..infer.sources import open_source

    want = set(indices)
    last = max(want)
    sk = get_skeleton(A.poses.skeleton)
    out = {}
    for k, (_, _, img) in enumerate(open_source(A.video).frames()):
        if k in want:
            uv, conf = A.track.uv[k], A.track.conf[k]
            img = img.copy()
            draw_skeleton_2d(img, uv, conf, sk, A.min_conf, max(2, img.shape[1] // 300))
            ok = np.isfinite(uv).all(-1) & (conf > 0)
            if ok.any():
                x0, y0 = uv[ok].min(0)
                x1, y1 = uv[ok].max(0)
                m = 0.25 * max(x1 - x0, y1 - y0)
                x0, y0 = int(max(0, x0 - m)), int(max(0, y0 - m))
                x1, y1 = int(min(img.shape[1], x1 + m)), int(min(img.shape[0], y1 + m))
                if x1 > x0 and y1 > y0:
                    img = img[y0:y1, x0:x1]
            s = height / img.shape[0]
            img = cv2.resize(img, (max(1, int(img.shape[1] * s)), height), interpolation=cv2.INTER_AREA)
            photo = _photo(img)
            if photo is not None:
                out[k] = photo
        if k >= last:
            break
    return out


def scene_lines_figure(A, height: int = 420) -> bytes | None:
    """The evidence for a vertical found from the scene's lines: the first video frame with the segments that
    support it drawn green and the estimated up drawn as arrows (a user checks it by eye). None when the vertical
    did not come from the lines or the video is not at hand."""
    s = A.vertical.scene
    if not s or not s.get("accepted") or getattr(A, "video", None) is None \
            or not A.vertical.source.startswith("estimated from the scene"):
        return None
    import cv2

    from ..body.scene_lines import detect_segments, segment_normals
    from ..infer.sources import open_source, sample_frames
    from ..synth.cameras import intrinsics_from_fov

    frames = sample_frames(open_source(A.video), 1)
    if not frames:
        return None
    i, img = frames[0]
    h, w = img.shape[:2]
    K = intrinsics_from_fov(float(s["fov_deg"]), w, h)
    up = A.vertical.up_at(np.array([i]))[0]
    seg = detect_segments(img)
    vertical = np.abs(segment_normals(seg, K) @ up) < np.sin(np.radians(1.0))
    img = img.copy()
    thick = max(2, w // 250)
    for x1, y1, x2, y2 in seg[vertical]:
        cv2.line(img, (int(x1), int(y1)), (int(x2), int(y2)), (0, 200, 0), thick, cv2.LINE_AA)
    Kinv = np.linalg.inv(K)
    for fx in (0.2, 0.5, 0.8):
        for fy in (0.3, 0.7):
            ray = Kinv @ np.array([fx * w, fy * h, 1.0])
            a, b = K @ ray, K @ (ray + 0.12 * up)
            cv2.arrowedLine(img, (int(a[0] / a[2]), int(a[1] / a[2])), (int(b[0] / b[2]), int(b[1] / b[2])),
                            (0, 140, 255), thick + 1, cv2.LINE_AA, tipLength=0.25)
    k = height / h
    img = cv2.resize(img, (max(1, int(w * k)), height), interpolation=cv2.INTER_AREA)
    return _photo(img)


def _chip(score, level, colours) -> str:
    if score is None:
        return "–"
    c = colours.get(int(level), "#eee") if level is not None else "#eee"
    return f'<span class="chip" style="background:{c}">{_esc(score)}</span>'


def _deg(v) -> str:
    """An angle for the page: ``12.3°``, or ``not scored`` where it is missing (an unreliable arm)."""
    return "not scored" if v is None else f"{v}°"


def _reliability_section(A, s: dict) -> str:
    """Per-frame reliability: the lift spread (flip-averaged vs plain lift) and the hand/face points used."""
    out = ["<h2>Reliability</h2>"]
    lift = s.get("lift_spread")
    if lift:
        valid = np.isfinite(A.rula["grand"])
        flips = np.flatnonzero(valid & (np.nan_to_num(A.spread["flip"]) > 0))
        by = Counter(A.spread["angle"][i] for i in flips)
        out.append(f"<p>Lift spread (the largest difference of a scored angle between the flip-averaged lift, scored, "
                   f"and the plain lift of the same 2D): median {dash(lift['lift_spread_deg_median'])}°, 95th percentile "
                   f"{dash(lift['lift_spread_deg_p95'])}°. <b>The final RULA or REBA score differs between the two lifts in "
                   f"{lift['lift_flip_frames (scored)']} of {int(valid.sum())} scored frames</b> (column "
                   "<code>lift_flip</code>): there the score hangs on what the lifter cannot decide"
                   + (" — largest spread then in: " + ", ".join(f"{_esc(k)} {n}" for k, n in by.most_common(5))
                      if by else "") + ".</p>")
    else:
        out.append("<p class='muted'>No lift spread: " + ("the 3D was triangulated, not lifted." if
                                                          A.poses.coordinates == "world" else
                                                          "the input was a pose file (give the video for a second, "
                                                          "plain lift).") + "</p>")
    acc = s["angle_accuracy_measured_deg"]
    if not acc["rmse_range"]:  # a multi-view reference: the monocular figures do not apply
        out.append(f"<p><b>How far off the angles can be:</b> {_esc(acc['how'])}.</p>")
    else:
        out.append("<p><b>How far off the angles can be:</b> " + "; ".join(f"{_esc(k)} {lo}-{hi}°" for k, (lo, hi) in
                                                                   acc["rmse_range"].items())
                   + f" <span class='muted'>({_esc(acc['how'])})</span>. A score whose angle is within this of a "
                   "band edge can change with the filming position: read the band shares and the worst moments with "
                   "that in mind.</p>")
    hf = s.get("hand_face", {})
    if hf.get("points_in_input"):
        n = hf["frames_measured (scored frames)"]
        used = A.conventions.hand_points == "auto"
        out.append("<p>Hand and face points: wrist flexion/deviation and head yaw measured (per-frame columns). "
                   + (f"Scores use them where reliable: wrist L {n['wrist_left']}, wrist R {n['wrist_right']}, neck "
                      f"twist {n['neck_twist']} frames (column <code>measured</code>); elsewhere the options."
                      if used else "Not used in the scores (<code>--hand-points off</code>, the default): on the "
                      "multi-view reference the monocular angles did not follow the triangulated ones (README)"
                      + ("; these are triangulated: <code>--hand-points auto</code> scores them." if
                         len(A.poses.metadata.get("views") or []) > 2 else
                         "; from two views the face's left and right are less certain." if
                         A.poses.coordinates == "world" else "."))
                   + "</p>")
    return "".join(out)


def build_report(A) -> tuple[str, dict[str, bytes]]:
    from . import reba as reba_mod
    from . import rula as rula_mod

    s = A.summary
    p = A.poses
    pngs = {"scores.png": score_plot(A), "angles.png": angle_plot(A)}
    worst = s["worst_moments_rula"]
    idx = [int(np.flatnonzero(p.frame == m["frame"])[0]) for m in worst]
    thumbs = thumbnails(A, idx)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>pose3d ergo — {_esc(p.source)}</title>"
             f"<style>{CSS}</style></head><body>"]
    parts.append(f"<h1>Ergonomic risk: RULA and REBA</h1><div class='muted'>{_esc(p.source)} · "
                 f"{s['duration_s']:.1f} s · {s['counts']['frames']} frames · pose3d {__version__}</div>")
    v = s["vertical"]
    warn = " class='warn'" if v["source"].startswith("level camera") else ""
    frame = "camera" if "up_camera_frame" in v else "world"
    parts.append(f"<p{warn}><b>Vertical used:</b> {_esc(v['source'])}; up in the {frame} frame "
                 f"{_esc(v[f'up_{frame}_frame'])}" + (f"; spread {v['spread_deg']:.1f}°" if v.get("spread_deg") is not None else "")
                 + (f" — {_esc(v['note'])}" if v.get("note") else "") + "</p>")
    f = s["filming"]
    seen = ", ".join(f"{k} {v:.0f}%" for k, v in f["percent_time_seen_from"].items() if v is not None)
    roll = f["camera_roll_deg"]
    tilt = (f"camera {f['camera_down_deg']:.0f}° down, rolled {abs(roll):.0f}°"
            + (f" (the true vertical leans to the image's {'right' if roll > 0 else 'left'})" if round(roll) else "")
            + f" (tilt: {_esc(f['tilt_from'])})"
            if f["camera_down_deg"] is not None else "camera tilt not measured (level-camera assumption)")
    if p.coordinates == "world":
        parts.append(f"<p><b>Filming:</b> {_esc(f['tilt_from'])}.</p>"
                     + "".join(f"<p class='warn'>Cameras: {_esc(n)}</p>" for n in s.get("camera_notes", [])))
    else:
        parts.append(f"<p><b>Filming:</b> {tilt}; worker seen from the {_esc(seen or '–')} of the scored time.</p>"
                     + "".join(f"<p class='warn'>{_esc(w)}</p>" for w in f["camera_warnings"] + f["view_warnings"]))
    lines_png = scene_lines_figure(A)
    if lines_png is not None:
        pngs["scene_lines.jpg"] = lines_png
        parts.append("<div>" + _img(lines_png, "the scene's vertical lines") + "<div class='muted'>The vertical's "
                     "evidence: the scene's lines that meet in its vanishing point (green) and the estimated up "
                     "(orange arrows), first frame of the video. Check that the green lines are walls, door frames or "
                     "shelves and the arrows stand straight up in the room.</div></div>")
    r, b = s["rula"], s["reba"]
    rl = A.rula["action_level"]
    parts.append("<h2>Summary</h2>")
    rows = [["max score", r["max"], b["max"]], ["median score", r["median"], b["median"]]]
    rows += [[f"% time at action level {k}", r["percent_time_action_level"].get(k, "–"),
              b["percent_time_action_level"].get(k, "–")] for k in ("0", "1", "2", "3", "4")]
    parts.append(_table(rows, ["", "RULA (1–7)", "REBA (1–15)"]))
    parts.append("<div class='muted'>RULA action levels: " + "; ".join(f"{k}: {v}" for k, v in rula_mod.ACTION_LEVELS.items())
                 + ".<br>REBA action levels: " + "; ".join(f"{k}: {v}" for k, v in reba_mod.ACTION_LEVELS.items()) + ".</div>")
    c = s["counts"]
    parts.append(f"<p>Frames: {c['frames']}, with a person: {c['detected']}, scored: {c['scored']}, partly scored "
                 f"(one arm unreliable): {c['partly_scored']}, near a band edge (±{A.conventions.edge_margin_deg:g}° "
                 f"would change a score): {c['near_band_edge']}"
                 + (" — by angle: " + ", ".join(f"{_esc(ANGLE_WORDS.get(k, k))} {n}" for k, n in list(c.get("near_band_edge_by_angle", {}).items())[:8])
                    if c.get("near_band_edge_by_angle") else "") + ".</p>")
    parts.append(_reliability_section(A, s))
    parts.append("<h2>Time in posture bands</h2>" + _table([[k, v] for k, v in s["percent_time_in_band"].items()],
                                                           ["band", "% of scored time"]))
    parts.append(_table([["static (held)", s["percent_time_static"]], ["repeated", s["percent_time_repeated"]],
                         ["rapid large changes", s["percent_time_rapid"]],
                         ["walking (no repetitions counted; REBA legs as walking)", s["percent_time_walking"]]],
                        ["time rule", "% of scored time"]))
    for n in s["time_notes"]:
        parts.append(f"<p class='warn'>{_esc(n)}</p>")
    nn = s.get("neck_neutral") or {}
    if nn.get("note"):
        parts.append(f"<p{' class=warn' if nn.get('warn') else ''}>Neck neutral: {nn['deg']:g}° "
                     f"({_esc(nn['source'])}): {_esc(nn['note'])}.</p>")
    parts.append("<h2>Worst moments (RULA; de-duplicated peaks, at least 2 s or a fifth of the clip apart)</h2><div class='grid'>")
    for m, i in zip(worst, idx):
        pics = (_img(thumbs[i], f"frame {m['frame']}") if i in thumbs else "") + _img(pose_views(A, i), "pose")
        parts.append(f"<div class='card'>{pics}<br>t = {m['time_s']:.2f} s (frame {m['frame']}) · RULA "
                     f"{_chip(m['rula'], rl[i], RULA_COLOURS)} REBA {_chip(m['reba'], A.reba['action_level'][i], REBA_COLOURS)}"
                     f"<br>trunk {_deg(m['trunk_deg'])}, neck {_deg(m['neck_flexion_deg'])}, upper arms "
                     f"L {_deg(m['upper_arm_left_deg'])} / R {_deg(m['upper_arm_right_deg'])}</div>")
    parts.append("</div><p class='muted'>Each moment: the video frame with the detected 2D skeleton (when the video "
                 "was given) and the 3D pose seen from the front and from the side, upright (the floor line at the "
                 "lowest joint). Colours: <span style='color:#ff8c00'>■ orange: left side</span>, "
                 "<span style='color:#1e78ff'>■ blue: right side</span>, <span style='color:#3c3'>■ green: trunk and "
                 "head</span>.</p>")
    if not thumbs:
        parts.append("<p class='muted'>No video frames: the input was a "
                     + ("multi-view reference (3D from several videos)" if p.coordinates == "world" else
                        "pose file (run pose3d ergo on the video itself to see its frames)") + ".</p>")
    parts.append("<h2>Longest high-risk episodes</h2>")
    for name, key in (("RULA grand score ≥ 5", "longest_high_risk_episodes (grand >= 5)"),
                      ("REBA score ≥ 8", "longest_high_risk_episodes (score >= 8)")):
        eps = (r if name.startswith("RULA") else b)[key]
        parts.append(f"<b>{name}</b>" + (_table([[e["start_s"], e["end_s"], e["duration_s"]] for e in eps],
                                                ["start (s)", "end (s)", "duration (s)"], 0) if eps else " none<br>"))
    parts.append("<h2>Time lines</h2>" + _img(pngs["scores.png"], "scores")
                 + "<p class='muted'>Black line: the score of each frame. Dashed lines: where each action level begins "
                 "(RULA 3, 5, 7; REBA 2, 4, 8, 11), in that level's colour. Strips (AL): the action level of each frame; "
                 "gaps: frames not scored.<br>"
                 + _key(RULA_COLOURS, {k: f"AL {k}" for k in RULA_COLOURS}, "RULA action level")
                 + "<br>" + _key(REBA_COLOURS, {k: f"AL {k}" for k in REBA_COLOURS}, "REBA action level") + "</p>"
                 + _img(pngs["angles.png"], "angles")
                 + "<p class='muted'>Background of each angle plot: the band each angle falls in, white where RULA/REBA "
                 "score it neutral and darker as the band's score rises (grey lines: the band edges).</p>")
    parts.append("<h2>Options and defaults used</h2>")
    parts.append("<b>Conventions</b>" + _table([[k, v, CONVENTION_WORDS.get(k, "")] for k, v in s["conventions"].items()],
                                                ["option", "value", "what it means"], numeric_from=3))
    obs = s["observations"]
    parts.append("<b>Observations (what the video cannot show; defaults assume the least risk)</b>"
                 + _table([[k, v] for k, v in obs["video"].items()], ["for the whole video", "value"]))
    if obs["segments"]:
        keys = sorted({k for sg in obs["segments"] for k in sg} - {"start", "end"})
        t = A.poses.time_s
        end = float(t[-1] + frame_weights(t)[-1]) if len(t) else 0.0
        applied = lambda sg: "yes" if sg["start"] < end and sg["end"] > float(t[0]) else "no: outside the clip"  # noqa: E731
        parts.append(_table([[sg["start"], sg["end"]] + [sg.get(k, "") for k in keys] + [applied(sg)]
                             for sg in obs["segments"]], ["start (s)", "end (s)", *keys, "applied"], 0))
    parts.append("<b>Time rules</b><ul>" + "".join(f"<li>{_esc(x)}</li>" for x in s["time_rules"]) + "</ul>")
    parts.append(f"<p>Timestamps: {_esc(s['timestamps'])}. Joints below 2D confidence {s['min_conf']} make their "
                 "body part unscorable.</p>")
    parts.append("<h2>Not observable from the video</h2><ul>" + "".join(f"<li>{_esc(x)}</li>" for x in s["not_observable"])
                 + "</ul>")
    reasons = Counter(x for x in A.reason if x)
    parts.append("<h2>Frames not (fully) scored</h2>" + (_table([[k, n] for k, n in reasons.most_common(12)],
                                                                ["reason", "frames"]) if reasons else "<p>none</p>"))
    parts.append("<p class='muted'>RULA: McAtamney &amp; Corlett, Applied Ergonomics 24(2), 1993. REBA: Hignett &amp; "
                 "McAtamney, Applied Ergonomics 31(2), 2000. Angles from "
                 + ("3D triangulated from calibrated views" if p.coordinates == "world" else "a single camera's 3D lift")
                 + ": treat a score as an estimate; frames near a band edge are counted above.</p></body></html>")
    return "".join(parts), pngs
