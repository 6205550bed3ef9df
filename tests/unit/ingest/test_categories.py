"""Category taxonomy mapping and the category model on synthetic tickets in a real store."""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest

from analytics.errors import NotFound, ValidationError
from analytics.ingest.categories.features import CharNgramHasher, ColumnCodes
from analytics.ingest.categories.store import has_model, latest_model_info
from analytics.ingest.categories.taxonomy import CATEGORY_NAMES, map_category_series, set_category_mapping
from analytics.ingest.categories.tickets import predict_missing, review_queue, set_ticket_category
from analytics.ingest.categories.train import train_model
from analytics.store.db import query_df, query_one

SEED = 7
# what callers say about each kind of problem; the generator mixes these with filler
PHRASES = {
    "供暖": ["暖气不热", "家里温度只有十五度", "供热公司不来修", "暖气片冰凉", "集中供热不达标"],
    "电梯": ["电梯经常故障", "电梯困人", "电梯停运一周", "电梯年检过期", "电梯异响"],
    "噪音扰民": ["楼下烧烤摊噪音", "广场舞音响太吵", "半夜装修噪音", "工地夜间施工扰民", "酒吧噪声"],
    "物业服务": ["物业不作为", "物业费乱收", "保安不在岗", "物业公司不修门禁", "物业服务差"],
    "停车": ["小区车位不够", "乱停车堵路", "停车收费太贵", "消防通道被占停车", "地下车库车位乱"],
}
FILLER = [
    "您好",
    "我是小区居民",
    "已经反映多次",
    "希望尽快解决",
    "请相关部门处理",
    "问题持续很久",
    "严重影响生活",
    "谢谢",
]


def _text(rng: random.Random, category: str) -> tuple[str, str]:
    phrases = PHRASES[category]
    title = rng.choice(phrases)
    body = [rng.choice(FILLER), f"{rng.randrange(1, 30)}号楼", rng.choice(phrases), rng.choice(FILLER)]
    rng.shuffle(body)
    return title, "，".join(body) + rng.choice(FILLER) * rng.randrange(0, 2)


def _insert(con, rows: list[tuple], batch_id: int = 1) -> None:
    frame = pd.DataFrame(rows, columns=["ticket_id", "title", "content", "category", "category_source"])
    frame["batch_id"] = batch_id
    con.register("rows", frame)
    con.execute(
        "INSERT INTO tickets (ticket_id, created_at, title, content, category, category_raw, category_source, batch_id) "
        "SELECT ticket_id, TIMESTAMP '2024-01-01', title, content, category, category, category_source, batch_id FROM rows"
    )
    con.unregister("rows")


def _labelled(con, n: int, rng: random.Random) -> None:
    rows = []
    for i in range(n):
        category = list(PHRASES)[i % len(PHRASES)]
        title, content = _text(rng, category)
        rows.append((f"L{i:05d}", title, content, category, "given"))
    _insert(con, rows)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # district names and their synonyms
        ("物业服务", "物业服务"),
        ("物业管理", "物业服务"),
        ("暖气", "供暖"),
        ("集中供热", "供暖"),
        ("HEAT/HOT WATER", "供暖"),
        ("Noise - Residential", "噪音扰民"),
        ("noise - street/sidewalk", "噪音扰民"),
        ("Illegal Parking", "停车"),
        ("电梯故障维修", "电梯"),  # keyword inside a longer label
        # labels of another scheme stay as they are (and stay trainable)
        ("城乡建设", "城乡建设"),
        ("卫生计生", "卫生计生"),
        ("环境保护", "环境保护"),
        ("交通运输", "交通运输"),
        ("  ", None),
        (None, None),
    ],
)
def test_map_category_series(store, raw, expected):
    assert map_category_series(store, pd.Series([raw])).iloc[0] == expected


def test_category_map_table_comes_first_and_remaps_tickets(store):
    _insert(store, [("T1", "t", "c", "城乡建设", "given"), ("T2", "t", "c", "城乡建设", "predicted")])
    assert set_category_mapping(store, "城乡建设", "违章搭建", user="analyst") == 1
    mapped = map_category_series(store, pd.Series(["城乡建设", "暖气", "城乡建设"], index=[5, 6, 7]))
    assert mapped.to_dict() == {5: "违章搭建", 6: "供暖", 7: "违章搭建"}
    assert query_one(store, "SELECT category FROM tickets WHERE ticket_id = 'T1'") == "违章搭建"
    assert query_one(store, "SELECT category FROM tickets WHERE ticket_id = 'T2'") == "城乡建设"
    with pytest.raises(ValidationError):
        set_category_mapping(store, "", "供暖")


def test_taxonomy_has_the_thirteen_district_categories():
    assert len(CATEGORY_NAMES) == 13 and CATEGORY_NAMES[-1] == "其他"


@pytest.mark.parametrize(
    ("n", "categories"),
    [
        (30, 5),  # too few tickets
        (80, 1),  # one category only
    ],
)
def test_training_needs_enough_labelled_tickets(store, n, categories):
    rng = random.Random(SEED)
    rows = [
        (f"L{i}", *_text(rng, list(PHRASES)[i % categories]), list(PHRASES)[i % categories], "given")
        for i in range(n)
    ]
    _insert(store, rows)
    with pytest.raises(ValidationError) as err:
        train_model(store)
    assert "至少需要" in err.value.zh
    assert not has_model(store)


def test_hasher_counts_ngrams_per_text():
    matrix = CharNgramHasher((1, 2), n_bits=16).transform(["阳光阳光", "", "阳"])
    # 阳光阳光: 4 unigrams + 3 bigrams; the empty text has none
    assert matrix.sum(axis=1).A1.tolist() == [7.0, 0.0, 1.0]
    assert matrix[0].max() == 2.0  # 阳, 光 and 阳光 occur twice


WHITESPACE = " \t\n\x0b\x0c\r\xa0\u3000"  # what the hasher drops


def _reference_counts(texts: list[tuple], ngram_range, n_bits, max_chars) -> list[dict[int, int]]:
    """Hashed n-gram counts per text, the slow obvious way: whitespace dropped, the columns cut
    together at max_chars (a break between them counts as one character), no n-gram across
    columns."""
    lo, hi = ngram_range
    out = []
    for values in texts:
        counts: dict[int, int] = {}
        used = 0
        for value in values:
            chars = [ord(ch) for ch in (value if isinstance(value, str) else "") if ch not in WHITESPACE]
            chars = chars[: max(max_chars - used, 0)]
            used += len(chars) + 1
            for k in range(lo, hi + 1):
                for i in range(len(chars) - k + 1):
                    key = 0
                    for code in chars[i : i + k]:
                        key = ((key << 21) | code) & (2**64 - 1)
                    col = ((key * 0x9E3779B97F4A7C15) & (2**64 - 1)) >> (64 - n_bits)
                    counts[col] = counts.get(col, 0) + 1
        out.append(counts)
    return out


@pytest.mark.parametrize(("ngram_range", "max_chars"), [((1, 2), 400), ((1, 3), 12), ((2, 2), 5)])
def test_hasher_matches_the_plain_definition(ngram_range, max_chars):
    """Texts with whitespace of every kind, control characters (a NUL inside a text once broke
    the row alignment), missing values and texts longer than the cut give the counts of the
    plain definition, from Python strings and from Arrow arrays alike."""
    import pyarrow as pa

    rng = random.Random(SEED)
    alphabet = list("阳光花园暖气不热电梯abc123") + [" ", "\t", "\n", "\u3000", "\xa0", "\x00", "\x01"]
    texts = [
        tuple(
            None if rng.random() < 0.05 else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
            for _ in range(2)
        )
        for _ in range(300)
    ]
    hasher = CharNgramHasher(ngram_range, n_bits=12, max_chars=max_chars)
    frame = pd.DataFrame(texts, columns=["title", "content"])
    from_python = hasher.transform(frame)
    from_arrow = hasher.hash_codes(
        [ColumnCodes.of(pa.array(frame[c].tolist(), pa.string())) for c in ("title", "content")]
    )
    assert (from_python != from_arrow).nnz == 0
    reference = _reference_counts(texts, ngram_range, 12, max_chars)
    for row, expected in enumerate(reference):
        got = from_python[row]
        assert dict(zip(got.indices.tolist(), got.data.astype(int).tolist(), strict=True)) == expected


def test_hasher_fills_the_32_bit_key_space():
    """1,024 texts with 2^22 columns use (row, column) keys up to 2^32 - 1: the last row's
    n-grams must still land in the last row."""
    import pyarrow as pa

    texts = [f"阳光{i}" for i in range(1024)]
    matrix = CharNgramHasher((1, 2), n_bits=22).hash_codes([ColumnCodes.of(pa.array(texts))])
    assert matrix.shape == (1024, 1 << 22)
    assert matrix.sum(axis=1).A1.tolist() == [2 * len(t) - 1 for t in texts]


def test_train_predict_review_and_correct(store):
    rng = random.Random(SEED)
    _labelled(store, 100, rng)
    scores = train_model(store, user="analyst")
    json.dumps(scores)  # plain JSON for the batch interface
    assert scores["n_train"] == 100 and scores["folds"] >= 2
    assert scores["macro_f1"] >= 0.9 and scores["shuffled_macro_f1"] < 0.5
    assert scores["macro_f1_ci95"][0] <= scores["macro_f1"] <= scores["macro_f1_ci95"][1]
    # every ticket was created at the same time: no time order to evaluate by
    assert "random folds" in scores["grouping"] and "later_macro_f1" not in scores
    assert set(scores["per_class"]) == set(PHRASES)
    # no category scheme is loaded: the model's priors are the district taxonomy's alone
    assert scores["category_scheme"] == {"used": False, "rows": 0, "loaded_at": None, "labels_named": []}
    assert has_model(store) and latest_model_info(store)["n_train"] == 100

    unlabelled = [(f"U{i}", *_text(rng, c), None, None) for i, c in enumerate(list(PHRASES) * 4)]
    _insert(store, unlabelled[:10], batch_id=2)
    _insert(store, unlabelled[10:], batch_id=3)
    assert predict_missing(store, batch_id=2) == 10
    assert predict_missing(store) == 10
    assert predict_missing(store) == 0  # nothing left without a category
    got = query_df(
        store,
        "SELECT ticket_id, category, category_source, category_confidence FROM tickets WHERE ticket_id LIKE 'U%' ORDER BY ticket_id",
    )
    truth = {f"U{i}": c for i, c in enumerate(list(PHRASES) * 4)}
    accuracy = (got["category"] == got["ticket_id"].map(truth)).mean()
    assert accuracy >= 0.9
    assert set(got["category_source"]) == {"predicted"}
    assert got["category_confidence"].between(0, 1).all()

    queue = review_queue(store, threshold=1.01)
    assert len(queue) == 20 and queue["category_confidence"].is_monotonic_increasing
    set_ticket_category(store, queue.iloc[0]["ticket_id"], "其他", user="analyst")
    assert (
        query_one(
            store, "SELECT category_source FROM tickets WHERE ticket_id = ?", [queue.iloc[0]["ticket_id"]]
        )
        == "given"
    )
    assert len(review_queue(store, threshold=1.01)) == 19
    with pytest.raises(NotFound):
        set_ticket_category(store, "NO-SUCH", "其他")


def test_predict_without_a_model_says_what_to_do(store):
    with pytest.raises(NotFound) as err:
        predict_missing(store)
    assert "categories train" in err.value.zh


def test_repeated_texts_get_one_prediction_each(store):
    """Texts that differ only in whitespace are predicted once and get the same category and
    confidence; the direct feature path gives scikit-learn's own probabilities."""
    from analytics.ingest.categories.model import _text_frame
    from analytics.ingest.categories.predict import predict_frame
    from analytics.ingest.categories.store import load_model

    rng = random.Random(SEED)
    _labelled(store, 100, rng)
    train_model(store)
    title, content = _text(rng, "电梯")
    variants = [(title, content), (f" {title}", content.replace("，", " ，")), (title, f"{content}\u3000")]
    rows = [(f"R{i}", t, c, None, None) for i, (t, c) in enumerate(variants * 3)]
    rows.append(("R-empty", None, None, None, None))
    _insert(store, rows, batch_id=2)
    assert predict_missing(store, batch_id=2) == len(rows)
    got = query_df(
        store,
        "SELECT category, category_confidence FROM tickets WHERE ticket_id LIKE 'R%' AND title IS NOT NULL",
    )
    assert got.drop_duplicates().shape[0] == 1 and got["category"].iloc[0] == "电梯"
    model = load_model(store)
    texts = [t for t, _ in variants], [c for _, c in variants]
    ours = predict_frame(model, *texts)
    theirs = model.predict_proba(_text_frame(*texts)).max(axis=1).round(4)
    assert ours["confidence"].tolist() == theirs.tolist()


@pytest.mark.parametrize("ensemble", [False, True])
def test_compact_scorer_gives_scikit_learns_probabilities(ensemble):
    """The one-product scorer (non-zero coefficient rows only, calibrators in numpy) must agree
    with CalibratedClassifierCV.predict_proba, for our model and for an older ensemble model."""
    from analytics.ingest.categories.features import _feature_blocks, _feature_steps
    from analytics.ingest.categories.model import _text_frame, build_model
    from analytics.ingest.categories.scorer import _scorer

    rng = random.Random(SEED)
    train = [(c, *_text(rng, c)) for c in list(PHRASES) * 30]
    model = build_model()
    model.steps[-1][1].set_params(ensemble=ensemble)
    model.fit(_text_frame([t for _, t, _ in train], [b for _, _, b in train]), [c for c, _, _ in train])
    test = [_text(rng, c) for c in list(PHRASES) * 40] + [("", ""), ("完全无关的文字", "")]
    frame = _text_frame([t for t, _ in test], [b for _, b in test])
    blocks = _feature_blocks(model, frame)
    scorer = _scorer(model, _feature_steps(model))
    assert scorer is not None and len(scorer.members) == (3 if ensemble else 1)
    assert scorer.coef.shape[0] < sum(b.matrix.shape[1] for b in blocks) / 10  # compact: used rows only
    ours, theirs = scorer.predict_proba(blocks), model.predict_proba(frame)
    assert abs(ours - theirs).max() < 1e-6
    assert (ours.argmax(axis=1) == theirs.argmax(axis=1)).all()


def test_upload_without_categories_is_predicted_before_it_is_stored(store, tmp_path):
    """An upload without a category column gets predicted categories in the same batch; a
    re-upload of a ticket that already has a given category keeps it; a re-upload after the
    model was retrained changes nothing."""
    from analytics.ingest import pipeline as ingest

    rng = random.Random(SEED)
    _labelled(store, 100, rng)
    train_model(store)
    truth = list(PHRASES) * 4
    rows = [(f"N{i:03d}", "2024-03-01 08:00", *_text(rng, c)) for i, c in enumerate(truth)]
    rows.append(("L00000", "2024-03-02 09:00", "电梯又坏了", "电梯困人"))  # exists, given 供暖
    path = tmp_path / "no_categories.csv"
    pd.DataFrame(rows, columns=["工单编号", "受理时间", "工单标题", "诉求内容"]).to_csv(path, index=False)

    first = ingest.ingest_file(store, path)
    assert (first.inserted, first.updated) == (len(truth), 1)
    got = query_df(
        store,
        "SELECT ticket_id, category, category_source, category_confidence, batch_id FROM tickets "
        "WHERE ticket_id LIKE 'N%' ORDER BY ticket_id",
    )
    assert set(got["category_source"]) == {"predicted"} and set(got["batch_id"]) == {first.batch_id}
    assert (got["category"] == truth).mean() >= 0.9
    assert got["category_confidence"].between(0, 1).all()
    kept = query_df(store, "SELECT category, category_source FROM tickets WHERE ticket_id = 'L00000'")
    assert kept.iloc[0].tolist() == ["供暖", "given"]

    assert _predicted_in_audit(store) == len(truth)  # not the ticket that keeps its category

    _labelled(store, 0, rng)
    train_model(store)  # a new model may predict other confidences: the re-upload is still a duplicate
    again = ingest.ingest_file(store, path)
    assert (again.inserted, again.updated, again.duplicates) == (0, 0, len(rows))
    assert _predicted_in_audit(store) == 0  # every ticket had its category already


def _predicted_in_audit(con) -> int:
    detail = query_one(
        con,
        "SELECT detail FROM audit_log WHERE action = 'tickets.ingest' ORDER BY logged_at DESC, rowid DESC LIMIT 1",
    )
    return json.loads(detail)["predicted"]


def test_upload_predicts_a_changed_ticket_stored_without_category(store, tmp_path):
    """A ticket stored before any model existed has no category; when an upload changes it, it
    gets a predicted one."""
    from analytics.ingest import pipeline as ingest

    rng = random.Random(SEED)
    _labelled(store, 100, rng)
    _insert(store, [("OLD1", "旧标题", "旧内容", None, None)], batch_id=2)
    train_model(store)
    title, content = _text(rng, "电梯")
    path = tmp_path / "changed.csv"
    pd.DataFrame(
        [("OLD1", "2024-03-01 08:00", title, content)],
        columns=["工单编号", "受理时间", "工单标题", "诉求内容"],
    ).to_csv(path, index=False)
    result = ingest.ingest_file(store, path)
    assert result.updated == 1
    got = query_df(store, "SELECT category, category_source FROM tickets WHERE ticket_id = 'OLD1'")
    assert got.iloc[0].tolist() == ["电梯", "predicted"]


def test_prediction_per_distinct_title_gives_scikit_learns_answer():
    """The title-only block is computed once per distinct title and shared by the texts that
    carry it; over more texts than one chunk (so the threads and the gathering are used), with
    repeated and missing titles, the categories and confidences are scikit-learn's own."""
    from analytics.ingest.categories.model import _text_frame, build_model
    from analytics.ingest.categories.predict import predict_arrays

    rng = random.Random(SEED)
    train = [(c, *_text(rng, c)) for c in list(PHRASES) * 30]
    model = build_model()
    model.fit(_text_frame([t for _, t, _ in train], [b for _, _, b in train]), [c for c, _, _ in train])
    titles_pool = [_text(rng, c)[0] for c in PHRASES] + [None, ""]
    texts = [(rng.choice(titles_pool), _text(rng, rng.choice(list(PHRASES)))[1]) for _ in range(23_000)]
    titles, contents = [t for t, _ in texts], [c for _, c in texts]
    best, confidence = predict_arrays(model, titles, contents)
    theirs = model.predict_proba(_text_frame(titles, contents))
    top2 = np.sort(theirs, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-6
    assert (best[clear] == theirs.argmax(axis=1)[clear]).all()
    assert abs(confidence - theirs.max(axis=1)).max() <= 5e-5 + 1e-6  # rounded to 4 places


def test_a_model_stored_by_the_earlier_layout_still_predicts(store):
    """Models are pickled with the module path of their classes; one stored before the package
    was laid out by layer names `analytics.categories` and must still load for uploads."""
    import pickle

    rng = random.Random(SEED)
    _labelled(store, 100, rng)
    train_model(store, user="analyst")
    model = pickle.loads(bytes(query_one(store, "SELECT model FROM category_models")))  # noqa: S301
    old = pickle.dumps(model, protocol=0)  # module paths as plain text lines
    for module in {type(step).__module__ for step in _steps(model)} | {"analytics.ingest.categories.model"}:
        old = old.replace(f"c{module}\n".encode(), b"canalytics.categories\n")
    assert b"analytics.ingest" not in old
    with store.cursor() as cur:
        cur.execute("UPDATE category_models SET model = ?", [old])
    _insert(store, [("OLD1", *_text(rng, next(iter(PHRASES))), None, None)], batch_id=2)
    assert predict_missing(store) == 1
    got = query_one(store, "SELECT category FROM tickets WHERE ticket_id = 'OLD1'")
    assert got == next(iter(PHRASES))


def _steps(obj, seen=None):
    """Every object reachable through a fitted pipeline's attributes (for their module paths)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if type(obj).__module__.startswith("analytics."):
        yield obj
    children = obj.__dict__.values() if hasattr(obj, "__dict__") else ()
    if isinstance(obj, list | tuple):
        children = obj
    for child in children:
        if isinstance(child, list | tuple) or hasattr(child, "__dict__"):
            yield from _steps(child, seen)


def _drifting(seed: int, n: int = 150) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """Three labels whose vocabulary drifts: a ticket at time share p uses its label's word
    number floor(10 p), so tickets far apart in time share no words."""
    from analytics.ingest.categories.model import _text_frame

    rng = random.Random(seed)
    labels = np.array(["甲", "乙", "丙"] * (n // 3))
    words = {
        label: ["".join(chr(0x4E00 + 1000 * c + 2 * i + j) for j in range(2)) for i in range(10)]
        for c, label in enumerate(("甲", "乙", "丙"))
    }
    share = np.sort(np.array([rng.random() for _ in range(n)]))
    titles, contents = [], []
    for label, p in zip(labels, share, strict=True):
        word = words[label][int(10 * p)]
        titles.append(word)
        contents.append(f"{rng.choice(FILLER)}，{word}，{rng.choice(FILLER)}{rng.randrange(1000)}")
    times = pd.Timestamp("2020-01-01") + pd.to_timedelta(share * 1000, unit="D")
    return _text_frame(titles, contents), labels, pd.Series(times)


@pytest.mark.parametrize("seed", [100])
def test_time_blocked_folds_expose_topic_drift(seed):
    """When topics drift over time, random folds flatter the model (each ticket is predicted by
    its contemporaries); with ticket times the folds are blocks of time and the forward check
    scores the latest 30%: both report the drop."""
    from analytics.ingest.categories.evaluate import evaluate

    frame, labels, times = _drifting(seed)
    random_folds = evaluate(frame, labels)
    by_time = evaluate(frame, labels, times)
    assert "random folds" in random_folds["grouping"] and "later_macro_f1" not in random_folds
    assert "blocks of ticket time" in by_time["grouping"]
    # seeds 0-9: random folds 1.0, time blocks 0.41-0.65, latest 30% 0.22-0.62
    assert random_folds["macro_f1"] >= 0.9
    assert by_time["macro_f1"] < random_folds["macro_f1"] - 0.25
    assert by_time["later_macro_f1"] < 0.75 and by_time["later_n_test"] == 45
