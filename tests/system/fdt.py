"""Reads a flattened device tree blob, for tests that compare ferry's tree
with QEMU's (what `dtc -I dtb` would show, without needing dtc)."""
import struct

FDT_MAGIC = 0xD00DFEED
FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END = 1, 2, 3, 4, 9


def parse(blob):
    """{node path: {property name: raw bytes}} for every node of `blob`."""
    if len(blob) < 40:
        raise ValueError(f"not a device tree blob: {len(blob)} bytes")
    magic, _total, off_struct, off_strings = struct.unpack_from(">4I", blob, 0)
    if magic != FDT_MAGIC:
        raise ValueError(f"not a device tree blob: magic {magic:#x}")

    def cstring(offset):
        return blob[offset:blob.index(b"\0", offset)].decode()

    nodes, stack, pos = {}, [], off_struct
    while True:
        (token,) = struct.unpack_from(">I", blob, pos)
        pos += 4
        if token == FDT_BEGIN_NODE:
            name = cstring(pos)
            pos = (pos + len(name) + 1 + 3) & ~3
            stack.append(name)
            nodes["/" + "/".join(stack[1:])] = {}
        elif token == FDT_END_NODE:
            stack.pop()
        elif token == FDT_PROP:
            length, name_offset = struct.unpack_from(">II", blob, pos)
            pos += 8
            nodes["/" + "/".join(stack[1:])][cstring(off_strings + name_offset)] = \
                blob[pos:pos + length]
            pos = (pos + length + 3) & ~3
        elif token == FDT_NOP:
            continue
        elif token == FDT_END:
            return nodes
        else:
            raise ValueError(f"bad device tree token {token} at offset {pos - 4}")


def read(path):
    with open(path, "rb") as f:
        return parse(f.read())


def show(props):
    """A property dict as text (strings as strings, the rest as cells)."""
    out = {}
    for name, value in sorted(props.items()):
        if value.endswith(b"\0") and value[:-1].isascii() and b"\0" not in value[:-1]:
            out[name] = value[:-1].decode()
        elif len(value) % 4 == 0:
            out[name] = "<" + " ".join(f"{c:#x}" for c in
                                       struct.unpack(f">{len(value) // 4}I", value)) + ">"
        else:
            out[name] = value.hex()
    return out
