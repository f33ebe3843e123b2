from django.test import TestCase


class HealthzTests(TestCase):
    def test_healthz_reports_database_ok(self) -> None:
        response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok", "database": "ok"})
