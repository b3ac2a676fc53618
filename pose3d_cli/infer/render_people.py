"""The check video for several people: every tracked person drawn in its own colour with its id.

Left: the input frame; each person's 2D skeleton in the person's colour (:data:`PERSON_COLOURS`, by id) and
``id N`` above its head. Right: one 3D panel (as :mod:`.render`: upright, one view and scale for the clip) with
the people side by side in id order (their poses are root-relative, so their real spacing is unknown), each in
its colour and labelled. One person → exactly :func:`.render.render_video`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from ..skeleton import Skeleton, get_skeleton
from .render import TEXT, Panel3D, RenderError, draw_skeleton_2d, frame_label, render_frames, render_video

#: BGR colour of person id k is PERSON_COLOURS[k % len]
PERSON_COLOURS = [(0, 200, 255), (255, 120, 0), (80, 220, 80), (200, 80, 255), (0, 80, 255), (255, 255, 0),
                  (180, 180, 180), (60, 160, 160)]


def person_colour(pid: int) -> tuple[int, int, int]:
    return PERSON_COLOURS[pid % len(PERSON_COLOURS)]


def slot_scale(panels: list, slot_px: float, fill: float = 0.9) -> float:
    """px per mm at which every person's figure, over its whole clip, stays within ``fill`` of a slot ``slot_px``
    wide centred on its floor origin (several people side by side: a lunge's leg ran off the panel's edge when the
    scale only shrank by 1.2 for two people in half-width slots)."""
    out = np.inf
    for p in panels:
        if not p.valid.any():
            continue
        reach_px = np.abs(p.screen[p.valid][..., 0] - p.origin[0]).max()  # at the panel's own scale
        if reach_px > 0:
            out = min(out, fill * 0.5 * slot_px / (reach_px / p.scale))
    return float(out)


def render_people(frames: Iterable[np.ndarray], people: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]],
                  skeleton: Skeleton | str, fps: float, path: str | Path, *, min_conf: float = 0.3,
                  skeleton_2d: Skeleton | str | None = None, up: np.ndarray | None = None,
                  time_s: np.ndarray | None = None) -> int:
    """Write the check video of several people.

    Args:
        frames: BGR uint8 frames, consumed one at a time.
        people: per person ``(id, uv (T, J2, 2) px, conf (T, J2), joints3d (T, J, 3) mm)``.
        skeleton: the 3D joints' skeleton (and the 2D one unless ``skeleton_2d`` is given).
        fps: output frame rate; path: the .mp4 file.
        up: (3,) the world's vertical in the camera frame when known (the 3D panel stands on it).
        time_s: (T,) each frame's own time, printed on it (:func:`~.render.frame_label`).
    Returns:
        The number of frames written.
    """
    if len(people) == 1:
        _, uv, conf, j3 = people[0]
        return render_video(frames, uv, conf, j3, skeleton, fps, path, min_conf=min_conf, skeleton_2d=skeleton_2d,
                            up=up, time_s=time_s)
    if not people:
        raise RenderError(f"{path}: no person to render")
    sk3 = get_skeleton(skeleton)
    sk2 = get_skeleton(skeleton_2d) if skeleton_2d is not None else sk3
    st: dict = {}

    def start(W: int, H: int) -> int:
        P = min(W, H)
        panels = [Panel3D(np.asarray(j3, np.float64), sk3, P, H, up=up) for _, _, _, j3 in people]
        scale = min(min(p.scale for p in panels), slot_scale(panels, P / len(people)))
        for k, p in enumerate(panels):  # one scale (the floor grid drawn at it too); side by side
            p.rescale(scale, int(round((k - (len(people) - 1) / 2) * P / len(people))))
        st.update(panels=panels, thick2=max(2, int(round(min(W, H) / 300))), fs=max(0.5, min(W, H) / 900))
        return P

    def draw(left: np.ndarray, right: np.ndarray, t: int, place) -> None:
        panels, thick2, fs = st["panels"], st["thick2"], st["fs"]
        right[:] = panels[0].background
        cv2.putText(right, frame_label(t, fps, time_s), (12, int(32 * fs)), cv2.FONT_HERSHEY_SIMPLEX, fs,
                    TEXT, 2, cv2.LINE_AA)
        for (pid, uv, conf, _), panel in zip(people, panels):
            colour = person_colour(pid)
            if t < len(uv):
                c = np.asarray(conf[t], np.float64)
                p2 = place(np.asarray(uv[t], np.float64))
                draw_skeleton_2d(left, p2, c, sk2, min_conf, thick2,
                                 [colour] * len(sk2.bone_indices), [colour] * sk2.num_joints)
                ok = c >= min_conf
                if ok.sum() >= 2:
                    top = p2[ok][np.argmin(p2[ok][:, 1])]  # above the person's highest joint (the feet's far
                    x, y = top[0] - 20 * fs, top[1]  # left corner put it beside another person in a lunge)
                    cv2.putText(left, f"id {pid}", (int(x), max(int(y) - 10, 20)), cv2.FONT_HERSHEY_SIMPLEX,
                                1.2 * fs, colour, 3, cv2.LINE_AA)
            if t < len(panel.valid) and panel.valid[t]:
                s = panel.screen[t]
                for c_, p_ in panel.bones:
                    cv2.line(right, (int(s[c_, 0]), int(s[c_, 1])), (int(s[p_, 0]), int(s[p_, 1])), colour,
                             panel.thickness, cv2.LINE_AA)
                label_w = cv2.getTextSize(f"id {pid}", cv2.FONT_HERSHEY_SIMPLEX, fs, 2)[0][0]
                cv2.putText(right, f"id {pid}", (int(np.clip(s[:, 0].min(), 0, right.shape[1] - label_w)),
                                                 max(int(s[:, 1].min()) - 8, int(20 * fs))),
                            cv2.FONT_HERSHEY_SIMPLEX, fs, colour, 2, cv2.LINE_AA)

    return render_frames(frames, fps, path, start, draw, time_s)
