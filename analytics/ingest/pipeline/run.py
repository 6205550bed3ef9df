"""One upload, from file to batch: the steps in order, with the side thread beside the parsing
and the insert."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd

from analytics.errors import StoreMemoryError
from analytics.ingest import columns
from analytics.ingest.matching.bulk import drop_staged
from analytics.ingest.pipeline.clean import _caller_hashes, _clean, _rejected_json
from analytics.ingest.pipeline.final import (
    FINAL_ROWS,
    _by_address,
    _by_value,
    _compounds,
    _counts,
    _drop_spent,
    _final,
)
from analytics.ingest.pipeline.pending import settle, side_content
from analytics.ingest.pipeline.result import IngestResult, _check_balance, _fill
from analytics.ingest.pipeline.side import PREPARED, _load_predictor, _side_matching, _side_prediction
from analytics.ingest.pipeline.stage import Progress, _stage, _Staged, _staging, drop_raw, renumber_rows
from analytics.ingest.pipeline.timing import phase
from analytics.ingest.pipeline.write import _classify_sql, _commit, file_sha256
from analytics.ingest.readers.encoding import MIXED_ENCODING
from analytics.ingest.registry import changes
from analytics.store import callerkey, db

log = logging.getLogger(__name__)

# rejected rows an upload hands back with its result (all of them are stored with the batch)
REJECTED_SHOWN = 10_000


def _noop(_fraction: float, _message: str) -> None:
    return None


class _CapTooLow(Exception):
    """The upload ran out of the memory its cap (db.memory_capped) left DuckDB."""


@contextlib.contextmanager
def _out_of_memory(capped: bool) -> Iterator[None]:
    """DuckDB running out of memory under an upload's cap (`capped`) as _CapTooLow."""
    try:
        yield
    except (StoreMemoryError, duckdb.OutOfMemoryException) as exc:
        if capped:
            raise _CapTooLow from exc
        raise


def _number_rejected(stg: duckdb.DuckDBPyConnection, staged: _Staged) -> None:
    """Give the rejected rows the row numbers the file itself has (see `renumber_rows`)."""
    if staged.csv_source is None:
        return
    numbers = [int(r[0]) for r in stg.execute("SELECT row_number FROM rejected").fetchall()]
    moved = {k: v for k, v in renumber_rows(staged, numbers).items() if k != v}
    if not moved:
        return
    stg.register("renumbered", pd.DataFrame({"rn": list(moved), "file_rn": list(moved.values())}))
    try:
        stg.execute(
            "UPDATE rejected SET row_number = r.file_rn FROM renumbered r WHERE rejected.row_number = r.rn"
        )
    finally:
        stg.unregister("renumbered")


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    mapping: dict[str, str] | None = None,
    user: str | None = None,
    sheet: str | None = None,
    file_name: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> IngestResult:
    """Load one ticket export as one batch. FileRejected (nothing written) when the file as a
    whole cannot be used; otherwise every row is inserted, updated, a duplicate or rejected.

    DuckDB's memory is capped while it runs (db.memory_capped: the upload's peak); an upload
    that needs more than the cap (very long texts on few threads) runs once more without it,
    and only a run out of all the memory DuckDB may use fails (StoreMemoryError, nothing
    written)."""
    args = (con, Path(path), mapping, user, sheet, file_name, progress or _noop, dry_run)
    try:
        try:
            return _ingest(*args, capped=True)
        except _CapTooLow:
            log.warning("upload %s: out of memory under the upload cap; running it again without", path)
            return _ingest(*args, capped=False)
    except duckdb.OutOfMemoryException as exc:
        raise db.translate(exc) from None


def _ingest(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    mapping: dict[str, str] | None,
    user: str | None,
    sheet: str | None,
    file_name: str | None,
    progress: Progress,
    dry_run: bool,
    capped: bool,
) -> IngestResult:
    """ingest_file, under the upload's memory cap when `capped`."""
    name = file_name or path.name
    workdir = Path(tempfile.mkdtemp(prefix="hotline-ingest-"))
    cap = db.memory_capped(con) if capped else contextlib.nullcontext(False)
    try:
        with (
            cap as in_force,
            _out_of_memory(in_force),
            _staging(con) as (stg, alias),
            ThreadPoolExecutor(1, thread_name_prefix="ingest-side") as side,
        ):
            # the category model loads while the file is read; matching, then prediction, run
            # beside the parsing (see _side_matching)
            loading = side.submit(_load_predictor, con.cursor(), not dry_run)
            # the file's digest for the batch row, while DuckDB reads the file (hashlib lets go
            # of the GIL on large buffers)
            digest = side.submit(file_sha256, path)
            with phase("stage"):
                staged = _stage(stg, path, sheet, workdir, progress)
            merged = columns.resolve_mapping(staged.headers, mapping, file_name=name)
            columns.require_fields(staged.headers, merged, file_name=name)
            salt = db.get_setting(con, "caller_salt") if dry_run else db.caller_salt(con)
            caller_keys = callerkey.caller_keys(con, record=not dry_run)  # refuses a key not the store's
            progress(0.3, "解析与校验")
            with phase("clean"):
                present = _clean(stg, staged.headers, merged, lossy=staged.encoding == MIXED_ENCODING)
            matched = side.submit(_side_matching, con.cursor(), alias, present)
            prediction_cursor = con.cursor()
            predicting = side.submit(_side_prediction, prediction_cursor, alias, present, loading)
            content_cursor = con.cursor()
            content: Future[pd.DataFrame] | None = None
            try:
                with phase("hash"):
                    _caller_hashes(stg, present, salt or "", caller_keys)
                with phase("rejected"):
                    _rejected_json(stg, staged.headers, merged)
                    _number_rejected(stg, staged)
                drop_raw(stg, staged)  # every later step reads parsed rows only
                progress(0.5, "匹配小区与分类")
                with phase("wait_match"):
                    looked, scored = matched.result()
                with phase("compounds"):
                    _by_value(stg, looked)
                    _by_address(stg, scored)
                    waiting = _compounds(stg, scored, remember=not dry_run)  # while the prediction runs
                with phase("wait_predict"):
                    texts = predicting.result()
                # the futures hold the matches and predictions: let them go before the commit
                matched = predicting = looked = scored = None
                with phase("final"):
                    predicted = _final(stg, con, texts)
                del texts
                # rows no compound value or address places: their title or content may name one,
                # which the content matcher finds beside the rest (pending)
                content = side.submit(side_content, content_cursor, alias)
                with phase("dated"):
                    # renames, splits and merges: each row on the compound valid at its date
                    changes.resolve_dated(stg, FINAL_ROWS)
                reasons, in_file_dups, unmatched = _counts(stg)
            except BaseException:
                # a task not started is dropped (the upload fails anyway) and its cursor closed
                for future, cursor in ((predicting, prediction_cursor), (content, content_cursor)):
                    if future is not None and future.cancel():
                        cursor.close()
                if content is None:  # never submitted
                    content_cursor.close()
                raise
            # all in FINAL_ROWS (`parsed` holds the rows the view `final` reads, `caller_hashes`
            # the keyed hash of each caller: once a caller, not once a row)
            stg.execute("DROP VIEW by_address")
            for table in ("by_value", "category_map"):
                stg.execute(f"DROP TABLE IF EXISTS {table}")
            drop_staged(stg, PREPARED)
            _drop_spent(stg)
            result = IngestResult(
                file=name,
                rows_read=staged.rows_read,
                rejected=sum(reasons.values()),
                unmatched=unmatched,
                encoding=staged.encoding,
                sheet=staged.sheet,
                mapping=merged,
                reasons=reasons,
                dry_run=dry_run,
                dropped_personal_columns=columns.caller_name_headers(staged.headers),
                header_row=staged.header_row,
                rejected_rows=stg.execute(
                    f"SELECT row_number, reason, raw FROM rejected ORDER BY row_number LIMIT {REJECTED_SHOWN}"  # noqa: S608
                ).df(),
            )

            def settled() -> pd.DataFrame:
                """The pending rows decided (pending.settle), once the content matcher answers."""
                with phase("wait_content"):
                    found = content.result()
                with phase("content"):
                    decided, left = settle(stg, found)
                result.unmatched += left
                return decided

            progress(0.7, "写入数据库")
            if dry_run:
                settled()
                sql = f"SELECT kind, count(*) AS n FROM ({_classify_sql(alias)}) GROUP BY 1"  # noqa: S608
                _fill(result, dict(db.query_df(con, sql).values), in_file_dups)
            else:
                with phase("commit"):
                    _commit(
                        con, alias, result, in_file_dups, digest.result(), user, predicted, settled, waiting
                    )
        _check_balance(result)
        progress(1.0, "完成")
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
