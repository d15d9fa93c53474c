"""Held-out exact match measured with the PCW runtime: runs `./pcw generate --temperature 0` on
each question of models/demo/heldout-questions.jsonl (written by train.py) and compares the
first line of the continuation with the expected answer and with torch's greedy answer.

    /usr/bin/python3 models/demo/runtime_accuracy.py [--n 100]
"""
import argparse
import json
import os
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "pcw-demo.gguf"))
    args = ap.parse_args()
    with open(os.path.join(HERE, "heldout-questions.jsonl")) as f:
        qs = [json.loads(line) for line in f][:args.n]
    with open(os.path.join(HERE, "reference-logits.json")) as f:
        eos = json.load(f)["eos"]
    correct = same_as_torch = same_ids = 0
    failures = []
    t0 = time.time()
    for q in qs:
        r = subprocess.run([os.path.join(ROOT, "pcw"), "generate", "--model", args.model, "--prompt", q["prompt"],
                            "--temperature", "0", "-n", "48", "--ids"], capture_output=True, text=True, check=True)
        lines = r.stdout.rstrip("\n").split("\n")
        ids = [int(x) for x in lines[-1].split()]
        answer = r.stdout.split("\n")[0].strip()
        torch_ids = q["torch_greedy_ids"]
        correct += answer == q["answer"]
        same_as_torch += answer == q["torch_greedy"]
        # torch's greedy ids stop after the newline token or at EOS (which the runtime does not print)
        if torch_ids and torch_ids[-1] == eos:
            same_ids += ids == torch_ids[:-1]
        else:
            same_ids += ids[:len(torch_ids)] == torch_ids
        if answer != q["answer"]:
            failures.append({"expected": q["answer"], "runtime": answer, "torch": q["torch_greedy"]})
    n = len(qs)
    result = {"n": n, "exact_match": correct / n, "answer_equal_to_torch_greedy": same_as_torch / n,
              "token_ids_equal_to_torch_greedy": same_ids / n, "seconds": round(time.time() - t0, 1), "failures": failures}
    with open(os.path.join(HERE, "runtime-accuracy.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
