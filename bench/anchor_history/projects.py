"""The projects of the multi-language anchor bench: which releases, which files, which group.

Chosen for long, real histories in each language, from the registries this machine reaches (npm and
PyPI); Java comes from the Android sources that React Native modules publish on npm, C/C++ from the
headers of Node's and Python's native-extension libraries, CSS and markup from UI toolkits.
Eight or so releases each, spread over years, oldest first.
"""

from __future__ import annotations

import re

from anchor_history.registry import Project

EXTENSIONS = {
    "javascript": (".js", ".mjs", ".cjs"),
    "typescript": (".ts", ".tsx"),
    "java": (".java",),
    "c/c++": (".h", ".hpp", ".hh", ".c", ".cc", ".cpp"),
    "css/markup": (".css", ".scss", ".less", ".vue", ".html"),
}


def language_of(path: str) -> str | None:
    if path.endswith(".d.ts") or ".min." in path:
        return None
    for language, exts in EXTENSIONS.items():
        if path.endswith(exts):
            return language
    return None


def _under(*prefixes: str, exts: tuple[str, ...], moved: tuple[str, str] | None = None):
    """Files under ``prefixes`` ending in ``exts``; ``moved``: (pattern, replacement) for a folder
    that a release renamed, so that the same file keeps one path."""

    def place(path: str) -> str | None:
        if moved is not None:
            path = re.sub(moved[0], moved[1], path)
        ok = path.startswith(prefixes) and path.endswith(exts) and language_of(path) is not None
        return path if ok else None

    return place


_JS, _TS, _JAVA, _CPP = (EXTENSIONS[k] for k in ("javascript", "typescript", "java", "c/c++"))

PROJECTS = [
    Project(
        "express",
        "npm",
        "javascript",
        ("4.0.0", "4.5.0", "4.10.0", "4.13.0", "4.15.0", "4.16.0", "4.17.1", "4.18.2", "5.0.0"),
        _under("lib/", exts=_JS),
    ),
    Project(
        "commander",
        "npm",
        "javascript",
        ("2.9.0", "2.20.0", "3.0.0", "4.0.0", "5.0.0", "6.0.0", "7.0.0", "8.0.0", "9.0.0"),
        _under("index.js", "lib/", exts=_JS),
    ),
    Project(
        "axios",
        "npm",
        "javascript",
        ("0.15.0", "0.18.0", "0.19.0", "0.21.1", "0.24.0", "0.27.2", "1.0.0", "1.4.0"),
        _under("lib/", exts=_JS),
    ),
    Project(
        "rxjs",
        "npm",
        "typescript",
        ("6.0.0", "6.3.3", "6.5.2", "6.6.0", "7.0.0", "7.4.0", "7.8.0"),
        _under("src/internal/operators/", "src/internal/observable/", exts=_TS),
    ),
    Project("immer", "npm", "typescript", ("6.0.0", "7.0.0", "8.0.0", "9.0.0", "10.0.0"), _under("src/", exts=_TS)),
    Project(
        "react-native-webview",
        "npm",
        "java",
        ("5.0.1", "6.0.0", "7.0.1", "8.0.0", "9.0.0", "10.0.0", "11.0.0", "11.26.0"),
        _under("android/src/main/", exts=_JAVA),
    ),
    Project(
        "react-native-device-info",
        "npm",
        "java",
        ("2.0.0", "3.0.0", "5.0.1", "6.0.0", "7.0.0", "8.0.0", "9.0.0", "10.0.0"),
        _under("android/src/main/", exts=_JAVA),
    ),
    Project(
        "@react-native-async-storage/async-storage",
        "npm",
        "java",
        ("1.13.0", "1.15.0", "1.17.0", "1.19.0", "1.21.0", "1.24.0"),
        _under("android/src/main/", exts=_JAVA),
    ),
    Project(
        "react-native-svg",
        "npm",
        "java",
        ("6.0.0", "7.0.0", "9.0.0", "10.0.0", "12.0.0", "13.0.0", "14.0.0", "15.0.0"),
        _under("android/src/main/", exts=_JAVA),
    ),
    Project("nan", "npm", "c/c++", ("2.0.0", "2.3.0", "2.6.0", "2.10.0", "2.14.0", "2.15.0", "2.17.0", "2.20.0"), _under("nan", exts=_CPP)),
    Project(
        "node-addon-api",
        "npm",
        "c/c++",
        ("1.0.0", "1.7.1", "2.0.0", "3.0.0", "4.0.0", "5.0.0", "6.0.0", "7.0.0"),
        _under("napi", exts=_CPP),
    ),
    Project(
        "pybind11",
        "pypi",
        "c/c++",
        ("2.2.0", "2.4.0", "2.6.0", "2.8.0", "2.10.0", "2.12.0", "2.13.0"),
        _under("pybind11/include/", exts=_CPP, moved=(r"^pybind11-[^/]*\.data/headers/", "pybind11/include/pybind11/")),
    ),
    Project(
        "bootstrap",
        "npm",
        "css/markup",
        ("3.3.7", "4.0.0", "4.3.1", "4.6.0", "5.0.0", "5.1.3", "5.2.3", "5.3.0"),
        _under("dist/css/bootstrap.css", "scss/", "less/", exts=(".css", ".scss", ".less")),
    ),
    Project(
        "element-ui",
        "npm",
        "css/markup",
        ("2.0.0", "2.4.0", "2.8.0", "2.10.0", "2.13.0", "2.15.0", "2.15.14"),
        _under("packages/", exts=(".vue",)),
    ),
]
