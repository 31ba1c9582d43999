package download

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// NewClient returns an HTTP client that verifies servers against the
// system's trusted roots plus caBundle: PEM text, or the path of a PEM
// file; empty adds nothing. It honours the proxy environment variables.
// Timeouts are Get's, per attempt, so the client sets none.
func NewClient(caBundle string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if strings.TrimSpace(caBundle) != "" {
		pool, err := certPool(caBundle)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr}, nil
}

// certPool is the system pool with the certificates of caBundle added.
func certPool(caBundle string) (*x509.CertPool, error) {
	pem := []byte(caBundle)
	if !strings.Contains(caBundle, "-----BEGIN") {
		b, err := os.ReadFile(strings.TrimSpace(caBundle))
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("%s: %w; give PEM text or the path of a PEM file", strings.TrimSpace(caBundle), err)
		}
		pem = b
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("holds no PEM certificate; give the CA bundle that signed the server's certificate")
	}
	return pool, nil
}
