"""Driver settings that control time or load have operator maxima: above them, a 400 naming the
field on create and on patch; at them, accepted. The delivery guarantee is validated too."""

from __future__ import annotations

from tests.api.conversation_client import bad_field, conv


def app_with(driver: str, settings: dict, **channel: object) -> dict:
    credential = {"channel": "SMS", "driver": driver, "driver_settings": settings, **channel}
    return {"display_name": "Limits", "channel_credentials": [credential]}


FIELD = "channel_credentials[0].driver_settings.{}"


async def test_values_above_the_maxima_are_refused_naming_the_field(api):
    client, s = conv(api), api.settings
    too_slow = app_with("sandbox", {"latency_ms": s.max_sandbox_latency_ms + 1})
    assert bad_field(await client.post("/apps", too_slow)) == FIELD.format("latency_ms")
    late = app_with("sandbox", {"read_delay_ms": s.max_receipt_delay_ms + 1})
    assert bad_field(await client.post("/apps", late)) == FIELD.format("read_delay_ms")
    wide = app_with("http", {"url": "http://x.test/", "concurrency": s.max_driver_concurrency + 1})
    assert bad_field(await client.post("/apps", wide)) == FIELD.format("concurrency")
    patient = app_with("conversation_api", {"timeout": s.max_driver_timeout_s * 2})
    assert bad_field(await client.post("/apps", patient)) == FIELD.format("timeout")
    wrong_type = app_with("sandbox", {"latency_ms": "10"})
    assert bad_field(await client.post("/apps", wrong_type)) == FIELD.format("latency_ms")
    zero = app_with("http", {"url": "http://x.test/", "concurrency": 0})
    assert bad_field(await client.post("/apps", zero)) == FIELD.format("concurrency")


async def test_values_at_the_maxima_are_accepted_and_patches_are_checked(api):
    client, s = conv(api), api.settings
    body = app_with("sandbox", {"latency_ms": s.max_sandbox_latency_ms},
                    delivery_guarantee="at_most_once")  # fmt: skip
    reply = await client.post("/apps", body)
    assert reply.status_code == 200, reply.text
    app = reply.json()
    assert app["channel_credentials"][0]["delivery_guarantee"] == "at_most_once"
    over = app_with("sandbox", {"latency_ms": s.max_sandbox_latency_ms + 1})
    patch = await client.patch(f"/apps/{app['id']}", {"channel_credentials":
                                                      over["channel_credentials"]})  # fmt: skip
    assert bad_field(patch) == FIELD.format("latency_ms")
    fetched = (await client.get(f"/apps/{app['id']}")).json()
    assert fetched["channel_credentials"][0]["driver_settings"]["latency_ms"] == (
        s.max_sandbox_latency_ms
    )


async def test_unknown_delivery_guarantee_is_refused(api):
    body = app_with("sandbox", {}, delivery_guarantee="exactly_once")
    reply = await conv(api).post("/apps", body)
    assert bad_field(reply) == "channel_credentials[0].delivery_guarantee"
