package operations_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// otherCA returns the PEM of a fresh self-signed CA that signed nothing
// the API server uses.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "not-the-cluster-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestTrialTLSIsVerifiedByDefault connects operations to the real API server
// with a CA that did not sign its certificate, with no CA, and with a
// kubeconfig that asks to skip verification: each fails clearly, without
// retry, naming the TLS problem and the setting to fix; verification is off
// only when insecure_skip_tls_verify is set explicitly, and then with a
// warning.
func TestTrialTLSIsVerifiedByDefault(t *testing.T) {
	cfg := testenv.Config(t)
	admin := adminKubeconfig(t)
	wrongCA := otherCA(t)
	caData := base64.StdEncoding.EncodeToString(cfg.CAData)
	withCA := strings.Replace(admin, caData, base64.StdEncoding.EncodeToString([]byte(wrongCA)), 1)
	skipping := strings.Replace(admin, "certificate-authority-data: "+caData, "insecure-skip-tls-verify: true", 1)
	if withCA == admin || skipping == admin {
		t.Fatal("the admin kubeconfig has no certificate-authority-data to replace")
	}
	if _, err := clientcmd.Load([]byte(skipping)); err != nil {
		t.Fatal(err)
	}
	token := "tok-TLS-test-000000"
	cases := []struct {
		name    string
		inputs  map[string]any
		outcome scriptrunner.Outcome
		want    []string // in the abort message, or in the log when it succeeds
	}{
		{"a kubeconfig whose CA did not sign the server's certificate fails clearly",
			map[string]any{"kubeconfig": withCA}, scriptrunner.Abort, []string{"certificate is not trusted", "certificate-authority-data", cfg.Host}},
		{"host and token with the wrong ssl_ca_cert fail clearly",
			map[string]any{"host": cfg.Host, "token": token, "ssl_ca_cert": wrongCA}, scriptrunner.Abort, []string{"certificate is not trusted", "ssl_ca_cert"}},
		{"host and token without ssl_ca_cert are checked against the system roots and fail",
			map[string]any{"host": cfg.Host, "token": token}, scriptrunner.Abort, []string{"certificate is not trusted", "ssl_ca_cert"}},
		{"a kubeconfig asking to skip verification is refused without the explicit input",
			map[string]any{"kubeconfig": skipping}, scriptrunner.Abort, []string{"insecure-skip-tls-verify", "insecure_skip_tls_verify: true"}},
		{"insecure_skip_tls_verify set explicitly connects, with a warning",
			map[string]any{"kubeconfig": withCA, "insecure_skip_tls_verify": true}, scriptrunner.Success, []string{"warning TLS verification of the API server", "turned off"}},
		{"the right CA connects",
			map[string]any{"kubeconfig": admin}, scriptrunner.Success, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.inputs["namespace"] = "default"
			res, _ := opRun{Op: "chaos_actions.status", Deployment: "dep-tls", Inputs: tc.inputs}.run(t, t.Context())
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %s (%s), want %s\n%s", res.Outcome, res.Message, tc.outcome, chaosLogs(res))
			}
			text := res.Message
			if res.Outcome == scriptrunner.Success {
				text = chaosLogs(res)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%q lacks %q", text, w)
				}
			}
			if strings.Contains(chaosLogs(res)+res.Message, token) {
				t.Error("the token was shown")
			}
			trial.Record(t, trial.Outcome{Kind: "TLS: verified by default, insecure only when explicit", Outcome: string(res.Outcome)})
		})
	}
}
