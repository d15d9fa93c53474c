"""Byte-level BPE (GPT-2 style) trained on the synthetic corpus.

Pre-tokenization uses the GPT-2 regex, so the GGUF can declare tokenizer.ggml.pre = "gpt-2";
bytes map to printable characters with GPT-2's bytes_to_unicode table; merges are applied
lowest rank first, as llama.cpp's BPE tokenizer does.
"""
import collections
import json

import regex

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_PAT = regex.compile(GPT2_PATTERN)

BOS = "<|bos|>"
EOS = "<|eos|>"
SPECIALS = [BOS, EOS]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {v: k for k, v in BYTE_ENCODER.items()}


def pretokenize(text):
    return [("".join(BYTE_ENCODER[b] for b in w.encode("utf-8"))) for w in _PAT.findall(text)]


class Tokenizer:
    def __init__(self, tokens, merges):
        self.tokens = tokens            # id -> string (specials first, then bytes, then merged pieces)
        self.merges = merges            # list of (a, b)
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.bos = self.ids[BOS]
        self.eos = self.ids[EOS]
        self._cache = {}

    @staticmethod
    def train(texts, vocab_size):
        words = collections.Counter()
        for t in texts:
            words.update(pretokenize(t))
        tokens = SPECIALS + [BYTE_ENCODER[b] for b in range(256)]
        words = [(list(w), c) for w, c in words.items()]
        pairs = collections.Counter()
        where = collections.defaultdict(set)
        for i, (w, c) in enumerate(words):
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
                where[(a, b)].add(i)
        merges = []
        while len(tokens) < vocab_size and pairs:
            best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
            if pairs[best] < 2:
                break
            merges.append(best)
            new = best[0] + best[1]
            tokens.append(new)
            for i in list(where[best]):
                w, c = words[i]
                for a, b in zip(w, w[1:]):
                    pairs[(a, b)] -= c
                    if pairs[(a, b)] <= 0:
                        del pairs[(a, b)]
                out, j = [], 0
                while j < len(w):
                    if j + 1 < len(w) and w[j] == best[0] and w[j + 1] == best[1]:
                        out.append(new)
                        j += 2
                    else:
                        out.append(w[j])
                        j += 1
                words[i] = (out, c)
                for a, b in zip(out, out[1:]):
                    pairs[(a, b)] += c
                    where[(a, b)].add(i)
            where.pop(best, None)
        return Tokenizer(tokens, merges)

    def _bpe(self, word):
        r = self._cache.get(word)
        if r is not None:
            return r
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = None, None
            for j in range(len(parts) - 1):
                rk = self.ranks.get((parts[j], parts[j + 1]))
                if rk is not None and (best_rank is None or rk < best_rank):
                    best, best_rank = j, rk
            if best is None:
                break
            parts = parts[:best] + [parts[best] + parts[best + 1]] + parts[best + 2:]
        r = [self.ids[p] for p in parts]
        self._cache[word] = r
        return r

    def encode(self, text, bos=False):
        out = [self.bos] if bos else []
        for w in pretokenize(text):
            out.extend(self._bpe(w))
        return out

    def count(self, text):
        return len(self.encode(text))

    def decode(self, ids):
        bs = bytearray()
        for i in ids:
            t = self.tokens[i]
            if t in SPECIALS:
                continue
            bs.extend(BYTE_DECODER[ch] for ch in t)
        return bs.decode("utf-8", errors="replace")

    def save(self, path):
        with open(path, "w") as f:
            json.dump({"tokens": self.tokens, "merges": [a + " " + b for a, b in self.merges]}, f)

    @staticmethod
    def load(path):
        with open(path) as f:
            d = json.load(f)
        return Tokenizer(d["tokens"], [tuple(m.split(" ")) for m in d["merges"]])
