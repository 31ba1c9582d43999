package testenv

import (
	"strings"
	"testing"
)

func TestNamespacePrefix(t *testing.T) {
	for _, tc := range []struct{ name, testName, want string }{
		{"a plain test name is lowercased", "TestApply", "testapply-"},
		{"subtest separators and spaces become dashes", "TestApply/re-applying_unchanged objects", "testapply-re-applying-unchanged-objects-"},
		{"runs of other characters collapse into one dash", "TestX/#01::ok", "testx-01-ok-"},
		{"nothing usable falls back to test", "/__/", "test-"},
		{"a long name is cut to leave room for the suffix", "Test" + strings.Repeat("a", 100), "test" + strings.Repeat("a", 53) + "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := namespacePrefix(tc.testName)
			if got != tc.want {
				t.Errorf("namespacePrefix(%q) = %q, want %q", tc.testName, got, tc.want)
			}
			if len(got)+5 > 63 {
				t.Errorf("namespacePrefix(%q) is %d characters; a generated name would exceed 63", tc.testName, len(got))
			}
		})
	}
}
