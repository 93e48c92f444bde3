"""tools/inspect_checkpoint.py on files the real libraries write, and on bad files.

Each library writes its file once (session fixtures); each test asserts what the
tool reports for it. Files built to hurt are inspected in a child process, with
a time limit, and nothing they name may run or be imported.
"""

import io
import json
import os
import pickle
import re
import struct
import subprocess
import sys
import time
import zipfile

import pytest
from project import GPU_FILES, ROOT, load_script, run_script

TOOL = ROOT / "tools" / "inspect_checkpoint.py"

tool = load_script("tools/inspect_checkpoint.py")


def inspect(path, **kw):
    return tool.inspect(str(path), **kw)


def run_tool(*args, timeout=30):
    """The tool as a reader runs it: a new Python, no torch imported."""
    return subprocess.run(
        [sys.executable, TOOL, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# The tool's peak resident memory, measured by a small Python between this test and
# the tool: on Linux a child's ru_maxrss starts from its parent's peak at fork, and
# this process holds torch; the small one's peak is a few MB.
MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], timeout=20).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'peak RSS {peak} KiB', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_tool_measured(*args):
    """run_tool, and the tool's peak resident memory in MB (ru_maxrss is in KiB
    on Linux)."""
    result = subprocess.run(
        [sys.executable, "-S", "-c", MEASURE, sys.executable, TOOL, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    peak = re.search(r"peak RSS (\d+) KiB", result.stderr)
    return result, int(peak[1]) / 1024


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus")


def tiny_model():
    from torch import nn

    global MyModel

    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(10, 5)
            self.fc2 = nn.Linear(5, 1)

        def forward(self, x):
            return self.fc2(self.fc1(x))

    MyModel.__qualname__ = "MyModel"
    return MyModel()


# ---------------------------------------------------------------- torch files
@pytest.fixture(scope="session")
def torch_files(corpus):
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = tiny_model()
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    model(torch.randn(2, 10)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
    files = {}
    files["state_dict"] = corpus / "state_dict.pt"
    torch.save(model.state_dict(), files["state_dict"])
    files["checkpoint"] = corpus / "checkpoint.pt"
    torch.save(
        {
            "epoch": 3,
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
        },
        files["checkpoint"],
    )
    files["legacy"] = corpus / "legacy.pt"
    torch.save(
        model.state_dict(), files["legacy"], _use_new_zipfile_serialization=False
    )
    files["ddp"] = corpus / "ddp.pt"
    torch.save(nn.DataParallel(model).state_dict(), files["ddp"])
    tied = nn.Sequential(nn.Embedding(7, 4), nn.Linear(4, 7, bias=False))
    tied[1].weight = tied[0].weight
    files["tied"] = corpus / "tied.pt"
    torch.save(tied.state_dict(), files["tied"])
    big = torch.zeros(1000)
    files["view"] = corpus / "view.pt"
    torch.save({"head": big[:10]}, files["view"])
    files["half"] = corpus / "half.pt"
    torch.save({k: v.half() for k, v in model.state_dict().items()}, files["half"])
    files["torchscript"] = corpus / "scripted.pt"
    with pytest.warns((DeprecationWarning, FutureWarning)):
        torch.jit.save(torch.jit.script(model), files["torchscript"])
    files["export"] = corpus / "model.pt2"
    program = torch.export.export(model, (torch.randn(2, 10),))
    torch.export.save(program, files["export"])
    files["compiled"] = corpus / "compiled.pt"  # export imported dynamo already
    torch.save(torch.compile(model).state_dict(), files["compiled"])
    files["entire"] = corpus / "entire.pt"
    torch.save(model, files["entire"])
    import torch.distributed.checkpoint as dcp

    files["dcp"] = corpus / "dcp"
    with pytest.warns(UserWarning):  # no process group: DCP warns and saves
        dcp.save(model.state_dict(), checkpoint_id=files["dcp"])
    return files


def test_state_dict(torch_files):
    r = inspect(torch_files["state_dict"])
    assert r["format"] == "torch-zip"
    assert r["tensors"]["count"] == 4
    assert r["tensors"]["bytes"] == (50 + 5 + 5 + 1) * 4
    assert r["tensors"]["dtypes"] == {"float32": 4}
    assert r["tensors"]["devices"] == {"cpu": 4}
    assert [t["shape"] for t in r["tensors"]["list"]] == [[5, 10], [5], [1, 5], [1]]
    assert r["serialization"]["byteorder"] == "little"
    assert r["serialization"]["archive_version"] == "3"
    assert all(g["weights_only"] == "allowed" for g in r["globals"])
    assert r["findings"] == []


def test_training_checkpoint(torch_files):
    r = inspect(torch_files["checkpoint"])
    assert list(r["structure"]) == ["epoch", "model", "optimizer", "scheduler"]
    assert r["structure"]["epoch"] == "3"
    assert r["structure"]["model"] == "state_dict: 4 tensors"
    (opt,) = r["optimizers"]
    assert opt["path"] == "optimizer"
    assert opt["kind"] == "AdamW"
    assert opt["state_keys"] == ["exp_avg", "exp_avg_sq", "step"]
    assert opt["parameters_with_state"] == 4
    assert opt["hyperparameters"]["lr"] == 0.01
    assert opt["hyperparameters"]["weight_decay"] == 0.01  # AdamW's default


def test_legacy(torch_files):
    r = inspect(torch_files["legacy"])
    assert r["format"] == "torch-legacy"
    assert r["serialization"]["byteorder"] == "little"
    assert r["serialization"]["legacy_protocol_version"] == 1001
    assert r["tensors"]["count"] == 4


@pytest.mark.parametrize(
    "name, prefix", [("ddp", "module."), ("compiled", "_orig_mod.")]
)
def test_prefixes(torch_files, name, prefix):
    r = inspect(torch_files[name])
    (f,) = [f for f in r["findings"] if f["id"] == "prefix"]
    assert f["prefix"] == prefix
    assert "troubleshooting/#" in f["page"]


def test_tied_and_views(torch_files):
    tied = inspect(torch_files["tied"])["tensors"]
    assert tied["shared_storages"] == [
        {"storage": "0", "tensors": ["0.weight", "1.weight"]}
    ]
    view = inspect(torch_files["view"])
    (o,) = view["tensors"]["oversized_storages"]
    assert (o["storage_bytes"], o["used_bytes"]) == (4000, 40)
    assert "oversized" in {f["id"] for f in view["findings"]}


def test_half(torch_files):
    assert inspect(torch_files["half"])["tensors"]["dtypes"] == {"float16": 4}


def test_torchscript_and_export(torch_files):
    ts = inspect(torch_files["torchscript"])
    assert ts["format"] == "torchscript"
    assert ts["tensors"]["count"] == 4
    ex = inspect(torch_files["export"])
    assert ex["format"] == "torch-export"
    assert ex["serialization"]["archive_format"] == "pt2"
    assert {t["name"]: t["shape"] for t in ex["tensors"]["list"]} == {
        "fc1.weight": [5, 10],
        "fc1.bias": [5],
        "fc2.weight": [1, 5],
        "fc2.bias": [1],
    }


def test_weights_only_verdicts_match_torch(torch_files):
    """What the tool says weights_only=True refuses is what torch says it refuses."""
    from torch.serialization import get_unsafe_globals_in_checkpoint

    for name in ("state_dict", "checkpoint", "entire", "tied", "compiled"):
        r = inspect(torch_files[name])
        refused = {g["name"] for g in r["globals"] if g["weights_only"] == "refused"}
        assert refused == set(get_unsafe_globals_in_checkpoint(torch_files[name])), name
    entire = inspect(torch_files["entire"])
    assert "weights_only_refuses" in {f["id"] for f in entire["findings"]}


def test_allowed_globals_are_torchs():
    """The tool's list is the installed torch's _get_allowed_globals, name for name."""
    from torch._weights_only_unpickler import _get_allowed_globals

    assert tool.WEIGHTS_ONLY_ALLOWED == set(_get_allowed_globals())


def test_opcodes_and_new_dtypes(tmp_path):
    """Protocol 4 opcodes that weights_only refuses; dtypes saved on untyped storage."""
    import torch

    p4 = tmp_path / "p4.pt"
    torch.save({"w": torch.zeros(2)}, p4, pickle_protocol=4)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported operand"):
        torch.load(p4, weights_only=True)
    r = inspect(p4)
    assert r["globals"] and all(g["weights_only"] == "allowed" for g in r["globals"])
    assert "weights_only_opcodes" in {f["id"] for f in r["findings"]}
    dtypes = ["uint16", "float8_e4m3fn", "bfloat16"]
    new = tmp_path / "dtypes.pt"
    torch.save({d: torch.zeros(3, dtype=getattr(torch, d)) for d in dtypes}, new)
    t = inspect(new)["tensors"]
    assert [x["dtype"] for x in t["list"]] == dtypes
    assert t["bytes"] == 3 * (2 + 1 + 2)
    other = tmp_path / "meta-and-quantized.pt"
    quantized = torch.quantize_per_tensor(torch.ones(4), 0.1, 0, torch.qint8)
    torch.save({"meta": torch.empty(2, 3, device="meta"), "q": quantized}, other)
    t = inspect(other)["tensors"]
    assert [(x["dtype"], x["shape"], x["device"]) for x in t["list"]] == [
        ("float32", [2, 3], "meta"),
        ("qint8", [4], "cpu"),
    ]
    assert t["bytes"] == 4  # a meta tensor saves no data


def test_dcp(torch_files):
    r = inspect(torch_files["dcp"])
    assert r["format"] == "dcp"
    assert r["tensors"]["count"] == 4
    assert r["tensors"]["dtypes"] == {"float32": 4}
    assert "dcp_pickle" in {f["id"] for f in r["findings"]}


def test_gpu_checkpoints():
    r = inspect(GPU_FILES / "checkpoint_cuda.pt")
    assert r["tensors"]["devices"] == {"cuda:0": 12, "cpu": 4}
    assert "cuda" in {f["id"] for f in r["findings"]}
    entire = inspect(GPU_FILES / "mymodel_entire_cuda.pt")
    refused = {g["name"] for g in entire["globals"] if g["weights_only"] == "refused"}
    assert "__main__.MyModel" in refused


# ---------------------------------------------------------------- other libraries
@pytest.fixture(scope="session")
def hf_files(corpus):
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=50,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
    )
    model = BertModel(config)
    files = {"transformers": corpus / "bert", "sharded": corpus / "bert-sharded"}
    model.save_pretrained(files["transformers"])
    model.save_pretrained(files["sharded"], max_shard_size="2KB")
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(model, LoraConfig(r=2, target_modules=["query"]))
    files["peft"] = corpus / "adapter"
    peft_model.save_pretrained(files["peft"])
    from accelerate import Accelerator

    acc = Accelerator(cpu=True)
    net = tiny_model()
    import torch

    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net, opt = acc.prepare(net, opt)
    files["accelerate"] = corpus / "accelerate"
    acc.save_state(files["accelerate"])
    files["trainer"] = hf_trainer_checkpoint(corpus, config)
    return files


def hf_trainer_checkpoint(corpus, config):
    """One step of transformers' Trainer, saved as checkpoint-1/."""
    import torch
    from transformers import BertForSequenceClassification, Trainer, TrainingArguments

    model = BertForSequenceClassification(config)
    data = [{"input_ids": torch.tensor([1, 2, 3]), "labels": 0}] * 2
    args = TrainingArguments(
        output_dir=str(corpus / "trainer"),
        max_steps=1,
        save_steps=1,
        per_device_train_batch_size=2,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
    )
    Trainer(model=model, args=args, train_dataset=data).train()
    return corpus / "trainer" / "checkpoint-1"


def test_transformers(hf_files):
    r = inspect(hf_files["transformers"])
    assert r["format"] == "transformers"
    assert r["structure"]["config.json: architectures"] == '["BertModel"]'
    (f,) = r["files"]
    assert f["format"] == "safetensors"
    assert r["tensors"]["count"] == f["tensors"]["count"] > 10
    sharded = inspect(hf_files["sharded"])
    assert sharded["format"] == "transformers"
    shards = [f for f in sharded["files"] if f["format"] == "safetensors"]
    assert len(shards) > 1
    assert sharded["tensors"]["count"] == r["tensors"]["count"]


def test_missing_shard(hf_files, tmp_path):
    import shutil

    folder = tmp_path / "bert"
    shutil.copytree(hf_files["sharded"], folder)
    (
        folder
        / "model-00002-of-{:05d}.safetensors".format(
            len(list(folder.glob("model-*.safetensors")))
        )
    ).unlink()
    r = inspect(folder)
    assert "missing_shard" in {f["id"] for f in r["findings"]}


def test_safetensors_shards_without_config(tmp_path):
    """A bare folder of safetensors shards and their index, no config.json: what
    huggingface_hub's save_torch_state_dict writes (safetensors' save_file for each
    shard; safetensors itself writes no index)."""
    import torch
    from huggingface_hub import save_torch_state_dict

    state_dict = {
        "fc1.weight": torch.zeros(5, 10),
        "fc1.bias": torch.zeros(5),
        "fc2.weight": torch.zeros(1, 5, dtype=torch.float16),
        "fc2.bias": torch.zeros(1),
    }
    save_torch_state_dict(state_dict, tmp_path, max_shard_size=100)
    shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [*shards, "model.safetensors.index.json"]
    r = inspect(tmp_path)
    assert r["format"] == "safetensors-sharded"
    assert [f["file"] for f in r["files"]] == shards
    assert [f["format"] for f in r["files"]] == ["safetensors"] * 2
    tensors = r["tensors"]
    assert tensors["count"] == 4
    assert tensors["parameters"] == 50 + 5 + 5 + 1
    assert tensors["bytes"] == (50 + 5 + 1) * 4 + 5 * 2
    assert tensors["dtypes"] == {"float32": 3, "float16": 1}
    assert {t["name"]: (t["dtype"], t["shape"]) for t in tensors["list"]} == {
        "fc1.weight": ("float32", [5, 10]),
        "fc1.bias": ("float32", [5]),
        "fc2.weight": ("float16", [1, 5]),
        "fc2.bias": ("float32", [1]),
    }
    assert [f["id"] for f in r["findings"]] == ["safetensors-sharded"]
    (tmp_path / shards[1]).unlink()
    missing = inspect(tmp_path)["findings"]
    assert any(
        f["id"] == "missing_shard" and f["message"].endswith(f"missing: {shards[1]}")
        for f in missing
    )


def test_trainer_checkpoint(hf_files):
    r = inspect(hf_files["trainer"])
    assert r["format"] == "hf-trainer"
    by_name = {f["file"]: f for f in r["files"]}
    assert by_name["model.safetensors"]["format"] == "safetensors"
    assert by_name["optimizer.pt"]["format"] == "torch-zip"
    opt = inspect(hf_files["trainer"] / "optimizer.pt")
    assert opt["optimizers"][0]["kind"] == "AdamW"


def test_peft_and_accelerate(hf_files):
    r = inspect(hf_files["peft"])
    assert r["format"] == "peft"
    assert r["structure"]["adapter_config.json: peft_type"] == '"LORA"'
    assert r["tensors"]["count"] == 2  # lora_A and lora_B of the one query layer
    a = inspect(hf_files["accelerate"])
    assert a["format"] == "accelerate"
    by_name = {f["file"]: f for f in a["files"]}
    assert by_name["model.safetensors"]["tensors"]["count"] == 4
    opt = inspect(hf_files["accelerate"] / "optimizer.bin")
    assert opt["optimizers"][0]["kind"] == "SGD"
    assert opt["optimizers"][0]["hyperparameters"]["momentum"] == 0.9


def test_deepspeed_folder(tmp_path):
    """A ZeRO-3 folder that DeepSpeed writes: examples/deepspeed/consolidate.py's
    train_and_save, one process on the CPU, in a process of its own (it starts a
    process group)."""
    folder = tmp_path / "checkpoint"
    script = tmp_path / "write_zero_checkpoint.py"
    script.write_text(
        "import sys\n\n"
        f"sys.path.insert(0, {str(ROOT / 'examples' / 'deepspeed')!r})\n"
        "from consolidate import train_and_save\n\n"
        f"train_and_save({str(folder)!r})\n"
    )
    result = run_script(script, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    r = inspect(folder)
    assert r["format"] == "deepspeed"
    assert r["structure"]["latest"] == "'global_step2'"  # 2 steps
    by_name = {f["file"]: f for f in r["files"]}
    assert set(by_name) == {
        "global_step2/zero_pp_rank_0_mp_rank_00_model_states.pt",
        "global_step2/zero_pp_rank_0_mp_rank_00_optim_states.pt",
    }
    assert {f["format"] for f in by_name.values()} == {"torch-zip"}
    # nn.Linear(10, 5)'s 55 fp32 weights, flat, in the optimizer's file
    shapes = {t["name"]: t["shape"] for t in r["tensors"]["list"]}
    assert shapes["optimizer_state_dict.fp32_flat_groups.0"] == [55]
    (hint,) = [f for f in r["findings"] if f["id"] == "deepspeed"]
    assert hint["page"] == tool.page("deepspeed")


@pytest.fixture(scope="session")
def lightning_ckpt(corpus):
    import logging

    import lightning as L
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    logging.getLogger("lightning").setLevel(logging.ERROR)

    class Lit(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = tiny_model()

        def training_step(self, batch, _):
            x, y = batch
            return torch.nn.functional.mse_loss(self.model(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters())

    data = DataLoader(TensorDataset(torch.randn(4, 10), torch.randn(4, 1)))
    trainer = L.Trainer(
        max_steps=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        default_root_dir=corpus,
    )
    trainer.fit(Lit(), data)
    path = corpus / "lit.ckpt"
    trainer.save_checkpoint(path)
    return path


def test_lightning(lightning_ckpt):
    r = inspect(lightning_ckpt)
    assert r["format"] == "lightning"
    assert {"state_dict", "optimizer_states", "pytorch-lightning_version"} <= set(
        r["structure"]
    )
    prefixes = [f for f in r["findings"] if f["id"] == "prefix"]
    assert prefixes[0]["prefix"] == "model." and prefixes[0]["where"] == "state_dict"


@pytest.fixture(scope="session")
def keras_files(corpus):
    import warnings

    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    files = {
        "keras": corpus / "m.keras",
        "weights": corpus / "m.weights.h5",
        "h5": corpus / "m.h5",
    }
    model.save(files["keras"])
    model.save_weights(files["weights"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(files["h5"])
    return files


def test_keras(keras_files):
    r = inspect(keras_files["keras"])
    assert r["format"] == "keras"
    assert r["structure"]["model class"] == "Sequential"
    assert inspect(keras_files["weights"])["format"] == "keras-weights-h5"
    h5 = inspect(keras_files["h5"])
    assert h5["format"] == "keras-h5"
    assert "a whole model" in h5["format_name"]


def test_numpy_and_pickle(corpus):
    import numpy as np

    np.save(corpus / "a.npy", np.zeros((3, 4), dtype=np.float32))
    np.savez(corpus / "b.npz", w=np.ones(5), b=np.zeros((2, 2)))
    np.save(corpus / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with open(corpus / "plain.pkl", "wb") as f:
        pickle.dump({"lr": 0.1, "names": ["a", "b"]}, f)
    a = inspect(corpus / "a.npy")
    assert a["format"] == "numpy-npy"
    assert a["structure"]["array"] == "<f4 [3, 4]"
    b = inspect(corpus / "b.npz")
    assert b["format"] == "numpy-npz"
    assert b["structure"] == {"w": "array <f8 [5]", "b": "array <f8 [2, 2]"}
    o = inspect(corpus / "o.npy")
    assert "numpy_pickle" in {f["id"] for f in o["findings"]}
    p = inspect(corpus / "plain.pkl")
    assert p["format"] == "pickle"
    assert p["structure"] == {"lr": "0.1", "names": "list of 2"}


# ---------------------------------------------------------------- not checkpoints
def error_of(path):
    with pytest.raises(tool.Unreadable) as e:
        inspect(path)
    return str(e.value)


def test_not_checkpoints(corpus, torch_files):
    lfs = corpus / "lfs.pt"
    lfs.write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:" + "0" * 64 + "\nsize 123456789\n"
    )
    assert "Git LFS pointer" in error_of(lfs)
    assert "123,456,789" in error_of(lfs)
    html = corpus / "page.pt"
    html.write_text("<!DOCTYPE html>\n<html><body>Sign in</body></html>")
    assert "HTML page" in error_of(html)
    empty = corpus / "empty.pt"
    empty.write_bytes(b"")
    assert "empty" in error_of(empty)
    data = torch_files["checkpoint"].read_bytes()
    cut = corpus / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    assert "cut off" in error_of(cut)
    legacy = torch_files["legacy"].read_bytes()
    cut_legacy = corpus / "cut-legacy.pt"
    cut_legacy.write_bytes(legacy[:200])
    assert "cut off" in error_of(cut_legacy) or "damaged" in error_of(cut_legacy)


def test_safetensors_damaged(corpus):
    import torch
    from safetensors.torch import save_file

    path = corpus / "w.safetensors"
    save_file({"w": torch.zeros(100, 10), "b": torch.zeros(10)}, path)
    r = inspect(path)
    assert r["format"] == "safetensors"
    assert {t["name"]: t["shape"] for t in r["tensors"]["list"]} == {
        "w": [100, 10],
        "b": [10],
    }
    assert r["tensors"]["bytes"] == 4040
    data = path.read_bytes()
    cut = corpus / "cut.safetensors"
    cut.write_bytes(data[:-100])
    assert "cut off" in error_of(cut)
    huge = corpus / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 2**40) + data[8:])
    assert "declares 1,099,511,627,776 bytes" in error_of(huge)


def test_damaged_zip_crc(corpus, torch_files):
    """A flipped byte in a tensor's record: found by --check-crc (the data is not read otherwise)."""
    data = bytearray(torch_files["state_dict"].read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith("data/0"))
    name_len, extra_len = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len
    data[start + 4] ^= 0xFF
    bad = corpus / "crc.pt"
    bad.write_bytes(bytes(data))
    assert inspect(bad)["ok"]  # headers and pickle intact
    with pytest.raises(tool.Unreadable, match="CRC-32 mismatch.*data/0"):
        inspect(bad, check_crc=True)


def test_damaged_anywhere(torch_files, tmp_path):
    """Every byte of a small checkpoint damaged in turn: a report or a clear message."""
    import random

    data = torch_files["checkpoint"].read_bytes()
    rng = random.Random(0)
    path = tmp_path / "damaged.pt"
    for _ in range(300):
        broken = bytearray(data)
        broken[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            broken = broken[: rng.randrange(len(broken))]
        path.write_bytes(bytes(broken))
        try:
            inspect(path, check_crc=True)
        except tool.Unreadable:
            pass


# ---------------------------------------------------------------- files built to hurt
class Marker:
    """Unpickled, it would create the file `path`."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


MODULE = "inspect_marker_module_xyz"


def test_never_runs_the_file(tmp_path):
    """A pickle that would write a file, and one that would import a module: neither happens."""
    import torch

    marker = tmp_path / "ran"
    (tmp_path / f"{MODULE}.py").write_text(
        f"open({str(tmp_path / 'imported')!r}, 'w').close()\n"
    )
    evil_pt = tmp_path / "evil.pt"
    torch.save({"weights": torch.zeros(2), "payload": Marker(str(marker))}, evil_pt)
    evil_pkl = tmp_path / "evil.pkl"
    # GLOBAL inspect_marker_module_xyz.f, called: importing it would create "imported".
    evil_pkl.write_bytes(b"\x80\x02c" + MODULE.encode() + b"\nf\n)R.")
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); sys.path.insert(0, {str(TOOL.parent)!r})\n"
        "import inspect_checkpoint as t\n"
        f"r = t.inspect({str(evil_pt)!r}); print(r['findings'][0]['message'])\n"
        f"r = t.inspect({str(evil_pkl)!r}); print([g['name'] for g in r['globals']])\n"
        f"assert {MODULE!r} not in sys.modules\n"
        "assert 'torch' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "io.open" in result.stdout
    assert f"'{MODULE}.f'" in result.stdout
    assert not marker.exists()
    assert not (tmp_path / "imported").exists()


HOSTILE = {
    # BINUNICODE8 declaring 2**62 bytes
    "huge-size": b"\x80\x04\x8d" + struct.pack("<Q", 2**62) + b"abc.",
    # 1,000,000 nested lists
    "deep": b"\x80\x02" + b"(" * 1_000_000 + b"l" * 1_000_000 + b".",
    # a billion laughs: each list holds the previous one twice, 100 levels deep
    "memo-bomb": b"\x80\x02]q\x00"
    + b"".join(
        b"(h" + bytes([i]) + b"h" + bytes([i]) + b"lq" + bytes([i + 1])
        for i in range(100)
    )
    + b".",
    # a cycle: a list that holds itself
    "cycle": b"\x80\x02]q\x00h\x00a.",
    "garbage": os.urandom(4096),
    # 300,000 APPENDs onto a called object: a copy per APPEND would be quadratic
    "append-to-object": b"\x80\x02cfoo\nbar\n)R" + b"K\x00a" * 300_000 + b".",
    # a dict key: 60 tuples, each holding the one before twice (2**60 paths to hash)
    "hash-bomb": b"\x80\x02}K\x01K\x01\x86q\x000"
    + b"".join(b"h%ch%c\x86q%c0" % (i, i, i + 1) for i in range(60))
    + b"h\x3cK\x00s.",
    # 200,000 lists inside each other, built without MARK
    "deep-without-mark": b"\x80\x02" + b"]" * 200_000 + b"a" * 199_999 + b".",
    # a dict key: a tuple that names a 1 MB string 10,000 times (10 GB as text)
    "huge-key": b"\x80\x02}X\x40\x42\x0f\x00"
    + b"x" * 1_000_000
    + b"q\x000("
    + b"h\x00" * 10_000
    + b"tK\x00s.",
    # a tensor of 100,000 dimensions, rebuilt 1,000 times
    "many-dimensions": b"\x80\x02(ctorch._utils\n_rebuild_tensor_v2\nq\x01"
    + b"(NK\x00("
    + b"K\x01" * 100_000
    + b"tq\x02h\x02tq\x03"
    + b"h\x01h\x03R" * 1_000
    + b"l.",
    # {"a": [D] * 300,000} where D = {"b": [E] * 300,000}: 9e10 paths to one dict
    "optimizer-fan-out": b"\x80\x02}X\x01\x00\x00\x00a]("
    + b"}X\x01\x00\x00\x00b]("
    + b"}q\x01"
    + b"h\x01" * 300_000
    + b"esq\x02"
    + b"h\x02" * 300_000
    + b"es.",
}


def encrypted_zip(path):
    """A torch-like zip whose data.pkl is marked encrypted: zipfile raises
    RuntimeError for it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}.")
    data = bytearray(buffer.getvalue())
    data[data.find(b"PK\x03\x04") + 6] |= 1
    data[data.find(b"PK\x01\x02") + 8] |= 1
    path.write_bytes(bytes(data))


def zip_bomb(path):
    """A torch-like zip whose data.pkl inflates to 80 MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02" + b"N" * 80_000_000 + b".")


def test_the_page_states_the_bound_that_hostile_files_are_held_to():
    """test_hostile_files holds the tool to what the page promises."""
    text = (ROOT / "docs" / "inspect.md").read_text()
    assert "under 1 GB of memory" in text


@pytest.mark.parametrize("name", [*HOSTILE, "zip-bomb", "encrypted-zip"])
def test_hostile_files(name, tmp_path):
    """A message or a report, in bounded time and memory (the child's peak RSS)."""
    path = tmp_path / f"{name}.pt"
    if name == "zip-bomb":
        zip_bomb(path)
    elif name == "encrypted-zip":
        encrypted_zip(path)
    else:
        path.write_bytes(HOSTILE[name])
    start = time.perf_counter()
    result, peak_mb = run_tool_measured(path, "--json")
    elapsed = time.perf_counter() - start
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert elapsed < 10
    assert peak_mb < 1024, f"{peak_mb:.0f} MB"  # the page's bound (test below)
    # each object is visited once
    if name in (
        "cycle",
        "memo-bomb",
        "append-to-object",
        "huge-key",
        "optimizer-fan-out",
        "hash-bomb",
    ):
        assert result.returncode == 0 and report["format"] == "pickle"
    else:
        assert result.returncode == 1, report
        assert report["error"]


# ---------------------------------------------------------------- the command line
def test_cli_text_and_json(torch_files):
    result = run_tool(torch_files["checkpoint"])
    assert result.returncode == 0, result.stderr
    assert "torch.save (zip" in result.stdout
    assert "optimizer at optimizer: AdamW" in result.stdout
    path = torch_files["checkpoint"]
    data = json.loads(run_tool(path, "--json", "--all").stdout)
    # every field docs/inspect.md documents for a torch.save file, and no other
    assert set(data) == {
        "schema",
        "path",
        "ok",
        "size_bytes",
        "format",
        "format_name",
        "serialization",
        "structure",
        "tensors",
        "optimizers",
        "globals",
        "findings",
    }
    assert data["schema"] == "inspect_checkpoint/1"
    assert (data["path"], data["ok"], data["size_bytes"]) == (
        str(path),
        True,
        path.stat().st_size,
    )
    assert data["format"] == "torch-zip"
    assert data["format_name"] == "torch.save (zip, PyTorch 1.6 and later)"
    serialization = data["serialization"]
    assert serialization["archive_version"] == "3"
    assert (serialization["byteorder"], serialization["pickle_protocol"]) == (
        "little",
        2,
    )
    assert list(data["structure"]) == ["epoch", "model", "optimizer", "scheduler"]
    assert data["structure"]["model"] == "state_dict: 4 tensors"
    tensors = data["tensors"]
    # the model's 61 weights, AdamW's exp_avg and exp_avg_sq of each, 4 scalar steps
    assert tensors == {
        "count": 16,
        "bytes": (61 * 3 + 4) * 4,
        "storage_bytes": (61 * 3 + 4) * 4,
        "parameters": 61 * 3 + 4,
        "dtypes": {"float32": 16},
        "devices": {"cpu": 16},
        "shared_storages": [],
        "oversized_storages": [],
        "list": tensors["list"],
    }
    assert len(tensors["list"]) == 16  # --all: every tensor
    assert tensors["list"][0] == {
        "name": "model.fc1.weight",
        "dtype": "float32",
        "shape": [5, 10],
        "device": "cpu",
    }
    step = {"name": "optimizer.state.0.step", "dtype": "float32", "shape": []}
    assert {**step, "device": "cpu"} in tensors["list"]
    (optimizer,) = data["optimizers"]
    assert {k: v for k, v in optimizer.items() if k != "hyperparameters"} == {
        "path": "optimizer",
        "kind": "AdamW",
        "state_keys": ["exp_avg", "exp_avg_sq", "step"],
        "parameters_with_state": 4,
        "param_groups": 1,
    }
    assert optimizer["hyperparameters"]["lr"] == 0.01
    assert data["globals"] == [
        {"name": "collections.OrderedDict", "weights_only": "allowed"},
        {"name": "torch.FloatStorage", "weights_only": "allowed"},
        {"name": "torch._utils._rebuild_tensor_v2", "weights_only": "allowed"},
    ]
    assert data["findings"] == []
    # a finding: id, message, page; a prefix finding adds prefix and where
    ddp = json.loads(run_tool(torch_files["ddp"], "--json").stdout)
    (prefix,) = ddp["findings"]
    assert set(prefix) == {"id", "message", "page", "prefix", "where"}
    assert (prefix["id"], prefix["prefix"], prefix["where"]) == (
        "prefix",
        "module.",
        "(top level)",
    )
    assert prefix["message"].startswith("every key of (top level) starts with")
    assert prefix["page"] == tool.page("module_prefix")


def test_cli_bad_paths(tmp_path):
    missing = run_tool(tmp_path / "nope.pt")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    (tmp_path / "notes.txt").write_text("hello")
    folder = run_tool(tmp_path)
    assert folder.returncode == 1 and "not a checkpoint folder" in folder.stdout
    assert "Traceback" not in folder.stderr + missing.stderr


def test_model_comparison(torch_files, tmp_path):
    """--model builds the class on the meta device and says how to load the file."""
    (tmp_path / "mymodels.py").write_text(
        "from torch import nn\n\n\n"
        "class MyModel(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc1 = nn.Linear(10, 5)\n"
        "        self.fc2 = nn.Linear(5, 3)\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        report = inspect(torch_files["ddp"])
        c = tool.compare_with_model(report, "mymodels:MyModel")
        report = inspect(torch_files["checkpoint"])
        nested = tool.compare_with_model(report, "mymodels:MyModel")
        scripted = inspect(torch_files["torchscript"])
        scripted = tool.compare_with_model(scripted, "mymodels:MyModel")
    finally:
        sys.path.remove(str(tmp_path))
    assert set(c) >= {  # the comparison's fields that docs/inspect.md documents
        "missing",
        "unexpected",
        "strip_prefix",
        "shape_mismatches",
        "dtype_mismatches",
        "load_code",
        "findings",
    }
    assert c["strip_prefix"] == "module."
    assert c["missing"] == c["unexpected"] == []
    assert c["shape_mismatches"][1] == {
        "key": "fc2.weight",
        "file": [1, 5],
        "model": [3, 5],
    }
    assert 'k.removeprefix("module.")' in c["load_code"]
    assert nested["state_dict_in_file"] == "model"
    assert 'state_dict = checkpoint["model"]' in nested["load_code"]
    assert scripted["missing"] == scripted["unexpected"] == []
    assert "torch.jit.load(" in scripted["load_code"]


def test_load_code_quotes_what_the_file_names(tmp_path):
    """A key chosen to close the string in the printed load code stays a string."""
    import ast

    import torch

    key = 'x"]; import os; os.system("echo owned"); y = checkpoint["'
    path = tmp_path / 'a "quoted" name.pt'
    torch.save({key: tiny_model().state_dict()}, path)
    code = tool.load_code(inspect(path), "mymodels:MyModel", key, "", False)
    tree = ast.parse(code)
    assert not any(
        isinstance(node, ast.Import) and node.names[0].name == "os"
        for node in ast.walk(tree)
    )
    subscripts = [n.slice.value for n in ast.walk(tree) if isinstance(n, ast.Subscript)]
    assert subscripts == [key]
    assert str(path) in [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]


def test_finding_pages_exist():
    """Every page the tool links to is a page of the site, with that heading, and
    each folder format names the page about it."""
    import markdown.extensions.toc

    slugify = markdown.extensions.toc.slugify
    for name, address in tool.PAGES.items():
        path, _, anchor = address.partition("#")
        page = ROOT / "docs" / (path.rstrip("/") + ".md")
        assert page.is_file(), name
        if anchor:
            headings = [
                slugify(line.lstrip("#").strip().replace("`", ""), "-")
                for line in page.read_text().splitlines()
                if line.startswith("## ")
            ]
            assert anchor in headings, (name, anchor)
    # every page name the tool passes to finding() or Unreadable() is one of PAGES
    import ast

    named = {name for _, name, _ in tool.PREFIXES}
    for node in ast.walk(ast.parse(TOOL.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
            "finding",
            "Unreadable",
        ):
            arg = node.args[2 if node.func.id == "finding" else 1 :][:1]
            if arg and isinstance(arg[0], ast.Constant):
                named.add(arg[0].value)
    assert named - {None} <= set(tool.PAGES), named - set(tool.PAGES)
    # each folder format points to the page about that format
    folder_pages = {fmt: tool.PAGES[name] for fmt, _, _, name in tool.FOLDER_FORMATS}
    assert {fmt: folder_pages[fmt].partition("/")[0] for fmt in folder_pages} == {
        "deepspeed": "deepspeed",
        "hf-trainer": "trainer",
        "peft": "peft",
        "transformers": "hugging-face",
        "accelerate": "accelerate",
        "dcp": "distributed-checkpoint",
        "safetensors-sharded": "troubleshooting",
    }
