"""GB 11643 ID numbers, GB 32100 credit codes, mobile numbers and GB/T 2260 region codes.

Expected check characters are computed by the small reference implementations below, written
from the standards and independent of tongban.core.identifiers.
"""

import datetime as dt
import random

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tongban.core.identifiers import (
    id_number_facts,
    is_valid_id_number,
    is_valid_uscc,
    normalize_id_number,
    normalize_mobile,
    normalize_region_code,
    normalize_uscc,
    region_level,
    region_parent_code,
)

# --- independent reference implementations -------------------------------------------------------

# ISO 7064 MOD 11-2 as GB 11643 states it: W_i = 2^(i-1) mod 11, counted from the check position.
GB11643_WEIGHTS = [pow(2, 17 - k, 11) for k in range(17)]
assert GB11643_WEIGHTS == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
GB11643_CHECK = "10X98765432"


def ref_id_check(first17: str) -> str:
    total = 0
    for k, ch in enumerate(first17):
        total += (ord(ch) - ord("0")) * GB11643_WEIGHTS[k]
    return GB11643_CHECK[total % 11]


def ref_id(region: str, born: dt.date, seq: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + ref_id_check(first17)


# GB 32100: the check character C18 = 31 - MOD(Σ Ci·Wi, 31), with 31 written as 0.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
# W_i = 3^(i-1) mod 31, which is where the table comes from.
assert [pow(3, k, 31) for k in range(17)] == USCC_W


def ref_uscc_check(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_W, strict=True))
    value = 31 - total % 31
    return USCC_CHARS[0 if value == 31 else value]


def rendered(exc: ValidationError) -> dict[str, str]:
    """The one message of a ValidationError with its params applied, in both languages."""
    (error,) = exc.error_list
    out = {}
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            text = str(error.message)
            out[lang] = text % error.params if error.params else text
    return out


def error_of(func, value, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(value, **kwargs)
    return info.value


# Real county-level codes (GB/T 2260) and residence-permit prefixes.
REGIONS = [
    "110101",
    "120104",
    "310104",
    "320106",
    "330106",
    "350102",
    "440305",
    "500103",
    "510107",
    "511602",
    "530102",
    "650102",
    "710000",
    "810000",
    "820000",
    "830000",
]


# --- GB 11643 ID numbers ------------------------------------------------------------------------


def alt_id_check(first17: str) -> str:
    """The same check written the other way ISO 7064 states it: a1 = (12 - S mod 11) mod 11, 10 → X."""
    s = sum(int(c) * (2 ** (17 - k) % 11) for k, c in enumerate(first17))
    a1 = (12 - s % 11) % 11
    return "X" if a1 == 10 else str(a1)


def test_reference_implementations_agree():
    rng = random.Random(0)
    seen = set()
    for _ in range(3000):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        seen.add(ref_id_check(first17))
        assert ref_id_check(first17) == alt_id_check(first17)
    assert seen == set("0123456789X")


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),  # the example number printed in GB 11643
        ("11010119900307002", "X"),  # S = 156, 156 mod 11 = 2 → "X"
        ("11010119900307001", "1"),  # S = 154, 154 mod 11 = 0 → "1"
        ("44052419800101001", "3"),  # S = 196, 196 mod 11 = 9 → "3"
        ("31010419880808123", "8"),  # S = 268, 268 mod 11 = 4 → "8"
        ("51160219850312013", "9"),  # S = 223, 223 mod 11 = 3 → "9"
    ],
)
def test_reference_check_characters(first17, check):
    assert ref_id_check(first17) == check
    assert normalize_id_number(first17 + check) == first17 + check


def test_the_standard_example_with_x_is_valid_in_any_case():
    assert normalize_id_number("11010519491231002X") == "11010519491231002X"
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    assert is_valid_id_number("11010519491231002x")
    assert not is_valid_id_number("110105194912310021")


def test_full_width_characters_and_spaces_are_normalised():
    number = ref_id("310104", dt.date(1988, 8, 8), 123)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)  # ０-９ and Ｘ
    assert full_width != number
    assert normalize_id_number(full_width) == number
    spaced = f" {number[:6]} {number[6:14]}\u3000{number[14:]} "
    assert normalize_id_number(spaced) == number
    assert normalize_id_number(f"{number[:6]}-{number[6:14]}-{number[14:]}") == number
    x_number = "11010519491231002X"
    assert normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == x_number


@pytest.mark.parametrize(
    ("legacy", "region", "born", "seq"),
    [
        ("110105491231002", "110105", dt.date(1949, 12, 31), 2),
        ("310104880808123", "310104", dt.date(1988, 8, 8), 123),
        ("440305000228991", "440305", dt.date(1900, 2, 28), 991),
    ],
)
def test_fifteen_digit_numbers_are_converted(legacy, region, born, seq):
    expected = ref_id(region, born, seq)
    assert expected[6:8] == "19"
    assert normalize_id_number(legacy) == expected
    assert normalize_id_number(" " + legacy[:6] + " " + legacy[6:]) == expected


def test_fifteen_digit_conversion_checks_the_birth_date():
    # 15-digit 1900-02-29 does not exist (1900 is not a leap year).
    exc = error_of(normalize_id_number, "440305000229991")
    assert exc.code == "birth_date"


@pytest.mark.parametrize("value", ["", "   ", None, "\u3000"])
def test_required(value):
    exc = error_of(normalize_id_number, value)
    assert exc.code == "required"
    assert rendered(exc) == {"zh-hans": "请输入身份证号码。", "en": "Enter an ID number."}


@pytest.mark.parametrize(
    ("value", "n"),
    [("1101051949123100", 16), ("11010519491231002X1", 19), ("1", 1), ("11010519491231002", 17)],
)
def test_length(value, n):
    exc = error_of(normalize_id_number, value)
    assert exc.code == "length"
    assert rendered(exc) == {
        "zh-hans": f"身份证号码应为 18 位（旧号码 15 位），当前为 {n} 位。",
        "en": f"An ID number has 18 characters (or 15 for old numbers); this one has {n}.",
    }


@pytest.mark.parametrize(
    "value",
    [
        "1101051949123100X2",
        "X10105194912310021",
        "11010519491231002Y",
        "1101051949A231002X",
        "11010519491231002?",
    ],
)
def test_format_eighteen(value):
    exc = error_of(normalize_id_number, value)
    assert exc.code == "format"
    assert rendered(exc) == {
        "zh-hans": "身份证号码应为 17 位数字加 1 位数字或 X。",
        "en": "An ID number is 17 digits followed by a digit or X.",
    }


@pytest.mark.parametrize("value", ["11010549123100X", "1101054912310AB"])
def test_format_fifteen(value):
    exc = error_of(normalize_id_number, value)
    assert exc.code == "format"
    assert rendered(exc) == {
        "zh-hans": "15 位身份证号码只能包含数字。",
        "en": "A 15-digit ID number has digits only.",
    }


@pytest.mark.parametrize(
    "value",
    [
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits: NFKC keeps them, str.isdigit() accepts them
        "110105" + "١٩٤٩١٢٣١" + "002X",
        "1101051949123100" + "\u1369" + "X",  # Ethiopic digit one: isdigit() but int() fails
        "11010549123100\u1369",
    ],
)
def test_non_ascii_digits_are_rejected_not_crashing(value):
    exc = error_of(normalize_id_number, value)
    assert exc.code == "format"
    assert not is_valid_id_number(value)


@pytest.mark.parametrize(
    "prefix", ["00", "10", "19", "20", "39", "47", "55", "60", "66", "72", "80", "84", "99"]
)
def test_region(prefix):
    number = ref_id(prefix + "0101", dt.date(1990, 1, 1), 1)
    exc = error_of(normalize_id_number, number)
    assert exc.code == "region"
    assert rendered(exc) == {
        "zh-hans": f"身份证号码的地址码（{prefix}0101）不存在。",
        "en": f"The ID number starts with an unknown region code ({prefix}0101).",
    }


@pytest.mark.parametrize(
    "prefix",
    [
        *("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41"),
        *("42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71"),
        *("81", "82", "83"),
    ],
)
def test_every_province_prefix_is_accepted(prefix):
    number = ref_id(prefix + "0000", dt.date(1975, 6, 15), 88)
    assert normalize_id_number(number) == number


@pytest.mark.parametrize(
    "yyyymmdd",
    ["19900230", "19900431", "19901301", "19900001", "19900100", "19000229", "20230229", "20250631"],
)
def test_birth_date_not_a_real_date(yyyymmdd):
    first17 = "110101" + yyyymmdd + "001"
    exc = error_of(normalize_id_number, first17 + ref_id_check(first17))
    assert exc.code == "birth_date"
    assert rendered(exc) == {
        "zh-hans": f"身份证号码中的出生日期（{yyyymmdd}）不是有效日期。",
        "en": f"The date of birth in the ID number ({yyyymmdd}) is not a real date.",
    }


def test_leap_days_are_real_dates():
    for year in (1904, 1960, 2000, 2004, 2024):
        number = ref_id("110101", dt.date(year, 2, 29), 7)
        assert normalize_id_number(number) == number


@pytest.mark.parametrize(
    "born",
    [dt.date(1899, 12, 31), dt.date(1800, 1, 1), dt.date(2099, 1, 1), "tomorrow"],
)
def test_birth_date_out_of_range(born):
    # "tomorrow" is worked out when the test runs, not when it is collected: a run that crosses
    # midnight (Asia/Shanghai, 16:00 UTC) would otherwise ask about today.
    if born == "tomorrow":
        born = dt.date.today() + dt.timedelta(days=1)
    number = ref_id("110101", born, 1)
    exc = error_of(normalize_id_number, number)
    assert exc.code == "birth_date"
    yyyymmdd = born.strftime("%Y%m%d")
    assert rendered(exc) == {
        "zh-hans": f"身份证号码中的出生日期（{yyyymmdd}）超出合理范围。",
        "en": f"The date of birth in the ID number ({yyyymmdd}) is out of range.",
    }


def test_future_birth_date_relative_to_given_today():
    today = dt.date(2020, 6, 1)
    born_today = ref_id("110101", today, 1)
    assert normalize_id_number(born_today, today=today) == born_today
    tomorrow = ref_id("110101", today + dt.timedelta(days=1), 1)
    assert error_of(normalize_id_number, tomorrow, today=today).code == "birth_date"
    earliest = ref_id("110101", dt.date(1900, 1, 1), 1)
    assert normalize_id_number(earliest) == earliest


def test_checksum():
    number = ref_id("310104", dt.date(1988, 8, 8), 123)
    assert number[-1] == "8"
    for wrong in "012345679X":
        exc = error_of(normalize_id_number, number[:17] + wrong)
        assert exc.code == "checksum"
        assert rendered(exc) == {
            "zh-hans": f"身份证号码校验位错误：应为 8，实为 {wrong}。",
            "en": f"The ID number's check character is wrong: expected 8, got {wrong}.",
        }


def test_checksum_message_names_x():
    exc = error_of(normalize_id_number, "110105194912310020")
    assert exc.params == {"expected": "X", "got": "0"}
    assert rendered(exc)["en"] == "The ID number's check character is wrong: expected X, got 0."


def _random_ids(rng: random.Random, count: int):
    first, last = dt.date(1900, 1, 1).toordinal(), dt.date.today().toordinal()
    for _ in range(count):
        yield ref_id(rng.choice(REGIONS), dt.date.fromordinal(rng.randint(first, last)), rng.randint(0, 999))


def test_random_valid_numbers_are_accepted():
    rng = random.Random(11643)
    numbers = list(_random_ids(rng, 2000))
    assert any(n.endswith("X") for n in numbers)  # the sample covers the X check character
    for number in numbers:
        assert normalize_id_number(number) == number
        assert normalize_id_number(number.lower()) == number


def test_single_character_corruptions_are_rejected():
    rng = random.Random(7064)
    for number in _random_ids(rng, 300):
        for pos in range(18):
            alphabet = "0123456789X" if pos == 17 else "0123456789"
            wrong = rng.choice([c for c in alphabet if c != number[pos]])
            corrupted = number[:pos] + wrong + number[pos + 1 :]
            # MOD 11-2 detects every single substitution; a corrupted region or date may be caught first.
            assert not is_valid_id_number(corrupted), (number, corrupted)
            with pytest.raises(ValidationError) as info:
                normalize_id_number(corrupted)
            assert info.value.code in {"checksum", "region", "birth_date"}
            if pos >= 14:
                assert info.value.code == "checksum"


def test_adjacent_transpositions_are_rejected():
    rng = random.Random(2)
    for number in _random_ids(rng, 200):
        for pos in range(16):
            a, b = number[pos], number[pos + 1]
            if a == b:
                continue
            swapped = number[:pos] + b + a + number[pos + 2 :]
            assert not is_valid_id_number(swapped), (number, swapped)


@pytest.mark.parametrize(
    ("region", "born", "seq", "sex"),
    [
        ("110105", dt.date(1949, 12, 31), 2, "F"),
        ("110105", dt.date(1949, 12, 31), 3, "M"),
        ("511602", dt.date(1985, 3, 12), 13, "M"),
        ("440305", dt.date(2000, 2, 29), 990, "F"),
        ("810000", dt.date(1970, 1, 1), 101, "M"),
    ],
)
def test_id_number_facts(region, born, seq, sex):
    facts = id_number_facts(ref_id(region, born, seq))
    assert facts.region_code == region
    assert facts.birth_date == born
    assert facts.sex == sex


def test_id_number_facts_normalises_and_validates():
    facts = id_number_facts("110105491231002")  # 15-digit legacy form
    assert (facts.region_code, facts.birth_date, facts.sex) == ("110105", dt.date(1949, 12, 31), "F")
    with pytest.raises(ValidationError):
        id_number_facts("110105194912310021")


# --- GB 32100 unified social credit codes -------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the example commonly cited for GB 32100
        "91110108551385082Q",  # Xiaomi Inc.
        "914403001922038216",  # Huawei Technologies Co., Ltd.
        "91440300708461136T",  # Shenzhen Tencent Computer Systems Co., Ltd.
    ],
)
def test_published_credit_codes(code):
    assert ref_uscc_check(code[:17]) == code[17]  # the reference agrees with the published code
    assert normalize_uscc(code) == code
    assert normalize_uscc(code.lower()) == code
    assert normalize_uscc(f" {code[:2]} {code[2:8]}-{code[8:]} ") == code


def _random_uscc(rng: random.Random) -> str:
    first17 = (
        "".join(rng.choice(USCC_CHARS) for _ in range(2))
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    )
    return first17 + ref_uscc_check(first17)


def test_random_credit_codes_are_accepted_and_corruptions_rejected():
    rng = random.Random(32100)
    checks = set()
    for _ in range(1000):
        code = _random_uscc(rng)
        checks.add(code[17])
        assert normalize_uscc(code) == code
        pos = rng.randrange(18)
        alphabet = "0123456789" if 2 <= pos < 8 else USCC_CHARS
        wrong = rng.choice([c for c in alphabet if c != code[pos]])
        assert not is_valid_uscc(code[:pos] + wrong + code[pos + 1 :])
    assert len(checks) == 31  # every check value, including 0 (the "31" case), occurred


def test_credit_code_check_zero_case():
    # Find a body whose weighted sum is a multiple of 31: the check character is then "0".
    for n in range(10_000_000, 10_100_000):
        first17 = f"91110000{n:09d}"
        if sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_W, strict=True)) % 31 == 0:
            break
    assert normalize_uscc(first17 + "0") == first17 + "0"
    assert error_of(normalize_uscc, first17 + "Y").params == {"expected": "0", "got": "Y"}


@pytest.mark.parametrize("letter", "IOSVZ")
@pytest.mark.parametrize("pos", [0, 1, 8, 12, 16, 17])
def test_credit_code_forbidden_letters(letter, pos):
    code = "91350100M000100Y43"
    exc = error_of(normalize_uscc, code[:pos] + letter + code[pos + 1 :])
    assert exc.code == "format"
    assert rendered(exc) == {
        "zh-hans": "统一社会信用代码由数字和大写字母组成（不含 I、O、S、V、Z），第 3–8 位为行政区划码。",
        "en": "A unified social credit code uses digits and capital letters except I, O, S, V and Z, "
        "with a six-digit region code in positions 3–8.",
    }


@pytest.mark.parametrize("code", ["913501A0M000100Y43", "91350100M0001*0Y43", "91" + "٣٥٠١٠٠" + "M000100Y43"])
def test_credit_code_region_part_is_six_ascii_digits(code):
    assert error_of(normalize_uscc, code).code == "format"


@pytest.mark.parametrize(("code", "n"), [("91350100M000100Y4", 17), ("91350100M000100Y431", 19), ("9", 1)])
def test_credit_code_length(code, n):
    exc = error_of(normalize_uscc, code)
    assert exc.code == "length"
    assert exc.params == {"n": n}
    assert rendered(exc) == {
        "zh-hans": f"统一社会信用代码应为 18 位，当前为 {n} 位。",
        "en": f"A unified social credit code has 18 characters; this one has {n}.",
    }


def test_credit_code_wrong_check():
    exc = error_of(normalize_uscc, "91350100M000100Y44")
    assert exc.code == "checksum"
    assert rendered(exc) == {
        "zh-hans": "统一社会信用代码校验位错误：应为 3，实为 4。",
        "en": "The credit code's check character is wrong: expected 3, got 4.",
    }


@pytest.mark.parametrize("value", ["", None, "  "])
def test_credit_code_required(value):
    exc = error_of(normalize_uscc, value)
    assert exc.code == "required"
    assert rendered(exc) == {
        "zh-hans": "请输入统一社会信用代码。",
        "en": "Enter a unified social credit code.",
    }


# --- mobile numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13800138000",
        "+8613800138000",
        "+86 138 0013 8000",
        "0086-138-0013-8000",
        "138-0013-8000",
        "００８６１３８００１３８０００",
        " 13800138000 ",
    ],
)
def test_mobile_accepted_forms(value):
    assert normalize_mobile(value) == "13800138000"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_mobile_prefixes(prefix):
    assert normalize_mobile(prefix + "912345678") == prefix + "912345678"


@pytest.mark.parametrize(
    "value",
    [
        "12345678901",
        "10012345678",
        "23800138000",
        "1380013800",
        "138001380001",
        "8613800138000",
        "1380013800a",
        "+85213800138000",
        "138٠٠١٣٨٠٠٠",
    ],
)
def test_mobile_invalid(value):
    exc = error_of(normalize_mobile, value)
    assert exc.code == "format"
    assert rendered(exc) == {
        "zh-hans": "手机号码应为 11 位，以 13–19 开头。",
        "en": "A mainland mobile number has 11 digits and starts with 13–19.",
    }


@pytest.mark.parametrize("value", ["", None, " - "])
def test_mobile_required(value):
    exc = error_of(normalize_mobile, value)
    assert exc.code == "required"
    assert rendered(exc) == {"zh-hans": "请输入手机号码。", "en": "Enter a mobile number."}


# --- GB/T 2260 region codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("110000", "province", None),
        ("510000", "province", None),
        ("110100", "city", "110000"),
        ("511600", "city", "510000"),
        ("110101", "county", "110100"),
        ("500103", "county", "500100"),
        ("511602", "county", "511600"),
        ("110101001", "township", "110101"),
        ("511602100", "township", "511602"),
        ("110101001001", "village", "110101001"),
        ("511602100201", "village", "511602100"),
    ],
)
def test_region_levels_and_parents(code, level, parent):
    assert normalize_region_code(code) == code
    assert region_level(code) == level
    assert region_parent_code(code) == parent


def test_region_code_input_is_compacted():
    assert normalize_region_code(" 110 101 ") == "110101"
    assert normalize_region_code("１１０１０１") == "110101"
    assert region_level("110101 001") == "township"
    assert region_parent_code("110 101") == "110100"
    assert region_parent_code("110101 001") == "110101"


@pytest.mark.parametrize(
    "value", ["", "11010", "1101010", "11010100", "1101010010", "11010a", "110101001001001", "11٠١٠١", None]
)
def test_region_code_format(value):
    exc = error_of(normalize_region_code, value)
    assert exc.code == "format"
    assert rendered(exc) == {
        "zh-hans": "行政区划代码为 6 位（县级以下为 9 位或 12 位）。",
        "en": "A region code has 6 digits (9 or 12 below county level).",
    }


@pytest.mark.parametrize(
    "prefix",
    ["00", "10", "16", "24", "30", "38", "40", "47", "49", "55", "60", "66", "70", "80", "84", "90", "99"],
)
def test_region_code_unknown_province(prefix):
    exc = error_of(normalize_region_code, prefix + "0101")
    assert exc.code == "region"
    assert rendered(exc) == {
        "zh-hans": f"省级代码 {prefix} 不存在。",
        "en": f"Unknown province code {prefix}.",
    }


def test_region_code_structure():
    exc = error_of(normalize_region_code, "110001")
    assert exc.code == "structure"
    assert rendered(exc) == {
        "zh-hans": "县级代码须包含地市部分，110001 缺少。",
        "en": "A county code needs a city part; 110001 has none.",
    }
    for code in ("110100001", "110000001", "110100001001"):
        exc = error_of(normalize_region_code, code)
        assert exc.code == "structure"
        assert rendered(exc)["en"] == "Township and village codes extend a county code."
    with pytest.raises(ValidationError):
        region_level("110001")
    with pytest.raises(ValidationError):
        region_parent_code("110100001")
