package terraform

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"gopkg.in/yaml.v3"
)

// The bundle's AKS module cannot be planned here (no Azure, no provider
// download), so its shape is checked offline: what the blueprint passes,
// what it reads back, which outputs are sensitive, and the two settings a
// real subscription trips over.

func repoPath(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, parts...)...)
}

func TestAKSModuleShape(t *testing.T) {
	dir := repoPath("terraform", "aks")
	mod, diags := tfconfig.LoadModule(dir)
	if diags.HasErrors() {
		t.Fatalf("terraform/aks: %v", diags.Err())
	}

	t.Run("the provider is pinned to azurerm 4.48.0", func(t *testing.T) {
		p := mod.RequiredProviders["azurerm"]
		if p == nil || p.Source != "hashicorp/azurerm" || strings.Join(p.VersionConstraints, ",") != "= 4.48.0" {
			t.Errorf("required_providers azurerm = %+v, want hashicorp/azurerm = 4.48.0", p)
		}
	})

	t.Run("credentials and keys are sensitive outputs, the rest are not", func(t *testing.T) {
		got := map[string]bool{}
		for name, o := range mod.Outputs {
			got[name] = o.Sensitive
			if o.Description == "" {
				t.Errorf("output %s has no description", name)
			}
		}
		want := map[string]bool{
			"host": false, "cluster_ca_certificate": false, "cluster_name": false, "resource_group_name": false, "kubernetes_version": false,
			"kubeconfig": true, "token": true, "client_certificate": true, "client_key": true,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outputs and their sensitivity (-want +got):\n%s", diff)
		}
	})

	t.Run("every variable has a type, a description and a default", func(t *testing.T) {
		for name, v := range mod.Variables {
			if v.Type == "" || v.Description == "" || v.Default == nil && name != "tags" {
				t.Errorf("variable %s: type %q, description %q, default %v", name, v.Type, v.Description, v.Default)
			}
		}
	})

	body := parseModule(t, dir)

	t.Run("the node pool declares upgrade_settings.max_surge, so a plan after the first settles", func(t *testing.T) {
		pool := nested(t, body, []string{"resource", "azurerm_kubernetes_cluster", "this"}, "default_node_pool")
		up := nested(t, pool, nil, "upgrade_settings")
		attrs, _ := up.JustAttributes()
		if _, ok := attrs["max_surge"]; !ok {
			t.Error("default_node_pool.upgrade_settings has no max_surge")
		}
	})

	t.Run("the provider registers Microsoft.ContainerService on top of the chosen set", func(t *testing.T) {
		p := nested(t, body, []string{"provider", "azurerm"}, "")
		attrs, _ := p.JustAttributes()
		if _, ok := attrs["resource_providers_to_register"]; !ok {
			t.Error(`provider "azurerm" does not set resource_providers_to_register`)
		}
		v := mod.Variables["resource_providers_to_register"]
		if v == nil || !contains(v.Default, "Microsoft.ContainerService") {
			t.Errorf("variable resource_providers_to_register defaults to %v, want Microsoft.ContainerService in it", v)
		}
	})

	t.Run("the files are formatted (terraform fmt, offline)", func(t *testing.T) {
		bin := terraformBinary(t)
		out, err := exec.Command(bin, "fmt", "-check", "-diff", "-recursive", dir).CombinedOutput()
		if err != nil {
			t.Errorf("terraform fmt -check: %v\n%s", err, out)
		}
	})

	t.Run("the blueprint passes only declared variables and reads only declared outputs", func(t *testing.T) {
		bp := readAKSBlueprint(t)
		var vars []string
		for name := range bp.NodeTemplates.AKS.Properties.Variables {
			vars = append(vars, name)
			if mod.Variables[name] == nil {
				t.Errorf("the blueprint passes variable %s, which terraform/aks does not declare", name)
			}
		}
		sort.Strings(vars)
		for name := range mod.Variables {
			if _, ok := bp.NodeTemplates.AKS.Properties.Variables[name]; !ok && name != "resource_group_name" && name != "tags" {
				t.Errorf("variable %s of terraform/aks is not settable from the blueprint (passes %v)", name, vars)
			}
		}
		for name, c := range bp.Capabilities {
			path := c.Value["get_attribute"]
			if len(path) < 4 {
				continue
			}
			out := path[len(path)-1]
			o := mod.Outputs[out]
			if o == nil {
				t.Errorf("capability %s reads output %s, which terraform/aks does not declare", name, out)
				continue
			}
			// Sensitive outputs never reach runtime properties: only their file path does.
			if wantKey := map[bool]string{true: "sensitive_outputs", false: "outputs"}[o.Sensitive]; path[2] != wantKey {
				t.Errorf("capability %s reads %v; output %s (sensitive %v) is under %s", name, path, out, o.Sensitive, wantKey)
			}
		}
	})

	t.Run("resource-provider registration is an input with the provider's own choices, core by default", func(t *testing.T) {
		bp := readAKSBlueprint(t)
		env := bp.NodeTemplates.AKS.Properties.Environment["ARM_RESOURCE_PROVIDER_REGISTRATIONS"]
		in, _ := env.(map[string]any)
		name, _ := in["get_input"].(string)
		input, ok := bp.Inputs[name]
		if !ok {
			t.Fatalf("environment ARM_RESOURCE_PROVIDER_REGISTRATIONS = %v, want { get_input: INPUT }", env)
		}
		if input.Default != "core" {
			t.Errorf("input %s defaults to %v, want core", name, input.Default)
		}
		want := []any{"core", "extended", "all", "none", "legacy"}
		var got []any
		for _, c := range input.Constraints {
			if v, ok := c["valid_values"]; ok {
				got, _ = v.([]any)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("input %s valid_values (-want +got):\n%s", name, diff)
		}
	})
}

type aksBlueprint struct {
	Inputs map[string]struct {
		Default     any              `yaml:"default"`
		Constraints []map[string]any `yaml:"constraints"`
	} `yaml:"inputs"`
	NodeTemplates struct {
		AKS struct {
			Properties struct {
				Variables   map[string]any `yaml:"variables"`
				Environment map[string]any `yaml:"environment"`
			} `yaml:"properties"`
		} `yaml:"aks"`
	} `yaml:"node_templates"`
	Capabilities map[string]struct {
		Value map[string][]string `yaml:"value"`
	} `yaml:"capabilities"`
}

func readAKSBlueprint(t *testing.T) aksBlueprint {
	t.Helper()
	b, err := os.ReadFile(repoPath("blueprints", "AKS-Azure-TFM", "blueprint.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var bp aksBlueprint
	if err := yaml.Unmarshal(b, &bp); err != nil {
		t.Fatalf("AKS-Azure-TFM/blueprint.yaml: %v", err)
	}
	return bp
}

// parseModule merges the bodies of the module's .tf files.
func parseModule(t *testing.T, dir string) hcl.Body {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	p := hclparse.NewParser()
	var bodies []*hcl.File
	for _, f := range files {
		hf, diags := p.ParseHCLFile(f)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", f, diags)
		}
		bodies = append(bodies, hf)
	}
	return hcl.MergeFiles(bodies)
}

// nested returns the body of the block at path (type and labels) in body,
// then of its child block child when child is not empty.
func nested(t *testing.T, body hcl.Body, path []string, child string) hcl.Body {
	t.Helper()
	if len(path) > 0 {
		schema := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: path[0], LabelNames: labelNames(len(path) - 1)}}}
		content, _, _ := body.PartialContent(schema)
		var found hcl.Body
		for _, b := range content.Blocks {
			if strings.Join(b.Labels, "/") == strings.Join(path[1:], "/") {
				found = b.Body
			}
		}
		if found == nil {
			t.Fatalf("no block %s", strings.Join(path, " "))
		}
		body = found
	}
	if child == "" {
		return body
	}
	content, _, _ := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: child}}})
	if len(content.Blocks) != 1 {
		t.Fatalf("%s: want one %s block, found %d", strings.Join(path, " "), child, len(content.Blocks))
	}
	return content.Blocks[0].Body
}

func labelNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "label" + string(rune('0'+i))
	}
	return names
}

func contains(list any, s string) bool {
	items, _ := list.([]any)
	for _, v := range items {
		if v == s {
			return true
		}
	}
	return false
}
