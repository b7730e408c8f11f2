"""Reading FEEL text: a lexer and a recursive-descent parser for expressions and unary tests.

FEEL names may contain spaces ("Monthly Salary", "date and time") and a few symbols
("Approved/Declined"). Which words form one name depends on the names in scope, so the parser is
given the names it should recognise (a DMN model's input data, decisions, knowledge models and
item components); at each name it takes the longest known name that the text spells, else a single
word. Built-in function names are always known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted

from . import syntax as s
from .errors import FeelSyntaxError

MAX_LENGTH = 20_000
MAX_DEPTH = 60

KEYWORDS = frozenset(
    {
        "true", "false", "null", "and", "or", "in", "between", "instance", "of", "if", "then", "else",
        "for", "return", "some", "every", "satisfies", "function", "external",
    }
)  # fmt: skip

# Names of several words that FEEL itself defines (built-in functions and type names).
BUILTIN_NAMES = frozenset(
    {
        "date and time", "years and months duration", "days and time duration", "string length",
        "upper case", "lower case", "substring before", "substring after", "starts with", "ends with",
        "list contains", "distinct values", "index of", "insert before", "day of year", "day of week",
        "month of year", "week of year", "get value", "get entries", "string join", "context put",
        "context merge", "round up", "round down", "round half up", "round half down", "is defined",
        "start position", "grouping separator", "decimal separator", "match", "start included",
        "end included", "time offset", "input", "search string",
    }
)  # fmt: skip

_FULL_WIDTH = "，。“”‘’（）【】［］＜＞＝！－：；？"
_NUMBER = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[^\W\d]\w*")
_SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)+", re.S)
_OPERATORS = (
    "**",
    "..",
    "<=",
    ">=",
    "!=",
    "<",
    ">",
    "=",
    "+",
    "-",
    "*",
    "/",
    ".",
    ",",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "?",
    "@",
)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # number string name op end
    text: str
    start: int  # 0-based index
    end: int
    value: object = None


def _problem(source: str, index: int, problem) -> FeelSyntaxError:
    return FeelSyntaxError(source, index + 1, problem)


def lex(source: str, index: int) -> Token:
    """The token starting at or after ``index`` (whitespace and comments skipped)."""
    space = _SPACE.match(source, index)
    if space:
        index = space.end()
    if index >= len(source):
        return Token("end", "", len(source), len(source))
    char = source[index]
    if char == '"':
        value, end = _read_string(source, index)
        return Token("string", source[index:end], index, end, value)
    number = _NUMBER.match(source, index)
    if number:
        try:
            value = Decimal(number.group())
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            raise _problem(source, index, _("this is not a number")) from None
        return Token("number", number.group(), index, number.end(), value)
    word = _WORD.match(source, index)
    if word:
        return Token("name", word.group(), index, word.end())
    for op in _OPERATORS:
        if source.startswith(op, index):
            if op == "/" and source.startswith(("//", "/*"), index):
                break
            return Token("op", op, index, index + len(op))
    if char in _FULL_WIDTH:
        raise _problem(
            source,
            index,
            Formatted(_("full-width “%(char)s”; type the half-width (English) form"), {"char": char}),
        )
    if source.startswith("/*", index):
        raise _problem(source, index, _("the comment is not closed with */"))
    if char == "'":
        raise _problem(source, index, _("text goes in double quotes in FEEL"))
    raise _problem(source, index, Formatted(_("unexpected character “%(char)s”"), {"char": char}))


def _read_string(source: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == '"':
            return "".join(out), i + 1
        if char == "\\":
            escaped = source[i + 1 : i + 2]
            if escaped in _ESCAPES:
                out.append(_ESCAPES[escaped])
                i += 2
                continue
            if escaped in ("u", "U"):
                width = 4 if escaped == "u" else 6
                digits = source[i + 2 : i + 2 + width]
                if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                    code = int(digits, 16)
                    if 0xD800 <= code <= 0xDBFF and source[i + 6 : i + 8] in ("\\u", "\\U"):
                        low = source[i + 8 : i + 12]
                        if (
                            len(low) == 4
                            and all(c in "0123456789abcdefABCDEF" for c in low)
                            and 0xDC00 <= int(low, 16) <= 0xDFFF
                        ):
                            # a surrogate pair written as two escapes is one character
                            out.append(chr(0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)))
                            i += 12
                            continue
                    if code <= 0x10FFFF:
                        out.append(chr(code))
                        i += 2 + width
                        continue
            # any other backslash stays as written, so regular expressions read naturally: "\d+"
            out.append(char)
            i += 1
            continue
        out.append(char)
        i += 1
    raise _problem(source, start, _("the text has no closing quote"))


def _name_pattern(name: str) -> re.Pattern:
    parts = [re.escape(p) for p in name.split()]
    return re.compile(r"\s+".join(parts))


class Names:
    """The multi-word and symbol-bearing names a parser should read as one name."""

    def __init__(self, names=()):
        self.by_first: dict[str, list[tuple[int, str, re.Pattern]]] = {}
        for name in (*BUILTIN_NAMES, *names):
            self.add(name)

    def add(self, name: str) -> None:
        name = " ".join(str(name).split())
        match = _WORD.match(name)
        if not match or match.end() == len(name):
            return  # a plain single word needs no help
        first = match.group()
        entries = self.by_first.setdefault(first, [])
        if any(n == name for _l, n, _p in entries):
            return
        entries.append((len(name), name, _name_pattern(name)))
        entries.sort(key=lambda e: -e[0])

    def copy(self) -> Names:
        other = Names.__new__(Names)
        other.by_first = {k: list(v) for k, v in self.by_first.items()}
        return other

    def longest(self, source: str, token: Token) -> tuple[str, int] | None:
        for _length, name, pattern in self.by_first.get(token.text, ()):
            match = pattern.match(source, token.start)
            if match and not (
                match.end() < len(source) and (source[match.end()].isalnum() or source[match.end()] == "_")
            ):
                return name, match.end()
        return None


_NO_NAMES = Names()


class Parser:
    def __init__(self, source: str, names: Names | None = None):
        if len(source) > MAX_LENGTH:
            raise FeelSyntaxError(
                source[:200],
                1,
                Formatted(_("the expression is longer than %(n)d characters"), {"n": MAX_LENGTH}),
            )
        self.source = source
        self.names = names or _NO_NAMES
        self.depth = 0
        self.uses_input = False
        self.tok = lex(source, 0)
        self.no_filter = False  # inside a range end, "[" closes the range instead of filtering

    # -- token helpers -------------------------------------------------------------------------

    def advance(self) -> Token:
        token = self.tok
        self.tok = lex(self.source, token.end)
        return token

    def at(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def at_word(self, word: str) -> bool:
        return self.tok.kind == "name" and self.tok.text == word

    def expect(self, text: str) -> Token:
        if self.at(text) or self.at_word(text):
            return self.advance()
        raise self.error(Formatted(_("expected “%(expected)s”"), {"expected": text}))

    def error(self, problem=None) -> FeelSyntaxError:
        token = self.tok
        if problem is None:
            if token.kind == "end":
                problem = _("the expression stops where a value is expected")
            else:
                problem = Formatted(_("unexpected “%(token)s”"), {"token": token.text})
        return FeelSyntaxError(self.source, token.start + 1, problem)

    def finish(self) -> None:
        if self.tok.kind != "end":
            raise self.error(
                Formatted(_("unexpected “%(token)s” after a complete expression"), {"token": self.tok.text})
            )

    def nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(_("the expression is nested too deeply"))

    # -- expressions ---------------------------------------------------------------------------

    def expression(self) -> s.Node:
        self.nest()
        try:
            token = self.tok
            if token.kind == "name":
                if token.text == "if":
                    return self.if_expression()
                if token.text == "for":
                    return self.for_expression()
                if token.text in ("some", "every"):
                    return self.quantified()
                if token.text == "function" and lex(self.source, token.end).text == "(":
                    return self.function_definition()
            return self.disjunction()
        finally:
            self.depth -= 1

    def if_expression(self) -> s.Node:
        start = self.advance().start + 1
        condition = self.expression()
        self.expect("then")
        then = self.expression()
        self.expect("else")
        otherwise = self.expression()
        return s.If(condition, then, otherwise, pos=start)

    def bound_name(self) -> str:
        """A name being introduced (iteration variable, parameter): words up to the next keyword/op."""
        if self.tok.kind != "name" or self.tok.text in KEYWORDS:
            raise self.error(_("a name is expected here"))
        words = [self.advance().text]
        while self.tok.kind == "name" and self.tok.text not in KEYWORDS:
            words.append(self.advance().text)
        return " ".join(words)

    def iterations(self, names: Names) -> tuple[s.Iteration, ...]:
        items = []
        while True:
            pos = self.tok.start + 1
            name = self.bound_name()
            self.expect("in")
            domain = self.disjunction()
            end = None
            if self.at(".."):
                self.advance()
                end = self.disjunction()
            items.append(s.Iteration(name, domain, end, pos=pos))
            names.add(name)
            if not self.at(","):
                return tuple(items)
            self.advance()

    def for_expression(self) -> s.Node:
        start = self.advance().start + 1
        outer, self.names = self.names, self.names.copy()
        try:
            iterations = self.iterations(self.names)
            self.expect("return")
            self.names.add("partial")
            body = self.expression()
        finally:
            self.names = outer
        return s.For(iterations, body, pos=start)

    def quantified(self) -> s.Node:
        token = self.advance()
        outer, self.names = self.names, self.names.copy()
        try:
            iterations = self.iterations(self.names)
            self.expect("satisfies")
            condition = self.expression()
        finally:
            self.names = outer
        return s.Quantified(token.text, iterations, condition, pos=token.start + 1)

    def function_definition(self) -> s.Node:
        start = self.advance().start + 1
        self.expect("(")
        params: list[str] = []
        outer, self.names = self.names, self.names.copy()
        try:
            while not self.at(")"):
                name = self.bound_name()
                if self.at(":"):
                    raise self.error(_("typed parameters are not part of this FEEL subset"))
                params.append(name)
                self.names.add(name)
                if not self.at(","):
                    break
                self.advance()
            self.expect(")")
            if self.at_word("external"):
                raise self.error(_("external functions (Java, PMML) are not supported"))
            body = self.expression()
        finally:
            self.names = outer
        return s.FunctionDefinition(tuple(params), body, pos=start)

    def disjunction(self) -> s.Node:
        left = self.conjunction()
        while self.at_word("or"):
            pos = self.advance().start + 1
            left = s.Or(left, self.conjunction(), pos=pos)
        return left

    def conjunction(self) -> s.Node:
        left = self.comparison()
        while self.at_word("and"):
            pos = self.advance().start + 1
            left = s.And(left, self.comparison(), pos=pos)
        return left

    def comparison(self) -> s.Node:
        left = self.additive()
        token = self.tok
        if token.kind == "op" and token.text in ("=", "!=", "<", "<=", ">", ">="):
            self.advance()
            return s.Comparison(token.text, left, self.additive(), pos=token.start + 1)
        if token.kind == "name":
            if token.text == "between":
                self.advance()
                low = self.additive()
                self.expect("and")
                return s.Between(left, low, self.additive(), pos=token.start + 1)
            if token.text == "in":
                self.advance()
                return s.In(left, self.in_tests(), pos=token.start + 1)
            if token.text == "instance":
                self.advance()
                self.expect("of")
                return s.InstanceOf(left, self.type_name(), pos=token.start + 1)
        return left

    def type_name(self) -> str:
        if self.tok.kind != "name":
            raise self.error(_("a type name is expected here"))
        known = self.names.longest(self.source, self.tok)
        if known:
            name, end = known
            self.tok = lex(self.source, end)
        else:
            name = self.advance().text
        if self.at("<") or self.at("("):
            raise self.error(_("generic and function types are not part of this FEEL subset"))
        return name

    def in_tests(self) -> tuple[s.PositiveTest, ...]:
        """After ``in``: one positive unary test, or several in parentheses."""
        if self.at("("):
            start = self.advance()
            first = self.positive_test()
            if self.at("..") and first.op is None:
                # "(1..5)": an open-start range, not a parenthesised list of tests
                self.advance()
                end, closer = self.range_end()
                node = s.RangeNode(first.operand, end, False, closer == "]", pos=start.start + 1)
                return (s.PositiveTest(None, node, pos=start.start + 1),)
            tests = [first]
            while self.at(","):
                self.advance()
                tests.append(self.positive_test())
            self.expect(")")
            return tuple(tests)
        # bare "x in [1..5] and y": the test ends where a comparison could, so "and y" stays outside
        return (self.positive_test(bare=True),)

    def positive_test(self, *, bare: bool = False) -> s.PositiveTest:
        token = self.tok
        if token.kind == "op" and token.text in ("<", "<=", ">", ">=", "=", "!="):
            self.advance()
            return s.PositiveTest(token.text, self.additive(), pos=token.start + 1)
        operand = self.additive() if bare else self.expression()
        return s.PositiveTest(None, operand, pos=token.start + 1)

    def additive(self) -> s.Node:
        left = self.multiplicative()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            token = self.advance()
            left = s.Arithmetic(token.text, left, self.multiplicative(), pos=token.start + 1)
        return left

    def multiplicative(self) -> s.Node:
        left = self.power()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            token = self.advance()
            left = s.Arithmetic(token.text, left, self.power(), pos=token.start + 1)
        return left

    def power(self) -> s.Node:
        left = self.unary()
        while self.at("**"):
            token = self.advance()
            left = s.Arithmetic("**", left, self.unary(), pos=token.start + 1)
        return left

    def unary(self) -> s.Node:
        if self.at("-"):
            token = self.advance()
            self.nest()
            try:
                return s.Negation(self.unary(), pos=token.start + 1)
            finally:
                self.depth -= 1
        return self.postfix()

    def postfix(self) -> s.Node:
        node = self.primary()
        while True:
            if self.at("."):
                token = self.advance()
                node = s.Path(node, self.member_name(), pos=token.start + 1)
            elif self.at("[") and not self.no_filter:
                token = self.advance()
                outer, self.no_filter = self.no_filter, False
                try:
                    condition = self.expression()
                finally:
                    self.no_filter = outer
                self.expect("]")
                node = s.Filter(node, condition, pos=token.start + 1)
            elif self.at("("):
                node = self.call(node)
            else:
                return node

    def member_name(self) -> str:
        if self.tok.kind != "name":
            raise self.error(_("a name is expected after “.”"))
        known = self.names.longest(self.source, self.tok)
        if known:
            name, end = known
            self.tok = lex(self.source, end)
            return name
        return self.advance().text

    def call(self, function: s.Node) -> s.Node:
        start = self.advance()
        args: list[s.Node] = []
        names: list[str] = []
        outer, self.no_filter = self.no_filter, False
        try:
            while not self.at(")"):
                name = self.argument_name()
                if name is not None:
                    names.append(name)
                elif names:
                    raise self.error(_("positional arguments cannot follow named ones"))
                args.append(self.expression())
                if not self.at(","):
                    break
                self.advance()
            self.expect(")")
        finally:
            self.no_filter = outer
        if names and len(names) != len(args):
            raise FeelSyntaxError(self.source, start.start + 1, _("name every argument or none"))
        return s.Call(function, tuple(args), tuple(names) if names else None, pos=start.start + 1)

    def argument_name(self) -> str | None:
        """``start position:`` before an argument: the words up to a colon, when there is one."""
        if self.tok.kind != "name" or self.tok.text in KEYWORDS:
            return None
        words = []
        token = self.tok
        while token.kind == "name" and token.text not in KEYWORDS:
            words.append(token.text)
            token = lex(self.source, token.end)
        if token.kind == "op" and token.text == ":":
            self.tok = lex(self.source, token.end)
            return " ".join(words)
        return None

    def primary(self) -> s.Node:
        token = self.tok
        pos = token.start + 1
        if token.kind == "number":
            self.advance()
            return s.Literal(token.value, pos=pos)
        if token.kind == "string":
            self.advance()
            return s.Literal(token.value, pos=pos)
        if token.kind == "name":
            return self.name_or_keyword()
        if token.kind == "op":
            if token.text == "(":
                return self.parenthesised()
            if token.text == "[":
                return self.bracketed()
            if token.text == "]":
                self.advance()
                return self.range_after_start(False, pos)
            if token.text == "{":
                return self.context()
            if token.text == "?":
                self.advance()
                self.uses_input = True
                return s.InputValue(pos=pos)
            if token.text == "@":
                self.advance()
                if self.tok.kind != "string":
                    raise self.error(_("@ must be followed by a date, time or duration in quotes"))
                text = self.advance().value
                return s.TemporalLiteral(text, pos=pos)
        raise self.error()

    def name_or_keyword(self) -> s.Node:
        token = self.tok
        pos = token.start + 1
        known = self.names.longest(self.source, token)
        if known:
            name, end = known
            self.tok = lex(self.source, end)
            return s.Name(name, pos=pos)
        if token.text in ("true", "false"):
            self.advance()
            return s.Literal(token.text == "true", pos=pos)
        if token.text == "null":
            self.advance()
            return s.Literal(None, pos=pos)
        if token.text in KEYWORDS:
            raise self.error(Formatted(_("“%(word)s” cannot start a value"), {"word": token.text}))
        self.advance()
        return s.Name(token.text, pos=pos)

    def parenthesised(self) -> s.Node:
        start = self.advance()
        outer, self.no_filter = self.no_filter, False
        try:
            inner = self.expression()
        finally:
            self.no_filter = outer
        if self.at(".."):
            self.advance()
            end, closer = self.range_end()
            return s.RangeNode(inner, end, False, closer == "]", pos=start.start + 1)
        self.expect(")")
        return inner

    def bracketed(self) -> s.Node:
        start = self.advance()
        pos = start.start + 1
        if self.at("]"):
            self.advance()
            return s.ListNode((), pos=pos)
        outer, self.no_filter = self.no_filter, False
        try:
            first = self.expression()
        finally:
            self.no_filter = outer
        if self.at(".."):
            self.advance()
            end, closer = self.range_end()
            return s.RangeNode(first, end, True, closer == "]", pos=pos)
        items = [first]
        while self.at(","):
            self.advance()
            items.append(self.expression())
        self.expect("]")
        return s.ListNode(tuple(items), pos=pos)

    def range_after_start(self, start_included: bool, pos: int) -> s.Node:
        start = self.range_endpoint()
        self.expect("..")
        end, closer = self.range_end()
        return s.RangeNode(start, end, start_included, closer == "]", pos=pos)

    def range_endpoint(self) -> s.Node:
        outer, self.no_filter = self.no_filter, True
        try:
            return self.additive()
        finally:
            self.no_filter = outer

    def range_end(self) -> tuple[s.Node, str]:
        end = self.range_endpoint()
        if self.tok.kind == "op" and self.tok.text in ("]", ")", "["):
            return end, self.advance().text
        raise self.error(_("a range ends with “]”, “)” or “[”"))

    def context(self) -> s.Node:
        start = self.advance()
        entries: list[tuple[str, s.Node]] = []
        seen: set[str] = set()
        outer, self.names = self.names, self.names.copy()
        try:
            while not self.at("}"):
                key_token = self.tok
                if key_token.kind == "string":
                    key = self.advance().value
                elif key_token.kind == "name":
                    key = self.bound_context_key()
                else:
                    raise self.error(_("a context entry starts with a name or a text key"))
                if key in seen:
                    raise FeelSyntaxError(
                        self.source,
                        key_token.start + 1,
                        Formatted(_("the key “%(key)s” is used twice"), {"key": key}),
                    )
                seen.add(key)
                self.expect(":")
                entries.append((key, self.expression()))
                self.names.add(key)
                if not self.at(","):
                    break
                self.advance()
            self.expect("}")
        finally:
            self.names = outer
        return s.ContextNode(tuple(entries), pos=start.start + 1)

    def bound_context_key(self) -> str:
        start = self.tok.start
        end = self.tok.end
        self.advance()
        while not (self.tok.kind == "op" and self.tok.text == ":") and self.tok.kind != "end":
            if self.tok.kind == "op" and self.tok.text in (",", "}", "{"):
                break
            end = self.tok.end
            self.advance()
        return " ".join(self.source[start:end].split())

    # -- unary tests ---------------------------------------------------------------------------

    def unary_tests(self) -> s.UnaryTests:
        if self.at("-") and lex(self.source, self.tok.end).kind == "end":
            self.advance()
            return s.UnaryTests((), pos=1)
        if self.at_word("not") and lex(self.source, self.tok.end).text == "(":
            closing = self._closing_paren_of_not()
            if closing is not None:
                start = self.advance()
                self.advance()  # (
                tests = self.positive_tests()
                self.expect(")")
                self.finish()
                return s.UnaryTests(tests, True, pos=start.start + 1)
        tests = self.positive_tests()
        self.finish()
        return s.UnaryTests(tests, pos=1)

    def _closing_paren_of_not(self) -> int | None:
        """Whether ``not(…)`` spans the whole cell (then it negates the tests inside), rather than
        being the start of an expression such as ``not(x) = true``."""
        depth = 0
        token = lex(self.source, self.tok.end)
        while token.kind != "end":
            if token.kind == "op" and token.text in ("(", "[", "{"):
                depth += 1
            elif token.kind == "op" and token.text in (")", "]", "}"):
                depth -= 1
                if depth == 0:
                    after = lex(self.source, token.end)
                    return token.end if after.kind == "end" else None
            token = lex(self.source, token.end)
        return None

    def positive_tests(self) -> tuple[s.PositiveTest, ...]:
        tests = [self.positive_test()]
        while self.at(","):
            self.advance()
            tests.append(self.positive_test())
        return tuple(tests)


def parse_expression(source: str, names: Names | None = None) -> s.Node:
    parser = Parser(source, names)
    if parser.tok.kind == "end":
        raise FeelSyntaxError(source, 1, _("the expression is empty"))
    node = parser.expression()
    parser.finish()
    return node


def parse_unary_tests(source: str, names: Names | None = None) -> s.UnaryTests:
    if not source.strip():
        return s.UnaryTests((), pos=1)  # an empty cell is "-", as DMN modelers write it
    return Parser(source, names).unary_tests()
