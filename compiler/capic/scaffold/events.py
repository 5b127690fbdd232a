"""The standard events ``capic init`` writes a rule for, with the custom data each one sends.

The custom data keys per event are the ones Meta requires or recommends for it (the Meta Pixel
reference, capi-facts §5, which ``schemas/standard_events.schema.json`` carries as
``x-capic-recommended``), plus ``order_id`` on Purchase (stable across retries, used by Meta for
offline deduplication) and ``currency``/``value`` on Donate (a donation has an amount). Every
event also carries a realistic sample: it becomes the rule's ``test`` block and a line of
``events.jsonl``, so the scaffold is tested from its first minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: custom_data key -> the capic expression a generated rule sends for it (names are elements
#: of the generated elements.capi, or paths below the ``conversion`` element).
CUSTOM_EXPRESSIONS: dict[str, str] = {
    "currency": "currency",
    "value": "value",
    "content_ids": "content_ids",
    "content_type": "content_type",
    "contents": "contents",
    "num_items": "num_items",
    "search_string": "trim(conversion.search_string)",
    "predicted_ltv": "predicted_ltv",
    "status": "conversion.status",
    "order_id": "string(conversion.order_id)",
}

SHOES: dict[str, Any] = {"id": "SKU-1001", "quantity": 1, "item_price": 89.95}
SOCKS: dict[str, Any] = {"id": "SKU-2002", "quantity": 2, "item_price": 12.5}

#: Customer information as a site's data layer typically holds it: untidy on purpose, so that
#: the generated tests show capic normalizing before it hashes.
CUSTOMER: dict[str, str] = {
    "email": " Jane.Doe@Example.com ",
    "phone": "+1 (650) 555-1212",
    "firstName": "Jane",
    "lastName": "Doe",
    "dateOfBirth": "1990-02-16",
    "gender": "Female",
    "city": "San Francisco",
    "state": "California",
    "zip": "94103-1234",
    "country": "United States",
    "externalId": "cust-4711",
}

#: user_data key -> (element name in elements.capi, customerInformation field).
CUSTOMER_KEYS: tuple[tuple[str, str, str], ...] = (
    ("em", "email", "email"),
    ("ph", "phone", "phone"),
    ("fn", "first_name", "firstName"),
    ("ln", "last_name", "lastName"),
    ("db", "birth_date", "dateOfBirth"),
    ("ge", "gender", "gender"),
    ("ct", "city", "city"),
    ("st", "state", "state"),
    ("zp", "zip", "zip"),
    ("country", "country", "country"),
    ("external_id", "external_id", "externalId"),
)

#: user_data keys read from the browser and the request, never hashed: (key, element).
BROWSER_KEYS: tuple[tuple[str, str], ...] = (
    ("client_ip_address", "client_ip"),
    ("client_user_agent", "user_agent"),
    ("fbp", "fbp"),
    ("fbc", "fbc"),
)

USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)
CLIENT_IP = "203.0.113.7"
FBP = "fb.1.1768471200000.1234567890"
FBC = "fb.1.1768471200000.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk"


@dataclass(frozen=True, slots=True)
class StandardEvent:
    name: str
    #: File stem under rules/.
    file: str
    #: What the event means (a comment above the rule).
    summary: str
    #: custom_data keys the rule sends, in order.
    custom: tuple[str, ...]
    #: The sample: page path, event id, conversionData (without eventId), timestamp.
    page: str
    event_id: str
    conversion: dict[str, Any] = field(default_factory=dict)
    time: str = "2026-01-15T10:30:00Z"
    #: Whether the sample person is known (logged in or typing into a form).
    known_customer: bool = False
    #: Whether the sample visitor came from an ad click (an fbc cookie).
    from_ad: bool = False

    @property
    def rule(self) -> str:
        return f"MetaConversion_{self.name}"


STANDARD_EVENTS: tuple[StandardEvent, ...] = (
    StandardEvent(
        "PageView",
        "page_view",
        "PageView: a page was viewed. The Meta Pixel fires it on every page.",
        (),
        "/",
        "pv-7f3a9c21",
        time="2026-01-15T10:00:00Z",
        from_ad=True,
    ),
    StandardEvent(
        "ViewContent",
        "view_content",
        "ViewContent: a product (or other content) page was viewed.",
        ("content_ids", "content_type", "contents", "currency", "value"),
        "/products/trail-running-shoes",
        "vc-5d20e1",
        {"currency": "USD", "value": 89.95, "content_type": "product", "contents": [SHOES]},
        time="2026-01-15T10:01:00Z",
    ),
    StandardEvent(
        "Search",
        "search",
        "Search: a search was made on the site.",
        ("content_ids", "content_type", "contents", "currency", "search_string", "value"),
        "/search?q=running+shoes",
        "se-44a1b0",
        {"search_string": " running shoes ", "content_type": "product", "contents": [SHOES]},
        time="2026-01-15T10:02:00Z",
    ),
    StandardEvent(
        "AddToCart",
        "add_to_cart",
        "AddToCart: a product was added to the shopping cart.",
        ("content_ids", "content_type", "contents", "currency", "value"),
        "/products/merino-socks",
        "atc-2002-01",
        {"currency": "usd", "value": 25, "content_type": "product", "contents": [SOCKS]},
        time="2026-01-15T10:03:00Z",
    ),
    StandardEvent(
        "AddToWishlist",
        "add_to_wishlist",
        "AddToWishlist: a product was added to a wishlist.",
        ("content_ids", "contents", "currency", "value"),
        "/products/trail-running-shoes",
        "wl-1001-01",
        {"currency": "USD", "value": 89.95, "contents": [SHOES]},
        time="2026-01-15T10:04:00Z",
    ),
    StandardEvent(
        "InitiateCheckout",
        "initiate_checkout",
        "InitiateCheckout: the checkout flow was started.",
        ("content_ids", "contents", "currency", "num_items", "value"),
        "/checkout",
        "ic-5521",
        {"currency": "USD", "value": 114.95, "contents": [SHOES, SOCKS]},
        time="2026-01-15T10:05:00Z",
        known_customer=True,
    ),
    StandardEvent(
        "AddPaymentInfo",
        "add_payment_info",
        "AddPaymentInfo: payment information was added during checkout.",
        ("content_ids", "contents", "currency", "value"),
        "/checkout/payment",
        "api-5521",
        {"currency": "USD", "value": 114.95, "contents": [SHOES, SOCKS]},
        time="2026-01-15T10:06:00Z",
        known_customer=True,
    ),
    StandardEvent(
        "Purchase",
        "purchase",
        "Purchase: a purchase was completed. Meta requires currency and value.",
        ("content_ids", "content_type", "contents", "currency", "num_items", "value", "order_id"),
        "/checkout/complete",
        "ord-10042",
        {
            "currency": "USD",
            "value": "114.95",
            "content_type": "product",
            "contents": [SHOES, SOCKS],
            "num_items": 3,
            "order_id": 10042,
        },
        time="2026-01-15T10:07:00Z",
        known_customer=True,
        from_ad=True,
    ),
    StandardEvent(
        "Lead",
        "lead",
        "Lead: a form was submitted by someone who may be contacted later.",
        ("currency", "value"),
        "/contact/quote",
        "lead-3307",
        {"currency": "USD", "value": 10},
        time="2026-01-15T10:08:00Z",
        known_customer=True,
    ),
    StandardEvent(
        "CompleteRegistration",
        "complete_registration",
        "CompleteRegistration: a registration form was completed.",
        ("currency", "value", "status"),
        "/account/welcome",
        "reg-8812",
        {"status": "registered"},
        time="2026-01-15T10:09:00Z",
        known_customer=True,
    ),
    StandardEvent(
        "Contact",
        "contact",
        "Contact: the person contacted the business (phone, SMS, email, chat).",
        (),
        "/contact",
        "ct-0193",
        time="2026-01-15T10:10:00Z",
        known_customer=True,
    ),
    StandardEvent(
        "CustomizeProduct",
        "customize_product",
        "CustomizeProduct: a product was customized (a colour or size chosen).",
        (),
        "/products/trail-running-shoes?color=blue",
        "cp-1001-blue",
        time="2026-01-15T10:11:00Z",
    ),
    StandardEvent(
        "Donate",
        "donate",
        "Donate: a donation was made. capic also sends its currency and value.",
        ("currency", "value"),
        "/donate/thank-you",
        "don-7734",
        {"currency": "EUR", "value": 25},
        time="2026-01-15T10:12:00Z",
        known_customer=True,
    ),
    StandardEvent(
        "FindLocation",
        "find_location",
        "FindLocation: the person looked for one of the business's locations.",
        (),
        "/stores?near=94103",
        "fl-0042",
        time="2026-01-15T10:13:00Z",
    ),
    StandardEvent(
        "Schedule",
        "schedule",
        "Schedule: an appointment was booked.",
        (),
        "/appointments/confirmed",
        "sch-2231",
        time="2026-01-15T10:14:00Z",
        known_customer=True,
    ),
    StandardEvent(
        "StartTrial",
        "start_trial",
        "StartTrial: a free trial of a paid product or service began.",
        ("currency", "predicted_ltv", "value"),
        "/club/trial-started",
        "trial-5150",
        {"currency": "USD", "value": 0, "predicted_ltv": 119.88},
        time="2026-01-15T10:15:00Z",
        known_customer=True,
    ),
    StandardEvent(
        "SubmitApplication",
        "submit_application",
        "SubmitApplication: an application (a job, a credit card, a programme) was submitted.",
        (),
        "/careers/apply/submitted",
        "app-6021",
        time="2026-01-15T10:16:00Z",
        known_customer=True,
    ),
    StandardEvent(
        "Subscribe",
        "subscribe",
        "Subscribe: a paid subscription started.",
        ("currency", "predicted_ltv", "value"),
        "/club/welcome",
        "sub-9090",
        {"currency": "USD", "value": 9.99, "predicted_ltv": 119.88},
        time="2026-01-15T10:17:00Z",
        known_customer=True,
    ),
)

#: The names, in the order of the issue and the pixel reference's quick start.
STANDARD_EVENT_NAMES: tuple[str, ...] = tuple(e.name for e in STANDARD_EVENTS)
