package terraform

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsValidation(t *testing.T) {
	base := func() Options { return Options{WorkDir: "/tmp/w", Module: "/tmp/m"} }
	cases := []struct {
		name string
		edit func(*Options)
		want string // empty: valid
	}{
		{"defaults fill in", func(*Options) {}, ""},
		{"a workdir is required", func(o *Options) { o.WorkDir = "" }, "workdir: not set"},
		{"the module cannot be its own workdir", func(o *Options) { o.Module = o.WorkDir }, "module: /tmp/w is also the working directory"},
		{"variable names follow Terraform's rules", func(o *Options) { o.Vars = map[string]any{"1st": 1} }, `variables: "1st" is not a Terraform variable name`},
		{"a variable cannot be both plain and sensitive", func(o *Options) {
			o.Vars = map[string]any{"pw": "a"}
			o.SensitiveVars = map[string]any{"pw": "b"}
		}, `variables: "pw" is given both as a variable and as a sensitive variable`},
		{"TF_VAR_ in the environment points to sensitive variables", func(o *Options) { o.Env = map[string]string{"TF_VAR_pw": "x"} }, "environment: TF_VAR_pw cannot be set here: give the value as a sensitive variable pw"},
		{"variables terraform-exec manages are refused", func(o *Options) { o.Env = map[string]string{"TF_LOG": "DEBUG"} }, "environment: TF_LOG cannot be set here: terraform-exec manages it"},
		{"provider credentials may go into the environment", func(o *Options) { o.Env = map[string]string{"ARM_CLIENT_SECRET": "x"} }, ""},
		{"a backend needs a type", func(o *Options) { o.Backend = &Backend{Type: "Azure RM"} }, `backend: type "Azure RM" is not a backend type`},
		{"backend credentials are refused because the file stays on disk", func(o *Options) {
			o.Backend = &Backend{Type: "azurerm", Config: map[string]any{"access_key": "x"}}
		}, "backend: config access_key looks like a credential"},
		{"the state object's key is not a credential", func(o *Options) {
			o.Backend = &Backend{Type: "azurerm", Config: map[string]any{"key": "prod.tfstate", "container_name": "tfstate"}}
		}, ""},
		{"the minimum version must be a version", func(o *Options) { o.MinVersion = "latest" }, `min version: "latest" is not a version`},
		{"a negative grace is refused", func(o *Options) { o.Grace = -time.Second }, "grace: -1s is negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			tc.edit(&o)
			got, err := o.withDefaults()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			case tc.want == "" && (got.Binary != DefaultBinary || got.MinVersion != DefaultMinVersion || got.Grace != DefaultGrace):
				t.Errorf("defaults not filled in: %+v", got)
			}
		})
	}
}
