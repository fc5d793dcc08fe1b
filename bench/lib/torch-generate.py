#!/usr/bin/python3
"""The generation bench's anchor: the same GPT (weights from a safetensors file written by mycel) generating
in PyTorch on the CPU with a KV cache, batched; prints one JSON line.

    /usr/bin/python3 torch-generate.py '{"weights": F, "config": {...}, "prompts": [[...]], "max_tokens": N,
                                         "temperature": 1.0, "threads": 1, "repeats": 2}'

The model is the anchor's CharGPT (../../shared/anchors/torch_anchor.py), written out here so that the bench
needs nothing outside the repository, with a KV cache added the usual way: each block keeps its keys and
values, and a step feeds one token per row. Sampling is torch.multinomial (its own RNG; speed is what is
compared, and the first step's logits, which must agree with mycel's to float32 rounding).
"""
import json
import math
import os
import struct
import sys
import time

args = json.loads(sys.argv[1])
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[var] = str(args["threads"])

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args["threads"])
torch.manual_seed(0)


def load_safetensors(path):
    """A float32 safetensors file as {name: tensor} (the format: u64 header length, JSON header, data)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        start, end = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[base + start:base + end]), dtype=torch.float32).reshape(info["shape"])
    return out


W = load_safetensors(args["weights"])
c = args["config"]
D, H, L, CTX = c["dModel"], c["heads"], c["layers"], c["contextLength"]
HD = D // H


def linear(x, name, bias=True):
    return F.linear(x, W[name + ".weight"], W[name + ".bias"] if bias else None)


def layer_norm(x, name):
    return F.layer_norm(x, (D,), W[name + ".weight"], W[name + ".bias"], 1e-5)


def forward(ids, start, cache):
    """ids [B, T] at positions start..start+T-1; cache: per layer (k, v) [B, H, start, HD] or None. Returns logits of the last position."""
    B, T = ids.shape
    x = F.embedding(ids, W["tok.weight"]) + F.embedding(torch.arange(start, start + T), W["pos.weight"])
    mask = torch.triu(torch.ones(T, start + T, dtype=torch.bool), diagonal=start + 1)
    for i in range(L):
        p = f"blocks.{i}"
        q, k, v = linear(layer_norm(x, p + ".ln1"), p + ".qkv").split(D, dim=2)
        q, k, v = (t.view(B, T, H, HD).transpose(1, 2) for t in (q, k, v))
        if cache[i] is not None:
            k = torch.cat([cache[i][0], k], dim=2)
            v = torch.cat([cache[i][1], v], dim=2)
        cache[i] = (k, v)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(HD))
        att = att.masked_fill(mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, D)
        x = x + linear(y, p + ".proj")
        x = x + linear(F.gelu(linear(layer_norm(x, p + ".ln2"), p + ".fc1"), approximate="tanh"), p + ".fc2")
    return linear(layer_norm(x[:, -1, :], "ln_f"), "head", bias=False)


def generate(prompts, max_tokens, temperature):
    ids = torch.tensor(prompts, dtype=torch.long)
    cache = [None] * L
    logits = forward(ids, 0, cache)
    first = logits[0].tolist()
    pos = ids.shape[1]
    for i in range(max_tokens):
        nxt = torch.multinomial(F.softmax(logits / temperature, dim=-1), 1) if temperature > 0 else logits.argmax(-1, keepdim=True)
        if i + 1 == max_tokens:
            break
        logits = forward(nxt, pos, cache)
        pos += 1
    return first


with torch.inference_mode():
    first = generate(args["prompts"], min(2, args["max_tokens"]), args["temperature"])  # warm-up
    times = []
    for _ in range(args["repeats"]):
        t0 = time.perf_counter()
        generate(args["prompts"], args["max_tokens"], args["temperature"])
        times.append(time.perf_counter() - t0)
best = min(times)
print(json.dumps({"tokens_per_s": len(args["prompts"]) * args["max_tokens"] / best, "seconds": best, "first_logits": first, "torch": torch.__version__}))
