async def test_health(api):
    reply = await api.client.get("/healthz")
    assert reply.status_code == 200
    assert reply.json()["status"] == "ok"
