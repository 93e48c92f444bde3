#!/usr/bin/env python3
"""What is in this checkpoint? Read a model file without running it.

    python inspect_checkpoint.py PATH [--model MODULE:CLASS] [--json] [--all]
                                 [--check-crc]

PATH is a file or a folder. The tool names its format (torch.save, the legacy
format, TorchScript, torch.export, safetensors, DCP, Transformers, PEFT, Lightning,
Keras, NumPy, a plain pickle, ...) and says what it holds: the top-level keys, the
tensors (count, bytes, dtypes, shapes, the device each was saved from), tied and
bloated storages, the optimizer, key prefixes that break loads, and every Python
global the file needs, with those that torch.load(weights_only=True) refuses.

It never runs the file. Pickles are read opcode by opcode with the standard
library's pickletools and evaluated symbolically: nothing the file names is imported
or called. Tensor data is not read (except with --check-crc). Reading a file needs
the standard library alone; --model needs torch (the model is built on the meta
device, so it takes no memory) and imports the module you name, which is your code.

Exit status: 0 when the file was read, 1 when it is damaged or is not a
checkpoint, 2 for a bad command line (or a missing path).
"""

import argparse
import io
import json
import os
import pickletools
import re
import struct
import sys
import zipfile
import zlib
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections import Counter

SITE = "https://saving-pytorch-models.github.io/saving-pytorch-models/"
SCHEMA = "inspect_checkpoint/1"

# Limits that keep a hostile file from costing unbounded time or memory.
MAX_PICKLE_BYTES = (
    64 * 1024 * 1024
)  # a pickle larger than this (decompressed) is refused
MAX_OPCODES = 5_000_000
MAX_NESTING = 10_000  # open MARKs at once
MAX_ZIP_ENTRIES = 200_000
MAX_WALK = 2_000_000  # objects visited while summarising
MAX_DEPTH = 1_000  # levels of containers the summary descends
MAX_DIMS = 64  # dimensions of one tensor
MAX_LABEL = 200  # characters of one key or name taken from the file
MAX_CENTRAL_DIRECTORY = MAX_ZIP_ENTRIES * 128  # bytes of the zip's list of entries
MAX_NPY_HEADERS = 200  # arrays of an .npz whose header is read
MAX_JSON_HEADER = 100 * 1024 * 1024  # safetensors' own limit
MAX_LIST = 20  # shapes listed in the text output without --all


class Unreadable(Exception):
    """The file cannot be read as what it claims to be: the message says why."""

    def __init__(self, message, page=None):
        super().__init__(message)
        self.page = page


# ---------------------------------------------------------------- site pages
PAGES = {
    "inspect": "inspect/",
    "truncated": (
        "troubleshooting/#pytorchstreamreader-failed-reading-zip-archive-failed-"
        "finding-central-directory"
    ),
    "corrupt": (
        "troubleshooting/#pytorchstreamreader-failed-reading-file-data1-invalid-"
        "header-or-archive-is-corrupted"
    ),
    "html": "troubleshooting/#invalid-load-key-unsupported-operand-60",
    "magic": "troubleshooting/#invalid-magic-number-corrupt-file",
    "module_prefix": "troubleshooting/#missing-keys-unexpected-keys-module",
    "orig_mod": "troubleshooting/#unexpected-keys-_orig_mod",
    "lightning": "lightning/",
    "checkpoint_keys": "troubleshooting/#unexpected-keys-epoch-model_state_dict",
    "size_mismatch": (
        "troubleshooting/#size-mismatch-copying-a-param-with-shape-from-checkpoint"
    ),
    "weights_only_class": (
        "troubleshooting/#weights-only-load-failed-global-__main__mymodel"
    ),
    "weights_only": "library-weights-only/",
    "cuda": "troubleshooting/#attempting-to-deserialize-object-on-a-cuda-device",
    "legacy": "versions/",
    "torchscript": (
        "troubleshooting/#cannot-use-weights_onlytrue-with-torchscript-archives"
    ),
    "export": "architecture/",
    "safetensors_header": (
        "troubleshooting/#safetensorerror-error-while-deserializing-header-header-"
        "too-large-headertoolarge"
    ),
    "size": "checkpoint-size/",
    "dcp": "distributed-checkpoint/",
    "hugging_face": "hugging-face/",
    "keras": "keras/",
    "safety": "safety/",
    "entire_model": "entire-model/",
    "deepspeed": "deepspeed/#one-file-consolidate-the-folder",
    "trainer": "trainer/",
    "peft": "peft/#load-the-adapter-onto-the-base-model",
    "accelerate": "accelerate/",
    "shards": (
        "troubleshooting/#no-such-file-or-directory-model-00002-of-00003safetensors"
    ),
}


def page(name):
    return SITE + PAGES[name]


def finding(kind, message, page_name=None):
    """One thing worth telling, with the page that explains it."""
    return {
        "id": kind,
        "message": message,
        "page": page(page_name) if page_name else None,
    }


# ---------------------------------------------------------------- dtypes
# Storage classes that torch.save names, and the dtype and bytes per element of each.
STORAGE_DTYPES = {
    "DoubleStorage": ("float64", 8),
    "FloatStorage": ("float32", 4),
    "HalfStorage": ("float16", 2),
    "BFloat16Storage": ("bfloat16", 2),
    "LongStorage": ("int64", 8),
    "IntStorage": ("int32", 4),
    "ShortStorage": ("int16", 2),
    "CharStorage": ("int8", 1),
    "ByteStorage": ("uint8", 1),
    "BoolStorage": ("bool", 1),
    "ComplexFloatStorage": ("complex64", 8),
    "ComplexDoubleStorage": ("complex128", 16),
    "QInt8Storage": ("qint8", 1),
    "QUInt8Storage": ("quint8", 1),
    "QInt32Storage": ("qint32", 4),
    "QUInt4x2Storage": ("quint4x2", 1),
    "QUInt2x4Storage": ("quint2x4", 1),
    "UntypedStorage": ("uint8", 1),
}
TORCH_DTYPES = {
    "float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8",
    "uint8", "uint16", "uint32", "uint64", "bool", "complex32", "complex64",
    "complex128", "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "bits8",
    "bits16", "bits1x8", "bits2x4", "bits4x2", "float8_e4m3fn", "float8_e5m2",
    "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
    "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7",
    "int1", "int2", "int3", "int4", "int5", "int6", "int7",
}  # fmt: skip

# ---------------------------------------------------------------- weights_only
# What torch.load(weights_only=True) accepts by default: the names that
# _get_allowed_globals in torch/_weights_only_unpickler.py returns on PyTorch 2.14.1
# (torch.serialization.add_safe_globals can allow more), and the opcodes its
# Unpickler.load handles (any other opcode fails with "Unsupported operand").
_TENSOR_TYPES = ("BFloat16", "Bool", "Byte", "Char", "Double", "Float", "Half", "Int",
                 "Long", "Short")  # fmt: skip
_STORAGE_TYPES = _TENSOR_TYPES + ("ComplexDouble", "ComplexFloat")
_QUANTIZED_STORAGE_TYPES = ("QInt32", "QInt8", "QUInt2x4", "QUInt4x2", "QUInt8")
WEIGHTS_ONLY_ALLOWED = (
    {
        "collections.OrderedDict", "collections.Counter",
        "torch.nn.parameter.Parameter", "torch.serialization._get_layout",
        "torch.Size", "torch.Tensor", "torch.device", "_codecs.encode",
        "builtins.bytearray", "builtins.set", "builtins.complex",
        "torch.storage.TypedStorage", "torch.storage.UntypedStorage",
        "torch.per_tensor_affine", "torch.per_tensor_symmetric",
        "torch.per_channel_affine", "torch.per_channel_symmetric",
        "torch.per_channel_affine_float_qparams", "torch.bcomplex32",
        "torch._tensor._rebuild_from_type_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_qtensor", "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_sparse_tensor",
        "torch._utils._rebuild_meta_tensor_no_storage",
        "torch._utils._rebuild_nested_tensor", "torch._utils._rebuild_wrapper_subclass",
        "torch._utils._rebuild_device_tensor_from_numpy",
        "torch._utils._rebuild_device_tensor_from_cpu_tensor",
    }
    | {f"torch.{dtype}" for dtype in TORCH_DTYPES}
    | {f"torch.{t}Tensor" for t in _TENSOR_TYPES}
    | {f"torch.cuda.{t}Tensor" for t in _TENSOR_TYPES}
    | {f"torch.sparse.{t}Tensor" for t in _TENSOR_TYPES if t != "Bool"}
    | {f"torch.cuda.sparse.{t}Tensor" for t in _TENSOR_TYPES if t != "Bool"}
    | {f"torch.{t}Storage" for t in _STORAGE_TYPES + _QUANTIZED_STORAGE_TYPES}
    | {f"torch.cuda.{t}Storage" for t in _STORAGE_TYPES}
)  # fmt: skip
WEIGHTS_ONLY_OPCODES = {
    "GLOBAL", "NEWOBJ", "REDUCE", "BUILD", "APPEND", "APPENDS", "SETITEM", "SETITEMS",
    "MARK", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "NONE", "NEWFALSE", "NEWTRUE",
    "EMPTY_TUPLE", "EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET", "BININT", "BININT1",
    "BININT2", "BINFLOAT", "BINUNICODE", "SHORT_BINSTRING", "BINPERSID", "BINGET",
    "LONG_BINGET", "BINPUT", "LONG_BINPUT", "LONG1", "PROTO", "STOP",
}  # fmt: skip


def weights_only_allows(name):
    """Whether torch.load(weights_only=True) accepts the global `name` by default."""
    return name in WEIGHTS_ONLY_ALLOWED


# ---------------------------------------------------------------- symbolic pickle
class Global:
    """A name the pickle refers to (GLOBAL / STACK_GLOBAL): never imported."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


def label(value):
    """A short, bounded text for a key or name taken from the file: str() of a tuple
    that repeats one large string a million times would take terabytes."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**30 else "<a very large int>"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value if len(value) <= MAX_LABEL else value[: MAX_LABEL - 3] + "..."
    if isinstance(value, (Global, Call)):
        return label(value.name)
    if isinstance(value, TupleKey):
        return "<tuple>"
    return f"<{type(value).__name__}>"


def _size(value):
    """A tensor size or offset: an int in 0 .. 2**63 - 1, else 0 (damaged)."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    return value if ok and 0 <= value < 2**63 else 0


class Storage:
    """A storage that a persistent id names: its key, dtype, device and size."""

    __slots__ = ("key", "dtype", "itemsize", "device", "numel")

    def __init__(self, key, storage_type, device, numel):
        name = (
            storage_type.name.rpartition(".")[2]
            if isinstance(storage_type, Global)
            else ""
        )
        self.dtype, self.itemsize = STORAGE_DTYPES.get(name, ("unknown", 1))
        self.key, self.device = label(key), label(device)
        self.numel = _size(numel)

    @property
    def nbytes(self):
        return self.numel * self.itemsize


class Tensor:
    """A tensor as the pickle describes it: nothing of its data is read."""

    __slots__ = (
        "storage",
        "offset",
        "shape",
        "stride",
        "parameter",
        "dtype",
        "itemsize",
    )

    def __init__(self, storage, offset, shape, stride, dtype=None):
        self.storage = storage if isinstance(storage, Storage) else None
        self.offset = _size(offset)
        self.shape = _dims(shape)
        self.stride = _dims(stride)
        self.parameter = False
        self.dtype = self.storage.dtype if self.storage else "unknown"
        self.itemsize = self.storage.itemsize if self.storage else 0
        # _rebuild_tensor_v3 names the dtype of a tensor whose storage is untyped
        # (uint16, float8, ...): its storage then counts bytes.
        name = dtype.name.removeprefix("torch.") if isinstance(dtype, Global) else None
        if name in ITEMSIZE:
            self.dtype, self.itemsize = name, ITEMSIZE[name]

    @property
    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def nbytes(self):  # a meta tensor saves no data
        return self.numel * self.itemsize if self.storage else 0

    @property
    def device(self):
        return self.storage.device if self.storage else "meta"


class Call:
    """An object the pickle would build by calling `func(*args)`, then `state`."""

    __slots__ = ("func", "args", "state", "items")

    def __init__(self, func, args):
        self.func, self.args, self.state, self.items = func, args, None, None

    @property
    def name(self):
        return self.func.name if isinstance(self.func, Global) else "?"


def _as_tuple(value):
    if isinstance(value, Call) and value.name == "torch.Size":
        value = value.args[0] if value.args else ()
    return value if isinstance(value, (tuple, list)) else ()


def _dims(value):
    """A shape or stride: a tuple of sizes, at most MAX_DIMS of them."""
    sizes = _as_tuple(value)
    if len(sizes) > MAX_DIMS:
        raise Unreadable(
            f"a tensor with {len(sizes):,} dimensions: the file is damaged"
        )
    return tuple(_size(s) for s in sizes)


def _rebuild_tensor(args):
    # (storage, offset, size, stride, ...); _rebuild_tensor_v3 adds the dtype 7th
    storage, offset, shape, stride = (list(args[:4]) + [None] * 4)[:4]
    return Tensor(storage, offset, shape, stride, args[6] if len(args) > 6 else None)


def _rebuild_meta_tensor(args):
    # _rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad)
    dtype, shape, stride = (list(args[:3]) + [None] * 3)[:3]
    return Tensor(None, 0, shape, stride, dtype)


def _rebuild_parameter(args):
    data = args[0] if args else None
    if isinstance(data, Tensor):
        data.parameter = True
        return data
    return Call(Global("torch._utils._rebuild_parameter"), args)


def _rebuild_from_type(args):
    # _rebuild_from_type_v2(func, new_type, args, state): the tensor is func(*args).
    if len(args) >= 3 and isinstance(args[0], Global) and isinstance(args[2], tuple):
        builder = CALLS.get(args[0].name)
        if builder:
            return builder(args[2])
    return None


def _ordered_dict(args):
    return {}


def _torch_size(args):
    # no copy of a long list: a million torch.Size calls on one list stay cheap
    sizes = args[0] if args else ()
    if isinstance(sizes, list):
        sizes = tuple(sizes[: MAX_DIMS + 1])
    return sizes if isinstance(sizes, tuple) else ()


def _device(args):
    return f"device({':'.join(label(a) for a in args[:2])})"


# Callables whose result the inspector builds itself, by their name: none is imported.
CALLS = {
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v3": _rebuild_tensor,
    # (storage, offset, size, stride, quantizer params, ...): read like a tensor
    "torch._utils._rebuild_qtensor": _rebuild_tensor,
    "torch._utils._rebuild_meta_tensor_no_storage": _rebuild_meta_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type,
    "collections.OrderedDict": _ordered_dict,
    "torch.Size": _torch_size,
    "torch.device": _device,
}


def python3_name(module, name):
    """The name Python 3 (and torch.load) reads for a protocol 2 GLOBAL:
    __builtin__.set -> builtins.set."""
    if (module, name) in NAME_MAPPING:
        module, name = NAME_MAPPING[(module, name)]
    elif module in IMPORT_MAPPING:
        module = IMPORT_MAPPING[module]
    return f"{module}.{name}"


# Opcodes that push a plain value (their argument, or a constant).
VALUES = {
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "STRING",
    "BINSTRING", "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
    "NONE", "NEWTRUE", "NEWFALSE", "UNICODE", "SHORT_BINUNICODE", "BINUNICODE",
    "BINUNICODE8", "FLOAT", "BINFLOAT",
}  # fmt: skip
CONSTANTS = {"NEWTRUE": True, "NEWFALSE": False, "NONE": None}
PUTS = {"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"}
GETS = {"GET", "BINGET", "LONG_BINGET"}


class PickleReport:
    """What reading one pickle found: its object, the globals it names, its protocol,
    and the names of the opcodes it uses."""

    def __init__(self, value, globals_, protocol, opcodes):
        self.value, self.globals, self.protocol, self.opcodes = (
            value,
            globals_,
            protocol,
            opcodes,
        )


def _limited_bytes(stream, limit, what):
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise Unreadable(
            f"{what} is larger than {limit // 2**20} MB decompressed: not read "
            "(a checkpoint's pickle is a few MB; this may be a decompression bomb)"
        )
    return data


def read_pickle(data, persistent_load=None):
    """Evaluate a pickle symbolically from its opcodes: build dicts, lists and tuples,
    record each global, call nothing. Returns a PickleReport; raises Unreadable."""
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    stack, marks, memo = [], [], {}
    globals_, opcodes = Counter(), set()
    protocol, count = 0, 0

    def pop_mark():
        if not marks:
            raise Unreadable("the pickle is malformed (a MARK is missing)")
        i = marks.pop()
        items = stack[i:]
        del stack[i:]
        return items

    def pop():
        if not stack:
            raise Unreadable("the pickle is malformed (its stack is empty)")
        return stack.pop()

    try:
        for op, arg, _pos in pickletools.genops(stream):
            count += 1
            if count > MAX_OPCODES:
                raise Unreadable(
                    f"the pickle has over {MAX_OPCODES:,} opcodes: not read"
                )
            name = op.name
            opcodes.add(name)
            if name in VALUES:  # the most common opcodes first: plain values
                stack.append(CONSTANTS[name] if name in CONSTANTS else arg)
            elif name in PUTS:
                if not stack:
                    raise Unreadable("the pickle is malformed (PUT on an empty stack)")
                memo[arg if name != "MEMOIZE" else len(memo)] = stack[-1]
            elif name in GETS:
                if arg not in memo:
                    raise Unreadable(f"the pickle is malformed (memo {arg} is not set)")
                stack.append(memo[arg])
            elif name == "PROTO":
                protocol = arg
            elif name in ("FRAME", "READONLY_BUFFER"):
                pass
            elif name == "NEXT_BUFFER":  # an out-of-band buffer torch never writes
                stack.append(Call(Global("(out-of-band buffer)"), ()))
            elif name == "STOP":
                return PickleReport(pop(), globals_, protocol, opcodes)
            elif name == "MARK":
                marks.append(len(stack))
                if len(marks) > MAX_NESTING:
                    raise Unreadable(
                        f"the pickle nests over {MAX_NESTING:,} levels deep: not read"
                    )
            elif name in ("GLOBAL", "INST"):
                module, _, short = arg.partition(" ")
                g = Global(python3_name(module, short))
                globals_[g.name] += 1
                if name == "INST":
                    stack.append(Call(g, tuple(pop_mark())))
                else:
                    stack.append(g)
            elif name == "STACK_GLOBAL":
                short, module = pop(), pop()
                g = Global(f"{label(module)}.{label(short)}")
                globals_[g.name] += 1
                stack.append(g)
            elif name in ("REDUCE", "NEWOBJ", "NEWOBJ_EX", "OBJ"):
                if name == "OBJ":
                    items = pop_mark()
                    func, args = (items[0], tuple(items[1:])) if items else (None, ())
                else:
                    if name == "NEWOBJ_EX":
                        pop()
                    args, func = pop(), pop()
                    args = args if isinstance(args, tuple) else (args,)
                builder = CALLS.get(func.name) if isinstance(func, Global) else None
                made = builder(args) if builder else None
                stack.append(made if made is not None else Call(func, args))
            elif name == "BUILD":
                state = pop()
                target = stack[-1] if stack else None
                if isinstance(target, Call):
                    target.state = state
            elif name in ("PERSID", "BINPERSID"):
                pid = pop() if name == "BINPERSID" else arg
                stack.append(
                    persistent_load(pid) if persistent_load else Call(None, (pid,))
                )
            elif name in ("EMPTY_DICT",):
                stack.append({})
            elif name == "DICT":
                items = pop_mark()
                stack.append(_set_items({}, items))
            elif name in ("EMPTY_LIST",):
                stack.append([])
            elif name == "LIST":
                stack.append(pop_mark())
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                if len(stack) < n:
                    raise Unreadable("the pickle is malformed (its stack is too short)")
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif name == "TUPLE":
                stack.append(tuple(pop_mark()))
            elif name in ("EMPTY_SET", "FROZENSET"):
                stack.append(
                    Call(
                        Global("builtins.set"),
                        tuple(pop_mark() if name == "FROZENSET" else ()),
                    )
                )
            elif name == "ADDITEMS":
                pop_mark()
            elif name == "APPEND":
                value = pop()
                _extend(stack[-1] if stack else None, [value])
            elif name == "APPENDS":
                items = pop_mark()
                _extend(stack[-1] if stack else None, items)
            elif name == "SETITEM":
                value, key = pop(), pop()
                _set_items(stack[-1] if stack else None, [key, value])
            elif name == "SETITEMS":
                items = pop_mark()
                _set_items(stack[-1] if stack else None, items)
            elif name == "POP":
                pop()
            elif name == "POP_MARK":
                pop_mark()
            elif name == "DUP":
                stack.append(stack[-1] if stack else None)
            elif name in ("EXT1", "EXT2", "EXT4"):
                g = Global(f"copyreg.extension_{arg}")
                globals_[g.name] += 1
                stack.append(g)
            elif name == "BYTEARRAY8":
                stack.append(Call(Global("builtins.bytearray"), (len(arg),)))
            else:  # a value: int, float, str, bytes, None, bool
                stack.append(arg)
    except Unreadable:
        raise
    except (
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        OverflowError,
        MemoryError,
    ) as e:
        raise Unreadable(f"the pickle is damaged: {e}") from None
    raise Unreadable("the pickle ends before its STOP opcode: the file is cut off")


def _extend(target, items):
    if isinstance(target, list):
        target.extend(items)
    elif isinstance(target, Call):  # in place: a copy per APPEND would be quadratic
        target.items = target.items if target.items is not None else []
        target.items.extend(items)


def _set_items(target, items):
    if isinstance(target, Call):  # an OrderedDict subclass or another mapping
        _extend(target, items)
        return target
    if not isinstance(target, dict):
        return target
    for key, value in zip(items[::2], items[1::2], strict=False):
        if isinstance(key, (tuple, list, dict)):
            # hashing a tuple walks it, and tuples that repeat each other can nest
            # 2**60 paths in a few bytes: keep such a key by its identity
            key = TupleKey()
        target[key] = value
    return target


class TupleKey:
    """A dict key that was a tuple (or unhashable) in the file: not hashed."""

    __slots__ = ()


# ---------------------------------------------------------------- walking the object
def walk_tensors(value):
    """Every tensor in `value` with its dotted name, each object visited once."""
    found, seen, visits = [], set(), 0
    todo = [("", 0, value)]
    while todo:
        prefix, depth, obj = todo.pop()
        if isinstance(obj, Tensor):
            found.append((prefix, obj))
            continue
        if isinstance(obj, (dict, list, tuple, Call)):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
        if depth > MAX_DEPTH:
            raise Unreadable(
                f"the pickle nests over {MAX_DEPTH:,} levels deep: stopped"
            )
        children = list(_children(obj))
        visits += len(children)  # counted when queued: the queue stays bounded too
        if visits > MAX_WALK:
            raise Unreadable(f"the pickle holds over {MAX_WALK:,} objects: stopped")
        for key, child in reversed(children):
            name = f"{prefix}.{label(key)}" if prefix else label(key)
            todo.append((name[: MAX_LABEL * 5], depth + 1, child))
    return found


def _children(obj):
    if isinstance(obj, dict):
        return obj.items()
    if isinstance(obj, (list, tuple)):
        return enumerate(obj)
    if isinstance(obj, Call):
        kids = []
        if isinstance(obj.state, dict):
            kids += [(k, v) for k, v in obj.state.items() if k != "_metadata"]
        elif obj.state is not None:
            kids.append(("state", obj.state))
        if obj.items:
            kids += list(zip(obj.items[::2], obj.items[1::2], strict=False))
        if not kids:
            kids = [
                (i, a)
                for i, a in enumerate(obj.args)
                if isinstance(a, (dict, list, tuple, Call, Tensor))
            ]
        return kids
    return ()


def describe(value):
    """One short line for a value: what it is, not all of it."""
    if isinstance(value, Tensor):
        return f"tensor {value.dtype} {list(value.shape)} on {value.device}"
    if isinstance(value, dict) and len(value) > 100_000:
        return f"dict with {len(value):,} keys"
    if isinstance(value, dict):
        tensors = sum(1 for v in value.values() if isinstance(v, Tensor))
        if value and tensors == len(value):
            return f"state_dict: {tensors} tensors"
        return f"dict with {len(value)} keys" + (
            f" ({tensors} tensors)" if tensors else ""
        )
    if isinstance(value, list):
        return f"list of {len(value)}"
    if isinstance(value, tuple):
        return f"tuple of {len(value)}"
    if isinstance(value, Call):
        return f"object {label(value.name)}"
    if isinstance(value, Global):
        return f"global {label(value.name)}"
    if isinstance(value, (bytes, bytearray)):
        return f"bytes ({len(value)})"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return label(value)


def structure(value):
    """The top level of the object: its keys (or its kind) and a line for each."""
    if isinstance(value, dict):
        return {label(k): describe(v) for k, v in list(value.items())[:200]}
    if isinstance(value, Call) and isinstance(value.state, dict):
        return {"(object)": label(value.name)} | {
            label(k): describe(v) for k, v in list(value.state.items())[:200]
        }
    return {"(value)": describe(value)}


# ---------------------------------------------------------------- what the tensors tell
def tensor_summary(named, list_all):
    """Count, bytes, dtypes, devices, shapes; shared and oversized storages."""
    by_storage = {}
    for name, t in named:
        if t.storage is not None:
            by_storage.setdefault(id(t.storage), (t.storage, []))[1].append((name, t))
    stored = sum(s.nbytes for s, _ in by_storage.values())
    shared = [
        {"storage": s.key, "tensors": [n for n, _ in ts]}
        for s, ts in by_storage.values()
        if len(ts) > 1
    ]
    oversized = []
    for s, ts in by_storage.values():
        used = max((t.offset + _span(t)) * s.itemsize for _, t in ts)
        if s.nbytes > used and s.nbytes - used >= 64:
            oversized.append(
                {
                    "storage": s.key,
                    "tensors": [n for n, _ in ts],
                    "storage_bytes": s.nbytes,
                    "used_bytes": used,
                }
            )
    return {
        "count": len(named),
        "bytes": sum(t.nbytes for _, t in named),
        "storage_bytes": stored,
        "dtypes": dict(Counter(t.dtype for _, t in named).most_common()),
        "devices": dict(Counter(t.device for _, t in named).most_common()),
        "parameters": sum(t.numel for _, t in named),
        "shared_storages": shared,
        "oversized_storages": oversized,
        "list": [
            {"name": n, "dtype": t.dtype, "shape": list(t.shape), "device": t.device}
            for n, t in (named if list_all else named[:MAX_LIST])
        ],
    }


def _span(t):
    """Elements of its storage that a tensor reaches (1 + the last index)."""
    if any(s == 0 for s in t.shape):
        return 0
    return 1 + sum((s - 1) * st for s, st in zip(t.shape, t.stride, strict=False))


# The keys of torch.optim's param_groups that name each optimizer (first match wins);
# then the per-parameter state keys, for optimizers from other libraries.
OPTIMIZER_GROUP_KEYS = [
    ({"momentum_decay"}, "NAdam"),
    ({"decoupled_weight_decay"}, "Adam"),  # AdamW when it is True
    ({"betas", "amsgrad"}, "Adam or AdamW"),
    ({"betas"}, "an Adam relative (Adamax, RAdam, ...)"),
    ({"momentum", "dampening", "nesterov"}, "SGD"),
    ({"alpha", "centered"}, "RMSprop"),
    ({"lr_decay", "initial_accumulator_value"}, "Adagrad"),
    ({"rho"}, "Adadelta"),
    ({"etas", "step_sizes"}, "Rprop"),
    ({"max_iter", "history_size"}, "LBFGS"),
]
OPTIMIZER_STATE_KEYS = [
    ({"exp_avg", "exp_avg_sq"}, "an Adam relative"),
    ({"momentum_buffer"}, "SGD with momentum"),
]


def optimizer_kind(group, state_keys):
    """The optimizer's class as its param_groups and state tell it."""
    for needed, name in OPTIMIZER_GROUP_KEYS:
        if needed <= set(group):
            if name == "Adam":
                return "AdamW" if group.get("decoupled_weight_decay") else "Adam"
            return name
    for needed, name in OPTIMIZER_STATE_KEYS:
        if needed <= state_keys:
            return name
    return "unknown"


def find_optimizers(value):
    """Optimizer state_dicts ({'state': ..., 'param_groups': [...]}) in the top three
    levels of the object, each dict looked at once."""
    found, seen, looked = [], set(), 0
    todo = [("", 0, value)]
    while todo and looked < 100_000:
        path, depth, obj = todo.pop()
        looked += 1
        if not isinstance(obj, dict) or id(obj) in seen:
            continue
        seen.add(id(obj))
        if "state" in obj and isinstance(obj.get("param_groups"), list):
            found.append(optimizer_summary(path or "(top level)", obj))
        elif depth < 3:
            for key, child in reversed(list(obj.items())[:200]):
                sub = f"{path}.{label(key)}" if path else label(key)
                items = enumerate(child[:200]) if isinstance(child, list) else ()
                todo += [(f"{sub}.{i}", depth + 1, c) for i, c in reversed(list(items))]
                todo.append((sub, depth + 1, child))
    return sorted(found, key=lambda o: o["path"])


def optimizer_summary(path, value):
    """The class, state and hyperparameters of one optimizer state_dict."""
    state = value["state"] if isinstance(value["state"], dict) else {}
    keys = set()
    for per_param in list(state.values())[:10_000]:
        if isinstance(per_param, dict):
            keys |= {label(k) for k in per_param}
    groups = value["param_groups"]
    first = groups[0] if groups and isinstance(groups[0], dict) else {}
    first = {label(k): v for k, v in first.items()}
    hyper = {
        k: label(v) if isinstance(v, str) else v
        for k, v in first.items()
        if k != "params"
        and (isinstance(v, (float, str, bool)) or isinstance(v, int) and abs(v) < 2**63)
    }
    return {
        "path": path,
        "kind": optimizer_kind(first, keys),
        "state_keys": sorted(keys),
        "parameters_with_state": len(state),
        "param_groups": len(groups),
        "hyperparameters": hyper,
    }


PREFIXES = [
    (
        "module.",
        "module_prefix",
        "saved from a DistributedDataParallel or DataParallel wrapper",
    ),
    ("_orig_mod.", "orig_mod", "saved from torch.compile's wrapper"),
    ("model.", "lightning", "saved from a LightningModule whose model is self.model"),
]


def state_dicts(value):
    """(keys, dict) of each dict of tensors in the object, the state_dicts; keys is
    the tuple of keys that leads to it from the top level."""
    found = []
    todo, seen = [((), value)], set()
    while todo and len(seen) < 10_000:
        keys, obj = todo.pop()
        if not isinstance(obj, dict) or id(obj) in seen or len(keys) > MAX_DEPTH:
            continue
        seen.add(id(obj))
        tensors = sum(1 for v in obj.values() if isinstance(v, Tensor))
        if tensors and tensors == len(obj):
            found.append((keys, obj))
            continue
        for k, v in list(obj.items())[:1000]:
            if isinstance(v, dict) and k != "state":
                todo.append(((*keys, k), v))
    return sorted(found, key=lambda item: where_name(item[0]))


def where_name(keys):
    """Where a dict sits, for people: 'model', 'state_dict', '(top level)'."""
    return ".".join(label(k) for k in keys) or "(top level)"


def prefix_findings(dicts):
    findings = []
    for where, keys in dicts:
        keys = [k for k in keys if isinstance(k, str)]
        for prefix, page_name, why in PREFIXES:
            n = sum(1 for k in keys if k.startswith(prefix))
            if n and n == len(keys):
                findings.append(
                    finding(
                        "prefix",
                        f"every key of {where} starts with '{prefix}' ({why}): strip "
                        "it "
                        "before load_state_dict",
                        page_name,
                    )
                    | {"prefix": prefix, "where": where}
                )
    return findings


def globals_report(counter):
    return [
        {"name": n, "weights_only": "allowed" if weights_only_allows(n) else "refused"}
        for n in sorted(counter)
    ]


def pickle_findings(pk, tensors):
    """Findings that follow from the pickle: unsafe globals and opcodes, devices,
    bloat."""
    out = []
    opcodes = sorted(pk.opcodes - WEIGHTS_ONLY_OPCODES)
    if opcodes:
        out.append(
            finding(
                "weights_only_opcodes",
                "torch.load(weights_only=True) refuses the file's pickle opcodes "
                f"{', '.join(opcodes)} ('Unsupported operand'): it was written with "
                f"pickle protocol {pk.protocol} or by another tool than torch.save",
                "weights_only",
            )
        )
    refused = [
        g["name"] for g in globals_report(pk.globals) if g["weights_only"] == "refused"
    ]
    if refused:
        main = [
            n
            for n in refused
            if n.startswith("__main__.") or n.startswith("__torch__.")
        ]
        out.append(
            finding(
                "weights_only_refuses",
                f"torch.load(weights_only=True) refuses {len(refused)} global(s): "
                + ", ".join(refused[:6])
                + (" ..." if len(refused) > 6 else ""),
                "weights_only_class" if main else "weights_only",
            )
        )
    devices = [d for d in tensors["devices"] if d.startswith("cuda")] if tensors else []
    if devices:
        out.append(
            finding(
                "cuda",
                f"tensors were saved from {', '.join(devices)}: on a machine without "
                "a GPU, "
                "load with map_location='cpu'",
                "cuda",
            )
        )
    if tensors and tensors["shared_storages"]:
        n = len(tensors["shared_storages"])
        out.append(
            finding(
                "shared",
                f"{n} storage(s) shared between tensors (tied weights or views)",
                "size",
            )
        )
    if tensors and tensors["oversized_storages"]:
        extra = sum(
            o["storage_bytes"] - o["used_bytes"] for o in tensors["oversized_storages"]
        )
        out.append(
            finding(
                "oversized",
                f"{len(tensors['oversized_storages'])} storage(s) larger than their "
                "tensors "
                f"({human(extra)} saved that no tensor uses): save .clone() of the "
                "views",
                "size",
            )
        )
    return out


# ---------------------------------------------------------------- one pickle in a file
def inspect_pickle_bytes(data, persistent_load, list_all):
    pk = read_pickle(data, persistent_load)
    return summarise_pickle(pk, list_all), pk


def summarise_pickle(pk, list_all):
    """The report's parts that one pickle gives: structure, tensors, globals."""
    named = walk_tensors(pk.value)
    tensors = tensor_summary(named, list_all) if named else None
    optimizers = find_optimizers(pk.value)
    dicts = [(where_name(keys), d, keys) for keys, d in state_dicts(pk.value)]
    report = {
        "structure": structure(pk.value),
        "tensors": tensors,
        "optimizers": optimizers,
        "_named": {
            w: {label(k): (t.dtype, list(t.shape)) for k, t in d.items()}
            for w, d, _ in dicts
        },
        "_keys": {w: keys for w, _, keys in dicts},
        "_tensors": {n: (t.dtype, list(t.shape)) for n, t in named},
        "globals": globals_report(pk.globals),
        "pickle_protocol": pk.protocol,
        "findings": pickle_findings(pk, tensors)
        + prefix_findings([(w, d) for w, d, _ in dicts]),
    }
    if isinstance(pk.value, dict) and "pytorch-lightning_version" in pk.value:
        report["lightning_version"] = label(pk.value["pytorch-lightning_version"])
    return report


def storage_loader():
    """persistent_load for torch.save's ids, ('storage', type, key, device, numel)
    (the legacy format adds view metadata): one Storage per key, so that tensors
    that share a storage share it here too."""
    storages = {}

    def persistent_load(pid):
        if isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage":
            key = str(pid[2])
            if key not in storages:
                storages[key] = Storage(pid[2], pid[1], pid[3], pid[4])
            return storages[key]
        return Call(Global("(persistent id)"), (pid,))

    return persistent_load


# ---------------------------------------------------------------- file formats
def read_head(path, n=4096):
    with open(path, "rb") as f:
        return f.read(n)


def open_zip(path):
    """The zip's reader, after checking that its entry count is sane."""
    try:
        with open(path, "rb") as f:
            end = zipfile._EndRecData(f)
    except OSError as e:
        raise Unreadable(f"cannot read the file: {e}") from None
    if end is None:
        raise Unreadable(
            "it starts as a zip archive but has no central directory at its end: "
            "the file is cut off (an interrupted download or save)",
            "truncated",
        )
    # zipfile reads the whole central directory whatever count the end record
    # declares: bound both.
    if end[4] > MAX_ZIP_ENTRIES or end[5] > MAX_CENTRAL_DIRECTORY:
        raise Unreadable(
            f"the zip declares {end[4]:,} entries in {human(end[5])}: not read"
        )
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise Unreadable(f"the zip archive is damaged: {e}", "corrupt") from None


def zip_member(zf, info, limit=MAX_PICKLE_BYTES):
    if info.file_size > limit:
        raise Unreadable(
            f"{info.filename} declares {human(info.file_size)} decompressed: not read "
            "(a checkpoint's pickle is a few MB; this may be a decompression bomb)"
        )
    try:
        with zf.open(info) as f:
            return _limited_bytes(f, limit, info.filename)
    except zipfile.BadZipFile as e:
        raise Unreadable(
            f"{info.filename} in the zip is damaged: {e}", "corrupt"
        ) from None
    except (
        OSError,
        EOFError,
        zlib.error,
        NotImplementedError,
        ValueError,
        RuntimeError,  # an encrypted entry
    ) as e:
        raise Unreadable(
            f"{info.filename} in the zip cannot be read: {e}", "corrupt"
        ) from None


def check_crcs(zf):
    """Read every entry of the zip to its end: zipfile compares each CRC-32."""
    bad = []
    for info in zf.infolist():
        try:
            with zf.open(info) as f:
                while f.read(1 << 20):
                    pass
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            zlib.error,
            ValueError,
            RuntimeError,
            NotImplementedError,
        ) as e:
            bad.append(f"{info.filename}: {e}")
    return bad


def zip_prefix_entries(zf):
    """{name inside the archive's folder: ZipInfo}; torch writes one folder."""
    entries = {}
    for info in zf.infolist():
        _, _, inner = info.filename.partition("/")
        entries[inner or info.filename] = info
    return entries


def inspect_torch_zip(path, opts, entries, zf):
    if "data.pkl" not in entries:
        raise Unreadable(
            "a torch.save zip without data.pkl: the archive is incomplete", "corrupt"
        )
    data = zip_member(zf, entries["data.pkl"])
    report, pk = inspect_pickle_bytes(data, storage_loader(), opts.all)
    small = {
        k: zip_member(zf, entries[k], 64).decode("ascii", "replace").strip()
        for k in ("version", "byteorder", ".format_version")
        if k in entries
    }
    report["serialization"] = {
        "archive_version": small.get("version"),
        "format_version": small.get(".format_version"),
        "byteorder": small.get(
            "byteorder",
            "not recorded (torch before 2.1): torch.load reads it as little-endian "
            "unless set_default_load_endianness says otherwise",
        ),
        "pickle_protocol": report.pop("pickle_protocol"),
    }
    missing = sorted(
        {s.key for _, t in walk_tensors(pk.value) if t.storage for s in [t.storage]}
        - {k.removeprefix("data/") for k in entries if k.startswith("data/")}
    )
    if missing:
        report["findings"].append(
            finding(
                "missing_records",
                f"{len(missing)} storage record(s) missing from the zip: "
                f"data/{missing[0]} ...",
                "corrupt",
            )
        )
    return report


def inspect_torchscript(path, opts, entries, zf):
    report = inspect_torch_zip(path, opts, entries, zf)
    code = sorted(k for k in entries if k.startswith("code/") and k.endswith(".py"))
    report["torchscript_code"] = code[:50]
    # torch.jit.load(...).state_dict() names each tensor by its attribute path
    report["_named"] = {"(top level)": report["_tensors"]}
    report["findings"].append(
        finding(
            "torchscript",
            "a TorchScript archive: load it with torch.jit.load (torch.load refuses "
            "it with weights_only=True)",
            "torchscript",
        )
    )
    return report


def inspect_export(path, opts, entries, zf):
    weights = [
        k for k in entries if k.startswith("data/weights/") and not k.endswith(".json")
    ]
    models = [k for k in entries if k.startswith("models/") and k.endswith(".json")]
    config = {}
    if "data/weights/model_weights_config.json" in entries:
        try:
            config = json.loads(
                zip_member(
                    zf,
                    entries["data/weights/model_weights_config.json"],
                    MAX_JSON_HEADER,
                )
            )
        except ValueError:
            config = {}
    named = []
    for name, meta in (config.get("config") or {}).items():
        tm = meta.get("tensor_meta", {}) if isinstance(meta, dict) else {}
        sizes = [
            _size(s.get("as_int")) if isinstance(s, dict) else 0
            for s in _dims_list(tm.get("sizes"))
        ]
        named.append(
            {"name": name, "dtype": _export_dtype(tm.get("dtype")), "shape": sizes}
        )
    report = {
        "structure": {
            "models": ", ".join(models) or "none",
            "weights": f"{len(weights)} tensor records",
        },
        "tensors": _plain_tensor_summary(named, opts.all) if named else None,
        "serialization": {
            "archive_format": _small(zf, entries, "archive_format"),
            "archive_version": _small(zf, entries, "archive_version"),
            "byteorder": _small(zf, entries, "byteorder"),
        },
        "globals": [],
        "_named": {"(top level)": {t["name"]: (t["dtype"], t["shape"]) for t in named}},
        "findings": [
            finding(
                "export",
                "a torch.export program: load it with "
                "torch.export.load(path).module(), no class needed",
                "export",
            )
        ],
    }
    return report


EXPORT_DTYPES = {
    1: "uint8",
    2: "int8",
    3: "int16",
    4: "int32",
    5: "int64",
    6: "float16",
    7: "float32",
    8: "float64",
    9: "complex32",
    10: "complex64",
    11: "complex128",
    12: "bool",
    13: "bfloat16",
}


def _dims_list(sizes):
    if not isinstance(sizes, list) or len(sizes) > MAX_DIMS:
        raise Unreadable("the program's weights config is damaged")
    return sizes


def _export_dtype(code):
    return EXPORT_DTYPES.get(code, f"dtype code {code}")


def _small(zf, entries, name):
    return (
        zip_member(zf, entries[name], 256).decode("ascii", "replace").strip()
        if name in entries
        else None
    )


def _plain_tensor_summary(named, list_all, itemsizes=None):
    """A summary of tensors known by dtype and shape (safetensors, export, DCP)."""
    sizes = itemsizes or ITEMSIZE
    total = 0
    for t in named:
        n = 1
        for s in t["shape"]:
            n *= s
        total += n * sizes.get(t["dtype"], 0)
    return {
        "count": len(named),
        "bytes": total,
        "dtypes": dict(Counter(t["dtype"] for t in named).most_common()),
        "devices": {},
        "parameters": sum(_numel(t["shape"]) for t in named),
        "shared_storages": [],
        "oversized_storages": [],
        "list": named if list_all else named[:MAX_LIST],
    }


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


ITEMSIZE = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int64": 8,
    "int32": 4,
    "int16": 2,
    "int8": 1,
    "uint8": 1,
    "bool": 1,
    "uint16": 2,
    "uint32": 4,
    "uint64": 8,
    "complex64": 8,
    "complex128": 16,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "float8_e4m3fnuz": 1,
    "float8_e5m2fnuz": 1,
    "float8_e8m0fnu": 1,
    "float4_e2m1fn_x2": 1,
    "complex32": 4,
    "bits8": 1,
    "bits16": 2,
    "bits1x8": 1,
    "bits2x4": 1,
    "bits4x2": 1,
}
SAFETENSORS_DTYPES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
    "U16": "uint16",
    "U32": "uint32",
    "U64": "uint64",
    "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2",
    "C64": "complex64",
}


def inspect_keras_zip(path, opts, entries, zf):
    meta = _json_member(zf, entries, "metadata.json")
    config = _json_member(zf, entries, "config.json")
    return {
        "structure": {
            "keras_version": str(meta.get("keras_version")),
            "model class": str(config.get("class_name")),
            "files": ", ".join(sorted(entries)),
        },
        "tensors": None,
        "globals": [],
        "findings": [
            finding(
                "keras",
                "a Keras 3 model: keras.saving.load_model(path) rebuilds it from "
                "config.json, no class needed",
                "keras",
            )
        ],
    }


def _json_member(zf, entries, name):
    if name not in entries:
        return {}
    try:
        value = json.loads(zip_member(zf, entries[name], MAX_JSON_HEADER))
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}


def inspect_npz(path, opts, entries, zf):
    names = [name for name in entries if name.endswith(".npy")]
    arrays = [
        {"name": name[:-4], **npy_header(_zip_head(zf, entries[name]))}
        for name in names[:MAX_NPY_HEADERS]
    ]
    more = (
        {"...": f"{len(names) - len(arrays):,} more arrays"}
        if names[len(arrays) :]
        else {}
    )
    return {
        "structure": {a["name"]: f"array {a['dtype']} {a['shape']}" for a in arrays}
        | more,
        "tensors": None,
        "globals": [],
        "findings": [
            finding(
                "numpy",
                "a NumPy .npz archive: numpy.load(path) reads it (allow_pickle=False "
                "refuses object arrays)",
                "safety",
            )
        ]
        + _npy_object_findings(arrays),
    }


def _zip_head(zf, info):
    try:
        with zf.open(info) as f:
            return f.read(65536)
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        zlib.error,
        RuntimeError,
        NotImplementedError,
    ) as e:
        raise Unreadable(
            f"{info.filename} in the zip is damaged: {e}", "corrupt"
        ) from None


def _npy_object_findings(arrays):
    objects = [a["name"] for a in arrays if a.get("dtype") == "object"]
    if objects:
        return [
            finding(
                "numpy_pickle",
                f"object arrays ({', '.join(objects)}) are pickles: numpy.load needs "
                "allow_pickle=True, which runs them",
                "safety",
            )
        ]
    return []


def npy_header(head):
    """dtype and shape from a .npy header (a literal, read with ast.literal_eval)."""
    import ast

    if not head.startswith(b"\x93NUMPY") or len(head) < 10:
        raise Unreadable("not a .npy array (no \\x93NUMPY magic)")
    major = head[6]
    if major == 1:
        (n,), start = struct.unpack("<H", head[8:10]), 10
    else:
        (n,), start = struct.unpack("<I", head[8:12]), 12
    text = head[start : start + n]
    if len(text) < n:
        raise Unreadable("the .npy header is cut off")
    try:
        header = ast.literal_eval(text.decode("latin1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise Unreadable("the .npy header is damaged") from None
    if not isinstance(header, dict):
        raise Unreadable("the .npy header is damaged")
    descr = header.get("descr")
    dtype = "object" if descr == "|O" else str(descr)
    shape = header.get("shape", ())
    if not isinstance(shape, tuple) or len(shape) > MAX_DIMS:
        raise Unreadable("the .npy header is damaged")
    return {
        "dtype": label(dtype),
        "shape": [_size(n) for n in shape],
        "fortran_order": bool(header.get("fortran_order")),
    }


def inspect_npy(path, opts):
    info = npy_header(read_head(path, 65536))
    return {
        "format": "numpy-npy",
        "format_name": "NumPy array (.npy)",
        "structure": {"array": f"{info['dtype']} {info['shape']}"},
        "tensors": None,
        "globals": [],
        "findings": [
            finding("numpy", "a NumPy array: numpy.load(path) reads it", "safety")
        ]
        + _npy_object_findings([{"name": "array", **info}]),
    }


def inspect_torch_save_zip(path, opts, entries, zf):
    """A torch.save zip; a Lightning checkpoint is one, with its version inside."""
    report = inspect_torch_zip(path, opts, entries, zf)
    if "lightning_version" in report:
        report["format"] = "lightning"
        report["format_name"] = "PyTorch Lightning checkpoint (torch.save zip)"
        report["findings"].append(
            finding(
                "lightning",
                "a Lightning checkpoint: the weights are under 'state_dict', their "
                "keys prefixed by the LightningModule's attribute",
                "lightning",
            )
        )
    return report


# Zip-based formats, told apart by the entries inside (first match wins).
# Zip-based formats, told apart by the entries inside (first match wins). The last
# column says which names the test and the reader see: the names inside the
# archive's one folder (torch writes one), or the names as stored.
ZIP_FORMATS = [
    (
        "torch-export",
        "torch.export program (.pt2)",
        lambda e: "archive_format" in e or "models/model.json" in e,
        inspect_export,
        "inner",
    ),
    (
        "torchscript",
        "TorchScript archive (torch.jit.save)",
        lambda e: "constants.pkl" in e or any(k.startswith("code/") for k in e),
        inspect_torchscript,
        "inner",
    ),
    (
        "torch-zip",
        "torch.save (zip, PyTorch 1.6 and later)",
        lambda e: "data.pkl" in e,
        inspect_torch_save_zip,
        "inner",
    ),
    (
        "keras",
        "Keras 3 model (.keras)",
        lambda e: "metadata.json" in e and "config.json" in e,
        inspect_keras_zip,
        "stored",
    ),
    (
        "numpy-npz",
        "NumPy .npz archive",
        lambda e: e and all(k.endswith(".npy") for k in e),
        inspect_npz,
        "stored",
    ),
]


def inspect_zip(path, opts):
    zf = open_zip(path)
    with zf:
        names = {
            "inner": zip_prefix_entries(zf),
            "stored": {i.filename: i for i in zf.infolist()},
        }
        known = next((f for f in ZIP_FORMATS if f[2](names[f[4]])), None)
        if known is None:
            raise Unreadable(
                "a zip archive, but not one that a model library writes: entries "
                + ", ".join(list(names["stored"])[:8])
            )
        fmt, name, _, inspect, which = known
        report = {"format": fmt, "format_name": name}
        report |= inspect(path, opts, names[which], zf)
        if opts.check_crc:
            report["crc"] = check_crcs(zf) or "ok"
            if report["crc"] != "ok":
                raise Unreadable(
                    "CRC-32 mismatch: " + "; ".join(report["crc"][:5]), "corrupt"
                )
        return report


# -- the legacy torch.save format (before 1.6): a sequence of pickles
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def inspect_legacy_or_pickle(path, opts):
    size = os.path.getsize(path)
    too_large = Unreadable(
        f"a pickle larger than {MAX_PICKLE_BYTES // 2**20} MB: not read"
    )
    with open(path, "rb") as f:
        stream = io.BytesIO(f.read(MAX_PICKLE_BYTES))
    try:
        first = read_pickle(stream)
    except Unreadable:
        if size > MAX_PICKLE_BYTES:
            raise too_large from None
        raise
    if first.value == LEGACY_MAGIC:
        version = read_pickle(stream).value
        sys_info = read_pickle(stream).value
        report, pk = inspect_pickle_bytes(stream, storage_loader(), opts.all)
        little = sys_info.get("little_endian") if isinstance(sys_info, dict) else None
        report["serialization"] = {
            "legacy_protocol_version": version if _size(version) else label(version),
            "byteorder": "little"
            if little
            else "big"
            if little is False
            else "unknown",
            "pickle_protocol": report.pop("pickle_protocol"),
        }
        report["format"], report["format_name"] = (
            "torch-legacy",
            "torch.save legacy format (before PyTorch 1.6, or "
            "_use_new_zipfile_serialization=False)",
        )
        report["findings"].append(
            finding(
                "legacy",
                "the legacy format: torch.load still reads it; mmap=True does not",
                "legacy",
            )
        )
        return report
    if size > MAX_PICKLE_BYTES:
        raise too_large
    report = summarise_pickle(first, opts.all)
    report["format"], report["format_name"] = (
        "pickle",
        "plain pickle (pickle.dump, not torch.save)",
    )
    report["serialization"] = {"pickle_protocol": report.pop("pickle_protocol")}
    report["findings"].append(
        finding(
            "pickle",
            "a plain pickle, not a torch.save file: torch.load fails on it "
            "('Invalid magic number'), and with weights_only=False it runs the "
            "pickle before it fails; pickle.load runs any code it holds",
            "safety",
        )
    )
    return report


# -- safetensors: 8 bytes of header length, a JSON header, the data
def safetensors_header(path):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise Unreadable(
                "shorter than a safetensors header: the file is cut off",
                "safetensors_header",
            )
        (n,) = struct.unpack("<Q", head)
        if n > MAX_JSON_HEADER or n + 8 > size:
            raise Unreadable(
                f"the safetensors header declares {n:,} bytes, the file has {size:,}: "
                "cut off, or not a safetensors file",
                "safetensors_header",
            )
        try:
            header = json.loads(f.read(n))
        except (ValueError, RecursionError):
            raise Unreadable(
                "the safetensors header is not valid JSON: the file is damaged",
                "safetensors_header",
            ) from None
    if not isinstance(header, dict):
        raise Unreadable(
            "the safetensors header is not a JSON object", "safetensors_header"
        )
    return header, n, size


def inspect_safetensors(path, opts):
    header, n, size = safetensors_header(path)
    metadata = header.pop("__metadata__", None) or {}
    named, end = [], 0
    for name, meta in header.items():
        if not isinstance(meta, dict):
            raise Unreadable(
                f"the safetensors header entry {name!r} is damaged",
                "safetensors_header",
            )
        offsets = meta.get("data_offsets") or [0, 0]
        end = max(
            end, offsets[1] if len(offsets) == 2 and isinstance(offsets[1], int) else 0
        )
        named.append(
            {
                "name": name,
                "dtype": SAFETENSORS_DTYPES.get(
                    meta.get("dtype"), str(meta.get("dtype"))
                ),
                "shape": _safetensors_shape(name, meta.get("shape")),
            }
        )
    if 8 + n + end > size:
        raise Unreadable(
            f"the header promises {8 + n + end:,} bytes, the file has {size:,}: the "
            "file is cut off",
            "truncated",
        )
    dicts = [("(top level)", [t["name"] for t in named])]
    report = {
        "structure": {"__metadata__": json.dumps(metadata)[:200]} if metadata else {},
        "tensors": _plain_tensor_summary(named, opts.all),
        "globals": [],
        "serialization": {
            "byteorder": "little (safetensors is always little-endian)",
            "header_bytes": n,
        },
        "findings": prefix_findings(dicts),
        "format": "safetensors",
        "format_name": "safetensors",
    }
    report["structure"]["(tensors)"] = f"{len(named)} tensors"
    report["_named"] = {
        "(top level)": {t["name"]: (t["dtype"], t["shape"]) for t in named}
    }
    return report


def _safetensors_shape(name, shape):
    ok = isinstance(shape, list) and len(shape) <= MAX_DIMS
    if not ok or any(_size(n) != n for n in shape):
        raise Unreadable(
            f"the safetensors header gives {label(name)!r} a damaged shape",
            "safetensors_header",
        )
    return shape


# -- what is not a checkpoint at all
def inspect_lfs_pointer(path, opts):
    text = read_head(path, 1024).decode("utf-8", "replace")
    size = re.search(r"^size (\d+)", text, re.M)
    raise Unreadable(
        "a Git LFS pointer, not the file: "
        f"{os.path.getsize(path)} bytes of text that stand for "
        f"{int(size[1]) if size else '?':,} bytes. "
        "Fetch the real file with `git lfs pull` (or download it from the host's "
        "resolve/raw link)",
        "html",
    )


def inspect_html(path, opts):
    raise Unreadable(
        "an HTML page saved under a model's name (a login or error page, or the page "
        "around a download link): download the file itself",
        "html",
    )


def inspect_empty(path, opts):
    raise Unreadable(
        "the file is empty (0 bytes): the save or the download did not write it",
        "truncated",
    )


def inspect_hdf5(path, opts):
    name = os.path.basename(path)
    kind = "keras-weights-h5" if name.endswith(".weights.h5") else "keras-h5"
    head = read_head(path, 1 << 20)
    full = b"model_config" in head
    return {
        "format": kind,
        "format_name": "Keras weights (.weights.h5, HDF5)"
        if kind == "keras-weights-h5"
        else "HDF5 file (Keras .h5" + (", a whole model" if full else "") + ")",
        "structure": {"(hdf5)": "groups and datasets are not read without h5py"},
        "tensors": None,
        "globals": [],
        "findings": [
            finding(
                "keras",
                "an HDF5 file: keras (model.load_weights or keras.saving.load_model) "
                "or h5py read it",
                "keras",
            )
        ],
    }


def inspect_unknown(path, opts):
    raise Unreadable(
        "not a format this tool knows: not a zip, a pickle, safetensors, HDF5 or "
        "NumPy file",
        "magic",
    )


def looks_like_safetensors(head, path):
    """8 bytes of header length, then the JSON header's "{" (or the name says so)."""
    return head[8:9] == b"{" or str(path).endswith(".safetensors")


# Single files, told apart by their first bytes (first match wins).
FILE_FORMATS = [
    (lambda h, p: len(h) == 0, inspect_empty),
    (
        lambda h, p: h.startswith(b"version https://git-lfs.github.com/spec/"),
        inspect_lfs_pointer,
    ),
    (
        lambda h, p: (
            h.lstrip()[:15]
            .lower()
            .startswith((b"<!doctype html", b"<html", b"<head", b"<?xml"))
        ),
        inspect_html,
    ),
    (
        lambda h, p: h.startswith(b"PK\x03\x04") or h.startswith(b"PK\x05\x06"),
        inspect_zip,
    ),
    (lambda h, p: h.startswith(b"\x89HDF\r\n\x1a\n"), inspect_hdf5),
    (lambda h, p: h.startswith(b"\x93NUMPY"), inspect_npy),
    (looks_like_safetensors, inspect_safetensors),
    (
        lambda h, p: h[:1] == b"\x80" and 1 <= h[1:2][0] <= 5 if len(h) > 1 else False,
        inspect_legacy_or_pickle,
    ),
    (  # protocol 0 and 1 pickles: a MARK, a dict, a list, or a GLOBAL "c"
        lambda h, p: h[:1] in (b"(", b"}", b"]") or re.match(rb"c[\w.]+\n\w", h),
        inspect_legacy_or_pickle,
    ),
]


def inspect_file(path, opts):
    head = read_head(path, 4096)
    for matches, inspect in FILE_FORMATS:
        if matches(head, path):
            report = inspect(path, opts)
            break
    else:
        inspect_unknown(path, opts)
    report["size_bytes"] = os.path.getsize(path)
    return report


# ---------------------------------------------------------------- folders
def _has(path, *names):
    return all(os.path.exists(os.path.join(path, n)) for n in names)


def _any(path, pattern):
    return any(re.fullmatch(pattern, n) for n in os.listdir(path))


def _json_file(path):
    try:
        with open(path, "rb") as f:
            value = json.loads(
                _limited_bytes(f, MAX_JSON_HEADER, os.path.basename(path))
            )
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


FOLDER_FORMATS = [  # (format, name, test, page), first match wins
    (
        "deepspeed",
        "DeepSpeed checkpoint folder",
        lambda p: (
            _has(p, "latest")
            or _any(p, r"global_step\d+")
            or _any(p, r".*mp_rank_\d+_model_states\.pt")
        ),
        "deepspeed",
    ),
    (
        "hf-trainer",
        "Transformers Trainer checkpoint (checkpoint-N/)",
        lambda p: _has(p, "trainer_state.json"),
        "trainer",
    ),
    (
        "peft",
        "PEFT adapter folder",
        lambda p: _has(p, "adapter_config.json"),
        "peft",
    ),
    (
        "transformers",
        "Transformers model folder (save_pretrained)",
        lambda p: (
            _has(p, "config.json")
            and _any(p, r"(model|pytorch_model).*\.(safetensors|bin)(\.index\.json)?")
        ),
        "hugging_face",
    ),
    (
        "accelerate",
        "Accelerate state folder (save_state)",
        lambda p: _any(p, r"random_states_\d+\.pkl"),
        "accelerate",
    ),
    (
        "dcp",
        "torch.distributed.checkpoint folder (DCP)",
        lambda p: _has(p, ".metadata"),
        "dcp",
    ),
    (
        "safetensors-sharded",
        "safetensors shards with their index",
        lambda p: _any(p, r".*\.safetensors\.index\.json"),
        "shards",
    ),
]


def inspect_folder(path, opts):
    known = next((f for f in FOLDER_FORMATS if f[2](path)), None)
    if known is None:
        raise Unreadable(
            "a folder, but not a checkpoint folder that this tool knows (no "
            "config.json, .metadata, index, adapter_config.json, trainer_state.json, "
            "latest, random_states_0.pkl)"
        )
    fmt, name, _, page_name = known
    report = {
        "format": fmt,
        "format_name": name,
        "structure": {},
        "tensors": None,
        "globals": [],
        "findings": [],
        "files": [],
    }
    if fmt == "dcp":
        report.update(inspect_dcp(path, opts))
    for index in sorted(n for n in os.listdir(path) if n.endswith(".index.json")):
        report["findings"] += check_index(path, index)
    for fname in ("config.json", "adapter_config.json"):
        config = _json_file(os.path.join(path, fname)) if _has(path, fname) else {}
        for key in (
            "architectures",
            "model_type",
            "peft_type",
            "base_model_name_or_path",
            "target_modules",
            "r",
        ):
            if key in config:
                report["structure"][f"{fname}: {key}"] = json.dumps(config[key])[:120]
    if fmt == "deepspeed":
        tag = _read_text(os.path.join(path, "latest")) if _has(path, "latest") else None
        report["structure"]["latest"] = repr(tag)
    for name in sorted(os.listdir(path))[:200]:
        full = os.path.join(path, name)
        if (
            os.path.isfile(full)
            and not name.endswith((".json", ".txt", ".md", ".py"))
            and name not in ("latest",)
            and not name.startswith(".")
        ):
            report["files"].append(inspect_member(full, opts))
        elif os.path.isdir(full) and fmt == "deepspeed":
            for sub in sorted(os.listdir(full))[:50]:
                if sub.endswith(".pt"):
                    report["files"].append(
                        inspect_member(os.path.join(full, sub), opts, name + "/" + sub)
                    )
    weights = {}  # the model's weights, from the files that hold them, for --model
    for f in report["files"]:
        named = f.pop("_named", None) or {}
        if re.match(r"(model|pytorch_model|adapter_model)\b", f["file"]):
            for keys in named.values():
                weights.update(keys)
    if weights:
        report["_named"] = {"(top level)": weights}
    tensors = [f["tensors"] for f in report["files"] if f.get("tensors")]
    if tensors and report["tensors"] is None:
        report["tensors"] = {
            "count": sum(t["count"] for t in tensors),
            "bytes": sum(t["bytes"] for t in tensors),
            "dtypes": dict(sum((Counter(t["dtypes"]) for t in tensors), Counter())),
            "devices": dict(sum((Counter(t["devices"]) for t in tensors), Counter())),
            "parameters": sum(t["parameters"] for t in tensors),
            "shared_storages": [],
            "oversized_storages": [],
            "list": [item for t in tensors for item in t["list"]][
                : None if opts.all else MAX_LIST
            ],
        }
    report["findings"].append(finding(fmt, FOLDER_HINTS[fmt], page_name))
    report["size_bytes"] = sum(
        os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs
    )
    return report


FOLDER_HINTS = {
    "deepspeed": (
        "a DeepSpeed folder: "
        "deepspeed.utils.zero_to_fp32.get_fp32_state_dict_from_zero_checkpoint("
        "folder) rebuilds one state_dict"
    ),
    "hf-trainer": (
        "a Trainer checkpoint: trainer.train(resume_from_checkpoint=folder) resumes; "
        "from_pretrained(folder) loads the model"
    ),
    "peft": (
        "a PEFT adapter: PeftModel.from_pretrained(base_model, folder) loads it onto "
        "its base model"
    ),
    "transformers": (
        "a Transformers model: AutoModel...from_pretrained(folder) builds it from "
        "config.json"
    ),
    "accelerate": (
        "an Accelerate state: accelerator.load_state(folder) after prepare() "
        "restores it"
    ),
    "dcp": (
        "a DCP folder: torch.distributed.checkpoint.load(state_dict, "
        "checkpoint_id=folder) fills a state_dict in place"
    ),
    "safetensors-sharded": (
        "safetensors shards: load each shard with safetensors.torch.load_file, or "
        "from_pretrained"
    ),
}


def _read_text(path):
    with open(path, "rb") as f:
        return f.read(256).decode("utf-8", "replace").strip()


def inspect_member(full, opts, label=None):
    label = label or os.path.basename(full)
    try:
        sub = inspect_file(full, opts)
        return {
            "file": label,
            "format": sub["format"],
            "format_name": sub["format_name"],
            "size_bytes": sub["size_bytes"],
            "tensors": sub.get("tensors"),
            "structure": sub.get("structure"),
            "findings": sub.get("findings", []),
            "_named": sub.get("_named"),
        }
    except Unreadable as e:
        return {"file": label, "format": "unreadable", "error": str(e), "tensors": None}


def check_index(path, index):
    """The index's weight_map names shards: are they all there?"""
    data = _json_file(os.path.join(path, index))
    shards = sorted(set((data.get("weight_map") or {}).values()))
    missing = [s for s in shards if not os.path.exists(os.path.join(path, str(s)))]
    if missing:
        return [
            finding(
                "missing_shard",
                f"{index} names {len(shards)} shard(s); missing: {', '.join(missing)}",
                "shards",
            )
        ]
    return []


def inspect_dcp(path, opts):
    """The .metadata pickle of a DCP folder: each key's dtype and global shape."""
    with open(os.path.join(path, ".metadata"), "rb") as f:
        pk = read_pickle(_limited_bytes(f, MAX_PICKLE_BYTES, ".metadata"))
    meta = pk.value
    sd = (
        meta.state.get("state_dict_metadata")
        if isinstance(meta, Call) and isinstance(meta.state, dict)
        else None
    )
    named = []
    for key, entry in (sd or {}).items():
        if isinstance(entry, Call) and isinstance(entry.state, dict):
            props = entry.state.get("properties")
            state = props.state if isinstance(props, Call) else None
            # TensorProperties.__getstate__ gives
            # (dtype, layout, requires_grad, memory_format, pin_memory)
            dtype = (
                state.get("dtype")
                if isinstance(state, dict)
                else state[0]
                if isinstance(state, tuple) and state
                else None
            )
            size = entry.state.get("size")
            named.append(
                {
                    "name": label(key),
                    "dtype": dtype.name.removeprefix("torch.")
                    if isinstance(dtype, Global)
                    else "unknown",
                    "shape": list(_dims(size)),
                }
            )
        else:
            named.append({"name": label(key), "dtype": "(not a tensor)", "shape": []})
    tensors = [t for t in named if t["dtype"] != "(not a tensor)"]
    return {
        "structure": {".metadata": f"{len(named)} keys"}
        | {n["name"]: f"{n['dtype']} {n['shape']}" for n in named[:10]},
        "tensors": _plain_tensor_summary(tensors, opts.all) if tensors else None,
        "globals": [
            {
                "name": n,
                "weights_only": "not used: DCP reads .metadata with pickle.load",
            }
            for n in sorted(pk.globals)
        ],
        "findings": prefix_findings([("(top level)", [t["name"] for t in tensors])])
        + [
            finding(
                "dcp_pickle",
                "DCP reads .metadata with pickle.load, which runs any code it holds: "
                "load DCP folders only from sources you trust",
                "safety",
            )
        ],
    }


# ---------------------------------------------------------------- --model
class ModelUnavailable(Exception):
    """--model names a class that cannot be imported or built."""


def compare_with_model(report, spec):
    """Build MODULE:CLASS on the meta device; compare its state_dict with the file's."""
    import importlib

    try:
        import torch
    except ImportError:
        raise ModelUnavailable("needs torch, which is not installed here") from None

    module_name, _, class_name = spec.partition(":")
    sys.path.insert(0, os.getcwd())
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
        with torch.device("meta"):
            model = cls()
    except Exception as e:  # your module's own error: say it, not a traceback
        raise ModelUnavailable(f"{type(e).__name__}: {e}") from None
    expected = {
        k: (str(v.dtype).removeprefix("torch."), list(v.shape))
        for k, v in model.state_dict().items()
    }
    where, saved = _file_state_dict(report)
    strip = ""
    for prefix, _, _ in PREFIXES:
        if (
            saved
            and all(k.startswith(prefix) for k in saved)
            and not any(k.startswith(prefix) for k in expected)
        ):
            strip = prefix
    renamed = {k.removeprefix(strip): v for k, v in saved.items()}
    missing = sorted(set(expected) - set(renamed))
    unexpected = sorted(set(renamed) - set(expected))
    shapes = [
        {"key": k, "file": renamed[k][1], "model": expected[k][1]}
        for k in sorted(set(expected) & set(renamed))
        if renamed[k][1] != expected[k][1]
    ]
    dtypes = [
        {"key": k, "file": renamed[k][0], "model": expected[k][0]}
        for k in sorted(set(expected) & set(renamed))
        if renamed[k][0] != expected[k][0]
    ]
    findings = []
    if strip and not any(f.get("prefix") == strip for f in report["findings"]):
        findings.append(
            finding(
                "prefix",
                f"strip '{strip}' from every key",
                dict((p, n) for p, n, _ in PREFIXES)[strip],
            )
        )
    if where not in ("(top level)", None):
        findings.append(
            finding(
                "nested",
                f"the weights are under {where!r}, not at the top level",
                "checkpoint_keys",
            )
        )
    if missing or unexpected:
        findings.append(
            finding(
                "keys",
                f"{len(missing)} missing and {len(unexpected)} unexpected key(s)",
                "module_prefix",
            )
        )
    if shapes:
        findings.append(
            finding(
                "size_mismatch",
                f"{len(shapes)} shape(s) differ: {shapes[0]['key']} is "
                f"{shapes[0]['file']} in the file, {shapes[0]['model']} in the model",
                "size_mismatch",
            )
        )
    return {
        "model": spec,
        "state_dict_in_file": where,
        "strip_prefix": strip or None,
        "missing": missing,
        "unexpected": unexpected,
        "shape_mismatches": shapes,
        "dtype_mismatches": dtypes,
        "load_code": load_code(
            report, spec, where, strip, bool(shapes or missing or unexpected)
        ),
        "findings": findings,
    }


def _file_state_dict(report):
    """(where, {key: (dtype, shape)}) of the file's largest state_dict."""
    lists = report.get("_named") or {}
    if not lists:
        return None, {}
    where = max(lists, key=lambda w: len(lists[w]))
    return where, lists[where]


# How each format gives its state_dict: the import and the lines that read it
# (PATH is the file's path, as a Python string).
TORCH_LOAD = "checkpoint = torch.load(PATH{device}, weights_only=True)"
STATE_DICT_READERS = {
    "torch-zip": ("import torch", TORCH_LOAD),
    "torch-legacy": ("import torch", TORCH_LOAD),
    "lightning": ("import torch", TORCH_LOAD),
    "torchscript": (
        "import torch",
        'checkpoint = torch.jit.load(PATH, map_location="cpu").state_dict()',
    ),
    "torch-export": ("import torch", "checkpoint = torch.export.load(PATH).state_dict"),
    "safetensors": (
        "from safetensors.torch import load_file",
        "checkpoint = load_file(PATH)",
    ),
}


def load_code(report, spec, where, strip, partial):
    """The lines that load this file into MODULE:CLASS, as text to copy."""
    module_name, _, class_name = spec.partition(":")
    fmt = report["format"]
    if fmt not in STATE_DICT_READERS:
        return f"# {FOLDER_HINTS.get(fmt, 'no torch state_dict in this file')}"
    devices = (report.get("tensors") or {}).get("devices", {})
    device = (
        ', map_location="cpu"' if any(d.startswith("cuda") for d in devices) else ""
    )
    imports, read = STATE_DICT_READERS[fmt]
    keys = (report.get("_keys") or {}).get(where, ())
    lines = [
        imports,
        f"from {module_name} import {class_name}",
        "",
        f"model = {class_name}()",
        read.replace("PATH", _python_literal(report["path"])).format(device=device),
        "state_dict = checkpoint" + "".join(f"[{_python_literal(k)}]" for k in keys),
    ]
    if strip:
        lines.append(
            f"state_dict = {{k.removeprefix({_python_literal(strip)}): v "
            "for k, v in state_dict.items()}"
        )
    if partial:
        lines.append(
            "# keys or shapes differ: strict=False loads the rest; check what it "
            "reports"
        )
        lines.append("print(model.load_state_dict(state_dict, strict=False))")
    else:
        lines.append("model.load_state_dict(state_dict)")
    return "\n".join(lines)


def _python_literal(value):
    """A key or a path as Python source, quotes and backslashes escaped."""
    return json.dumps(value) if isinstance(value, str) else label(value)


# ---------------------------------------------------------------- the whole report
# What the standard library's readers raise on damaged bytes.
DAMAGE = (
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    struct.error,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    zipfile.BadZipFile,
    RecursionError,
)


def inspect(path, list_all=False, check_crc=False):
    """The report for a file or a folder (the JSON output). Raises Unreadable."""
    opts = argparse.Namespace(all=list_all, check_crc=check_crc)
    try:
        if os.path.isdir(path):
            report = inspect_folder(path, opts)
        elif os.path.isfile(path):
            report = inspect_file(path, opts)
        else:
            raise Unreadable(f"no such file or folder: {path}")
    except DAMAGE as e:  # a damaged file that a reader above did not foresee
        raise Unreadable(f"the file is damaged: {type(e).__name__}: {e}") from None
    report = {"schema": SCHEMA, "path": path, "ok": True, **report}
    report.setdefault("serialization", None)
    report.setdefault("optimizers", [])
    return report


def error_report(path, error):
    return {
        "schema": SCHEMA,
        "path": path,
        "ok": False,
        "format": "unreadable",
        "error": str(error),
        "page": page(error.page) if error.page else None,
    }


def human(n):
    if n >= 1000**5:  # a size no file has: a damaged header
        return "over 1,000 TB"
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def render(report):
    """The text output: one line per fact, findings last with their pages."""
    if not report["ok"]:
        lines = [
            f"{report['path']}: cannot be read as a checkpoint",
            f"  {report['error']}",
        ]
        if report.get("page"):
            lines.append(f"  see {report['page']}")
        return "\n".join(lines)
    lines = [
        f"{report['path']}: {report['format_name']}, {human(report['size_bytes'])}"
    ]
    ser = report.get("serialization") or {}
    if ser:
        lines.append(
            "serialization: "
            + ", ".join(f"{k} {v}" for k, v in ser.items() if v is not None)
        )
    if report.get("structure"):
        lines.append("top level:")
        lines += [f"  {k}: {v}" for k, v in report["structure"].items()]
    t = report.get("tensors")
    if t:
        lines.append(
            f"tensors: {t['count']:,}, {human(t['bytes'])}, {t['parameters']:,} "
            "elements"
        )
        lines.append(
            "  dtypes: " + ", ".join(f"{k} ({v})" for k, v in t["dtypes"].items())
        )
        if t["devices"]:
            lines.append(
                "  saved from: "
                + ", ".join(f"{k} ({v})" for k, v in t["devices"].items())
            )
        shown = t["list"]
        for item in shown:
            dev = f" {item['device']}" if item.get("device") else ""
            lines.append(f"  {item['name']}: {item['dtype']} {item['shape']}{dev}")
        if t["count"] > len(shown):
            lines.append(f"  ... {t['count'] - len(shown):,} more (--all lists them)")
    for o in report.get("optimizers") or []:
        shown = [
            k
            for k in ("lr", "momentum", "betas", "weight_decay")
            if k in o["hyperparameters"]
        ]
        hyper = ", ".join(f"{k}={o['hyperparameters'][k]}" for k in shown)
        lines.append(
            f"optimizer at {o['path']}: {o['kind']}, state for "
            f"{o['parameters_with_state']} parameters "
            f"({', '.join(o['state_keys']) or 'none'}), {o['param_groups']} group(s): "
            f"{hyper}"
        )
    for f in report.get("files") or []:
        if f.get("error"):
            lines.append(f"file {f['file']}: unreadable: {f['error']}")
        else:
            ft = f.get("tensors")
            lines.append(
                f"file {f['file']}: {f['format_name']}, {human(f['size_bytes'])}"
                + (f", {ft['count']} tensors" if ft else "")
            )
    if report.get("globals"):
        lines.append("globals the file needs:")
        notes = {"allowed": "", "refused": "  (weights_only=True refuses it)"}
        lines += [
            f"  {g['name']}" + notes.get(g["weights_only"], "")
            for g in report["globals"]
        ]
    if report.get("comparison"):
        c = report["comparison"]
        lines.append(f"compared with {c['model']}:")
        lines.append(f"  missing keys: {', '.join(c['missing']) or 'none'}")
        lines.append(f"  unexpected keys: {', '.join(c['unexpected']) or 'none'}")
        for m in c["shape_mismatches"]:
            lines.append(
                f"  shape of {m['key']}: {m['file']} in the file, {m['model']} in the "
                "model"
            )
        for m in c["dtype_mismatches"]:
            lines.append(
                f"  dtype of {m['key']}: {m['file']} in the file, {m['model']} in the "
                "model"
            )
        lines.append("  load it with:")
        lines += ["    " + line if line else "" for line in c["load_code"].splitlines()]
    all_findings = report.get("findings", []) + (
        (report.get("comparison") or {}).get("findings") or []
    )
    if all_findings:
        lines.append("findings:")
        for f in all_findings:
            lines.append(f"  - {f['message']}")
            if f.get("page"):
                lines.append(f"    see {f['page']}")
    return "\n".join(lines)


def command_report(path, model, list_all, check_crc):
    """The report the command prints: the file's, compared with `model` if given,
    or the reason it cannot be read."""
    try:
        report = inspect(path, list_all, check_crc)
        if model:
            report["comparison"] = compare_with_model(report, model)
    except Unreadable as e:
        return error_report(path, e)
    except RecursionError:
        return error_report(path, Unreadable("the file nests too deeply to read"))
    for internal in ("_named", "_keys", "_tensors"):
        report.pop(internal, None)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Tell what a model file or folder holds, without running it."
    )
    parser.add_argument("path", help="a checkpoint file or folder")
    parser.add_argument(
        "--model",
        metavar="MODULE:CLASS",
        help="compare with this model (needs torch; imports MODULE, your code)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--all", action="store_true", help="list every tensor, not the first 20"
    )
    parser.add_argument(
        "--check-crc",
        action="store_true",
        help="read every zip record and check its CRC-32",
    )
    args = parser.parse_args(argv)
    if not os.path.exists(args.path):
        print(f"{args.path}: no such file or folder", file=sys.stderr)
        return 2
    try:
        report = command_report(args.path, args.model, args.all, args.check_crc)
    except ModelUnavailable as e:
        print(f"--model {args.model}: {e}", file=sys.stderr)
        return 2
    text = json.dumps(report, indent=1, default=str) if args.json else render(report)
    try:
        print(text)
    except BrokenPipeError:  # `... | head`: the reader has seen enough
        sys.stderr.close()
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
