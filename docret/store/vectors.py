"""What ranks the documents: their codes (and packed bits) of the current model, and their
sparse rows (tf-idf vectors, term counts), checked before anything indexes with them."""

from __future__ import annotations

import numpy as np

from docret.store.base import StoreBase
from docret.store.checked import blob_lengths, joined_blobs


class VectorStore(StoreBase):
    """Codes and sparse document rows, in storage order."""

    def load_codes(
        self, code_size: int | None = None
    ) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        """Document ids in storage order, their codes of the current model (N, D) float32,
        and for a binary model their packed bits (N, W) uint64 (else None). Codes of another
        length than ``code_size`` (if given; else the first code's), not finite, or none at
        all raise :class:`~docret.errors.DamagedDatabaseError`."""
        ids, codes, bits = [], [], []
        model_id = self.current_model_id()
        with self._reading():
            for doc_id, code, packed in self.db.execute(
                "select d.id, c.code, c.bits from documents d join codes c on c.id = d.id "
                "where c.model_id = ? order by d.rowid",
                [model_id],
            ):
                ids.append(doc_id)
                codes.append(code)
                bits.append(packed)
        if not ids:
            raise self.damaged(f"no document has a code of the current model ({model_id})")
        lengths = blob_lengths(codes)
        size = 4 * code_size if code_size is not None else int(lengths[0])
        wrong = int(((lengths != size) | (lengths % 4 != 0) | (lengths == 0)).sum())
        if wrong:
            raise self.damaged(f"{wrong:,} codes are not {size // 4} numbers long")
        matrix = np.frombuffer(b"".join(codes), dtype="<f4").astype(np.float32)
        if not np.isfinite(matrix).all():
            raise self.damaged("codes hold NaN or infinite numbers")
        matrix = matrix.reshape(len(ids), -1)
        if set(map(type, bits)) == {type(None)}:  # float codes (checked at C speed)
            return ids, matrix, None
        width = (matrix.shape[1] + 63) // 64 * 8
        wrong = int((blob_lengths(bits) != width).sum())
        if wrong:
            raise self.damaged(f"{wrong:,} binary codes lack their bits")
        words = np.frombuffer(b"".join(bits), dtype="<u8").astype(np.uint64)
        return ids, matrix, words.reshape(len(ids), -1)

    def load_vectors(
        self, n_terms: int | None = None
    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Bag-of-words vectors in storage order as CSR parts: ids, indptr, indices, weights.
        Term ids must lie below ``n_terms`` (default: the vocabulary's size)."""
        if n_terms is None:
            (n_terms,) = self.db.execute("select count(*) from vocabulary").fetchone()
        return sparse_rows(
            self,
            "select d.id, v.indices, v.weights from documents d join vectors v on v.id = d.id "
            "order by d.rowid",
            n_terms,
            "vectors",
        )


def sparse_rows(
    store: StoreBase, sql: str, n_terms: int, what: str, nonnegative: bool = False
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Rows of (id, int32 term ids BLOB, float32 values BLOB) as CSR parts: ids, indptr,
    indices, values; checked (vectorised) before anything indexes with them: blobs of
    whole and like lengths, term ids in [0, ``n_terms``), finite values (``nonnegative``
    too, if asked)."""
    ids, idx, val = [], [], []
    with store._reading():
        for doc_id, i_blob, v_blob in store.db.execute(sql):
            ids.append(doc_id)
            idx.append(i_blob)
            val.append(v_blob)
    lengths, value_lengths = blob_lengths(idx), blob_lengths(val)
    broken = int(((lengths != value_lengths) | (lengths % 4 != 0) | (lengths < 0)).sum())
    if broken:
        raise store.damaged(f"{broken:,} {what} have term ids and values of unlike lengths")
    indptr = np.concatenate([[0], np.cumsum(lengths // 4)])
    indices, values = joined_blobs(idx, "<i4", np.int32), joined_blobs(val, "<f4", np.float32)
    if len(indices) and (indices.min() < 0 or indices.max() >= n_terms):
        outside = int(((indices < 0) | (indices >= n_terms)).sum())
        raise store.damaged(
            f"{what} hold {outside:,} term ids outside the {n_terms:,} terms (up to "
            f"{int(indices.max()):,})"
        )
    if not np.isfinite(values).all() or (nonnegative and (values < 0).any()):
        kind = "NaN, infinite or negative" if nonnegative else "NaN or infinite"
        raise store.damaged(f"{what} hold {kind} values")
    return ids, indptr, indices, values
