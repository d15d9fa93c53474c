"""What a shipped model's held-out accuracy is made of: teacher-forced exact match (every answer
token the argmax, which is what greedy decoding then produces) on the held-out questions that
train.py's final evaluation asks (seed 4242), by the asked fact's relation and by how many facts
of that relation its document holds. The table in models/README.md, "What the accuracy is made of".

    /usr/bin/python3 models/demo/breakdown.py [--model models/pcw-demo.gguf] [--n 200]
"""
import argparse
import collections
import os
import random
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gguf  # noqa: E402
import train  # noqa: E402
from bpe import Tokenizer  # noqa: E402
from model import Config, Transformer  # noqa: E402

QUESTION_RELATIONS = [("Where does", "lives in"), ("What does", "works as"), ("What is the code", "code of"),
                      ("When does the", "departs at"), ("When was", "born on"), ("How many", "owns"),
                      ("Who is", "married to")]


def relation(question):
    return next(r for opening, r in QUESTION_RELATIONS if question.startswith(opening))


def heldout_questions(tok, n, context):
    """train.py's final held-out questions (`train.eval_document`, same seed), with each
    question's relation and the number of the document's facts that share it."""
    rng = random.Random(4242)
    out = []
    for _ in range(n):
        _, f, facts, p_ids, a_ids = train.eval_document(rng, tok, "heldout", context)
        rel = relation(f[1])
        out.append((p_ids, a_ids, rel, sum(relation(g[1]) == rel for g in facts)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(os.path.dirname(HERE), "pcw-demo.gguf"))
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    torch.set_num_threads(2)
    md, tensors = gguf.read(args.model)
    tok = Tokenizer(md["tokenizer.ggml.tokens"], [tuple(m.split(" ")) for m in md["tokenizer.ggml.merges"]])
    cfg = Config(vocab=len(tok.tokens), dim=int(md["llama.embedding_length"]), layers=int(md["llama.block_count"]),
                 heads=int(md["llama.attention.head_count"]), kv_heads=int(md["llama.attention.head_count_kv"]),
                 ffn=int(md["llama.feed_forward_length"]), context=int(md["llama.context_length"]))
    model = Transformer(cfg)
    train.load_gguf_weights(model, tensors)
    model.eval()
    qs = heldout_questions(tok, args.n, cfg.context)
    ok = train.teacher_forced_correct(model, [(p, a) for p, a, _, _ in qs], tok.eos)
    by_relation, by_count = collections.defaultdict(lambda: [0, 0]), collections.defaultdict(lambda: [0, 0])
    for (_, _, rel, same), good in zip(qs, ok):
        for table, key in ((by_relation, rel), (by_count, min(same, 4))):
            table[key][0] += good
            table[key][1] += 1
    print(f"{args.model}: teacher-forced exact match {sum(ok)}/{len(ok)}")
    for _, rel in QUESTION_RELATIONS:
        print(f"| {rel} | {by_relation[rel][0]}/{by_relation[rel][1]} |")
    names = {1: "the only fact of its relation in the document", 2: "one of two facts of its relation",
             3: "one of three", 4: "one of four or more"}
    for k in sorted(by_count):
        print(f"| {names[k]} | {by_count[k][0]}/{by_count[k][1]} |")


if __name__ == "__main__":
    main()
