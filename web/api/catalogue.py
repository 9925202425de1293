"""The catalogue of refusals, for pages that check input before sending it: the same sentences
the API answers with (school.catalogue), in the asked language."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from school import catalogue
from web.routing import Api, Call


class CatalogueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: Literal["vi", "en"] | None = None


class CatalogueOut(BaseModel):
    lang: str
    messages: dict[str, str]


def register(api: Api) -> None:
    @api.route("GET", "/api/catalogue", summary="The sentences of refusals", tag="meta", query=CatalogueQuery,
               response=CatalogueOut, public=True, unit_of_work=False,
               description="Every refusal's sentence by code (and `field:code`), in `lang` or the "
                           "Accept-Language's; what the API says in `message` comes from the same catalogue.")
    async def get_catalogue(call: Call) -> CatalogueOut:
        lang = call.query.lang or catalogue.negotiate(call.request.headers.get("Accept-Language"))
        return CatalogueOut(lang=lang, messages=catalogue.entries(lang))
