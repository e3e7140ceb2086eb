"""The fitted reader: its parameters, its features, confidence and the refusal operating point."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from rag import RagError
from rag.question import analyse, salient_person
from rag.reader import ANSWER_FEATURES, MODEL_PATH, SENTENCE_FEATURES, Reader, load_model

ARTICLES = {
    "harbour.txt": (
        "Harbour expansion approved\n\n"
        "The city council approved the expansion of the northern harbour on Tuesday.\n"
        "The project will cost 40 million euros and take four years to complete.\n"
        "Mayor Ilse Brandvold said the new quays would double the number of ferries.\n"
        "Fishermen protested outside the town hall during the vote.\n"
    ),
    "school.txt": (
        "School meals go organic\n\n"
        "All primary schools in the district will serve organic lunches from September.\n"
        "Parents had campaigned for the change for three years.\n"
    ),
}


def test_the_shipped_model_fits_the_features_and_says_how_it_was_fitted():
    model = load_model()
    assert model["sentence"]["features"] == list(SENTENCE_FEATURES)
    assert model["answer"]["features"] == list(ANSWER_FEATURES)
    for part in ("sentence", "answer"):
        n = len(model[part]["features"])
        assert len(model[part]["coef"]) == len(model[part]["mean"]) == len(model[part]["scale"]) == n
    assert "rag.fit_reader" in model["about"]
    assert 0.0 <= model["select"]["min_confidence"] < 1.0
    assert model["select"]["max_sentences"] >= 1


def test_a_model_fitted_for_other_features_is_refused_with_a_clear_message(tmp_path):
    model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    model["sentence"]["features"] = model["sentence"]["features"][:-1]
    stale = tmp_path / "model.json"
    stale.write_text(json.dumps(model), encoding="utf-8")
    with pytest.raises(RagError, match="refit it: python -m rag.fit_reader"):
        load_model(stale)


def test_the_answering_sentence_outranks_one_that_only_repeats_the_question(make_bot):
    bot, _ = make_bot(ARTICLES)
    bot.ingest()
    answer = bot.ask("How much will the harbour expansion cost?")
    assert not answer.refused
    assert "40 million euros" in answer.citations[0].quote or any("40 million" in c.quote for c in answer.citations)
    assert 0.0 <= answer.confidence <= 1.0


def test_confidence_is_higher_for_an_answered_question_than_for_one_about_an_absent_name(make_bot):
    bot, _ = make_bot(ARTICLES)
    bot.ingest()
    answered = bot.ask("Who is the mayor?")
    absent = bot.ask("What did Chancellor Wolfgang Ortmeier say about the harbour budget deficit?")
    assert answered.confidence > absent.confidence


@pytest.mark.parametrize("floor, refused", [(0.0, False), (1.0, True)])
def test_the_refusal_operating_point_is_a_setting(make_bot, floor, refused):
    bot, _ = make_bot(ARTICLES, min_confidence=floor)
    bot.ingest()
    answer = bot.ask("When will schools serve organic lunches?")
    assert answer.refused is refused
    assert answer.confidence is not None


def test_rag_min_confidence_out_of_range_is_a_clear_error():
    from rag.config import Settings

    with pytest.raises(RagError, match="RAG_MIN_CONFIDENCE"):
        Settings.from_env({"RAG_MIN_CONFIDENCE": "1.5"})
    assert Settings.from_env({}).min_confidence is None  # the fitted default


def test_features_are_finite_and_one_row_per_sentence(demo_bot):
    q = analyse("How many Vietnamese live in the US?")
    passages = demo_bot.retrieve(q.search_text, k=5)
    reader = demo_bot.extractive.reader
    sentences, x = reader.featurize(q, passages)
    assert len(sentences) == x.shape[0] > 0
    assert x.shape[1] == len(SENTENCE_FEATURES)
    assert np.isfinite(x).all()


def test_a_sentence_the_previous_answer_quoted_is_marked_as_a_repeat(demo_bot):
    q = analyse("How many Vietnamese live in the US?")
    passages = demo_bot.retrieve(q.search_text, k=5)
    reader: Reader = demo_bot.extractive.reader
    sentences, _ = reader.featurize(q, passages)
    quoted = sentences[0].text
    _, x = reader.featurize(q, passages, (quoted,))
    repeat = SENTENCE_FEATURES.index("repeat")
    assert x[0, repeat] == 1.0
    assert x[:, repeat].sum() < len(sentences)


def test_a_pronoun_after_a_who_question_means_the_person_the_answer_named():
    person = salient_person(
        "What did he thank the US for?",
        "Which Prime Minister hosted Blinken?",
        "At the reception, Prime Minister Pham Minh Chinh welcomed Blinken's visit. [1]",
    )
    assert person == "pham minh chinh"


def test_a_pronoun_otherwise_means_the_person_the_earlier_question_named():
    person = salient_person(
        "How long had it been since he was last in the country?",
        "Did Antony Blinken meet Vietnam's Prime Minister during his April trip?",
        "Prime Minister Pham Minh Chinh received US Secretary of State Antony Blinken. [1]",
    )
    assert person == "antony blinken"


def test_a_follow_up_on_a_new_topic_does_not_inherit_the_earlier_topic():
    history = [
        {"role": "user", "content": "Who did Blinken meet in Hanoi?"},
        {"role": "assistant", "content": "Prime Minister Pham Minh Chinh received Antony Blinken. [1]"},
    ]
    q = analyse("And what did he say about trade?", history)
    assert "trade" in q.key_terms
    assert "meet" not in q.context_terms  # the earlier question's topic is not what is asked now
    assert q.context_entities[0] == "pham minh chinh"  # "he": the person the answer named


def test_a_fragment_follow_up_asks_with_the_earlier_question_s_words():
    history = [
        {"role": "user", "content": "What did Blinken say about the phone call between Trong and Biden?"},
        {"role": "assistant", "content": "Blinken praised the phone talks. [1]"},
    ]
    q = analyse("which day was that?", history)
    assert q.qtype == "date"
    assert {"phone", "trong", "biden"} <= set(q.key_terms)  # its own words are none: "day" is the type
    assert analyse("which day was that?").key_terms == ()  # with no earlier question, nothing to borrow


@pytest.mark.parametrize(
    "question, fits, unfit",
    [
        ("How long is the bridge across the river?", "The bridge is 540 metres long.", "It was built over 2019 and 2020."),
        ("How long did the works take?", "It opened after three years of work.", "The bridge is 540 long."),
        ("How far is the port from the city?", "The port lies 12 km from the centre.", "The port opened three years ago."),
    ],
)
def test_how_long_and_how_far_ask_for_a_length_or_a_duration(question, fits, unfit):
    from rag.question import quantity_pattern

    pattern = quantity_pattern(analyse(question))
    assert pattern is not None
    assert re.search(pattern, fits, re.I)
    assert not re.search(pattern, unfit, re.I)


def test_the_digits_of_a_date_or_a_year_are_no_figure_for_a_how_many_question():
    from rag.question import fits_type
    from rag.text import terms

    question = analyse("How old is the harbour master?")
    assert question.qtype == "number"

    def fits(sentence: str) -> bool:
        return fits_type(question, sentence, set(terms(sentence)), set(question.entities))

    assert not fits("The harbour master met the mayor on March 29, 2023, and again on 2 April.")
    assert not fits("The harbour master took office in 2019.")
    assert fits("The harbour master is 58 and has served for three decades.")
    assert fits("The harbour master has served for three decades.")  # a number in words
    assert not fits("The harbour master's post was created in 1599.")  # any year, not only 19xx and 20xx


@pytest.mark.parametrize(
    "sentence",
    [
        "In 1599 the British East India Company was established.",
        "The colonization of India in the mid-18th century offers an example.",
        "It was reflected upon in the 1950s.",
        "The tribes had conquered them by 800 CE.",
        "Trong and Biden spoke on March 29.",
    ],
)
def test_a_when_question_is_fitted_by_any_year_decade_century_or_day(sentence):
    from rag.question import fits_type
    from rag.text import terms

    question = analyse("When did it happen?")
    assert question.qtype == "date"
    assert fits_type(question, sentence, set(terms(sentence)), set())
    assert not fits_type(question, "It happened after the war with many soldiers.", set(), set())


def test_a_question_asking_for_several_things_shows_more_sentences_with_the_same_confidence(demo_bot):
    from rag.models import Passage
    from rag.reader import Candidate

    reader = demo_bot.extractive.reader
    select = reader.model["select"]
    assert select["list_max_sentences"] > select["max_sentences"]  # fitted by rag.fit_reader
    text = "One. Two. Three. Four. Five."
    passage = Passage(id="p", source="a.txt", text=text, start=0, end=len(text), score=1.0)
    from rag.citations import sentences_of

    sents = sentences_of(passage, 0)
    gap = select["list_logit_gap"]
    # Four sentences within the list gap of the best, beyond the pick's own gap for the fourth.
    logits = [3.0, 3.0 - select["logit_gap"] / 2, 3.0 - select["logit_gap"] / 2, 3.0 - (select["logit_gap"] + gap) / 2, -9.0]
    cands = [Candidate(s, np.zeros(len(SENTENCE_FEATURES)), lg, float(1 / (1 + np.exp(-lg)))) for s, lg in zip(sents, logits, strict=True)]
    several, one = analyse("Which officials did Trung meet?"), analyse("What is the capital?")
    picked = reader.pick(several, cands)
    assert len(picked) == select["max_sentences"] == 3
    shown = reader.extend(several, cands, picked)
    assert [c.sentence.text for c in shown] == ["One.", "Two.", "Three.", "Four."]  # in reading order
    assert reader.extend(one, cands, reader.pick(one, cands)) == reader.pick(one, cands)
    # The confidence is the pick's: what the reader is sure of does not grow with what it shows.
    question = analyse("Which US officials did the Vietnamese delegation meet in Washington?")
    passages = demo_bot.retriever.retrieve(question.search_text, 5)
    reading = reader.read(question, passages)
    assert reading.answer_features.tolist() == reader.answer_features(
        question, reading.candidates, reader.pick(question, reading.candidates), list(reading.missing)
    ).tolist()
