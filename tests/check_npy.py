"""Loads the .npy files npy_export wrote with numpy and compares them, bit for bit, with expected.txt.

    check_npy.py DIR    exit 0: all equal; 1: a difference (printed); 77: no numpy here
"""
import pathlib
import sys

try:
    import numpy as np
except ImportError:
    print("numpy is not installed: skipping")
    sys.exit(77)

folder = pathlib.Path(sys.argv[1])
checked = 0
for line in (folder / "expected.txt").read_text().splitlines():
    head, values = line.split(" : ")
    name, dtype, shape = head.split()
    shape = tuple(int(d) for d in shape.split(","))
    array = np.load(folder / name, allow_pickle=False)
    bits = "uint32" if dtype == "float32" else "uint64"
    expected = np.array([int(v, 16) for v in values.split()], dtype=bits).view(dtype).reshape(shape)
    if array.dtype != np.dtype(dtype) or array.shape != shape or not array.flags.c_contiguous:
        sys.exit(f"{name}: {array.dtype} {array.shape}, expected {dtype} {shape} in C order")
    if not np.array_equal(array, expected):
        sys.exit(f"{name}: values differ:\n{array}\nexpected\n{expected}")
    checked += 1
if checked != 12:
    sys.exit(f"expected 12 arrays (3 layers' weight and bias, float32 and float64), got {checked}")
print(f"{checked} arrays load in numpy {np.__version__} with the right dtype, shape and values")
