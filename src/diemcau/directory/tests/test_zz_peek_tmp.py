import json, pytest
from diemcau.directory.tests.test_api import *  # noqa

@pytest.mark.django_db
def test_peek(tree, technician, operator):
    r = technician.post("/endpoints", endpoint_body(tree.commune, "X", bandwidth_mbps="-1", vcs_ip="1.2.3.999"))
    print(r.status_code, json.dumps(r.json(), ensure_ascii=False, indent=1))
    r = technician.post("/endpoints", endpoint_body(tree.commune, "X"))
    print(r.status_code, json.dumps(r.json(), ensure_ascii=False, indent=1))
    r = technician.post("/endpoints", endpoint_body(tree.commune, "NT.XuongHuan"))
    print(r.status_code, json.dumps(r.json(), ensure_ascii=False, indent=1))
    r = technician.get(f"/agencies/{tree.commune.pk}")
    print(r.status_code, json.dumps(r.json(), ensure_ascii=False, indent=1))
    r = technician.client.get("/api/v1/agencies")
    print(r.status_code, r.json(), r["Content-Language"])
    s = technician.client.get("/api/openapi.json").json()
    print(json.dumps(s["components"]["securitySchemes"]), json.dumps(s["paths"]["/api/v1/endpoints/{endpoint_id}/approve"], indent=1)[:1500])
