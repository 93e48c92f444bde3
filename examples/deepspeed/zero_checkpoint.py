"""DeepSpeed ZeRO checkpoints: save from 2 ranks, make one file, load it anywhere.

`python zero_checkpoint.py` starts itself again in 2 processes with torchrun (on GPUs:
one process per GPU, up to 2). The ranks train a model with DeepSpeed's ZeRO stage 2,
then with stage 3, save each engine with `engine.save_checkpoint`, and resume a new
engine from each checkpoint with `engine.load_checkpoint`; then each rank records
what ZeRO-3 left in its process (DeepSpeed's torch.nn.functional.linear, and what
TorchScript makes of an nn.Linear). Then, at the same time:
DeepSpeed's script in the stage-2 folder, zero_to_fp32.py, writes one fp32 file; and a
new process turns the stage-3 checkpoint into a safetensors file with DeepSpeed's
`convert_zero_checkpoint_to_fp32_state_dict`, measures its peak memory, builds a
ZeRO-3 engine with "memory_efficient_linear": False, and resumes both checkpoints
on 1 rank. The first process never imports DeepSpeed: it checks what
each folder holds, the errors its files give when loaded the wrong way, and that the
plain model, loaded from the one-file copies, computes what the engines computed.
"""

import argparse
import inspect
import os
import pickle
import re
import resource
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(1024, 4096)  # 8.4 million parameters: 34 MB in fp32
        self.fc2 = nn.Linear(4096, 1024)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


MODEL_BYTES = sum(p.numel() * 4 for p in MyModel().parameters())


def ds_config(stage, device):
    """DeepSpeed's configuration: ZeRO `stage`, AdamW, bf16 on a GPU."""
    config = {
        "train_micro_batch_size_per_gpu": 4,
        # torch_adam: PyTorch's AdamW, rather than DeepSpeed's compiled one
        "optimizer": {"type": "AdamW", "params": {"lr": 1e-3, "torch_adam": True}},
        "zero_optimization": {"stage": stage},
    }
    if device.type == "cuda":  # the CPU trains in fp32
        config["bf16"] = {"enabled": True}
    return config


def batch(device, seed):
    """4 inputs, the same on every run with this seed, in the engine's dtype."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    inputs = torch.randn(4, 1024, generator=torch.Generator().manual_seed(seed))
    return inputs.to(device, dtype)


def train_save_resume(deepspeed, stage, device, rank, out_dir):
    """One rank's part: train with ZeRO `stage`, save, resume; what it saw."""
    checkpoint_dir = out_dir / f"stage{stage}"
    torch.manual_seed(0)  # the same initial weights on every rank
    # --8<-- [start:save]
    model = MyModel()
    engine, _, _, _ = deepspeed.initialize(
        model=model,
        model_parameters=model.parameters(),
        config=ds_config(stage, device),
    )
    for step in range(2):
        loss = engine(batch(device, seed=10 * rank + step)).pow(2).mean()
        engine.backward(loss)
        engine.step()
    # Every rank calls it: each writes its own part of the checkpoint.
    engine.save_checkpoint(checkpoint_dir, client_state={"epoch": 1})
    # --8<-- [end:save]
    # Which files this rank wrote (DeepSpeed decides it when it builds the engine):
    wrote = {
        "model_states": engine.save_non_zero_checkpoint,
        "optim_states": engine.save_zero_checkpoint,
        "latest": engine.global_rank == 0,
    }
    inputs = batch(device, seed=1000)  # the same on every rank
    engine.eval()
    with torch.no_grad():  # with ZeRO-3, every rank must run the forward pass
        outputs = engine(inputs).float().cpu()
    engine.train()

    torch.manual_seed(1)  # a new model, with other weights
    # --8<-- [start:resume]
    model = MyModel()
    resumed, _, _, _ = deepspeed.initialize(
        model=model,
        model_parameters=model.parameters(),
        config=ds_config(stage, device),
    )
    # Every rank calls it: the weights, the optimizer, the step, your client_state.
    _, client_state = resumed.load_checkpoint(checkpoint_dir)  # the tag in `latest`
    # --8<-- [end:resume]
    assert client_state["epoch"] == 1 and resumed.global_steps == 2
    resumed.eval()
    with torch.no_grad():
        resumed_outputs = resumed(inputs).float().cpu()
    resumed.train()
    assert torch.equal(resumed_outputs, outputs)

    # One more step on each engine: the resumed optimizer (Adam's moments) is the same.
    for each in (engine, resumed):
        loss = each(batch(device, seed=10 * rank + 2)).pow(2).mean()
        each.backward(loss)
        each.step()
    with torch.no_grad():
        after_step = [each(inputs).float().cpu() for each in (engine, resumed)]
    assert torch.equal(after_step[0], after_step[1])
    return {
        "wrote": wrote,
        "inputs": inputs.float().cpu(),
        "outputs": outputs,
    }


def run_rank(device, out_dir):
    """One rank's work: torchrun sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR...
    Train, save and resume with ZeRO-2 and ZeRO-3, then see what ZeRO-3 left."""
    import deepspeed

    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    if device.startswith("cuda"):
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
        skip_shared_memory_build(deepspeed)
    deepspeed.init_distributed()  # nccl on GPUs; gloo on the CPU
    import torch.distributed as dist

    assert torchscript_error(nn.Linear(4, 4)) is None  # compiled before any ZeRO-3
    try:
        result = {}
        for s in (2, 3):
            result[s] = train_save_resume(deepspeed, s, device, rank, out_dir)
            result[s]["functional_linear"] = torch.nn.functional.linear.__name__
        result["backend"] = dist.get_backend()
        result["world_size"] = dist.get_world_size()
        # No rank leaves while another still sends: gloo aborts a process that
        # exits with a transfer in flight.
        dist.barrier()
    finally:
        dist.destroy_process_group()
    result["left_behind"] = what_zero3_left_behind()
    torch.save(result, out_dir / f"rank{rank}.pt")


# What torch.jit.script of an nn.Linear says with DeepSpeed's function in place.
TORCHSCRIPT_MESSAGES = (
    "is currently not supported in Torchscript",  # PyTorch 2.14
    "Expression of type dots cannot be used in a type expression",  # PyTorch 2.15
)


def what_zero3_left_behind():
    """After the ZeRO-3 engines and the process group are gone: which function
    torch.nn.functional.linear is, what TorchScript makes of an nn.Linear of a new
    size and of the size compiled before ZeRO-3; then the same once PyTorch's
    function is back."""
    left = {
        "name": torch.nn.functional.linear.__name__,
        "new size": torchscript_error(nn.Linear(2, 2)),
        "size compiled before": torchscript_error(nn.Linear(4, 4)),
    }
    reset_functional_linear()
    left["reset"] = {
        "name": torch.nn.functional.linear.__name__,
        "same size": torchscript_error(nn.Linear(2, 2)),  # failed above
        "new size": torchscript_error(nn.Linear(3, 3)),
    }
    return left


def torchscript_error(linear):
    """The first line of what torch.jit.script(linear) raises in this process now,
    or None if it compiles. TorchScript compiles each class once for each set of
    constants (in_features, out_features, bias or not), with the
    torch.nn.functional.linear of that moment, and keeps what it compiled, or the
    half-defined class of a failed attempt, for the rest of the process."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # jit.script is deprecated
            torch.jit.script(linear)
    except Exception as error:  # RuntimeError, or a TorchScript FrontendError
        return str(error).strip().splitlines()[0]
    return None


def reset_functional_linear():
    """Put PyTorch's torch.nn.functional.linear back after ZeRO-3."""
    # --8<-- [start:reset]
    from deepspeed.runtime.zero.partition_parameters import (
        InsertPostInitMethodToModuleSubClasses,  # internal: may change in any release
    )

    torch.nn.functional.linear = InsertPostInitMethodToModuleSubClasses.linear_bk
    # --8<-- [end:reset]


# --8<-- [start:shm]
def skip_shared_memory_build(deepspeed):
    """On the CPU, skip the C++ extension DeepSpeed builds when its group starts.

    DeepSpeed's CPU backend compiles deepspeed_shm_comm the first time a process
    group starts (about a minute, then cached in ~/.cache/torch_extensions; without
    a C++ compiler the start fails). Only its inference all-reduce uses it: training
    runs its collectives through torch.distributed (gloo) either way. Marking the op
    not compatible skips the build. __compatible_ops__ is DeepSpeed's internal
    table of probed ops, not a public setting: it may change in any release.
    """
    deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False


# --8<-- [end:shm]


def peak_rss_bytes():
    """This process's peak resident memory so far (Linux gives kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def consolidate_and_resume_on_one_rank(device, out_dir):
    """In a new process: one safetensors file from ZeRO-3, its peak memory; on 1 rank,
    a ZeRO-3 engine that keeps PyTorch's torch.nn.functional.linear, and both
    checkpoints resumed."""
    import huggingface_hub  # noqa: F401 (the conversion imports it to cut shards)
    from deepspeed.utils.zero_to_fp32 import convert_zero_checkpoint_to_fp32_state_dict

    before = peak_rss_bytes()  # Python, torch, DeepSpeed and safetensors imported
    # --8<-- [start:convert]
    convert_zero_checkpoint_to_fp32_state_dict(
        out_dir / "stage3", out_dir / "stage3_fp32", safe_serialization=True
    )  # writes stage3_fp32/model.safetensors
    # --8<-- [end:convert]
    peak = peak_rss_bytes() - before
    results = {"consolidation_peak": peak}

    import deepspeed
    import torch.distributed as dist

    device = (
        torch.device("cuda", 0) if device.startswith("cuda") else torch.device("cpu")
    )
    if device.type == "cpu":
        skip_shared_memory_build(deepspeed)
    # A group of 1 process, as torchrun --nproc_per_node=1 would start.
    os.environ["LOCAL_RANK"] = "0"
    dist.init_process_group(
        "nccl" if device.type == "cuda" else "gloo",
        store=dist.HashStore(),
        rank=0,
        world_size=1,
    )
    try:
        # A ZeRO-3 engine that keeps PyTorch's torch.nn.functional.linear:
        config = ds_config(3, device)
        config["zero_optimization"]["memory_efficient_linear"] = False
        deepspeed.initialize(model=nn.Linear(10, 5), config=config)
        results["memory_efficient_linear_false"] = {
            "name": torch.nn.functional.linear.__name__,
            "torchscript": torchscript_error(nn.Linear(2, 2)),
        }
        for stage in (2, 3):
            model = MyModel()
            config = ds_config(stage, device)
            engine, _, _, _ = deepspeed.initialize(
                model=model, model_parameters=model.parameters(), config=config
            )
            checkpoint_dir = out_dir / f"stage{stage}"
            try:
                engine.load_checkpoint(checkpoint_dir)
            except Exception as error:
                results[f"stage{stage}_error"] = f"{type(error).__name__}: {error}"
            # --8<-- [start:weights_only]
            engine.load_checkpoint(checkpoint_dir, load_optimizer_states=False)
            # --8<-- [end:weights_only]
            engine.eval()
            with torch.no_grad():
                outputs = engine(batch(device, seed=1000)).float().cpu()
            results[f"stage{stage}_outputs"] = outputs
    finally:
        dist.destroy_process_group()
    torch.save(results, out_dir / "one_rank.pt")


# --8<-- [start:launch]
def launch(device, out_dir, timeout=300):
    """Run this script in one process per rank, as `torchrun` does; return how many.

    Fails, rather than hangs, if the ranks take longer than `timeout` seconds.
    """
    nproc = min(torch.cuda.device_count(), 2) if device.startswith("cuda") else 2
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += [f"--nproc_per_node={nproc}", str(Path(__file__).resolve())]
    command += ["--device", device, "--out-dir", str(out_dir)]
    torchrun = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = torchrun.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        torchrun.terminate()  # torchrun stops its workers, then exits
        output, _ = torchrun.communicate(timeout=60)
        raise RuntimeError(f"torchrun ran over {timeout} s:\n{output}") from None
    if torchrun.returncode != 0:
        raise RuntimeError(f"torchrun failed:\n{output}")
    return nproc


# --8<-- [end:launch]


def run(command, timeout=300):
    """Start `command`; a function that waits for it and fails if it failed."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )

    def wait():
        output, _ = process.communicate(timeout=timeout)
        if process.returncode != 0:
            raise RuntimeError(f"{command} failed:\n{output}")

    return wait


def what_loads_it(path):
    """The torch.load setting that reads `path`, and the classes in the way."""
    blocked = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    if not blocked:
        torch.load(path, weights_only=True)  # loads as it is
        return "weights_only=True", []
    return "weights_only=False", sorted(name.rsplit(".", 1)[1] for name in blocked)


def show_folder(stage, checkpoint_dir, ranks, bf16):
    """Print each file of the checkpoint folder: who wrote it, what reads it."""
    tag = (checkpoint_dir / "latest").read_text()
    optim_prefix = "bf16_" if bf16 else ""  # DeepSpeed names bf16 runs' files so
    print(f"stage{stage}/ (latest: {tag})")
    expected = {"latest", "zero_to_fp32.py", "zero_to_torch.py"}  # rank 0
    for r, result in enumerate(ranks):
        wrote = result[stage]["wrote"]
        assert wrote["latest"] == (r == 0)
        if wrote["model_states"]:
            prefix = f"zero_pp_rank_{r}_" if stage == 3 else ""
            expected.add(f"{tag}/{prefix}mp_rank_00_model_states.pt")
        if wrote["optim_states"]:
            name = f"{optim_prefix}zero_pp_rank_{r}_mp_rank_00_optim_states.pt"
            expected.add(f"{tag}/{name}")
    files = sorted(
        p.relative_to(checkpoint_dir).as_posix()
        for p in checkpoint_dir.rglob("*")
        if p.is_file()
    )
    assert set(files) == expected, files
    for name in files:
        if name.endswith(".pt"):
            found = re.search(r"zero_pp_rank_(\d+)", name)
            rank = int(found[1]) if found else 0
            setting, classes = what_loads_it(checkpoint_dir / name)
            also = f" ({', '.join(classes)})" if classes else ""
            print(f"  {name:<54} rank {rank}  {setting}{also}")
        else:
            print(f"  {name:<54} rank 0")


def main(device="cpu", out_dir=None, one_rank=False):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    if "LOCAL_RANK" in os.environ:  # started by torchrun: this process is one rank
        run_rank(device, out_dir)
        return
    if one_rank:  # started below, in a new process
        consolidate_and_resume_on_one_rank(device, out_dir)
        return

    if device == "cpu":  # DeepSpeed would take a GPU it sees: tell every process
        os.environ["DS_ACCELERATOR"] = "cpu"  # (the ranks, the converter) not to
    nproc = launch(device, out_dir)  # started with python: start the ranks
    ranks = [
        torch.load(out_dir / f"rank{r}.pt", weights_only=True) for r in range(nproc)
    ]
    print(f"ranks: {nproc}, backend: {ranks[0]['backend']}")
    if device == "cpu":
        print("bf16 training: skipped, it needs a GPU (run with --device cuda)")
    assert all(r["world_size"] == nproc for r in ranks)
    for stage in (2, 3):
        show_folder(stage, out_dir / f"stage{stage}", ranks, device.startswith("cuda"))

    # Both at once: DeepSpeed's script in the stage-2 folder, and a new process that
    # consolidates stage 3 and resumes both checkpoints on 1 rank.
    checkpoint_dir = out_dir / "stage2"
    # --8<-- [start:script]
    script = [sys.executable, checkpoint_dir / "zero_to_fp32.py"]
    script += [checkpoint_dir, out_dir / "stage2_fp32"]  # writes pytorch_model.bin
    # --8<-- [end:script]
    script_done = run(script)
    this_script = [sys.executable, __file__, "--device", device, "--out-dir", out_dir]
    one_rank_done = run([*this_script, "--one-rank"])
    script_done()
    one_rank_done()
    one_rank = torch.load(out_dir / "one_rank.pt", weights_only=True)

    # From here on, this process cannot import DeepSpeed: the files need only
    # torch and safetensors.
    sys.modules["deepspeed"] = None
    try:
        import deepspeed  # noqa: F401
    except ImportError as error:
        print("this process:", error)
    else:
        raise AssertionError("DeepSpeed imported")

    # --8<-- [start:plain]
    stage2 = torch.load(
        out_dir / "stage2_fp32" / "pytorch_model.bin",
        map_location=device,
        weights_only=True,
    )
    stage3 = load_file(out_dir / "stage3_fp32" / "model.safetensors", device=device)
    model = MyModel().to(device)
    model.load_state_dict(stage3)
    # --8<-- [end:plain]
    print("stage3_fp32/model.safetensors:", {k: v.dtype for k, v in stage3.items()})
    inputs = ranks[0][3]["inputs"].to(device)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    atol = 1e-5 if dtype == torch.float32 else 1e-2  # bf16 rounds the weights

    def same_outputs(state_dict, expected):
        plain = MyModel().to(device)
        plain.load_state_dict(state_dict)
        plain.to(dtype).eval()  # in the engines' dtype: bf16 on a GPU
        with torch.no_grad():
            outputs = plain(inputs.to(dtype)).float().cpu()
        return all(torch.allclose(outputs, e, rtol=0, atol=atol) for e in expected)

    same = {
        s: same_outputs(sd, [r[s]["outputs"] for r in ranks])
        for s, sd in ((2, stage2), (3, stage3))
    }
    print("plain model, same outputs as the ZeRO-2 engine:", same[2])
    print("plain model, same outputs as the ZeRO-3 engine:", same[3])
    assert same[2] and same[3]

    # ZeRO-2's model states file: the weights in the dtype the engine trained in.
    model_states = out_dir / "stage2" / "global_step2" / "mp_rank_00_model_states.pt"
    module = torch.load(model_states, map_location=device, weights_only=True)["module"]
    assert all(t.dtype == dtype for t in module.values())
    same = all(torch.equal(module[k], v.to(dtype)) for k, v in stage2.items())
    print(f'stage2 "module": {dtype}, the consolidated weights in {dtype}: {same}')
    assert same

    # The files loaded the wrong way: the errors.
    tag_dir = out_dir / "stage2" / "global_step2"
    optim_file = next(tag_dir.glob("*zero_pp_rank_0_mp_rank_00_optim_states.pt"))
    try:
        torch.load(optim_file, weights_only=True)
    except pickle.UnpicklingError as error:
        print(f"{type(error).__name__}: {error}")
        assert "Unsupported global: GLOBAL deepspeed." in str(error)
    else:
        raise AssertionError("weights_only=True loaded a ZeRO optimizer file")
    model_file = (
        out_dir
        / "stage3"
        / "global_step2"
        / "zero_pp_rank_0_mp_rank_00_model_states.pt"
    )
    # --8<-- [start:placeholders]
    module = torch.load(model_file, weights_only=True)["module"]  # loads, but:
    print({name: tuple(tensor.shape) for name, tensor in module.items()})
    try:
        MyModel().load_state_dict(module)
    except RuntimeError as error:
        print(f"{type(error).__name__}: {error}")
        # --8<-- [end:placeholders]
        assert "copying a param with shape torch.Size([0])" in str(error)
    else:
        raise AssertionError("the placeholders loaded")

    # ZeRO-3 leaves DeepSpeed's function in place of torch.nn.functional.linear.
    names = [ranks[0][stage]["functional_linear"] for stage in (2, 3)]
    print(f"torch.nn.functional.linear after ZeRO-2: {names[0]}, ZeRO-3: {names[1]}")
    left = ranks[0]["left_behind"]
    print("after the engines and the process group are gone:", left["name"])
    reset = left["reset"]
    print("reset by hand:", reset["name"])
    kept = one_rank["memory_efficient_linear_false"]
    print('ZeRO-3 with "memory_efficient_linear": False:', kept["name"])
    assert names == ["linear", "zero3_linear_wrap"] and left["name"] == names[1]
    assert reset["name"] == "linear" and kept["name"] == "linear"
    assert kept["torchscript"] is None  # PyTorch's own function compiles
    # TorchScript on DeepSpeed's function depends on the release (see the page).
    if inspect.isbuiltin(torch.autograd.Function.apply):  # from PyTorch 2.14
        assert any(message in left["new size"] for message in TORCHSCRIPT_MESSAGES)
        assert left["size compiled before"] is None  # compiled before ZeRO-3
        assert reset["same size"].startswith("Can't redefine method: forward")
        assert reset["new size"] is None
    elif torch.__version__ >= "2.13":  # a Python classmethod: it compiles
        assert left["new size"] is None

    # On 1 rank: DeepSpeed refuses the optimizer states of 2 ranks, loads the weights.
    peak = one_rank["consolidation_peak"]
    print(f"consolidation: peak {peak / 1e6:.0f} MB, model {MODEL_BYTES / 1e6:.0f} MB")
    assert peak < 5 * MODEL_BYTES  # about 3 times the fp32 model, measured
    for stage in (2, 3):
        error = one_rank.get(f"stage{stage}_error")  # none if saved by 1 rank
        print(f"ZeRO-{stage} on 1 rank: {error}")
        assert (error is not None) == (nproc > 1)
        outputs = one_rank[f"stage{stage}_outputs"]
        same = torch.allclose(outputs, ranks[0][stage]["outputs"], rtol=0, atol=atol)
        print(
            f"ZeRO-{stage} on 1 rank, load_optimizer_states=False, same outputs:", same
        )
        assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    parser.add_argument("--one-rank", action="store_true", help=argparse.SUPPRESS)
    main(**vars(parser.parse_args()))
