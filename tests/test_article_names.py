"""Issue 13, item 3: articles are named as a reader would name them (rag.article_names)."""

from __future__ import annotations

import pytest
from conftest import A000, A001, A002, A003, ARTICLES

from rag import RagError
from rag.article_names import load_outlet_names, name_article, outlet_name, readable_date, shorten
from rag.config import Settings
from rag.documents import read_article


def _name(source: str):
    a = read_article(ARTICLES / source, source)
    return name_article(source, a.title, a.date, a.outlet, str(ARTICLES / source))


def test_a_titled_article_is_named_by_its_title():
    n = _name(A001)
    assert n.titled and n.label == "US pledges to step up all-around cooperation with Vietnam"
    assert n.byline == "Voice of Vietnam"


def test_an_untitled_article_is_named_by_its_headline_sentence_shortened():
    n = _name(A000)  # starts with a date marker, a counter line and a dateline: all left out
    assert not n.titled
    assert n.label.startswith("General Secretary of the Communist Party of Việt Nam") and n.label.endswith(
        "…"
    )
    assert len(n.label) <= 90
    assert n.byline == "Viet Nam News · 15 April 2023"


@pytest.mark.parametrize(
    ("source", "outlet"),
    [
        (A000, "Viet Nam News"),
        (A001, "Voice of Vietnam"),
        (A002, "Vietnam News Agency"),
        (A003, "Vietnam Law & Legal Forum"),
    ],
)
def test_outlets_are_named_not_abbreviated(source, outlet):
    assert _name(source).outlet == outlet


def test_unknown_outlets_show_as_written_and_the_table_extends(tmp_path):
    assert outlet_name("Quokka Times") == "Quokka Times" and outlet_name(None) is None
    table = tmp_path / "outlets.txt"
    table.write_text("# code = name\nQT = Quokka Times\nVNA\tVNA English service\n\n", encoding="utf-8")
    names = load_outlet_names(table)
    assert outlet_name("QT", names) == "Quokka Times"
    assert outlet_name("VNA", names) == "VNA English service"
    assert outlet_name("VNS", names) == "Viet Nam News"  # the built-in rows stay


def test_the_outlet_table_comes_from_rag_outlet_names(tmp_path):
    table = tmp_path / "outlets.txt"
    table.write_text("QT = Quokka Times\n", encoding="utf-8")
    assert Settings.from_env({"RAG_OUTLET_NAMES": str(table)}).outlet_names == table
    with pytest.raises(RagError, match="RAG_OUTLET_NAMES"):
        Settings.from_env({"RAG_OUTLET_NAMES": str(tmp_path / "missing.txt")})


def test_dates_read_as_dates_and_headlines_cut_at_words():
    assert readable_date("2023-07-03") == "3 July 2023" and readable_date(None) is None
    assert readable_date("2023-04-15", short=True) == "15 Apr 2023"
    assert shorten("A short headline.") == "A short headline"
    cut = shorten("word " * 40, 30)
    assert cut.endswith("…") and len(cut) <= 30 and "wor…" not in cut


def test_a_file_without_metadata_is_named_by_its_first_sentence(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("The harbour reopened on Monday. Boats came back.\n", encoding="utf-8")
    n = name_article("x.txt", path=str(path))
    assert n.label == "The harbour reopened on Monday" and n.byline == ""
    assert name_article("gone.txt", path=str(tmp_path / "gone.txt")).label == "gone.txt"
