package api

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// strictCreate is a create that fails on any field the CRD does not know
// instead of dropping it.
var strictCreate = metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict, FieldManager: "chaosops-api-test"}

func TestTheAPIServerAcceptsEveryKind(t *testing.T) {
	cfg := testenv.Config(t)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns := testenv.Namespace(t, cfg)

	create := func(t *testing.T, o *Object, dryRun bool) *Object {
		t.Helper()
		k, _ := KindNamed(o.Kind)
		o.Namespace = ns
		u, err := ToUnstructured(o)
		if err != nil {
			t.Fatal(err)
		}
		opts := strictCreate
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		got, err := dyn.Resource(k.GroupVersionResource()).Namespace(ns).Create(t.Context(), u, opts)
		if err != nil {
			t.Fatalf("%s/%s/%s: create: %v", o.Kind, ns, o.Name, err)
		}
		back, err := FromUnstructured(got)
		if err != nil {
			t.Fatal(err)
		}
		return back
	}

	for _, k := range Kinds() {
		t.Run("the full "+k.Name+" fixture passes a strict server-side dry run", func(t *testing.T) {
			data, _ := fixture(t, strings.ToLower(k.Name)+".yaml")
			o, err := DecodeStrict(data)
			if err != nil {
				t.Fatal(err)
			}
			back := create(t, o, true)
			if diff := cmp.Diff(generic(t, o)["spec"], generic(t, back)["spec"]); diff != "" {
				t.Errorf("spec changed on the server (-sent +stored):\n%s", diff)
			}
		})
		t.Run("a minimal valid "+k.Name+" passes a strict server-side dry run", func(t *testing.T) {
			create(t, valid()[k.Name], true)
		})
	}

	t.Run("a status is stored with the object and reads back unchanged", func(t *testing.T) {
		data, _ := fixture(t, "httpchaos-status.yaml")
		o, err := DecodeStrict(data)
		if err != nil {
			t.Fatal(err)
		}
		o.Finalizers = nil // nothing here would remove it
		back := create(t, o, false)
		if diff := cmp.Diff(generic(t, o)["status"], generic(t, back)["status"]); diff != "" {
			t.Errorf("status changed on the server (-sent +stored):\n%s", diff)
		}
	})
}
