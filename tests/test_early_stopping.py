"""Early stopping really runs: training ends after ``patience`` epochs without held-out
improvement and the weights of the best epoch are the ones kept (the fast test settings
otherwise set patience equal to epochs, so nothing else exercises it)."""

import random

import numpy as np

from docret.encoder import Encoder
from docret.progress import Progress

from .conftest import FAST, TOPICS, make_text

IMPROVEMENT = 1e-4  # what train.fit counts as a better held-out loss


def test_training_stops_early_and_keeps_the_best_epoch():
    rng = random.Random(1)
    texts = [make_text(rng, topic) for topic in TOPICS for _ in range(20)]
    weights_after: dict[int, dict[str, np.ndarray]] = {}

    class KeepWeights(Progress):
        def epoch(self, stats, total):
            state = encoder.model_.state_dict()
            weights_after[stats.epoch] = {k: v.detach().clone().numpy() for k, v in state.items()}

    patience, epochs = 2, 80
    encoder = Encoder(**{**FAST, "epochs": epochs, "patience": patience}, progress=KeepWeights())
    encoder.fit(texts)
    losses = [h.val_loss for h in encoder.history_]
    assert all(loss is not None for loss in losses)
    assert len(losses) < epochs  # it stopped early ...
    best_before = [min(losses[: i + 1]) for i in range(len(losses))]
    for i in range(len(losses) - patience, len(losses)):  # ... after `patience` stale epochs
        assert losses[i] >= best_before[i - 1] - IMPROVEMENT
    kept = {k: v.detach().numpy() for k, v in encoder.model_.state_dict().items()}
    same = [e for e, w in weights_after.items() if all(np.array_equal(w[k], kept[k]) for k in w)]
    assert len(same) == 1 and same[0] < len(losses)  # not the last epoch's weights ...
    assert losses[same[0] - 1] <= min(losses) + IMPROVEMENT  # ... but the best epoch's
