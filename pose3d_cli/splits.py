"""Train/val/test splits of synthesised pairs: a stable function of each file's identity (numpy-free).

- **Identity of a file** = the SHA-256 of its bytes (:func:`file_digest`), plus the motion's name inside the file
  for containers of several takes (VideoPose3D ``positions_3d[subject][action]``). Not its path: the same file
  lands in the same split whatever folder is given (``mocap/`` or ``mocap/bvh/cmu/``), wherever it is copied or
  renamed to, whatever ``--seed`` and ``--workers``; a duplicate of a file can never sit in another split.
  A file edited in place is a new file (it may move).
- **Split of a group** (a file identity, or a subject with ``--split-by subject``): ``u = sha256(group)`` mapped
  to [0, 1); ``u < test`` → test, ``< test + val`` → val, else train (:func:`split_of`).
- **Small sets** (:func:`assign_splits`): when that leaves train, or a requested val/test split, empty, the
  group nearest (in ``u``) to the empty split's band moves there from a split that keeps at least one group;
  synth does this per source (the file's own folder: ``cmu/``, ``hdm05/bd/`` ...) so that each source with at
  least 3 files has train, val and test files (a smaller source keeps its files' own splits), then across all
  files. With fewer groups than requested splits,
  train is filled first, then val, then test, and a note says what is missing and why. Only then can a split
  depend on which other files are given; with no empty split nothing moves.
- **Named test subjects** (``--test-subjects S9,S11``, the Human3.6M protocol): those subjects are the test set,
  no other group is; train/val are split among the rest as above.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SPLITS = ("train", "val", "test")


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def unit_hash(group: str) -> float:
    """A group key → a number in [0, 1), the same on every machine and run."""
    return int(hashlib.sha256(f"pose3d-split:{group}".encode()).hexdigest()[:13], 16) / float(16 ** 13)


def split_of(group: str, val_fraction: float, test_fraction: float) -> str:
    """The split of one group by its hash alone (no repair)."""
    u = unit_hash(group)
    if u < test_fraction:
        return "test"
    if u < test_fraction + val_fraction:
        return "val"
    return "train"


def _band(split: str, val: float, test: float) -> tuple[float, float]:
    return {"test": (0.0, test), "val": (test, test + val), "train": (test + val, 1.0)}[split]


def _repair(out: dict[str, str], u: dict[str, float], groups: list[str], required: list[str], val: float,
            test: float) -> None:
    """Fill each empty required split among ``groups`` with the nearest group of a split that keeps one."""
    for s in required:
        if any(out[g] == s for g in groups):
            continue
        counts = {t: sum(out[g] == t for g in groups) for t in SPLITS}
        donors = [g for g in groups if counts[out[g]] > 1]
        if not donors:
            return
        lo, hi = _band(s, val, test)
        best = min(donors, key=lambda g: (max(lo - u[g], u[g] - hi, 0.0), g))
        out[best] = s


def assign_splits(groups: list[str], val_fraction: float, test_fraction: float,
                  test_groups: set[str] | frozenset[str] = frozenset(), what: str = "file",
                  strata: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """Split every group; non-empty train, val (if ``val_fraction > 0``) and test (if asked) where possible.

    Args:
        groups: distinct group keys (file identities or subjects).
        val_fraction, test_fraction: target fractions of groups.
        test_groups: groups fixed to test (named test subjects); then no other group goes to test.
        what: how a group is called in notes ("file", "subject").
        strata: optional group → stratum (synth: the file's own folder, i.e. its source); empty splits are
            repaired within each stratum first (so each source with enough files has held-out files), then
            across all groups.
    Returns:
        ({group: split}, notes): notes are one-line explanations of splits that had to stay empty.
    """
    groups = sorted(set(groups))
    fixed = {g for g in groups if g in test_groups}
    free = [g for g in groups if g not in fixed]
    test = 0.0 if test_groups else test_fraction
    u = {g: unit_hash(g) for g in free}
    out = {g: "test" for g in fixed}
    out.update({g: split_of(g, val_fraction, test) for g in free})
    required = ["train"] + (["val"] if val_fraction > 0 else []) + (["test"] if test > 0 else [])

    def fill(members: list[str]) -> None:
        if len(members) < len(required):  # too few: train first, then val, then test
            for g, s in zip(sorted(members, key=lambda g: u[g]), required):
                out[g] = s
        else:
            _repair(out, u, members, required, val_fraction, test)

    if strata:
        by: dict[str, list[str]] = {}
        for g in free:
            by.setdefault(strata.get(g, ""), []).append(g)
        for members in by.values():  # a source too small for every split keeps its hashes (one take per folder
            if len(members) >= len(required):  # went all to train, then one file each to val and test)
                _repair(out, u, members, required, val_fraction, test)
    fill(free)
    notes: list[str] = []
    missing = [s for s in required if not any(out[g] == s for g in free)]
    if missing:
        n = len(free)
        notes.append(f"{n} {what}{'s' if n != 1 else ''}{' besides the test subjects' if fixed else ''}: no "
                     f"{' or '.join(missing)} split (a {what} is never split by frame); give at least "
                     f"{len(required)} {what}s, or set --{missing[0]} 0 and hold out data another way")
    if test_groups and not fixed:
        notes.append(f"none of the test subjects {', '.join(sorted(test_groups))} is among the data")
    return out, notes
