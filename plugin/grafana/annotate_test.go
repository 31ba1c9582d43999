package grafana

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const token = "glsa_s3cr3tTokenValue_0123456789"

var (
	from = time.Date(2025, 1, 2, 3, 4, 10, 0, time.UTC)
	to   = from.Add(30 * time.Second)
)

func runAnnotation(run string) Annotation {
	return Annotation{
		From: from, To: to, Text: "HTTPChaos/demo/httpchaos-" + run + ": verdict pass",
		Tags: []string{Tag, RunTag(run), "verdict:pass", "HTTPChaos"},
	}
}

func newStandin(t *testing.T) (*standinGrafana, Client) {
	t.Helper()
	g := &standinGrafana{token: token}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, Client{URL: srv.URL, Token: token}
}

func TestAnnotate(t *testing.T) {
	ctx := context.Background()

	t.Run("creates a region annotation with the run's tags", func(t *testing.T) {
		g, c := newStandin(t)
		a := runAnnotation("3f9c1a2b")
		a.DashboardUID = "chaosops-demo"
		id := mustAnnotate(t, c, a)
		got := g.stored()
		want := []standinAnnotation{{
			ID: id, DashboardUID: "chaosops-demo", UserID: 1, Time: from.UnixMilli(), TimeEnd: to.UnixMilli(),
			Text: a.Text, Tags: a.Tags, Data: map[string]any{},
		}}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("stored annotations (-want +got):\n%s", d)
		}
	})

	t.Run("a retry reuses the annotation instead of duplicating it", func(t *testing.T) {
		g, c := newStandin(t)
		first := mustAnnotate(t, c, runAnnotation("3f9c1a2b"))
		again := mustAnnotate(t, c, runAnnotation("3f9c1a2b"))
		if again != first || len(g.stored()) != 1 || g.posts != 1 {
			t.Fatalf("ids %d then %d, %d stored, %d posts; want one annotation", first, again, len(g.stored()), g.posts)
		}
	})

	t.Run("a retry after a lost answer finds the annotation the first try made", func(t *testing.T) {
		g, c := newStandin(t)
		g.dropAnswers = 1
		if _, err := Annotate(ctx, c, runAnnotation("3f9c1a2b")); err == nil {
			t.Fatal("the cut connection was not an error")
		}
		id := mustAnnotate(t, c, runAnnotation("3f9c1a2b"))
		if stored := g.stored(); len(stored) != 1 || stored[0].ID != id {
			t.Fatalf("id %d, stored %+v; want the first try's annotation", id, stored)
		}
	})

	t.Run("another run in the same window gets its own annotation", func(t *testing.T) {
		g, c := newStandin(t)
		a := mustAnnotate(t, c, runAnnotation("aaaa"))
		b := mustAnnotate(t, c, runAnnotation("bbbb"))
		if a == b || len(g.stored()) != 2 {
			t.Fatalf("ids %d and %d, %d stored", a, b, len(g.stored()))
		}
	})

	t.Run("a sub-path in the URL is kept", func(t *testing.T) {
		g := &standinGrafana{token: token}
		// As behind a proxy serving Grafana under /grafana/.
		mux := httptest.NewServer(http.StripPrefix("/grafana", g))
		defer mux.Close()
		mustAnnotate(t, Client{URL: mux.URL + "/grafana/", Token: token}, runAnnotation("x1"))
		if len(g.stored()) != 1 {
			t.Fatal("nothing stored")
		}
	})
}

func mustAnnotate(t *testing.T, c Client, a Annotation) int64 {
	t.Helper()
	id, err := Annotate(context.Background(), c, a)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAnnotateErrors(t *testing.T) {
	ctx := context.Background()
	_, c := newStandin(t)
	wrong := c
	wrong.Token = "glsa_wrongTokenValue_9876543210"

	noRunTag := runAnnotation("x")
	noRunTag.Tags = []string{Tag, "run:"}
	backwards := runAnnotation("x")
	backwards.To = from.Add(-time.Second)
	noText := runAnnotation("x")
	noText.Text = " "

	cases := []struct {
		name string
		c    Client
		a    Annotation
		want []string
	}{
		{"a rejected token gives the status and Grafana's message", wrong, runAnnotation("x"), []string{"401 Unauthorized", "Invalid API key", "GET " + c.URL + "/api/annotations"}},
		{"an unknown path gives the status", Client{URL: c.URL + "/nope", Token: token}, runAnnotation("x"), []string{"404 Not Found", "Not found"}},
		{"no URL names the field", Client{Token: token}, runAnnotation("x"), []string{"grafana url", "base URL"}},
		{"a URL without scheme names the field", Client{URL: "grafana.example.com", Token: token}, runAnnotation("x"), []string{`grafana url: "grafana.example.com"`}},
		{"no token names the field", Client{URL: c.URL}, runAnnotation("x"), []string{"grafana token: not set"}},
		{"tags without a run tag are refused", c, noRunTag, []string{"no run tag", "RunTag"}},
		{"an end before the start is refused", c, backwards, []string{"annotation window"}},
		{"an empty text is refused", c, noText, []string{"annotation text: empty"}},
		{"an unreachable Grafana names the URL without credentials", Client{URL: "http://admin:pw-in-url@127.0.0.1:1", Token: token}, runAnnotation("x"), []string{"http://admin:xxxxx@127.0.0.1:1/api/annotations"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Annotate(ctx, tc.c, tc.a)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, secret := range []string{token, wrong.Token, "pw-in-url"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows a secret", err)
				}
			}
		})
	}
}

func TestAnnotateTLS(t *testing.T) {
	ctx := context.Background()
	g := &standinGrafana{token: token}
	srv := httptest.NewTLSServer(g)
	defer srv.Close()
	dir := t.TempDir()
	serverCA := filepath.Join(dir, "grafana-ca.pem")
	writePEM(t, serverCA, srv.Certificate().Raw)
	otherCA := filepath.Join(dir, "other-ca.pem")
	writePEM(t, otherCA, selfSigned(t))
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		caFile string
		want   string // empty: success
	}{
		{"Grafana's CA verifies", serverCA, ""},
		{"another CA fails verification", otherCA, "certificate signed by unknown authority"},
		{"the system CAs do not know a private CA", "", "certificate signed by unknown authority"},
		{"a CA file without certificates is refused", notPEM, "no PEM certificate"},
		{"a missing CA file is refused", filepath.Join(dir, "missing.pem"), "grafana ca file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Annotate(ctx, Client{URL: srv.URL, Token: token, CAFile: tc.caFile}, runAnnotation("tls"))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func writePEM(t *testing.T, path string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// selfSigned makes a CA certificate that signed nothing the server uses.
func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
