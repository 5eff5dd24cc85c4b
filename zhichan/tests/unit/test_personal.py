"""Personal data: whole for officers and admins, masked for every other reader."""

import pytest

from zhichan.auth import User
from zhichan.personal import mask_contact, mask_id_number, mask_name, sees_personal_data, shown


def test_an_identity_card_number_keeps_its_first_and_last_four():
    assert mask_id_number("320311198001011234") == "3203**********1234"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_id_number("12345678") == "********"


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("李小明", "李**"), ("阿依古丽·买买提", "阿***·***"), ("王", "*")]
)
def test_a_name_keeps_its_first_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("contact", "masked"),
    [
        ("13812345678", "138****5678"),
        ("李女士 13912345678", "李** 139****5678"),
        ("0511-85012345", "051*-****2345"),
        ("+86 138 1234 5678", "+86 1** **** 5678"),
        ("zhang.san@example.cn", "z****.***@example.cn"),
    ],
)
def test_a_contact_is_masked_word_by_word(contact, masked):
    assert mask_contact(contact) == masked


@pytest.mark.parametrize(
    ("roles", "whole"),
    [(["officer"], True), (["admin"], True), (["auditor"], False), (["department"], False), (["public"], False)],
)
def test_only_officers_and_admins_see_it_whole(roles, whole):
    user = User(sub="u", roles=roles, regions=["321100"])
    assert sees_personal_data(user) is whole
    expected = "320311198001011234" if whole else "3203**********1234"
    assert shown(user, "320311198001011234", mask_id_number) == expected
    assert shown(user, None, mask_id_number) is None


def test_no_caller_sees_it_masked():
    assert shown(None, "13812345678", mask_contact) == "138****5678"
