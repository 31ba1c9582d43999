package local_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/tfbin"
	"github.com/cloudify-chaos/chaosops/plugin/local"
)

// TestAKSWorkflows installs AKS-Azure-TFM with the local runner and real
// terraform, on a stand-in of the AKS module (testdata/aks-standin: the
// real variables.tf, terraform_data for the cluster, the real outputs'
// names), then runs its Day-2 workflows terraform_plan and terraform_refresh
// and uninstalls: every workflow of the blueprint runs here but Azure.
func TestAKSWorkflows(t *testing.T) {
	terraform := tfbin.Path(t)
	module := t.TempDir()
	for src, dst := range map[string]string{
		filepath.Join(repoRoot(), "terraform", "aks", "variables.tf"): "variables.tf",
		filepath.Join("testdata", "aks-standin", "main.tf"):           "main.tf",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(module, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"azure_subscription_id", "azure_tenant_id", "azure_client_id", "azure_client_secret"} {
		t.Setenv(local.SecretEnvPrefix+s, "stand-in-"+s)
	}
	t.Setenv("CHAOSOPS_WORKDIR", t.TempDir())
	t.Setenv("TF_IN_AUTOMATION", "1")
	r, events := newRunner(t)
	ctx := t.Context()
	fail := func(what string, err error) {
		t.Helper()
		t.Fatalf("%s: %v\nevents:\n%s", what, err, tail(events.String(), 40))
	}
	err := r.Install(ctx, local.InstallOptions{
		Blueprint: filepath.Join(repoRoot(), "blueprints", "AKS-Azure-TFM"), Name: "aks",
		Inputs: map[string]any{"terraform_module": module, "terraform_binary": terraform, "name_prefix": "gameday"},
	})
	if err != nil {
		fail("install", err)
	}
	_, caps, err := r.Outputs("aks")
	if err != nil {
		t.Fatal(err)
	}
	if caps["kubernetes_cluster_host"] != "https://gameday-aks.hcp.westeurope.azmk8s.io:443" {
		t.Errorf("capability kubernetes_cluster_host = %v", caps["kubernetes_cluster_host"])
	}
	for _, wf := range []string{"terraform_plan", "terraform_refresh"} {
		if err := r.Execute(ctx, "aks", wf, nil); err != nil {
			fail(wf, err)
		}
	}
	tf, _ := instance(t, r, "aks", "aks").RuntimeProperties["terraform"].(map[string]any)
	if _, ok := tf["plan"]; !ok {
		t.Errorf("terraform_plan recorded no plan: runtime property terraform has %v", keysOf(tf))
	}
	if err := r.Uninstall(ctx, "aks"); err != nil {
		fail("uninstall", err)
	}
	if list, _ := r.Store.List(); len(list) != 0 {
		t.Errorf("%d local deployments left", len(list))
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
