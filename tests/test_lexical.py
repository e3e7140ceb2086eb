"""The lexical index: kept beside the store, brought up to date file by file, and its copy detection."""

from __future__ import annotations

import json

import pytest
from conftest import SMALL_ARTICLES, file_text

import rag.lexical
from rag import Assistant
from rag.lexical import LexicalIndex, containment, index_file, shingle_hashes, shingles
from rag.store import Record, Store


@pytest.fixture
def ingested(make_bot):
    bot, data = make_bot()
    bot.ingest()
    return bot, data


def test_ingest_leaves_the_index_ready_for_the_next_start(make_bot, monkeypatch):
    bot, _ = make_bot()
    bot.ingest()
    assert index_file(bot.settings.lexical_path).is_file()
    monkeypatch.setattr(Store, "all_passages", lambda self: pytest.fail("read the whole store"))
    monkeypatch.setattr(Store, "passages_of", lambda self, sources: pytest.fail(f"read {sources}"))
    monkeypatch.setattr(rag.lexical, "terms", lambda text: pytest.fail("tokenised a passage again"))
    monkeypatch.setattr(rag.lexical, "shingle_hashes", lambda text: pytest.fail("hashed a passage again"))
    assert len(_reopen(bot).lexical) == bot.store.count() > 0


def _reopen(bot) -> Assistant:
    return Assistant(store_dir=bot.settings.store_dir, data_dir=bot.settings.data_dir, collection="articles")


def test_index_is_kept_on_disk_and_loaded_without_rereading_the_store(ingested, monkeypatch):
    bot, _ = ingested
    assert index_file(bot.settings.lexical_path).is_file()
    expected = bot.retrieve("jasmine rice harvest", k=3)

    def no_full_read(self):
        raise AssertionError("the whole store was read again at start-up")

    monkeypatch.setattr(Store, "all_passages", no_full_read)
    again = _reopen(bot)
    assert len(again.lexical) == len(bot.lexical)
    assert [p.id for p in again.retrieve("jasmine rice harvest", k=3)] == [p.id for p in expected]


def test_only_changed_files_are_read_again(ingested, monkeypatch):
    bot, data = ingested
    path = data / "mekong.txt"
    path.write_text(file_text(path).replace("jasmine rice", "glutinous rice"), encoding="utf-8")
    (data / "bridge.txt").unlink()
    asked: list[list[str]] = []
    real = Store.passages_of
    monkeypatch.setattr(Store, "passages_of", lambda self, sources: asked.append(sources) or real(self, sources))
    bot.ingest()  # brings the kept index up to date as it ends
    assert asked == [["mekong.txt"]]  # the deleted file is dropped without a read
    assert bot.lexical.search("glutinous", 5)

    again = _reopen(bot)
    hits = again.lexical.search("glutinous", 5)
    assert asked == [["mekong.txt"]], "a new process read the store again"
    assert hits and again.lexical.records[again.lexical.position[hits[0][0]]].metadata["source"] == "mekong.txt"
    assert not again.lexical.search("jasmine", 5)
    assert all(r.metadata["source"] != "bridge.txt" for r in again.lexical.records)
    assert sorted(r.id for r in again.lexical.records) == sorted(r.id for r in again.store.all_passages())


def test_torn_index_file_is_rebuilt(ingested):
    bot, _ = ingested
    index_file(bot.settings.lexical_path).write_bytes(b"\x80\x05 not a pickle")
    again = _reopen(bot)
    assert len(again.lexical) == again.store.count() > 0
    assert index_file(again.settings.lexical_path).stat().st_size > 100  # written again, whole


def test_index_file_holds_no_pickle_and_loads_without_one(ingested):
    import numpy as np

    bot, _ = ingested
    path = index_file(bot.settings.lexical_path)
    assert path.suffix == ".npz" and path != bot.settings.sentence_vectors_path
    with np.load(path, allow_pickle=False) as data:  # raises on any pickled (object) array
        assert all(data[name].dtype != object for name in data.files)
    assert not bot.settings.lexical_path.exists()  # no pickle kept beside it


def test_kept_sentence_splits_are_used_and_match_punkt(ingested, monkeypatch):
    import rag.documents as documents

    bot, _ = ingested
    records = bot.lexical.records
    expected = {r.id: documents._punkt_spans(r.text) for r in records}
    monkeypatch.setattr(documents, "_KNOWN_SPANS", {})
    documents._sentence_spans.cache_clear()
    again = _reopen(bot).lexical  # loads the kept splits
    monkeypatch.setattr(documents, "_punkt_spans", lambda text: pytest.fail("split a stored passage again"))
    for r in again.records:
        start = int(r.metadata["start"])
        assert documents.sentence_spans(r.text, start) == tuple((s + start, e + start) for s, e in expected[r.id])
    documents._sentence_spans.cache_clear()


def _index_arrays(path) -> dict:
    """The kept index file's arrays, to alter in a test and write back with `np.savez`."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _json(arrays: dict, key: str):
    return json.loads(arrays[key].tobytes())


def _set_json(arrays: dict, key: str, value) -> None:
    import numpy as np

    arrays[key] = np.frombuffer(json.dumps(value).encode(), dtype=np.uint8)


def test_index_with_sentence_spans_outside_their_passage_is_rebuilt(ingested, monkeypatch):
    import numpy as np

    bot, _ = ingested
    path = index_file(bot.settings.lexical_path)
    arrays = _index_arrays(path)
    arrays["spans"] = arrays["spans"].copy()
    arrays["spans"][1] = 10**6  # the first passage's first sentence ends far past its text
    np.savez(path, **arrays)
    assert rag.lexical._read(path) is None
    asked = []
    real = Store.all_passages
    monkeypatch.setattr(Store, "all_passages", lambda self: asked.append(1) or real(self))
    again = _reopen(bot)
    assert len(again.lexical) == again.store.count() and asked == [1]
    assert rag.lexical._read(path) is not None  # written again, sound


def test_index_that_disagrees_with_the_manifest_is_read_again(ingested, monkeypatch):
    import numpy as np

    bot, _ = ingested
    path = index_file(bot.settings.lexical_path)
    arrays = _index_arrays(path)
    # Drop one passage of mekong.txt, keeping the file self-consistent: its fingerprint still
    # matches, but its passage count no longer does.
    records = _json(arrays, "records")
    drop = next(i for i, (_, _, meta) in enumerate(records) if meta["source"] == "mekong.txt")
    header = _json(arrays, "header")
    header["count"] -= 1
    del records[drop]
    first, last = arrays["span_offsets"][drop] // 2, arrays["span_offsets"][drop + 1] // 2  # its sentences
    sizes = arrays["sentence_sizes"]
    a, b = int(sizes[:first].sum()), int(sizes[:last].sum())
    arrays["sentence_hashes"] = np.concatenate([arrays["sentence_hashes"][:a], arrays["sentence_hashes"][b:]])
    arrays["sentence_sizes"] = np.concatenate([sizes[:first], sizes[last:]])
    for flat, offsets in (("token_ids", "token_offsets"), ("hashes", "hash_offsets"), ("spans", "span_offsets")):
        o = arrays[offsets]
        arrays[flat] = np.concatenate([arrays[flat][: o[drop]], arrays[flat][o[drop + 1] :]])
        arrays[offsets] = np.concatenate([o[:drop], o[drop + 1 :] - (o[drop + 1] - o[drop])])
    _set_json(arrays, "records", records)
    _set_json(arrays, "header", header)
    np.savez(path, **arrays)
    asked: list[list[str]] = []
    real = Store.passages_of
    monkeypatch.setattr(Store, "passages_of", lambda self, sources: asked.append(sources) or real(self, sources))
    again = _reopen(bot)
    assert len(again.lexical) == again.store.count()
    assert asked == [["mekong.txt"]]
    assert sorted(r.id for r in again.lexical.records) == sorted(r.id for r in again.store.all_passages())


def test_index_naming_another_path_than_the_manifest_is_read_again(ingested):
    import numpy as np

    bot, _ = ingested
    path = index_file(bot.settings.lexical_path)
    arrays = _index_arrays(path)
    records = _json(arrays, "records")
    for _, _, meta in records:
        if meta["source"] == "bridge.txt":
            meta["path"] = "/etc/passwd"  # what a citation would open
    _set_json(arrays, "records", records)
    np.savez(path, **arrays)
    again = _reopen(bot)
    stored = {r.id: r.metadata["path"] for r in again.store.all_passages()}
    assert {r.id: r.metadata["path"] for r in again.lexical.records} == stored
    assert "/etc/passwd" not in stored.values()


def test_index_of_another_version_is_rebuilt(ingested):
    import numpy as np

    bot, _ = ingested
    path = index_file(bot.settings.lexical_path)
    arrays = _index_arrays(path)
    header = _json(arrays, "header")
    header["version"] = 999
    _set_json(arrays, "header", header)
    np.savez(path, **arrays)
    again = _reopen(bot)
    assert len(again.lexical) == again.store.count()
    with np.load(path, allow_pickle=False) as data:
        assert json.loads(data["header"].tobytes())["version"] != 999


def test_hashed_copy_detection_agrees_with_shingle_sets():
    texts = list(SMALL_ARTICLES.values())
    texts += [texts[0][: len(texts[0]) // 2], texts[1] + " An extra closing sentence for the copy."]
    records = [_record(i, t) for i, t in enumerate(texts)]
    index = LexicalIndex(records)
    for text in texts:
        want = {
            i for i, other in enumerate(texts)
            if max(containment(shingles(text), shingles(other)), containment(shingles(other), shingles(text))) >= 0.5
        }
        got = {int(r.id) for r, _ in index.copies(text)}
        assert got == want
    assert len(shingle_hashes(texts[0])) == len(shingles(texts[0]))


def _record(i: int, text: str):
    from rag.store import Record

    return Record(str(i), text, {"source": f"f{i}.txt", "start": 0})


@pytest.mark.parametrize("garble", ["count", "order", "kind"])
def test_index_with_garbled_sentence_hashes_is_rebuilt(ingested, garble):
    import numpy as np

    bot, _ = ingested
    path = index_file(bot.settings.lexical_path)
    arrays = _index_arrays(path)
    if garble == "count":  # the counts no longer add up to the hashes kept
        arrays["sentence_sizes"] = arrays["sentence_sizes"].copy()
        arrays["sentence_sizes"][0] += 1
    elif garble == "order":  # the first sentence with two hashes or more has them out of order
        sizes = arrays["sentence_sizes"]
        at = int(sizes[: int(np.argmax(sizes >= 2))].sum())
        arrays["sentence_hashes"] = arrays["sentence_hashes"].copy()
        arrays["sentence_hashes"][[at, at + 1]] = arrays["sentence_hashes"][[at + 1, at]]
    else:
        arrays["sentence_sizes"] = arrays["sentence_sizes"].astype(np.int64)
    np.savez(path, **arrays)
    assert rag.lexical._read(path) is None
    again = _reopen(bot)
    assert len(again.lexical) == again.store.count()
    assert rag.lexical._read(path) is not None  # written again, sound


def test_the_words_written_in_lower_case_are_the_common_ones():
    texts = [
        "In New York, the delegation talked with US Special Presidential Envoy for Climate John Kerry.",
        "Both sides discussed climate change and trade.",
    ]
    records = [Record(f"a.txt:{i}", t, {"source": "a.txt", "start": i * 100, "end": i * 100 + len(t)}) for i, t in enumerate(texts)]
    common = LexicalIndex(records).lower_words
    assert {"climate", "trade", "the"} <= common  # "Envoy for Climate John Kerry" is a title's field
    assert not {"kerry", "john", "york", "envoy"} & common  # never written in lower case here
