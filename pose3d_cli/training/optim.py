"""AdamW and the one-cycle schedule in plain torch tensor ops.

Why not ``torch.optim``: its optimisers import ``torch._dynamo`` on first use (their methods are wrapped to be
skipped by the compiler), about 1 s of every ``pose3d train`` process on the 2-core machine: a sixth of a small
continual update. The arithmetic here is that of torch's single-tensor AdamW path and of ``OneCycleLR``'s cosine
schedule (``anneal_strategy="cos"``, momentum cycled through beta1), op for op, so training is bit-identical to
the torch pair it replaces (``tests/test_optim.py``), and ``load_state_dict`` also reads their state dicts (resume
files written before this module).

Adam: Kingma & Ba 2015; decoupled weight decay: Loshchilov & Hutter 2019; one-cycle: Smith & Topsekhar 2019.
"""

from __future__ import annotations

import math

import torch

STATE_FORMAT = "pose3d-adamw-1"


class AdamW:
    """AdamW over ``params``: per parameter, ``p ← p (1 − lr·wd)``, first and second moment updates, bias-corrected
    step. ``lr`` and ``betas`` may be changed between steps (the schedule does). A parameter without a gradient
    is skipped (its state starts at its first gradient), as in torch."""

    def __init__(self, params, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        self.params = list(params)
        if not self.params:
            raise ValueError("AdamW: no parameters")
        self.lr, self.betas, self.eps, self.weight_decay = float(lr), tuple(betas), float(eps), float(weight_decay)
        self.state: dict[int, dict] = {}  # index → {"step": float, "exp_avg": Tensor, "exp_avg_sq": Tensor}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        lr, (beta1, beta2), eps, wd = self.lr, self.betas, self.eps, self.weight_decay
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            s = self.state.get(i)
            if s is None:
                s = self.state[i] = {"step": 0.0, "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                                     "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}
            s["step"] += 1.0
            step, grad, exp_avg, exp_avg_sq = s["step"], p.grad, s["exp_avg"], s["exp_avg_sq"]
            if wd != 0:
                p.mul_(1 - lr * wd)
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            step_size = lr / bias_correction1
            denom = (exp_avg_sq.sqrt() / bias_correction2 ** 0.5).add_(eps)
            p.addcdiv_(exp_avg, denom, value=-step_size)

    def state_dict(self) -> dict:
        return {"format": STATE_FORMAT, "lr": self.lr, "betas": list(self.betas), "eps": self.eps,
                "weight_decay": self.weight_decay,
                "state": {i: {"step": s["step"], "exp_avg": s["exp_avg"].clone(), "exp_avg_sq": s["exp_avg_sq"].clone()}
                          for i, s in self.state.items()}}

    def load_state_dict(self, d: dict) -> None:
        """Ours, or a ``torch.optim.Adam``/``AdamW`` state dict of one parameter group over the same parameters."""
        if d.get("format") == STATE_FORMAT:
            self.lr, self.betas = float(d["lr"]), tuple(float(b) for b in d["betas"])
        else:
            groups = d.get("param_groups", [])
            if len(groups) != 1 or len(groups[0].get("params", [])) != len(self.params):
                raise ValueError(f"optimiser state of {sum(len(g.get('params', [])) for g in groups)} parameters in "
                                 f"{len(groups)} groups; this model has {len(self.params)} in one")
            self.lr, self.betas = float(groups[0]["lr"]), tuple(float(b) for b in groups[0]["betas"])
        state = {}
        for i, s in d["state"].items():
            i = int(i)
            if not 0 <= i < len(self.params) or any(s[k].shape != self.params[i].shape for k in ("exp_avg", "exp_avg_sq")):
                raise ValueError(f"optimiser state of parameter {i} does not match the model")
            step = s["step"]
            state[i] = {"step": float(step.item() if isinstance(step, torch.Tensor) else step),
                        "exp_avg": s["exp_avg"].clone(), "exp_avg_sq": s["exp_avg_sq"].clone()}
        self.state = state


class OneCycle:
    """The one-cycle schedule of an :class:`AdamW`: lr from ``max_lr / div_factor`` up to ``max_lr`` over the
    first ``pct_start`` of ``total_steps`` (beta1 from ``max_momentum`` down to ``base_momentum``), then down to
    ``max_lr / div_factor / final_div_factor`` (beta1 back up), both by half cosines. ``step()`` after each
    optimiser step; the optimiser holds the current step's values from construction on."""

    def __init__(self, opt: AdamW, max_lr: float, total_steps: int, pct_start: float = 0.15, div_factor: float = 10.0,
                 final_div_factor: float = 100.0, base_momentum: float = 0.85, max_momentum: float = 0.95):
        if total_steps < 1:
            raise ValueError(f"OneCycle: total_steps must be >= 1, got {total_steps}")
        self.opt, self.total_steps = opt, int(total_steps)
        self.max_lr = float(max_lr)
        self.initial_lr = self.max_lr / div_factor
        self.min_lr = self.initial_lr / final_div_factor
        self.base_momentum, self.max_momentum = float(base_momentum), float(max_momentum)
        self.warmup_end = float(pct_start * self.total_steps) - 1
        self.last_step = 0
        self._apply()

    @staticmethod
    def _cos(start: float, end: float, pct: float) -> float:
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

    def values(self, step: int) -> tuple[float, float]:
        """(lr, beta1) for optimiser step ``step`` (0-based)."""
        if step > self.total_steps:
            raise ValueError(f"OneCycle: step {step} beyond the {self.total_steps} scheduled")
        if step <= self.warmup_end:
            pct = step / self.warmup_end
            return self._cos(self.initial_lr, self.max_lr, pct), self._cos(self.max_momentum, self.base_momentum, pct)
        pct = (step - self.warmup_end) / (self.total_steps - 1 - self.warmup_end)
        return self._cos(self.max_lr, self.min_lr, pct), self._cos(self.base_momentum, self.max_momentum, pct)

    def _apply(self) -> None:
        lr, beta1 = self.values(self.last_step)
        self.opt.lr, self.opt.betas = lr, (beta1, *self.opt.betas[1:])

    def step(self) -> None:
        self.last_step += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [self.opt.lr]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_step, "total_steps": self.total_steps}

    def load_state_dict(self, d: dict) -> None:
        """Ours or ``torch.optim.lr_scheduler.OneCycleLR``'s (both keep the step count as ``last_epoch``)."""
        if int(d.get("total_steps", self.total_steps)) != self.total_steps:
            raise ValueError(f"schedule of {d['total_steps']} steps, this run has {self.total_steps}")
        self.last_step = int(d["last_epoch"])
        self._apply()
