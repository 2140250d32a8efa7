import json
def test_scratch(own, own_person, api):
    c = api(own.volunteer, own.point)
    r = c.patch(f"/api/v1/people/{own_person.pk}/health-summary", data=json.dumps([{"allergies": ["x"]}]), content_type="application/json")
    print(r.status_code, r.content[:300])
    r = c.patch(f"/api/v1/people/{own_person.pk}/health-summary", data=json.dumps({"allergies": ["a\x00b", ""]}), content_type="application/json")
    print(r.status_code, r.content[:300])
    r = c.post(f"/api/v1/people", data=json.dumps([1,2]), content_type="application/json")
    print(r.status_code, r.content[:300])
