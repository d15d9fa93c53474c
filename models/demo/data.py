"""Synthetic documents: facts about invented entities mixed with filler prose, and questions
whose answers are copied from the document.

Format of one example (what the model is trained on and evaluated with):

    <BOS>{document}\n\nQuestion: {question}\nAnswer: {answer}\n<EOS>

The prompt given to the model ends right after "Answer:"; the expected continuation is
" {answer}\n" followed by the EOS token, where the answer restates the fact's sentence as the
document has it ("The code of Hoane is TN-8087."). Restating makes answering an induction
problem: the model turns the question into the sentence's opening (copied from the question just
read), then finds that opening in the document and copies what follows. A bare value ("TN-8087")
needs the same lookup without the opening to match on, and a few-million-parameter model trained
for an hour on two cores did not learn it (0 % held-out after 979 steps). Training examples may carry further question/answer
blocks after the first (same format, each "\n\nQuestion: ...\nAnswer: ...\n<EOS>") to use the
window; evaluation examples have exactly one.
"""
import random

from pools import pool, fresh_name, fresh_profession, VEHICLES, ITEMS, MONTHS

RELATIONS = ["lives_in", "works_as", "code_of", "departs_at", "born_on", "owns", "married_to"]

_FILLER = [
    "The {season} was {adj} that year, and the roads were {adj2}.",
    "Travellers often spoke of the {adj} {land} to the {dir}.",
    "Nobody remembered when the old {building} had been built.",
    "The market opened early and closed late on most days.",
    "A {adj} wind came down from the {land} every evening.",
    "Some said the {building} by the {water} was the oldest in the region.",
    "In the {season}, the {water} froze and the children skated on it.",
    "Letters from the {dir} arrived once a week, usually late.",
    "The council met in the {building} to discuss the harvest.",
    "Many stories were told about the {adj} {land}, but few were true.",
    "The bells rang at noon, as they had for a hundred years.",
    "Rain fell for {num_word} days without stopping.",
    "Merchants carried salt, cloth and iron along the {dir} road.",
    "The {building} was painted {colour} after the great storm.",
    "Few people walked by the {water} after dark.",
    "It was a {adj} place, quiet in the {season} and busy in summer.",
    "The old maps showed a {colour} line along the {water}.",
    "Everyone agreed that the bread there was {adj2}.",
    "The festival of lamps was held at the end of the {season}.",
    "A {colour} flag flew above the {building} on feast days.",
    "Beyond the {land} to the {dir} grew {colour} flowers.",
    "Children played in the square while their parents worked.",
    "The library kept records of every storm for {num_word} centuries.",
    "Nothing much happened there, and people liked it that way.",
]
_WORDS = {
    "season": ["winter", "spring", "autumn", "summer"],
    "adj": ["cold", "mild", "quiet", "strange", "grey", "bright", "long", "gentle", "wild", "dry"],
    "adj2": ["muddy", "dusty", "good", "crowded", "empty", "safe", "narrow", "famous"],
    "land": ["hills", "forest", "valley", "marshes", "plains", "mountains", "moors", "cliffs"],
    "dir": ["north", "south", "east", "west"],
    "building": ["tower", "mill", "bridge", "chapel", "library", "inn", "granary", "lighthouse"],
    "water": ["river", "lake", "harbour", "canal", "pond", "sea"],
    "colour": ["red", "blue", "green", "white", "yellow", "black"],
    "num_word": ["three", "four", "five", "seven", "nine", "twelve"],
}


def filler_sentence(rng):
    t = rng.choice(_FILLER)
    return t.format(**{k: rng.choice(v) for k, v in _WORDS.items()})


_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth"]
_SEASON_OF_MONTH = ["winter", "winter", "spring", "spring", "spring", "summer", "summer", "summer", "autumn",
                    "autumn", "autumn", "winter"]
_MONTH_FILLER = [
    "{month} is the {ordinal} month of the year.",
    "After {month} comes {next}.",
    "In {month} it is {season} in the hills.",
]


def month_sentence(rng):
    """A filler sentence that says something true of one month. In the facts every month sits in
    the same place (a date), so the model has no reason to tell the twelve month tokens apart and
    learns near-identical embeddings for them (mean cosine 0.58); it then cannot copy a date's
    month and answers `October` for every one (0 % exact match on `born on` questions). These
    sentences make each month predict something of its own."""
    i = rng.randrange(12)
    return rng.choice(_MONTH_FILLER).format(month=MONTHS[i], ordinal=_ORDINALS[i], next=MONTHS[(i + 1) % 12],
                                            season=_SEASON_OF_MONTH[i])


def _article(word):
    return "an" if word[0] in "aeiou" else "a"


FRESH_PROFESSIONS = 0.8   # fraction of training professions made fresh (`pools.fresh_profession`)


class Pools:
    """Draws names and values from one split ('train' or 'heldout'). Held-out names come from the
    fixed held-out lists; training names are made fresh for every use (`pools.fresh_name`), and so
    are most training professions (`pools.fresh_profession`), so the model must copy them from the
    document rather than recall them."""

    def __init__(self, split):
        self.split = split
        self.first = pool("first_names", split)
        self.last = pool("surnames", split)
        self.places = pool("places", split)
        self.profs = pool("professions", split)
        self.prefixes = pool("code_prefixes", split)
        self.times = pool("times", split)
        self.years = pool("years", split)
        self.quantities = pool("quantities", split)

    def name(self, kind, rng):
        if self.split == "train":
            return fresh_name(kind, rng)
        return rng.choice({"first_names": self.first, "surnames": self.last, "places": self.places}[kind])

    def profession(self, rng):
        if self.split == "train" and rng.random() < FRESH_PROFESSIONS:
            return fresh_profession(rng)
        return rng.choice(self.profs)


def make_fact(rng, p, rel, used):
    """One fact: (sentence, question, answer). `used` keeps subjects unique within a document."""
    def person():
        while True:
            n = p.name("first_names", rng) + " " + p.name("surnames", rng)
            if n not in used["person"]:
                used["person"].add(n)
                return n

    def place(key):
        while True:
            x = p.name("places", rng)
            if x not in used[key]:
                used[key].add(x)
                return x

    if rel == "lives_in":
        who, where = person(), p.name("places", rng)
        return f"{who} lives in {where}.", f"Where does {who} live?", where
    if rel == "works_as":
        who, prof = person(), p.profession(rng)
        return f"{who} works as {_article(prof)} {prof}.", f"What does {who} work as?", prof
    if rel == "code_of":
        where = place("code")
        code = rng.choice(p.prefixes) + "-" + "%04d" % rng.randrange(10000)
        return f"The code of {where} is {code}.", f"What is the code of {where}?", code
    if rel == "departs_at":
        v = rng.choice(VEHICLES)
        while True:
            where = p.name("places", rng)
            if (v, where) not in used["route"]:
                used["route"].add((v, where))
                break
        t = rng.choice(p.times)
        return f"The {v} to {where} departs at {t}.", f"When does the {v} to {where} depart?", t
    if rel == "born_on":
        who = person()
        d = f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.choice(p.years)}"
        return f"{who} was born on {d}.", f"When was {who} born?", d
    if rel == "owns":
        who, item, n = person(), rng.choice(ITEMS), rng.choice(p.quantities)
        return f"{who} keeps {n} {item}.", f"How many {item} does {who} keep?", n
    if rel == "married_to":
        a, b = person(), person()
        return f"{a} is married to {b}.", f"Who is {a} married to?", b
    raise ValueError(rel)


MONTH_FILLER = 0.35   # fraction of a training document's filler sentences that are month sentences


def make_document(rng, split, n_facts, count_tokens, target_tokens, relations=RELATIONS, month_filler=False):
    """A document of about target_tokens tokens: n_facts facts in random order among filler sentences.

    Returns (text, facts). Facts are (sentence, question, answer) tuples; some people get two facts
    (e.g. where they live and their profession) so the relation matters, not just the name.
    Facts take their relations from `relations`; a short list makes several facts share one, so
    only the subject tells them apart. With `month_filler` (training documents) some filler
    sentences are `month_sentence`s."""
    p = Pools(split)
    used = {"person": set(), "code": set(), "route": set()}
    facts = []
    for _ in range(n_facts):
        rel = rng.choice(relations)
        facts.append(make_fact(rng, p, rel, used))
    # Second facts about an already-named person: rewrite the subject of some person facts.
    people = [f for f in facts if f[1].startswith(("Where does", "What does", "When was", "How many", "Who is"))]
    if len(people) >= 2 and rng.random() < 0.5:
        a, b = rng.sample(range(len(facts)), 2)
        fa, fb = facts[a], facts[b]
        who_a = _subject(fa)
        who_b = _subject(fb)
        if who_a and who_b and _relation_of(fa) != _relation_of(fb):
            facts[b] = (fb[0].replace(who_b, who_a, 1), fb[1].replace(who_b, who_a, 1), fb[2])
    sentences = [f[0] for f in facts]
    tokens = sum(count_tokens(" " + s) for s in sentences)
    fillers = []
    while tokens < target_tokens:
        s = month_sentence(rng) if month_filler and rng.random() < MONTH_FILLER else filler_sentence(rng)
        n = count_tokens(" " + s)
        if tokens + n > target_tokens + 6:
            break
        fillers.append(s)
        tokens += n
    order = sentences + fillers
    rng.shuffle(order)
    return " ".join(order), facts


_PERSON_Q = {"Where does": "lives_in", "What does": "works_as", "When was": "born_on", "How many": "owns", "Who is": "married_to"}


def _relation_of(fact):
    for k, v in _PERSON_Q.items():
        if fact[1].startswith(k):
            return v
    return None


def _subject(fact):
    """The person a person-fact is about (the sentence starts with their two-word name)."""
    if _relation_of(fact) is None:
        return None
    w = fact[0].split(" ")
    return w[0] + " " + w[1]


def prompt_text(document, question):
    return f"{document}\n\nQuestion: {question}\nAnswer:"


def qa_text(question):
    return f"\n\nQuestion: {question}\nAnswer:"


def answer_text(answer):
    return f" {answer}\n"
