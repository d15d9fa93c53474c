"""Trains the PCW demo model and exports it.

    models/demo/setup.sh
    /usr/bin/python3 models/demo/train.py --time-budget 48      # or --steps N for a fixed schedule

Stages: (1) byte-level BPE trained on training-split documents; (2) a Llama-architecture model
trained on freshly generated documents with questions (answer tokens weighted more), with
checkpoints in models/demo/ckpt/ (resumed automatically); (3) weights rounded to F16, held-out
exact-match accuracy measured with greedy decoding, reference logits for the runtime's test,
the loss curve, and models/pcw-demo.gguf.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import data  # noqa: E402
import gguf  # noqa: E402
import pools  # noqa: E402
from bpe import Tokenizer, GPT2_PATTERN  # noqa: E402
from model import Config, Transformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
ANSWER_WEIGHT = 5.0


# ---------------------------------------------------------------- data

def tokenizer_corpus(n, seed):
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        doc, facts = data.make_document(rng, "train", rng.randint(2, 8), lambda s: len(s) // 4, rng.randint(30, 220))
        t = doc
        for f in facts:
            t += data.qa_text(f[1]) + data.answer_text(f[0])
        texts.append(t)
    return texts


DOC_SCALE = 1   # full-length documents are this many times 118-212 tokens (4 for the long-context variants)


def eval_document(rng, tok, split, context=256):
    """One evaluation document: a full-length document (~120-220 tokens times DOC_SCALE) with 4-8
    facts and one question about one of them. Returns (prompt_text, asked_fact, facts, prompt_ids,
    answer_ids) with answer_ids ending in EOS; facts are the document's (sentence, question,
    value) tuples."""
    while True:
        doc, facts = data.make_document(rng, split, rng.randint(4, 8), tok.count, rng.randint(118 * DOC_SCALE, 212 * DOC_SCALE))
        f = rng.choice(facts)
        prompt = data.prompt_text(doc, f[1])
        p_ids = tok.encode(prompt, bos=True)
        a_ids = tok.encode(data.answer_text(f[0])) + [tok.eos]
        if len(p_ids) + len(a_ids) <= context:
            return prompt, f, facts, p_ids, a_ids


def eval_example(rng, tok, split, context=256):
    """`eval_document` as (prompt_text, answer, prompt_ids, answer_ids)."""
    prompt, f, _, p_ids, a_ids = eval_document(rng, tok, split, context)
    return prompt, f[0], p_ids, a_ids


CONTRAST_DOCUMENTS = 0.5   # fraction of training documents with only two relations
SINGLE_RELATION = 0.0      # fraction of training documents whose facts all share one relation
DOCUMENT_WEIGHT = 1.0      # loss weight of document and question tokens (answers: ANSWER_WEIGHT)
VALUE_WEIGHT = ANSWER_WEIGHT   # loss weight of the answer's value tokens (the part after the restated opening)
# Single-relation documents draw their relation from those whose values the model misses when
# several facts share the relation (values of digits, professions); names as values (lives in,
# married to) are found every time (models/README.md, "What the accuracy is made of").
SINGLE_RELATIONS = ["works_as", "code_of", "departs_at", "born_on", "owns"]
SHORT_PHASE = 0.35   # fraction of training spent on short documents only


def short_batch_probability(progress):
    """Short documents first (the copy mechanism forms much sooner with few facts and little
    filler), then mostly full-length documents."""
    return 1.0 if progress < SHORT_PHASE else 0.25


def train_example(rng, tok, short, context):
    """Token ids and per-token loss weights: the document, then a question/answer block for as
    many of its facts as fit the window (answer tokens, newline and EOS weighted ANSWER_WEIGHT)."""
    while True:
        # Some documents draw their facts from two relations only: several "lives in" facts side
        # by side, so the answer must be found by its subject (the model's typical miss is the
        # right relation's value from another subject's fact).
        r = rng.random()
        if r < SINGLE_RELATION:
            relations = [rng.choice(SINGLE_RELATIONS)]
        elif r < SINGLE_RELATION + CONTRAST_DOCUMENTS:
            relations = rng.sample(data.RELATIONS, 2)
        else:
            relations = data.RELATIONS
        if short:
            doc, facts = data.make_document(rng, "train", rng.randint(2, 4), tok.count, rng.randint(30, 90), relations,
                                            month_filler=True)
        else:
            doc, facts = data.make_document(rng, "train", rng.randint(4, 8), tok.count,
                                            rng.randint(118 * DOC_SCALE, 212 * DOC_SCALE), relations, month_filler=True)
        ids = tok.encode(doc, bos=True)
        w = [DOCUMENT_WEIGHT] * len(ids)
        order = list(range(len(facts)))
        rng.shuffle(order)
        n_qa = 0
        for i in order:
            sentence, q, value = facts[i]
            q_ids = tok.encode(data.qa_text(q))
            a_ids = tok.encode(data.answer_text(sentence)) + [tok.eos]
            if len(ids) + len(q_ids) + len(a_ids) > context:
                break
            ids += q_ids + a_ids
            w += [DOCUMENT_WEIGHT] * len(q_ids) + answer_weights(tok, sentence, value, a_ids)
            n_qa += 1
        if n_qa > 0:
            # weights[i] belongs to target ids[i]; the model predicts ids[1:] from ids[:-1]
            return ids, w


def answer_weights(tok, sentence, value, a_ids):
    """ANSWER_WEIGHT for the restated opening, the newline and EOS; VALUE_WEIGHT for the value's
    tokens, where the lookup among facts of one relation is decided. The opening is copied from
    the question just read and is almost always right; the value is where the misses are."""
    w = [ANSWER_WEIGHT] * len(a_ids)
    cut = sentence.rfind(value)
    opening = tok.encode(" " + sentence[:cut].rstrip())
    value_ids = tok.encode(" " + value)
    if cut > 0 and a_ids[:len(opening)] == opening and a_ids[len(opening):len(opening) + len(value_ids)] == value_ids:
        w[len(opening):len(opening) + len(value_ids)] = [VALUE_WEIGHT] * len(value_ids)
    return w


def batch(rng, tok, n, progress, context):
    """One batch, all short or all full-length documents (so short batches are cheap); short
    batches hold a third more sequences."""
    short = rng.random() < short_batch_probability(progress)
    if short:
        n = n * 4 // 3
    exs = [train_example(rng, tok, short, context) for _ in range(n)]
    T = max(len(ids) for ids, _ in exs)
    x = torch.full((n, T - 1), tok.eos, dtype=torch.long)
    y = torch.full((n, T - 1), tok.eos, dtype=torch.long)
    w = torch.zeros((n, T - 1))
    for i, (ids, ws) in enumerate(exs):
        L = len(ids)
        x[i, :L - 1] = torch.tensor(ids[:-1])
        y[i, :L - 1] = torch.tensor(ids[1:])
        w[i, :L - 1] = torch.tensor(ws[1:])
    return x, y, w


# ---------------------------------------------------------------- evaluation

@torch.no_grad()
def teacher_forced_correct(model, examples, eos, bs=32):
    """For each (prompt_ids, answer_ids): whether argmax at every answer position up to and
    including the newline token equals the answer (then greedy decoding produces it exactly)."""
    out = []
    for s in range(0, len(examples), bs):
        chunk = examples[s:s + bs]
        T = max(len(p) + len(a) for p, a in chunk) - 1
        x = torch.full((len(chunk), T), eos, dtype=torch.long)
        for i, (p, a) in enumerate(chunk):
            seq = p + a
            x[i, :len(seq) - 1] = torch.tensor(seq[:-1])
        pred = model(x).argmax(-1)
        for i, (p, a) in enumerate(chunk):
            target = a[:-1]  # up to the newline (answer_ids = value tokens, newline, EOS)
            got = pred[i, len(p) - 1:len(p) - 1 + len(target)].tolist()
            out.append(got == target)
    return out


@torch.no_grad()
def greedy(model, ids, eos, max_new=48, context=256, stop_at_newline=None):
    """Greedy continuation (no KV cache): stops after EOS, after max_new tokens, or, when
    stop_at_newline is a tokenizer, after the first token whose text holds a newline (enough to
    read the answer)."""
    ids = list(ids)
    gen = []
    for _ in range(max_new):
        if len(ids) >= context:
            break
        nxt = int(model(torch.tensor([ids]))[0, -1].argmax())
        gen.append(nxt)
        if nxt == eos or (stop_at_newline is not None and "\n" in stop_at_newline.decode([nxt])):
            break
        ids.append(nxt)
    return gen


def answer_of(tok, gen):
    return tok.decode(gen).split("\n")[0].strip()


# ---------------------------------------------------------------- export

def round_to_f16(model):
    """Rounds every matrix (2-D weight) to F16 in place, as the GGUF stores it; norms stay F32."""
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.copy_(p.half().float())


def export_gguf(model, tok, path, name="pcw-demo"):
    c = model.c
    md = {
        "general.architecture": "llama",
        "general.name": name,
        "general.description": "PCW Mesh demo model: answers questions about facts in a synthetic document (models/README.md)",
        "llama.block_count": gguf.U32(c.layers),
        "llama.context_length": gguf.U32(c.context),
        "llama.embedding_length": gguf.U32(c.dim),
        "llama.feed_forward_length": gguf.U32(c.ffn),
        "llama.attention.head_count": gguf.U32(c.heads),
        "llama.attention.head_count_kv": gguf.U32(c.kv_heads),
        "llama.attention.layer_norm_rms_epsilon": float(c.eps),
        "llama.rope.freq_base": float(c.rope_base),
        "llama.rope.dimension_count": gguf.U32(c.head_dim),
        "llama.vocab_size": gguf.U32(c.vocab),
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "gpt-2",
        "tokenizer.ggml.tokens": list(tok.tokens),
        "tokenizer.ggml.token_type": [3 if t in ("<|bos|>", "<|eos|>") else 1 for t in tok.tokens],
        "tokenizer.ggml.merges": [a + " " + b for a, b in tok.merges],
        "tokenizer.ggml.bos_token_id": gguf.U32(tok.bos),
        "tokenizer.ggml.eos_token_id": gguf.U32(tok.eos),
        "tokenizer.ggml.add_bos_token": True,
        "tokenizer.ggml.add_eos_token": False,
    }
    if c.rope_scale != 1.0:
        md["llama.rope.scaling.type"] = "linear"
        md["llama.rope.scaling.factor"] = float(c.rope_scale)
    F16, F32 = gguf.GGML_F16, gguf.GGML_F32
    t = [("token_embd.weight", model.embed.weight.detach().numpy(), F16)]
    for i, b in enumerate(model.blocks):
        p = f"blk.{i}."
        t += [
            (p + "attn_norm.weight", b.attn_norm.weight.detach().numpy(), F32),
            (p + "attn_q.weight", b.wq.weight.detach().numpy(), F16),
            (p + "attn_k.weight", b.wk.weight.detach().numpy(), F16),
            (p + "attn_v.weight", b.wv.weight.detach().numpy(), F16),
            (p + "attn_output.weight", b.wo.weight.detach().numpy(), F16),
            (p + "ffn_norm.weight", b.ffn_norm.weight.detach().numpy(), F32),
            (p + "ffn_gate.weight", b.w_gate.weight.detach().numpy(), F16),
            (p + "ffn_up.weight", b.w_up.weight.detach().numpy(), F16),
            (p + "ffn_down.weight", b.w_down.weight.detach().numpy(), F16),
        ]
    t.append(("output_norm.weight", model.norm.weight.detach().numpy(), F32))
    if model.output is not None:
        t.append(("output.weight", model.output.weight.detach().numpy(), F16))
    return gguf.write(path, md, t)


def grown_tensors(tensors, new_blocks):
    """The GGUF's tensors renamed for a deeper model: blocks go to the positions not in
    new_blocks, in order. Each new block starts as the identity (its attention output and FFN
    down projections are zeroed in `main`), so the grown model computes what the GGUF did and
    training adds what the extra depth can learn. The 4-layer model stopped improving at about
    70 % held-out: with two facts of one relation it picks the wrong one half the time, and a
    match on the subject several tokens before the value needs more composed attention layers."""
    old_layers = 1 + max(int(n.split(".")[1]) for n in tensors if n.startswith("blk."))
    kept = [i for i in range(old_layers + len(new_blocks)) if i not in new_blocks]
    out = {}
    for name, t in tensors.items():
        if name.startswith("blk."):
            _, i, rest = name.split(".", 2)
            name = f"blk.{kept[int(i)]}.{rest}"
        out[name] = t
    return out


def load_gguf_weights(model, tensors, new_blocks=()):
    """The inverse of export_gguf: every tensor back into its parameter (shapes must match);
    blocks in new_blocks keep their own initialisation."""
    names = {"token_embd.weight": model.embed.weight, "output_norm.weight": model.norm.weight}
    if model.output is not None:
        names["output.weight"] = model.output.weight
    for i, b in enumerate(model.blocks):
        if i in new_blocks:
            continue
        p = f"blk.{i}."
        names.update({p + "attn_norm.weight": b.attn_norm.weight, p + "attn_q.weight": b.wq.weight,
                      p + "attn_k.weight": b.wk.weight, p + "attn_v.weight": b.wv.weight,
                      p + "attn_output.weight": b.wo.weight, p + "ffn_norm.weight": b.ffn_norm.weight,
                      p + "ffn_gate.weight": b.w_gate.weight, p + "ffn_up.weight": b.w_up.weight,
                      p + "ffn_down.weight": b.w_down.weight})
    missing = set(names) - set(tensors)
    if missing:
        raise ValueError(f"the GGUF lacks {sorted(missing)}")
    # A file with more blocks than the model (a 6-layer file read with the default --layers 4)
    # would otherwise load silently into a truncated network.
    unused = sorted(set(tensors) - set(names))
    if unused:
        raise ValueError(f"the model has no place for {unused[:4]}{' ...' if len(unused) > 4 else ''}: "
                         f"give the file's shape (--layers, --dim, ...)")
    with torch.no_grad():
        for name, param in names.items():
            t = torch.from_numpy(tensors[name].copy())
            if t.shape != param.shape:
                raise ValueError(f"{name}: GGUF shape {tuple(t.shape)}, model {tuple(param.shape)}")
            param.copy_(t)


def plot_loss(log, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    steps = [r["step"] for r in log]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [r["loss"] for r in log], lw=0.8, label="all tokens (mean cross-entropy)")
    ax.plot(steps, [r["answer_loss"] for r in log], lw=0.8, label="answer tokens")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (nats/token)")
    ax.set_title("pcw-demo training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# ---------------------------------------------------------------- main

def main():
    global SHORT_PHASE, DOC_SCALE, CONTRAST_DOCUMENTS, DOCUMENT_WEIGHT, SINGLE_RELATION, VALUE_WEIGHT
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "ckpt"))
    ap.add_argument("--steps", type=int, default=0, help="fixed number of steps (schedule by step)")
    ap.add_argument("--time-budget", type=float, default=0, help="minutes of training (schedule by elapsed time)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=768)
    ap.add_argument("--vocab", type=int, default=1536)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export-only", action="store_true", help="skip training; finish from the last checkpoint")
    ap.add_argument("--eval-n", type=int, default=500, help="held-out questions for the final accuracy")
    ap.add_argument("--runtime-questions", type=int, default=100, help="held-out questions saved for the runtime's measurement")
    ap.add_argument("--eval-train-n", type=int, default=200, help="training-split questions for the final accuracy")
    ap.add_argument("--init-from", default="", help="start from the weights and tokenizer of a GGUF this recipe exported "
                    "(models/pcw-demo.gguf), so training continues across machines without a checkpoint")
    ap.add_argument("--grow-at", default="", help="with --init-from: positions of new blocks (e.g. 1,4 grows 4 layers "
                    "to 6 with --layers 6); they start as the identity")
    ap.add_argument("--short-phase", type=float, default=0.35, help="fraction of training on short documents only")
    ap.add_argument("--contrast", type=float, default=0.5, help="fraction of training documents with facts of two relations only")
    ap.add_argument("--single-relation", type=float, default=0.0, help="fraction of training documents whose facts all "
                    "share one relation (one of SINGLE_RELATIONS), so every question needs the subject match")
    ap.add_argument("--value-weight", type=float, default=ANSWER_WEIGHT, help="loss weight of the answer's value tokens "
                    "(the rest of the answer has 5)")
    ap.add_argument("--document-weight", type=float, default=1.0, help="loss weight of document and question tokens "
                    "(answer tokens have 5): below 1 spends more of the gradient on finding and copying answers")
    ap.add_argument("--context", type=int, default=256, help="trained window in tokens")
    ap.add_argument("--rope-scale", type=float, default=1.0, help="linear position interpolation factor (4 for the PI variant)")
    ap.add_argument("--doc-scale", type=int, default=1, help="full-length documents are this many times 118-212 tokens")
    ap.add_argument("--name", default="pcw-demo", help="model name: models/NAME.gguf; other than pcw-demo, its card files go "
                    "to models/demo/NAME/ (the long-context variants)")
    args = ap.parse_args()
    SHORT_PHASE = args.short_phase
    CONTRAST_DOCUMENTS = args.contrast
    SINGLE_RELATION = args.single_relation
    VALUE_WEIGHT = args.value_weight
    if SINGLE_RELATION + CONTRAST_DOCUMENTS > 1:
        ap.error("--single-relation and --contrast add up to more than 1")
    DOCUMENT_WEIGHT = args.document_weight
    DOC_SCALE = args.doc_scale
    if not args.steps and not args.time_budget and not args.export_only:
        ap.error("give --steps or --time-budget")
    torch.set_num_threads(args.threads)
    os.makedirs(args.ckpt, exist_ok=True)

    tok_path = os.path.join(args.ckpt, "tokenizer.json")
    init = gguf.read(args.init_from) if args.init_from and not os.path.exists(os.path.join(args.ckpt, "last.pt")) else None
    if init is not None:
        md = init[0]
        tok = Tokenizer(md["tokenizer.ggml.tokens"], [tuple(m.split(" ")) for m in md["tokenizer.ggml.merges"]])
        tok.save(tok_path)
        print(f"tokenizer from {args.init_from}: {len(tok.tokens)} tokens", flush=True)
    elif os.path.exists(tok_path):
        tok = Tokenizer.load(tok_path)
    else:
        t0 = time.time()
        tok = Tokenizer.train(tokenizer_corpus(6000, args.seed), args.vocab)
        tok.save(tok_path)
        print(f"tokenizer: {len(tok.tokens)} tokens, {len(tok.merges)} merges, {time.time() - t0:.1f}s", flush=True)

    cfg = Config(vocab=len(tok.tokens), dim=args.dim, layers=args.layers, heads=args.heads,
                 kv_heads=args.kv_heads, ffn=args.ffn, context=args.context, rope_scale=args.rope_scale)
    torch.manual_seed(args.seed)
    model = Transformer(cfg)
    if init is not None:
        new_blocks = [int(i) for i in args.grow_at.split(",")] if args.grow_at else []
        load_gguf_weights(model, grown_tensors(init[1], new_blocks) if new_blocks else init[1], new_blocks)
        with torch.no_grad():
            for i in new_blocks:
                model.blocks[i].wo.weight.zero_()
                model.blocks[i].w_down.weight.zero_()
        print(f"weights from {args.init_from}" + (f", new blocks at {new_blocks}" if new_blocks else ""), flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    ck_path = os.path.join(args.ckpt, "last.pt")
    state = {"step": 0, "elapsed": 0.0, "tokens": 0, "log": [], "evals": [], "args": vars(args)}
    if os.path.exists(ck_path):
        ck = torch.load(ck_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        print(f"resumed at step {state['step']} ({state['elapsed'] / 60:.1f} min)", flush=True)
    print(f"model: {cfg.to_dict()} params={model.param_count()}", flush=True)

    erng = random.Random(777)
    monitor = [eval_example(erng, tok, "heldout", cfg.context)[2:] for _ in range(64)]

    def progress():
        if args.steps:
            return state["step"] / args.steps
        return state["elapsed"] / (args.time_budget * 60)

    def save():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state, "config": cfg.to_dict()},
                   ck_path + ".tmp")
        os.replace(ck_path + ".tmp", ck_path)

    if not args.export_only:
        model.train()
        last_save = time.time()
        while progress() < 1.0:
            t0 = time.time()
            p = progress()
            step = state["step"]
            lr = args.lr * min(1.0, (step + 1) / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(p, 1.0))))
            for g in opt.param_groups:
                g["lr"] = lr
            rng = random.Random(args.seed * 1_000_003 + step)
            x, y, w = batch(rng, tok, args.batch, p, cfg.context)
            logits = model(x)
            ce = F.cross_entropy(logits.reshape(-1, cfg.vocab), y.reshape(-1), reduction="none").view_as(w)
            loss = (ce * w).sum() / w.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            state["step"] += 1
            state["elapsed"] += time.time() - t0
            state["tokens"] += int((w > 0).sum())
            with torch.no_grad():
                valid = w > 0
                ans = w > 1
                rec = {"step": state["step"], "loss": float(ce[valid].mean()), "answer_loss": float(ce[ans].mean()),
                       "weighted_loss": float(loss), "lr": lr, "elapsed": state["elapsed"], "tokens": state["tokens"],
                       "seq_len": x.shape[1]}
            state["log"].append(rec)
            if state["step"] % 10 == 0:
                print(json.dumps(rec), flush=True)
            if state["step"] % 100 == 0:
                model.eval()
                te = time.time()
                acc = sum(teacher_forced_correct(model, monitor, tok.eos)) / len(monitor)
                model.train()
                state["evals"].append({"step": state["step"], "heldout_tf_acc": acc})
                print(f"eval step {state['step']}: held-out teacher-forced exact match {acc:.3f} ({time.time() - te:.1f}s)", flush=True)
            if time.time() - last_save > 180:
                save()
                last_save = time.time()
        save()
        print(f"training done: {state['step']} steps, {state['tokens']} tokens, {state['elapsed'] / 60:.1f} min", flush=True)

    finish(model, tok, cfg, state, args)


def finish(model, tok, cfg, state, args):
    # The base model's card files live in models/demo/; a variant's in models/demo/NAME/.
    out = HERE if args.name == "pcw-demo" else os.path.join(HERE, args.name)
    os.makedirs(out, exist_ok=True)
    model.eval()
    round_to_f16(model)  # the reference is the model exactly as the GGUF stores it
    t0 = time.time()
    earlier = 0
    if args.init_from:
        # Steps behind the GGUF we started from, as the summary committed beside it says.
        previous = os.path.join(HERE, "summary.json")
        if os.path.exists(previous):
            with open(previous) as f:
                old = json.load(f)
            earlier = old.get("steps", 0) + old.get("earlier_steps", 0)
    summary = {"config": cfg.to_dict(), "params": model.param_count(), "initialised_from": args.init_from or None,
               "grown_blocks": args.grow_at or None,
               "earlier_steps": earlier, "steps": state["step"],
               "tokens": state["tokens"], "train_minutes": state["elapsed"] / 60, "batch": args.batch,
               "lr": args.lr, "answer_weight": ANSWER_WEIGHT, "document_weight": DOCUMENT_WEIGHT,
               "contrast_documents": CONTRAST_DOCUMENTS,
               "single_relation_documents": SINGLE_RELATION, "value_weight": VALUE_WEIGHT, "fresh_professions": data.FRESH_PROFESSIONS,
               "month_filler": data.MONTH_FILLER, "pretokenizer": GPT2_PATTERN}
    log = state["log"]
    tail = log[-50:]
    summary["final_loss_last50"] = sum(r["loss"] for r in tail) / len(tail)
    summary["final_answer_loss_last50"] = sum(r["answer_loss"] for r in tail) / len(tail)
    summary["evals_during_training"] = state["evals"]

    results = {}
    for split, seed, n in [("heldout", 4242, args.eval_n), ("train", 4343, args.eval_train_n)]:
        rng = random.Random(seed)
        exs = [eval_example(rng, tok, split, cfg.context) for _ in range(n)]
        ok = teacher_forced_correct(model, [(e[2], e[3]) for e in exs], tok.eos)
        correct = 0
        records = []
        for e, tf in zip(exs, ok):
            if tf:
                good = True
            else:  # greedy may still spell the answer with other tokens; decode it for real
                good = answer_of(tok, greedy(model, e[2], tok.eos, context=cfg.context, stop_at_newline=tok)) == e[1]
            correct += good
            records.append(good)
        results[split] = {"n": n, "exact_match": correct / n}
        print(f"{split}: exact match {correct}/{n} = {correct / n:.3f}", flush=True)
        if split == "heldout":
            heldout = (exs, records)
    summary["accuracy_torch"] = results

    # Held-out questions with torch's greedy answers (up to the newline), for measuring the runtime.
    exs, _ = heldout
    qpath = os.path.join(out, "heldout-questions.jsonl")
    with open(qpath, "w") as f:
        for e in exs[:args.runtime_questions]:
            gen = greedy(model, e[2], tok.eos, context=cfg.context, stop_at_newline=tok)
            f.write(json.dumps({"prompt": e[0], "answer": e[1], "torch_greedy": answer_of(tok, gen),
                                "torch_greedy_ids": gen, "eos": tok.eos}) + "\n")

    # Reference logits for the runtime's test.
    prompts = [
        "The code of Velmora is",
        "Question: Where does Bram Oskeby live?\nAnswer:",
        exs[0][0],
    ]
    refs = []
    with torch.no_grad():
        for ptxt in prompts:
            ids = tok.encode(ptxt, bos=True)
            logits = model(torch.tensor([ids]))[0, -1]
            refs.append({"prompt": ptxt, "ids": ids, "logits": [float(v) for v in logits]})
    gens = []
    for e in exs[1:4]:
        gen = greedy(model, e[2], tok.eos, context=cfg.context)
        gens.append({"prompt": e[0], "ids": e[2], "answer": e[1], "greedy_ids": gen, "greedy_text": tok.decode(gen)})
    with open(os.path.join(out, "reference-logits.json"), "w") as f:
        json.dump({"description": "torch float32 last-position logits of models/" + args.name + ".gguf's weights (matrices rounded "
                                  "to F16 exactly as stored), for prompts tokenized by the recipe's tokenizer with BOS; "
                                  "and greedy continuations (max 16 tokens, stop at EOS) of held-out questions",
                   "bos": tok.bos, "eos": tok.eos, "prompts": refs, "generations": gens}, f)

    size = export_gguf(model, tok, os.path.join(ROOT, "models", args.name + ".gguf"), args.name)
    summary["gguf_bytes"] = size
    plot_loss(log, os.path.join(out, "loss.png"))
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("evals_during_training",)}, indent=1), flush=True)
    print(f"finish took {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
