"""Arrow string arrays seen from numpy: read byte by byte without a Python object per cell (the tokenizer
cuts texts into words this way, the spreadsheet writer finds cells a spreadsheet would run as formulas)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def string_bytes(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A ``string`` or ``large_string`` array as numpy views, nothing copied: the offsets of its cells (one
    more than the cells) and the data buffer they point into."""
    _, offset_buffer, data_buffer = array.buffers()
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    if offset_buffer is None or len(array) == 0:
        return np.zeros(1, dtype=width), np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(offset_buffer, dtype=width)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, dtype=np.uint8)
    return offsets, data
