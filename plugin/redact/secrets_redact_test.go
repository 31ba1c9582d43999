package redact

import (
	"strings"
	"testing"
)

// TestTrialKubeconfigLinesAreMaskedButNotWhereToConnect: a kubeconfig registered
// as a secret masks its credentials wherever they are quoted, line by line,
// but not the server URL or names, which connection errors must show.
func TestTrialKubeconfigLinesAreMaskedButNotWhereToConnect(t *testing.T) {
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: production-cluster-eu-west
  cluster:
    server: https://k8s.example.com:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
users:
- name: chaosops-runner-production
  user:
    token: kc-SECRET-5d1b7e9f3a2c6b80aa
    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUJh
contexts:
- context: {cluster: production-cluster-eu-west, user: chaosops-runner-production}
  name: production-context-eu-west
current-context: production-context-eu-west
`
	var r Redactor
	r.Add(kubeconfig)
	cases := []struct {
		name, in, want string
	}{
		{"a token quoted alone is masked", "401 for token kc-SECRET-5d1b7e9f3a2c6b80aa", "401 for token " + Mask},
		{"a key's data quoted alone is masked", "bad key LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUJh", "bad key " + Mask},
		{"the whole kubeconfig is masked", "got " + kubeconfig, "got " + Mask + "\n"},
		{"the server URL stays readable", "connect to https://k8s.example.com:6443: refused", "connect to https://k8s.example.com:6443: refused"},
		{"names stay readable", "context production-context-eu-west not found", "context production-context-eu-west not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.String(tc.in); got != tc.want {
				t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if strings.Contains(r.String(kubeconfig), "kc-SECRET") {
		t.Error("the token survived")
	}
}
