#!/usr/bin/env python3
"""Write a tiny random-weight llama GGUF model for recording worker fixtures.

The model exists only so that llama.cpp's llama-server and Ollama can be run
on a CPU-only machine to record their real HTTP wire format (response
bodies, SSE streams, usage and timings objects). Its output is garbage text.

  * architecture "llama", 2 layers, n_embd 64, 4 heads (head dim 16),
    2 KV heads, n_ff 128, context 512, all tensors F32;
  * a byte-level BPE ("gpt2") vocabulary: the 256 GPT-2 byte tokens, a few
    merges, and four control tokens (<|bos|>, <|eos|>, <|user|>,
    <|assistant|>);
  * a tiny chat template in tokenizer.chat_template;
  * an output head that can only pick printable ASCII tokens (see below);
  * weights drawn from numpy's PCG64 generator with a fixed seed, so the
    file is byte-for-byte reproducible for a given gguf-py and numpy.

gguf-py is imported by path from the llama.cpp tree the caller builds
(record.sh passes <llama.cpp>/gguf-py, pinned by the llama-cpp-python sdist
version), so the writer matches the reader of the server it feeds.

Usage: tinymodel.py --gguf-py <llama.cpp>/gguf-py --out tiny.gguf [--seed N]
"""

import argparse
import sys

N_LAYER = 2
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 2
HEAD_DIM = N_EMBD // N_HEAD
N_FF = 128
N_CTX = 512

SPECIALS = ["<|bos|>", "<|eos|>", "<|user|>", "<|assistant|>"]

# A handful of merges so the BPE is a real BPE (in GPT-2 byte-unicode form:
# "Ġ" is the space byte).
MERGES = [
    ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("e", "r"),
    ("Ġ", "a"), ("o", "n"), ("r", "e"), ("Ġ", "s"), ("e", "d"),
    ("Ġ", "w"), ("o", "r"), ("Ġ", "c"), ("a", "n"), ("l", "l"),
    ("Ġ", "m"),
]

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>{{ message['content'] }}<|eos|>"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character mapping."""
    bs = (list(range(ord("!"), ord("~") + 1))
          + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf-py", required=True, help="path of llama.cpp's gguf-py directory")
    ap.add_argument("--out", required=True, help="output .gguf file")
    ap.add_argument("--seed", type=int, default=20240607)
    args = ap.parse_args()

    sys.path.insert(0, args.gguf_py)
    import numpy as np
    import gguf

    b2u = bytes_to_unicode()
    tokens = [b2u[b] for b in range(256)]
    for a, b in MERGES:
        tokens.append(a + b)
    assert len(set(tokens)) == len(tokens), "duplicate token"
    n_normal = len(tokens)
    tokens += SPECIALS
    n_vocab = len(tokens)
    types = [gguf.TokenType.NORMAL] * n_normal + [gguf.TokenType.CONTROL] * len(SPECIALS)
    bos = tokens.index("<|bos|>")
    eos = tokens.index("<|eos|>")

    rng = np.random.Generator(np.random.PCG64(args.seed))

    def rand(*shape, scale=0.5):
        return (rng.standard_normal(shape) * scale / np.sqrt(shape[-1])).astype(np.float32)

    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name("modelcommons-fixturecap-tiny")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_scores([0.0] * n_vocab)
    w.add_token_merges([f"{a} {b}" for a, b in MERGES])
    w.add_bos_token_id(bos)
    w.add_eos_token_id(eos)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)

    # numpy shapes are (rows, cols) = (out, in); the writer reverses them
    # into ggml's ne order.
    w.add_tensor("token_embd.weight", rand(n_vocab, N_EMBD, scale=1.0))
    for i in range(N_LAYER):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(p + "attn_q.weight", rand(N_HEAD * HEAD_DIM, N_EMBD))
        w.add_tensor(p + "attn_k.weight", rand(N_HEAD_KV * HEAD_DIM, N_EMBD))
        w.add_tensor(p + "attn_v.weight", rand(N_HEAD_KV * HEAD_DIM, N_EMBD))
        w.add_tensor(p + "attn_output.weight", rand(N_EMBD, N_HEAD * HEAD_DIM))
        w.add_tensor(p + "ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(p + "ffn_gate.weight", rand(N_FF, N_EMBD))
        w.add_tensor(p + "ffn_up.weight", rand(N_FF, N_EMBD))
        w.add_tensor(p + "ffn_down.weight", rand(N_EMBD, N_FF))
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    # Larger output scale: sharper, still garbage, distributions. Rows of
    # the control tokens and of bytes outside printable ASCII are zero, so
    # their logit is 0 while the others spread over about +-10: greedy
    # decoding emits printable ASCII (valid UTF-8, no early <|eos|>) and
    # every capture runs to max_tokens.
    out = rand(n_vocab, N_EMBD, scale=4.0)
    for i in range(n_vocab):
        if i < 256 and not 0x20 <= i <= 0x7E or i >= n_normal:
            out[i] = 0
    w.add_tensor("output.weight", out)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"{args.out}: llama, {N_LAYER} layers, n_embd {N_EMBD}, vocab {n_vocab} (bos {bos}, eos {eos})")


if __name__ == "__main__":
    main()
