import random

from routecare.people import shortcode


def test_generated_codes_are_valid_and_formatted() -> None:
    for _ in range(200):
        code = shortcode.draw()
        assert code.startswith("RC-")
        assert len(code) == 11
        assert shortcode.is_valid(shortcode.normalise(code) or "")


def test_every_single_substitution_fails_the_check() -> None:
    rng = random.Random(1)
    for _ in range(50):
        compact = shortcode.normalise(shortcode.draw())
        assert compact is not None
        position = rng.randrange(7)
        for symbol in shortcode.ALPHABET:
            if symbol != compact[position]:
                typo = compact[:position] + symbol + compact[position + 1 :]
                assert not shortcode.is_valid(typo)


def test_typo_candidates_include_the_right_code() -> None:
    code = shortcode.draw()
    compact = shortcode.normalise(code)
    assert compact is not None
    wrong = "Z" if compact[2] != "Z" else "Y"
    typo = compact[:2] + wrong + compact[3:]
    assert code in shortcode.typo_candidates(typo)
    swapped = compact[1] + compact[0] + compact[2:]
    if swapped != compact and not shortcode.is_valid(swapped):
        assert code in shortcode.typo_candidates(swapped)


def test_normalise_accepts_how_people_type_codes() -> None:
    code = shortcode.draw()
    compact = code.replace("RC-", "").replace("-", "")
    assert shortcode.normalise(code.lower()) == compact
    assert shortcode.normalise(compact) == compact
    assert shortcode.normalise(f" rc {compact[:4]} {compact[4:]} ") == compact
    assert shortcode.normalise("RC-OOOO-OOO") == "0000000"
    assert shortcode.normalise("hello") is None
    assert shortcode.normalise("") is None
    assert shortcode.normalise("RC-1234-56U") is None
