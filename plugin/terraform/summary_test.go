package terraform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	tfjson "github.com/hashicorp/terraform-json"
)

func TestPlanSummaryRendering(t *testing.T) {
	cases := []struct {
		name   string
		plan   PlanSummary
		counts string
		text   string
	}{
		{"an empty plan says so", PlanSummary{}, "0 to add, 0 to change, 0 to destroy", "no changes"},
		{
			"each address gets Terraform's symbol, replaced ones -/+",
			PlanSummary{Add: []string{"b.new", "a.repl"}, Change: []string{"c.upd"}, Destroy: []string{"a.repl", "d.gone"}},
			"2 to add, 1 to change, 2 to destroy",
			"2 to add, 1 to change, 2 to destroy:\n  -/+ a.repl\n  + b.new\n  ~ c.upd\n  - d.gone",
		},
		{
			"addresses with indexes and modules sort as text",
			PlanSummary{Add: []string{`module.m.x.y["k"]`, "x.y[1]", "x.y[0]"}},
			"3 to add, 0 to change, 0 to destroy",
			"3 to add, 0 to change, 0 to destroy:\n  + module.m.x.y[\"k\"]\n  + x.y[0]\n  + x.y[1]",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.plan.Counts(); got != tc.counts {
				t.Errorf("Counts() = %q, want %q", got, tc.counts)
			}
			if got := tc.plan.String(); got != tc.text {
				t.Errorf("String() =\n%s\nwant\n%s", got, tc.text)
			}
		})
	}
}

func TestSummarizeState(t *testing.T) {
	raw := `{"format_version":"1.0","terraform_version":"1.11.4","values":{
	  "outputs":{
	    "host":{"sensitive":false,"value":"https://aks.example:443","type":"string"},
	    "count":{"sensitive":false,"value":3,"type":"number"},
	    "nested":{"sensitive":false,"value":{"ratio":1.5,"list":[1,"a"]},"type":["object",{}]},
	    "kubeconfig":{"sensitive":true,"value":"apiVersion: v1\nusers: []\n","type":"string"},
	    "cert":{"sensitive":true,"value":{"pem":"x"},"type":["object",{}]}},
	  "root_module":{
	    "resources":[{"address":"terraform_data.b","mode":"managed","type":"terraform_data","name":"b","provider_name":"terraform.io/builtin/terraform","values":{"input":"secret-ish"},"tainted":true}],
	    "child_modules":[{"address":"module.m","resources":[{"address":"module.m.azurerm_resource_group.a","mode":"managed","type":"azurerm_resource_group","name":"a","provider_name":"registry.terraform.io/hashicorp/azurerm"}]}]}}}`
	var st tfjson.State
	st.UseJSONNumber(true)
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatal(err)
	}
	sum, secrets := summarizeState(&st)

	t.Run("resources are listed by address without their values", func(t *testing.T) {
		want := []ResourceSummary{
			{Address: "module.m.azurerm_resource_group.a", Mode: "managed", Type: "azurerm_resource_group", Name: "a", Provider: "registry.terraform.io/hashicorp/azurerm"},
			{Address: "terraform_data.b", Mode: "managed", Type: "terraform_data", Name: "b", Provider: "terraform.io/builtin/terraform", Tainted: true},
		}
		if d := cmp.Diff(want, sum.Resources); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("non-sensitive outputs keep their values with plain numbers", func(t *testing.T) {
		want := map[string]any{"host": "https://aks.example:443", "count": int64(3), "nested": map[string]any{"ratio": 1.5, "list": []any{int64(1), "a"}}}
		if d := cmp.Diff(want, sum.Outputs); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("sensitive outputs are named in the summary and held apart", func(t *testing.T) {
		if d := cmp.Diff([]string{"cert", "kubeconfig"}, sum.SensitiveOutputs); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		if got := secrets["kubeconfig"].Reveal(); got != "apiVersion: v1\nusers: []\n" {
			t.Errorf("kubeconfig = %q", got)
		}
		if got := secrets["cert"].Reveal(); got != `{"pem":"x"}` {
			t.Errorf("cert = %q", got)
		}
		b, _ := json.Marshal(sum)
		if bytes.Contains(b, []byte("apiVersion")) {
			t.Errorf("the summary's JSON holds a sensitive value: %s", b)
		}
	})
	t.Run("an empty state gives an empty summary", func(t *testing.T) {
		sum, secrets := summarizeState(&tfjson.State{FormatVersion: "1.0"})
		if len(sum.Resources)+len(sum.Outputs)+len(sum.SensitiveOutputs)+len(secrets) != 0 || sum.Resources == nil {
			t.Errorf("%+v", sum)
		}
	})
}

func TestSecretNeverPrints(t *testing.T) {
	s := newSecret("hunter2-password")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "value", s, "map", map[string]Secret{"a": s})
	b, _ := json.Marshal(map[string]any{"s": s})
	for name, text := range map[string]string{
		"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%#v": fmt.Sprintf("%#v", s), "%s": fmt.Sprintf("%s", s),
		"json": string(b), "slog": buf.String(),
	} {
		if strings.Contains(text, "hunter2") {
			t.Errorf("%s shows the value: %s", name, text)
		}
	}
	if s.Reveal() != "hunter2-password" {
		t.Errorf("Reveal() = %q", s.Reveal())
	}
}
