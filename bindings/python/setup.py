"""Builds libhttpclient with cargo (through setuptools-rust) and bundles it in the package.

The crate is the repository's root (../../Cargo.toml) in a source checkout; an sdist carries
a copy of it under rust/. The library holds no Python code, so the wheel is tagged
py3-none-<platform>: one wheel serves every Python 3 of the platform.
"""

import os
import shutil

from setuptools import setup
from setuptools.command.sdist import sdist
from setuptools_rust import Binding, RustExtension, Strip
from setuptools_rust.build import build_rust

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
# What cargo needs to build the library (no tests, benches or fuzzers).
CRATE = ["Cargo.toml", "Cargo.lock", "build.rs", "cbindgen.toml", "src", "include"]


def crate_manifest():
    if os.path.exists(os.path.join(HERE, "rust", "Cargo.toml")):
        return os.path.join("rust", "Cargo.toml")  # an unpacked sdist
    return os.path.relpath(os.path.join(ROOT, "Cargo.toml"), HERE)


class SdistWithCrate(sdist):
    """Copies the crate into the sdist (as rust/), so that it builds on its own."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        src = ROOT if os.path.exists(os.path.join(ROOT, "Cargo.toml")) else os.path.join(HERE, "rust")
        for name in CRATE:
            s, d = os.path.join(src, name), os.path.join(base_dir, "rust", name)
            if os.path.isdir(s):
                shutil.copytree(s, d, dirs_exist_ok=True)
            elif os.path.exists(s):
                os.makedirs(os.path.dirname(d), exist_ok=True)
                shutil.copy2(s, d)


class BuildRustPlainName(build_rust):
    """Names the library libhttpclient.so.0 (its SONAME), not as a Python extension module
    (libhttpclient.cpython-311-x86_64-linux-gnu.so), since it is none."""

    def get_dylib_ext_path(self, ext, target_fname):
        path = super().get_dylib_ext_path(ext, target_fname)
        return os.path.join(os.path.dirname(path), "libhttpclient.so.0")


class AnyPythonWheel(bdist_wheel):
    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(
    rust_extensions=[
        RustExtension("httpclient.libhttpclient", path=crate_manifest(),
                      binding=Binding.NoBinding, py_limited_api=False, debug=False,
                      strip=Strip.Debug)
    ],
    cmdclass={"sdist": SdistWithCrate, "build_rust": BuildRustPlainName,
              "bdist_wheel": AnyPythonWheel},
)
