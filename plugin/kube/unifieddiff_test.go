package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnifiedDiff(t *testing.T) {
	lines := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			b.WriteString(f(i) + "\n")
		}
		return b.String()
	}
	plain := func(i int) string { return "line " + itoa(i) }
	tests := []struct {
		name string
		a, b string
		want string
	}{{
		name: "equal texts give no diff",
		a:    "a\nb\n", b: "a\nb\n",
		want: "",
	}, {
		name: "a new object is shown as all added lines",
		a:    "", b: "kind: ConfigMap\ndata: {}\n",
		want: "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+kind: ConfigMap\n+data: {}\n",
	}, {
		name: "a changed line is shown with three lines of context",
		a:    lines(10, plain),
		b: lines(10, func(i int) string {
			if i == 5 {
				return "changed"
			}
			return plain(i)
		}),
		want: "--- a\n+++ b\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+changed\n line 6\n line 7\n line 8\n",
	}, {
		name: "changes far apart give separate hunks",
		a:    lines(20, plain),
		b: lines(20, func(i int) string {
			if i == 2 || i == 18 {
				return "x"
			}
			return plain(i)
		}),
		want: "--- a\n+++ b\n@@ -1,5 +1,5 @@\n line 1\n-line 2\n+x\n line 3\n line 4\n line 5\n@@ -15,6 +15,6 @@\n line 15\n line 16\n line 17\n-line 18\n+x\n line 19\n line 20\n",
	}, {
		name: "an inserted line in the middle is found as an insertion",
		a:    "a\nb\nc\nd\n", b: "a\nb\nnew\nc\nd\n",
		want: "--- a\n+++ b\n@@ -1,4 +1,5 @@\n a\n b\n+new\n c\n d\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unifiedDiff("a", "b", tt.a, tt.b)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("diff (-want +got):\n%s", diff)
			}
		})
	}
}
