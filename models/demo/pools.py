"""Name and value pools for the PCW demo corpus, split into disjoint training and held-out parts.

Every entity name and every answer value that a held-out question uses comes from a held-out
pool that the training corpus (and the tokenizer's training text) never draws from. The split
is deterministic (fixed seed), so `python3 pools.py` always rewrites the same `names.json`.

Later task generators (the Java eval harness) read `names.json` and should draw from the
`heldout` pools only, so no evaluation question reuses a name or value seen in training.
"""
import json
import os
import random

SEED = 20261129
HELDOUT_FRACTION = 0.15

_ONSETS = ["b", "br", "c", "d", "dr", "f", "g", "gr", "h", "j", "k", "kr", "l", "m", "n", "p",
           "r", "s", "st", "t", "th", "tr", "v", "w", "z", "sh", "ch", "q", "y", "fl"]
_VOWELS = ["a", "e", "i", "o", "u", "ae", "ai", "ei", "ou", "ia", "y"]
_CODAS = ["", "", "", "n", "r", "l", "s", "th", "m", "nd", "rk", "x", "v", "sk"]
_SURNAME_ENDS = ["ov", "sen", "by", "wick", "mere", "ton", "ard", "ell", "ley", "dal", "rix", "ano", "ez", "holm", "feld"]
_PLACE_ENDS = ["ia", "mor", "heim", "gard", "port", "ford", "stad", "holt", "vale", "mouth", "ora", "esh", "ith", "ane", "burg"]

PROFESSIONS = [
    "baker", "miller", "weaver", "potter", "carpenter", "tailor", "butcher", "brewer", "mason", "smith",
    "farmer", "fisher", "shepherd", "hunter", "sailor", "soldier", "merchant", "banker", "clerk", "scribe",
    "teacher", "doctor", "nurse", "surgeon", "chemist", "lawyer", "judge", "mayor", "priest", "monk",
    "painter", "sculptor", "singer", "dancer", "actor", "poet", "writer", "printer", "binder", "glazier",
    "roofer", "plumber", "miner", "driver", "pilot", "courier", "guard", "jailer", "cook", "gardener",
    "herbalist", "jeweller", "tanner", "cooper", "chandler", "saddler", "locksmith", "clockmaker", "engineer",
    "architect", "surveyor", "astronomer", "botanist", "geologist", "librarian", "archivist", "translator",
    "interpreter", "beekeeper", "falconer", "ferryman", "innkeeper", "stonecutter", "woodcarver", "navigator",
    "cartographer", "apothecary", "silversmith", "goldsmith", "blacksmith", "harpist", "drummer", "juggler",
    "acrobat", "barber", "butler", "gamekeeper", "lamplighter", "mapmaker", "nightwatchman", "ropemaker",
    "shipwright", "wheelwright", "fletcher", "tinker", "vintner", "weaponsmith", "zookeeper", "optician",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
# Relation vocabulary (not names or values): shared by training and held-out questions.
VEHICLES = ["train", "ferry", "coach", "boat", "bus", "tram", "barge", "airship"]
ITEMS = ["goats", "sheep", "books", "lanterns", "horses", "barrels", "maps", "candles", "coins", "chairs",
         "boats", "clocks", "apples", "hens", "rings", "keys", "bells", "kites", "drums", "jars"]


def _syllable(rng):
    return rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)


def _make(rng, n, build):
    out, seen = [], set()
    while len(out) < n:
        w = build(rng)
        if 4 <= len(w) <= 11 and w not in seen:
            seen.add(w)
            out.append(w)
    return out


def _split(items, rng):
    items = list(items)
    rng.shuffle(items)
    k = int(round(len(items) * HELDOUT_FRACTION))
    return sorted(items[k:]), sorted(items[:k])


def _build():
    rng = random.Random(SEED)
    first = _make(rng, 900, lambda r: (_syllable(r) + _syllable(r)).capitalize())
    taken = set(first)
    surnames = [s for s in _make(rng, 1000, lambda r: (_syllable(r) + r.choice(_SURNAME_ENDS)).capitalize()) if s not in taken][:900]
    taken |= set(surnames)
    places = [p for p in _make(rng, 1000, lambda r: (_syllable(r) + r.choice(_PLACE_ENDS)).capitalize()) if p not in taken][:900]
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    prefixes = [a + b for a in letters for b in letters]
    times = ["%02d:%02d" % (h, m) for h in range(24) for m in range(60)]
    years = [str(y) for y in range(1600, 2100)]
    quantities = [str(n) for n in range(2, 1000)]
    pools = {}
    for name, items in [("first_names", first), ("surnames", surnames), ("places", places),
                        ("professions", PROFESSIONS), ("code_prefixes", prefixes), ("times", times),
                        ("years", years), ("quantities", quantities)]:
        train, held = _split(items, rng)
        pools[name] = {"train": train, "heldout": held}
    return pools


POOLS = _build()


def pool(kind, split):
    """The list of strings of one kind ('first_names', 'places', ...) for split 'train' or 'heldout'."""
    return POOLS[kind][split]


def training_names():
    """Every entity name string the training corpus can contain (first names, surnames, places)."""
    return set(POOLS["first_names"]["train"]) | set(POOLS["surnames"]["train"]) | set(POOLS["places"]["train"])


def heldout_names():
    return set(POOLS["first_names"]["heldout"]) | set(POOLS["surnames"]["heldout"]) | set(POOLS["places"]["heldout"])


_HELDOUT_NAMES = None


def fresh_name(kind, rng):
    """A training-split name made on the spot by the pools' own construction ('first_names',
    'surnames' or 'places'), never one of the held-out names of any kind.

    Training documents use fresh names rather than the fixed `train` lists: with a few hundred
    names seen thousands of times, a small model learns to recall them and does not learn to copy
    a name it has never seen, which is what every held-out question asks of it."""
    global _HELDOUT_NAMES
    if _HELDOUT_NAMES is None:
        _HELDOUT_NAMES = heldout_names()
    build = {"first_names": lambda r: (_syllable(r) + _syllable(r)).capitalize(),
             "surnames": lambda r: (_syllable(r) + r.choice(_SURNAME_ENDS)).capitalize(),
             "places": lambda r: (_syllable(r) + r.choice(_PLACE_ENDS)).capitalize()}[kind]
    while True:
        w = build(rng)
        if 4 <= len(w) <= 11 and w not in _HELDOUT_NAMES:
            return w


_PROFESSION_ENDS = ["er", "ist", "smith", "wright", "maker", "man", "keeper", "ner", "ler", "ian"]


def fresh_profession(rng):
    """A training-split profession made on the spot ("draimsmith", "kouther"), never a held-out one.

    The fixed list has 85 training professions; a model that sees only those learns to recall
    them (94 % exact match on training-split `works as` questions, 5 % on held-out ones) rather than
    copy the word the document gives."""
    heldout = set(POOLS["professions"]["heldout"])
    while True:
        w = _syllable(rng) + rng.choice(_PROFESSION_ENDS)
        if 4 <= len(w) <= 12 and w not in heldout:
            return w


def write_json(path):
    doc = {
        "description": "Disjoint training and held-out pools of the PCW demo model's synthetic corpus. "
                       "Held-out questions draw every entity name and answer value from the 'heldout' lists; "
                       "the training corpus and the tokenizer's training text only from the 'train' lists. "
                       "A code is PREFIX-DDDD (prefix from code_prefixes, four random digits); a date is "
                       "'D Month YYYY' (day 1-28, any month, year from years); a time is HH:MM; a quantity is an integer. "
                       "Person names are 'First Surname'. vehicles and items are relation vocabulary shared by both splits.",
        "seed": SEED,
        "heldout_fraction": HELDOUT_FRACTION,
        "vehicles": VEHICLES,
        "items": ITEMS,
        "months": MONTHS,
        "pools": POOLS,
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def _check():
    for kind, p in POOLS.items():
        assert not set(p["train"]) & set(p["heldout"]), kind
    assert not training_names() & heldout_names()


_check()

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.json")
    write_json(out)
    for k, p in POOLS.items():
        print(k, len(p["train"]), len(p["heldout"]))
