"""Properties over many generated inputs: printing a syntax tree gives FEEL that reads back to the
same tree, and FEEL arithmetic agrees with Python's decimal module at 34 digits."""

import decimal
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.rules import syntax as s
from tongban.rules.feel import compile_expression, compile_unary_tests
from tongban.rules.parser import parse_expression

NAMES = st.sampled_from(["a", "b", "amount", "申请人年龄", "x1"])
NUMBERS = st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False)
LEAVES = st.one_of(
    NUMBERS.map(lambda d: s.Literal(d)),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8).map(s.Literal),
    st.sampled_from([True, False, None]).map(s.Literal),
    NAMES.map(s.Name),
)


def _trees(children):
    return st.one_of(
        st.builds(s.Arithmetic, st.sampled_from(["+", "-", "*", "/", "**"]), children, children),
        st.builds(s.Comparison, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), children, children),
        st.builds(s.And, children, children),
        st.builds(s.Or, children, children),
        st.builds(s.Negation, children),
        st.builds(s.If, children, children, children),
        st.builds(s.Between, children, children, children),
        st.builds(lambda items: s.ListNode(tuple(items)), st.lists(children, max_size=3)),
        st.builds(s.Path, children, NAMES),
        st.builds(
            lambda f, a: s.Call(s.Name(f), (a,)), st.sampled_from(["not", "abs", "string length"]), children
        ),
        st.builds(s.RangeNode, children, children, st.booleans(), st.booleans()),
        st.builds(
            lambda v, t: s.In(v, (s.PositiveTest(None, t),)),
            children,
            st.builds(lambda items: s.ListNode(tuple(items)), st.lists(children, max_size=2)),
        ),
    )


TREES = st.recursive(LEAVES, _trees, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_printed_feel_reads_back_to_the_same_tree(tree):
    text = tree.to_feel()
    assert parse_expression(text) == tree, text


@settings(max_examples=300, deadline=None)
@given(NUMBERS, NUMBERS, st.sampled_from(["+", "-", "*", "/"]))
def test_arithmetic_agrees_with_python_decimal(a, b, op):
    context = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN)
    expected = {
        "+": context.add,
        "-": context.subtract,
        "*": context.multiply,
        "/": lambda x, y: context.divide(x, y) if y else None,
    }[op](a, b)
    assert compile_expression(f"a {op} b").evaluate({"a": a, "b": b}) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(-1000, 1000), st.booleans(), st.booleans()
)
def test_a_range_test_agrees_with_its_definition(low, high, x, low_closed, high_closed):
    cell = f"{'[' if low_closed else '('}{low}..{high}{']' if high_closed else ')'}"
    inside = (low < x or (low_closed and low == x)) and (x < high or (high_closed and x == high))
    assert compile_unary_tests(cell).matches(Decimal(x)) is inside
