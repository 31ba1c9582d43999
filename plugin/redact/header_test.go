package redact

import "testing"

func TestSensitiveHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"Authorization", true},
		{"proxy-authorization", true},
		{"Cookie", true},
		{"Set-Cookie", true},
		{"X-Api-Key", true},
		{"X-Auth-Token", true},
		{"X-Client-Secret", true},
		{"Private-Key", true},
		{"X-Session-Id", true},
		{"Content-Type", false},
		{"X-Chaos", false},
		{"User-Agent", false},
		{"Accept", false},
	} {
		if got := SensitiveHeader(tc.name); got != tc.want {
			t.Errorf("SensitiveHeader(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
