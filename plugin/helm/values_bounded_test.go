package helm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/badyaml"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

func TestMergeValuesRefusesAnAliasBomb(t *testing.T) {
	b := badyaml.AliasBomb("")
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := MergeValues([]string{f}, nil, nil)
	want := "values file " + f + ": line 6: alias *e: the aliases up to here expand to more than the limit of 100000 YAML nodes (an alias bomb?)"
	if err == nil || err.Error() != want || !failure.IsInvalid(err) {
		t.Fatalf("MergeValues of a bomb: %v\nwant the Invalid error %s", err, want)
	}
}
