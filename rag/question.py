"""Understanding a question: its type, key terms and names, and what a follow-up refers back to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.text import STOPWORDS, fold, stem, terms, words

# Words that frame a question but are not what it is about.
FRAME_WORDS = frozenset(
    stem(w)
    for w in """what which who whom whose when where why how many much did does do is are was were
    article articles report reported story news text say said mention mentioned describe described
    according happen happened take took place kind name names list give tell about exactly
    anything something thing things one ones any exact actually really begin began start started
    end ended exist existed since pass passed instead rather still even already yet ever""".split()
)
# Nouns that, just after "what/which", name the kind of answer wanted, not its subject.
ANSWER_NOUNS = frozenset(
    "city country place date day week month year time post position title name kind type sort".split()
)
# General-English paraphrases: a question word may appear in the articles as any of these.
# Kept small and generic; each alternative is matched as a stemmed term.
SYNONYMS = {
    # offices and meetings
    "premier": "prime pm", "prime": "pm", "pentagon": "defense defence", "senior": "high-ranking",
    "talk": "meeting met talks discussion", "talks": "meeting met talk", "speak": "talk discuss",
    "meet": "talk talks received", "met": "talk talks received", "video": "online virtual",
    "host": "received reception", "hosted": "received reception",
    "receive": "hosted reception", "received": "hosted reception",
    "travel": "visit trip", "trip": "visit", "visit": "trip return",
    # saying and asking
    "ask": "suggest request urge call", "asked": "suggested requested urged called",
    "promise": "commit pledge", "pledge": "commit promise", "renew": "reiterate",
    "pass": "convey", "thank": "gratitude grateful thanks", "greetings": "regards wishes",
    "regard": "consider", "respond": "reply react answer welcome agree",
    "notable": "significance significant", "significant": "significance notable",
    "want": "wish desire hope", "keen": "wish hope desire", "eager": "wish hope desire",
    # trade, health, consequences
    "tariff": "duty duties", "tariffs": "duty duties", "duties": "tariff",
    "goods": "products exports", "job": "employment", "jobs": "employment",
    "hurt": "affect harm", "hurting": "affect harm", "coronavirus": "covid pandemic",
    "outbreak": "pandemic covid", "aftermath": "consequences legacies",
    "consequences": "aftermath legacies", "deal": "address handle settle tackle",
    "help": "support assist", "rest": "basis foundation", "challenges": "issues threats",
}
_SYNONYMS_BY_STEM = {stem(w): alts for w, alts in SYNONYMS.items()}  # "visited" finds "visit"
# Irregular verbs: stemming leaves "held" and "hold" apart.
IRREGULAR = {
    "hold": "held", "meet": "met", "speak": "spoke spoken", "take": "took taken",
    "give": "gave given", "tell": "told", "say": "said", "make": "made", "leave": "left", "go": "went gone",
    "come": "came", "begin": "began begun", "send": "sent", "see": "saw seen", "find": "found",
    "bring": "brought", "buy": "bought", "sell": "sold", "win": "won", "lead": "led", "pay": "paid",
    "grow": "grew grown", "rise": "rose risen", "fall": "fell fallen", "write": "wrote written",
    "think": "thought", "seek": "sought", "build": "built", "spend": "spent", "keep": "kept",
}
_BASE_FORM = {form: base for base, forms in IRREGULAR.items() for form in forms.split()}
QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how did does do is are was were can could will would "
    "should has have had and but so in on at for to of the a an tell give list name according".split()
)
# Capitalised words that name no one in particular: nationalities and generic bodies.
NOT_NAMES = frozenset(
    "vietnamese american americans us u.s united states america party state government country "
    "asian southeast asian".split()
)
# Last words of organisation names: a capitalised run ending so is not a person.
ORG_WORDS = frozenset(
    """party committee commission ministry department council agency affairs relations nations
    states partnership sea conduct convention law airport embassy office association union
    organisation organization forum bank group house""".split()
)
_FUNCTION_WORDS = frozenset("towards toward within during among upon across since despite".split())
PRONOUNS = frozenset("he him his she her they them their it its there that this those these".split())
TYPES = ("percent", "number", "date", "person", "place", "say", "reason", "list", "yesno", "other")

# A year written in digits (1000-2099): a date, never a figure ("how many ...?").
YEAR_DIGITS = r"(?:1\d|20)\d\d"
_NUMBER_RE = re.compile(
    r"(?<![\w-])\d[\d.,]*\b|\b(?:three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|(?:hundred|thousand|million|billion|trillion)s?|dozens?|half)\b",
    re.I,
)
_DATE_RE = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow|"
    rf"{YEAR_DIGITS}|"
    r"(?:1\d|20)\d0s|\d{1,2}(?:st|nd|rd|th)[- ]century|\d+ ?(?:BC|BCE|AD|CE)|"
    r"this year|last year|next year|soon|at an early date|past years|recent years|"
    r"(?:the|that) same day|"
    r"\d+(?:st|nd|rd|th) (?:anniversary|founding)|anniversary)\b",
    re.I,
)
TITLE_WORDS = frozenset(
    stem(w)
    for w in """president secretary minister chairman chairwoman chief head leader administrator
    advisor adviser envoy ambassador general premier officer director spokesperson spokesman
    deputy senator official officials diplomat host""".split()
)
SPEECH_VERBS = frozenset(
    stem(w)
    for w in """said say says stressed affirmed noted emphasised emphasized told highlighted
    underscored reiterated expressed praised welcomed suggested proposed lauded hailed believed
    shared conveyed reaffirmed added applauded commended appreciated valued""".split()
)


@dataclass(frozen=True)
class Question:
    text: str
    qtype: str
    key_terms: tuple[str, ...]
    entities: tuple[str, ...]
    numbers: tuple[str, ...]
    context_terms: tuple[str, ...] = ()
    context_entities: tuple[str, ...] = field(default=())
    alternatives: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)
    earlier: str = ""  # for a fragment ("in which regions?"), the earlier question it completes

    @property
    def search_text(self) -> str:
        """What retrieval searches for: the question plus, for a follow-up, the names it refers to
        (or, for a fragment, the earlier question it completes)."""
        return " ".join([self.text, *self.context_entities, *([self.earlier] if self.earlier else [])])

    @property
    def standalone(self) -> str | None:
        if self.earlier:
            return f"{self.text} (after: {self.earlier})"
        if not self.context_entities:
            return None
        return f"{self.text} (about: {', '.join(self.context_entities)})"


_AUX = "(did|do|does|was|were|is|are|will|would|has|had|have)"


def question_type(text: str) -> str:
    q = fold(text).strip()
    # A question that opens with where/when/who asks that, whatever clause follows.
    lead = re.match(r"(where|when|who|whom|whose)\b", q)
    if lead:
        return {"where": "place", "when": "date"}.get(lead.group(1), "person")
    if re.search(r"\bwhat percentage\b|\bby how much\b|\bpercent\b", q):
        return "percent"
    if re.search(r"\bhow (many|much)\b|\bwhat (number|amount|percentage|share|value|figure)\b|"
                 r"\bhow (large|big|long|old|far)\b|\bwhat was the (value|total|size)\b", q):
        return "number"
    # "What tariff rate ...?", "what is the population of ...?", "at what age ...?": a measure asked for.
    if re.search(r"\b(?:what|which) (?:(?:is|was|are|were) )?(?:(?:the|a|an) )?(?:[\w-]+ ){0,3}"
                 r"(?:rate|cost|price|population|age|volume|size|height|depth|distance|weight|speed|budget|"
                 r"salary|income|revenue|amount|total)\b", q):
        return "number"
    # Inside the question, "when" / "where" ask a date / place only as question words ("and when
    # did ..."), not as clauses ("what did X say when he met Y?").
    if re.search(rf"\bwhen {_AUX}\b|\bwhat (date|day|year|month|time)\b|\bwhich (date|day|year|month)\b|"
                 r"\bon what (exact )?(date|day)\b|\bwhat exact (date|day)\b|\bhow long ago\b|\bwhat dates\b", q):
        return "date"
    if re.search(r"\b(which|what)( \w+){0,3} (parties|frameworks|fields|areas|sectors|issues|topics|"
                 r"countries|organi[sz]ations|products|goods|channels|officials|leaders|measures)\b", q):
        return "list"
    if re.search(r"^(who|whom|whose)\b|\b(who|whom|whose)\b|\b(which|what)( \w+){0,3} (official|person|"
                 r"leader|minister|politician|diplomat|envoy|senator|administrator|advisor|adviser)\b|"
                 r"\bwhat (is|was) the name\b", q):
        return "person"
    if re.search(rf"\bwhere {_AUX}\b|\bin which (city|country|place)\b|\bwhich (city|country|place)\b", q):
        return "place"
    if re.search(r"^why\b|\bwhat (reason|for)\b", q):
        return "reason"
    if re.search(r"\bwhat did .+ (say|tell|stress|affirm|note|emphasi[sz]e|highlight|express|propose|"
                 r"suggest|call|ask|thank)\b|\baccording to\b|\bwhat was .+ message\b|\bwhat message\b", q):
        return "say"
    if re.search(r"\bwhich (fields|areas|sectors|issues|topics|countries|organi[sz]ations|products)\b|"
                 r"\bwhat (fields|areas|sectors|issues|topics|measures|products)\b|\blist\b", q):
        return "list"
    if re.match(r"(is|are|was|were|did|does|do|has|have|had|will|can)\b", q):
        return "yesno"
    return _keyword_type(q)[0]


# What a keyword query asks for, from the word that says so; the measure first: "trade last year
# value" asks for a value, "last year" only says when.
_KEYWORD_TYPES = (
    ("number", r"\b(?:number(?= of)|value|amount|volume|total|figure|size)\b|\bhow (?:many|much)\b"),
    ("date", r"\b(?:date|day|when)\b"),
    ("person", r"\b(?:name|who)\b"),
    ("place", r"\b(?:where|location|venue|site)\b"),
)
_NOT_KEYWORDS = re.compile(
    r"(?:what|which|how|why|who|whom|whose|when|where|tell|give|list|name|in|on|at|and|so|then|"
    r"is|are|was|were|did|does|do|has|have|had|will|can)\b"
)


def _keyword_type(q: str) -> tuple[str, str | None]:
    """For a keyword query ("trong biden phone talks date"): the type asked for and its keyword."""
    if not _NOT_KEYWORDS.match(q):
        for qtype, pattern in _KEYWORD_TYPES:
            m = re.search(pattern, q)
            if m:
                return qtype, m.group(0)
    return "other", None


def extract_entities(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names (runs of capitalised words, folded) and numbers mentioned in `text`."""
    tokens = re.findall(r"[^\W_]+(?:[-'’.][^\W_]+)*", text)
    names: list[str] = []
    run: list[str] = []
    for i, tok in enumerate(tokens):
        lower = fold(tok)
        capital = tok[:1].isupper() and not tok.isdigit()
        # The first word is capitalised anyway: a function word there ("Towards") names nothing, nor
        # does an adverb before the question word ("Roughly how many ...", "Exactly when ...").
        sentence_start = i == 0 and (
            lower in STOPWORDS
            or lower in _FUNCTION_WORDS
            or (len(tokens) > 1 and fold(tokens[1]) in QUESTION_WORDS and not tokens[1][:1].isupper())
        )
        if capital and not sentence_start and lower not in QUESTION_WORDS:
            run.append(tok)
            if re.search(r"['’]s$", tok):  # a possessive ends the name: "Trung's US visit"
                names.append(" ".join(run))
                run = []
            continue
        if run and lower in ("of", "for") and i + 1 < len(tokens) and tokens[i + 1][:1].isupper():
            run.append(tok)
            continue
        if run:
            names.append(" ".join(run))
        run = []
    if run:
        names.append(" ".join(run))
    folded = []
    for name in names:
        f = re.sub(r"['’]s$", "", fold(name).strip())
        if all(w in NOT_NAMES for w in f.split()):
            continue
        f = re.sub(r"^(the|of|for)\s+|\s+(of|for)$", "", f)
        if f and f not in STOPWORDS and f not in folded:
            folded.append(f)
    numbers = tuple(
        dict.fromkeys(
            m.group(0).rstrip(".,")
            for m in re.finditer(r"(?<![\w-])\d[\d.,]*\b", text)
            if not re.fullmatch(r"(19|20)\d\d", m.group(0))  # a year is context, not a figure
        )
    )
    return tuple(folded), numbers


def analyse(text: str, history: Sequence | None = None) -> Question:
    """Analyse `text`; with earlier turns, a follow-up borrows the names it refers back to."""
    text = " ".join(text.split())
    entities, numbers = extract_entities(text)
    answer_nouns = _answer_nouns(text)
    # "regarding" and "concerning" are prepositions here, not the verbs "regard", "concern".
    content = re.sub(r"\b(?:regarding|concerning)\b", " ", text, flags=re.I)
    key = tuple(
        dict.fromkeys(t for t in terms(content) if t not in FRAME_WORDS and t not in answer_nouns)
    )
    qtype = question_type(text)
    context_terms: tuple[str, ...] = ()
    context_entities: tuple[str, ...] = ()
    earlier = ""
    previous = previous_questions(history)
    if previous and is_follow_up(text, entities):
        prev_text = previous[-1]
        prev_entities, _ = extract_entities(prev_text)
        person = salient_person(text, prev_text, previous_answer(history))
        # A place or time the follow-up replaces ("... in Washington?" -> "... in New York?") is no
        # longer context.
        kept = [e for e in prev_entities if not (entities and is_setting(prev_text, e, _SETTING))]
        if person:
            # "What did he thank the US for?" after "Which Prime Minister hosted Blinken?": "he" is
            # the person the answer named; the earlier question's other words are not what is asked.
            context_entities = tuple(e for e in (person, *kept) if e not in entities and not _in(e, person))
            context_entities = (person, *[e for e in context_entities if e != person])
        elif _is_elliptical(text, entities):
            # "And in New York?", "what about trade?": the earlier question, with this part replaced.
            context_entities = tuple(e for e in kept if e not in entities)
            if not context_entities:  # nothing to name it by (a lower-case question): search with it whole
                earlier = prev_text
            replaced = {t for e in prev_entities if e not in kept for t in terms(e)}
            context_terms = tuple(
                dict.fromkeys(
                    t for t in terms(prev_text) if t not in FRAME_WORDS and t not in key and t not in replaced
                )
            )
        else:
            # A new question about the same people ("how long since he was last in the country?"):
            # the earlier names carry over, the earlier topic does not.
            context_entities = tuple(e for e in kept if e not in entities)
        if not context_terms:
            context_terms = tuple(dict.fromkeys(t for e in context_entities for t in terms(e) if t not in key))
    if not key and context_terms:
        # A fragment with no words of its own ("which month was that?") asks what the earlier
        # question asked about: it is read, and its answer judged, by those words.
        key = context_terms
    # Paraphrases for the words borrowed from the previous question too.
    alts = alternatives(text + " " + previous[-1] if context_terms and previous else text)
    return Question(text, qtype, key, entities, numbers, context_terms, context_entities, alts, earlier)


def _in(entity: str, person: str) -> bool:
    return set(entity.split()) <= set(person.split())


def _is_elliptical(text: str, entities: Sequence[str]) -> bool:
    """A fragment that only makes sense as the earlier question with one part replaced."""
    w = words(text)
    content = [t for t in w if t not in STOPWORDS and t not in QUESTION_WORDS]
    return bool(re.match(r"(and |so |then |also )?(what|how) about\b", fold(text))) or len(content) <= 2


def _answer_nouns(text: str) -> set[str]:
    """Stems of the nouns naming the kind of answer: "which city", "what is his official title"."""
    q = fold(text)
    found = set()
    for m in re.finditer(r"\b(?:what|which)((?:\s+\w+){1,4})", q):
        found |= {w for w in m.group(1).split() if w in ANSWER_NOUNS}
    # "how long", "how far": the adjective only says a measure is wanted.
    found |= set(re.findall(r"\bhow (long|far|old|large|big)\b", q))
    # The keyword that types a keyword query ("... visit start date") says what is asked, not about what.
    keyword = _keyword_type(q)[1]
    if keyword:
        found |= set(keyword.split()) - STOPWORDS
    return {stem(w) for w in found}


def alternatives(text: str) -> dict[str, frozenset[str]]:
    """Stemmed key term -> stemmed forms the articles may use instead: other tenses, synonyms."""
    out: dict[str, frozenset[str]] = {}
    for w in words(text):
        if w in STOPWORDS or len(w) < 3:
            continue
        base = _BASE_FORM.get(w, w)
        forms = {base, *IRREGULAR.get(base, "").split()} - {w}
        # Derived nouns stem apart from their verb: "agree"/"agreement", "cooperate"/"cooperation".
        derived = [base + "ment", base.removesuffix("e") + "ion", base.removesuffix("e") + "ation"]
        phrases = [*forms, *derived, SYNONYMS.get(w, ""), SYNONYMS.get(base, ""),
                   _SYNONYMS_BY_STEM.get(stem(w), "")]
        alts = frozenset(t for phrase in phrases for t in terms(phrase)) - {stem(w)}
        if alts:
            out[stem(w)] = out.get(stem(w), frozenset()) | alts
    return out


def previous_questions(history: Sequence | None) -> list[str]:
    """The user's earlier questions, oldest first, from messages dicts or (question, answer) pairs."""
    out: list[str] = []
    for turn in history or ():
        if isinstance(turn, dict):
            if turn.get("role") == "user" and isinstance(turn.get("content"), str):
                out.append(turn["content"])
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            out.append(turn[0])
        elif isinstance(turn, str):
            out.append(turn)
    return out


def previous_answer(history: Sequence | None) -> str:
    """The assistant's last reply in `history` ("" when there is none)."""
    for turn in reversed(list(history or ())):
        if isinstance(turn, dict):
            if turn.get("role") == "assistant" and isinstance(turn.get("content"), str):
                return turn["content"]
            if turn.get("role") == "user":
                return ""
        elif isinstance(turn, (list, tuple)) and len(turn) > 1 and isinstance(turn[1], str):
            return turn[1]
    return ""


def cited_quotes(history: Sequence | None) -> tuple[str, ...]:
    """The sentences the previous answer quoted (its text between citation markers)."""
    said = previous_answer(history)
    return tuple(q.strip() for q in re.split(r"\s*\[\d+\]\s*", said) if q.strip())


_SETTING = ("in", "at", "on", "from", "to", "during")  # prepositions before a place or a time
_SINGULAR_PERSON = re.compile(r"\b(?:he|him|his|she|her|hers)\b", re.I)


def bare_name(run: str) -> str | None:
    """A person's name without the titles and offices before it: "us secretary of state antony
    blinken" -> "antony blinken"; None when nothing of a name is left (an office or a body)."""
    kept = words(run)  # "viet nam" reads as "vietnam", a country, not a person
    # Titles, offices and bodies come first in news style; the name is the run's tail.
    while kept and (
        kept[0] in STOPWORDS or kept[0] in NOT_NAMES or kept[0] in ORG_WORDS or stem(kept[0]) in TITLE_WORDS
        or kept[0] in OFFICE_WORDS
    ):
        kept = kept[1:]
    if len(kept) < 2 or kept[-1] in ORG_WORDS or any(w in ORG_WORDS or w in OFFICE_WORDS for w in kept):
        return None
    return " ".join(kept)


OFFICE_WORDS = frozenset("foreign prime general central external public national international".split())


def salient_person(text: str, prev_question: str, prev_answer: str) -> str | None:
    """Who a singular pronoun ("he", "his", "she") of a follow-up means: after a who-question, the
    first person the answer named that the question did not; otherwise the first person named in
    the earlier question, or else in its answer."""
    if not _SINGULAR_PERSON.search(text):
        return None
    said = re.sub(r"\s*\[\d+\]", "", prev_answer)
    asked = [n for n in (bare_name(r) for r in person_names(prev_question)) if n]
    answered = [n for n in (bare_name(r) for r in person_names(said)) if n]
    if question_type(prev_question) == "person":
        for name in answered:
            if not any(_in(name, a) or _in(a, name) for a in asked) and not is_setting(said, name):
                return name
    if asked:
        return asked[0]
    # A single capitalised name in the question ("Did Blinken meet ...?") is a person too.
    single = [e for e in extract_entities(prev_question)[0] if len(e.split()) == 1 and e not in NOT_NAMES]
    for e in single:
        full = next((n for n in answered if e in n.split()), None)
        return full or e
    return answered[0] if answered else None


def is_follow_up(text: str, entities: Sequence[str]) -> bool:
    w = words(text)
    if not w:
        return False
    if w[0] in ("and", "also", "then", "so") or re.match(r"(what|how) about\b", fold(text)):
        return True
    if any(t in PRONOUNS for t in w):
        return True
    return not entities and len([t for t in w if t not in STOPWORDS]) <= 3


def is_setting(question: str, entity: str, prepositions: tuple[str, ...] = ("in", "at")) -> bool:
    """True when `entity` follows one of `prepositions`: where (or when) the question is set."""
    preps = "|".join(prepositions)
    return bool(re.search(rf"\b(?:{preps})\s+(?:the\s+)?{re.escape(entity)}\b", fold(question)))


def has_number(sentence: str) -> bool:
    return bool(_NUMBER_RE.search(sentence))


def has_date(sentence: str) -> bool:
    return bool(_DATE_RE.search(sentence))


def person_names(sentence: str) -> list[str]:
    """Folded runs of two or more capitalised words, or a title word followed by a name."""
    out = []
    for m in re.finditer(r"(?:[A-ZÀ-Ỹ][\w’'-]+\s+){1,5}[A-ZÀ-Ỹ][\w’'-]+", sentence):
        name = fold(m.group(0))
        last = re.sub(r"['’]s$", "", name.split()[-1])
        if last not in ORG_WORDS and not all(stem(w) in TITLE_WORDS for w in name.split()):
            out.append(name)
    return out


def is_title(term: str) -> bool:
    return term in TITLE_WORDS


# --- what kind of thing a sentence offers (answer-type fit) ---------------------------------

DAY_OF_MONTH = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r" \d{1,2}\b|\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\b"
)
_YEAR = re.compile(rf"(?<![\w-]){YEAR_DIGITS}\b")
_DATE_WORD = re.compile(
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
)
_PLACE = re.compile(r"\b(?:[Ii]n|[Aa]t)\s+(?:the\s+)?([A-ZÀ-Ỹ][\w’'-]*(?:\s+[A-ZÀ-Ỹ][\w’'-]*)*)")
NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozens?)"
)


_LENGTHS = r"(?:metres?|meters?|kilometres?|kilometers?|km|miles?|feet|foot|ft|yards?|m)"


def quantity_pattern(question: Question) -> str | None:
    """For "how many years", "how long" or "how far", a pattern for a figure in that unit ("six
    years", "540 metres")."""
    q = fold(question.text)
    many = re.search(r"\bhow many (\w+)(?: (\w+))?", q)
    if many:
        # "how many Vietnamese students": the counted noun is the plural, not its modifier.
        noun = many.group(2) if (many.group(2) or "").endswith("s") else many.group(1)
        unit = re.escape(re.sub(r"(?<=\w\w)(e?s)$", "", noun)) + r"\w*"
    elif re.search(r"\bhow long\b", q):  # a duration, or a thing's length ("how long is the bridge")
        unit = rf"(?:years?|months?|weeks?|days?|hours?|decades?|{_LENGTHS})"
    elif re.search(r"\bhow far\b", q):
        unit = _LENGTHS
    else:
        return None
    figure = rf"(?:\d[\d.,]*|{NUMBER_WORDS})\s+(?:\w+\s+)?{unit}\b"
    if unit.startswith("year"):  # "how many years", not "how long ago"
        # An anniversary counts years: "the 10th anniversary" answers "how many years".
        figure += r"|\b\d+(?:st|nd|rd|th)\s+anniversary\b"
    return figure


def places(sentence: str, q_names: set[str]) -> set[str]:
    """Named places ("in Hanoi", "at the White House") that the question does not already name."""
    out = set()
    for m in _PLACE.finditer(sentence):
        place = fold(m.group(1))
        if not _DATE_WORD.match(place) and not any(place in q or q in place for q in q_names):
            out.add(place)
    return out


def fits_type(question: Question, sentence: str, own_terms: set[str], q_names: set[str]) -> bool:
    """Does the sentence hold the kind of thing asked for (a figure, a date, a name, a place)?"""
    qtype = question.qtype
    if qtype == "percent":
        return bool(re.search(r"\d\s*(%|per ?cent)", sentence))
    if qtype == "number":
        question_numbers = set(question.numbers)
        # Figures, not the day of a date or a year.
        undated = DAY_OF_MONTH.sub(" ", sentence)
        found = [
            n
            for n in re.findall(r"(?<![\w-])\d[\d.,]*\b", undated)
            if not re.fullmatch(YEAR_DIGITS, n.rstrip(".,"))
        ]
        # With no such figure, a number written in words ("three", "a million") still fits; the
        # digits of a date or a year never do.
        return any(n.rstrip(".,") not in question_numbers for n in found) or (
            not found and has_number(_YEAR.sub(" ", undated))
        )
    if qtype == "date":
        return has_date(sentence)
    if qtype == "person":
        names = [n for n in person_names(sentence) if not any(n in q or q in n for q in q_names)]
        return bool(names) or any(is_title(t) for t in own_terms)
    if qtype == "place":
        return bool(places(sentence, q_names))
    if qtype == "say":
        # "said", "says" and "told" are stopwords, so look for them in the raw words too.
        return bool(own_terms & SPEECH_VERBS) or bool(re.search(r"\b(said|says|told)\b", sentence))
    return True
