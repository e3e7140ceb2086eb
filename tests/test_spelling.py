"""Typo tolerance (rag.spelling): question words the articles never use are read as their nearest word.

Real parts only: the demo corpus ingested once (conftest `demo_bot`), its real lexical index, and
small real `LexicalIndex` objects for the tie-breaking rules.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rag import cli, spelling
from rag.lexical import LexicalIndex
from rag.spelling import correct, distance
from rag.store import Record


def index_of(*texts: str) -> LexicalIndex:
    return LexicalIndex(
        [Record(f"r{i}", t, {"source": f"f{i}.txt", "start": 0}) for i, t in enumerate(texts)]
    )


# --- the distance -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("blinkin", "blinken", 1),  # substitution
        ("vietanm", "vietnam", 1),  # transposition counts 1 (Damerau)
        ("phne", "phone", 1),  # insertion
        ("coperaton", "cooperation", 2),
        ("ca", "abc", 3),  # optimal string alignment: no edit of a transposed pair
        ("same", "same", 0),
    ],
)
def test_distance(a, b, expected):
    assert distance(a, b) == expected
    assert distance(b, a) == expected


def test_distance_stops_above_the_limit():
    assert distance("abcdefgh", "hgfedcba", 2) == 3
    assert distance("short", "muchlongerword", 1) == 2


# --- corrections over the demo corpus ----------------------------------------------------


@pytest.fixture(scope="module")
def lexical(demo_bot):
    return demo_bot.lexical


@pytest.mark.parametrize(
    ("question", "expected", "fixes"),
    [
        ("Who is blinkin?", "Who is blinken?", [("blinkin", "blinken")]),
        ("Who is Blinkin?", "Who is Blinken?", [("Blinkin", "Blinken")]),  # capitalised stays capitalised
        ("WHO IS BLINKIN?", "WHO IS BLINKEN?", [("BLINKIN", "BLINKEN")]),
        ("who sent the invitaton", "who sent the invitation", [("invitaton", "invitation")]),
        ("Vietanm and the US", "Vietnam and the US", [("Vietanm", "Vietnam")]),  # a transposition
        # a long word two edits away (two letters missing)
        ("coperaton on climate", "cooperation on climate", [("coperaton", "cooperation")]),
        ("talk by phne", "talk by phone", [("phne", "phone")]),
    ],
)
def test_typos_become_the_nearest_corpus_word(lexical, question, expected, fixes):
    assert correct(question, lexical) == (expected, fixes)


def test_frequency_breaks_a_tie_in_the_corpus(lexical):
    # "pary" is one edit from both "part" and "party"; "party" is the more frequent in the articles
    vocab = spelling.vocabulary(lexical)
    assert distance("pary", "part") == distance("pary", "party") == 1
    assert vocab.counts["party"] > vocab.counts["part"] > 0
    assert correct("Which pary does Trong lead?", lexical)[0] == "Which party does Trong lead?"


@pytest.mark.parametrize(
    "question",
    [
        "Who is Blinken?",  # in the articles
        "When was Blinken visiting Hanoi?",  # "visiting" is known through its stem "visit"
        "Did Trọng and Biden talk?",  # "talk" is not in the articles, "talks" is: same stem
        "Was it Bdn or Phn?",  # three letters: too short to correct
        "Was it 2O23, 20233 or 1,000,000?",  # numbers
        "Is G2O or covid19 there?",  # letters glued to digits are codes, not words
        "Whose visit was it, and how many people came?",  # question words
        "Roughly three nearly late",  # common English words stay ("three" is not "there")
    ],
)
def test_known_short_numeric_and_common_words_are_kept(lexical, question):
    assert correct(question, lexical) == (question, [])


def test_the_rest_of_the_question_is_unchanged_byte_for_byte(lexical):
    question = "  Did  Blinkin’s trip — in Hà Nội, 2023 (the invitaton!) —\tgo well?? "
    corrected, fixes = correct(question, lexical)
    assert corrected == "  Did  Blinken’s trip — in Hà Nội, 2023 (the invitation!) —\tgo well?? "
    assert fixes == [("Blinkin", "Blinken"), ("invitaton", "invitation")]


def test_a_question_without_typos_builds_no_vocabulary(demo_bot):
    lexical = index_of(*(r.text for r in demo_bot.lexical.records))
    assert correct("Who received Antony Blinken in Hanoi?", lexical) == (
        "Who received Antony Blinken in Hanoi?",
        [],
    )
    assert lexical not in spelling._VOCABULARIES
    correct("Who received Antony Blinkin in Hanoi?", lexical)
    assert lexical in spelling._VOCABULARIES
    assert spelling.vocabulary(lexical) is spelling.vocabulary(lexical)  # built once per index


# --- the ranking rules on a small index ---------------------------------------------------


def test_more_frequent_wins_then_alphabetical():
    assert correct("carx", index_of("card card card", "cart"))[0] == "card"
    assert correct("carx", index_of("card", "cart cart cart"))[0] == "cart"
    assert correct("carx", index_of("cart", "card"))[0] == "card"  # a tie in count: A-Z


def test_nearer_wins_over_more_frequent():
    index = index_of("cooperative " * 9, "cooperation")
    assert correct("cooperatin", index)[0] == "cooperation"  # 1 edit beats 2, however frequent


def test_distance_limit_grows_with_the_word():
    index = index_of("harbour", "international")
    assert correct("harbxxr", index) == ("harbxxr", [])  # 7 letters: one edit at most
    assert correct("internatoinl", index)[0] == "international"  # 12 letters: two edits


def test_empty_index_changes_nothing():
    assert correct("Who is Blinkin?", index_of()) == ("Who is Blinkin?", [])


# --- through the assistant and the command line -------------------------------------------


def test_ask_answers_the_corrected_question(demo_bot):
    question = "when did biden and trong talk by phne"
    answer = demo_bot.ask(question)
    assert answer.question == question
    assert answer.corrected_question == "when did biden and trong talk by phone"
    assert not answer.refused, answer.text
    assert "March 29" in answer.text  # the date of the call
    assert answer.to_dict()["corrected_question"] == answer.corrected_question


def test_ask_without_typos_has_no_corrected_question(demo_bot):
    answer = demo_bot.ask("When did Biden and Trong talk by phone?")
    assert answer.corrected_question is None


def test_a_misspelt_name_is_answered_not_refused(demo_bot):
    answer = demo_bot.ask("Who received Antony Blinkin in Hanoi?")
    assert answer.corrected_question == "Who received Antony Blinken in Hanoi?"
    assert not answer.refused, answer.text


def test_retrieve_searches_for_the_corrected_question(demo_bot):
    typo = [p.id for p in demo_bot.retrieve("blinkin invitaton", k=5)]
    right = [p.id for p in demo_bot.retrieve("blinken invitation", k=5)]
    assert typo == right


def test_cli_ask_shows_the_corrected_question(demo_bot, monkeypatch):
    monkeypatch.setattr(cli, "_assistant", lambda **_: demo_bot)
    runner = CliRunner()
    out = runner.invoke(cli.main, ["ask", "Who is Blinkin?", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["question"] == "Who is Blinkin?"
    assert data["corrected_question"] == "Who is Blinken?"

    plain = runner.invoke(cli.main, ["ask", "Who is Blinkin?"])
    assert plain.exit_code == 0, plain.output
    assert "(searched for: Who is Blinken?)" in plain.stderr
    assert "searched for" not in plain.stdout


def test_the_language_model_is_asked_the_corrected_question(demo_bot):
    import sys
    from pathlib import Path

    from rag import Assistant
    from rag.generate import REFUSAL_PHRASE

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from openai_server import OpenAIServer

    with OpenAIServer() as server:
        server.respond(lambda request: REFUSAL_PHRASE)
        bot = Assistant(
            store_dir=demo_bot.settings.store_dir,
            data_dir=demo_bot.settings.data_dir,
            collection=demo_bot.settings.collection,
            llm="openai",
            openai_base_url=server.url,
            openai_api_key=None,
            openai_model="test-model",
            openai_attempts=1,
            openai_timeout=5.0,
        )
        answer = bot.ask("What did Blinkin say about the invitaton?")
        (request,) = server.chat_requests
    assert "What did Blinken say about the invitation?" in request.user
    assert "Blinkin" not in request.user
    assert answer.question == "What did Blinkin say about the invitaton?"
    assert answer.corrected_question == "What did Blinken say about the invitation?"
