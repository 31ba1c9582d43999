package kube

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// yamlLineRE finds the line number in a kubeconfig parse error.
var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// restConfig turns opts into a REST config and the default namespace.
func restConfig(opts ConnOptions) (*rest.Config, string, error) {
	set := 0
	if opts.Kubeconfig != "" {
		set++
	}
	if opts.API != nil {
		set++
	}
	if opts.InCluster {
		set++
	}
	if set != 1 {
		return nil, "", failure.Invalidf("connection", "set exactly one of kubeconfig, api_options or in-cluster")
	}
	switch {
	case opts.API != nil:
		cfg, err := apiConfig(*opts.API, opts.InsecureSkipTLSVerify)
		return cfg, "", err
	case opts.InCluster:
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, "", fmt.Errorf("in-cluster connection: %w", err)
		}
		if opts.InsecureSkipTLSVerify {
			setInsecure(cfg)
		}
		ns, _ := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
		return cfg, strings.TrimSpace(string(ns)), nil
	}
	return kubeconfigConfig(opts)
}

// checkKubeconfigFile checks a kubeconfig file against the YAML limits
// before client-go reads it; client-go's own errors are replaced below.
func checkKubeconfigFile(path string) error {
	data, err := yamllimit.ReadFile(path)
	var le *yamllimit.Error
	if errors.As(err, &le) {
		return err
	}
	if err != nil {
		return nil // client-go reports it
	}
	return yamllimit.CheckBytes(path, data)
}

// kubeconfigConfig loads a kubeconfig from content or path. Parse errors are
// replaced by a fixed message (plus the line), because parsers quote input.
func kubeconfigConfig(opts ConnOptions) (*rest.Config, string, error) {
	var raw *clientcmdapi.Config
	var err error
	what := "kubeconfig"
	if path, ok := kubeconfigPath(opts.Kubeconfig); ok {
		what = "kubeconfig " + path
		if err := checkKubeconfigFile(path); err != nil {
			return nil, "", &failure.InvalidError{Field: what, Err: err}
		}
		raw, err = clientcmd.LoadFromFile(path)
	} else {
		if looksLikePath(opts.Kubeconfig) {
			return nil, "", failure.Invalidf("kubeconfig", "no file at %s (the value is neither kubeconfig content nor an existing file)", opts.Kubeconfig)
		}
		if err := yamllimit.CheckBytes("kubeconfig", []byte(opts.Kubeconfig)); err != nil {
			return nil, "", &failure.InvalidError{Field: what, Err: err}
		}
		raw, err = clientcmd.Load([]byte(opts.Kubeconfig))
	}
	if err != nil {
		msg := "not a valid kubeconfig"
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			msg += " (syntax error at line " + m[1] + ")"
		}
		return nil, "", &failure.InvalidError{Field: what, Err: errors.New(msg)}
	}
	secrets := kubeconfigSecrets(raw)
	cc := clientcmd.NewNonInteractiveClientConfig(*raw, opts.Context, &clientcmd.ConfigOverrides{}, nil)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", &failure.InvalidError{Field: what, Err: errors.New(scrub(err.Error(), secrets))}
	}
	if cfg.Insecure && !opts.InsecureSkipTLSVerify {
		return nil, "", failure.Invalidf(what, "the cluster entry sets insecure-skip-tls-verify; TLS verification is only turned off when insecure_skip_tls_verify: true is also set explicitly")
	}
	if opts.InsecureSkipTLSVerify {
		setInsecure(cfg)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		ns = ""
	}
	return cfg, ns, nil
}

// kubeconfigPath says whether v names a kubeconfig file rather than holding
// the content.
func kubeconfigPath(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, "\n{") {
		return "", false
	}
	if st, err := os.Stat(v); err == nil && !st.IsDir() {
		return v, true
	}
	return "", false
}

// looksLikePath is true for a single-line value that can only be meant as
// a path; only then is the value shown in an error.
func looksLikePath(v string) bool {
	v = strings.TrimSpace(v)
	return len(v) < 512 && !strings.ContainsAny(v, "\n \t:") &&
		(strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "../") || strings.HasPrefix(v, "~"))
}

// kubeconfigSecrets lists the credential values of a kubeconfig, to scrub
// them from any error text.
func kubeconfigSecrets(c *clientcmdapi.Config) []string {
	var s []string
	for _, a := range c.AuthInfos {
		s = append(s, a.Token, a.Password, string(a.ClientKeyData), string(a.ClientCertificateData))
	}
	return s
}

func scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		if len(s) >= 6 {
			msg = strings.ReplaceAll(msg, s, "[REDACTED]")
		}
	}
	return msg
}

// setInsecure turns TLS verification off; client-go refuses a CA together
// with Insecure.
func setInsecure(cfg *rest.Config) {
	cfg.Insecure = true
	cfg.CAData = nil
	cfg.CAFile = ""
}

// apiConfig builds a REST config from api_options.
func apiConfig(a APIOptions, insecure bool) (*rest.Config, error) {
	if a.Host == "" {
		return nil, failure.Invalidf("api_options.host", "is required, e.g. https://10.0.0.1:6443")
	}
	if !strings.HasPrefix(a.Host, "https://") {
		return nil, failure.Invalidf("api_options.host", "must be an https:// URL")
	}
	cfg := &rest.Config{Host: a.Host, BearerToken: a.Token}
	var err error
	if cfg.CAData, err = pemValue("api_options.ssl_ca_cert", a.SSLCACert, true); err != nil {
		return nil, err
	}
	if cfg.CertData, err = pemValue("api_options.client_cert", a.ClientCert, true); err != nil {
		return nil, err
	}
	if cfg.KeyData, err = pemValue("api_options.client_key", a.ClientKey, false); err != nil {
		return nil, err
	}
	if (len(cfg.CertData) == 0) != (len(cfg.KeyData) == 0) {
		return nil, failure.Invalidf("api_options", "set both the client certificate and its key, or neither")
	}
	if insecure {
		setInsecure(cfg)
	}
	return cfg, nil
}

// pemValue returns PEM content given inline or as a file path. showPath
// allows naming the path in errors (never for keys).
func pemValue(field, v string, showPath bool) ([]byte, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	if strings.Contains(v, "-----BEGIN") {
		return []byte(v + "\n"), nil
	}
	data, err := os.ReadFile(v)
	if err != nil {
		if showPath && looksLikePath(v) {
			return nil, failure.Invalidf(field, "cannot read %s: %v", v, unwrapPath(err))
		}
		return nil, failure.Invalidf(field, "neither PEM content nor the path of a readable file")
	}
	if !strings.Contains(string(data), "-----BEGIN") {
		return nil, failure.Invalidf(field, "the file holds no PEM block")
	}
	return data, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
