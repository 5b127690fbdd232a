"""The contenders of ``compare_sdk.py`` and the checks that they send the same hashes.

* ``SDK``: Meta's Python SDK (facebook-business) building the request parameters;
* ``capic``: a compiled rule module and the request bodies as capic's deliverer builds them;
* ``floor``: only the SHA-256 of the already-normalized values and the JSON encoding.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

import _common
from _common import BENCH_TOKEN, PIXEL_ID

BATCH = 1000
#: The record sets: names and cities drawn from small pools (as a shop's customers repeat
#: them), or never repeating (nothing a cache or memo holds is found again).
VARIANTS = ("repeating", "unique")
VARIANT_TEXT = {
    "repeating": "first names, last names and cities drawn from pools of 60, 65 and 30",
    "unique": "every record has its own first name, last name and city",
}
#: The hashed keys, in the order the floor hashes them.
HASHED = ("em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country", "external_id")
#: Keys where the SDK applies Meta's rules: capic must send the very same hashes.
MUST_AGREE = ("em", "ph", "ct", "zp", "ge")
#: Keys where the SDK is weaker than Meta's rules but the generated records are plain enough
#: for both to agree (reported, not required).
MAY_AGREE = ("fn", "ln", "db", "st", "country")
_CUSTOMER_KEY = {
    "em": "email",
    "ph": "phone",
    "fn": "first_name",
    "ln": "last_name",
    "db": "dob",
    "ge": "gender",
    "ct": "city",
    "st": "state",
    "zp": "zip",
    "country": "country",
    "external_id": "id",
}


# --------------------------------------------------------------------------------------------
# SDK


def load_sdk() -> tuple[Callable[[Sequence[dict]], Any], Callable[[dict], dict]]:
    """(batch function, one-event normalizer) of the SDK contender; ImportError if missing."""
    from facebook_business.adobjects.serverside.action_source import ActionSource
    from facebook_business.adobjects.serverside.content import Content
    from facebook_business.adobjects.serverside.custom_data import CustomData
    from facebook_business.adobjects.serverside.event import Event
    from facebook_business.adobjects.serverside.event_request import EventRequest
    from facebook_business.adobjects.serverside.gender import Gender
    from facebook_business.adobjects.serverside.user_data import UserData

    try:  # what FacebookAdsApi.call() applies to the params before requests form-encodes them
        from facebook_business.api import _top_level_param_json_encode as encode_params
    except ImportError:  # pragma: no cover - older/newer SDK layouts

        def encode_params(params: dict) -> dict:
            return {k: json.dumps(v) if isinstance(v, list) else v for k, v in params.items()}

    genders = {"m": Gender.MALE, "f": Gender.FEMALE}
    website = ActionSource.WEBSITE

    def event_of(r: dict) -> Any:
        c = r["customer"]
        o = r["order"]
        item = o["items"][0]
        user = UserData(
            email=c["email"],
            phone=c["phone"],
            first_name=c["first_name"],
            last_name=c["last_name"],
            date_of_birth=c["dob"],
            gender=genders[c["gender"]],
            city=c["city"],
            state=c["state"],
            zip_code=c["zip"],
            country_code=c["country"],
            external_id=c["id"],
            client_ip_address=r["ip"],
            client_user_agent=r["user_agent"],
            fbc=r["fbc"],
            fbp=r["fbp"],
        )
        custom = CustomData(
            value=o["value"],
            currency=o["currency"],
            order_id=o["id"],
            content_type="product",
            contents=[
                Content(product_id=item["sku"], quantity=item["quantity"], item_price=item["price"])
            ],
        )
        return Event(
            event_name="Purchase",
            event_time=r["time"],
            event_id=o["id"],
            event_source_url=r["url"],
            action_source=website,
            user_data=user,
            custom_data=custom,
        )

    def batch(records: Sequence[dict]) -> Any:
        request = EventRequest(events=[event_of(r) for r in records], pixel_id=PIXEL_ID)
        return encode_params(request.get_params())

    def one(r: dict) -> dict:
        return event_of(r).normalize()

    return batch, one


# --------------------------------------------------------------------------------------------
# capic


def load_capic(root: Path) -> tuple[Callable[[Sequence[dict]], bytes], Callable[[dict], dict]]:
    from capic.runtime.delivery.destination import Destination
    from capic.runtime.delivery.transport import build_body
    from capic.runtime.secrets import SecretRef

    module = _common.compile_module(root)
    process = module.process
    dumps = orjson.dumps
    dest = Destination(PIXEL_ID, _common.API_VERSION, SecretRef.env(_common.TOKEN_ENV))

    def batch(records: Sequence[dict]) -> bytes:
        bodies = [dumps(e.event) for r in records for e in process(r)]
        return build_body(dest, BENCH_TOKEN, bodies)

    def one(r: dict) -> dict:
        emitted = process(r)
        if len(emitted) != 1:
            raise SystemExit(f"the benchmark rule emitted {len(emitted)} events for one record")
        return emitted[0].event

    return batch, one


# --------------------------------------------------------------------------------------------
# floor


def fastest_sha256() -> tuple[Callable[[bytes], Any], str]:
    """The quickest SHA-256 constructor here (OpenSSL's or CPython's built-in module)."""
    candidates: list[tuple[str, Callable[[bytes], Any]]] = [("hashlib.sha256", hashlib.sha256)]
    for module_name in ("_sha2", "_sha256"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        candidates.append((f"{module_name}.sha256", module.sha256))
        break
    sample = [f"value-{n}@example.com".encode() for n in range(2000)]
    best: tuple[float, str, Callable[[bytes], Any]] | None = None
    for name, fn in candidates:
        elapsed = min(_time_hashes(fn, sample) for _ in range(3))
        if best is None or elapsed < best[0]:
            best = (elapsed, name, fn)
    assert best is not None
    return best[2], best[1]


def _time_hashes(fn: Callable[[bytes], Any], sample: list[bytes]) -> float:
    start = time.perf_counter()
    for b in sample:
        fn(b).hexdigest()
    return time.perf_counter() - start


def prepare_floor(records: Sequence[dict]) -> list[tuple[tuple[str, ...], dict, dict]]:
    """Per record: the 11 normalized strings (capic's normalization, computed here untimed),
    the pass-through user_data fields, and the rest of the event, ready to encode."""
    from capic.runtime.normalize import normalize

    prepared = []
    for r in records:
        c = r["customer"]
        o = r["order"]
        normalized = []
        for key in HASHED:
            value = normalize(key, c[_CUSTOMER_KEY[key]], default_country="us", dob_order="mdy")
            assert value is not None, (key, c[_CUSTOMER_KEY[key]])
            normalized.append(value)
        clear = {
            "client_ip_address": r["ip"],
            "client_user_agent": r["user_agent"],
            "fbc": r["fbc"],
            "fbp": r["fbp"],
        }
        item = o["items"][0]
        base = {
            "event_name": "Purchase",
            "event_time": r["time"],
            "event_id": o["id"],
            "action_source": "website",
            "event_source_url": r["url"],
            "custom_data": {
                "currency": o["currency"],
                "value": o["value"],
                "order_id": o["id"],
                "content_type": "product",
                "contents": [
                    {"id": item["sku"], "quantity": item["quantity"], "item_price": item["price"]}
                ],
            },
        }
        prepared.append((tuple(normalized), clear, base))
    return prepared


def make_floor(sha: Callable[[bytes], Any]) -> Callable[[Sequence[Any]], bytes]:
    dumps = orjson.dumps

    def batch(prepared: Sequence[Any]) -> bytes:
        events = []
        for (em, ph, fn, ln, db, ge, ct, st, zp, country, xid), clear, base in prepared:
            user = {
                "em": sha(em.encode()).hexdigest(),
                "ph": sha(ph.encode()).hexdigest(),
                "fn": sha(fn.encode()).hexdigest(),
                "ln": sha(ln.encode()).hexdigest(),
                "db": sha(db.encode()).hexdigest(),
                "ge": sha(ge.encode()).hexdigest(),
                "ct": sha(ct.encode()).hexdigest(),
                "st": sha(st.encode()).hexdigest(),
                "zp": sha(zp.encode()).hexdigest(),
                "country": sha(country.encode()).hexdigest(),
                "external_id": sha(xid.encode()).hexdigest(),
                **clear,
            }
            events.append({**base, "user_data": user})
        return dumps({"data": events, "access_token": BENCH_TOKEN, "partner_agent": "capic"})

    return batch


# --------------------------------------------------------------------------------------------
# checks


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def check_agreement(
    records: Sequence[dict],
    national: Sequence[dict] | None,
    sdk_one: Callable[[dict], dict],
    capic_one: Callable[[dict], dict],
    floor: Sequence[tuple[tuple[str, ...], dict, dict]],
    sha: Callable[[bytes], Any],
) -> bool:
    """Compare the hashes capic sends with the SDK's and with the floor's; print a summary.
    ``national``: the same records with national-format phones (checked when given)."""
    agree = dict.fromkeys(HASHED, 0)
    floor_agree = 0
    national_agree = 0
    for i, (r, (normalized, _, _)) in enumerate(zip(records, floor, strict=True)):
        ours = capic_one(r)["user_data"]
        theirs = sdk_one(r)["user_data"]
        for key in HASHED:
            if _first(ours.get(key)) == _first(theirs.get(key)):
                agree[key] += 1
        expected = [sha(s.encode()).hexdigest() for s in normalized]
        if [_first(ours.get(k)) for k in HASHED] == expected:
            floor_agree += 1
        nat = None if national is None else capic_one(national[i])["user_data"].get("ph")
        if nat is not None and _first(nat) == _first(ours.get("ph")):
            national_agree += 1
    n = len(records)
    ok = all(agree[k] == n for k in MUST_AGREE) and floor_agree == n
    print(
        "  hash agreement capic vs SDK (must): "
        + ", ".join(f"{k} {agree[k]}/{n}" for k in MUST_AGREE)
    )
    print(
        "  hash agreement capic vs SDK (these records): "
        + ", ".join(f"{k} {agree[k]}/{n}" for k in MAY_AGREE)
        + f"; external_id {agree['external_id']}/{n} (the SDK sends it raw, unhashed)"
    )
    print(f"  hash agreement capic vs floor (all 11 keys): {floor_agree}/{n}")
    if national is not None:
        ok = ok and national_agree == n
        print(
            "  national-format phones with default_country us hash like +1 numbers: "
            f"{national_agree}/{n}"
        )
    return ok


def user_data_digest(one: Callable[[dict], dict], records: Sequence[dict]) -> str:
    """SHA-256 of the user_data capic sends for ``records`` (compares two versions)."""
    sent = [one(r).get("user_data") for r in records]
    return hashlib.sha256(orjson.dumps(sent, option=orjson.OPT_SORT_KEYS)).hexdigest()
