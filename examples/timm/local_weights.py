"""timm: weights from a local file, a new head, and timm's checkpoint helpers.

`test_resnet` is a tiny ResNet in timm's registry; a seeded one, saved with
`torch.save(model.state_dict())`, stands for its ImageNet weights:
`create_model(..., pretrained=True, pretrained_cfg_overlay=dict(file=path))` loads
it with no download. With `num_classes=10`, timm leaves the 1000-class head out and
keeps the rest. Then the training checkpoints that timm's `CheckpointSaver` writes,
read back with `timm.models.load_checkpoint` and `load_state_dict`: which weights
they pick (the EMA ones by default), the prefixes they strip, and how `torch.load`
reads them.
"""

import argparse
import logging
import os
import tempfile
from inspect import signature
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing from the Hugging Face Hub

import timm  # noqa: E402
import torch  # noqa: E402
from timm.models import (  # noqa: E402
    load_checkpoint,
    load_state_dict,
    resume_checkpoint,
)
from timm.utils import CheckpointSaver, ModelEmaV3  # noqa: E402


def backbone_equal(model, saved):
    """True if every tensor of `model` but the head `fc` equals the saved one."""
    state = model.state_dict()
    names = [k for k in saved if not k.startswith("fc.")]
    return len(names) == 90 and all(
        torch.equal(state[k].cpu(), saved[k]) for k in names
    )


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"timm {timm.__version__}")
    torch.manual_seed(0)
    stand_in = timm.create_model("test_resnet", pretrained=False)  # 1000 classes
    path = out_dir / "test_resnet-imagenet.pth"
    torch.save(stand_in.state_dict(), path)  # stands for the downloaded weights
    saved = torch.load(path, weights_only=True)

    # --8<-- [start:file]
    model = timm.create_model(
        "test_resnet",
        pretrained=True,
        pretrained_cfg_overlay=dict(file=str(path)),  # this file, not the Hub
    ).to(device)
    # --8<-- [end:file]
    assert all(torch.equal(v.cpu(), saved[k]) for k, v in model.state_dict().items())
    print("pretrained from the file, all tensors equal:", True)

    # --8<-- [start:new_head]
    model = timm.create_model(
        "test_resnet",
        pretrained=True,
        pretrained_cfg_overlay=dict(file=str(path)),
        num_classes=10,  # timm leaves fc.weight and fc.bias of the file out
    ).to(device)
    # --8<-- [end:new_head]
    print("num_classes=10:", tuple(model.fc.weight.shape), backbone_equal(model, saved))
    assert model.fc.weight.shape == (10, 96) and backbone_equal(model, saved)
    assert model(torch.randn(2, 3, 64, 64, device=device)).shape == (2, 10)

    # --8<-- [start:reset]
    model = timm.create_model(
        "test_resnet", pretrained=True, pretrained_cfg_overlay=dict(file=str(path))
    )
    model.reset_classifier(10)  # a new fc: 96 -> 10, the rest as loaded
    # --8<-- [end:reset]
    print(
        "reset_classifier(10):",
        tuple(model.fc.weight.shape),
        backbone_equal(model, saved),
    )
    assert model.fc.weight.shape == (10, 96) and backbone_equal(model, saved)

    # With another num_classes the whole load is strict=False: a file whose names
    # differ ("model." in front, from a wrapper of yours) loads nothing, with no
    # error (timm logs the names it could not place).
    prefixed_path = out_dir / "test_resnet-prefixed.pth"
    torch.save({f"model.{k}": v for k, v in saved.items()}, prefixed_path)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    builder_log = logging.getLogger("timm.models._builder")
    builder_log.addHandler(handler)
    builder_log.setLevel(logging.INFO)
    model = timm.create_model(
        "test_resnet",
        pretrained=True,
        pretrained_cfg_overlay=dict(file=str(prefixed_path)),
        num_classes=10,
    )
    builder_log.removeHandler(handler)
    loaded = backbone_equal(model, saved)
    print("other key names, num_classes=10: no error, weights loaded:", loaded)
    assert not loaded
    logged = {r.getMessage().split(" (")[0]: r.levelname for r in records}
    assert logged["Missing keys"] == "INFO"  # not shown unless you log INFO
    assert logged["Unexpected keys"] == "WARNING"
    try:  # the same file with the file's own 1000 classes: a strict load
        timm.create_model(
            "test_resnet",
            pretrained=True,
            pretrained_cfg_overlay=dict(file=str(prefixed_path)),
        )
    except RuntimeError as err:
        assert 'Missing key(s) in state_dict: "conv1.0.weight"' in str(err)
    else:
        raise AssertionError("a file with other key names loaded strictly")

    # Your own 10-class weights through the same door lose their head: timm compares
    # num_classes with the pretrained config's (1000), not with the file.
    torch.manual_seed(1)
    fine_tuned = timm.create_model("test_resnet", num_classes=10)
    own_path = out_dir / "test_resnet-10-classes.pth"
    torch.save(fine_tuned.state_dict(), own_path)
    model = timm.create_model(
        "test_resnet",
        pretrained=True,
        pretrained_cfg_overlay=dict(file=str(own_path)),
        num_classes=10,
    )
    kept = torch.equal(model.fc.weight, fine_tuned.fc.weight)
    print("your 10-class file as pretrained, head kept:", kept)
    assert not kept and backbone_equal(model, fine_tuned.state_dict())
    # --8<-- [start:own_file]
    model = timm.create_model("test_resnet", num_classes=10, checkpoint_path=own_path)
    # --8<-- [end:own_file]
    assert all(
        torch.equal(v, fine_tuned.state_dict()[k])
        for k, v in model.state_dict().items()
    )
    model = timm.create_model(
        "test_resnet",
        pretrained=True,
        pretrained_cfg_overlay=dict(file=str(own_path), num_classes=10),
        num_classes=10,
    )
    assert torch.equal(model.fc.weight, fine_tuned.fc.weight)

    # A training run's checkpoints, as timm's train.py writes them.
    torch.manual_seed(2)
    model = timm.create_model("test_resnet", num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model_ema = ModelEmaV3(model, decay=0.9)
    for _ in range(2):
        loss = model(torch.randn(4, 3, 64, 64)).logsumexp(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model_ema.update(model)
    args = argparse.Namespace(model="test_resnet", lr=0.1)  # train.py's arguments
    checkpoint_dir = out_dir / "train"
    checkpoint_dir.mkdir()
    # --8<-- [start:saver]
    saver = CheckpointSaver(
        model,
        optimizer,
        args=args,
        model_ema=model_ema,
        checkpoint_dir=checkpoint_dir,
        max_history=2,
    )
    for epoch, top1 in enumerate([40.0, 55.0, 50.0]):
        saver.save_checkpoint(epoch, metric=top1)
    # --8<-- [end:saver]
    files = sorted(os.listdir(checkpoint_dir))
    print(files)
    assert files == [
        "checkpoint-1.pth.tar",
        "checkpoint-2.pth.tar",
        "last.pth.tar",
        "model_best.pth.tar",
    ]

    best = checkpoint_dir / "model_best.pth.tar"
    try:
        torch.load(best, weights_only=True)
    except torch.serialization.pickle.UnpicklingError as err:
        assert "GLOBAL argparse.Namespace was not an allowed global" in str(err)
    else:
        raise AssertionError("a Namespace loaded with weights_only=True")
    # --8<-- [start:inside]
    with torch.serialization.safe_globals([argparse.Namespace]):  # train.py's args
        checkpoint = torch.load(best, weights_only=True)
    print(list(checkpoint))
    model = timm.create_model("test_resnet", num_classes=10)
    model.load_state_dict(checkpoint["state_dict"])  # the trained weights
    # --8<-- [end:inside]
    assert checkpoint["epoch"] == 1 and checkpoint["metric"] == 55.0
    assert checkpoint["args"] == args
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    ema = {k: v.clone() for k, v in model_ema.module.state_dict().items()}
    assert not torch.equal(trained["fc.weight"], ema["fc.weight"])

    # --8<-- [start:load_checkpoint]
    model = timm.create_model("test_resnet", num_classes=10)
    load_checkpoint(model, best)  # weights_only=True, argparse.Namespace allowed
    # --8<-- [end:load_checkpoint]
    from_ema = all(torch.equal(v, ema[k]) for k, v in model.state_dict().items())
    print("load_checkpoint(model, path) loads the EMA weights:", from_ema)
    assert from_ema
    load_checkpoint(model, best, use_ema=False)
    assert all(torch.equal(v, trained[k]) for k, v in model.state_dict().items())
    assert signature(load_checkpoint).parameters["weights_only"].default is True
    state_dict = load_state_dict(best, use_ema=False)  # a plain state_dict
    assert list(state_dict) == list(trained)

    # "module." (DataParallel, DDP) and "_orig_mod." (torch.compile) are stripped.
    wrapped_path = out_dir / "wrapped.pth"
    torch.save({"state_dict": torch.nn.DataParallel(model).state_dict()}, wrapped_path)
    wrapped = torch.load(wrapped_path, weights_only=True)["state_dict"]
    print(list(wrapped)[0], "->", list(load_state_dict(wrapped_path))[0])
    assert all(k.startswith("module.") for k in wrapped)
    assert list(load_state_dict(wrapped_path)) == list(trained)
    load_checkpoint(model, wrapped_path)  # loads, strict

    # checkpoint_path goes through load_checkpoint: the EMA weights too.
    model = timm.create_model("test_resnet", num_classes=10, checkpoint_path=best)
    assert all(torch.equal(v, ema[k]) for k, v in model.state_dict().items())

    # --8<-- [start:resume]
    model = timm.create_model("test_resnet", num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    start_epoch = resume_checkpoint(model, best, optimizer)  # "state_dict", optimizer
    model_ema = ModelEmaV3(model, decay=0.9)
    load_checkpoint(model_ema.module, best, use_ema=True)  # "state_dict_ema"
    # --8<-- [end:resume]
    print("resume_checkpoint: start at epoch", start_epoch)
    assert start_epoch == 2  # the saved epoch 1, plus 1
    assert all(torch.equal(v, trained[k]) for k, v in model.state_dict().items())
    assert all(torch.equal(v, ema[k]) for k, v in model_ema.module.state_dict().items())
    assert optimizer.state_dict() == checkpoint["optimizer"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
