"""Find a body's joints in any humanoid skeleton by topology and fuzzy names → an ``h36m17`` mapping.

Fixed presets (presets.py) cover known exports exactly. Everything else goes through :func:`fuzzy_mapping`:

- Names are split into words (``LeftUpLeg`` → left, up, leg; ``lShldr`` → l, shldr; ``Shoulder_L``;
  ``mixamorig:LeftArm``, ``Bip01 L Thigh``: the namespace is dropped); a first or last word ``left/l/right/r``
  gives the side, the rest is the joint's *core* name, matched against synonyms per role (Xsens MVN,
  older Xsens ``Chest..Chest4 / LeftCollar / LeftHip``, Biovision ``LeftUpArm / LeftLowArm``, Second Life /
  Poser ``lCollar lShldr lForeArm lHand lThigh lShin lFoot``, CMU, Mixamo, Bandai Namco ...).
- ``Shoulder`` is the clavicle when the same side also has an upper-arm joint (``LeftShoulder`` + ``LeftArm``),
  else the glenohumeral joint (``LeftShoulder`` → ``LeftElbow``).
- A limb joint with no recognised name is taken from the topology: the elbow is the nearest ancestor of the
  wrist that is not at the wrist's place (twist/roll joints skipped), the knee the same for the ankle, and so on.
- Joints the skeleton lacks are derived: the pelvis is the mean of the hips; with no neck joint the thorax is
  the mean of the clavicles (else of the shoulders); the spine is the spine-chain joint nearest halfway from
  pelvis to thorax; the head top is the head's End Site when it has length, else extrapolated along neck → head.
"""

from __future__ import annotations

import re

import numpy as np

from .motion import MappingEntry, MocapError

HIP = {"upleg", "upperleg", "thigh", "hip", "femur", "uleg", "legupper"}
KNEE = {"leg", "lowerleg", "lowleg", "knee", "shin", "calf", "tibia", "crus", "loleg", "leglower"}
ANKLE = {"foot", "ankle", "talus"}
UPPER_ARM = {"arm", "upperarm", "uparm", "shldr", "humerus", "uarm", "armupper"}
SHOULDER = {"shoulder"}
COLLAR = {"collar", "clavicle", "clav"}
ELBOW = {"forearm", "lowerarm", "lowarm", "elbow", "radius", "loarm", "armlower"}
WRIST = {"hand", "wrist"}
PELVIS = {"hips", "pelvis", "hip", "root", "hipscentre", "hipscenter"}
NECK = {"neck", "lowerneck", "neck1", "neckbase", "neck0"}
HEAD = {"head"}
SPINE = ("spine", "abdomen", "spine1", "chest", "lowerback", "torso", "back", "spine2", "t12", "chest2")

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def split_name(name: str) -> tuple[str | None, str]:
    """``(side, core)`` of a joint name: side ``"L" | "R" | None``, core the lower-case rest without separators.

    >>> split_name("LeftUpLeg"), split_name("lShldr"), split_name("Shoulder_L"), split_name("mixamorig:Hips")
    (('L', 'upleg'), ('L', 'shldr'), ('L', 'shoulder'), (None, 'hips'))
    """
    base = re.split(r"[:|]", name)[-1]
    base = re.sub(r"^(bip0*1|character\d*|def|mch|b)[ _.-]+", "", base, flags=re.IGNORECASE)
    words = _WORDS.findall(base)
    if not words:
        return None, base.lower()
    side = None
    low = [w.lower() for w in words]
    for pos in (0, -1):
        if len(low) > 1 and low[pos] in ("left", "l", "right", "r"):
            side = "L" if low[pos] in ("left", "l") else "R"
            del low[pos]
            break
    return side, "".join(low)


def rest_pose(parents: list[int], offsets: np.ndarray) -> np.ndarray:
    """Joint positions with every rotation zero: (J, 3) in the file's units and axes."""
    G = np.zeros((len(parents), 3))
    for j, p in enumerate(parents):
        G[j] = offsets[j] if p < 0 else G[p] + offsets[j]
    return G


def _depths(parents: list[int]) -> list[int]:
    d = []
    for p in parents:
        d.append(0 if p < 0 else d[p] + 1)
    return d


def _ancestors(j: int, parents: list[int]) -> list[int]:
    out = []
    while parents[j] >= 0:
        j = parents[j]
        out.append(j)
    return out


def find_roles(names: list[str] | tuple[str, ...], parents: list[int], rest: np.ndarray) -> dict[str, int]:
    """Indices of the body landmarks a name/topology search finds (only those it finds).

    Keys: ``left_hip ... right_wrist`` (hip, knee, ankle, shoulder, elbow, wrist), ``left_collar``/``right_collar``,
    ``pelvis_root``, ``neck``, ``head``, ``head_end``.
    """
    depth = _depths(parents)
    split = [split_name(n) for n in names]
    roles: dict[str, int] = {}

    def pick(side, cores, exclude=()) -> int | None:
        cands = [j for j, (s, c) in enumerate(split) if s == side and c in cores and j not in exclude
                 and not names[j].endswith("_end")]
        return min(cands, key=lambda j: depth[j]) if cands else None

    for side, prefix in (("L", "left_"), ("R", "right_")):
        found = {
            "hip": pick(side, HIP), "knee": pick(side, KNEE), "ankle": pick(side, ANKLE),
            "elbow": pick(side, ELBOW), "wrist": pick(side, WRIST),
        }
        upper, shoulder, collar = pick(side, UPPER_ARM), pick(side, SHOULDER), pick(side, COLLAR)
        if upper is not None:
            found["shoulder"] = upper
            found["collar"] = collar if collar is not None else shoulder
        else:
            found["shoulder"] = shoulder
            found["collar"] = collar
        # a limb joint the names did not give: the nearest ancestor not at the same place as its child
        for joint, child in (("elbow", "wrist"), ("shoulder", "elbow"), ("knee", "ankle"), ("hip", "knee")):
            if found[joint] is None and found[child] is not None:
                c = found[child]
                scale = max(np.ptp(rest, axis=0).max(), 1e-9)
                for a in _ancestors(c, parents):
                    if any(w in split[a][1] for w in ("twist", "roll")):
                        continue
                    if np.linalg.norm(rest[a] - rest[c]) > 0.02 * scale:
                        found[joint] = a
                        break
        for k, v in found.items():
            if v is not None:
                roles[prefix + k] = v
    centre = {"pelvis_root": PELVIS, "neck": NECK, "head": HEAD}
    for key, cores in centre.items():
        j = pick(None, cores)
        if j is not None:
            roles[key] = j
    if "head" in roles:
        ends = [j for j, p in enumerate(parents) if p == roles["head"] and names[j].endswith("_end")]
        if ends:
            roles["head_end"] = ends[0]
    return roles


LIMBS = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")


def fuzzy_mapping(names: list[str] | tuple[str, ...], parents: list[int], offsets: np.ndarray,
                  source: str = "") -> dict[str, MappingEntry]:
    """An ``h36m17`` mapping for a skeleton of unknown names (see the module docstring).

    Raises:
        MocapError: the limbs or the head cannot be found; the message lists what is missing.
    """
    rest = rest_pose(parents, offsets)
    roles = find_roles(names, parents, rest)
    missing = [f"{s}_{k}" for s in ("left", "right") for k in LIMBS if f"{s}_{k}" not in roles]
    if "head" not in roles:
        missing.append("head")
    if missing:
        shown = ", ".join(list(names)[:40])
        raise MocapError(
            f"{source}: unknown skeleton: cannot find {', '.join(missing)} among the joints ({shown}); give "
            '--mapping map.json with {"pelvis": ["LHip", "RHip"], "left_knee": "LKnee", ...} for every h36m17 '
            "joint, or a preset name")
    n = list(names)
    m: dict[str, MappingEntry] = {f"{s}_{k}": n[roles[f"{s}_{k}"]] for s in ("left", "right") for k in LIMBS}
    m["pelvis"] = [m["left_hip"], m["right_hip"]]
    head = roles["head"]
    m["nose"] = n[head]
    if "neck" in roles:
        thorax_src: MappingEntry = n[roles["neck"]]
        thorax_pos = rest[roles["neck"]]
    elif "left_collar" in roles and "right_collar" in roles:
        thorax_src = [n[roles["left_collar"]], n[roles["right_collar"]]]
        thorax_pos = rest[[roles["left_collar"], roles["right_collar"]]].mean(0)
    else:
        thorax_src = [m["left_shoulder"], m["right_shoulder"]]
        thorax_pos = rest[[roles["left_shoulder"], roles["right_shoulder"]]].mean(0)
    m["thorax"] = thorax_src
    pelvis_pos = rest[[roles["left_hip"], roles["right_hip"]]].mean(0)
    # spine: a joint on the chain below the head, between pelvis and thorax, nearest halfway (named ones first)
    chain = [a for a in _ancestors(head, parents) if a != roles.get("neck")]
    inner = [a for a in chain if parents[a] >= 0 and split_name(n[a])[0] is None
             and split_name(n[a])[1] not in PELVIS and a != roles.get("pelvis_root")]
    half = 0.5 * (pelvis_pos + thorax_pos)
    if inner:
        best = min(inner, key=lambda a: np.linalg.norm(rest[a] - half))
        m["spine"] = n[best]
    else:  # no joint between pelvis and thorax: halfway between them
        m["spine"] = {"joints": m["pelvis"] + (thorax_src if isinstance(thorax_src, list) else [thorax_src]),
                      "weights": [0.25, 0.25] + ([0.25, 0.25] if isinstance(thorax_src, list) else [0.5])}
    neck_ref = n[roles["neck"]] if "neck" in roles else None
    head_len = np.linalg.norm(rest[head] - (rest[roles["neck"]] if "neck" in roles else thorax_pos))
    if "head_end" in roles and np.linalg.norm(rest[roles["head_end"]] - rest[head]) > 0.3 * head_len:
        m["head"] = n[roles["head_end"]]
    elif neck_ref is not None:
        m["head"] = {"joints": [n[head], neck_ref], "weights": [2.0, -1.0]}
    else:
        parts = thorax_src if isinstance(thorax_src, list) else [thorax_src]
        m["head"] = {"joints": [n[head]] + parts, "weights": [1.5] + [-0.5 / len(parts)] * len(parts)}
    return m


def path_length(a: int, b: int, parents: list[int], rest: np.ndarray) -> float:
    """Sum of bone lengths along the tree path between joints ``a`` and ``b`` (file units)."""
    up_a = [a] + _ancestors(a, parents)
    up_b = [b] + _ancestors(b, parents)
    common = next(x for x in up_a if x in up_b)
    total = 0.0
    for chain in (up_a[:up_a.index(common) + 1], up_b[:up_b.index(common) + 1]):
        for c, p in zip(chain[:-1], chain[1:]):
            total += float(np.linalg.norm(rest[c] - rest[p]))
    return total
