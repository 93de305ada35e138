"""What an index holds, as ``docret info`` and the server show it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docret.indexing import RETRAIN_UNKNOWN_SHARE
from docret.rank.default import SHORT_QUERY_TERMS, long_from_terms

if TYPE_CHECKING:
    from docret.snapshot import Snapshot
    from docret.store import Store


def describe(store: Store, state: Snapshot) -> dict[str, Any]:
    """Counts, vocabulary, model and training summary, and the default ranking's choice."""
    meta = store.meta()
    added = store.meta_int("added_tokens", meta=meta)
    unknown_share = store.meta_int("added_unknown_tokens", meta=meta) / added if added else 0.0
    return {
        "database": store.path,
        "source": meta.get("source"),
        "built": meta.get("built"),
        "updated": meta.get("updated"),
        "added_unknown_share": round(unknown_share, 4),
        "retrain_advised": unknown_share > RETRAIN_UNKNOWN_SHARE,
        "schema_version": store.meta_int("schema_version", meta=meta),
        "documents": len(state.ids),
        "vocabulary": len(state.vectorizer.idf),
        "labels": store.label_counts(),
        "types": store.type_counts(),
        "model": _model(state),
        "ranking": {
            "default": "codes" if state.bits is not None else "bm25+codes+lsa",
            **state.fusion.to_dict(),
            # query_weights: the short pair up to short_terms terms, then moving to the long
            # pair (if chosen), reached at long_from_terms terms
            "short_terms": SHORT_QUERY_TERMS,
            "long_from_terms": long_from_terms(state.fusion.long_terms),
        },
        "size_bytes": store.size_bytes(),
    }


def _model(state: Snapshot) -> dict[str, Any]:
    model = state.model
    history = model["history"]
    held_out = [h for h in history if h.get("val_loss") is not None]
    best = min(held_out, key=lambda h: h["val_loss"], default=None)
    return {
        "id": model["id"],
        "layers": state.encoder.config.get("hidden"),
        "code_size": state.encoder.code_size,
        **{k: v for k, v in model["config"].items() if k not in {"hidden"}},
        "epochs_trained": len(history),
        "first_loss": history[0].get("loss") if history else None,
        "final_loss": history[-1].get("loss") if history else None,
        "best_val_loss": None if best is None else best["val_loss"],
        "best_epoch": None if best is None else best["epoch"],
        "seed": model["train_config"].get("seed"),
        "pretrained": model["train_config"].get("pretrain"),
    }
