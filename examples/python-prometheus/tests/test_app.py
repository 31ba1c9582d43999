"""Tests of the demo app: routes answer, and every request is counted and
timed under its route and status, which is what the chaos probes and the
Grafana dashboard read."""

import os
import sys
import unittest

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import app as demo  # noqa: E402


def samples(client):
    """Returns {(sample name, frozenset(labels)): value} from /metrics."""
    text = client.get("/metrics").get_data(as_text=True)
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def key(name, **labels):
    return (name, frozenset(labels.items()))


class RoutesTest(unittest.TestCase):
    def setUp(self):
        self.client = demo.create_app().test_client()

    def test_routes_answer(self):
        cases = [
            ("hello", "/", 200, "text/html"),
            ("orders", "/api/orders", 200, "application/json"),
            ("health", "/health", 200, "application/json"),
            ("metrics", "/metrics", 200, "text/plain"),
            ("unknown path", "/nope", 404, "text/html"),
        ]
        for name, path, status, content_type in cases:
            with self.subTest(name):
                resp = self.client.get(path)
                self.assertEqual(resp.status_code, status)
                self.assertTrue(resp.content_type.startswith(content_type), resp.content_type)

    def test_orders_are_json(self):
        body = self.client.get("/api/orders").get_json()
        self.assertEqual(body["count"], len(body["orders"]))
        self.assertGreater(body["count"], 0)
        self.assertEqual(set(body["orders"][0]), {"id", "item", "quantity", "status"})


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.app = demo.create_app()

        @self.app.get("/boom")
        def boom():
            raise RuntimeError("simulated failure")

        self.app.logger.disabled = True  # the simulated failure's traceback is expected
        self.client = self.app.test_client()

    def test_requests_are_counted_by_route_and_status(self):
        for path, times in [("/api/orders", 3), ("/", 2), ("/health", 1), ("/nope", 2), ("/boom", 1)]:
            for _ in range(times):
                self.client.get(path)
        self.client.post("/api/orders")  # 405: no route matched this method
        got = samples(self.client)
        want = {
            ("GET", "/api/orders", "200"): 3,
            ("GET", "/", "200"): 2,
            ("GET", "/health", "200"): 1,
            ("GET", "other", "404"): 2,
            ("GET", "/boom", "500"): 1,
            ("POST", "other", "405"): 1,
        }
        for (method, path, status), count in want.items():
            with self.subTest(method=method, path=path, status=status):
                name = key("http_requests_total", method=method, path=path, status=status)
                self.assertEqual(got.get(name), count)
        with self.subTest("a route that was never called has no series"):
            self.assertNotIn(key("http_requests_total", method="GET", path="/nope", status="404"), got)

    def test_durations_are_observed_by_route(self):
        for _ in range(4):
            self.client.get("/api/orders")
        got = samples(self.client)
        count = got.get(key("http_request_duration_seconds_count", method="GET", path="/api/orders"))
        self.assertEqual(count, 4)
        inf = got.get(key("http_request_duration_seconds_bucket", method="GET", path="/api/orders", le="+Inf"))
        self.assertEqual(inf, 4)
        self.assertGreater(got.get(key("http_request_duration_seconds_sum", method="GET", path="/api/orders")), 0)

    def test_each_app_has_its_own_counters(self):
        self.client.get("/")
        other = demo.create_app().test_client()
        got = samples(other)
        self.assertNotIn(key("http_requests_total", method="GET", path="/", status="200"), got)


class PortTest(unittest.TestCase):
    def test_port_from_env(self):
        cases = [
            ("unset means 8080", {}, 8080, None),
            ("empty means 8080", {"PORT": ""}, 8080, None),
            ("a number is used", {"PORT": "9090"}, 9090, None),
            ("spaces are ignored", {"PORT": " 8081 "}, 8081, None),
            ("a word is refused with the variable named", {"PORT": "http"}, None, "PORT='http' is not a number"),
            ("zero is refused", {"PORT": "0"}, None, "out of range"),
            ("too large is refused", {"PORT": "70000"}, None, "out of range"),
        ]
        for name, env, want, err in cases:
            with self.subTest(name):
                if err is None:
                    self.assertEqual(demo.port_from_env(env), want)
                else:
                    with self.assertRaisesRegex(ValueError, err):
                        demo.port_from_env(env)


if __name__ == "__main__":
    unittest.main()
