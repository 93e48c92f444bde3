"""Hugging Face Transformers: save_pretrained writes a folder, from_pretrained reads it.

A tiny GPT-2 built from a config, so that nothing comes from the Hub.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch
from safetensors import safe_open
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedTokenizerFast,
)
from transformers.utils import logging as hf_logging


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()  # they go to stderr; keep the terminal quiet
    # Record every attempt to reach a network address: there must be none.
    connections = []

    def record_connections(event, args):
        if event in ("socket.connect", "socket.getaddrinfo"):
            connections.append(args)

    sys.addaudithook(record_connections)

    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    config = GPT2Config(**sizes, bos_token_id=0, eos_token_id=0)  # not 50256: > 100
    model = GPT2LMHeadModel(config).to(device).eval()
    # ... train or fine-tune the model ...

    # --8<-- [start:save]
    folder = out_dir / "tiny-gpt2"
    model.save_pretrained(folder)
    print(sorted(path.name for path in folder.iterdir()))
    # --8<-- [end:save]
    saved_config = json.loads((folder / "config.json").read_text())
    print({key: saved_config[key] for key in ("architectures", "model_type", "dtype")})
    print("transformers_version:", saved_config["transformers_version"])

    # --8<-- [start:load]
    loaded = GPT2LMHeadModel.from_pretrained(folder)  # on the CPU, in eval mode
    print("built on:", loaded.device, "| training:", loaded.training)
    loaded = loaded.to(device)
    tokens = torch.tensor([[5, 17, 42, 8]], device=device)
    with torch.no_grad():
        same = torch.equal(loaded(tokens).logits, model(tokens).logits)
    print("same logits:", same)
    # --8<-- [end:load]

    # --8<-- [start:auto]
    auto = AutoModelForCausalLM.from_pretrained(folder)  # class from "model_type"
    print(type(auto).__name__)
    # --8<-- [end:auto]
    assert type(auto) is GPT2LMHeadModel
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "generation_config.json",
        "model.safetensors",
    ]
    assert saved_config["architectures"] == ["GPT2LMHeadModel"]
    assert saved_config["n_embd"] == 32 and saved_config["tie_word_embeddings"]
    assert loaded.device == model.device
    assert not loaded.training
    assert same

    # --8<-- [start:tied]
    print("tied in the model:", model.lm_head.weight is model.transformer.wte.weight)
    with safe_open(folder / "model.safetensors", framework="pt") as f:
        stored = set(f.keys())
    print("names in the model:", len(model.state_dict()), "| in the file:", len(stored))
    print("lm_head.weight in the file:", "lm_head.weight" in stored)
    print("tied after loading:", loaded.lm_head.weight is loaded.transformer.wte.weight)
    # --8<-- [end:tied]
    assert set(model.state_dict()) - stored == {"lm_head.weight"}
    assert loaded.lm_head.weight is loaded.transformer.wte.weight

    # --8<-- [start:safe_serialization]
    old_style = out_dir / "old-style"
    model.save_pretrained(old_style, safe_serialization=False)  # ignored: no error
    print(sorted(path.name for path in old_style.iterdir()))
    # --8<-- [end:safe_serialization]
    assert not (old_style / "pytorch_model.bin").exists()
    assert (old_style / "model.safetensors").exists()

    # A tokenizer built here, as tokenizers and transformers allow, so that
    # nothing comes from the Hub: one id per word, split at spaces.
    words = [
        "[UNK]",
        "[PAD]",
        "the",
        "model",
        "saves",
        "and",
        "loads",
        "its",
        "tokenizer",
    ]
    word_level = Tokenizer(WordLevel({w: i for i, w in enumerate(words)}, "[UNK]"))
    word_level.pre_tokenizer = Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level, unk_token="[UNK]", pad_token="[PAD]"
    )

    # --8<-- [start:tokenizer]
    tokenizer.save_pretrained(folder)  # the same folder as the model
    print(sorted(path.name for path in folder.iterdir()))
    loaded_tokenizer = AutoTokenizer.from_pretrained(folder)
    text = "the model saves and loads its tokenizer"
    print(loaded_tokenizer(text)["input_ids"])
    inputs = loaded_tokenizer(text, return_tensors="pt").to(device)
    logits = loaded(**inputs).logits  # the pair, ready to run
    # --8<-- [end:tokenizer]
    assert loaded_tokenizer(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert loaded_tokenizer.decode(inputs["input_ids"][0]) == text
    assert loaded_tokenizer.get_vocab() == tokenizer.get_vocab()
    assert logits.shape == (1, 7, sizes["vocab_size"])
    assert {"tokenizer.json", "tokenizer_config.json"} <= {
        path.name for path in folder.iterdir()
    }

    # --8<-- [start:dtype]
    bf16 = GPT2LMHeadModel.from_pretrained(folder, dtype=torch.bfloat16)
    bf16.save_pretrained(out_dir / "tiny-gpt2-bf16")  # "dtype": "bfloat16"
    again = GPT2LMHeadModel.from_pretrained(out_dir / "tiny-gpt2-bf16")  # no dtype
    print("saved in bfloat16, loaded as:", again.dtype)
    as_float32 = GPT2LMHeadModel.from_pretrained(
        out_dir / "tiny-gpt2-bf16", dtype=torch.float32
    )
    print("with dtype=torch.float32:", as_float32.dtype)
    # --8<-- [end:dtype]
    bf16_config = json.loads((out_dir / "tiny-gpt2-bf16" / "config.json").read_text())
    assert bf16_config["dtype"] == "bfloat16"
    with safe_open(out_dir / "tiny-gpt2-bf16" / "model.safetensors", "pt") as f:
        assert all(f.get_slice(k).get_dtype() == "BF16" for k in f.keys())
    assert all(p.dtype == torch.bfloat16 for p in again.parameters())
    assert all(p.dtype == torch.float32 for p in as_float32.parameters())

    # --8<-- [start:offline]
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    # --8<-- [end:offline]
    assert type(model) is GPT2LMHeadModel and tokenizer.get_vocab()["tokenizer"] == 8
    assert connections == [], connections


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
