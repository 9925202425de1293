"""Refusals in the asker's language from one catalogue: stable machine codes and field names, the
sentence in Vietnamese for `Accept-Language: vi` (what the web UI sends), English otherwise."""
from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient

from school import catalogue
from school.catalogue import common
from school.errors import Conflict, InvalidField
from web.errors import school_error_response

VI = {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}


@pytest.mark.parametrize(("header", "lang"), [
    (None, "en"), ("", "en"), ("vi", "vi"), ("vi-VN,vi;q=0.9,en;q=0.8", "vi"), ("en-US,en;q=0.9,vi;q=0.5", "en"),
    ("fr-FR,vi;q=0.4", "vi"), ("de, fr", "en"), ("vi;q=abc", "vi"),
])
def test_the_language_is_negotiated_from_accept_language(header: str | None, lang: str) -> None:
    assert catalogue.negotiate(header) == lang


def test_every_entry_has_both_languages_and_placeholders_that_agree() -> None:
    for key, entry in catalogue.CATALOGUE.items():
        assert set(entry) == {"vi", "en"}, key
        assert entry["vi"].strip() and entry["en"].strip(), key
        # A param may come worded per language: `what_vi` in the Vietnamese, `what_en` in the English.
        holes = {lang: sorted(part.split("}")[0].removesuffix(f"_{lang}") for part in text.split("{")[1:])
                 for lang, text in entry.items()}
        assert holes["vi"] == holes["en"], f"{key}: {holes}"


def test_a_sentence_fills_its_params_and_prefers_the_field_wording() -> None:
    assert catalogue.text("too_long", "vi", {"max_length": 32}) == "Tối đa 32 ký tự."
    assert catalogue.text("too_short", "vi", {"min_length": 8}, field="password") == "Mật khẩu cần ít nhất 8 ký tự."
    assert catalogue.text("too_short", "vi", {"min_length": 8}, field="name") == "Cần ít nhất 8 ký tự."
    assert catalogue.text("no_such_code", "vi") is None
    assert catalogue.text("too_long", "en", {}) == "At most {max_length} characters.", "a missing param stays visible"


def test_school_refusals_with_a_reason_are_worded_from_the_catalogue() -> None:
    def said(response: object) -> dict[str, object]:
        return json.loads(response.body)["error"]  # type: ignore[attr-defined]

    blank = school_error_response(InvalidField("name", "may not be blank", reason="blank"), "vi")
    assert blank.status == 422
    assert said(blank) == {"code": "validation_error", "reason": "blank", "message": "Không được để trống.",
                           "fields": [{"field": "name", "code": "blank", "params": {},
                                       "message": "Không được để trống."}]}
    taken = said(school_error_response(Conflict("taken", reason="conflict", field="username"), "en"))
    assert (taken["code"], taken["reason"], taken["message"]) == ("conflict", "conflict", "This already exists.")
    # Without a reason the English detail is all there is: kept, not replaced by a vague sentence.
    plain = said(school_error_response(Conflict("class 10A1 already exists"), "vi"))
    assert plain == {"code": "conflict", "message": "class 10A1 already exists"}


async def test_the_catalogue_is_served_to_pages_in_either_language(client: TestClient) -> None:
    vi = await client.get("/api/catalogue", params={"lang": "vi"})
    assert vi.status == 200
    body = await vi.json()
    assert body["lang"] == "vi"
    assert body["messages"]["too_long"] == common.MESSAGES["too_long"]["vi"]
    assert body["messages"]["username:bad_format"].startswith("Tên đăng nhập")
    by_header = await (await client.get("/api/catalogue", headers={"Accept-Language": "en-GB"})).json()
    assert by_header["lang"] == "en" and by_header["messages"]["required"] == "This field is required."
    refused = await client.get("/api/catalogue", params={"lang": "fr"})
    assert refused.status == 422
    assert (await refused.json())["error"]["fields"][0]["code"] == "not_allowed"


async def test_body_errors_carry_codes_params_and_sentences_in_the_asked_language(
    client: TestClient, admin: dict[str, str]
) -> None:
    too_long = {"username": "bad name!", "password": "short", "full_name": "A" * 201, "role": "teacher"}
    english = await client.post("/api/users", headers=admin, json=too_long)
    assert english.status == 422
    fields = {f["field"]: f for f in (await english.json())["error"]["fields"]}
    assert fields["full_name"]["code"] == "too_long" and fields["full_name"]["params"]["max_length"] == 200
    assert fields["full_name"]["message"] == "At most 200 characters."
    assert fields["username"]["code"] == "bad_format"
    assert fields["password"]["code"] == "too_short"

    vietnamese = await client.post("/api/users", headers={**admin, **VI}, json=too_long)
    error = (await vietnamese.json())["error"]
    assert error["code"] == "validation_error" and error["message"] == "Thông tin gửi lên chưa hợp lệ."
    said = {f["field"]: f["message"] for f in error["fields"]}
    assert said["full_name"] == "Tối đa 200 ký tự."
    assert said["username"].startswith("Tên đăng nhập gồm 3–64 ký tự")
    assert said["password"] == "Mật khẩu cần ít nhất 8 ký tự."
    assert "String should" not in str(error), "no validator English in a Vietnamese answer"


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"full_name": "Lan\r\nAdmin"}, "full_name", "control_characters"),
    ({"role": "principal"}, "role", "not_allowed"),
    ({"surprise": 1}, "surprise", "unknown_field"),
    ({"class_id": True, "role": "student"}, "class_id", "not_integer"),
    ({"class_id": 3, "role": "teacher"}, "body", "class_only_for_students"),
])
async def test_each_kind_of_bad_value_has_its_code_and_a_vietnamese_sentence(
    client: TestClient, admin: dict[str, str], body: dict[str, object], field: str, code: str
) -> None:
    sent = {"username": "gv.moi", "password": "mat-khau-123", "full_name": "Giáo viên mới", "role": "teacher", **body}
    response = await client.post("/api/users", headers={**admin, **VI}, json=sent)
    assert response.status == 422
    found = [f for f in (await response.json())["error"]["fields"] if f["field"] == field]
    assert [f["code"] for f in found] == [code]
    assert found[0]["message"] == catalogue.text(code, "vi", found[0]["params"], field)


async def test_a_school_year_ending_before_it_starts_is_refused_on_its_end(client: TestClient, admin: dict[str, str]) -> None:
    response = await client.post("/api/school-years", headers={**admin, **VI},
                                 json={"name": "2030-2031", "starts_on": "2030-09-01", "ends_on": "2030-08-01"})
    assert response.status == 422
    (field,) = (await response.json())["error"]["fields"]
    assert (field["field"], field["code"], field["message"]) == ("ends_on", "ends_before_start",
                                                                 "Ngày kết thúc phải sau ngày bắt đầu.")
