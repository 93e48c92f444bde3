"""Save and load a DistributedDataParallel (DDP) model: rank 0 saves, every rank loads.

`python ddp.py` starts itself again in 2 processes with torchrun (on GPUs: one
process per GPU, up to 2), as `torchrun --nproc_per_node=2 ddp.py` would. Each of
those processes is one rank: it trains a DDP model for a few steps, rank 0 saves
the model inside the wrapper, and every rank loads that file back. The first
process then loads the file into a plain model, with no process group, and checks
that it computes what the ranks computed.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.checkpoint.state_dict import get_model_state_dict
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present
from torch.nn.parallel import DistributedDataParallel as DDP


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def same_on_every_rank(tensors):
    """True if each tensor equals rank 0's copy of it."""
    for tensor in tensors:
        rank0_copy = tensor.detach().clone()
        dist.broadcast(rank0_copy, src=0)
        if not torch.equal(tensor, rank0_copy):
            return False
    return True


def train_step(model, optimizer, batch):
    loss = model(batch).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()  # DDP averages the gradients over the ranks
    optimizer.step()


def run_rank(device, out_dir):
    """One rank's work: torchrun sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR..."""
    # --8<-- [start:setup]
    rank = int(os.environ["RANK"])  # this process among all of them: 0, 1, ...
    local_rank = int(os.environ["LOCAL_RANK"])  # among those on this machine
    if device.startswith("cuda"):
        device = torch.device("cuda", local_rank)  # one GPU per process
        torch.cuda.set_device(device)
        dist.init_process_group("nccl")
    else:
        device = torch.device("cpu")
        dist.init_process_group("gloo")
    # --8<-- [end:setup]
    try:
        torch.manual_seed(rank)  # different initial weights on each rank...
        model = MyModel().to(device)
        device_ids = [local_rank] if device.type == "cuda" else None
        ddp_model = DDP(model, device_ids=device_ids)
        # ...but DDP copied rank 0's weights to every rank when it wrapped the model.
        assert same_on_every_rank(ddp_model.parameters())
        optimizer = torch.optim.SGD(ddp_model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(3):  # each rank trains on its own batches
            train_step(ddp_model, optimizer, torch.randn(8, 10, device=device))
        assert same_on_every_rank(ddp_model.parameters())
        # Every rank holds the whole optimizer state, the same on each:
        momentum = [optimizer.state[p]["momentum_buffer"] for p in model.parameters()]
        assert same_on_every_rank(momentum)

        # --8<-- [start:save]
        path = out_dir / "mymodel.pt"
        if rank == 0:  # the weights are the same on every rank: one file is enough
            torch.save(ddp_model.module.state_dict(), path)  # no "module." prefix
        dist.barrier()  # the other ranks wait here until the file is written
        # --8<-- [end:save]
        if rank == 0:
            torch.save(ddp_model.state_dict(), out_dir / "mymodel_ddp.pt")  # "module."
        dist.barrier()

        # --8<-- [start:load]
        if device.type == "cuda":
            map_location = {"cuda:0": f"cuda:{local_rank}"}  # rank 0 saved from cuda:0
        else:
            map_location = "cpu"
        state_dict = torch.load(path, map_location=map_location, weights_only=True)
        ddp_model.module.load_state_dict(state_dict)
        # --8<-- [end:load]
        assert all(t.device == device for t in state_dict.values())
        # The same helper that gives FSDP's state dicts leaves out the prefix too:
        assert list(get_model_state_dict(ddp_model)) == list(state_dict)
        # A file saved from the wrapper loads into the wrapper as it is:
        prefixed = torch.load(
            out_dir / "mymodel_ddp.pt", map_location=map_location, weights_only=True
        )
        ddp_model.load_state_dict(prefixed)

        inputs = torch.randn(4, 10, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            outputs = ddp_model(inputs.to(device))

        # --8<-- [start:resume]
        checkpoint_path = out_dir / "checkpoint.pt"
        if rank == 0:
            checkpoint = {
                "model": ddp_model.module.state_dict(),
                "optimizer": optimizer.state_dict(),  # the whole state, on every rank
            }
            torch.save(checkpoint, checkpoint_path)
        dist.barrier()
        # To resume, every rank reads the same file onto its own device.
        checkpoint = torch.load(
            checkpoint_path, map_location=map_location, weights_only=True
        )
        resumed_model = MyModel().to(device)
        resumed_model.load_state_dict(checkpoint["model"])
        resumed_ddp = DDP(resumed_model, device_ids=device_ids)
        resumed_optimizer = torch.optim.SGD(
            resumed_ddp.parameters(), lr=0.1, momentum=0.9
        )
        resumed_optimizer.load_state_dict(checkpoint["optimizer"])
        # --8<-- [end:resume]
        for state in resumed_optimizer.state.values():
            assert state["momentum_buffer"].device == device
        batch = torch.randn(8, 10, device=device)
        train_step(ddp_model, optimizer, batch)  # one more step for both
        train_step(resumed_ddp, resumed_optimizer, batch)
        resumed_same = all(
            torch.equal(a, b)
            for a, b in zip(
                ddp_model.parameters(), resumed_ddp.parameters(), strict=True
            )
        )
        result = {"world_size": dist.get_world_size(), "backend": dist.get_backend()}
        result |= {"resumed_same": resumed_same}
        result |= {"inputs": inputs, "outputs": outputs.cpu()}
        torch.save(result, out_dir / f"rank{rank}.pt")
        # No rank leaves while another still sends: gloo aborts a process that
        # exits with a transfer in flight.
        dist.barrier()
    finally:
        dist.destroy_process_group()


# --8<-- [start:launch]
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


# --8<-- [end:launch]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    # --8<-- [start:entry]
    if "LOCAL_RANK" in os.environ:  # started by torchrun: this process is one rank
        run_rank(device, out_dir)
        return

    nproc = launch(device, out_dir)  # started with python: start the ranks
    # --8<-- [end:entry]
    results = [
        torch.load(out_dir / f"rank{r}.pt", weights_only=True) for r in range(nproc)
    ]
    print(f"ranks: {nproc}, backend: {results[0]['backend']}")
    assert all(r["world_size"] == nproc for r in results)
    same = all(r["resumed_same"] for r in results)
    print("resumed with the optimizer state, one more step == uninterrupted:", same)
    assert same

    # --8<-- [start:plain]
    state_dict = torch.load(
        out_dir / "mymodel.pt", map_location=device, weights_only=True
    )
    model = MyModel().to(device)  # a plain model, in a process with no process group
    model.load_state_dict(state_dict)
    model.eval()
    # --8<-- [end:plain]
    print("keys in mymodel.pt:", list(state_dict))
    inputs = results[0]["inputs"].to(device)
    with torch.no_grad():
        outputs = model(inputs).cpu()
    same = all(
        torch.allclose(outputs, r["outputs"], rtol=0, atol=1e-6) for r in results
    )
    print("plain model, same outputs as every rank:", same)
    assert same

    # --8<-- [start:prefixed]
    state_dict = torch.load(
        out_dir / "mymodel_ddp.pt", map_location=device, weights_only=True
    )
    print("keys in mymodel_ddp.pt:", list(state_dict)[:2], "...")
    consume_prefix_in_state_dict_if_present(state_dict, "module.")
    model = MyModel().to(device)
    model.load_state_dict(state_dict)
    # --8<-- [end:prefixed]
    with torch.no_grad():
        same = torch.allclose(model(inputs).cpu(), results[0]["outputs"], atol=1e-6)
    print('"module." prefix stripped, same outputs:', same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
