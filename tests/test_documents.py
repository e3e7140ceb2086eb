"""Stored passages are exact slices of their files; boilerplate stays out; metadata is read, never invented."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import A000, A001, A002, A003, A004, file_text

BOILERPLATE = [
    "There were 369 press releases",
    "press releases posted in the last 24 hours",
    "Mời quý độc giả theo dõi VOV.VN trên",
    "__Photo: VNA |",
    "Bui Thanh Son (right) and US Secretary of State",  # the rest of that caption line
    "date 2023-04-15",
    "date 2023-07-03",
    "— VNS",
    "Source: VNA",
    "(VLLF)",
    "VOV.VN -",
]


def _records(bot):
    records = bot.store.all_passages()
    assert records, "the store holds no passages"
    return records


def test_every_stored_passage_equals_its_file_slice(demo_bot):
    records = _records(demo_bot)
    for r in records:
        meta = r.metadata
        text = Path(meta["path"]).read_text(encoding="utf-8")
        assert text[meta["start"] : meta["end"]] == r.text, r.id
        assert r.text.strip() == r.text and r.text, f"{r.id}: passage has surrounding whitespace or is empty"


def test_every_demo_file_has_passages(demo_bot):
    sources = {r.metadata["source"] for r in _records(demo_bot)}
    assert sources == {A000, A001, A002, A003, A004}


def test_passages_of_a_file_do_not_overlap(demo_bot):
    by_source: dict[str, list[tuple[int, int]]] = {}
    for r in _records(demo_bot):
        by_source.setdefault(r.metadata["source"], []).append((r.metadata["start"], r.metadata["end"]))
    for source, spans in by_source.items():
        spans.sort()
        for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False):
            assert e1 <= s2, f"{source}: overlapping passages"


@pytest.mark.parametrize("snippet", BOILERPLATE)
def test_boilerplate_is_in_no_passage(demo_bot, snippet):
    hits = [r.id for r in _records(demo_bot) if snippet in r.text]
    assert not hits, f"boilerplate {snippet!r} indexed in {hits}"


def test_boilerplate_is_still_in_the_file(demo_dir):
    # Boilerplate is left out of passages, never deleted from the file: offsets stay valid.
    assert "There were 369 press releases" in file_text(demo_dir / A000)
    assert "__Photo: VNA |" in file_text(demo_dir / A003)


def test_article_prose_next_to_boilerplate_is_kept(demo_bot):
    texts = "\n".join(r.text for r in _records(demo_bot))
    assert "General Secretary of the Communist Party of Việt Nam Nguyễn Phú Trọng on Saturday" in texts
    assert "Blinken’s role in promoting the bilateral ties" in texts
    assert "The two sides also compared notes on regional and international issues of shared concern." in texts


@pytest.mark.parametrize(
    "source, field, expected",
    [
        (A000, "date", "2023-04-15"),
        (A000, "outlet", "VNS"),
        (A004, "date", "2023-07-03"),
        (A004, "outlet", "VNS"),
        (A001, "title", "US pledges to step up all-around cooperation with Vietnam"),
        (A001, "outlet", "VOV"),
        (A002, "outlet", "VNA"),
        (A003, "outlet", "VLLF"),
    ],
)
def test_article_metadata_is_read_from_the_text(demo_bot, source, field, expected):
    rows = {row["source"]: row for row in demo_bot.articles()}
    assert rows[source][field] == expected
    for r in _records(demo_bot):
        if r.metadata["source"] == source:
            assert r.metadata.get(field) == expected, r.id


@pytest.mark.parametrize("source", [A001, A002, A003])
def test_file_without_a_dated_line_gets_no_date(demo_bot, source):
    # 001-003 say "April 15" without a year: a date must never be invented.
    rows = {row["source"]: row for row in demo_bot.articles()}
    assert rows[source]["date"] is None
    for r in _records(demo_bot):
        if r.metadata["source"] == source:
            assert "date" not in r.metadata and "date_int" not in r.metadata, r.id


def test_the_title_line_is_searchable_text_but_never_quoted_as_an_answer(demo_bot, make_bot):
    # The headline of 001 is its title (metadata) and also text: its first passage (the outlet
    # prefix "VOV.VN - " after it is boilerplate, so the body starts a passage of its own).
    first = min(
        (r for r in _records(demo_bot) if r.metadata["source"] == A001), key=lambda r: r.metadata["start"]
    )
    assert first.text == first.metadata["title"] == "US pledges to step up all-around cooperation with Vietnam"
    assert file_text(first.metadata["path"])[first.metadata["start"] : first.metadata["end"]] == first.text
    # A place named only in the headline is found, with or without its diacritics.
    bot, _ = make_bot()
    bot.ingest()
    for question in ("How long is the bridge in Da Nang?", "How long is the bridge in Đà Nẵng?"):
        answer = bot.ask(question)
        assert not answer.refused and answer.citations[0].source == "bridge.txt", question
        assert all("Đà Nẵng" not in c.quote for c in answer.citations), "the headline is not an answer"


CRLF = (
    "Port traffic rises in Hải Phòng\r\n\r\n"
    "Container throughput at Hải Phòng port rose 9 percent in May, the port authority said.\r\n"
    "Lạch Huyện terminal handled most of the growth.\r\n"
    "Shipping lines added two weekly services to Busan.\r\n"
)
BOM = "\ufeff" + (
    "Tea growers in Thái Nguyên\n\n"
    "Tea growers in Thái Nguyên earned more from green tea this year, the cooperative said.\n"
    "Prices for the first harvest reached 300,000 đồng per kilogram.\n"
)
MIXED = "Ferry line\r\rThe ferry to Cô Tô island now runs twice a day.\rTickets cost 250,000 đồng.\n"


def test_crlf_bom_and_cr_files_keep_exact_offsets(make_bot):
    bot, data = make_bot(
        {"crlf.txt": CRLF.encode("utf-8"), "bom.txt": BOM.encode("utf-8"), "cr.txt": MIXED.encode("utf-8")}
    )
    report = bot.ingest()
    assert sorted(report.added) == ["bom.txt", "cr.txt", "crlf.txt"], report.skipped
    records = bot.store.all_passages()
    assert {r.metadata["source"] for r in records} == {"bom.txt", "cr.txt", "crlf.txt"}
    for r in records:
        text = file_text(r.metadata["path"])
        assert text[r.metadata["start"] : r.metadata["end"]] == r.text, r.id
        assert "\r" not in r.text


def test_crlf_file_passages_are_retrievable_and_verbatim(make_bot):
    bot, data = make_bot({"crlf.txt": CRLF.encode("utf-8")})
    bot.ingest()
    hits = bot.retrieve("Lạch Huyện terminal growth", k=3)
    assert hits and hits[0].source == "crlf.txt"
    for p in hits:
        assert file_text(p.path)[p.start : p.end] == p.text


def test_bom_is_not_part_of_the_title(make_bot):
    bot, _ = make_bot({"bom.txt": BOM.encode("utf-8")})
    bot.ingest()
    (row,) = bot.articles()
    assert row["title"] == "Tea growers in Thái Nguyên"


def test_folder_scan_reads_only_regular_article_files_inside(tmp_path):
    import os

    from rag.documents import ArticleError, read_text, scan_articles

    data = tmp_path / "articles"
    (data / "b").mkdir(parents=True)
    (data / "a.txt").write_text("one\n", encoding="utf-8")
    (data / "b" / "c.md").write_text("two\n", encoding="utf-8")
    (data / ".hidden.txt").write_text("hidden\n", encoding="utf-8")
    (data / "notes.pdf").write_bytes(b"%PDF")
    os.mkfifo(data / "pipe.txt")  # reading it would block the whole ingest
    (data / "out.txt").symlink_to(tmp_path / "elsewhere.txt")
    (tmp_path / "elsewhere.txt").write_text("outside\n", encoding="utf-8")
    scan = scan_articles(data)
    assert scan.files == [data / "a.txt", data / "b" / "c.md"]
    reasons = dict(scan.skipped)
    assert set(reasons) == {"pipe.txt", "out.txt"}
    assert "not a regular file" in reasons["pipe.txt"]
    assert "outside" in reasons["out.txt"]
    assert scan.escaped == ["out.txt"]
    with pytest.raises(ArticleError, match="cannot be read"):
        read_text(data / "b")  # a read error is one line naming the file, not a traceback


def test_an_article_on_one_line_is_not_taken_for_a_caption_or_trailer(tmp_path):
    """A file written on a single line (a scraped page) that credits a photo or says "Follow us on"
    somewhere is an article, split into passages of the usual size, not one boilerplate line."""
    from rag.documents import read_article, split_passages

    sentence = "The delegation visited the port of Hải Phòng and met local officials on Monday."
    body = " ".join([sentence] * 300) + " Photo: VNA. Follow us on Facebook for more. " + " ".join([sentence] * 300)
    path = tmp_path / "one-line.txt"
    path.write_text(body, encoding="utf-8")
    nodes = split_passages(read_article(path, path.name))
    assert sum(len(n.get_content()) for n in nodes) > 0.95 * len(body)
    assert max(len(n.get_content()) for n in nodes) < 2000
    # A real caption line is still left out.
    path.write_text(sentence + "\n\nUS Secretary of State Antony Blinken in Hà Nội. Photo: VNA\n\n" + sentence, encoding="utf-8")
    assert all("Photo: VNA" not in n.get_content() for n in split_passages(read_article(path, path.name)))
