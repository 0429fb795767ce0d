#!/usr/bin/env python3
"""Write benign and malicious model files for modelseal's content scanner.

Usage: make_samples.py OUTDIR

Every pickle is written by Python's own `pickle` module (the real producer)
or, for opcode sequences `pickle.dumps` never emits (memoized STACK_GLOBAL
names, EXT codes, getattr chains, BUILD on a global), assembled opcode by
opcode. torch and numpy are not needed: their globals are provided by stub
modules registered in `sys.modules`, which is all `pickle` looks at. Nothing
here is ever unpickled.

OUTDIR/expected.json lists each sample with the verdict a scanner should
give ("clean" or "unsafe") and, for unsafe ones, a substring of the global
or subject that must be reported. The Rust tests and bench/scan.py read it.
"""

import io
import json
import os
import pickle
import struct
import sys
import tarfile
import types
import zipfile
import gzip


# --- stub modules: what torch.save / numpy pickles refer to -----------------

def module(name):
    m = sys.modules.get(name)
    if m is None:
        m = types.ModuleType(name)
        sys.modules[name] = m
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(module(parent), child, m)
    return m


def define(qualified, obj):
    mod, _, name = qualified.rpartition(".")
    obj.__module__ = mod
    obj.__qualname__ = name
    obj.__name__ = name
    setattr(module(mod), name, obj)
    return obj


def stub_function(qualified):
    def f(*args):
        raise RuntimeError("stub")
    return define(qualified, f)


def stub_class(qualified, base=object):
    return define(qualified, type(qualified.rpartition(".")[2], (base,), {}))


rebuild_tensor_v2 = stub_function("torch._utils._rebuild_tensor_v2")
rebuild_parameter = stub_function("torch._utils._rebuild_parameter")
FloatStorage = stub_class("torch.FloatStorage")
HalfStorage = stub_class("torch.HalfStorage")
np_reconstruct = stub_function("numpy.core.multiarray._reconstruct")
ndarray = stub_class("numpy.ndarray")
np_dtype = stub_class("numpy.dtype")
Gadget = stub_class("evilpkg.payload.Gadget")
from collections import OrderedDict  # noqa: E402


class Storage:
    """A tensor storage: pickled as a persistent id, its bytes in data/KEY."""

    def __init__(self, key, storage_type, numel, data):
        self.key, self.type, self.numel, self.data = key, storage_type, numel, data


class Tensor:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, shape

    def __reduce__(self):
        stride = tuple(int(s) for s in strides(self.shape))
        return (rebuild_tensor_v2, (self.storage, 0, self.shape, stride, False, OrderedDict()))


def strides(shape):
    out, acc = [], 1
    for d in reversed(shape):
        out.append(acc)
        acc *= d
    return list(reversed(out))


class DType:
    def __reduce__(self):
        return (np_dtype, ("f4", False, True), (3, "<", None, None, None, -1, -1, 0))


class Array:
    def __init__(self, data, shape):
        self.data, self.shape = data, shape

    def __reduce__(self):
        return (
            np_reconstruct,
            (ndarray, (0,), b"b"),
            (1, self.shape, DType(), False, self.data),
        )


class Reduce:
    """An object that pickles as `callable(*args)`."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


class TorchPickler(pickle.Pickler):
    """torch.save's pickler: storages become persistent ids."""

    def __init__(self, f, legacy=False):
        super().__init__(f, protocol=2)
        self.storages = []
        self.legacy = legacy

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            self.storages.append(obj)
            if self.legacy:
                return ("storage", obj.type, obj.key, "cpu", obj.numel, None)
            return ("storage", obj.type, obj.key, "cpu", obj.numel)
        return None


def torch_pickle(obj, legacy=False):
    buf = io.BytesIO()
    p = TorchPickler(buf, legacy)
    p.dump(obj)
    return buf.getvalue(), p.storages


def state_dict():
    # The storage's first bytes look like a pickle (PROTO 2): tensor data
    # can, and a scanner must not mistake a storage for a pickle.
    w = Storage("0", FloatStorage, 4, b"\x80\x02\x00\x00" + struct.pack("<3f", 1, 2, 3))
    b = Storage("1", FloatStorage, 2, struct.pack("<2f", 0.5, -0.5))
    return OrderedDict(
        [
            ("layer.weight", Tensor(w, (2, 2))),
            ("layer.bias", Tensor(b, (2,))),
            ("step", 1000),
            ("meta", {"lr": 1e-3, "name": "x", "tags": ["a", "b"], "shape": (2, 2)}),
        ]
    )


def torch_zip(obj, prefix="archive"):
    data, storages = torch_pickle(obj)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", data)
        z.writestr(f"{prefix}/.format_version", "1")
        z.writestr(f"{prefix}/byteorder", "little")
        for s in storages:
            z.writestr(f"{prefix}/data/{s.key}", s.data)
        z.writestr(f"{prefix}/version", "3\n")
    return buf.getvalue()


def torch_zip_streamed(obj, prefix="archive"):
    """As torch.save writes to a non-seekable stream: stored members with
    data descriptors (sizes after the data)."""
    data, storages = torch_pickle(obj)

    class Unseekable(io.RawIOBase):
        def __init__(self):
            self.buf = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.buf += b
            return len(b)

    out = Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for name, payload in [(f"{prefix}/data.pkl", data)] + [
            (f"{prefix}/data/{s.key}", s.data) for s in storages
        ]:
            with z.open(name, "w") as f:
                f.write(payload)
    return bytes(out.buf)


def legacy_torch(obj):
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    proto = pickle.dumps(1001, protocol=2)
    info = pickle.dumps(
        {"protocol_version": 1001, "little_endian": True,
         "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    main, storages = torch_pickle(obj, legacy=True)
    keys = pickle.dumps([s.key for s in storages], protocol=2)
    raw = b"".join(struct.pack("<q", s.numel) + s.data for s in storages)
    return magic + proto + info + main + keys + raw


def npy(header_descr, shape, payload):
    header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (header_descr, shape)
    total = 10 + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def zip_of(members, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def tar_of(members, mode="w"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def safetensors(header, data):
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def gguf_string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gguf(tensors, kvs=None, version=3, counts=None, data=None):
    kvs = kvs if kvs is not None else [
        (gguf_string("general.architecture") + struct.pack("<I", 8) + gguf_string("llama")),
        (gguf_string("general.alignment") + struct.pack("<I", 4) + struct.pack("<I", 32)),
        (gguf_string("tokenizer.ggml.tokens") + struct.pack("<I", 9) + struct.pack("<IQ", 8, 3)
         + gguf_string("<s>") + gguf_string("a") + gguf_string("b")),
    ]
    n_t, n_kv = counts if counts else (len(tensors), len(kvs))
    out = b"GGUF" + struct.pack("<IQQ", version, n_t, n_kv) + b"".join(kvs)
    size = 0
    for name, dims, ggml_type, offset, nbytes in tensors:
        out += gguf_string(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ggml_type, offset)
        size = max(size, offset + nbytes)
    out += b"\x00" * ((32 - len(out) % 32) % 32)
    return out + (data if data is not None else b"\x01" * size)


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, payload):
    if isinstance(payload, int):
        return varint(num << 3) + varint(payload)
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def onnx(external=None):
    tensor = field(1, 2) + field(2, 1) + field(8, b"w")
    if external is None:
        tensor += field(9, struct.pack("<2f", 1, 2))
    else:
        tensor += field(13, field(1, b"location") + field(2, external.encode())) + field(14, 1)
    node = field(1, b"w") + field(2, b"y") + field(4, b"Identity")
    graph = field(1, node) + field(2, b"g") + field(5, tensor)
    return field(1, 8) + field(2, b"modelseal-test") + field(7, graph) + field(8, field(2, 13))


def raw_zip(locals_, central):
    """A stored zip from explicit parts: `locals_` is [(name, data)],
    `central` is [(name, offset, size)] (offsets of local headers)."""
    out, offsets = b"", {}
    for name, data in locals_:
        offsets[name] = len(out)
        n = name.encode()
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0,
                           zlib_crc(data), len(data), len(data), len(n), 0) + n + data
    cd_start = len(out)
    cd = b""
    for name, offset, size in central:
        n = name.encode()
        cd += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0,
                          size, size, len(n), 0, 0, 0, 0, 0, offset) + n
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central),
                      len(cd), cd_start, 0)
    return out + cd + end, offsets


def zlib_crc(data):
    import zlib
    return zlib.crc32(data)


# --- hand-assembled opcode sequences ---------------------------------------

def u(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def su(s):
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    expected = []

    def write(name, data, verdict, subject=None):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        expected.append({"file": name, "verdict": verdict, "subject": subject})

    import builtins
    import runpy
    import subprocess
    import webbrowser

    # Benign.
    sd = state_dict()
    write("benign_torch_zip.pt", torch_zip(sd), "clean")
    write("benign_torch_zip_streamed.pt", torch_zip_streamed(sd), "clean")
    write("benign_legacy_torch.bin", legacy_torch(sd), "clean")
    write("benign_state_dict_p4.pkl", pickle.dumps(OrderedDict(
        [("n", 1), ("w", Reduce(rebuild_parameter, 1, False, OrderedDict()))]), protocol=4), "clean")
    write("benign_numpy_p2.pkl", pickle.dumps({"a": Array(b"\x00" * 16, (4,))}, protocol=2), "clean")
    for p in range(0, 6):
        plain = {"ints": [1, -2, 2**70], "f": 1.5, "s": "text", "b": b"\x00\xff", "t": (1, (2,)),
                 "set": {1, 2}, "fs": frozenset([3]), "none": None, "bool": True,
                 "nested": [{"k": [1, 2]}] * 3}
        write(f"benign_plain_p{p}.pkl", pickle.dumps(plain, protocol=p), "clean")
    write("benign_model.safetensors", safetensors(
        {"__metadata__": {"format": "pt"},
         "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
         "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]}}, b"\x01" * 22), "clean")
    write("benign_model.gguf", gguf([("w1", [4, 2], 0, 0, 32), ("w2", [32], 8, 32, 34)]), "clean")
    f32 = npy("<f4", (4,), struct.pack("<4f", 1, 2, 3, 4))
    write("benign_array.npy", f32, "clean")
    write("benign_arrays.npz", zip_of([("a.npy", f32), ("b.npy", f32)]), "clean")
    write("benign_nemo.nemo", tar_of([("model_config.yaml", b"name: x\n"),
                                      ("model_weights.ckpt", torch_zip(sd))]), "clean")
    write("benign_model.onnx", onnx(), "clean")
    write("benign_model.keras", zip_of([
        ("metadata.json", b'{"keras_version": "3.0.0"}'),
        ("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "Dense", "config": {"units": 2}}]}}).encode()),
        ("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)]), "clean")
    write("benign_config.json", b'{"architectures": ["Bert"], "hidden_size": 8}\n', "clean")
    write("benign_readme.md", b"# Model\n\nIt classifies text. cat\ndog\n", "clean")
    write("benign_tokenizer.txt", b"(hello\nSTOP.\nclass\nthing\n", "clean")

    # Malicious pickles, written by pickle.dumps.
    write("mal_os_system_p0.pkl", pickle.dumps(Reduce(os.system, "id"), protocol=0), "unsafe", "system")
    write("mal_posix_system_p2.pkl", pickle.dumps(Reduce(os.system, "id"), protocol=2), "unsafe", "system")
    write("mal_subprocess_p4.pkl", pickle.dumps(Reduce(subprocess.check_output, ["id"]), protocol=4),
          "unsafe", "subprocess.check_output")
    write("mal_eval_p2.pkl", pickle.dumps(Reduce(builtins.eval, "1+1"), protocol=2), "unsafe", "builtins.eval")
    write("mal_exec_p3.pkl", pickle.dumps(Reduce(builtins.exec, "import os"), protocol=3), "unsafe", "builtins.exec")
    write("mal_import_p5.pkl", pickle.dumps(Reduce(builtins.__import__, "os"), protocol=5),
          "unsafe", "builtins.__import__")
    write("mal_runpy_p4.pkl", pickle.dumps(Reduce(runpy.run_path, "/tmp/x.py"), protocol=4), "unsafe", "runpy.run_path")
    write("mal_webbrowser_p2.pkl", pickle.dumps(Reduce(webbrowser.open, "http://x"), protocol=2),
          "unsafe", "webbrowser.open")
    write("mal_unlisted_class_p2.pkl", pickle.dumps(Gadget(), protocol=2), "unsafe", "evilpkg.payload.Gadget")
    import doctest
    write("mal_doctest_debug_p4.pkl", pickle.dumps(Reduce(doctest.debug_script, "import os"), protocol=4),
          "unsafe", "doctest.debug_script")
    evil = OrderedDict([("layer.weight", Tensor(Storage("0", FloatStorage, 1, b"\0" * 4), (1,))),
                        ("x", Reduce(os.system, "id"))])
    write("mal_torch_zip.pt", torch_zip(evil), "unsafe", "system")
    write("mal_legacy_torch.bin", legacy_torch(evil), "unsafe", "system")
    write("mal_pickle_named_readme.txt", pickle.dumps(Reduce(os.system, "id"), protocol=2), "unsafe", "system")
    write("mal_second_pickle.pkl", pickle.dumps({"ok": 1}, protocol=2)
          + pickle.dumps(Reduce(os.system, "id"), protocol=2), "unsafe", "system")

    # Hand-assembled opcode sequences.
    # STACK_GLOBAL with both names memoized, then fetched back.
    write("mal_stack_global_memo.pkl", b"\x80\x04" + su("os") + b"\x94" + su("system") + b"\x94"
          + b"00h\x00h\x01\x93" + su("id") + b"\x85R.", "unsafe", "os.system")
    # STACK_GLOBAL whose module name is computed by a call.
    write("mal_stack_global_computed.pkl", b"\x80\x04cbuiltins\nstr\n" + su("os") + b"\x85R"
          + su("system") + b"\x93" + su("id") + b"\x85R.", "unsafe", "STACK_GLOBAL")
    # getattr(__import__('os'), 'system')('id')
    write("mal_getattr_chain.pkl", b"\x80\x02cbuiltins\ngetattr\ncbuiltins\n__import__\n" + u("os")
          + b"\x85R" + u("system") + b"\x86R" + u("id") + b"\x85R.", "unsafe", "builtins.getattr")
    write("mal_inst_p0.pkl", b"(S'id'\nios\nsystem\n.", "unsafe", "os.system")
    write("mal_obj_p1.pkl", b"(cos\nsystem\nX\x02\x00\x00\x00ido.", "unsafe", "os.system")
    write("mal_ext_code.pkl", b"\x80\x02\x82\x01)R.", "unsafe", "extension code 1")
    write("mal_build_on_global.pkl", b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n}b.", "unsafe",
          "BUILD on torch._utils._rebuild_tensor_v2")
    write("mal_truncated_after_call.pkl", b"cposix\nsystem\n(S'id'\ntR\xff\xff", "unsafe", "posix.system")

    # Pickles in archives.
    bad = pickle.dumps(Reduce(os.system, "id"), protocol=2)
    write("mal_nested_zip.zip", zip_of([("inner.zip", zip_of([("x/data.pkl", bad)]))]), "unsafe", "system")
    write("mal_nemo_tar.nemo", tar_of([("model_config.yaml", b"a: 1\n"),
                                       ("model_weights.ckpt", torch_zip(evil))]), "unsafe", "system")
    write("mal_tar_gz.tar.gz", tar_of([("weights.pkl", bad)], mode="w:gz"), "unsafe", "system")
    write("mal_gzip_pickle.pkl.gz", gzip.compress(bad), "unsafe", "system")
    obj = npy("|O", (1,), pickle.dumps(Reduce(os.system, "id"), protocol=3))
    write("mal_object_array.npy", obj, "unsafe", "system")
    write("mal_object_array.npz", zip_of([("a.npy", f32), ("b.npy", obj)]), "unsafe", "system")
    write("mal_keras_lambda.keras", zip_of([
        ("metadata.json", b'{"keras_version": "3.0.0"}'),
        ("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "Lambda", "config": {"function": {"class_name": "__lambda__",
                                                             "config": {"code": "4wEAAAAA"}}}}]}}).encode())]),
        "unsafe", "Lambda")

    # A member only the central directory knows: its local header hides in
    # another member's data, where a forward reader sees only bytes.
    n = b"data.pkl"
    hidden = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, zlib_crc(bad), len(bad),
                         len(bad), len(n), 0) + n + bad
    pad = b"JUNK" + hidden
    probe, offsets = raw_zip([("pad.bin", pad)], [])
    data_at = offsets["pad.bin"] + 30 + len("pad.bin") + 4
    smuggled, _ = raw_zip([("pad.bin", pad)], [("pad.bin", 0, len(pad)), ("data.pkl", data_at, len(bad))])
    write("mal_zip_hidden_member.zip", smuggled, "unsafe", "data.pkl")
    # A zip bomb: 16 MiB of zeros (refused under the tests' 4 MiB limit).
    write("bomb_zeros.zip", zip_of([("zeros.bin", b"\0" * (16 << 20))]), "bomb", "decompressed")

    # Hostile headers of safe formats.
    write("hostile_safetensors_overlap.safetensors", safetensors(
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
         "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12), "unsafe", "b")
    write("hostile_safetensors_size.safetensors", safetensors(
        {"a": {"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 8]}}, b"\0" * 8),
        "unsafe", "a")
    write("hostile_safetensors_out_of_range.safetensors", safetensors(
        {"a": {"dtype": "U8", "shape": [64], "data_offsets": [0, 64]}}, b"\0" * 8), "unsafe", "data")
    write("hostile_safetensors_length.safetensors", struct.pack("<Q", 1 << 40) + b"{}", "unsafe",
          "header length")
    write("hostile_safetensors_json.safetensors", struct.pack("<Q", 8) + b'{"a": [1', "unsafe", "header")
    write("hostile_gguf_counts.gguf", gguf([], counts=(1 << 40, 0)), "unsafe", "counts")
    write("hostile_gguf_string.gguf", gguf([], kvs=[struct.pack("<Q", 1 << 62) + b"x"]), "unsafe",
          "metadata key")
    write("hostile_gguf_tensor_range.gguf", gguf([("w", [4], 0, 4096, 16)], data=b"\0" * 16), "unsafe",
          "tensor data")
    write("hostile_gguf_version.gguf", b"GGUF" + struct.pack("<I", 99) + b"\0" * 16, "unsafe", "version")
    write("hostile_onnx_traversal.onnx", onnx(external="../../../etc/passwd"), "unsafe", "external data")

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
