"""Answers on the demo corpus: the fact is there, every sentence is cited, every citation is verbatim."""

from __future__ import annotations

import re

import pytest
from conftest import file_text

from rag import RagError
from rag.documents import sentence_spans
from rag.text import normalize_answer

QUESTIONS = [
    ("Who received Antony Blinken in Hanoi?", "Trong"),
    ("When was the phone call between Joe Biden and Nguyễn Phú Trọng?", "March 29"),
    ("How many Vietnamese live in the US?", "2.2 million"),
    ("How much was two-way trade between Vietnam and the US last year?", "123 billion"),
    ("Who did Lê Hoài Trung meet in New York?", "Guy Ryder"),
    ("How long had it been since Blinken last visited Vietnam?", "six years"),
    ("Where is the dioxin remediation project?", "Bien Hoa"),
    ("Which anniversary of the Comprehensive Partnership did Blinken's visit coincide with?", "10th"),
    ("What does Vietnam choose instead of a side?", "justice"),
    ("Who is the US National Security Advisor that met the Vietnamese delegation?", "Jake Sullivan"),
    ("Who is the Administrator of USAID?", "Samantha Power"),
    ("Who is the US Special Presidential Envoy for Climate?", "John Kerry"),
    ("When did Lê Hoài Trung's working visit to the US start?", "June 28"),
    ("Which Vietnamese Prime Minister received Blinken?", "Pham Minh Chinh"),
    ("Who is Vietnam's Minister of Foreign Affairs?", "Bui Thanh Son"),
    ("What did the US donate to Vietnam during the pandemic?", "COVID-19 vaccines"),
    ("Which UN convention on the law of the sea was mentioned?", "1982"),
    ("On which day of the week did Trọng receive Blinken?", "Saturday"),
    ("Which exports did the Prime Minister say anti-dumping duties hurt?", "furniture"),
    # A "when ..." clause or "during his trip" names the occasion; what is asked is the rest.
    ("What did Blinken say about ASEAN when he met Trọng?", "ASEAN centrality"),
    ("Who did Trung talk to online during his US trip?", "John Kerry"),
    # A title names who the question is about; the principles are what is asked.
    ("On what principles did Vietnamese leaders say the relationship should rest?", "sovereignty"),
]

UNANSWERABLE = [
    "What does Vietnam think about Taiwan?",
    "What did Kamala Harris say about Vietnam?",
    "What is the value of the Boeing deal?",
    "How many Vietnamese students are in the US?",
    "Who won the 2022 FIFA World Cup?",
]

_MARK = re.compile(r"\[(\d+)\]")


def assert_cited_sentence_by_sentence(answer) -> None:
    """Every sentence of the answer is followed by `[n]`, n a valid 1-based citation index."""
    text = answer.text.strip()
    assert text.endswith("]"), f"answer does not end with a citation marker: {text!r}"
    pieces = _MARK.split(text)  # [sentence, n, sentence, n, ..., tail]
    assert pieces[-1].strip() == "", f"uncited text at the end: {pieces[-1]!r}"
    used = set()
    for sentence, n in zip(pieces[0::2], pieces[1::2], strict=False):
        n = int(n)
        assert 1 <= n <= len(answer.citations), f"marker [{n}] with {len(answer.citations)} citations"
        used.add(n)
        if sentence.strip():
            assert len(sentence_spans(sentence.strip())) == 1, f"several sentences before [{n}]: {sentence!r}"
    assert used == set(range(1, len(answer.citations) + 1)), "a citation is never referred to"


def assert_citations_verbatim(answer) -> None:
    assert answer.citations
    for c in answer.citations:
        assert c.path, c
        assert file_text(c.path)[c.start : c.end] == c.quote, c
        assert c.quote.strip()


@pytest.mark.parametrize("question, fact", QUESTIONS, ids=[f for _, f in QUESTIONS])
def test_question_is_answered_with_the_fact_and_verbatim_citations(demo_bot, question, fact):
    answer = demo_bot.ask(question)
    assert not answer.refused, f"refused: {answer.text}"
    assert normalize_answer(fact) in normalize_answer(answer.text), answer.text
    assert_cited_sentence_by_sentence(answer)
    assert_citations_verbatim(answer)


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_question_is_refused_without_citations(demo_bot, question):
    answer = demo_bot.ask(question)
    assert answer.refused, f"answered: {answer.text}"
    assert answer.citations == []
    assert not _MARK.search(answer.text)
    assert answer.text.strip()


def test_follow_up_question_uses_the_history(demo_bot):
    first_q = "Who did Lê Hoài Trung meet in Washington?"
    first = demo_bot.ask(first_q)
    assert not first.refused, first.text
    history = [{"role": "user", "content": first_q}, {"role": "assistant", "content": first.text}]
    follow = demo_bot.ask("And who did they meet in New York?", history=history)
    assert not follow.refused, follow.text
    assert "guy ryder" in normalize_answer(follow.text), follow.text
    assert_cited_sentence_by_sentence(follow)
    assert_citations_verbatim(follow)


def test_follow_up_without_history_is_not_given_the_earlier_subject(demo_bot):
    # The same follow-up with no history cannot know who "they" are; with history it is read
    # as a standalone question about Lê Hoài Trung.
    history = [{"role": "user", "content": "Who did Lê Hoài Trung meet in Washington?"}]
    follow = demo_bot.ask("And who did they meet in New York?", history=history)
    assert follow.standalone_question, "the follow-up was not rewritten"
    assert "trung" in normalize_answer(follow.standalone_question)


def test_pronoun_after_a_who_question_means_the_person_the_answer_named(demo_bot):
    # "he" is the Prime Minister the first answer named, not Blinken from the first question.
    first_q = "Which Vietnamese Prime Minister hosted Blinken?"
    first = demo_bot.ask(first_q)
    assert "chinh" in normalize_answer(first.text), first.text
    history = [{"role": "user", "content": first_q}, {"role": "assistant", "content": first.text}]
    follow = demo_bot.ask("What did he thank the US for?", history=history)
    assert "pham minh chinh" in normalize_answer(follow.standalone_question or "")
    assert "vaccines" in normalize_answer(follow.text), follow.text
    assert_citations_verbatim(follow)


def test_a_title_says_who_and_a_reaction_is_read_as_the_response(demo_bot):
    # "the Party chief" is who the follow-up is about (any sentence on Trọng may answer);
    # what is asked is how he responded, which the articles put as "Trọng welcomed ...".
    first_q = "What did Blinken say about ASEAN when he met Trọng?"
    first = demo_bot.ask(first_q)
    history = [{"role": "user", "content": first_q}, {"role": "assistant", "content": first.text}]
    follow = demo_bot.ask("How did the Party chief respond to that?", history=history)
    first_sentence = sentence_spans(follow.text)[0]
    assert "welcomed" in follow.text[first_sentence[0] : first_sentence[1]], follow.text
    assert_citations_verbatim(follow)


def test_answer_referents_skip_titles_places_and_the_questions_own_names():
    from rag.question import answer_referents

    answer = (
        "In New York, the delegation had an online discussion with US Special Presidential Envoy for "
        "Climate John Kerry. [1] Party General Secretary Nguyen Phu Trong received Antony Blinken. [2]"
    )
    got = answer_referents("What is his title?", "Who did Blinken talk to?", answer)
    assert "nguyen phu trong" in got and any(name.endswith("john kerry") for name in got)
    assert not any("york" in name or "blinken" in name for name in got), got
    # Not a who-question, or no singular pronoun: nothing is taken from the answer.
    assert answer_referents("What is his title?", "When did Blinken visit?", answer) == ()
    assert answer_referents("And in Washington?", "Who did Blinken talk to?", answer) == ()


@pytest.mark.parametrize(
    "question, qtype",
    [
        ("What did Blinken say about ASEAN when he met Trọng?", "say"),
        ("And when did he arrive?", "date"),
        ("When was the call?", "date"),
        ("Who did he meet where he stayed?", "person"),
        ("And where was the meeting held?", "place"),
    ],
)
def test_when_and_where_ask_a_date_or_place_only_as_question_words(question, qtype):
    from rag.question import question_type

    assert question_type(question) == qtype


def test_scene_terms_are_the_occasion_not_the_topic():
    from rag.question import scene_terms

    assert scene_terms("What did Blinken say about ASEAN when he met Trọng?") == {"met", "trong"}
    assert scene_terms("Who did Trung talk to online during his US trip?") == {"us", "trip"}
    assert scene_terms("How did Vietnam help America during the coronavirus outbreak?") == set()
    assert scene_terms("When did Blinken arrive?") == set()  # the question word, not a clause


def test_how_many_years_is_answered_by_an_anniversary(demo_bot):
    answer = demo_bot.ask("How many years had the Vietnam-US Comprehensive Partnership existed in 2023?")
    assert "10th anniversary" in normalize_answer(answer.text), answer.text


def test_answer_lists_at_most_k_passages(demo_bot):
    answer = demo_bot.ask("Who received Antony Blinken in Hanoi?", k=2)
    assert 0 < len(answer.passages) <= 2


def test_citation_metadata_matches_its_file(demo_bot):
    rows = {row["source"]: row for row in demo_bot.articles()}
    answer = demo_bot.ask("How many Vietnamese live in the US?")
    for c in answer.citations:
        row = rows[c.source]
        assert (c.title, c.date, c.outlet, c.path) == (row["title"], row["date"], row["outlet"], row["path"])


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_raises_a_clear_error(demo_bot, question):
    with pytest.raises(RagError, match="empty"):
        demo_bot.ask(question)


def test_overlong_question_raises_a_clear_error(demo_bot):
    with pytest.raises(RagError) as info:
        demo_bot.ask("Who met Blinken? " * 300)  # ~5000 characters
    message = str(info.value)
    assert "characters" in message and "\n" not in message
