#!/usr/bin/env python3
"""Extract Modal's published gRPC message definitions as a protobuf FileDescriptorSet.

The loopback fake of Modal's API (tests/fixtures/modal-fake/) serves exactly the messages Modal publishes:
the compiled descriptors inside the PyPI wheel `modal` (modal_proto/api_pb2.py, task_command_router_pb2.py),
plus the well-known types they import, taken from the pure-Python `protobuf` wheel. Both wheels are pinned
and cached per machine; nothing is imported or executed from them: each *_pb2.py is parsed with `ast` and
the bytes literal handed to AddSerializedFile is taken as the serialized FileDescriptorProto.

Usage: python3 scripts/modal-proto.py [--cache-dir DIR]   → prints the path of the descriptor set.
"""
import argparse
import ast
import os
import subprocess
import sys
import tempfile
import zipfile

MODAL_WHEEL_VERSION = "1.6.4"
PROTOBUF_WHEEL_VERSION = "5.29.3"

# Dependencies first: a FileDescriptorSet is read in order by some loaders.
PROTOBUF_MODULES = [f"google/protobuf/{name}_pb2.py" for name in ("any", "empty", "struct", "timestamp", "wrappers")]
MODAL_MODULES = ["modal_proto/api_pb2.py", "modal_proto/task_command_router_pb2.py"]


def fetch_wheel(cache_dir: str, project: str, version: str) -> str:
    path = os.path.join(cache_dir, f"{project}-{version}-py3-none-any.whl")
    if os.path.exists(path):
        return path
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--platform", "any", "--python-version", "3.11", f"{project}=={version}", "-d", cache_dir],
        check=True,
    )
    if not os.path.exists(path):
        sys.exit(f"[modal-proto] pip did not produce {path}")
    return path


def serialized_file(source: str, origin: str) -> bytes:
    """The bytes literal passed to `AddSerializedFile(...)` in a generated *_pb2.py module."""
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "AddSerializedFile"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            return node.args[0].value
    sys.exit(f"[modal-proto] no AddSerializedFile(b'...') in {origin}")


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_cache = os.path.join(os.path.expanduser("~"), ".cache", "worldloop", "modal-proto")
    parser.add_argument("--cache-dir", default=os.environ.get("WORLDLOOP_MODAL_PROTO_DIR", default_cache))
    args = parser.parse_args()
    os.makedirs(args.cache_dir, exist_ok=True)

    target = os.path.join(args.cache_dir, f"modal-{MODAL_WHEEL_VERSION}-protobuf-{PROTOBUF_WHEEL_VERSION}.fds")
    if not os.path.exists(target):
        files = []
        for project, version, modules in (
            ("protobuf", PROTOBUF_WHEEL_VERSION, PROTOBUF_MODULES),
            ("modal", MODAL_WHEEL_VERSION, MODAL_MODULES),
        ):
            with zipfile.ZipFile(fetch_wheel(args.cache_dir, project, version)) as wheel:
                for module in modules:
                    files.append(serialized_file(wheel.read(module).decode("utf-8"), f"{project}:{module}"))
        # FileDescriptorSet { repeated FileDescriptorProto file = 1; }: field 1, wire type 2 → tag 0x0a.
        payload = b"".join(b"\x0a" + varint(len(f)) + f for f in files)
        fd, tmp = tempfile.mkstemp(dir=args.cache_dir, prefix=".fds-")
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    print(target)


if __name__ == "__main__":
    main()
