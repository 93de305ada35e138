"""The :class:`Encoder` estimator: texts in, codes out, following scikit-learn's contract.

It owns the vocabulary (a scikit-learn ``CountVectorizer`` over :class:`~docret.text.Analyzer`),
the idf weights and the trained :class:`~docret.model.Autoencoder`. Its state, exported by
:meth:`Encoder.export`, is plain JSON and float32 arrays: no pickle anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from docret.defaults import DEFAULTS, MAX_SEED, check_settings
from docret.errors import TrainingError
from docret.lexicon import TermCounts, count_corpus
from docret.progress import Progress
from docret.text import (
    Analyzer,
    english_stop_words,
    inverse_document_frequency,
    select_vocabulary,
    tfidf_matrix,
)

MIN_DOCUMENTS = 10  # below this, neither a vocabulary nor a held-out split means anything


class NotFittedError(ValueError):
    """``transform`` was called before ``fit``."""


class Encoder:
    """Bag-of-words vectorizer plus deep autoencoder.

    All arguments are keyword-only and only stored (their defaults and help are in
    :mod:`docret.defaults`; ``progress`` is a :class:`~docret.progress.Progress`); ``fit``
    learns ``vocabulary_``, ``idf_``, ``analyzer_``, ``model_``, ``history_``, ``lsa_``
    (the tf-idf matrix's ``lsa_dims`` leading singular directions, which the default ranking
    weighs beside the codes) and ``held_out_`` (the documents training held out).
    """

    def __init__(
        self,
        *,
        vocab_size: int = DEFAULTS.vocab_size,
        min_df: int | float = DEFAULTS.min_df,
        max_df: int | float = DEFAULTS.max_df,
        stemmer: str = DEFAULTS.stemmer,
        hidden: Sequence[int] = DEFAULTS.hidden,
        code_size: int = DEFAULTS.code_size,
        activation: str = DEFAULTS.activation,
        noise: float = DEFAULTS.noise,
        code_l2: float = DEFAULTS.code_l2,
        binary: bool = DEFAULTS.binary,
        code_noise: float = DEFAULTS.code_noise,
        epochs: int = DEFAULTS.epochs,
        batch_size: int = DEFAULTS.batch_size,
        lr: float = DEFAULTS.lr,
        weight_decay: float = DEFAULTS.weight_decay,
        validation_fraction: float = DEFAULTS.validation_fraction,
        patience: int = DEFAULTS.patience,
        negatives: int = DEFAULTS.negatives,
        pretrain: bool = DEFAULTS.pretrain,
        query_fraction: float = DEFAULTS.query_fraction,
        first_layer: str = DEFAULTS.first_layer,
        lsa_dims: int = DEFAULTS.lsa_dims,
        seed: int = DEFAULTS.seed,
        device: str = DEFAULTS.device,
        threads: int = DEFAULTS.threads,
        progress: Progress | None = None,
    ) -> None:
        self.vocab_size = vocab_size
        self.min_df = min_df
        self.max_df = max_df
        self.stemmer = stemmer
        self.hidden = hidden
        self.code_size = code_size
        self.activation = activation
        self.noise = noise
        self.code_l2 = code_l2
        self.binary = binary
        self.code_noise = code_noise
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.negatives = negatives
        self.pretrain = pretrain
        self.query_fraction = query_fraction
        self.first_layer = first_layer
        self.lsa_dims = lsa_dims
        self.seed = seed
        self.device = device
        self.threads = threads
        self.progress = progress

    # -- fitting -------------------------------------------------------------------------
    def fit(self, texts: Sequence[str]) -> Encoder:
        """Learn the vocabulary, idf and autoencoder from ``texts``; returns ``self``."""
        counts = self.fit_vocabulary(texts)
        self.fit_model(counts)
        return self

    def count_terms(self, texts: Sequence[str]) -> TermCounts:
        """The first step of :meth:`fit_vocabulary`: make ``analyzer_`` and count every term
        of ``texts`` (any sequence, read once in order). The caller may keep the result
        (BM25 ranks by every term) and hand it to :meth:`fit_vocabulary`."""
        texts = _check_texts(texts)
        check_settings(self.get_settings())  # docret.defaults: every bound, one message
        try:  # before the slow part: settings that would only fail once training starts
            check_seed(self.seed)
            check_device(self.device)
            check_threads(self.threads)
            check_lsa_dims(self.lsa_dims)
        except ValueError as e:
            raise TrainingError(str(e)) from None
        if len(texts) < MIN_DOCUMENTS:
            raise TrainingError(
                f"Need at least {MIN_DOCUMENTS} documents to learn a model, got {len(texts)}"
            )
        self.analyzer_ = Analyzer(stemmer=self.stemmer, stop_words=english_stop_words())
        on_progress = None
        if self.progress is not None:
            progress, total = self.progress, len(texts)
            on_progress = lambda done: progress.step("Vocabulary", done, total)  # noqa: E731
        return count_corpus(texts, self.analyzer_, on_progress)

    def fit_vocabulary(self, texts: Sequence[str] | TermCounts):
        """Learn vocabulary and idf from ``texts`` (or from their :meth:`count_terms`);
        return the documents' count matrix (CSR) over the vocabulary."""
        terms = texts if isinstance(texts, TermCounts) else self.count_terms(texts)
        self._check_fitted("analyzer_")
        n = terms.n_documents
        try:
            self.vocabulary_, counts = select_vocabulary(
                terms.terms,
                terms.indptr,
                terms.indices,
                terms.counts,
                vocab_size=self.vocab_size,
                min_df=self.min_df,
                max_df=self.max_df,
            )
        except ValueError as e:  # empty vocabulary, or min_df/max_df that exclude everything
            raise TrainingError(
                f"No vocabulary could be built from {n} documents: {e}. "
                "Try a lower --min-df or a higher --max-df."
            ) from None
        self.df_ = np.bincount(counts.indices, minlength=len(self.vocabulary_)).astype(np.int64)
        self.idf_ = inverse_document_frequency(self.df_, n)
        return counts

    def fit_model(self, counts) -> Encoder:
        """Train the autoencoder on a count matrix over the fitted vocabulary."""
        from docret import lsa, train
        from docret.model import Autoencoder, AutoencoderConfig

        empty = np.diff(counts.indptr) == 0
        if (~empty).sum() < MIN_DOCUMENTS:
            raise TrainingError(
                f"Only {(~empty).sum()} documents contain words of the vocabulary; "
                f"need at least {MIN_DOCUMENTS} to learn a model"
            )
        self.config_ = AutoencoderConfig(
            vocab_size=len(self.vocabulary_),
            hidden=tuple(self.hidden),
            code_size=self.code_size,
            activation=self.activation,
            noise=self.noise,
            code_l2=self.code_l2,
            binary=self.binary,
            code_noise=self.code_noise,
        )
        self.train_config_ = train.TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            validation_fraction=self.validation_fraction,
            patience=self.patience,
            negatives=self.negatives,
            pretrain=self.pretrain,
            query_fraction=self.query_fraction,
            first_layer=self.first_layer,
            seed=self.seed,
            device=self.device,
            threads=self.threads,
        )
        # Documents with no vocabulary word teach nothing (and have no distribution to match).
        rows = np.flatnonzero(~empty)
        # The documents training holds out to stop early: pseudo-queries cut from them test
        # the codes on text the model never saw (research/heldout.py).
        self.held_out_ = rows[train.split_rows(len(rows), self.train_config_)[0]]
        kept = counts[rows] if empty.any() else counts  # no copy of a large corpus if all count
        inputs = tfidf_matrix(kept, self.idf_)
        targets = _row_distributions(kept)
        del kept
        # LSA's directions: a second semantic score for the default ranking (docret.rank.calibrate).
        # A binary index ranks by Hamming distance alone and does not use them.
        dims = 0 if self.binary else self.lsa_dims
        self.lsa_ = lsa.directions(inputs, dims, self.seed)
        train.seed_everything(self.seed)
        self.model_ = Autoencoder(self.config_)
        # Start the decoder at the corpus' word frequencies, so that training spends its steps
        # on what distinguishes documents rather than first rediscovering the unigram mean
        # (without this, training sits on a plateau that early stopping can mistake for the end).
        self.model_.init_output_bias(np.asarray(targets.mean(axis=0)).ravel())
        with train.cpu_threads(self.train_config_.threads):
            self.pretrain_history_ = (
                train.pretrain(self.model_, inputs, targets, self.train_config_)
                if self.train_config_.pretrain
                else []
            )
            self.history_ = train.fit(
                self.model_,
                inputs,
                targets,
                self.train_config_,
                self.progress.epoch if self.progress is not None else None,
            )
        return self

    # -- using a fitted encoder ----------------------------------------------------------
    def vectorize(self, texts: Sequence[str]):
        """Counts of ``texts`` over the fitted vocabulary, as CSR."""
        self._check_fitted("vocabulary_")
        from sklearn.feature_extraction.text import CountVectorizer

        texts = _check_texts(texts)
        vec = CountVectorizer(
            analyzer=self.analyzer_,
            vocabulary={t: j for j, t in enumerate(self.vocabulary_)},
            dtype=np.float32,
        )
        return vec.transform(texts).tocsr()

    def tfidf(self, counts):
        """Sublinear, L2-normalised tf-idf of a count matrix."""
        self._check_fitted("idf_")
        return tfidf_matrix(counts, self.idf_)

    def encode_counts(self, counts) -> np.ndarray:
        """Codes (N, D) of a count matrix over the fitted vocabulary."""
        return self.encode_tfidf(self.tfidf(counts))

    def encode_tfidf(self, tfidf) -> np.ndarray:
        """Codes (N, D) of a tf-idf matrix made by :meth:`tfidf`."""
        self._check_fitted("model_")
        from docret.train import encode

        on_progress = self.progress.step if self.progress is not None else None
        return encode(self.model_, tfidf, on_progress=on_progress)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Codes (N, D), float32, of ``texts``."""
        self._check_fitted("model_")
        return self.encode_counts(self.vectorize(texts))

    def transform_lsa(self, texts: Sequence[str], tfidf=None) -> np.ndarray:
        """Unit-length LSA vectors (N, k), float32, of ``texts`` (or of their tf-idf matrix
        ``tfidf``, if the caller has it); k is 0 for an encoder without LSA directions."""
        self._check_fitted("lsa_")
        from docret.lsa import project

        if tfidf is None:
            tfidf = self.tfidf(self.vectorize(texts))
        return project(tfidf, self.lsa_)

    def transform_both(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`transform` and :meth:`transform_lsa` of ``texts``, vectorised once."""
        counts = self.vectorize(texts)
        return self.encode_counts(counts), self.transform_lsa(texts, self.tfidf(counts))

    def fit_transform(self, texts: Sequence[str]) -> np.ndarray:
        """``fit(texts).transform(texts)`` without vectorising twice."""
        counts = self.fit_vocabulary(texts)
        self.fit_model(counts)
        return self.encode_counts(counts)

    def get_settings(self) -> dict[str, Any]:
        """The settings this encoder was made with (the fields of
        :class:`~docret.defaults.Defaults`), JSON-able: what ``retrain`` starts from."""
        settings = {name: getattr(self, name) for name in DEFAULTS.as_dict()}
        settings["hidden"] = [int(h) for h in settings["hidden"]]
        return settings

    def export(self) -> dict[str, Any]:
        """Everything needed to encode later: JSON-able settings plus float32 weight arrays."""
        self._check_fitted("model_")
        return {
            "settings": self.get_settings(),
            "analyzer": self.analyzer_.to_dict(),
            "vocabulary": list(self.vocabulary_),
            "surface_forms": self.surface_forms(),
            "idf": self.idf_,
            "df": self.df_,
            "config": self.config_.to_dict(),
            "train_config": self.train_config_.to_dict(),
            "history": [vars(h) for h in self.history_],
            "weights": {
                **{
                    name: t.detach().cpu().numpy().astype(np.float32)
                    for name, t in self.model_.state_dict().items()
                },
                **({"lsa": self.lsa_} if self.lsa_.shape[0] else {}),
            },
        }

    def surface_forms(self) -> dict[str, int]:
        """Each word seen while fitting whose stem is in the vocabulary, with that term's id.

        Stored with the index so that queries map known words without loading a stemmer.
        """
        self._check_fitted("vocabulary_")
        term_id = {t: j for j, t in enumerate(self.vocabulary_)}
        return {
            word: term_id[stem]
            for word, stem in self.analyzer_.stems_seen().items()
            if stem in term_id
        }

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit before using it"
            )


def check_seed(seed: int) -> int:
    """``seed`` if numpy and torch accept it (0 to 2**32 - 1), else ValueError."""
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be between 0 and {MAX_SEED:,}, not {seed:,}")
    return seed


def check_threads(threads: int) -> int:
    """``threads`` if it is a CPU thread count (0: every core), else ValueError."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"threads must be a whole number (0: every core), not {threads!r}")
    return threads


def check_lsa_dims(dims: int) -> int:
    """``dims`` if it is a number of LSA directions (0: none), else ValueError."""
    if isinstance(dims, bool) or not isinstance(dims, int) or dims < 0:
        raise ValueError(f"lsa_dims must be a whole number (0: no LSA), not {dims!r}")
    return dims


def check_device(name: str) -> str:
    """``name`` if torch can train on that device here, else ValueError saying what to use."""
    if name == "auto":
        return name
    import torch

    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(
                f"device {name!r}: this torch sees no CUDA GPU (a CPU-only build, or no "
                "driver); use cpu or auto"
            )
        if device.index is not None and device.index >= count:
            raise ValueError(f"device {name!r}: only {count} CUDA device(s) here")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device {name!r} is not available here; use cpu or auto")
    elif device.type != "cpu":
        raise ValueError(f"docret cannot train on device {name!r}; use auto, cpu or cuda")
    return name


def _check_texts(texts: Sequence[str]) -> Sequence[str]:
    # scikit-learn's rule: a bare string is almost always a mistake for a list of documents.
    if isinstance(texts, str):
        raise ValueError("Expected a list of texts, got a single string")
    # A sequence (a list, or documents spooled to disk) is kept as it is: it may not fit in
    # memory twice. Anything else (a generator) is read into a list.
    return texts if isinstance(texts, Sequence) else list(texts)


def _row_distributions(counts):
    """Each row divided by its sum: the word distribution the decoder must reproduce."""
    x = counts.tocsr().astype(np.float32, copy=True)
    sums = np.asarray(x.sum(axis=1)).ravel()
    x.data /= np.repeat(np.where(sums > 0, sums, 1.0), np.diff(x.indptr)).astype(np.float32)
    return x
