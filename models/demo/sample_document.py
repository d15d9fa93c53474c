"""Writes the sample long document that `./pcw demo` ingests, and its questions.

The document is paragraphs in the demo model's language (facts among filler, see data.py), each
about as long as one training document so that the chunker cuts one window per paragraph. Every
name and value comes from the held-out pools: the model never saw any of them in training. The
questions ask about facts near the start, the middle and the end of the document.

    /usr/bin/python3 models/demo/sample_document.py    # writes models/demo/sample-document.txt and sample-questions.tsv
"""
import os
import random

import data
import gguf
from bpe import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
PARAGRAPHS = 12
SEED = 4242


def main():
    md, _ = gguf.read(os.path.join(HERE, "..", "pcw-demo.gguf"))
    tok = Tokenizer(md["tokenizer.ggml.tokens"], [tuple(m.split(" ")) for m in md["tokenizer.ggml.merges"]])
    rng = random.Random(SEED)
    paragraphs, facts = [], []
    for i in range(PARAGRAPHS):
        text, fs = data.make_document(rng, "heldout", rng.randint(4, 6), tok.count, rng.randint(110, 150))
        paragraphs.append(text)
        facts.append(fs)
    with open(os.path.join(HERE, "sample-document.txt"), "w") as f:
        f.write("\n\n".join(paragraphs) + "\n")
    with open(os.path.join(HERE, "sample-questions.tsv"), "w") as f:
        f.write("# paragraph\tquestion\texpected answer (the fact's sentence, as the model is trained to answer)\n")
        for p in (0, PARAGRAPHS // 2, PARAGRAPHS - 1):
            sentence, question, _ = rng.choice(facts[p])
            f.write(f"{p}\t{question}\t{sentence}\n")
    print(f"{PARAGRAPHS} paragraphs, {sum(tok.count(p) for p in paragraphs)} tokens")


if __name__ == "__main__":
    main()
