def test_create_confirm_capture_end_to_end(client, create_intent):
    pi = create_intent(capture_method="manual")
    assert pi["status"] == "requires_payment_method"
    r = client.post(f"/v1/payment_intents/{pi['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert r.status_code == 200, r
    assert r.json()["status"] == "requires_capture"
    r = client.post(f"/v1/payment_intents/{pi['id']}/capture")
    assert r.status_code == 200, r
    assert r.json()["status"] == "succeeded"
    assert r.json()["amount_received"] == 2000
