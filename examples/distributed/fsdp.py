"""Save and load an FSDP2 (fully_shard) model: a full state dict, or a sharded one.

`python fsdp.py` starts itself again in 2 processes with torchrun (on GPUs: one
process per GPU, up to 2). Each rank shards the model with fully_shard, trains
it, and saves it twice: as one full file written by rank 0 (full.pt), and as a
sharded DCP checkpoint written by every rank. It then resumes from each and
checks that one more training step gives the same weights as the model that was
never interrupted. The first process loads full.pt into a plain model, with no
process group, and checks that it computes what the ranks computed.

On the CPU, PyTorch 2.6 cannot run a model sharded with fully_shard (2.10 and
later can): there the ranks check the error that the first forward pass raises,
and stop.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_optimizer_state_dict,
    get_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
    set_state_dict,
)
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


# --8<-- [start:shard]
def sharded_model_and_optimizer(device, mesh):
    model = MyModel().to(device)
    fully_shard(model.fc1, mesh=mesh)  # each layer gathers its weights on its own
    fully_shard(model.fc2, mesh=mesh)
    fully_shard(model, mesh=mesh)  # then the root module
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)  # after fully_shard
    return model, optimizer


# --8<-- [end:shard]


def train_step(model, optimizer, batch):
    loss = model(batch).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()  # FSDP averages the gradients over the ranks
    optimizer.step()


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
                train_step(model, optimizer, torch.randn(8, 10, device=device))
            except AttributeError as err:
                error = f"{type(err).__name__}: {err}"
            torch.save({"cpu_error": error}, out_dir / f"rank{rank}.pt")
            return
        for _ in range(3):
            train_step(model, optimizer, torch.randn(8, 10, device=device))
        # --8<-- [start:full_tensor]
        weight = model.state_dict()["fc1.weight"]  # a DTensor: this rank's rows
        whole_weight = weight.full_tensor()  # every rank calls it: a collective
        # --8<-- [end:full_tensor]
        shard = [
            type(weight).__name__,
            tuple(weight.shape),
            tuple(weight.to_local().shape),
        ]
        assert type(whole_weight) is torch.Tensor and whole_weight.shape == (5, 10)

        # --8<-- [start:full]
        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        model_state, optimizer_state = get_state_dict(model, optimizer, options=options)
        if rank == 0:  # with cpu_offload=True, only rank 0 gets the tensors
            checkpoint = {"model": model_state, "optimizer": optimizer_state}
            torch.save(checkpoint, out_dir / "full.pt")
        dist.barrier()  # the other ranks wait here until the file is written
        # --8<-- [end:full]
        other_rank_got = model_state if rank != 0 else None

        # --8<-- [start:sharded]
        model_state, optimizer_state = get_state_dict(model, optimizer)  # the shards
        state_dict = {"model": model_state, "optimizer": optimizer_state}
        dcp.save(state_dict, checkpoint_id=out_dir / "sharded")  # every rank writes
        # --8<-- [end:sharded]

        inputs = torch.randn(4, 10, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            outputs = model(inputs.to(device))

        # --8<-- [start:reshard]
        root_only = MyModel().to(device)
        fully_shard(root_only, mesh=mesh)  # the root module holds the parameters
        root_optimizer = torch.optim.Adam(root_only.parameters(), lr=1e-2)
        with torch.no_grad():
            root_only(inputs.to(device))  # the root keeps them unsharded after this
        try:
            get_optimizer_state_dict(root_only, root_optimizer)
        except KeyError as err:
            error = f"{type(err).__name__}: {err}"
        root_only.reshard()  # shards them again (a backward pass does too)
        get_optimizer_state_dict(root_only, root_optimizer)
        # --8<-- [end:reshard]

        # --8<-- [start:reshard_after_forward]
        resharding_root = MyModel().to(device)
        fully_shard(resharding_root, mesh=mesh, reshard_after_forward=True)
        resharding_optimizer = torch.optim.Adam(resharding_root.parameters(), lr=1e-2)
        with torch.no_grad():
            resharding_root(inputs.to(device))  # shards the root again after this
        resharding_error = None
        try:
            get_optimizer_state_dict(resharding_root, resharding_optimizer)
        except KeyError as err:  # PyTorch 2.7 and older: the root stays gathered
            resharding_error = f"{type(err).__name__}: {err}"
        # --8<-- [end:reshard_after_forward]
        # What the root holds after a forward pass, by reshard_after_forward:
        with torch.no_grad():
            root_only(inputs.to(device))
        after_forward = {
            "default": type(root_only.fc1.weight).__name__,
            "True": type(resharding_root.fc1.weight).__name__,
        }
        # No rank keeps gathered parameters it no longer uses:
        root_only.reshard()
        resharding_root.reshard()

        # --8<-- [start:resume_sharded]
        sharded_model, sharded_optimizer = sharded_model_and_optimizer(device, mesh)
        model_state, optimizer_state = get_state_dict(sharded_model, sharded_optimizer)
        state_dict = {"model": model_state, "optimizer": optimizer_state}
        dcp.load(state_dict, checkpoint_id=out_dir / "sharded")  # fills it in place
        set_state_dict(
            sharded_model,
            sharded_optimizer,
            model_state_dict=state_dict["model"],
            optim_state_dict=state_dict["optimizer"],
        )
        # --8<-- [end:resume_sharded]

        # --8<-- [start:resume_full]
        full_model, full_optimizer = sharded_model_and_optimizer(device, mesh)
        if rank == 0:  # only rank 0 reads the file...
            checkpoint = torch.load(out_dir / "full.pt", weights_only=True)
        else:
            checkpoint = {"model": {}, "optimizer": {}}
        # ...and sends each rank its shards.
        options = StateDictOptions(full_state_dict=True, broadcast_from_rank0=True)
        set_model_state_dict(full_model, checkpoint["model"], options=options)
        set_optimizer_state_dict(
            full_model, full_optimizer, checkpoint["optimizer"], options=options
        )
        # --8<-- [end:resume_full]

        if rank == 0:
            assert type(checkpoint["model"]["fc1.weight"]).__name__ == "DTensor"
        # set_model_state_dict put this rank's shards into checkpoint["model"]:
        # read the file again to load it into another model.
        # Without the optimizer's state, Adam starts its averages from zero again.
        no_optimizer_model, fresh_optimizer = sharded_model_and_optimizer(device, mesh)
        model_state = {}
        if rank == 0:
            model_state = torch.load(out_dir / "full.pt", weights_only=True)["model"]
        set_model_state_dict(no_optimizer_model, model_state, options=options)

        # One more step for each, on the same batch: the same weights?
        batch = torch.randn(8, 10, device=device)
        resumed = {}
        for name, (m, o) in {
            "uninterrupted": (model, optimizer),
            "sharded": (sharded_model, sharded_optimizer),
            "full": (full_model, full_optimizer),
            "no_optimizer": (no_optimizer_model, fresh_optimizer),
        }.items():
            train_step(m, o, batch)
            options = StateDictOptions(full_state_dict=True)  # gathered on every rank
            resumed[name] = get_state_dict(m, o, options=options)[0]
        same = {
            name: all(
                torch.equal(v, resumed["uninterrupted"][k]) for k, v in sd.items()
            )
            for name, sd in resumed.items()
        }
        result = {"world_size": dist.get_world_size(), "shard": shard, "same": same}
        result |= {"other_rank_got": other_rank_got, "error": error}
        result |= {"whole_weight": whole_weight.cpu(), "after_forward": after_forward}
        result |= {"resharding_error": resharding_error}
        result |= {"inputs": inputs, "outputs": outputs.cpu()}
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
    finished = all((Path(out_dir) / f"rank{r}.pt").exists() for r in range(nproc))
    # On the CPU, gloo has been seen to abort one rank as it tears down, after every
    # rank saved its results ("terminate called without an active exception"): the
    # results are complete, and the checks below read them.
    teardown = finished and "terminate called without an active exception" in output
    if torchrun.returncode != 0 and not teardown:
        raise RuntimeError(f"torchrun failed:\n{output}")
    return nproc


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
    kind, shape, local_shape = results[0]["shard"]
    print(f"rank 0's model.state_dict(): fc1.weight is a {kind} {shape}")
    print(f"the part that rank 0 holds: {local_shape}")
    print("full_tensor() on rank 0:", tuple(results[0]["whole_weight"].shape))
    if nproc > 1:
        print(
            "what get_state_dict gave rank 1 for full.pt:", results[1]["other_rank_got"]
        )
        assert results[1]["other_rank_got"] == {}

    # --8<-- [start:plain]
    checkpoint = torch.load(out_dir / "full.pt", map_location=device, weights_only=True)
    model = MyModel().to(device)  # a plain model, in a process with no process group
    model.load_state_dict(checkpoint["model"])
    model.eval()
    # --8<-- [end:plain]
    with torch.no_grad():
        outputs = model(results[0]["inputs"].to(device)).cpu()
    same = all(
        torch.allclose(outputs, r["outputs"], rtol=0, atol=1e-6) for r in results
    )
    print("full.pt in a plain model, same outputs as the ranks:", same)
    assert same
    print(
        "optimizer state in full.pt, keyed by:", list(checkpoint["optimizer"]["state"])
    )
    # Every rank's full_tensor() is the whole weight that rank 0 saved:
    whole_weight = checkpoint["model"]["fc1.weight"]
    assert all(torch.equal(r["whole_weight"], whole_weight.cpu()) for r in results)
    print("get_optimizer_state_dict after a forward alone:", results[0]["error"])
    assert all(r["error"] == "KeyError: 0" for r in results)
    after_forward = results[0]["after_forward"]
    print(
        "the root's fc1.weight after a forward pass:",
        f"{after_forward['default']} by default,",
        f"{after_forward['True']} with reshard_after_forward=True",
    )
    # PyTorch 2.8 made the root respect reshard_after_forward=True (pytorch/pytorch
    # #154704), and None the default that keeps the root gathered (#155319). In 2.7 the
    # default was True, and FSDPState._lazy_init kept the root gathered whatever
    # it was given: https://github.com/pytorch/pytorch/blob/v2.7.1/torch/distributed/fsdp/_fully_shard/_fsdp_state.py
    if torch.__version__ >= "2.8":
        expected = {"default": "Parameter", "True": "DTensor"}, None
    else:
        expected = {"default": "Parameter", "True": "Parameter"}, "KeyError: 0"
    assert all((r["after_forward"], r["resharding_error"]) == expected for r in results)

    # --8<-- [start:plain_optimizer]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    set_optimizer_state_dict(model, optimizer, checkpoint["optimizer"])
    # --8<-- [end:plain_optimizer]
    exp_avg = checkpoint["optimizer"]["state"]["fc1.weight"]["exp_avg"]
    assert torch.equal(optimizer.state[model.fc1.weight]["exp_avg"], exp_avg)

    for name in ["sharded", "full", "no_optimizer"]:
        same = all(r["same"][name] for r in results)
        print(f"resumed from {name:12} == uninterrupted: {same}")
        assert same == (name != "no_optimizer")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
