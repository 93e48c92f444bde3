"""Fix "size mismatch for transformer.h.0.attn.c_attn.weight": GPT-2's Conv1D.

GPT-2 in transformers computes its linear layers with a Conv1D module whose weight
is stored (in_features, out_features): the transpose of nn.Linear's. A plain PyTorch
GPT-2 written with nn.Linear gets every one of these weights the wrong way round;
a square one loads without an error, and gives wrong outputs. Transpose all of
them while loading (or write the layer as Conv1D does).
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


def gelu_new(x):  # GPT-2's activation ("gelu_new" in config.json)
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


class Block(nn.Module):
    def __init__(self, dim, n_head, eps):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(dim, eps=eps)
        self.attn = nn.ModuleDict(
            {"c_attn": nn.Linear(dim, 3 * dim), "c_proj": nn.Linear(dim, dim)}
        )
        self.ln_2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = nn.ModuleDict(
            {"c_fc": nn.Linear(dim, 4 * dim), "c_proj": nn.Linear(4 * dim, dim)}
        )

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.n_head, -1).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn.c_proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp.c_proj(gelu_new(self.mlp.c_fc(self.ln_2(x))))


class PlainGPT2(nn.Module):
    """GPT-2 in plain PyTorch, its layers written as nn.Linear."""

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

    def forward(self, tokens):
        t = self.transformer
        x = t.wte(tokens) + t.wpe(torch.arange(tokens.shape[1], device=tokens.device))
        for block in t.h:
            x = block(x)
        return F.linear(t.ln_f(x), t.wte.weight)  # tied: the output layer is wte


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()  # they go to stderr; keep the terminal quiet
    torch.manual_seed(0)
    sizes = dict(n_layer=1, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
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
        assert str(err).count("size mismatch") == 3  # of the 4 Conv1D weights
        assert "attn.c_proj.weight" not in str(err)  # square: (32, 32) both ways
        assert "Missing key(s)" not in str(err)
    else:
        raise AssertionError("nn.Linear layers took Conv1D weights")
    tokens = torch.tensor([[5, 17, 42, 8]], device=device)
    with torch.no_grad():
        expected = hf_model(tokens).logits

    # Transposing only the three weights that the message names is not enough.
    # --8<-- [start:named_only]
    named = ("attn.c_attn.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
    model.load_state_dict(
        {name: t.t() if name.endswith(named) else t for name, t in state_dict.items()}
    )  # loads: attn.c_proj.weight is square, so it goes in the wrong way round
    with torch.no_grad():
        close = torch.allclose(model.eval()(tokens), expected, atol=1e-5)
    print("only the named weights transposed, same logits:", close)
    # --8<-- [end:named_only]
    assert not close

    # --8<-- [start:fix]
    conv1d = ("c_attn.weight", "c_proj.weight", "c_fc.weight")  # 4 in each block
    state_dict = {
        name: tensor.t() if name.endswith(conv1d) else tensor  # (in, out) -> (out, in)
        for name, tensor in state_dict.items()
    }
    model.load_state_dict(state_dict)
    # --8<-- [end:fix]
    with torch.no_grad():
        logits = model(tokens)
    # Within float32 rounding: nn.Linear and Conv1D's addmm may add up differently.
    print("same logits:", torch.allclose(logits, expected, atol=1e-5))
    assert torch.allclose(logits, expected, atol=1e-5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
