"""Who an access terminal knows: UserInfo (Record, Modify, SetUp, Delete, Count, Search, UserInfoDetail),
CardInfo (the same verbs) and faces in the FDLib (FaceDataRecord multipart, FDSetUp, FDSearch, FDSearch/Delete).

Errors are the ones firmware gives (``employeeNoAlreadyExist``, ``employeeNotExist``, ``cardNoAlreadyExist``,
``badParameters`` naming the field); deleting a person deletes their cards and face, as on devices.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web
from PIL import Image, UnidentifiedImageError

from .documents import IsapiRequestError, as_list, bad_parameter, document, json_response, read_json, response_status
from .paging import SearchPager, employee_filter

if TYPE_CHECKING:
    from .device import IsapiDeviceSimulator

DEFAULT_VALID = {
    "enable": True,
    "beginTime": "2020-01-01T00:00:00",
    "endTime": "2037-12-31T23:59:59",
    "timeType": "local",
}
MAX_FACE_BYTES = 200 * 1024  # devices refuse face pictures over about 200 KB


class People:
    """Users, their cards and their faces on one device."""

    def __init__(self, device: IsapiDeviceSimulator, *, max_results: int = 30) -> None:
        self.device = device
        self.users: dict[str, dict[str, Any]] = {}
        self.cards: dict[str, dict[str, Any]] = {}  # cardNo -> CardInfo
        self.faces: dict[tuple[str, str], bytes] = {}  # (FDID, FPID) -> JPEG
        self.user_pager = SearchPager(cap=max_results)
        self.card_pager = SearchPager(cap=max_results)
        self.face_pager = SearchPager(cap=max_results)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        base = "/ISAPI/AccessControl/"
        router.add_post(base + "UserInfo/Record", self._user_record)
        router.add_put(base + "UserInfo/Modify", self._user_modify)
        router.add_put(base + "UserInfo/SetUp", self._user_set_up)
        router.add_put(base + "UserInfo/Delete", self._user_delete)
        router.add_get(base + "UserInfo/Count", self._user_count)
        router.add_post(base + "UserInfo/Search", self._user_search)
        router.add_put(base + "UserInfoDetail/Delete", self._user_detail_delete)
        router.add_get(base + "UserInfoDetail/DeleteProcess", self._user_detail_progress)
        router.add_post(base + "CardInfo/Record", self._card_record)
        router.add_put(base + "CardInfo/Modify", self._card_modify)
        router.add_put(base + "CardInfo/SetUp", self._card_set_up)
        router.add_put(base + "CardInfo/Delete", self._card_delete)
        router.add_get(base + "CardInfo/Count", self._card_count)
        router.add_post(base + "CardInfo/Search", self._card_search)
        router.add_post("/ISAPI/Intelligent/FDLib/FaceDataRecord", self._face_record)
        router.add_put("/ISAPI/Intelligent/FDLib/FDSetUp", self._face_set_up)
        router.add_post("/ISAPI/Intelligent/FDLib/FDSearch", self._face_search)
        router.add_put("/ISAPI/Intelligent/FDLib/FDSearch/Delete", self._face_delete)
        router.add_get("/LOCALS/pic/enrlFace/{fdid}/{fpid}.jpg", self._face_picture)

    # ------------------------------------------------------------------------------------------ users

    def _user_view(self, user: dict[str, Any]) -> dict[str, Any]:
        number = user["employeeNo"]
        return {
            **user,
            "numOfCard": sum(1 for card in self.cards.values() if card["employeeNo"] == number),
            "numOfFace": sum(1 for _, fpid in self.faces if fpid == number),
            "numOfFP": 0,
        }

    @staticmethod
    def _normal_user(raw: Any, index: int) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            raise bad_parameter(f"UserInfo[{index}]", "is not an object")
        number = raw.get("employeeNo")
        if not isinstance(number, str | int) or not str(number).strip() or len(str(number)) > 32:
            raise bad_parameter(f"UserInfo[{index}].employeeNo")
        user: dict[str, Any] = {
            "employeeNo": str(number),
            "name": str(raw.get("name", "")),
            "userType": raw.get("userType", "normal"),
            "Valid": dict(raw.get("Valid") or DEFAULT_VALID),
            "doorRight": str(raw.get("doorRight", "1")),
            "RightPlan": list(raw.get("RightPlan") or [{"doorNo": 1, "planTemplateNo": "1"}]),
            "gender": raw.get("gender", "unknown"),
        }
        if user["userType"] not in ("normal", "visitor", "blackList"):
            raise bad_parameter(f"UserInfo[{index}].userType", "must be normal, visitor or blackList")
        return user

    async def _users_in(self, request: web.Request) -> list[dict[str, Any]]:
        body = await read_json(request)
        if "UserInfo" not in body:
            raise bad_parameter("UserInfo")
        users = [self._normal_user(raw, index) for index, raw in enumerate(as_list(body["UserInfo"]))]
        if not users:
            raise bad_parameter("UserInfo", "is empty")
        return users

    async def _user_record(self, request: web.Request) -> web.Response:
        users = await self._users_in(request)
        for user in users:
            if user["employeeNo"] in self.users:
                raise IsapiRequestError(6, "employeeNoAlreadyExist", f"employeeNo {user['employeeNo']} already exists")
        self.users.update((user["employeeNo"], user) for user in users)
        return response_status(request)

    async def _user_modify(self, request: web.Request) -> web.Response:
        users = await self._users_in(request)
        for user in users:
            if user["employeeNo"] not in self.users:
                raise IsapiRequestError(6, "employeeNotExist", f"employeeNo {user['employeeNo']} does not exist")
        self.users.update((user["employeeNo"], user) for user in users)
        return response_status(request)

    async def _user_set_up(self, request: web.Request) -> web.Response:
        self.users.update((user["employeeNo"], user) for user in await self._users_in(request))
        return response_status(request)

    async def _user_delete(self, request: web.Request) -> web.Response:
        cond = await read_json(request, "UserInfoDelCond")
        numbers = employee_filter(cond)
        if not numbers:
            raise bad_parameter("EmployeeNoList")
        missing = sorted(number for number in numbers if number not in self.users)
        self.delete_users(numbers)
        if missing:
            raise IsapiRequestError(6, "employeeNotExist", f"employeeNo {', '.join(missing)} does not exist")
        return response_status(request)

    def delete_users(self, numbers: set[str]) -> None:
        for number in numbers:
            self.users.pop(number, None)
        self.cards = {no: card for no, card in self.cards.items() if card["employeeNo"] not in numbers}
        self.faces = {key: jpeg for key, jpeg in self.faces.items() if key[1] not in numbers}

    async def _user_detail_delete(self, request: web.Request) -> web.Response:
        detail = await read_json(request, "UserInfoDetail")
        mode = detail.get("mode", "all")
        if mode == "all":
            self.delete_users(set(self.users))
        elif mode == "byEmployeeNo":
            self.delete_users(employee_filter(detail))
        else:
            raise bad_parameter("UserInfoDetail.mode", "must be all or byEmployeeNo")
        return response_status(request)

    async def _user_detail_progress(self, request: web.Request) -> web.Response:
        return document(request, "UserInfoDetailDeleteProcess", {"status": "success"})

    async def _user_count(self, request: web.Request) -> web.Response:
        users = list(self.users.values())
        views = [self._user_view(user) for user in users]
        return document(
            request,
            "UserInfoCount",
            {
                "userNumber": len(users),
                "bindFaceUserNumber": sum(1 for view in views if view["numOfFace"]),
                "bindCardUserNumber": sum(1 for view in views if view["numOfCard"]),
            },
        )

    async def _user_search(self, request: web.Request) -> web.Response:
        cond = await read_json(request, "UserInfoSearchCond")
        wanted = employee_filter(cond)
        users, fields = self.user_pager.page(
            cond, lambda: [user for number, user in self.users.items() if not wanted or number in wanted]
        )
        payload = dict(fields)
        if users:
            payload["UserInfo"] = [self._user_view(user) for user in users]
        return document(request, "UserInfoSearch", payload)

    # ------------------------------------------------------------------------------------------ cards

    def _normal_card(self, raw: Any, index: int) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            raise bad_parameter(f"CardInfo[{index}]", "is not an object")
        number, card_no = raw.get("employeeNo"), raw.get("cardNo")
        if not number or not isinstance(number, str | int):
            raise bad_parameter(f"CardInfo[{index}].employeeNo")
        if not card_no or not isinstance(card_no, str | int) or len(str(card_no)) > 32:
            raise bad_parameter(f"CardInfo[{index}].cardNo")
        if str(number) not in self.users:
            raise IsapiRequestError(6, "employeeNotExist", f"employeeNo {number} does not exist")
        return {"employeeNo": str(number), "cardNo": str(card_no), "cardType": raw.get("cardType", "normalCard")}

    async def _cards_in(self, request: web.Request) -> list[dict[str, Any]]:
        body = await read_json(request)
        if "CardInfo" not in body:
            raise bad_parameter("CardInfo")
        cards = [self._normal_card(raw, index) for index, raw in enumerate(as_list(body["CardInfo"]))]
        if not cards:
            raise bad_parameter("CardInfo", "is empty")
        return cards

    async def _card_record(self, request: web.Request) -> web.Response:
        cards = await self._cards_in(request)
        for card in cards:
            if card["cardNo"] in self.cards:
                raise IsapiRequestError(6, "cardNoAlreadyExist", f"cardNo {card['cardNo']} already exists")
        self.cards.update((card["cardNo"], card) for card in cards)
        return response_status(request)

    async def _card_modify(self, request: web.Request) -> web.Response:
        cards = await self._cards_in(request)
        for card in cards:
            if card["cardNo"] not in self.cards:
                raise IsapiRequestError(6, "cardNoNotExist", f"cardNo {card['cardNo']} does not exist")
        self.cards.update((card["cardNo"], card) for card in cards)
        return response_status(request)

    async def _card_set_up(self, request: web.Request) -> web.Response:
        self.cards.update((card["cardNo"], card) for card in await self._cards_in(request))
        return response_status(request)

    async def _card_delete(self, request: web.Request) -> web.Response:
        cond = await read_json(request, "CardInfoDelCond")
        card_nos = employee_filter(cond, "CardNoList", "cardNo")
        numbers = employee_filter(cond)
        if not card_nos and not numbers:
            raise bad_parameter("CardNoList")
        self.cards = {
            no: card for no, card in self.cards.items() if no not in card_nos and card["employeeNo"] not in numbers
        }
        return response_status(request)

    async def _card_count(self, request: web.Request) -> web.Response:
        number = request.query.get("employeeNo")
        count = sum(1 for card in self.cards.values() if number is None or card["employeeNo"] == number)
        return document(request, "CardInfoCount", {"cardNumber": count})

    async def _card_search(self, request: web.Request) -> web.Response:
        cond = await read_json(request, "CardInfoSearchCond")
        numbers = employee_filter(cond)
        card_nos = employee_filter(cond, "CardNoList", "cardNo")
        cards, fields = self.card_pager.page(
            cond,
            lambda: [
                card
                for no, card in self.cards.items()
                if (not numbers or card["employeeNo"] in numbers) and (not card_nos or no in card_nos)
            ],
        )
        payload = dict(fields)
        if cards:
            payload["CardInfo"] = cards
        return document(request, "CardInfoSearch", payload)

    # ------------------------------------------------------------------------------------------ faces

    async def _face_upload(self, request: web.Request) -> tuple[dict[str, Any], bytes]:
        if not request.content_type.startswith("multipart/"):
            raise IsapiRequestError(6, "badParameters", "FaceDataRecord must be multipart/form-data with a JPEG part")
        record: dict[str, Any] | None = None
        jpeg: bytes | None = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            content = await part.read()
            if part.name == "FaceDataRecord" or (part.headers.get("Content-Type", "").startswith("application/json")):
                try:
                    parsed = json.loads(content)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise IsapiRequestError(6, "badJsonFormat", "FaceDataRecord is not JSON") from None
                if not isinstance(parsed, dict):
                    raise bad_parameter("FaceDataRecord", "is not an object")
                record = parsed
            else:
                jpeg = content
        if record is None:
            raise bad_parameter("FaceDataRecord")
        if not jpeg:
            raise bad_parameter("img", "(the face picture) is missing")
        if len(jpeg) > MAX_FACE_BYTES:
            raise IsapiRequestError(6, "badParameters", f"img is {len(jpeg)} bytes; at most {MAX_FACE_BYTES}")
        _check_jpeg(jpeg)
        fpid = record.get("FPID")
        if not fpid:
            raise bad_parameter("FPID")
        if str(fpid) not in self.users:
            raise IsapiRequestError(6, "employeeNotExist", f"FPID {fpid} is not a user's employeeNo")
        return record, jpeg

    async def _face_record(self, request: web.Request) -> web.Response:
        record, jpeg = await self._face_upload(request)
        key = (str(record.get("FDID", "1")), str(record["FPID"]))
        if key in self.faces:
            raise IsapiRequestError(6, "deviceUserAlreadyExistFace", f"FPID {key[1]} already has a face")
        self.faces[key] = jpeg
        return response_status(request, extra={"FPID": key[1]})

    async def _face_set_up(self, request: web.Request) -> web.Response:
        record, jpeg = await self._face_upload(request)
        self.faces[(str(record.get("FDID", "1")), str(record["FPID"]))] = jpeg
        return response_status(request, extra={"FPID": str(record["FPID"])})

    async def _face_search(self, request: web.Request) -> web.Response:
        cond = await read_json(request)
        fdid = str(cond.get("FDID", "1"))
        fpid = cond.get("FPID")
        faces, fields = self.face_pager.page(
            cond,
            lambda: [key for key in self.faces if key[0] == fdid and (not fpid or key[1] == str(fpid))],
            require_id=False,
        )
        base = self.device.url
        payload: dict[str, Any] = {
            "requestURL": request.path,
            "statusCode": 1,
            "statusString": "OK",
            "subStatusCode": "ok",
            **fields,
        }
        if faces:
            payload["MatchList"] = [
                {"FPID": key[1], "faceURL": f"{base}/LOCALS/pic/enrlFace/{key[0]}/{key[1]}.jpg", "modelData": ""}
                for key in faces
            ]
        return json_response(payload)

    async def _face_delete(self, request: web.Request) -> web.Response:
        fdid = request.query.get("FDID", "1")
        body = await read_json(request)
        entries = body.get("FPID")
        if not isinstance(entries, list) or not entries:
            raise bad_parameter("FPID", "must be a list of {value}")
        for entry in entries:
            if not isinstance(entry, Mapping) or not entry.get("value"):
                raise bad_parameter("FPID.value")
            self.faces.pop((fdid, str(entry["value"])), None)
        return response_status(request)

    async def _face_picture(self, request: web.Request) -> web.Response:
        jpeg = self.faces.get((request.match_info["fdid"], request.match_info["fpid"]))
        if jpeg is None:
            raise IsapiRequestError(4, "notSupport", "no such face picture", http_status=404)
        return web.Response(body=jpeg, content_type="image/jpeg")


def _check_jpeg(data: bytes) -> None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG":
                raise IsapiRequestError(6, "badParameters", f"img is {image.format}, not JPEG")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise IsapiRequestError(6, "badParameters", "img is not a readable JPEG") from None
