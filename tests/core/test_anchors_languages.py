"""Anchors in brace languages, CSS and markup: small real-looking fixtures, one per language and per
failure kind of issue 16 (a method renamed or rewritten, a block, an edited single line, a deleted
line or rule), and hostile text that must neither crash relocation nor take seconds."""

from __future__ import annotations

import time

import pytest

from colearner_lsp.core.anchor.anchor_fingerprint import make_fingerprint
from colearner_lsp.core.anchor.anchor_text import block_end, brace_counts, header_of
from colearner_lsp.core.anchor.anchors import LineRange, relocate_anchor

JAVA = """\
package com.example.storage;

import java.util.HashMap;
import java.util.Map;

public class KeyValueStore {
    private final Map<String, String> values = new HashMap<>();

    public String get(String key) {
        return values.get(key);
    }

    public void put(String key, String value) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        values.put(key, value);
    }

    public int size() {
        return values.size();
    }
}
"""

JS = """\
'use strict';

var debug = require('debug')('router');

function Layer(path, options, fn) {
  if (!(this instanceof Layer)) {
    return new Layer(path, options, fn);
  }
  this.handle = fn;
  this.name = fn.name || '<anonymous>';
  this.path = undefined;
}

Layer.prototype.match = function match(path) {
  return this.regexp.test(path);
};

module.exports = Layer;
"""

CPP = """\
#include <string>

namespace demo {

static int parse_port(const std::string& text) {
    int port = std::stoi(text);
    if (port <= 0 || port > 65535) {
        return -1;
    }
    return port;
}

}  // namespace demo
"""

CSS = """\
.btn {
  display: inline-block;
  font-weight: 400;
  padding: 0.375rem 0.75rem;
}

.btn:hover {
  color: #212529;
  text-decoration: none;
}

.card {
  position: relative;
  border: 1px solid rgba(0, 0, 0, 0.125);
}
"""


def relocate(old: str, lines: tuple[int, int], new: str):
    fp = make_fingerprint(old, *lines)
    return relocate_anchor(fp, new, LineRange(*lines))


def at(text: str, first: str, last: str | None = None) -> LineRange:
    """The lines of ``text`` from the one containing ``first`` to the one containing ``last``."""
    rows = text.split("\n")
    s = next(i for i, r in enumerate(rows) if first in r)
    e = s if last is None else next(i for i, r in enumerate(rows) if i >= s and last in r)
    return LineRange(s + 1, e + 1)


# --- declarations are recognised in brace languages ---------------------------------------------


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("    public static void main(String[] args) {", "main"),
        ("  @Override public void run() {", "run"),
        ("public class Foo extends Bar {", "Foo"),
        ("  void Foo::bar(int x) const {", "bar"),
        ("template <typename T> inline T* get(T x) {", "get"),
        ("static napi_value Init(napi_env env, napi_value exports) {", "Init"),
        ("  async load(url) {", "load"),
        ("export default class Store {", "Store"),
        ("  private final Map<String, List<Integer>> build(", "build"),
    ],
)
def test_declarations_in_brace_languages_are_headers(line, name):
    assert header_of(line) == name


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("Route.prototype.dispatch = function(req, res, done){", "Route.prototype.dispatch"),
        ("module.exports = function parseHeaders(headers) {", "parseHeaders"),
        ("export const load = async (url) => {", "load"),
        ("  parse: function (str) {", "parse"),
        ("  private handle = (event: Event): void => {", "handle"),
    ],
)
def test_functions_named_by_assignment_are_headers(line, name):
    assert header_of(line) == name


@pytest.mark.parametrize(
    "line",
    [
        "    if (key == null) {",
        "  } else if (x) {",
        "describe('router', () => {",
        "  app.use(function (req, res) {",
        "    values.put(key, value);",
        "    return foo(a,",
        "    x = compute(y)",
        "    print(x)",
        "   raise ValueError(",
    ],
)
def test_statements_and_calls_are_not_headers(line):
    assert header_of(line) is None


# --- brace languages: methods, blocks, single lines ----------------------------------------------


def test_java_method_renamed_and_edited_is_found_by_its_signature_and_braces():
    put = at(JAVA, "public void put(", "values.put(key, value);")
    put = LineRange(put.start_line, put.end_line + 1)  # its closing brace
    new = JAVA.replace("public void put(String key, String value)", "public void store(String key, String value)")
    new = new.replace('"key must not be null"', '"a key is required"')
    new = new.replace("    public String get(", "    /** The value stored under key. */\n    public String get(")
    found = relocate(JAVA, (put.start_line, put.end_line), new)
    assert found.status == "fuzzy"
    assert found.range == LineRange(put.start_line + 1, put.end_line + 1)


def test_java_method_whose_body_was_rewritten_keeps_its_name():
    size = at(JAVA, "public int size()", "return values.size();")
    size = LineRange(size.start_line, size.end_line + 1)
    new = JAVA.replace(
        "        return values.size();\n",
        "        int n = 0;\n        for (String k : values.keySet()) {\n            n++;\n        }\n        return n;\n",
    )
    found = relocate(JAVA, (size.start_line, size.end_line), new)
    assert found.range == LineRange(size.start_line, size.end_line + 4)


def test_java_method_deleted_is_lost():
    put = at(JAVA, "public void put(", "values.put(key, value);")
    new = JAVA.replace("\n".join(JAVA.split("\n")[put.start_line - 1 : put.end_line + 2]) + "\n", "")
    assert "put(" not in new
    assert relocate(JAVA, (put.start_line, put.end_line + 1), new).status == "lost"


def test_js_function_moved_below_and_edited_is_followed():
    layer = at(JS, "function Layer(", "this.path = undefined;")
    layer = LineRange(layer.start_line, layer.end_line + 1)
    body = "\n".join(JS.split("\n")[layer.start_line - 1 : layer.end_line]) + "\n\n"
    new = JS.replace(body, "").replace("module.exports = Layer;\n", body.replace("'<anonymous>'", "'<anon>'") + "module.exports = Layer;\n")
    found = relocate(JS, (layer.start_line, layer.end_line), new)
    assert found.status in ("moved", "fuzzy")
    rows = new.split("\n")
    assert rows[found.range.start_line - 1].startswith("function Layer(")
    assert rows[found.range.end_line - 1] == "}"


def test_cpp_block_inside_a_function_follows_its_braces():
    check = at(CPP, "if (port <= 0", "return -1;")
    check = LineRange(check.start_line, check.end_line + 1)
    new = CPP.replace("    int port = std::stoi(text);\n", "    // ports are 16-bit\n    int port = std::stoi(text);\n")
    found = relocate(CPP, (check.start_line, check.end_line), new)
    assert found.range == LineRange(check.start_line + 1, check.end_line + 1)


def test_edited_single_line_is_followed_when_most_tokens_survive():
    line = at(JS, "this.name = fn.name")
    new = JS.replace("this.name = fn.name || '<anonymous>';", "this.name = fn.name || '<anon>';")
    new = "// Layer: one route's handler\n" + new
    found = relocate(JS, (line.start_line, line.end_line), new)
    assert found.status == "fuzzy"
    assert found.range == LineRange(line.start_line + 1, line.start_line + 1)


def test_single_line_that_is_gone_is_lost():
    line = at(JAVA, 'throw new IllegalArgumentException("key must not be null");')
    new = JAVA.replace(
        '        if (key == null) {\n            throw new IllegalArgumentException("key must not be null");\n        }\n', ""
    )
    assert relocate(JAVA, (line.start_line, line.end_line), new).status == "lost"


CPP_WITH_PREPROCESSOR = """\
namespace demo {

template <typename Vector>
void bind_vector(Vector &v) {
    v.reserve(16);
    v.push_back(1);
#if 0
    // kept as an example: { is not code here
    v.shrink_to_fit();
#endif
    v.push_back(2);
}

}  // namespace demo
"""


def test_cpp_function_with_preprocessor_lines_at_the_margin_is_one_block():
    bind = at(CPP_WITH_PREPROCESSOR, "void bind_vector(", "v.push_back(2);")
    bind = LineRange(bind.start_line, bind.end_line + 1)  # its closing brace
    assert block_end(CPP_WITH_PREPROCESSOR.split("\n"), bind.start_line - 1) == bind.end_line - 1
    new = CPP_WITH_PREPROCESSOR.replace("void bind_vector(Vector &v) {", "void bind_vector(Vector &v, int n) {")
    new = new.replace("v.reserve(16);", "v.reserve(n);").replace("namespace demo {\n", "namespace demo {\n\nint unused;\n")
    found = relocate(CPP_WITH_PREPROCESSOR, (bind.start_line, bind.end_line), new)
    assert found.range == LineRange(bind.start_line + 2, bind.end_line + 2)


def test_js_method_assigned_to_a_prototype_is_found_by_its_name_after_a_rewrite():
    old = (
        "var Route = module.exports = function Route(path) {\n  this.path = path;\n};\n\n"
        "Route.prototype.dispatch = function(req, res, done){\n  var self = this;\n  var method = req.method;\n"
        "  if (!self.stack) {\n    return done();\n  }\n  self.next(req, res, done);\n};\n"
    )
    new = (
        "var Route = module.exports = function Route(path) {\n  this.path = path;\n  this.stack = [];\n};\n\n"
        "Route.prototype.dispatch = function dispatch(req, res, done) {\n  var idx = 0;\n  var stack = this.stack;\n"
        "  if (stack.length === 0) {\n    return done();\n  }\n  next();\n  function next(err) {\n"
        "    stack[idx++].handle(req, res, next);\n  }\n};\n"
    )
    found = relocate(old, (5, 12), new)
    assert found.status == "fuzzy"
    assert found.range == LineRange(6, 16)


# --- CSS and markup ------------------------------------------------------------------------------


def test_css_rule_moved_is_found():
    hover = at(CSS, ".btn:hover {", "text-decoration: none;")
    hover = LineRange(hover.start_line, hover.end_line + 1)
    rule = "\n".join(CSS.split("\n")[hover.start_line - 1 : hover.end_line]) + "\n\n"
    new = CSS.replace(rule, "") + "\n" + rule.rstrip("\n") + "\n"
    found = relocate(CSS, (hover.start_line, hover.end_line), new)
    assert found.status == "moved"
    assert new.split("\n")[found.range.start_line - 1] == ".btn:hover {"


def test_css_rule_deleted_is_lost():
    card = at(CSS, ".card {", "border: 1px")
    new = CSS.split("\n.card {")[0] + "\n"
    assert relocate(CSS, (card.start_line, card.end_line + 1), new).status == "lost"


def test_template_line_edited_in_markup_is_followed():
    vue = (
        '<template>\n  <div class="el-alert" :class="[typeClass]">\n    <span class="el-alert__title">{{ title }}</span>\n'
        "  </div>\n</template>\n"
    )
    new = vue.replace('<span class="el-alert__title">', '<span class="el-alert__title" :class="[isBoldTitle]">')
    found = relocate(vue, (3, 3), "<!-- alert -->\n" + new)
    assert found.range == LineRange(4, 4)


# --- hostile text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "{" * 50_000 + "\n" + "}" * 10 + "\n",  # unbalanced brackets
        ("public void f(" + "int a, " * 20_000 + ") {\n") * 3,  # a huge signature line
        "".join(chr(i % 0x2FF) for i in range(1, 200_000)).replace("\r", "\n"),  # control characters
        ("x" * 300 + "(" + " " * 300 + "\n") * 200,  # a header pattern's worst case
    ],
)
def test_hostile_text_neither_crashes_nor_takes_seconds(text):
    fp = make_fingerprint(JAVA, 9, 11)
    t0 = time.perf_counter()
    found = relocate_anchor(fp, text, LineRange(9, 11))
    assert time.perf_counter() - t0 < 2.0
    assert found.status in ("lost", "fuzzy", "moved", "exact")
    fp_hostile = make_fingerprint(text, 1, 1)
    t0 = time.perf_counter()
    relocate_anchor(fp_hostile, JAVA + text[:1000])
    assert time.perf_counter() - t0 < 2.0


@pytest.mark.parametrize(
    "line",
    ["\"{\" + '}' + `${x}` {", "/* { */ }" * 5000, "{" * 100_000, "'unterminated { string"],
)
def test_brace_counting_survives_hostile_lines(line):
    t0 = time.perf_counter()
    opened, closed, _ = brace_counts(line)
    assert opened >= 0 and closed >= 0
    assert block_end([line, "}", "x"], 0) in (0, 1)
    assert time.perf_counter() - t0 < 0.5


def test_header_of_a_very_long_line_is_quick():
    line = "a " * 200_000 + "b("
    t0 = time.perf_counter()
    assert header_of(line) is None
    assert header_of("  " + "Map<" * 100 + " name(") in (None, "name")
    assert time.perf_counter() - t0 < 0.5


# --- declarations renamed, template clauses, look-alikes of deleted code -----------------------

INTERNALS_H = """\
#include <utility>

namespace detail {

struct type_hash {
    size_t operator()(const std::type_index &t) const { return t.hash_code(); }
};

struct overload_hash {
    inline size_t operator()(const std::pair<const PyObject *, const char *>& v) const {
        size_t value = std::hash<const void *>()(v.first);
        value ^= std::hash<const void *>()(v.second)  + 0x9e3779b9 + (value<<6) + (value>>2);
        return value;
    }
};

}  // namespace detail
"""


def test_cpp_struct_renamed_keeps_its_declaration_line_and_closing_brace():
    struct = at(INTERNALS_H, "struct overload_hash {", "        return value;")
    struct = LineRange(struct.start_line, struct.end_line + 2)
    new = INTERNALS_H.replace("struct overload_hash {", "struct override_hash {").replace("  + 0x9e", " + 0x9e")
    new = new.replace("namespace detail {\n", "namespace detail {\n\nusing type_map = std::unordered_map<int, int>;\n")
    found = relocate(INTERNALS_H, (struct.start_line, struct.end_line), new)
    assert found.range == LineRange(struct.start_line + 2, struct.end_line + 2)


MAYBE_H = """\
template<typename T>
using Maybe = v8::Maybe<T>;

template<typename T>
NAN_INLINE Maybe<T> Nothing() {
  return v8::Nothing<T>();
}

template<typename T>
NAN_INLINE Maybe<T> Just(const T& t) {
  return v8::Just<T>(t);
}
"""


def test_template_clause_of_an_edited_function_stays_with_it_not_with_an_earlier_copy():
    nothing = at(MAYBE_H, "NAN_INLINE Maybe<T> Nothing()", "}")
    nothing = LineRange(nothing.start_line - 1, nothing.end_line)  # with its template clause
    new = MAYBE_H.replace("NAN_INLINE", "inline")
    found = relocate(MAYBE_H, (nothing.start_line, nothing.end_line), new)
    assert found.range == nothing
    assert at(MAYBE_H, "template<typename T>").start_line < nothing.start_line  # an earlier copy exists


UTILS_JS = """\
'use strict';

function trim(str) {
  return str.replace(/^\\s*/, '').replace(/\\s*$/, '');
}

function isArray(val) {
  return toString.call(val) === '[object Array]';
}

function isObject(val) {
  return val !== null && typeof val === 'object';
}

module.exports = { trim: trim, isArray: isArray, isObject: isObject };
"""


def test_deleted_js_function_is_lost_not_taken_for_a_look_alike_of_another_name():
    is_array = at(UTILS_JS, "function isArray(", "[object Array]")
    is_array = LineRange(is_array.start_line, is_array.end_line + 1)
    new = UTILS_JS.replace("function isArray(val) {\n  return toString.call(val) === '[object Array]';\n}\n\n", "")
    new = new.replace("isArray: isArray, ", "").replace("'use strict';\n", "'use strict';\n\nconst isArray = Array.isArray;\n")
    found = relocate(UTILS_JS, (is_array.start_line, is_array.end_line), new)
    assert found.status == "lost"
