"""Load a sharded Hugging Face checkpoint into plain PyTorch, without transformers.

save_pretrained(max_shard_size=...) writes several safetensors shards and an index.
A new process, where `import transformers` fails, reads them with json and
safetensors alone into a short re-implementation of GPT-2, and gets the same
logits as transformers.
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F


# --8<-- [start:plain_model]
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
    """GPT-2 in plain PyTorch, with the parameter names that transformers uses."""

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


# --8<-- [end:plain_model]


# --8<-- [start:load]
def load_plain(folder, device="cpu"):
    """Read a sharded save_pretrained folder with json and safetensors alone."""
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    state_dict = {}
    for shard in sorted(set(index["weight_map"].values())):
        state_dict.update(load_file(folder / shard, device=device))
    model = PlainGPT2(config).to(device)
    model.load_state_dict(state_dict)  # strict: every name must match, both ways
    return model.eval()


# --8<-- [end:load]


def save_with_transformers(folder, device):
    """The transformers side: a tiny GPT-2, saved in several shards."""
    # Imported here only: the rest of this file runs where transformers is missing.
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # they go to stderr; keep the terminal quiet
    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    config = GPT2Config(**sizes, bos_token_id=0, eos_token_id=0)  # not 50256: > 100
    model = GPT2LMHeadModel(config).to(device).eval()
    # --8<-- [start:save]
    model.save_pretrained(folder, max_shard_size="50KB")
    # --8<-- [end:save]
    tokens = torch.tensor([[5, 17, 42, 8, 99, 0]], device=device)
    with torch.no_grad():
        return tokens, model(tokens).logits


def check_plain(folder, device, expected_file):
    """Run in the new process: load without transformers, compare the logits."""
    try:
        import transformers  # noqa: F401
    except ImportError as err:
        print(f"{type(err).__name__}: {err}")
    else:
        raise AssertionError("transformers was imported")
    model = load_plain(folder, device)
    expected = load_file(expected_file, device=device)
    with torch.no_grad():
        logits = model(expected["tokens"])
    tolerance = 0 if device == "cpu" else 1e-5  # a GPU may pick other kernels
    same = torch.allclose(logits, expected["logits"], rtol=0, atol=tolerance)
    print("same logits as transformers:", same)
    assert same
    assert not [name for name in sys.modules if name.startswith("transformers.")]


# --8<-- [start:new_process]
WITHOUT_TRANSFORMERS = """
import runpy, sys
sys.modules["transformers"] = None  # from here on, `import transformers` fails
script, *args = sys.argv[1:]
runpy.run_path(script)["check_plain"](*args)  # this file's functions, not __main__
"""
# --8<-- [end:new_process]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = out_dir / "tiny-gpt2"
    tokens, logits = save_with_transformers(folder, device)
    files = sorted(path.name for path in folder.iterdir())
    print(files)
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    print(index["metadata"])
    for name in ["transformer.wte.weight", "transformer.h.1.mlp.c_fc.weight"]:
        print(name, "->", index["weight_map"][name])
    assert files == [
        "config.json",
        "generation_config.json",
        "model-00001-of-00003.safetensors",
        "model-00002-of-00003.safetensors",
        "model-00003-of-00003.safetensors",
        "model.safetensors.index.json",
    ]
    assert "lm_head.weight" not in index["weight_map"]  # tied: stored once, as wte

    expected = out_dir / "expected.safetensors"
    save_file({"tokens": tokens.cpu(), "logits": logits.cpu()}, expected)
    # --8<-- [start:run]
    command = [sys.executable, "-c", WITHOUT_TRANSFORMERS, __file__]
    args = [str(folder), device, str(expected)]
    result = subprocess.run(command + args, capture_output=True, text=True)
    # --8<-- [end:run]
    assert result.returncode == 0, result.stderr
    print(result.stdout, end="")
    assert "same logits as transformers: True" in result.stdout


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
