"""Make a blend checkpoint from a trained plain MLP and a trained fused lifter (see ``BlendLifter``).

    python -m pose3d_cli.lifting.blend plain.pt fused.pt -o blend.pt [--weight 0.3]
    python -m pose3d_cli.lifting.blend --parts blend.pt -o FOLDER     # FOLDER/plain.pt, FOLDER/fused.pt

The two models are checked to lift the same thing (skeleton, codec, 2D landmarks, layer sizes); the blend's
checkpoint keeps both training records under ``train.parts`` and the plain model's data and held-out metrics
(the blend's plain 2D path is exactly the plain model, and that is what ``pose3d eval`` measures on pairs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import Pose3dError
from .checkpoint import make_checkpoint, model_from_checkpoint, read_checkpoint, save_checkpoint
from .contract import contract_of
from .models import DEFAULT_ARGS, build_model

#: a blend checkpoint's metrics are its plain part's (its 2D-only path), with the fused part's under ``fused_part``
PLAIN_METRICS_NOTE = "held-out metrics of the plain part (the blend's 2D-only path)"


def _part(path: Path, name: str) -> dict:
    ck = read_checkpoint(path)
    if ck["model"]["name"] != name:
        raise Pose3dError(f"{path}: a {ck['model']['name']!r} model; the blend takes a {name!r} model here "
                          f"(plain: pose3d train --model mlp; fused: pose3d train --model fused)")
    return ck


def blend_checkpoints(plain_path: str | Path, fused_path: str | Path, fused_weight: float = DEFAULT_ARGS["blend"]["fused_weight"]) -> dict:
    """The checkpoint dict of ``BlendLifter(plain, fused, fused_weight)``; refused in one line when the two
    models do not lift the same skeleton, codec and 2D landmarks with the same layer sizes."""
    plain_path, fused_path = Path(plain_path), Path(fused_path)
    if not 0.0 <= fused_weight < 1.0:
        raise Pose3dError(f"--weight {fused_weight}: the fused model's share must be in [0, 1)")
    plain, fused = _part(plain_path, "mlp"), _part(fused_path, "fused")
    for what, get in (("skeleton", lambda c: c["skeleton"]), ("codec", lambda c: c["codec"]),
                      ("layer sizes", lambda c: c["model"]["args"])):
        if get(plain) != get(fused):
            raise Pose3dError(f"{fused_path}: its {what} ({get(fused)}) differ from {plain_path}'s ({get(plain)}); "
                              "blend two models trained for the same input and of the same size")
    args = {**plain["model"]["args"], "fused_weight": float(fused_weight)}
    sk = plain["skeleton"]
    parts = {k: model_from_checkpoint(c, p).model for k, c, p in (("plain", plain, plain_path), ("fused", fused, fused_path))}
    J = len(sk["joints"])
    import numpy as np

    model = build_model("blend", J, sk["joints"].index(plain["codec"]["root"]), np.zeros((J, 3)), np.ones((J, 3)), **args)
    model.plain.load_state_dict(parts["plain"].state_dict())
    model.fused.load_state_dict(parts["fused"].state_dict())
    info = {"plain": str(plain_path), "fused": str(fused_path), "fused_weight": float(fused_weight)}
    top = {"input_landmarks": plain.get("train", {}).get("input_landmarks")}
    return _blend_checkpoint(model, plain, top, fused.get("train", {}),
                             {k: v for k, v in fused.get("metrics", {}).items() if k != "history"}, info,
                             fused.get("data", {}))


def _blend_checkpoint(model, plain_ck: dict, train: dict, fused_train: dict, fused_metrics: dict, info: dict,
                      fused_data: dict | None = None) -> dict:
    """The checkpoint dict of a ``BlendLifter``: ``train`` with the blend's provenance ``info`` and both parts'
    training records; the plain part's (``plain_ck``) data and held-out metrics, the fused part's beside them
    (its data record under ``data["fused_part"]``, so that ``--parts`` gives each part its own)."""
    train = {**train, "blend": info, "parts": {"plain": plain_ck.get("train", {}), "fused": fused_train}}
    metrics = {**plain_ck.get("metrics", {}), "note": PLAIN_METRICS_NOTE, "fused_part": fused_metrics}
    data = {k: v for k, v in plain_ck.get("data", {}).items() if k != "fused_part"}
    if fused_data is not None:
        data["fused_part"] = {k: v for k, v in fused_data.items() if k != "fused_part"}
    return make_checkpoint(model, "blend", {**model.part_args, "fused_weight": model.fused_weight},
                           plain_ck["skeleton"]["name"], plain_ck["codec"]["root"], train=train,
                           data=data, metrics=metrics)


def output_of_init(init: str | Path | None, init_ck: dict | None = None):
    """How ``pose3d train --init`` / ``pose3d adapt`` write their output: a function of the trained checkpoint dict.
    ``init_ck``: the init's checkpoint dict when the caller has read it already.

    When ``init`` is a blend, training continues its plain part (``BlendLifter.continued_part``) and the output is
    that trained part blended again with the init's own fused part and weight, so an adapted default keeps using
    BlazePose's 3D; otherwise the checkpoint is written as trained."""
    if not init:
        return lambda ck: ck
    init_ck = init_ck if init_ck is not None else read_checkpoint(init)
    blend = model_from_checkpoint(init_ck, init).model
    if not contract_of(blend).composed:
        return lambda ck: ck

    def reblended(ck: dict) -> dict:
        blend.plain.load_state_dict(model_from_checkpoint(ck).model.state_dict())
        info = {"plain": "this run (continued from --init's plain part)", "fused": f"{init} (unchanged)",
                "fused_weight": blend.fused_weight}
        return _blend_checkpoint(blend, ck, ck.get("train", {}), init_ck.get("train", {}).get("parts", {}).get("fused", {}),
                                 init_ck.get("metrics", {}).get("fused_part", {}), info,
                                 init_ck.get("data", {}).get("fused_part"))

    return reblended


def part_checkpoint(ck: dict, which: str) -> dict:
    """The checkpoint dict of one part (``plain`` or ``fused``) of a blend checkpoint dict, as its own model."""
    if ck["model"]["name"] != "blend":
        raise Pose3dError(f"a {ck['model']['name']!r} model is not a blend; --parts takes a blend checkpoint")
    blend = model_from_checkpoint(ck).model
    module, name, args = (*blend.continued_part(),) if which == "plain" else (blend.fused, "fused", dict(blend.part_args))
    metrics = ({k: v for k, v in ck.get("metrics", {}).items() if k not in ("note", "fused_part")} if which == "plain"
               else ck.get("metrics", {}).get("fused_part", {}))
    data = ck.get("data", {})
    data = ({k: v for k, v in data.items() if k != "fused_part"} if which == "plain" else
            data.get("fused_part", {"note": "not recorded: a blend made before stop 28 kept the plain part's only"}))
    return make_checkpoint(module, name, args, ck["skeleton"]["name"], ck["codec"]["root"],
                           train=ck.get("train", {}).get("parts", {}).get(which, {}), data=data, metrics=metrics)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pose3d_cli.lifting.blend", description=__doc__.splitlines()[0])
    ap.add_argument("plain", type=Path, nargs="?", help="a trained mlp checkpoint (pose3d train --model mlp)")
    ap.add_argument("fused", type=Path, nargs="?", help="a trained fused checkpoint (pose3d train --model fused)")
    ap.add_argument("-o", "--output", type=Path, required=True,
                    help="the blend checkpoint to write (.pt); with --parts, the folder for plain.pt and fused.pt")
    ap.add_argument("--parts", type=Path, help="write the two parts of this blend checkpoint instead")
    ap.add_argument("--weight", type=float, default=DEFAULT_ARGS["blend"]["fused_weight"],
                    help="the fused model's share where the detector's 3D is present (default: %(default)s)")
    a = ap.parse_args(argv)
    try:
        if a.parts is not None:
            return _write_parts(a.parts, a.output)
        if a.plain is None or a.fused is None:
            raise Pose3dError("give PLAIN.pt and FUSED.pt to blend (or --parts BLEND.pt to split one)")
        from ..cli.common import check_checkpoint_output, check_outputs

        check_outputs([a.plain, a.fused], [a.output])
        check_checkpoint_output(a.output, "blend")
        save_checkpoint(blend_checkpoints(a.plain, a.fused, a.weight), a.output)
    except Pose3dError as e:  # a user error: exit 2, as pose3d's commands
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # an output that cannot be written (no such folder, no permission, disk full)
        print(f"error: {e.filename or a.output}: cannot be written ({e.strerror or e}); choose another -o", file=sys.stderr)
        return 2
    print(f"wrote {a.output}")
    return 0


def _write_parts(blend_path: Path, folder: Path) -> int:
    ck = read_checkpoint(blend_path)
    if ck["model"]["name"] != "blend":
        raise Pose3dError(f"{blend_path}: a {ck['model']['name']!r} model, not a blend; --parts takes a blend checkpoint")
    if folder.exists() and not folder.is_dir():
        raise Pose3dError(f"{folder}: is a file; --parts writes plain.pt and fused.pt into a folder: give a new one")
    outs = {which: folder / f"{which}.pt" for which in ("plain", "fused")}
    for p in outs.values():
        if p.exists():
            raise Pose3dError(f"{p}: already exists; choose an empty folder for the parts")
    parts = {which: part_checkpoint(ck, which) for which in outs}  # all checked before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for which, p in outs.items():
            save_checkpoint(parts[which], p)
            written.append(p)
    except OSError:
        for p in written:  # both parts or none: a rerun must not meet half of them
            p.unlink(missing_ok=True)
        raise
    for p in written:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
