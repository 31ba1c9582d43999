package report

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

func TestWrite(t *testing.T) {
	t.Run("writes the three files into a new directory and Load reads the journal back", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "reports", "httpchaos-3f9c1a2b")
		j := fixture()
		files, err := Write(dir, j)
		if err != nil {
			t.Fatal(err)
		}
		want := Files{Dir: dir, Journal: filepath.Join(dir, "journal.json"), Markdown: filepath.Join(dir, "report.md"), Chart: filepath.Join(dir, "chart.svg")}
		if d := cmp.Diff(want, files); d != "" {
			t.Fatalf("files (-want +got):\n%s", d)
		}
		for _, p := range []string{filepath.Dir(dir), dir} {
			if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o700 {
				t.Fatalf("%s: mode %v, %v; want 0700", p, st.Mode().Perm(), err)
			}
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 3 {
			t.Fatalf("dir holds %d entries (a temporary file left behind?): %v", len(entries), entries)
		}
		for _, p := range []string{files.Journal, files.Markdown, files.Chart} {
			if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("%s: mode %v, %v; want 0600", p, st.Mode().Perm(), err)
			}
		}
		back, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(sanitized(j), back); d != "" {
			t.Fatalf("loaded journal (-written +loaded):\n%s", d)
		}
	})

	t.Run("the journal has a top-level verdict and cleanup outcome", func(t *testing.T) {
		j := fixture()
		j.Cleanup = &chaos.Cleanup{Outcome: chaos.CleanupIncomplete, Finalizers: []string{"chaos-mesh/records"}, Next: "reap it with force_cleanup"}
		files, err := Write(t.TempDir(), j)
		if err != nil {
			t.Fatal(err)
		}
		var top map[string]any
		data, _ := os.ReadFile(files.Journal)
		if err := json.Unmarshal(data, &top); err != nil {
			t.Fatal(err)
		}
		if top["verdict"] != "slo_breach" {
			t.Fatalf("verdict %v, want slo_breach", top["verdict"])
		}
		want := map[string]any{"outcome": "incomplete", "finalizers": []any{"chaos-mesh/records"}, "next": "reap it with force_cleanup"}
		if d := cmp.Diff(want, top["cleanup"]); d != "" {
			t.Fatalf("top-level cleanup (-want +got):\n%s", d)
		}
	})

	t.Run("no file holds a secret and the caller's journal is untouched", func(t *testing.T) {
		j := fixture()
		files, err := Write(t.TempDir(), j)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{files.Journal, files.Markdown, files.Chart} {
			data, _ := os.ReadFile(f)
			for _, s := range fixtureSecrets {
				if strings.Contains(string(data), s) {
					t.Errorf("%s contains the secret %q", filepath.Base(f), s)
				}
			}
		}
		if !strings.Contains(j.Probes[0].URL, "s3cret-pass") || j.Probes[2].BearerToken == "" {
			t.Error("Write modified the caller's journal")
		}
		md, _ := os.ReadFile(files.Markdown)
		if !strings.Contains(string(md), "http://demo.demo.svc:8080/") {
			t.Error("the probe URL without its credentials is missing from report.md")
		}
	})

	t.Run("secret-looking header values of the spec are masked in every file", func(t *testing.T) {
		const canary = "canary-hdr-5e1d"
		j := fixture()
		spec := j.Run.Spec.(*api.HTTPChaosSpec)
		spec.Replace = &api.HTTPReplace{Headers: map[string]string{"Authorization": "Bearer " + canary}}
		spec.Patch = &api.HTTPPatch{Headers: [][]string{{"X-Api-Key", canary}}}
		files, err := Write(t.TempDir(), j)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{files.Journal, files.Markdown, files.Chart} {
			if data, _ := os.ReadFile(f); strings.Contains(string(data), canary) {
				t.Errorf("%s contains the header value %q", filepath.Base(f), canary)
			}
		}
		if md, _ := os.ReadFile(files.Markdown); !strings.Contains(string(md), `"Authorization": "`+redact.Mask+`"`) {
			t.Errorf("report.md does not show the masked header:\n%s", md)
		}
		if spec.Replace.Headers["Authorization"] != "Bearer "+canary {
			t.Error("Write modified the caller's spec")
		}
	})

	t.Run("rewriting replaces the files", func(t *testing.T) {
		dir := t.TempDir()
		j := fixture()
		if _, err := Write(dir, j); err != nil {
			t.Fatal(err)
		}
		j.Verdict = "pass"
		if _, err := Write(dir, j); err != nil {
			t.Fatal(err)
		}
		back, err := Load(dir)
		if err != nil || back.Verdict != "pass" {
			t.Fatalf("verdict %v, %v; want pass", back.Verdict, err)
		}
	})

	t.Run("a nil journal or empty dir is refused", func(t *testing.T) {
		if _, err := Write(t.TempDir(), nil); err == nil {
			t.Error("nil journal accepted")
		}
		if _, err := Write("", fixture()); err == nil || !strings.Contains(err.Error(), "directory") {
			t.Errorf("empty dir: %v", err)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name    string
		journal string // empty: no file
		want    string
	}{
		{"a missing journal is not-exist", "", "no such file"},
		{"a newer journal version names both versions", `{"version": 9, "verdict": "pass"}`, "journal version 9 is newer than this chaosops reads (1)"},
		{"an unknown kind with a spec names the kind", `{"version": 1, "run": {"kind": "FooChaos", "spec": {"x": 1}}}`, `kind "FooChaos" is not a chaos kind`},
		{"broken JSON names the file", `{"version":`, "journal.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.journal != "" {
				if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte(tc.journal), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	t.Run("a missing journal is fs.ErrNotExist", func(t *testing.T) {
		if _, err := Load(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("error %v is not ErrNotExist", err)
		}
	})
	t.Run("a run without a spec (refused before creation) loads", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte(`{"version": 1, "verdict": "precheck_failed", "run": {"ref": "", "verdict": "precheck_failed", "timeline": null}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		j, err := Load(dir)
		if err != nil || j.Run == nil || j.Run.Spec != nil || j.Verdict != "precheck_failed" {
			t.Fatalf("journal %+v, %v", j, err)
		}
	})
}

func TestStripUserinfo(t *testing.T) {
	cases := []struct{ in, want string }{
		{"http://user:pass@host:8080/x", "http://host:8080/x"},
		{"https://token@host", "https://host"},
		{`Get "http://a:b@c/d": refused`, `Get "http://c/d": refused`},
		{"two http://u:p@a/ and https://v:q@b/", "two http://a/ and https://b/"},
		{"http://host/path@not-userinfo", "http://host/path@not-userinfo"},
		{"http://host/?q=a@b", "http://host/?q=a@b"},
		{"mail me@example.com", "mail me@example.com"},
		{"http://u:p@ss@host/", "http://host/"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := stripUserinfo(tc.in); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
