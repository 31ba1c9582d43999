package operations

import (
	"context"
	"fmt"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
)

// connInputs are the cluster-connection inputs every Kubernetes-facing
// operation accepts. The seed's workflow passes host and token.
var connInputs = []operation.Input{
	{Name: "kubeconfig", Description: "kubeconfig content or path (e.g. {get_secret: kubeconfig})", Sensitive: true},
	{Name: "host", Description: "API server URL, with token (the seed's RunHTTPChaos parameters)"},
	{Name: "token", Description: "bearer token for host", Sensitive: true},
	{Name: "ssl_ca_cert", Description: "CA bundle (PEM content or path) that signed the API server's certificate"},
	{Name: "api_options", Description: "dict {host, token, ssl_ca_cert, client_cert, client_key}, as the Cloudify Kubernetes plugin takes", Sensitive: true},
	{Name: "in_cluster", Default: "false", Description: "use the service account of the pod chaosops runs in"},
	{Name: "insecure_skip_tls_verify", Default: "false", Description: "turn off TLS verification (logged as a warning); never the default"},
}

// connect reads the connection inputs and connects. Secrets are registered
// with the redactor first, so no error can show them. An API server that
// cannot be reached is retried until ctx's deadline, then asks Cloudify for
// a retry (retryOrFail).
func connect(ctx context.Context, op *operation.Op) (*kube.Client, error) {
	var o kube.ConnOptions
	o.Log = op.Log
	o.Kubeconfig = op.Inputs.String("kubeconfig", "")
	api, err := op.Inputs.Map("api_options")
	if err != nil {
		return nil, err
	}
	str := func(m map[string]any, k string) string {
		if v, ok := m[k].(string); ok {
			return v
		}
		return ""
	}
	if api != nil {
		o.API = &kube.APIOptions{Host: str(api, "host"), Token: str(api, "token"), SSLCACert: str(api, "ssl_ca_cert"),
			ClientCert: str(api, "client_cert"), ClientKey: str(api, "client_key")}
		if api["api_key"] != nil && o.API.Token == "" {
			o.API.Token = str(api, "api_key") // the Cloudify Kubernetes plugin's name for it
		}
	}
	if host := op.Inputs.String("host", ""); host != "" {
		if o.API == nil {
			o.API = &kube.APIOptions{}
		}
		o.API.Host = host
		o.API.Token = op.Inputs.String("token", o.API.Token)
		o.API.SSLCACert = op.Inputs.String("ssl_ca_cert", o.API.SSLCACert)
	}
	if o.API != nil {
		op.Redactor.Add(o.API.Token, o.API.ClientKey)
	}
	op.Redactor.Add(o.Kubeconfig)
	if o.InCluster, err = op.Inputs.Bool("in_cluster", false); err != nil {
		return nil, err
	}
	if o.InsecureSkipTLSVerify, err = op.Inputs.Bool("insecure_skip_tls_verify", false); err != nil {
		return nil, err
	}
	set := 0
	for _, b := range []bool{o.Kubeconfig != "", o.API != nil, o.InCluster} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("connection: give exactly one of kubeconfig, host + token (or api_options), in_cluster: true (%d given)", set)
	}
	c, err := kube.Connect(ctx, o)
	if err != nil {
		// Classified here, so that an API server that stays unreachable
		// asks for a retry in every operation that connects.
		return nil, retryOrFail(fmt.Errorf("connect to the cluster: %w", err))
	}
	return c, nil
}
