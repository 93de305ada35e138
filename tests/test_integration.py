"""On real text: 20 Newsgroups from ../shared/corpora (skipped when it is not there).

A four-group subset, 2,000 training documents, queried with 800 test documents: the learned
codes must retrieve documents of the query's group far above chance (0.25) and no worse than
LSA with the same number of dimensions, computed here on the same tf-idf vectors.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from docret.encoder import Encoder
from docret.metrics import precision_at_k, top_k_rows
from docret.rank.base import normalize_rows

NEWSGROUPS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "20newsgroups"
GROUPS = ("comp.graphics", "rec.autos", "sci.space", "talk.politics.guns")
TRAIN_PER_GROUP, TEST_PER_GROUP = 500, 200

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (NEWSGROUPS / "docs.jsonl.gz").exists(), reason="../shared/corpora not present"
    ),
]


def _subset():
    train, test = {g: [] for g in GROUPS}, {g: [] for g in GROUPS}
    with gzip.open(NEWSGROUPS / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            group = d["labels"][0]
            if group not in train:
                continue
            bucket, limit = (
                (train, TRAIN_PER_GROUP) if d["split"] == "train" else (test, TEST_PER_GROUP)
            )
            if len(bucket[group]) < limit:
                bucket[group].append(d["text"])

    def flat(parts):
        texts = [t for g in GROUPS for t in parts[g]]
        labels = np.array([g for g in GROUPS for _ in parts[g]])
        return texts, labels

    return flat(train), flat(test)


def test_codes_learn_meaning_on_20_newsgroups():
    from sklearn.decomposition import TruncatedSVD

    (train_texts, train_labels), (test_texts, test_labels) = _subset()
    assert len(train_texts) == 2000 and len(test_texts) == 800
    encoder = Encoder(code_size=32, seed=0, device="cpu")
    counts = encoder.fit_vocabulary(train_texts)
    encoder.fit_model(counts)
    doc_codes = normalize_rows(encoder.encode_counts(counts))
    query_counts = encoder.vectorize(test_texts)
    query_codes = normalize_rows(encoder.encode_counts(query_counts))

    def p10(queries, docs):
        top = top_k_rows(queries, docs, 10)
        return precision_at_k(train_labels[top] == test_labels[:, None], 10).mean()

    codes_p10 = p10(query_codes, doc_codes)
    svd = TruncatedSVD(32, random_state=0).fit(encoder.tfidf(counts))
    lsa_p10 = p10(
        normalize_rows(svd.transform(encoder.tfidf(query_counts))),
        normalize_rows(svd.transform(encoder.tfidf(counts))),
    )
    print(f"P@10 codes {codes_p10:.3f}  LSA-32 {lsa_p10:.3f}  chance 0.25")
    assert codes_p10 > 0.6
    assert codes_p10 >= lsa_p10
