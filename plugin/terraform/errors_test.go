package terraform

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStderrDiagnostics(t *testing.T) {
	framed := "exit status 1\n\n╷\n│ Warning: Unable to open CLI configuration file\n│\n│ The file does not exist.\n╵\n╷\n│ Error: Backend configuration changed\n│\n│ A change in the backend configuration has been detected, which may require\n│ migrating existing state.\n╵\n"
	plain := "Error: Failed to query available provider packages\n\nCould not retrieve the list of available versions.\n\nError: second\n"
	cases := []struct {
		name, text string
		want       []string
	}{
		{"framed errors become one line each, warnings are left out", framed, []string{"Backend configuration changed: A change in the backend configuration has been detected, which may require migrating existing state."}},
		{"unframed errors end at the next one", plain, []string{"Failed to query available provider packages: Could not retrieve the list of available versions.", "second"}},
		{"text without errors gives none", "exit status 1\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, stderrDiagnostics(tc.text)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestLockHints(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "terraform.tfstate"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	detail := "Error message: resource temporarily unavailable\nLock Info:\n  ID:        8c9d9cca-1115\n  Path:      %s\n  Operation: OperationTypeApply\n  Who:       root@vm\n  Version:   1.11.4\n  Created:   2026-11-25 12:21:40 +0000 UTC\n  Info:\n"
	cases := []struct {
		name, path, want string
	}{
		{"a local lock is held by a running terraform: wait", "terraform.tfstate", "another terraform run in " + dir + " holds the state lock (lock ID 8c9d9cca-1115, Apply, by root@vm, since 2026-11-25 12:21:40 +0000 UTC); wait for it to finish and run again"},
		{"a remote lock can be forced open", "tfstate/prod.terraform.tfstate", "unlock it with: terraform -chdir=" + dir + " force-unlock -force 8c9d9cca-1115"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := newCommandError("plan", dir, errors.New("exit status 1"), []diagnostic{{Severity: "error", Summary: "Error acquiring the state lock", Detail: strings.Replace(detail, "%s", tc.path, 1)}})
			if !errors.Is(err, ErrStateLocked) {
				t.Errorf("not ErrStateLocked")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q lacks %q", err, tc.want)
			}
		})
	}
	t.Run("a lock info file left behind is reported with the file to delete", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, localLockFile), []byte(`{"ID":"abc","Operation":"OperationTypeApply","Who":"me@host"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		l := leftoverLocalLock(dir)
		want := "if no terraform runs in " + dir + ", delete " + filepath.Join(dir, localLockFile)
		if l == nil || l.ID != "abc" || !strings.Contains(l.Hint(), want) {
			t.Errorf("lock %+v, hint %q", l, l.Hint())
		}
	})
}

func TestUnreachable(t *testing.T) {
	stderr := "exit status 1\n\nError: Failed to query available provider packages\n\nCould not retrieve the list of available versions for provider\nhashicorp/azurerm: could not connect to registry.terraform.io: failed to\nrequest discovery document: Get\n\"https://registry.terraform.io/.well-known/terraform.json\": dial tcp: lookup\nregistry.terraform.io on 10.255.255.53:53: no such host\n"
	err := newCommandError("init", "/w", errors.New(stderr), nil)
	if !errors.Is(err, ErrUnreachable) || errors.Is(err, ErrStateLocked) {
		t.Errorf("a registry that cannot be reached is ErrUnreachable: %v", err)
	}
	if want := "terraform init in /w failed: Failed to query available provider packages: Could not retrieve"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%q does not start with %q", err, want)
	}
	if errors.Is(newCommandError("plan", "/w", errors.New("exit status 1"), []diagnostic{{Severity: "error", Summary: "Invalid value"}}), ErrUnreachable) {
		t.Errorf("an invalid value is not a network failure")
	}
}
