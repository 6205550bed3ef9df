"""Decoding uploads: the codec for files that mix UTF-8 and GB18030 line by line, and the
chunked copy to UTF-8 that DuckDB's reader needs.
"""

from __future__ import annotations

import codecs
from pathlib import Path

TRANSCODE_CHUNK_BYTES = 8 << 20


# A file that is UTF-8 in some lines and GBK in others (two exports pasted together): decoded
# line by line, UTF-8 first (GBK text is almost never valid UTF-8), then GB18030; a line neither
# can decode keeps U+FFFD in place of the bad bytes, and ingestion rejects that row with a reason.
MIXED_ENCODING = "utf8_or_gb18030"
DAMAGED_CHAR = "\ufffd"


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("gb18030")
    except UnicodeDecodeError:
        return line.decode("utf-8", errors="replace")


class _MixedDecoder(codecs.IncrementalDecoder):
    """Incremental decoder for MIXED_ENCODING: whole lines at a time, a leading UTF-8 BOM dropped.

    Splitting on LF is safe in both encodings: byte 0x0A never occurs inside a UTF-8 or GBK
    character. Never raises; undecodable bytes become U+FFFD.
    """

    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self.pending = b""
        self.started = False

    def decode(self, data: bytes, final: bool = False) -> str:  # type: ignore[override]
        data = self.pending + bytes(data)
        if not self.started:
            if len(data) < len(codecs.BOM_UTF8) and not final:
                self.pending = data
                return ""
            data = data.removeprefix(codecs.BOM_UTF8)
            self.started = True
        cut = len(data) if final else data.rfind(b"\n") + 1
        lines, self.pending = data[:cut], data[cut:]
        return "".join(_decode_line(line) for line in lines.splitlines(keepends=True))

    def reset(self) -> None:
        self.pending, self.started = b"", False

    def getstate(self) -> tuple[bytes, int]:
        return self.pending, int(self.started)

    def setstate(self, state: tuple[bytes, int]) -> None:
        self.pending, self.started = state[0], bool(state[1])


def _mixed_codec(name: str) -> codecs.CodecInfo | None:
    if name != MIXED_ENCODING:
        return None
    utf8 = codecs.lookup("utf-8")

    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        return _MixedDecoder(errors).decode(data, final=True), len(data)

    return codecs.CodecInfo(
        name=MIXED_ENCODING,
        encode=utf8.encode,
        decode=decode,
        incrementalencoder=utf8.incrementalencoder,
        incrementaldecoder=_MixedDecoder,
        streamreader=utf8.streamreader,
        streamwriter=utf8.streamwriter,
    )


codecs.register(_mixed_codec)


def transcode_to_utf8(path: str | Path, encoding: str, out_path: str | Path) -> str:
    """Copy a text file to UTF-8 in chunks (DuckDB reads UTF-8 only); memory stays flat.

    Returns the encoding used: `encoding`, or MIXED_ENCODING when a later part of the file
    does not decode as `encoding` (the copy is then redone line by line, never refused)."""
    try:
        _transcode(path, encoding, out_path)
        return encoding
    except UnicodeDecodeError:
        _transcode(path, MIXED_ENCODING, out_path)
        return MIXED_ENCODING


def _transcode(path: str | Path, encoding: str, out_path: str | Path) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    first = True
    with open(path, "rb") as src, open(out_path, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(TRANSCODE_CHUNK_BYTES):
            text = decoder.decode(chunk)
            dst.write(text.lstrip("\ufeff") if first else text)
            first = first and not text
        dst.write(decoder.decode(b"", final=True))
