package terraform

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanVariables(t *testing.T) {
	bin := terraformBinary(t)
	cases := []struct {
		name      string
		vars      map[string]any
		sensitive map[string]any
		open      string // substring of Open's error
		plan      string // substring of Plan's error
	}{
		{
			name: "a misspelt variable is refused with the declared ones",
			vars: map[string]any{"nmae": "x"}, sensitive: map[string]any{"secret": testSecret},
			open: "variables: nmae not declared by the module (it declares name, replicas, secret); check the spelling",
		},
		{
			name: "a misspelt sensitive variable is refused too",
			vars: map[string]any{}, sensitive: map[string]any{"secrte": testSecret},
			open: "variables: secrte not declared by the module",
		},
		{
			name: "a value of the wrong type fails with Terraform's diagnostic",
			vars: map[string]any{"replicas": "many"}, sensitive: map[string]any{"secret": testSecret},
			plan: `terraform plan in %s failed: Invalid value for input variable: `,
		},
		{
			name: "a missing required variable is named",
			vars: map[string]any{},
			plan: `No value for required variable: The root module input variable "secret" is not set`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			log, logs := newLogger(t)
			w, err := Open(t.Context(), Options{Module: fixture("basic"), WorkDir: dir, Vars: tc.vars, SensitiveVars: tc.sensitive, Binary: bin}, log)
			if tc.open != "" {
				if err == nil || !strings.Contains(err.Error(), tc.open) {
					t.Fatalf("Open: %v; want %q", err, tc.open)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.Plan(t.Context())
			want := strings.ReplaceAll(tc.plan, "%s", dir)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Plan: %v; want %q", err, want)
			}
			var ce *CommandError
			if !errors.As(err, &ce) || ce.Command != "plan" || errors.Is(err, ErrStateLocked) {
				t.Errorf("error %#v is not a plan CommandError", err)
			}
			if logs.contains(testSecret) || strings.Contains(err.Error(), testSecret) {
				t.Errorf("the sensitive variable reached the log or the error")
			}
			noSecretsOnDisk(t, dir)
		})
	}
}

func TestBackendOverride(t *testing.T) {
	dir := t.TempDir()
	log, _ := newLogger(t)
	opt := Options{
		Module: fixture("slow"), WorkDir: dir, Vars: map[string]any{"seconds": 0}, Binary: terraformBinary(t),
		Backend: &Backend{Type: "local", Config: map[string]any{"path": "custom.tfstate"}},
	}
	w, err := Open(t.Context(), opt, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the override file holds the backend block", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, BackendFile))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]map[string]map[string]map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if got := doc["terraform"]["backend"]["local"]["path"]; got != "custom.tfstate" {
			t.Errorf("backend block %s", b)
		}
	})
	t.Run("the state goes where the backend says", func(t *testing.T) {
		if _, err := w.Apply(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "custom.tfstate")); err != nil {
			t.Errorf("custom.tfstate: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "terraform.tfstate")); err == nil {
			t.Errorf("terraform.tfstate was written despite the backend")
		}
	})
	t.Run("a backend change is refused by init instead of losing the state", func(t *testing.T) {
		opt.Backend.Config = map[string]any{"path": "other.tfstate"}
		w2, err := Open(t.Context(), opt, log)
		if err != nil {
			t.Fatal(err)
		}
		_, err = w2.Apply(t.Context())
		if err == nil || !strings.Contains(err.Error(), "terraform init in "+dir+" failed: Backend configuration changed") {
			t.Fatalf("apply after a backend change: %v", err)
		}
	})
}
