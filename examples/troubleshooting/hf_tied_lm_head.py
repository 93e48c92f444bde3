"""Fix 'Missing key(s) in state_dict: "lm_head.weight"' with Hugging Face weights.

GPT-2's output layer, lm_head, reuses the input embedding's weight (tied weights,
"tie_word_embeddings": true in config.json). save_pretrained stores that tensor
once, under transformer.wte.weight, so a plain PyTorch module with its own lm_head
finds no lm_head.weight in the file. Tie the two in your module, and give the
file's tensor its second name.
"""

import argparse
import json
import math
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn import functional as F
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging


class Conv1D(nn.Module):
    """GPT-2's linear layer: its weight is (in, out), the transpose of nn.Linear's."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_out))

    def forward(self, x):
        y = torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight)
        return y.view(*x.shape[:-1], -1)


def gelu_new(x):  # GPT-2's activation ("gelu_new" in config.json)
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


class Block(nn.Module):
    def __init__(self, dim, n_head, eps):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(dim, eps=eps)
        self.attn = nn.ModuleDict(
            {"c_attn": Conv1D(dim, 3 * dim), "c_proj": Conv1D(dim, dim)}
        )
        self.ln_2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = nn.ModuleDict(
            {"c_fc": Conv1D(dim, 4 * dim), "c_proj": Conv1D(4 * dim, dim)}
        )

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.n_head, -1).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn.c_proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp.c_proj(gelu_new(self.mlp.c_fc(self.ln_2(x))))


class PlainGPT2(nn.Module):
    """GPT-2 in plain PyTorch, with its own output layer: lm_head."""

    def __init__(self, config):  # config: the dict read from config.json
        super().__init__()
        dim, eps = config["n_embd"], config["layer_norm_epsilon"]
        blocks = [Block(dim, config["n_head"], eps) for _ in range(config["n_layer"])]
        self.transformer = nn.ModuleDict(
            {
                "wte": nn.Embedding(config["vocab_size"], dim),
                "wpe": nn.Embedding(config["n_positions"], dim),
                "h": nn.ModuleList(blocks),
                "ln_f": nn.LayerNorm(dim, eps=eps),
            }
        )
        self.lm_head = nn.Linear(dim, config["vocab_size"], bias=False)

    def forward(self, tokens):
        t = self.transformer
        x = t.wte(tokens) + t.wpe(torch.arange(tokens.shape[1], device=tokens.device))
        for block in t.h:
            x = block(x)
        return self.lm_head(t.ln_f(x))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()  # they go to stderr; keep the terminal quiet
    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    hf_config = GPT2Config(**sizes, bos_token_id=0, eos_token_id=0)  # 50256 > 100
    hf_model = GPT2LMHeadModel(hf_config).to(device).eval()
    folder = out_dir / "tiny-gpt2"
    hf_model.save_pretrained(folder)

    config = json.loads((folder / "config.json").read_text())
    state_dict = load_file(folder / "model.safetensors", device=device)
    model = PlainGPT2(config).to(device)
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as err:
        print(f"{type(err).__name__}: {err}")
        assert 'Missing key(s) in state_dict: "lm_head.weight".' in str(err)
        assert "Unexpected key(s)" not in str(err)
    else:
        raise AssertionError("the plain module loaded a file without lm_head.weight")

    # --8<-- [start:fix]
    print("tie_word_embeddings:", config["tie_word_embeddings"])
    model.lm_head.weight = model.transformer.wte.weight  # tie them, as GPT-2 does
    state_dict["lm_head.weight"] = state_dict["transformer.wte.weight"]  # 2nd name
    model.load_state_dict(state_dict)
    print("tied:", model.lm_head.weight is model.transformer.wte.weight)
    # --8<-- [end:fix]
    assert model.lm_head.weight is model.transformer.wte.weight
    model.eval()
    tokens = torch.tensor([[5, 17, 42, 8]], device=device)
    tolerance = 0 if device == "cpu" else 1e-5  # a GPU may pick other kernels
    with torch.no_grad():
        assert torch.allclose(
            model(tokens), hf_model(tokens).logits, rtol=0, atol=tolerance
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
