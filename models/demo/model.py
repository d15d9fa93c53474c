"""A Llama-architecture transformer, written so its GGUF export needs no permutation:
RoPE rotates adjacent pairs (x[2i], x[2i+1]) by pos * base^(-2i/head_dim), as llama.cpp's
`llama` architecture (and the PCW runtime) do."""
import math
from dataclasses import dataclass, asdict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab: int = 1536
    dim: int = 256
    layers: int = 6
    heads: int = 8
    kv_heads: int = 4
    ffn: int = 768
    context: int = 256
    eps: float = 1e-5
    rope_base: float = 10000.0
    # Linear position interpolation (Chen et al. 2023): positions divided by this factor, so a
    # window this many times longer than the one trained first maps onto the trained angles.
    rope_scale: float = 1.0
    tied: bool = True

    @property
    def head_dim(self):
        return self.dim // self.heads

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim, length, base, scale=1.0):
    """Cosine and sine of every (position, pair) angle, computed as the PCW runtime and ggml
    compute them: theta starts at the position and is multiplied pair by pair by
    float32(base^(-2/head_dim)), in float32; the angle is float32(1/scale) * theta; cosine and
    sine of that float32 angle are rounded to float32. (Tables computed in double differ from
    these by up to 8e-6 over 1,024 positions.)"""
    theta_scale = np.float32(base ** (-2.0 / head_dim))
    freq_scale = np.float32(1.0 / scale)
    theta = np.arange(length, dtype=np.float32)
    angles = np.empty((length, head_dim // 2), dtype=np.float32)
    for i in range(head_dim // 2):
        angles[:, i] = freq_scale * theta
        theta = theta * theta_scale
    ang = angles.astype(np.float64)
    return torch.from_numpy(np.cos(ang).astype(np.float32)), torch.from_numpy(np.sin(ang).astype(np.float32))


def apply_rope(x, cos, sin):
    # x: (B, H, T, D); pairs (x[2i], x[2i+1]).
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return torch.stack((r0, r1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        hd = c.head_dim
        self.attn_norm = RMSNorm(c.dim, c.eps)
        self.wq = nn.Linear(c.dim, c.heads * hd, bias=False)
        self.wk = nn.Linear(c.dim, c.kv_heads * hd, bias=False)
        self.wv = nn.Linear(c.dim, c.kv_heads * hd, bias=False)
        self.wo = nn.Linear(c.heads * hd, c.dim, bias=False)
        self.ffn_norm = RMSNorm(c.dim, c.eps)
        self.w_gate = nn.Linear(c.dim, c.ffn, bias=False)
        self.w_up = nn.Linear(c.dim, c.ffn, bias=False)
        self.w_down = nn.Linear(c.ffn, c.dim, bias=False)

    def forward(self, x, cos, sin, mask):
        c = self.c
        B, T, _ = x.shape
        hd = c.head_dim
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, c.heads, hd).transpose(1, 2)
        k = self.wk(h).view(B, T, c.kv_heads, hd).transpose(1, 2)
        v = self.wv(h).view(B, T, c.kv_heads, hd).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        g = c.heads // c.kv_heads
        if g > 1:
            k = k.repeat_interleave(g, dim=1)   # query head h uses kv head h // g
            v = v.repeat_interleave(g, dim=1)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, c.heads * hd)
        x = x + self.wo(y)
        h = self.ffn_norm(x)
        return x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = nn.Embedding(c.vocab, c.dim)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.norm = RMSNorm(c.dim, c.eps)
        self.output = None if c.tied else nn.Linear(c.dim, c.vocab, bias=False)
        cos, sin = rope_tables(c.head_dim, c.context, c.rope_base, c.rope_scale)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.apply(self._init)
        for b in self.blocks:
            nn.init.normal_(b.wo.weight, std=0.02 / math.sqrt(2 * c.layers))
            nn.init.normal_(b.w_down.weight, std=0.02 / math.sqrt(2 * c.layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, ids):
        B, T = ids.shape
        x = self.embed(ids)
        cos, sin = self.cos[:T], self.sin[:T]
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        x = self.norm(x)
        w = self.embed.weight if self.output is None else self.output.weight
        return x @ w.t()

    def param_count(self):
        return sum(p.numel() for p in self.parameters())
