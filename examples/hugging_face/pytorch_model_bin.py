"""Hugging Face Transformers: from_pretrained still reads an old pytorch_model.bin.

transformers 5 no longer writes one; older versions wrote a torch.save of the
state_dict. This script writes such a folder by hand, loads it, and records how
from_pretrained calls torch.load.
"""

import argparse
import pickle
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import transformers.modeling_utils
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()  # they go to stderr; keep the terminal quiet
    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    config = GPT2Config(**sizes, bos_token_id=0, eos_token_id=0)  # not 50256: > 100
    model = GPT2LMHeadModel(config).to(device).eval()

    # --8<-- [start:write]
    folder = out_dir / "old-gpt2"
    config.save_pretrained(folder)  # config.json
    torch.save(model.state_dict(), folder / "pytorch_model.bin")  # the old format
    print(sorted(path.name for path in folder.iterdir()))
    # --8<-- [end:write]

    # --8<-- [start:load]
    with mock.patch("torch.load", wraps=torch.load) as spy:  # records each call
        loaded = GPT2LMHeadModel.from_pretrained(folder)
    for call in spy.call_args_list:
        print("torch.load", call.kwargs)
    # --8<-- [end:load]
    assert [c.kwargs for c in spy.call_args_list] == [
        {"map_location": "meta", "weights_only": True},  # no dtype in config.json
        {"map_location": "cpu", "weights_only": True, "mmap": True},
    ]
    loaded = loaded.to(device)
    tokens = torch.tensor([[5, 17, 42, 8]], device=device)
    with torch.no_grad():
        same = torch.equal(loaded(tokens).logits, model(tokens).logits)
    print("same logits:", same)
    print("tied after loading:", loaded.lm_head.weight is loaded.transformer.wte.weight)
    assert same
    assert loaded.lm_head.weight is loaded.transformer.wte.weight

    # When does from_pretrained check that PyTorch is 2.6 or newer? Count the
    # calls to its check, with each torch.load's weights_only beside them.
    loaded.save_pretrained(out_dir / "safetensors-gpt2")
    where = "transformers.modeling_utils.check_torch_load_is_safe"
    check = transformers.modeling_utils.check_torch_load_is_safe
    calls = {}
    for name, path, kwargs in [
        ("pytorch_model.bin", folder, {}),
        ("pytorch_model.bin, weights_only=False", folder, {"weights_only": False}),
        ("model.safetensors", out_dir / "safetensors-gpt2", {}),
    ]:
        with (
            mock.patch(where, wraps=check) as checks,
            mock.patch("torch.load", wraps=torch.load) as spy,
        ):
            GPT2LMHeadModel.from_pretrained(path, **kwargs)
        loads = [call.kwargs["weights_only"] for call in spy.call_args_list]
        print(f"{name}: torch.load weights_only={loads}, checks: {checks.call_count}")
        assert checks.call_count == loads.count(True)
        calls[name] = loads
    assert calls["pytorch_model.bin"] == [True, True]
    assert calls["pytorch_model.bin, weights_only=False"] == [False, True]
    assert calls["model.safetensors"] == []

    # The file itself is a plain state_dict: torch.load reads it with weights_only=True.
    # --8<-- [start:plain]
    state_dict = torch.load(folder / "pytorch_model.bin", weights_only=True)
    wte, lm_head = state_dict["transformer.wte.weight"], state_dict["lm_head.weight"]
    print(len(state_dict), "names; lm_head.weight shares wte's storage:", end=" ")
    print(lm_head.untyped_storage().data_ptr() == wte.untyped_storage().data_ptr())
    # --8<-- [end:plain]
    assert len(state_dict) == len(model.state_dict()) == 29
    assert lm_head.untyped_storage().data_ptr() == wte.untyped_storage().data_ptr()

    # weights_only=False given to from_pretrained does not reach the second read,
    # so a .bin that weights_only=True refuses does not load, even with False.
    # --8<-- [start:weights_only_false]
    with mock.patch("torch.load", wraps=torch.load) as spy:
        GPT2LMHeadModel.from_pretrained(folder, weights_only=False)
    print([call.kwargs["weights_only"] for call in spy.call_args_list])

    state_dict["step"] = np.int64(1000)  # a NumPy value: weights_only=True refuses it
    torch.save(state_dict, folder / "pytorch_model.bin")
    try:
        GPT2LMHeadModel.from_pretrained(folder, weights_only=False)
    except pickle.UnpicklingError as err:
        print("with a NumPy value, weights_only=False:", type(err).__name__)
        assert "Weights only load failed" in str(err)
    else:
        raise AssertionError("from_pretrained loaded with weights_only=False")
    # --8<-- [end:weights_only_false]
    assert [c.kwargs["weights_only"] for c in spy.call_args_list] == [False, True]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
