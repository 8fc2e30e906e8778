"""Builds the gasp Python package: the _gasp extension over libgasp.

Where libgasp comes from, first match wins:

  GASP_BUILD_DIR=DIR   an autotools build directory (libgasp.so from
                       DIR/.libs, found at run time through an rpath;
                       headers from GASP_INCLUDE_DIR, else ../include):
                       the in-tree build the test suite uses;
  pkg-config gasp      the installed library (after `make install`),
                       with an rpath to its libdir when that is not a
                       system directory (PKG_CONFIG_PATH and
                       PKG_CONFIG_SYSROOT_DIR are honoured).
"""
import os
import shlex
import subprocess

from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))


def gasp_flags():
    build = os.environ.get("GASP_BUILD_DIR")
    if build:
        build = os.path.abspath(build)
        libdir = os.path.join(build, ".libs")
        if not os.path.exists(os.path.join(libdir, "libgasp.so")):
            raise SystemExit(f"setup.py: no libgasp.so in {libdir} (build gasp first)")
        inc = os.environ.get("GASP_INCLUDE_DIR", os.path.join(here, "..", "include"))
        return dict(include_dirs=[inc],
                    library_dirs=[libdir], runtime_library_dirs=[libdir],
                    libraries=["gasp"])
    try:
        cflags = subprocess.check_output(["pkg-config", "--cflags", "gasp"], text=True)
        libs = subprocess.check_output(["pkg-config", "--libs-only-L", "gasp"], text=True)
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit("setup.py: libgasp not found: `make install` gasp (pkg-config gasp) "
                         "or set GASP_BUILD_DIR to a build directory")
    libdirs = [f[2:] for f in shlex.split(libs) if f.startswith("-L")]
    rpath = [d for d in libdirs if d not in ("/usr/lib", "/lib") and not d.startswith("/usr/lib/")]
    return dict(include_dirs=[f[2:] for f in shlex.split(cflags) if f.startswith("-I")],
                library_dirs=libdirs, runtime_library_dirs=rpath, libraries=["gasp"])


setup(
    name="gasp",
    version="0.1.0",
    description="gather-apply-scatter graph analytics (libgasp) from Python",
    packages=["gasp"],
    ext_modules=[Extension("gasp._gasp", ["gasp/_gasp.c"],
                           extra_compile_args=["-std=gnu11", "-Wall", "-Wno-missing-field-initializers"],
                           **gasp_flags())],
    python_requires=">=3.9",
)
