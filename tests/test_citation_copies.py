"""A citation's "also in" list: the sentence-level 5-gram look-up finds exactly the copies that
splitting every candidate passage into sentences and comparing them (the rule it replaces) finds."""

from __future__ import annotations

import unicodedata

import pytest
from conftest import SMALL_ARTICLES, file_text

from rag import Assistant
from rag.citations import copies_of, same_sentence, sentences_of
from rag.documents import sentence_spans
from rag.models import Location
from rag.retrieve import to_passage


def split_and_compare(sentence, lexical) -> tuple[Location, ...]:
    """The rule as it was before the look-up: split each passage carrying much of the sentence (best
    first) and take, per other file, the first sentence `same_sentence` as the cited one."""
    found: dict[str, Location] = {}
    for record, _ in lexical.copies(sentence.text, threshold=0.3):
        source = record.metadata["source"]
        if source == sentence.passage.source or source in found:
            continue
        start = int(record.metadata["start"])
        for s, e in sentence_spans(record.text, start):
            text = record.text[s - start : e - start]
            if same_sentence(sentence.text, text):
                found[source] = Location(source, s, e, text, record.metadata.get("outlet"))
                break
    return tuple(found.values())


def every_sentence(lexical):
    for record in lexical.records:
        yield from sentences_of(to_passage(record, 0.0), 0)


def assert_same_copies(bot) -> int:
    """Every stored sentence's copies, both ways; returns how many copies were listed in all."""
    paths = {s: m["path"] for s, m in bot.store.file_records().items()}
    listed = 0
    for sentence in every_sentence(bot.lexical):
        want = split_and_compare(sentence, bot.lexical)
        got = copies_of(sentence, bot.lexical)
        assert got == want, (sentence.passage.source, sentence.text)
        for loc in got:
            assert file_text(paths[loc.source])[loc.start : loc.end] == loc.text
        listed += len(got)
    return listed


def test_demo_corpus_copies_are_the_same_as_splitting_and_comparing(demo_bot):
    # 002 and 003 are syndications of one story; 001/002 write names without diacritics, 000/004 with.
    assert assert_same_copies(demo_bot) > 10


def _variants() -> dict[str, str]:
    """A story republished: verbatim under a prefix, without diacritics, re-split into other lines,
    lightly edited (some sentences just above the sameness bar, some below), and cut short."""
    base = SMALL_ARTICLES["bridge.txt"] + (
        "Đà Nẵng's mayor Nguyễn Văn Quảng said the bridge would cut travel time to the airport by half.\n"
        "Traffic police will close two lanes on Saturday.\n"
        "Yes.\n"
        "Residents of Sơn Trà district welcomed the opening, saying the old ferry had been slow and crowded.\n"
    )
    body = base.split("\n\n", 1)[1]
    plain = "".join(c for c in unicodedata.normalize("NFKD", body) if not unicodedata.combining(c))
    edited = body.replace("by half", "by almost half").replace("slow and crowded", "slow, crowded and unsafe")
    return {
        "bridge.txt": base,
        "wire.txt": "VNA - " + body,
        "plain.txt": "Bridge opens\n\n" + plain.replace("đ", "d").replace("Đ", "D"),
        "resplit.txt": body.replace(".\n", ". "),
        "edited.txt": edited,
        "short.txt": body.split("\n")[1] + "\nTraffic police will close two lanes.\n",
        "other.txt": SMALL_ARTICLES["coffee.txt"],
    }


def test_syndicated_variants_get_the_same_copies(make_bot):
    bot, _ = make_bot(_variants())
    bot.ingest()
    assert assert_same_copies(bot) > 20
    reopened = Assistant(store_dir=bot.settings.store_dir, data_dir=bot.settings.data_dir, collection="articles")
    assert assert_same_copies(reopened) > 20  # the sentence hashes as the kept file gives them back


def _near_the_bars() -> dict[str, str]:
    """Copies of one 20-word sentence (16 word 5-grams) edited so that the share of 5-grams they keep
    falls on both sides of the sameness bar (0.6): two words changed d apart keep (11 - d) / 16; and
    short pieces of a longer sentence inside long passages, on both sides of the passage bar (0.3)."""
    base = ("Harbour engineers in Quy Nhon tested floating breakwaters made of recycled basalt fibre "
            "during the monsoon storms of last November")
    w = base.split()
    long = ("Marine scientists from the Nha Trang institute counted seventeen species of reef fish "
            "returning to the restored coral gardens near Hon Mun island this spring")
    filler = " ".join(f"Paragraph {n} describes the ferry timetable, the ticket prices and the weather." for n in range(12))
    out = {"base.txt": f"Breakwater trial\n\n{base}.\n{long}.\n"}
    for d in range(6):
        v = list(w)
        v[8], v[8 + d] = "cement", "granite"  # d = 0: one word changed
        out[f"near{d}.txt"] = f"Breakwater trial, edited\n\nThe port authority published its report.\n{' '.join(v)}.\n"
    for n in (10, 11):  # n of its 25 words: n - 4 of its 21 5-grams, 0.29 (below the passage bar) or 0.33
        piece = " ".join(long.split()[4 : 4 + n])
        out[f"piece{n}.txt"] = f"Reef survey\n\n{filler}\n{piece}.\n{filler}\n"
    return out


def test_copies_near_the_sameness_and_passage_bars(make_bot):
    bot, _ = make_bot(_near_the_bars())
    bot.ingest()
    assert assert_same_copies(bot) >= 3


@pytest.mark.parametrize("rule", ["missing", "extra"])
def test_the_comparison_catches_a_lookup_that_misses_or_adds_a_copy(demo_bot, monkeypatch, rule):
    real = type(demo_bot.lexical).sentence_copies

    def altered(self, text, threshold, same):
        found = real(self, text, threshold, same)
        if rule == "missing":
            return found[1:]
        return found + [(r, 0) for r, _ in self.copies(text, threshold) if r not in [f[0] for f in found]][:1]

    monkeypatch.setattr(type(demo_bot.lexical), "sentence_copies", altered)
    with pytest.raises(AssertionError):
        assert_same_copies(demo_bot)
