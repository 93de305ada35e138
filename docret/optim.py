"""Adam and its plateau schedule, as training uses them, without ``torch.optim``'s start-up cost.

The first ``torch.optim`` optimizer a process builds imports torch's compiler stack (about 2 s
on the project's machine, as long as the whole training of bench/speed.py's 320-document
folder takes). :class:`Adam` calls the same fused kernel that ``torch.optim.Adam(...,
fused=True)`` does, with the same state, so it takes the same steps bit for bit, and falls back
to ``torch.optim.Adam`` where that kernel is missing (an older torch, another device).
:class:`Plateau` halves the step size as ``torch.optim.lr_scheduler.ReduceLROnPlateau`` does
with the settings training uses.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

BETAS = (0.9, 0.999)  # torch.optim.Adam's defaults
EPS = 1e-8


class Adam:
    """Adam (Kingma & Ba) with L2 ``weight_decay`` over ``params``, one fused step for all."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, weight_decay: float = 0.0):
        self.params = list(params)
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        fused = _fused_kernel()
        devices = {p.device.type for p in self.params}
        self._fallback = None
        if fused is None or not devices <= {"cpu", "cuda"}:
            self._fallback = _torch_adam(self.params, self.lr, self.weight_decay)
        self._state: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def zero_grad(self) -> None:
        """Drop the gradients (the next backward pass makes new ones, or
        :class:`~docret.model.TouchedRows` hands its buffer back)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """One Adam step for every parameter that has a gradient."""
        if self._fallback is not None:
            for group in self._fallback.param_groups:
                group["lr"] = self.lr
            self._fallback.step()
            return
        live = [p for p in self.params if p.grad is not None]
        if not live:
            return
        for p in live:
            if id(p) not in self._state:
                self._state[id(p)] = (
                    torch.zeros_like(p, memory_format=torch.preserve_format),
                    torch.zeros_like(p, memory_format=torch.preserve_format),
                    torch.tensor(0.0, dtype=torch.float32, device=p.device),
                )
        for device in {p.device for p in live}:
            group = [p for p in live if p.device == device]
            exp_avgs, exp_avg_sqs, steps = zip(*(self._state[id(p)] for p in group), strict=True)
            torch._foreach_add_(list(steps), 1)
            torch._fused_adam_(
                group,
                [p.grad for p in group],
                list(exp_avgs),
                list(exp_avg_sqs),
                [],
                list(steps),
                amsgrad=False,
                lr=self.lr,
                beta1=BETAS[0],
                beta2=BETAS[1],
                weight_decay=self.weight_decay,
                eps=EPS,
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )


def _fused_kernel():
    """torch's fused Adam kernel, or None where this torch has none."""
    return getattr(torch, "_fused_adam_", None)


def _torch_adam(params: list[torch.Tensor], lr: float, weight_decay: float):
    import torch.optim

    try:
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError):  # no fused kernel for this device or torch
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


class Plateau:
    """Multiply ``optimizer.lr`` by ``factor`` once the score has not improved (relatively, by
    ``threshold``) for more than ``patience`` epochs in a row; lower scores are better."""

    def __init__(
        self, optimizer: Adam, factor: float = 0.5, patience: int = 1, threshold: float = 1e-4
    ) -> None:
        self.optimizer, self.factor = optimizer, factor
        self.patience, self.threshold = patience, threshold
        self.best, self.bad_epochs = float("inf"), 0

    def step(self, score: float) -> None:
        """Record one epoch's score."""
        if score < self.best * (1.0 - self.threshold):
            self.best, self.bad_epochs = score, 0
        else:
            self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            lower = self.optimizer.lr * self.factor
            if self.optimizer.lr - lower > EPS:
                self.optimizer.lr = lower
            self.bad_epochs = 0
