"""A synthetic news corpus for scale benchmarks, made from the five demo articles.

    python bench/synth.py --articles N --out DIR [--seed S]
    python bench/synth.py --passages 5000 --out DIR      # N picked to give about that many passages

Every article is a fresh mix of sentences from the pool of all demo articles (read with
`rag.documents.read_article`, boilerplate left out), in a new order and paragraphing, with its own
cast: people, countries, cities and organisations from small lists, new dates, years and numbers,
and a per-word choice among synonyms for the frequent words of the corpus. That keeps passages
apart: the project merges "syndicated copies" (passages sharing at least half of their word
5-grams, `rag.lexical`), and `copy_share` reports how many passages of a sample still have one.
Files look like the demo files: a title line, a blank line and the body, or (one in three) a
leading `date YYYY-MM-DD` marker, and sometimes an outlet signature. Deterministic for a seed.
The folder also gets `.questions.jsonl` (hidden, so no reader ingests it): the gold questions
rewritten with the casts of random articles.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data/articles"

FIRST = """Anna Bao Carlos Dana Elif Farid Grace Hana Ivan Jun Kofi Lena Minh Nadia Omar Petra Quang
Rosa Sami Tariq Uma Victor Wen Yara Zoltan Ines Mateo Aiko Bruno Chidi Lars Mei Nikos Priya Tomas""".split()
LAST = """Alvarez Becker Chen Duarte Eriksen Fofana Grant Haddad Ito Jensen Kowalski Lindqvist Moreau
Novak Okafor Petrov Quispe Rahman Sato Tanaka Urquhart Varga Weber Xu Yilmaz Zhou Baptiste Castillo
Dimitrov Engel Ferreira Gallo Horvat Ibsen Kaur Laine Mensah Nakamura Oyelaran Park""".split()
COUNTRIES = [("Norland", "Norlandic"), ("Estavia", "Estavian"), ("Valdoria", "Valdorian"),
             ("Corvania", "Corvanian"), ("Meridia", "Meridian"), ("Zelmora", "Zelmoran"),
             ("Kastria", "Kastrian"), ("Lunesia", "Lunesian"), ("Ardenia", "Ardenian"),
             ("Brevonia", "Brevonian"), ("Solvena", "Solvenan"), ("Tavaria", "Tavarian"),
             ("Orsenia", "Orsenian"), ("Pelagia", "Pelagian"), ("Rovania", "Rovanian")]
CITIES = """Port Elsin|Varnholm|Castel Rua|Mirabad|Kestrel Bay|Olvana|Drummore|Sen Tao|Larkspur|Belmont
Falls|Aurelia|Tiberon|Quillon|Nova Serra|Halden|Ostrowo|Marisco|Pinecrest""".replace("\n", " ").split("|")
BLOCS = ["ASEAN", "the Coastal Forum", "the Northern Compact", "the Delta Union", "the Ocean Council",
         "the Meridian League", "the Tri-Sea Group", "the Harbour Alliance"]
SEAS = ["East Sea", "Amber Sea", "Coral Strait", "Northern Gulf", "Jade Sea", "Silver Bay"]
RIVERS = ["Mekong", "Varna", "Solis", "Amur Delta", "Kestrel", "Ostra"]
AGENCIES = ["USAID", "the Development Agency", "the Aid Office", "the Overseas Fund", "the Cooperation Board"]
OUTLET_SIGNATURES = ["— VNS", "Source: VNA", "- (VLLF)", "— VNA", ""]
MONTHS = ("January February March April May June July August September October November December").split()
TITLES = [
    "{A} and {B} pledge to deepen {f} cooperation",
    "{p} receives {q} in {c}",
    "{B} commits to step up all-around ties with {A}",
    "Talks in {c} open new chapter for {A}-{B} relations",
    "{A} wants stronger {f} links with {B}, says {p}",
    "{q} visits {A} on {n}th anniversary of partnership",
    "{A} and {B} review {f} agenda",
    "{p} and {q} discuss regional issues",
]
FIELDS = ["trade", "education", "climate", "technology", "health", "energy", "maritime", "investment"]

# Frequent words of the demo corpus and interchangeable words for them (first letter's case kept).
SYNONYMS = """
development|growth|progress|advancement|further development|steady growth
cooperation|collaboration|coordination|closer cooperation|practical cooperation|joint work
relations|ties|links|dealings|long-standing relations|friendly ties
bilateral|two-way|mutual|joint|bilateral and multilateral
comprehensive|broad|wide-ranging|all-round
region|area|neighbourhood
world|globe|wider world
peace|harmony|calm|concord|lasting peace
stability|order|steadiness|security
important|significant|key|crucial
talks|discussions|consultations|frank talks|in-depth talks
meetings|sessions|encounters|regular meetings|working meetings
results|outcomes|achievements|gains|tangible results|early results
outcomes|results|achievements
issues|matters|questions|topics|pressing issues
welcomed|hailed|praised|applauded
affirmed|confirmed|reaffirmed|underlined
stressed|emphasised|underlined|highlighted
emphasized|stressed|underscored
said|noted|remarked|stated|told reporters|said at the meeting
suggested|proposed|recommended
expressed|voiced|conveyed
highlighted|underlined|noted
reiterated|repeated|restated
promote|boost|advance|foster
promoting|boosting|advancing|fostering
enhance|strengthen|improve|deepen
strong|robust|solid|vigorous
positive|encouraging|favourable|good
exchanges|contacts|visits
contacts|exchanges|links
especially|particularly|notably
sides|parties|partners
countries|nations|states
leaders|chiefs|heads
trade|commerce
education|schooling|learning
training|skills
friendship|goodwill|amity
significance|importance|weight
importance|significance|priority
mutual|shared|common
deepen|broaden|intensify
expand|widen|broaden|extend
measures|steps|actions
directions|orientations|priorities
orientations|directions|guidelines
hosted|received|welcomed
received|met|welcomed|hosted
commitment|pledge|dedication
fields|areas|sectors|domains
areas|fields|sectors
international|global|worldwide
institutions|systems|regimes
independence|autonomy|self-determination
integrity|unity|wholeness
concern|interest
successful|fruitful|productive
official|formal|state
high-level|top-level|senior
people|citizens|populations
foundations|pillars|cornerstones
foundation|basis|groundwork
relationship|partnership|bond
ties|relations|links|bonds
continue|seek|aim
step up|scale up|ramp up|stand up
consequences|legacies|effects
recent|latest
active|energetic|dynamic
dynamic|vibrant|lively
prosperous|thriving|flourishing
strengthen|reinforce|bolster
benefits|advantages|gains
framework|structure|setting
phone call|telephone conversation|phone conversation|call
phone talks|telephone talks|call
agreed|decided
Secretary of State|Foreign Secretary|chief diplomat|top diplomat
Party General Secretary|Party leader|Party chief|General Secretary
General Secretary|Party leader|Secretary General
also|likewise|further|additionally
during|throughout|in the course of
over the past|in the past|during the past
role|part|function
political|governmental
wishes|hopes|wants
climate change|global warming|the climate crisis
as well as|along with|and also|together with
basis|foundation|grounds
response|action|adaptation
invitation|offer
chief|leader|head
respect|regard
such as|including|like
working sessions|talks|meetings|working meetings
regional|area-wide|neighbourhood
investment|finance|capital
science and technology|research and innovation|science and innovation
science-technology|research-innovation|science-innovation
trade and investment|commerce and finance|business and investment
trade-investment|commerce-finance|business-investment
education and training|schooling and skills|learning and training
education-training|schooling-skills|learning-training
substantive|meaningful|concrete|practical
diplomat|envoy|official
reception|meeting|welcome
highly|greatly|warmly
contributing|adding|helping
including|among them|notably
leader|chief|head
principles|tenets|values
common|shared|joint
held|hosted|conducted
saying|stating|noting
addressing|tackling|handling
always|consistently|invariably
delegation|team|mission
trip|journey|tour
relevant|competent|concerned
agencies|bodies|authorities
arrange|organise|schedule
appropriate|suitable|convenient
major|main|principal|key
understanding|trust|comprehension
level|stage|height
benefit|good|interest
success|achievement|accomplishment
mechanisms|arrangements|instruments
frameworks|structures|platforms
across|in|throughout
conveyed|sent|passed on
nation|country|state
thanked|expressed gratitude to|was grateful to
compared notes|exchanged views|traded views
regards|greetings|best wishes
leading|foremost|top
partner|ally|friend
digital transformation|digitalisation|the digital economy
transition|shift|transformation
high-ranking|senior|top
respecting|honouring|upholding
independent|sovereign|autonomous
self-resilient|self-reliant|resilient
officials|representatives|authorities
friends|partners|allies
once again|again|once more
thanks|gratitude|appreciation
soon|shortly|before long
praised|lauded|commended
emphasising|stressing|underlining
gratitude|thanks|appreciation
greetings|regards|good wishes
assessment|view|evaluation
values|prizes|appreciates
desires|wants|hopes
desire|wish|aspiration
discussed|talked over|reviewed
advance|raise|lift
conversation|call|exchange
capacity|role|position
applauded|welcomed|praised
backs|supports|endorses
carry out|implement|realise
create|build|lay
valued|appreciated|prized
particularly|especially|notably
through|via|by way of
partners|allies|friends
community|diaspora|population
proposed|suggested|put forward
efforts|endeavours|work
pleasure|delight|joy
supports|backs|endorses
reviewed|assessed|looked back on
achievements|accomplishments|successes
maintaining|keeping|preserving
strategic|long-term
operations|missions|activities
increasing|growing|rising
efficiency|effectiveness|success
lauded|praised|commended
consolidating|cementing|reinforcing
trust|confidence
creating|generating|building
momentum|impetus|drive
opening|starting|launching
period|phase|era|chapter
marks|celebrates|commemorates
practically|concretely|in practice
commended|praised|lauded
position|standing|status
supporting|backing|assisting
resources|funds|means
budget|funding|money
settle|resolve|deal with
high-quality|skilled|top-quality
personnel|human resources|staff
in line with|in accordance with|consistent with|under
representatives|delegates|envoys
people-to-people|community|cultural
global|worldwide|international
noting|observing|pointing out
requested|asked|instructed
extended|issued|offered
hopes|wishes|expects
recalling|remembering|reviewing
believed|was confident|was convinced
provided|gave|offered
effectively|efficiently|successfully
implement|carry out|realise
multiple|many|various|numerous
appreciated|valued|praised
told|informed|said to
the two countries|both countries|the two nations|both nations
the two sides|both sides|the two parties|both parties
in the region and the world|regionally and globally|in the region and beyond|across the region and the world
For his part,|In turn,|In response,|For his side,
at an early date|soon|in the near future
in the coming time|in the time ahead|in the future|going forward
over the past time|so far|in recent times|to date
waters|seas|maritime zones
disputes|conflicts|differences
peaceful|non-violent|diplomatic
effective|workable|functional
fully|completely|thoroughly
projects|programmes|schemes
students|learners|scholars
number|count|figure
efficient|effective
economic|business|commercial
exports|shipments|goods
products|goods|produce
conditions|circumstances|terms
practical|concrete|tangible
outstanding|remarkable|notable
challenges|threats|problems
growing|rising|expanding
delight|pleasure|joy
partnership|cooperation framework|strategic partnership|close partnership|partnership ties
support|backing|help|strong support|continued support
new|fresh|higher|further
sovereignty|self-rule|statehood|sovereign rights
territorial|territorial|national
attaches|places|puts|gives
considers|regards|sees|treats
years|decades|seasons|periods
war|conflict|wartime
time|period|stage
exchange|trade|sharing|swap
green|clean|low-carbon|sustainable
law|rules|legal norms
help|assist|aid|enable
first|inaugural|maiden|initial
occasion|time|moment
large|whole|broad
take|bring|lift
heights|levels|stages
economy|economic ties|markets
"""
SYNONYM_GROUPS = [line.split("|") for line in SYNONYMS.strip().splitlines()]
SYNONYM_OF = {group[0].lower(): group for group in SYNONYM_GROUPS}

# The demo corpus's entities, longest spellings first, by role in the per-article cast.
PEOPLE = {
    "leader": ["Nguyễn Phú Trọng", "Nguyen Phu Trong", "Trọng", "Trong"],
    "visitor": ["Antony Blinken", "Blinken"],
    "president": ["Joe Biden", "Biden"],
    "minister": ["Bùi Thanh Sơn", "Bui Thanh Son", "Son"],
    "premier": ["Phạm Minh Chính", "Pham Minh Chinh", "Chinh"],
    "envoy": ["Lê Hoài Trung", "Le Hoai Trung", "Trung"],
    "p1": ["Jake Sullivan"], "p2": ["Samantha Power"], "p3": ["Daniel Kritenbrink"],
    "p4": ["Sasha Baker"], "p5": ["Guy Ryder"], "p6": ["John Kerry"],
}
PLACES = {
    "home": ["Việt Nam", "Vietnam", "VIETNAM"], "home_adj": ["Vietnamese"],
    "partner": ["the United States", "The United States", "the US", "The US", "United States", "US", "USA", "America"], "partner_adj": ["American"],
    "capital": ["HÀ NỘI", "Hà Nội", "Hanoi"], "partner_capital": ["Washington DC", "WASHINGTON", "Washington"],
    "city": ["New York"], "bloc": ["ASEAN"], "sea": ["East Sea"], "river": ["Mekong"], "agency": ["USAID"],
}


# Openings and endings put around some sentences (short sentences would otherwise repeat verbatim).
OPENINGS = ["Meanwhile, ", "At the meeting, ", "According to officials, ", "In {capital}, ", "On {weekday}, ",
            "Separately, ", "Earlier, ", "Later in the day, ", "Speaking at the talks, ", "In a statement, ",
            "As reported, ", "During the visit, ", "At the same time, ", "In {partner_capital}, ", "Notably, "]
ENDINGS = [", officials said.", ", according to a statement.", ", the ministry said.", ", sources said.",
           " on {weekday}.", ", it was reported.", " in {capital}.", ", diplomats noted."]
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_LOWER_AFTER_OPENING = {"He", "She", "The", "They", "Both", "It", "This", "That", "There", "On", "In", "At",
                        "During", "For", "Regarding", "To", "Positive", "Within", "Among"}


def frame(sentence: str, cast: dict, rng: random.Random) -> str:
    """Sometimes an opening phrase, sometimes an attribution at the end, as reporters vary them."""
    names = {"capital": cast["capital"][0], "partner_capital": cast["partner_capital"][0],
             "weekday": rng.choice(WEEKDAYS)}
    if rng.random() < 0.45:
        first, _, rest = sentence.partition(" ")
        if first in _LOWER_AFTER_OPENING:
            first = first.lower()
        sentence = rng.choice(OPENINGS).format(**names) + first + " " + rest
    if rng.random() < 0.35 and sentence.endswith("."):
        sentence = sentence[:-1] + rng.choice(ENDINGS).format(**names)
    return sentence


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_ENTITY = {spelling: (role, i == len(names) - 1 or len(names[i].split()) == 1)
           for role, names in {**PEOPLE, **PLACES}.items() for i, spelling in enumerate(names)}
TOKEN_RE = re.compile(
    rf"(?P<entity>\b(?:{_alternation(_ENTITY)})\b)"
    rf"|(?P<monthday>\b(?:{'|'.join(MONTHS)}) \d{{1,2}}\b)"
    r"|(?P<ordinal>(?<![-\w])\d+(?:st|nd|rd|th)\b)"
    r"|(?P<year>(?<![-\w])(?:19|20)\d\d\b)"
    r"|(?P<number>(?<![-\w])\d+(?:[.,]\d+)*\b)"
    rf"|(?P<word>\b(?i:{_alternation(SYNONYM_OF)})\b)"
)


def sentence_pool() -> list[str]:
    """Every sentence of the demo articles' text (boilerplate left out), in file order."""
    from rag.documents import find_articles, read_article, sentence_spans

    pool = []
    for path in find_articles(DEMO):
        article = read_article(path, path.name)
        for b_start, b_end in article.blocks:
            for s, e in sentence_spans(article.text[b_start:b_end], b_start):
                sentence = article.text[s:e]
                if len(sentence.split()) >= 6 and sentence[-1] in ".!?\"”":
                    pool.append(sentence)
    return pool


def new_cast(rng: random.Random) -> dict[str, tuple[str, str]]:
    """One article's people, places and organisations: role -> (full name, short name)."""
    cast = {}
    people = rng.sample([(f, la) for f in FIRST for la in LAST], len(PEOPLE))
    for role, (first, last) in zip(PEOPLE, people, strict=True):
        cast[role] = (f"{first} {last}", last)
    home, partner = rng.sample(COUNTRIES, 2)
    capital, partner_capital, city = rng.sample(CITIES, 3)
    cast.update(home=(home[0], home[0]), home_adj=(home[1], home[1]), partner=(partner[0], partner[0]),
                partner_adj=(partner[1], partner[1]), capital=(capital, capital),
                partner_capital=(partner_capital, partner_capital), city=(city, city))
    for role, names in (("bloc", BLOCS), ("sea", SEAS), ("river", RIVERS), ("agency", AGENCIES)):
        name = rng.choice(names)
        cast[role] = (name, name)
    cast["year"] = (str(rng.randint(1995, 2025)),) * 2
    return cast


def rewrite(text: str, cast: dict, rng: random.Random) -> str:
    """`text` with the cast's names, new dates and numbers, and synonyms drawn word by word."""

    def sub(m: re.Match) -> str:
        kind, s = m.lastgroup, m.group(0)
        if kind == "entity":
            role, short = _ENTITY[s]
            name = cast[role][1 if short and role in PEOPLE else 0]
            return name.upper() if s.isupper() and role in ("home", "capital", "partner_capital") else name
        if kind == "monthday":
            return f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"
        if kind == "ordinal":
            n = rng.randint(2, 60)
            return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
        if kind == "year":
            return cast["year"][0] if rng.random() < 0.7 else str(rng.randint(1950, 2025))
        if kind == "number":
            digits = re.sub(r"\D", "", s)
            value = rng.randint(max(1, 10 ** (len(digits) - 1)), 10 ** len(digits) - 1)
            return f"{value:,}" if "," in s else (f"{value / 10:.1f}" if "." in s else str(value))
        choice = rng.choice(SYNONYM_OF[s.lower()])
        return choice[0].upper() + choice[1:] if s[0].isupper() else choice

    return TOKEN_RE.sub(sub, text)


def make_article(pool: list[str], rng: random.Random) -> str:
    """One synthetic article: title or date marker, paragraphs of mixed, rewritten sentences."""
    cast = new_cast(rng)
    sentences = [frame(rewrite(s, cast, rng), cast, rng) for s in rng.sample(pool, rng.randint(6, 18))]
    paragraphs, i = [], 0
    while i < len(sentences):
        n = rng.randint(1, 3)
        paragraphs.append(" ".join(sentences[i : i + n]))
        i += n
    body = ("\n\n" if rng.random() < 0.5 else "\n").join(paragraphs)
    signature = rng.choice(OUTLET_SIGNATURES)
    if signature:
        body += ("\n" + signature) if signature.startswith("Source") else (" " + signature)
    if rng.random() < 1 / 3:
        date = f"{cast['year'][0]}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return f" date {date} {body}\n"
    title = rng.choice(TITLES).format(
        A=cast["home"][0], B=cast["partner"][0], c=cast["capital"][0], p=cast["leader"][0],
        q=cast["visitor"][0], f=rng.choice(FIELDS), n=rng.randint(2, 60))
    return f"{title}\n\n{body}\n"


def generate(articles: int, out: Path, seed: int = 0) -> list[Path]:
    """Write `articles` files into `out` (created; old `.txt` files there removed) and questions.jsonl."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.txt"):
        old.unlink()
    pool = sentence_pool()
    rng = random.Random(seed)
    paths = []
    for i in range(articles):
        path = out / f"{i:06d}.txt"
        path.write_text(make_article(pool, rng), encoding="utf-8")
        paths.append(path)
    questions_rng = random.Random(seed + 1)
    with (ROOT / "eval/gold.jsonl").open(encoding="utf-8") as handle, (out / ".questions.jsonl").open("w") as q:
        for line in handle:
            if line.strip():
                cast = new_cast(questions_rng)
                question = rewrite(json.loads(line)["question"], cast, questions_rng)
                q.write(json.dumps({"question": question}, ensure_ascii=False) + "\n")
    return paths


def passage_texts(paths: list[Path]) -> dict[str, list[str]]:
    """The project's own passages (as ingest splits them) of each file."""
    from rag.config import Settings
    from rag.documents import read_article, split_passages

    chunk = Settings.from_env().chunk_tokens
    return {p.name: [n.get_content() for n in split_passages(read_article(p, p.name), chunk)] for p in paths}


def passages_per_article(sample: int = 200, seed: int = 12345) -> float:
    """Mean passages per synthetic article, measured on `sample` articles (in a temporary folder)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        per_file = passage_texts(generate(sample, Path(tmp), seed))
    return sum(map(len, per_file.values())) / len(per_file)


def articles_for(passages: int, per_article: float | None = None) -> int:
    """Articles needed for about `passages` passages."""
    return max(1, math.ceil(passages / (per_article or passages_per_article())))


def copy_share(paths: list[Path], sample: int = 300, seed: int = 0) -> dict:
    """Share of sampled passages that have a copy (rag.lexical's rule) in another file of `paths`."""
    from rag.lexical import COPY_THRESHOLD, shingles

    per_file = passage_texts(paths)
    items = [(source, shingles(text)) for source, texts in per_file.items() for text in texts]
    postings: dict[tuple, list[int]] = defaultdict(list)
    for i, (_, sh) in enumerate(items):
        for s in sh:
            postings[s].append(i)
    rng = random.Random(seed)
    picked = rng.sample(range(len(items)), min(sample, len(items)))
    with_copy = 0
    for i in picked:
        source, mine = items[i]
        hits: dict[int, int] = defaultdict(int)
        for s in mine:
            for j in postings[s]:
                if items[j][0] != source:
                    hits[j] += 1
        # The same rule as LexicalIndex.copies: containment either way.
        if any(max(n / len(mine), n / len(items[j][1])) >= COPY_THRESHOLD for j, n in hits.items()):
            with_copy += 1
    return {"passages": len(items), "sampled": len(picked), "with_copy": with_copy,
            "share": with_copy / max(len(picked), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--articles", type=int)
    size.add_argument("--passages", type=int, help="pick the number of articles for about this many passages")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=int, default=300, help="passages sampled for the copy share")
    args = parser.parse_args()

    n = args.articles
    if n is None:
        per = passages_per_article()
        n = articles_for(args.passages, per)
        print(f"{per:.2f} passages per article (measured on 200) -> {n} articles")
    paths = generate(n, args.out, args.seed)
    share = copy_share(paths, args.sample, args.seed)
    print(f"wrote {len(paths)} articles to {args.out}: {share['passages']} passages; "
          f"{share['with_copy']}/{share['sampled']} sampled passages ({share['share']:.1%}) have a copy "
          f"(>= 50% shared word 5-grams) in another file")


if __name__ == "__main__":
    main()
