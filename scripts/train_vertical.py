"""Train the per-frame up predictor of :mod:`pose3d_cli.body.vertical` (torch at training time only).

    python scripts/vertical_lift_synth.py synth.h5 lifted.npz --every 2     # the lifter's 3D on synth 2D
    python scripts/train_vertical.py lifted.npz -o pose3d_cli/models/vertical_up.npz --minutes 4

Input: the lifter's own root-relative camera-frame poses on synth 2D (so the network sees what it will see at
inference, errors included) and the true up (synth's ``cam_from_world``: world +Z in the camera frame). Trains
on the ``train`` split, picks the best epoch on ``val``; the ``test`` split is never read. Loss: negative
log-likelihood of a von Mises–Fisher distribution (mean direction and concentration per frame). Mirror
augmentation (x → −x, left/right swapped, up mirrored) and small Gaussian jitter on the normalised pose.
Writes plain arrays (``W0, b0, ...``) and a JSON ``meta`` (training data, split, metrics, licences).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch

from pose3d_cli.body.vertical import (FEATURE_VERSION, FEATURE_VERSION_2D, MODEL_FORMAT, MODEL_VERSION, image_features,
                                      mirror_image, mirror_poses, pose_features)
from pose3d_cli.skeleton import H36M17


def vmf_nll(out: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mu = torch.nn.functional.normalize(out[:, :3], dim=1)
    kappa = 1.0 + torch.nn.functional.softplus(out[:, 3])
    cos = (mu * y).sum(1)
    # -log C3(kappa) - kappa cos, with log sinh k = k + log(1 - exp(-2k)) - log 2
    nll = -torch.log(kappa) + kappa + torch.log1p(-torch.exp(-2 * kappa)) + math.log(2 * math.pi) - kappa * cos
    return nll.mean(), torch.rad2deg(torch.arccos(cos.clamp(-1, 1)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", help="npz from scripts/vertical_lift_synth.py")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--jitter", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--with-2d", action="store_true", help="also feed the normalised 2D (features v1+2d)")
    ap.add_argument("--every", type=int, default=1, help="use every N-th training frame")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(a.seed)
    d = np.load(a.data)
    split = d["split"][d["seq"]]
    P, up = d["pred"], d["up"].astype(np.float32)
    tr, va = (split == "train") & (d["frame"] % a.every == 0), split == "val"
    xy, conf = d["xy"], d["conf"]

    def feats(m: np.ndarray, mirror: bool = False) -> np.ndarray:
        p = mirror_poses(P[m]) if mirror else P[m]
        f = pose_features(p)
        if a.with_2d:
            x, c = mirror_image(xy[m], conf[m]) if mirror else (xy[m], conf[m])
            f = np.concatenate([f, image_features(x, c)], axis=1)
        return f

    Xtr = np.concatenate([feats(tr), feats(tr, True)])
    Ytr = np.concatenate([up[tr], up[tr] * np.array([-1, 1, 1], np.float32)])
    Xva, Yva = torch.from_numpy(feats(va)), torch.from_numpy(up[va])
    print(f"train {len(Xtr)} (with mirrors), val {len(Xva)}")
    F = Xtr.shape[1]
    layers, w = [], F
    for _ in range(a.depth):
        layers += [torch.nn.Linear(w, a.width), torch.nn.ReLU()]
        w = a.width
    layers.append(torch.nn.Linear(w, 4))
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
    steps_per_epoch = math.ceil(len(Xtr) / a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=a.epochs * steps_per_epoch)
    Xt, Yt = torch.from_numpy(Xtr), torch.from_numpy(Ytr)
    best, best_state, history, t0 = float("inf"), None, [], time.time()
    for ep in range(a.epochs):
        net.train()
        perm = torch.from_numpy(rng.permutation(len(Xt)))
        tot = 0.0
        for s in range(steps_per_epoch):
            idx = perm[s * a.batch:(s + 1) * a.batch]
            x = Xt[idx] + a.jitter * torch.randn(len(idx), F)
            loss, _ = vmf_nll(net(x), Yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
        net.eval()
        with torch.no_grad():
            vloss, verr = vmf_nll(net(Xva), Yva)
        rec = {"epoch": ep + 1, "train_nll": tot / len(Xt), "val_nll": vloss.item(),
               "val_median_deg": verr.median().item(), "val_p95_deg": torch.quantile(verr, 0.95).item(),
               "elapsed_s": round(time.time() - t0, 1)}
        history.append(rec)
        print(json.dumps(rec))
        if rec["val_nll"] < best:
            best, best_state = rec["val_nll"], {k: v.clone() for k, v in net.state_dict().items()}
        if time.time() - t0 > 60 * a.minutes:
            print("time budget reached")
            break
    net.load_state_dict(best_state)
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    arrays = {}
    for i, m in enumerate(lin):
        arrays[f"W{i}"] = m.weight.detach().numpy().T.astype(np.float32)
        arrays[f"b{i}"] = m.bias.detach().numpy().astype(np.float32)
    meta = {
        "format": MODEL_FORMAT, "format_version": MODEL_VERSION, "feature_version": FEATURE_VERSION_2D if a.with_2d else FEATURE_VERSION,
        "joints": list(H36M17.joints), "architecture": f"MLP {F}-{'-'.join([str(a.width)] * a.depth)}-4 ReLU",
        "output": "mu (3, camera frame, normalised) and kappa = 1 + softplus (von Mises-Fisher)",
        "train": vars(a), "data": {"path": a.data, "train_frames": int(tr.sum()), "val_frames": int(va.sum()),
                                   "split": "train/val splits of the synth file (by mocap file); test never read"},
        "metrics": {"best_val_nll": best, "history": history},
        "licences": "trained on synth pairs of the shared mocap: Bandai Namco motion datasets (CC BY-NC 4.0: "
                    "non-commercial), CMU mocap (acknowledge mocap.cs.cmu.edu, NSF EIA-0196217), C3D samples "
                    "(Apache-2.0 / MIT / CC BY 4.0)",
    }
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(a.output, **arrays)
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
