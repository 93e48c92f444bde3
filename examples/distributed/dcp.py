"""Sharded checkpoints (torch.distributed.checkpoint): save from 2 ranks, load anywhere.

`python dcp.py` starts itself again in 2 processes with torchrun (on GPUs: one
process per GPU, up to 2). Each rank holds half of the model (fully_shard), and
dcp.save writes each half to its own file. The ranks load the checkpoint back,
and save it again asynchronously. The first process then loads the same
checkpoint into a plain model in one process, turns it into one torch.save file
and back, and into a safetensors file, and checks every copy against the ranks.

On the CPU, PyTorch 2.6 cannot run a model sharded with fully_shard (2.10 and
later can): there the ranks check the error that the first forward pass raises,
and stop.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from safetensors.torch import load_file, save_file
from torch import nn
from torch.distributed.checkpoint.format_utils import (
    dcp_to_torch_save,
    torch_save_to_dcp,
)
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_state_dict,
    set_model_state_dict,
    set_state_dict,
)
from torch.distributed.checkpoint.stateful import Stateful
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


# --8<-- [start:app_state]
class AppState(Stateful):
    """What to checkpoint: dcp.save calls state_dict, dcp.load then load_state_dict."""

    def __init__(self, model, optimizer, step=0):
        self.model, self.optimizer, self.step = model, optimizer, step

    def state_dict(self):
        model_state, optimizer_state = get_state_dict(self.model, self.optimizer)
        return {"model": model_state, "optimizer": optimizer_state, "step": self.step}

    def load_state_dict(self, state_dict):
        set_state_dict(
            self.model,
            self.optimizer,
            model_state_dict=state_dict["model"],
            optim_state_dict=state_dict["optimizer"],
        )
        self.step = state_dict["step"]


# --8<-- [end:app_state]


def sharded_model_and_optimizer(device, mesh):
    model = MyModel().to(device)
    fully_shard(model.fc1, mesh=mesh)  # each rank keeps a shard of every parameter
    fully_shard(model.fc2, mesh=mesh)
    fully_shard(model, mesh=mesh)
    return model, torch.optim.Adam(model.parameters(), lr=1e-2)


def run_rank(device, out_dir):
    """One rank's work: torchrun sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR..."""
    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    if device.startswith("cuda"):
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        dist.init_process_group("nccl")
    else:
        device = torch.device("cpu")
        dist.init_process_group("gloo")
    try:
        mesh = init_device_mesh(device.type, (dist.get_world_size(),))
        torch.manual_seed(0)
        model, optimizer = sharded_model_and_optimizer(device, mesh)
        if device.type == "cpu" and torch.__version__ < "2.7":
            # PyTorch 2.6 shards the model on the CPU, but cannot run it: its CPU
            # Stream has no record_event (added by pytorch/pytorch#145935).
            error = None
            try:
                model(torch.randn(8, 10, device=device))
            except AttributeError as err:
                error = f"{type(err).__name__}: {err}"
            torch.save({"cpu_error": error}, out_dir / f"rank{rank}.pt")
            return
        for _ in range(3):
            loss = model(torch.randn(8, 10, device=device)).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        inputs = torch.randn(4, 10, generator=torch.Generator().manual_seed(0))
        inputs = inputs.to(device)  # the same on every rank

        # --8<-- [start:save]
        model_state, optimizer_state = get_state_dict(model, optimizer)
        state_dict = {"model": model_state, "optimizer": optimizer_state}
        dcp.save(state_dict, checkpoint_id=out_dir / "checkpoint")  # a directory
        # --8<-- [end:save]
        shard = model_state["fc1.weight"].to_local()
        shard_shapes = {rank: tuple(shard.shape)}  # this rank's rows of fc1.weight

        # --8<-- [start:load]
        new_model, new_optimizer = sharded_model_and_optimizer(device, mesh)
        model_state, optimizer_state = get_state_dict(new_model, new_optimizer)
        state_dict = {"model": model_state, "optimizer": optimizer_state}
        dcp.load(state_dict, checkpoint_id=out_dir / "checkpoint")  # fills it in place
        set_state_dict(
            new_model,
            new_optimizer,
            model_state_dict=state_dict["model"],
            optim_state_dict=state_dict["optimizer"],
        )
        # --8<-- [end:load]
        with torch.no_grad():
            outputs = model(inputs)
            assert torch.equal(new_model(inputs), outputs)
        for old, new in zip(
            optimizer.state.values(), new_optimizer.state.values(), strict=True
        ):
            assert torch.equal(new["exp_avg"].to_local(), old["exp_avg"].to_local())

        # --8<-- [start:stateful]
        dcp.save(
            {"app": AppState(model, optimizer, step=3)}, checkpoint_id=out_dir / "app"
        )
        # Later, to resume: build the model and optimizer, then
        app = AppState(*sharded_model_and_optimizer(device, mesh))
        # dcp.load calls app.state_dict(), fills it, then app.load_state_dict():
        dcp.load({"app": app}, checkpoint_id=out_dir / "app")
        # --8<-- [end:stateful]
        with torch.no_grad():
            assert torch.equal(app.model(inputs), outputs)
        for old, new in zip(
            optimizer.state.values(), app.optimizer.state.values(), strict=True
        ):
            assert torch.equal(new["exp_avg"].to_local(), old["exp_avg"].to_local())
        assert app.step == 3  # only load_state_dict sets it

        # Two machines, each saving to its own local disk at the same path: here,
        # one folder per rank. Each rank writes its file to its own folder.
        model_state, optimizer_state = get_state_dict(model, optimizer)
        state_dict = {"model": model_state, "optimizer": optimizer_state}
        dcp.save(state_dict, checkpoint_id=out_dir / f"machine{rank}" / "checkpoint")

        # --8<-- [start:async]
        # Once, at the start: a process group of its own for async_save, on the CPU.
        checkpoint_group = dist.new_group(backend="gloo")  # every rank calls this
        # Then, every so many steps:
        model_state, optimizer_state = get_state_dict(model, optimizer)
        state_dict = {"model": model_state, "optimizer": optimizer_state}
        future = dcp.async_save(
            state_dict,
            checkpoint_id=out_dir / "checkpoint_async",
            process_group=checkpoint_group,
        )
        # Training goes on while a thread writes the files: async_save copied
        # the tensors before it returned.
        loss = model(torch.randn(8, 10, device=device)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        future.result()  # wait for the files before the next save, and before exiting
        # --8<-- [end:async]
        result = {"world_size": dist.get_world_size(), "shard_shapes": shard_shapes}
        result |= {"inputs": inputs.cpu(), "outputs": outputs.cpu()}
        torch.save(result, out_dir / f"rank{rank}.pt")
        # No rank leaves while another still sends: gloo aborts a process that
        # exits with a transfer in flight.
        dist.barrier()
    finally:
        dist.destroy_process_group()


def launch(device, out_dir, timeout=120):
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


def outputs_match(model, results, device):
    with torch.no_grad():
        outputs = model(results[0]["inputs"].to(device)).cpu()
    return all(
        torch.allclose(outputs, r["outputs"], rtol=0, atol=1e-6) for r in results
    )


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    if "LOCAL_RANK" in os.environ:  # started by torchrun: this process is one rank
        run_rank(device, out_dir)
        return

    nproc = launch(device, out_dir)
    results = [
        torch.load(out_dir / f"rank{r}.pt", weights_only=True) for r in range(nproc)
    ]
    if "cpu_error" in results[0]:  # PyTorch 2.6, on the CPU
        print("PyTorch 2.6, FSDP2 on the CPU, first forward pass:")
        print(results[0]["cpu_error"])
        message = "AttributeError: 'Stream' object has no attribute 'record_event'"
        assert all(r["cpu_error"] == message for r in results)
        return
    shapes = {k: v for r in results for k, v in r["shard_shapes"].items()}
    print(f"ranks: {nproc}, fc1.weight (5, 10) shard on each rank: {shapes}")
    files = sorted(os.listdir(out_dir / "checkpoint"))
    print("files:", files)
    assert files == [".metadata"] + [f"__{r}_0.distcp" for r in range(nproc)]

    local_disks = {
        f"machine{r}": sorted(os.listdir(out_dir / f"machine{r}" / "checkpoint"))
        for r in range(nproc)
    }
    print("a local disk on each machine:", local_disks)
    assert local_disks["machine0"] == [".metadata", "__0_0.distcp"]
    assert all(
        local_disks[f"machine{r}"] == [f"__{r}_0.distcp"] for r in range(1, nproc)
    )
    if nproc > 1:  # machine0's folder lacks the other ranks' files
        state_dict = {"model": MyModel().to(device).state_dict()}
        try:
            dcp.load(state_dict, checkpoint_id=out_dir / "machine0" / "checkpoint")
        except dcp.CheckpointException as err:
            last_line = str(err).splitlines()[-1].replace(f"{out_dir}{os.sep}", "")
            print(type(err).__name__, "...", last_line)
            assert last_line.startswith("FileNotFoundError") and "__1_0" in last_line
        else:
            raise AssertionError("loaded a checkpoint that lacks rank 1's file")

    # --8<-- [start:one_process]
    model = MyModel().to(device)  # a plain model, in a process with no process group
    state_dict = {"model": model.state_dict()}
    dcp.load(state_dict, checkpoint_id=out_dir / "checkpoint")  # only the "model" key
    model.load_state_dict(state_dict["model"])
    # --8<-- [end:one_process]
    same = outputs_match(model, results, device)
    print("loaded in one process, same outputs as the ranks:", same)
    assert same
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dcp.load(state_dict, checkpoint_id=out_dir / "checkpoint")
    print("UserWarning:", caught[0].message)

    # --8<-- [start:resume_one_process]
    model = MyModel().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model_state, optimizer_state = get_state_dict(model, optimizer)
    state_dict = {"model": model_state, "optimizer": optimizer_state}
    dcp.load(state_dict, checkpoint_id=out_dir / "checkpoint")
    set_state_dict(
        model,
        optimizer,
        model_state_dict=state_dict["model"],
        optim_state_dict=state_dict["optimizer"],
    )
    # --8<-- [end:resume_one_process]
    assert outputs_match(model, results, device)

    # --8<-- [start:to_torch_save]
    dcp_to_torch_save(out_dir / "checkpoint", out_dir / "checkpoint.pt")
    checkpoint = torch.load(out_dir / "checkpoint.pt", weights_only=True)
    print("checkpoint.pt:", list(checkpoint), list(checkpoint["model"])[:2], "...")
    plain_model = MyModel().to(device)
    plain_model.load_state_dict(checkpoint["model"])
    # --8<-- [end:to_torch_save]
    same = outputs_match(plain_model, results, device)
    print("checkpoint.pt, same outputs:", same)
    assert same
    # The optimizer state that the single process loaded is the 2 ranks' state:
    saved_state = checkpoint["optimizer"]["state"]
    for name, param in model.named_parameters():
        assert torch.equal(
            optimizer.state[param]["exp_avg"].cpu(), saved_state[name]["exp_avg"]
        )

    # --8<-- [start:to_dcp]
    torch_save_to_dcp(out_dir / "checkpoint.pt", out_dir / "checkpoint_again")
    # --8<-- [end:to_dcp]
    model = MyModel().to(device)
    state_dict = {"model": model.state_dict()}
    dcp.load(state_dict, checkpoint_id=out_dir / "checkpoint_again")
    model.load_state_dict(state_dict["model"])
    assert outputs_match(model, results, device)

    # --8<-- [start:safetensors]
    save_file(checkpoint["model"], out_dir / "model.safetensors")
    model = MyModel().to(device)
    model.load_state_dict(load_file(out_dir / "model.safetensors", device=str(device)))
    # --8<-- [end:safetensors]
    same = outputs_match(model, results, device)
    print("model.safetensors, same outputs:", same)
    assert same

    # --8<-- [start:options]
    model = MyModel().to(device)
    model.fc1.requires_grad_(False)  # frozen: you train only fc2
    options = StateDictOptions(ignore_frozen_params=True)
    trained_part = get_model_state_dict(model, options=options)
    print("ignore_frozen_params=True:", list(trained_part))

    new_model = MyModel().to(device)  # fc1 comes from elsewhere (a base model)
    options = StateDictOptions(strict=False)
    result = set_model_state_dict(new_model, trained_part, options=options)
    print("strict=False:", result)
    # --8<-- [end:options]
    assert result.missing_keys == ["fc1.weight", "fc1.bias"]
    assert torch.equal(new_model.fc2.weight, model.fc2.weight)
    try:
        set_model_state_dict(new_model, trained_part)  # strict=True by default
    except RuntimeError as err:
        print("strict=True:", str(err).splitlines()[1].strip())
    else:
        raise AssertionError("set_model_state_dict loaded a partial state dict")
    # With DCP, a checkpoint of the trained part loads into a state dict taken
    # with the same options: the same names.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no process group: DCP says so, and goes on
        dcp.save({"model": trained_part}, checkpoint_id=out_dir / "trained_part")
        new_model = MyModel().to(device)
        new_model.fc1.requires_grad_(False)
        options = StateDictOptions(ignore_frozen_params=True)
        state_dict = {"model": get_model_state_dict(new_model, options=options)}
        dcp.load(state_dict, checkpoint_id=out_dir / "trained_part")
    options = StateDictOptions(strict=False)
    set_model_state_dict(new_model, state_dict["model"], options=options)
    assert torch.equal(new_model.fc2.weight, model.fc2.weight)

    # The asynchronous save holds the weights of the moment it was called:
    model = MyModel().to(device)
    state_dict = {"model": model.state_dict()}
    dcp.load(state_dict, checkpoint_id=out_dir / "checkpoint_async")
    model.load_state_dict(state_dict["model"])
    same = outputs_match(model, results, device)
    print("checkpoint_async, same outputs:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
