"""The analysts' batch interface: `python -m analytics [--db PATH] COMMAND ...`.

Names, arguments and JSON outputs are stable: scripts and checks rely on them (see README); fields
are only ever added. Exit codes: 0 done; 2 anything went wrong: an input that as a whole can't be
used, a bad argument, or an unexpected failure. Every error is one line on stderr, in Chinese and
English, without a traceback (HOTLINE_DEBUG=1 adds it, and library warnings, for a developer).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from analytics.errors import HotlineError, ValidationError
from analytics.store import db

if TYPE_CHECKING:
    import duckdb

EXIT_OK = 0
EXIT_FAILED = 1  # no longer returned: every failure is EXIT_UNUSABLE with a one-line reason
EXIT_UNUSABLE = 2
DEBUG_ENV = "HOTLINE_DEBUG"

DESCRIPTION = """\
兰山区 12345 热线小区治理分析 — 批处理接口
12345 hotline compound analytics — batch interface

示例 / examples:
  python -m analytics init
  python -m analytics demo --seed 0
  python -m analytics compounds import 小区名册.xlsx
  python -m analytics tickets ingest 工单2023.csv 工单2024.xlsx --user 张三
  python -m analytics tickets ingest export.csv --mapping map.json
  python -m analytics tickets export --format parquet --out tickets.parquet
  python -m analytics tickets undo 3
  python -m analytics categories scheme 分类体系.xlsx
  python -m analytics rank --top 65 --window 2023-01:2023-12 --format csv
  python -m analytics taskforces import 专班名单.xlsx --selection-window 2022-07:2022-12
  python -m analytics effects --format json
  echo 'S3cret-pass' | python -m analytics users add wang --role admin
"""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _clean(value: Any) -> Any:
    """NaN/inf -> None recursively, so printed JSON is valid."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def emit(obj: Any) -> None:
    print(json.dumps(_clean(obj), ensure_ascii=False, default=_json_default), flush=True)


def load_mapping(path: str | None) -> dict[str, str] | None:
    """Read MAP.json: {"canonical_field": "source header", ...}."""
    if not path:
        return None
    try:
        mapping = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ValidationError(f"找不到映射文件：{path}", f"mapping file not found: {path}") from None
    except OSError as exc:  # a directory, no permission
        reason = exc.strerror or str(exc)
        raise ValidationError(
            f"无法读取映射文件：{path}（{reason}）", f"cannot read the mapping file: {path} ({reason})"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"映射文件不是有效的 JSON：{path}（{exc}）", f"mapping file is not valid JSON: {path} ({exc})"
        ) from None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise ValidationError(
            '映射文件应为 {"字段": "表头"} 形式的对象。',
            'mapping file must be an object of {"field": "header"} strings.',
        )
    return mapping


def sheet_fields(file: str | Path, sheet: str | None, choosable: bool = True) -> dict[str, Any]:
    """{"sheet", "other_sheets"} of a file just read (null and [] for a CSV). A workbook's other
    sheets were skipped, which the analyst may not expect, so they are also named on stderr."""
    from analytics.ingest.readers.table import sheet_report

    try:
        read, others = sheet_report(file, sheet)
    except HotlineError:  # the file changed since it was read: the import itself stands
        return {"sheet": sheet, "other_sheets": []}
    if others:
        how_zh = "，可用 --sheet 指定" if choosable else "；要导入其他工作表，请把它移到最前面"
        how_en = "; choose one with --sheet" if choosable else "; to load another, move it to the front"
        print(
            f"{file}: 读取了工作表「{read}」，其余工作表未读取：{'、'.join(others)}{how_zh} / "
            f"read sheet '{read}'; other sheets not read: {', '.join(others)}{how_en}",
            file=sys.stderr,
            flush=True,
        )
    return {"sheet": read, "other_sheets": others}


# --- commands --------------------------------------------------------------------------------


def _refresh_derived(con: duckdb.DuckDBPyConnection) -> None:
    """After a write: the stored results the dashboard reads are brought up to date now, so its
    first viewer does not pay for them (a stale one is never shown either way)."""
    from analytics.services import effects

    effects.refresh_stored(con)


def _say_retry(exc: HotlineError) -> None:
    print(f"{exc.one_line()} 稍后自动重试 / retrying shortly", file=sys.stderr, flush=True)


def cmd_init(args: argparse.Namespace) -> int:
    con = db.connect(args.db)
    emit({"db": args.db or db.default_path(), "schema_version": db.schema_version(con)})
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from analytics.synthetic import demo

    con = db.connect(args.db)
    summary = demo.build_demo(con, seed=args.seed)
    _refresh_derived(con)
    emit(summary)
    return EXIT_OK


def cmd_compounds_import(args: argparse.Namespace) -> int:
    from analytics.ingest.registry import compounds

    con = db.connect(args.db)
    # on a shared (DuckLake) store a write that lost the race to another process runs again
    result = db.retrying(
        lambda: compounds.import_compounds(
            con, args.file, mapping=load_mapping(args.mapping), user=args.user, sheet=args.sheet
        ),
        on_retry=_say_retry,
    )
    _refresh_derived(con)
    emit({**result.as_json(), **sheet_fields(args.file, args.sheet)})
    return EXIT_OK


def cmd_tickets_ingest(args: argparse.Namespace) -> int:
    from analytics.ingest import mapping_profiles
    from analytics.ingest import pipeline as ingest

    con = db.connect(args.db)
    mapping = load_mapping(args.mapping)
    if args.profile:
        mapping = {**mapping_profiles.load_profile(con, args.profile), **(mapping or {})}
    status = EXIT_OK
    for file in args.files:
        try:
            result = db.retrying(
                lambda file=file: ingest.ingest_file(
                    con, file, mapping=mapping, user=args.user, sheet=args.sheet
                )
            )
        except HotlineError as exc:
            print(f"{file}: {exc.one_line()}", file=sys.stderr, flush=True)
            status = EXIT_UNUSABLE
            continue
        emit({**result.as_json(), **sheet_fields(file, result.sheet)})
        if result.dropped_personal_columns:  # stdout's JSON keys are fixed; say it beside them
            cols = "、".join(result.dropped_personal_columns)
            print(f"{file}: 未导入个人信息列 / personal-data columns not imported: {cols}", file=sys.stderr)
    _refresh_derived(con)
    return status


def cmd_tickets_export(args: argparse.Namespace) -> int:
    from analytics.reports import exports

    con = db.connect(args.db)
    if args.format == "parquet" and not args.out:
        raise ValidationError("导出 Parquet 需要 --out 文件路径。", "--format parquet needs --out FILE.")
    if args.out:
        count = exports.export_tickets(con, args.out, fmt=args.format)
        print(json.dumps({"out": args.out, "rows": count}, ensure_ascii=False), file=sys.stderr)
        return EXIT_OK
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tickets.csv"
        exports.export_tickets(con, out, fmt="csv")
        with out.open("rb") as handle:
            shutil.copyfileobj(handle, sys.stdout.buffer)
    sys.stdout.flush()
    return EXIT_OK


def cmd_tickets_undo(args: argparse.Namespace) -> int:
    from analytics.ingest import pipeline as ingest

    con = db.connect(args.db)
    undone = ingest.undo_batch(con, args.batch_id, user=args.user)
    _refresh_derived(con)
    emit(undone)
    return EXIT_OK


def cmd_categories_train(args: argparse.Namespace) -> int:
    from analytics.ingest.categories.train import train_model

    con = db.connect(args.db)
    scores = train_model(con, user=args.user)
    emit(scores)
    if scores.get("excluded_classes"):
        left_out = "、".join(f"{d['category']}（{d['tickets']}）" for d in scores["excluded_detail"])
        print(
            f"样本太少、未参与训练的类别（工单数）：{left_out}；详见 excluded_detail / "
            f"categories left out for too few examples (tickets): {left_out}; see excluded_detail",
            file=sys.stderr,
            flush=True,
        )
    return EXIT_OK


def cmd_categories_scheme(args: argparse.Namespace) -> int:
    from analytics.ingest.categories.scheme import load_scheme

    con = db.connect(args.db)
    loaded = load_scheme(con, args.file, user=args.user, sheet=args.sheet)
    emit({**loaded, **sheet_fields(args.file, args.sheet)})
    print(
        f"已载入分类体系 {loaded['rows']} 行；重新运行“categories train”后模型才会使用它 / "
        f"category scheme loaded ({loaded['rows']} rows); the model uses it from the next `categories train`",
        file=sys.stderr,
        flush=True,
    )
    return EXIT_OK


def cmd_categories_predict(args: argparse.Namespace) -> int:
    from analytics.ingest.categories.tickets import predict_missing

    con = db.connect(args.db)
    predicted = predict_missing(con)
    _refresh_derived(con)
    emit({"predicted": predicted})
    return EXIT_OK


def cmd_taskforces_import(args: argparse.Namespace) -> int:
    from analytics import calendar
    from analytics.services.taskforces import file_import

    con = db.connect(args.db)
    window = calendar.parse_window(args.selection_window) if args.selection_window else None
    result = file_import.import_taskforces(
        con,
        args.file,
        selection_window=window,
        user=args.user,
        mapping=load_mapping(args.mapping),
        snapshot_id=args.snapshot,
    )
    _refresh_derived(con)
    line = result if isinstance(result, dict) else result.as_json()
    emit({**line, **sheet_fields(args.file, None, choosable=False)})
    return EXIT_OK


def cmd_rank(args: argparse.Namespace) -> int:
    from analytics import calendar
    from analytics.reports.ranking_export import rank_records
    from analytics.services import ranking

    con = db.connect(args.db)
    window = calendar.parse_window(args.window) if args.window else ranking.default_window(con)
    table = ranking.rank_compounds(con, window=window, top=args.top, seed=args.seed, preset=args.preset)
    if args.save:
        snapshot_id = ranking.save_snapshot(
            con,
            table,
            window[0],
            window[1],
            params=ranking.snapshot_params(table.attrs, args.top),
            user=args.user,
        )
        print(json.dumps({"snapshot_id": snapshot_id}), file=sys.stderr)
    shown = table.head(args.limit) if args.limit else table
    text = rank_records(shown, args.format)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def cmd_effects(args: argparse.Namespace) -> int:
    from analytics.reports.effects_text import summary
    from analytics.services import effects

    con = db.connect(args.db)
    # the headline only (the detail views are the page's), read from derived_results while the data
    # are unchanged: refresh_stored computes it right after every write
    result = effects.stored_effects(con, seed=args.seed, details=False)
    if args.format == "json":
        emit(result.as_json())
    else:
        print(summary(result, "zh"))
        print(summary(result, "en"))
    return EXIT_OK


def cmd_users_add(args: argparse.Namespace) -> int:
    from analytics.services import auth

    con = db.connect(args.db)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise ValidationError("请从标准输入提供密码。", "give the password on standard input.")
    compounds = [c.strip() for c in args.compounds.split(",") if c.strip()] if args.compounds else None
    auth.add_user(con, args.name, password, args.role, compounds=compounds)
    emit({"username": args.name, "role": args.role, "compounds": compounds})
    return EXIT_OK


def cmd_callers_rotate_key(args: argparse.Namespace) -> int:
    from analytics.store import callerkey

    con = db.connect(args.db)
    emit(callerkey.rotate_key(con, user=args.user))
    return EXIT_OK


# --- parser ----------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one bilingual line, like every other error of the CLI
    (its subcommand parsers are made from this class too)."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(
            EXIT_UNUSABLE,
            f"命令行参数有误：{text}（用 {self.prog} --help 查看用法） / invalid arguments: {text} "
            f"(see {self.prog} --help)\n",
        )


def _whole(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m analytics",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--db", help="数据库文件 / store file (默认 default: $HOTLINE_DB 或 or data/hotline.duckdb)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        parent: Any, name: str, help_text: str, func: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    add(sub, "init", "创建或升级数据库 / create or migrate the store", cmd_init)
    p = add(sub, "demo", "生成演示城区 / build the demo district", cmd_demo)
    p.add_argument("--seed", type=_whole(0), default=0, help="随机种子 / random seed (default 0)")

    compounds = sub.add_parser("compounds", help="小区名册 / compound registry").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = add(
        compounds, "import", "导入小区名册 / import the compound registry (CSV/XLSX)", cmd_compounds_import
    )
    p.add_argument("file")
    p.add_argument("--mapping", help="字段映射 JSON / MAP.json {field: header}")
    p.add_argument("--sheet", help="工作表名 / worksheet name (XLSX/XLS)")
    p.add_argument("--user", default="cli")

    tickets = sub.add_parser("tickets", help="工单 / tickets").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = add(tickets, "ingest", "导入工单文件 / ingest ticket exports (CSV/XLSX/XLS)", cmd_tickets_ingest)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--mapping", help="字段映射 JSON / MAP.json {field: header}")
    p.add_argument("--profile", help="已保存的映射方案名 / a saved mapping profile name")
    p.add_argument("--sheet", help="工作表名 / worksheet name (XLSX/XLS)")
    p.add_argument("--user", default="cli", help="操作人 / who loads it (audit log)")
    p = add(tickets, "export", "导出全部工单 / export every stored ticket", cmd_tickets_export)
    p.add_argument("--format", choices=["csv", "parquet"], default="csv")
    p.add_argument("--out", help="输出文件（默认标准输出）/ output file (default stdout, csv only)")
    p = add(tickets, "undo", "撤销一次导入 / undo one ingest batch", cmd_tickets_undo)
    p.add_argument("batch_id", type=int, metavar="BATCH_ID")
    p.add_argument("--user", default="cli")

    categories = sub.add_parser("categories", help="诉求分类模型 / category model").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = add(categories, "train", "训练分类模型并交叉验证 / train and cross-validate", cmd_categories_train)
    p.add_argument("--user", default="cli")
    add(categories, "predict", "为无分类工单预测分类 / predict missing categories", cmd_categories_predict)
    p = add(
        categories,
        "scheme",
        "载入分类体系（一级/二级/三级分类）/ load the category scheme (level 1-3 names, CSV/XLSX)",
        cmd_categories_scheme,
    )
    p.add_argument("file")
    p.add_argument("--sheet", help="工作表名 / worksheet name (XLSX/XLS)")
    p.add_argument("--user", default="cli", help="操作人 / who loads it (audit log)")

    taskforces = sub.add_parser("taskforces", help="专班 / task forces").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = add(taskforces, "import", "导入专班名单 / import task forces (CSV/XLSX)", cmd_taskforces_import)
    p.add_argument("file")
    p.add_argument("--selection-window", help="选定排名窗口 / ranking window YYYY-MM:YYYY-MM")
    p.add_argument(
        "--snapshot", type=_whole(1), help="名单来自的排名快照编号 / the ranking snapshot the list came from"
    )
    p.add_argument("--mapping", help="字段映射 JSON / MAP.json")
    p.add_argument("--user", default="cli")

    p = add(sub, "rank", "重点小区排名 / rank compounds", cmd_rank)
    p.add_argument("--top", type=_whole(1), default=65, help="重点小区数 / how many make the list (65)")
    p.add_argument("--window", help="排名窗口 / ranking window YYYY-MM:YYYY-MM (默认近24个月)")
    p.add_argument(
        "--preset",
        choices=["volume", "excess", "rate"],
        default="volume",
        help="排名口径 / what worst means: volume 预计工单量 (default), excess 超出同类, rate 每百户",
    )
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument("--limit", type=_whole(1), help="只输出前 N 名 / print only the first N rows")
    p.add_argument("--seed", type=_whole(0), default=0)
    p.add_argument("--save", action="store_true", help="保存为排名快照 / save as a snapshot")
    p.add_argument("--user", default="cli")

    p = add(sub, "effects", "整治成效估计 / task-force effect estimates", cmd_effects)
    p.add_argument("--format", choices=["json", "text"], default="text")
    p.add_argument("--seed", type=_whole(0), default=0)

    users = sub.add_parser("users", help="账号 / accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = add(users, "add", "添加账号（密码从标准输入读取）/ add an account (password on stdin)", cmd_users_add)
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["leader", "analyst", "taskforce", "admin"])
    p.add_argument("--compounds", help="专班组长可见的小区编号 / compound ids, comma-separated")

    callers = sub.add_parser("callers", help="来电号码哈希 / caller hashes").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = add(
        callers,
        "rotate-key",
        "轮换来电号码密钥并重算已存哈希 / rotate the caller key, re-keying stored hashes",
        cmd_callers_rotate_key,
    )
    p.add_argument("--user", default="cli", help="操作人 / who rotates it (audit log)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already reported in one line
        return exc.code if isinstance(exc.code, int) else EXIT_UNUSABLE
    try:
        with warnings.catch_warnings():
            if not debug:  # numerical libraries' warnings mean nothing to an analyst
                warnings.simplefilter("ignore")
            return int(args.func(args))
    except HotlineError as exc:
        print(exc.one_line(), file=sys.stderr, flush=True)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of stdout went away (`| head`): quietly, and with nothing left to flush
        if sys.stdout is not None:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # the last resort: a bug or an unforeseen state, still one line
        if debug:
            traceback.print_exc()
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
        print(
            f"意外错误：{detail}（设置 {DEBUG_ENV}=1 可看到详细信息） / unexpected error: {detail} "
            f"(set {DEBUG_ENV}=1 for the details)",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_UNUSABLE


def run() -> None:
    sys.exit(main())
