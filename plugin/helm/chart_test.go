package helm

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

func TestChartDigest(t *testing.T) {
	digest := func(t *testing.T, dir string) string {
		t.Helper()
		ch, err := loader.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		return chartDigest(ch)
	}
	base := digest(t, demoChart)
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, dir string)
		same bool
	}{
		{"a copy has the same digest", func(*testing.T, string) {}, true},
		{"touching a file keeps the digest", func(t *testing.T, dir string) {
			if err := os.Chtimes(filepath.Join(dir, "values.yaml"), time.Now(), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"an edited template changes it", func(t *testing.T, dir string) {
			appendFile(t, filepath.Join(dir, "templates", "widget.yaml"), "  size: 2\n")
		}, false},
		{"edited default values change it", func(t *testing.T, dir string) {
			appendFile(t, filepath.Join(dir, "values.yaml"), "more: 1\n")
		}, false},
		{"an edited CRD changes it", func(t *testing.T, dir string) {
			appendFile(t, filepath.Join(dir, "crds", "widgets.yaml"), "# v2\n")
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyChart(t)
			tc.edit(t, dir)
			got := digest(t, dir)
			if (got == base) != tc.same {
				t.Errorf("digest %s vs %s; want same=%v", got, base, tc.same)
			}
			if len(got) > 63 {
				t.Errorf("digest %d characters; a label value holds 63", len(got))
			}
		})
	}
}
