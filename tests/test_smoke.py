from wenming.core.models import AuditEvent


def test_county_admin_sees_home_counts(cast, login):
    client = login(cast.county_admin)
    response = client.get("/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "实践中心" in text and "实践站" in text
    assert AuditEvent.objects.filter(verb="user.login", actor=cast.county_admin).count() == 1
