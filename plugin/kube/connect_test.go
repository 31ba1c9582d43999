package kube

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"k8s.io/client-go/rest"
)

// fakeAPIServer answers /version like an API server and rejects any
// bearer token other than "good-token-123456".
func fakeAPIServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" && a != "Bearer good-token-123456" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return srv, string(ca)
}

func kubeconfigFor(host, ca, token string, insecure bool) string {
	cluster := "    certificate-authority-data: " + b64(ca) + "\n"
	if insecure {
		cluster = "    insecure-skip-tls-verify: true\n"
	}
	return `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ` + host + "\n" + cluster + `users:
- name: u
  user:
    token: ` + token + `
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: team-a}
current-context: ctx
`
}

func TestConnect(t *testing.T) {
	srv, ca := fakeAPIServer(t)
	otherCA := selfSignedCA(t)
	dir := t.TempDir()
	caPath := filepath.Join(dir, "ca.crt")
	os.WriteFile(caPath, []byte(ca), 0o600)
	kcPath := filepath.Join(dir, "kubeconfig")
	os.WriteFile(kcPath, []byte(kubeconfigFor(srv.URL, ca, "good-token-123456", false)), 0o600)

	ok := []struct {
		name string
		opts ConnOptions
		ns   string
	}{
		{"a kubeconfig given as content connects and takes the context's namespace",
			ConnOptions{Kubeconfig: kubeconfigFor(srv.URL, ca, "good-token-123456", false)}, "team-a"},
		{"a kubeconfig given as a path connects",
			ConnOptions{Kubeconfig: kcPath}, "team-a"},
		{"api options with the CA as PEM content connect",
			ConnOptions{API: &APIOptions{Host: srv.URL, Token: "good-token-123456", SSLCACert: ca}}, ""},
		{"api options with the CA as a path connect",
			ConnOptions{API: &APIOptions{Host: srv.URL, Token: "good-token-123456", SSLCACert: caPath}}, ""},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Connect(t.Context(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if c.Namespace != tt.ns {
				t.Errorf("Namespace = %q, want %q", c.Namespace, tt.ns)
			}
		})
	}

	t.Run("insecure works only when set explicitly, and logs a warning", func(t *testing.T) {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		_, err := Connect(t.Context(), ConnOptions{Kubeconfig: kubeconfigFor(srv.URL, "", "good-token-123456", true), Log: log})
		if err == nil || !strings.Contains(err.Error(), "insecure_skip_tls_verify: true is also set explicitly") {
			t.Fatalf("kubeconfig asking for insecure without the option: error = %v", err)
		}
		_, err = Connect(t.Context(), ConnOptions{Kubeconfig: kubeconfigFor(srv.URL, "", "good-token-123456", true), InsecureSkipTLSVerify: true, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "TLS verification") {
			t.Errorf("no warning logged: %q", logs.String())
		}
	})

	secret := "s3cr3t-token-value-987"
	bad := []struct {
		name string
		opts ConnOptions
		want string
	}{
		{"no connection settings is invalid", ConnOptions{}, "set exactly one of kubeconfig, api_options or in-cluster"},
		{"two connection settings are invalid", ConnOptions{Kubeconfig: kcPath, InCluster: true}, "set exactly one"},
		{"a CA that did not sign the server's certificate fails clearly",
			ConnOptions{API: &APIOptions{Host: srv.URL, Token: "good-token-123456", SSLCACert: otherCA}}, "certificate is not trusted"},
		{"no CA at all fails clearly (TLS is verified by default)",
			ConnOptions{API: &APIOptions{Host: srv.URL, Token: "good-token-123456"}}, "certificate is not trusted"},
		{"a rejected token fails clearly without showing it",
			ConnOptions{API: &APIOptions{Host: srv.URL, Token: secret, SSLCACert: ca}}, "credentials were rejected"},
		{"a kubeconfig that does not parse is not echoed",
			ConnOptions{Kubeconfig: "apiVersion: v1\nusers:\n- name: u\n  user: {token: " + secret + "\n  :::"}, "kubeconfig: not a valid kubeconfig"},
		{"a kubeconfig naming a missing context does not echo credentials",
			ConnOptions{Kubeconfig: kubeconfigFor(srv.URL, ca, secret, false), Context: "nope"}, "context was not found for specified context: nope"},
		{"a kubeconfig path that does not exist is named",
			ConnOptions{Kubeconfig: filepath.Join(dir, "missing")}, "no file at " + filepath.Join(dir, "missing")},
		{"a client key that is neither PEM nor a file is not echoed",
			ConnOptions{API: &APIOptions{Host: srv.URL, ClientCert: ca, ClientKey: secret}}, "api_options.client_key: neither PEM content nor the path of a readable file"},
		{"api options need an https host", ConnOptions{API: &APIOptions{Host: "http://x"}}, "api_options.host: must be an https:// URL"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Connect(t.Context(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestCompressionIsOffForLoopbackServers(t *testing.T) {
	tests := []struct {
		name    string
		host    string
		disable bool
		want    bool
	}{
		{"a server on 127.0.0.1 gets no compression", "https://127.0.0.1:6443", false, true},
		{"a server on localhost gets no compression", "https://localhost:6443", false, true},
		{"a server on [::1] gets no compression", "https://[::1]:6443", false, true},
		{"a remote server keeps compression", "https://10.0.0.1:6443", false, false},
		{"compression can be turned off for any server", "https://10.0.0.1:6443", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(&rest.Config{Host: tt.host}, ConnOptions{DisableCompression: tt.disable})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.RESTConfig().DisableCompression; got != tt.want {
				t.Errorf("DisableCompression = %v, want %v", got, tt.want)
			}
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// selfSignedCA returns the PEM of a fresh CA certificate that signed nothing
// the test servers use.
func selfSignedCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "other-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestConnectToTheTestControlPlane(t *testing.T) {
	cfg := testenv.Config(t)
	api := APIOptions{Host: cfg.Host, SSLCACert: string(cfg.CAData), ClientCert: string(cfg.CertData), ClientKey: string(cfg.KeyData)}

	t.Run("a kubeconfig path connects with TLS verified", func(t *testing.T) {
		c, err := Connect(t.Context(), ConnOptions{Kubeconfig: testenv.Kubeconfig(t)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Mapper.RESTMapping(schemaGK(InventoryEntry{Kind: "ConfigMap"}), "v1"); err != nil {
			t.Errorf("mapping ConfigMap: %v", err)
		}
	})
	t.Run("api options with client certificate connect", func(t *testing.T) {
		if _, err := Connect(t.Context(), ConnOptions{API: &api}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a wrong CA fails clearly", func(t *testing.T) {
		wrong := api
		wrong.SSLCACert = selfSignedCA(t)
		_, err := Connect(t.Context(), ConnOptions{API: &wrong})
		if err == nil || !strings.Contains(err.Error(), "certificate is not trusted") || !strings.Contains(err.Error(), cfg.Host) {
			t.Fatalf("error = %v", err)
		}
		if strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("error shows key material: %v", err)
		}
	})
	t.Run("skipping verification works only when set explicitly", func(t *testing.T) {
		insecure := api
		insecure.SSLCACert = selfSignedCA(t)
		if _, err := Connect(t.Context(), ConnOptions{API: &insecure, InsecureSkipTLSVerify: true}); err != nil {
			t.Fatal(err)
		}
	})
}
