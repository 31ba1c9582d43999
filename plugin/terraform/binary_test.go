package terraform

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
)

func TestAtLeast(t *testing.T) {
	cases := []struct {
		have, min string
		ok        bool
	}{
		{"1.11.4", "1.5.0", true},
		{"1.5.0", "1.5.0", true},
		{"1.5", "1.5.0", true},
		{"1.4.7", "1.5.0", false},
		{"0.15.5", "1.5.0", false},
		{"1.6.0-beta1", "1.6.0", true},
		{"1.6.0-beta1", "1.6.1", false},
		{"2.0.0", "1.5.0", true},
	}
	for _, tc := range cases {
		t.Run(tc.have+" against "+tc.min, func(t *testing.T) {
			err := atLeast(version.Must(version.NewVersion(tc.have)), tc.min)
			if (err == nil) != tc.ok {
				t.Errorf("atLeast(%s, %s) = %v, want ok=%v", tc.have, tc.min, err, tc.ok)
			}
		})
	}
}

// fakeVersion writes a terraform stand-in that reports version v.
func fakeVersion(t *testing.T, v string) string {
	p := filepath.Join(t.TempDir(), "terraform")
	script := "#!/bin/sh\necho '{\"terraform_version\":\"" + v + "\",\"platform\":\"linux_amd64\",\"provider_selections\":{},\"terraform_outdated\":false}'\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBinaryCheck(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "terraform")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho broken >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, binary, min, want string
	}{
		{
			"a binary missing from PATH says how to fix it", "terraform-not-installed", "",
			`terraform not found at "terraform-not-installed" (executable file not found in $PATH): install Terraform >= 1.5.0 or give the path of the terraform binary`,
		},
		{
			"a missing path says how to fix it", "/nonexistent/bin/terraform", "",
			`terraform not found at "/nonexistent/bin/terraform" (`,
		},
		{
			"a binary that does not run is named", broken, "",
			"terraform at " + broken + " does not run (exit status 3",
		},
		{
			"an old binary names both versions", fakeVersion(t, "1.3.9"), "",
			"is version 1.3.9, older than 1.5.0: install Terraform >= 1.5.0",
		},
		{
			"the minimum is configurable", fakeVersion(t, "1.11.4"), "1.12.0",
			"is version 1.11.4, older than 1.12.0",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "work")
			_, err := Open(t.Context(), Options{Module: fixture("basic"), WorkDir: dir, Binary: tc.binary, MinVersion: tc.min}, nil)
			var be *BinaryError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v\nwant a BinaryError containing %q", err, tc.want)
			}
		})
	}
	t.Run("a missing binary touches nothing on disk", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "work")
		_, _ = Open(t.Context(), Options{Module: fixture("basic"), WorkDir: dir, Binary: "terraform-not-installed"}, nil)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("workdir created: %v", err)
		}
	})
}
