"""The short answer: a question asking for a number, date, name or place is answered with it first,
quoted verbatim from a cited sentence; a quoted "He" or "That ..." comes with what says who or what."""

from __future__ import annotations

import json
import re

import pytest
from conftest import file_text

from rag.answer import explained
from rag.citations import Sentence
from rag.models import Passage
from rag.question import analyse
from rag.short_answer import Span, antecedent, candidates, needs_antecedent, who


def _sentences(text: str) -> list[Sentence]:
    from rag.citations import sentences_of

    passage = Passage(id="p", source="a.txt", text=text, start=100, end=100 + len(text), score=1.0)
    return sentences_of(passage, 0)


def _texts(question: str, text: str) -> list[str]:
    return [c.text for c in candidates(analyse(question), _sentences(text))]


def test_a_figure_candidate_keeps_its_scale_and_the_unit_asked_for():
    text = "Blinken returned after more than six years. Trade hit 123 billion USD between the two countries."
    assert "more than six years" in _texts("How many years had passed?", text)
    assert "123 billion" in _texts("How much was trade worth?", text)
    assert "two" not in _texts("How much was trade worth?", text)  # "the two countries" counts nothing


def test_a_date_range_is_one_candidate_and_a_year_is_a_date_not_a_figure():
    text = "He visited the US from June 28 to July 2 at the invitation of the State Department in 2023."
    assert "June 28 to July 2" in _texts("When did he visit the US?", text)
    assert "2023" not in _texts("How many officials did he meet?", text)


def test_a_person_candidate_is_the_name_without_the_titles_before_it():
    text = "The delegation met US National Security Advisor Jake Sullivan in Washington."
    found = _texts("Who did the delegation meet?", text)
    assert "Jake Sullivan" in found
    assert not any("Advisor" in f for f in found)


def test_a_title_s_field_is_not_part_of_the_name_after_it():
    text = (
        "In New York, the delegation worked with UN Under-Secretary-General for Policy Guy Ryder, and had "
        "an online discussion with US Special Presidential Envoy for Climate John Kerry."
    )
    question = analyse("Who did the delegation meet?")
    # The articles write "policy" and "climate" in lower case elsewhere: common words, not names.
    found = [c.text for c in candidates(question, _sentences(text), lower=frozenset({"policy", "climate", "new"}))]
    assert "Guy Ryder" in found and "John Kerry" in found
    assert "New York" in found  # "New" starts a name when no title's "for" stands before it
    assert not any("Policy" in f or "Climate" in f or "Secretary" in f for f in found)
    # Without that knowledge nothing says "Policy" is no first name.
    assert "Policy Guy Ryder" in _texts("Who did the delegation meet?", text)


def test_a_name_the_question_gives_is_no_candidate():
    text = "Secretary of State Antony Blinken met Le Hoai Trung in Hanoi."
    found = _texts("Who did Blinken meet in Hanoi?", text)
    assert "Le Hoai Trung" in found
    assert not any("Blinken" in f or f == "Hanoi" for f in found)


def test_candidate_offsets_are_the_file_offsets_of_the_span():
    text = "Some 2.2 million Vietnamese live in the US."
    (span,) = [c for c in candidates(analyse("How many Vietnamese live in the US?"), _sentences(text))]
    assert text[span.start - 100 : span.end - 100] == span.text


def test_a_sentence_opening_with_he_is_preceded_by_the_one_naming_him():
    text = "Prime Minister Pham Minh Chinh received Blinken. He called for closer ties."
    first, second = _sentences(text)
    assert needs_antecedent(second.text) and not needs_antecedent(first.text)
    assert antecedent(second) == first
    assert not needs_antecedent("Hesitation was not an option.")
    assert antecedent(first) is None
    assert needs_antecedent("That was the message from the minister.")
    assert not needs_antecedent("That agreement was signed.")  # a determiner, not a pronoun


def test_an_antecedent_that_itself_says_he_does_not_say_who_he_is():
    text = "Minister Bui Thanh Son met Blinken. Later he flew home. He thanked the US."
    first, _, third = _sentences(text)
    assert antecedent(third) == first


def test_a_later_he_gets_the_name_a_first_they_gets_the_sentence_before():
    text = (
        "Prime Minister Pham Minh Chinh received Blinken. He called for closer ties. "
        "French forces destroyed the fort. They set back British hopes."
    )
    chinh, he, forces, they = _sentences(text)
    (first, s1), (second, s2) = explained([they, he])
    assert s1 is they and first == forces  # the answer's first sentence: the one before, whole
    assert s2 is he and isinstance(second, Span) and second.text == "Pham Minh Chinh"
    assert text[second.start - 100 : second.end - 100] == "Pham Minh Chinh"
    assert explained([forces, they]) == [(None, forces), (None, they)]  # a later "They" gets no sentence
    assert who(they) is None


@pytest.mark.parametrize(
    "before, pronoun_sentence, means",
    [
        # "He" is the sentence's subject, the PM, not President Biden whom it names.
        ("The PM extended his wishes and regards to President Biden and other US leaders.", "He proposed closer ties.", "The PM"),
        ("The Secretary of State reiterated the invitation.", "He also affirmed support.", "The Secretary of State"),
        ("Minister Bui Thanh Son and US Secretary of State Antony Blinken held talks.", "They reviewed trade.",
         "Minister Bui Thanh Son and US Secretary of State Antony Blinken"),
        ("The US officials affirmed support.", "They valued the talks.", "The US officials"),
        ("The PM thanked the US.", "They agreed.", None),  # one person is not "they": the sentence is quoted whole
        ("The two sides shared views.", "They agreed.", None),
    ],
)
def test_who_a_pronoun_means_is_the_subject_of_the_sentence_before(before, pronoun_sentence, means):
    first, second = _sentences(f"{before} {pronoun_sentence}")
    span = who(second)
    if means is None:
        assert span is None and explained([second]) == [(first, second)]
    else:
        assert span.text == means and span.sentence == first and first.text.startswith(means)


def test_a_name_alone_opening_the_sentence_before_is_who_he_is_when_the_article_names_that_person():
    text = (
        "General Secretary Nguyen Phu Trong received Blinken. On behalf of President Biden, Blinken "
        "reiterated the invitation. Trong noted his thanks. He also reiterated the invitation to Biden."
    )
    *_, trong, he = _sentences(text)
    assert antecedent(he) == trong  # "Trong noted ...": Trong is a person, named in full above
    assert who(he).text == "Trong"
    # A country opening the sentence is no one "he" can be: look further back.
    vietnam, he = _sentences("Nguyen Phu Trong met Blinken. Vietnam considers the US a partner. He thanked the US.")[1:]
    assert antecedent(he) != vietnam


def test_he_is_never_someone_his_own_sentence_names():
    first, second = _sentences(
        "On behalf of President Biden, the Secretary of State reiterated the invitation. "
        "He also reiterated the invitation to Biden to visit Vietnam."
    )
    assert who(second) is None  # not "Biden": the sentence before is then quoted whole
    assert explained([second]) == [(first, second)]


# --- through the public API on the demo corpus -----------------------------------------------------


def _lead_line(answer) -> str:
    return answer.text.split("\n", 1)[0]


def assert_leads_are_verbatim_spans_of_cited_sentences(answer) -> None:
    for lead in answer.leads:
        assert file_text(lead.path)[lead.start : lead.end] == lead.quote, lead
        holding = [c for c in answer.citations if c.source == lead.source and c.start <= lead.start and lead.end <= c.end]
        assert holding, f"{lead.quote!r} is inside no cited sentence"
        n = answer.citations.index(holding[0]) + 1
        assert f"**{lead.quote}** [{n}]" in _lead_line(answer)


@pytest.mark.parametrize(
    "question, fact",
    [("How many Vietnamese live in the US?", "2.2 million"), ("When did Lê Hoài Trung visit the US?", "June 28")],
)
def test_the_answer_leads_with_the_number_or_date_asked_for(demo_bot, question, fact):
    answer = demo_bot.ask(question)
    assert fact in answer.text[:80], answer.text
    assert answer.short is not None and fact in answer.short.quote
    assert_leads_are_verbatim_spans_of_cited_sentences(answer)


def test_a_keyword_query_leads_with_the_date_it_asks_for(demo_bot):
    answer = demo_bot.ask("biden trong phone call date")
    assert _lead_line(answer).startswith("**March 29"), answer.text
    assert_leads_are_verbatim_spans_of_cited_sentences(answer)


def test_a_keyword_query_s_type_word_is_not_a_word_to_find(demo_bot):
    # "number" typed the query; the sentence about "the increasing number of Vietnamese students" is not the answer.
    assert "number" not in analyse("number of vietnamese in the us").key_terms
    answer = demo_bot.ask("number of vietnamese in the us")
    assert _lead_line(answer).startswith("**2.2 million"), answer.text


def test_a_day_of_the_week_question_never_leads_with_a_calendar_date(demo_bot):
    answer = demo_bot.ask("What day of the week did Trong receive Blinken?")
    assert "Saturday" in answer.text, answer.text  # the cited sentence says it
    assert all(re.fullmatch(r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday", lead.quote) for lead in answer.leads)


@pytest.mark.parametrize(
    "question, several",
    [("Who did Blinken meet in Hanoi?", True), ("And who did they meet in New York?", True),
     ("Who is the foreign minister?", False), ("vietnam foreign minister name", False),
     ("usaid administrator who met the delegation", False), ("Which officials did Trung meet?", True)],
)
def test_only_a_who_question_or_a_list_may_lead_with_several_names(question, several):
    from rag.short_answer import wants_several

    assert wants_several(analyse(question)) is several


def test_an_answer_never_opens_with_a_he_it_does_not_explain(demo_bot):
    answer = demo_bot.ask("How many Vietnamese live in the US?")
    assert not re.match(r"(He|She|They)\b", answer.citations[0].quote), answer.text
    he = next(i for i, c in enumerate(answer.citations) if c.quote.startswith("He called"))
    assert he > 0 and answer.citations[he - 1].quote == "The PM"  # who "He" is, not the whole sentence before
    assert f"(He: The PM [{he}]) He called" in answer.text
    for c in answer.citations:
        assert file_text(c.path)[c.start : c.end] == c.quote


def test_who_did_blinken_meet_leads_with_the_people(demo_bot):
    answer = demo_bot.ask("Who did Blinken meet in Hanoi?")
    assert len(answer.leads) >= 2 and all(re.search(r"Trung|Son|Chinh|Tr[oọ]ng", c.quote) for c in answer.leads)
    first_line = answer.text.split("\n")[0]
    assert all(f"**{c.quote}**" in first_line for c in answer.leads), answer.text
    marks = [int(n) for n in re.findall(r"\[(\d+)\]", first_line)]
    assert marks == sorted(marks), first_line  # the names in the order the answer quotes them
    assert_leads_are_verbatim_spans_of_cited_sentences(answer)


def _met(question: str, text: str, lower=frozenset()) -> list[str]:
    from rag.short_answer import met_names

    q = analyse(question)
    return [s.text for s in met_names(q, candidates(q, _sentences(text), lower=lower))]


def test_the_people_met_are_those_the_sentences_say_were_met():
    assert _met("Who did Blinken meet?", "The same day, Blinken had a meeting with Le Hoai Trung, head of the commission.") == ["Le Hoai Trung"]
    # The host who received the one the question names, and the other half of a joint subject.
    assert _met("Who did Blinken meet?", "Vietnam values the US, Minister Bui Thanh Son said when receiving Secretary Antony Blinken.") == ["Bui Thanh Son"]
    assert _met("Who did Blinken meet?", "Minister Bui Thanh Son and Secretary Antony Blinken shared the view that ties grow.") == ["Bui Thanh Son"]
    assert _met("Who did Blinken meet?", "Ties matter, Prime Minister Pham Minh Chinh said at a reception for Secretary Antony Blinken.") == ["Pham Minh Chinh"]
    # Someone else's talks are not the ones asked about, even when the sentence names Blinken.
    assert _met("Who did Blinken meet?", "Trong told Blinken about his phone talks with President Joe Biden.") == []
    # A name merely mentioned is not one met.
    assert _met("Who did Blinken meet?", "Blinken praised Prime Minister Pham Minh Chinh for his work.") == []


def test_a_host_named_after_his_country_is_listed_by_his_name_alone():
    text = (
        "Việt Nam and the US are partners. General Secretary of the Communist Party of Việt Nam Nguyễn Phú Trọng "
        "on Saturday received US Secretary of State Antony Blinken."
    )
    assert _met("Who received Antony Blinken?", text) == ["Nguyễn Phú Trọng"]


def test_how_they_met_picks_the_meeting_the_question_asks_about():
    text = (
        "In New York, the delegation worked with UN Under-Secretary-General for Policy Guy Ryder, and had an "
        "online discussion with US Special Presidential Envoy for Climate John Kerry."
    )
    lower = frozenset({"policy", "climate"})
    assert _met("Who did the delegation meet in New York?", text, lower) == ["Guy Ryder", "John Kerry"]
    assert _met("who did the delegation talk to online", text, lower) == ["John Kerry"]


def test_a_list_of_people_met_skips_the_titles_between_them():
    text = (
        "In Washington DC, the delegation held working sessions with Secretary of State Antony Blinken, "
        "Administrator of the Agency for International Development (USAID) Samantha Power and Deputy Under "
        "Secretary of Defense for Policy Sasha Baker."
    )
    # The articles write "policy" in lower case elsewhere: a title's field, not a first name.
    found = _met("which officials did the delegation meet in washington", text, lower=frozenset({"policy"}))
    assert found == ["Antony Blinken", "Samantha Power", "Sasha Baker"]


def test_who_they_met_in_a_place_comes_only_from_an_article_about_that_place(demo_bot):
    history = []
    for question in ("Who did Trung meet in Washington?", "And who did they meet in New York?"):
        answer = demo_bot.ask(question, history=history)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
    assert [c.quote for c in answer.leads] == ["Guy Ryder", "John Kerry"], answer.text
    assert_leads_are_verbatim_spans_of_cited_sentences(answer)


def test_a_question_asking_no_name_or_figure_has_no_lead(demo_bot):
    answer = demo_bot.ask("What does Vietnam choose instead of a side?")
    assert answer.short is None and answer.leads == ()
    assert "**" not in answer.text


def test_the_short_answer_is_in_the_json(demo_bot):
    answer = demo_bot.ask("How many Vietnamese live in the US?")
    data = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    assert data["short"]["quote"] == answer.short.quote
    assert data["short"]["start"] == answer.short.start and data["short"]["source"] == answer.short.source


def test_a_they_at_the_start_of_a_passage_is_explained_from_the_file(tmp_path):
    body = "Bui Thanh Son and Antony Blinken held talks on their cooperation. They reviewed trade ties."
    path = tmp_path / "a.txt"
    path.write_text(body, encoding="utf-8")
    start = body.index("They")
    passage = Passage(id="p", source="a.txt", text=body[start:], start=start, end=len(body), score=1.0, path=str(path))
    (they,) = [s for s in _sentences_of(passage)]
    before = antecedent(they)
    assert before is not None and before.text == body[: start - 1]
    assert body[before.start : before.end] == before.text


def _sentences_of(passage):
    from rag.citations import sentences_of

    return sentences_of(passage, 0)


def test_how_long_is_a_thing_does_not_lead_with_how_long_it_took(make_bot):
    # "A cable-stayed bridge ... opened to traffic on Sunday after three years of work. The bridge is
    # 540 metres long ...": a length is as much an answer to "how long" as a duration.
    bot, _ = make_bot()
    bot.ingest()
    answer = bot.ask("How long is the bridge across the Hàn River?")
    assert not answer.refused
    assert all("three years" not in c.quote for c in answer.leads)


def test_who_holds_a_title_for_a_field_leads_with_the_name_alone(demo_bot):
    from rag.fit_short_answer import _sentences as quoted
    from rag.short_answer import load_model, score

    question = "Who is the US climate envoy?"
    answer = demo_bot.ask(question)
    # The best candidate is the name alone; whether it is sure enough to lead is the fitted model's call.
    lower = demo_bot.retriever.lexical.lower_words
    best = score(candidates(analyse(question), quoted(answer), answer.confidence, lower), load_model())[0]
    assert best.text == "John Kerry", answer.text
    assert all(c.quote == "John Kerry" for c in answer.leads), answer.text
    assert_leads_are_verbatim_spans_of_cited_sentences(answer)


def test_the_lead_is_fitted_knowing_that_any_lead_of_an_unanswerable_question_is_wrong():
    from rag.fit_short_answer import Observation, rows

    text = "Blinken met Foreign Minister Bui Thanh Son in Hanoi on April 15. Trade hit 123 billion USD."
    asked = [
        Observation("news", analyse("Who did Blinken meet?"), _sentences(text), 0.9, ["Bui Thanh Son"], True, frozenset()),
        Observation("news", analyse("Who is the US ambassador?"), _sentences(text), 0.3, [], False, frozenset()),
    ]
    _, labels = rows(asked)
    n_first = len(candidates(asked[0].question, asked[0].sentences, 0.9))
    assert n_first and labels[:n_first].any()  # the answerable question's name is a positive
    assert len(labels) > n_first and not labels[n_first:].any()  # every candidate of the other is wrong


def test_a_question_about_a_post_the_articles_never_name_gets_no_bold_name(demo_bot):
    # The shipped lead before 2026-12-02 answered this with **Antony Blinken** (his post is Secretary of State).
    answer = demo_bot.ask("Who is the American ambassador in Hanoi?")
    assert answer.leads == () and "**" not in answer.text, answer.text
