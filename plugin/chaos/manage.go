package chaos

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// Selection chooses chaos objects created by chaosops.
type Selection struct {
	// Namespace limits the search; empty means every namespace.
	Namespace string
	// Deployment limits it to one deployment's runs; empty means all.
	Deployment string
	// RunID limits it to one run.
	RunID string
	// Blueprint limits it to the runs of one blueprint.
	Blueprint string
	// Name limits it to one object (with Kind).
	Name, Kind string
}

func (s Selection) selector() string {
	set := labels.Set{LabelManagedBy: ManagedBy}
	if s.Deployment != "" {
		set[LabelDeployment] = labelValue(s.Deployment)
	}
	if s.RunID != "" {
		set[LabelRun] = labelValue(s.RunID)
	}
	if s.Blueprint != "" {
		set[LabelBlueprint] = labelValue(s.Blueprint)
	}
	return labels.SelectorFromSet(set).String()
}

// ObjectStatus is the state of one chaos object, for status and reap.
type ObjectStatus struct {
	Ref        string            `json:"ref"`
	Kind       string            `json:"kind"`
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Run        string            `json:"run"`
	Deployment string            `json:"deployment,omitempty"`
	Conditions map[string]string `json:"conditions"`
	Phase      string            `json:"desired_phase,omitempty"`
	Records    []api.Record      `json:"records,omitempty"`
	Deleting   bool              `json:"deleting,omitempty"`
	Finalizers []string          `json:"finalizers,omitempty"`
	// Cleanup is what reap did to the object (reap and halt_all only).
	Cleanup *Cleanup `json:"cleanup,omitempty"`
}

// List finds the chaos objects chaosops created that match s. Kinds whose
// CRD is not installed are skipped.
func (r *Runner) List(ctx context.Context, s Selection) ([]ObjectStatus, error) {
	var out []ObjectStatus
	for _, k := range api.Kinds() {
		if s.Kind != "" && s.Kind != k.Name {
			continue
		}
		var ri = r.Dynamic.Resource(k.GroupVersionResource())
		list, err := func() ([]*api.Object, error) {
			if s.Namespace != "" {
				return listObjects(ctx, ri.Namespace(s.Namespace), s.selector())
			}
			return listObjects(ctx, ri, s.selector())
		}()
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", k.Name, err)
		}
		for _, o := range list {
			if s.Name != "" && o.Name != s.Name {
				continue
			}
			st := ObjectStatus{
				Ref: ref(k.Name, o.Namespace, o.Name), Kind: k.Name, Namespace: o.Namespace, Name: o.Name,
				Run: o.Labels[LabelRun], Deployment: o.Labels[LabelDeployment], Conditions: map[string]string{},
				Phase: string(o.Status.Experiment.DesiredPhase), Records: o.Status.Experiment.Records,
				Deleting: o.DeletionTimestamp != nil, Finalizers: o.Finalizers,
			}
			for _, c := range o.Status.Conditions {
				st.Conditions[string(c.Type)] = string(c.Status)
			}
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

// SetPaused sets or removes the experiment.chaos-mesh.org/pause annotation
// on the selected objects, and returns them.
func (r *Runner) SetPaused(ctx context.Context, s Selection, paused bool) ([]ObjectStatus, error) {
	objs, err := r.List(ctx, s)
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("no chaos object created by chaosops matches %s", s.describe())
	}
	val := `"true"`
	if !paused {
		val = "null"
	}
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, api.PauseAnnotation, val))
	for _, o := range objs {
		k, _ := api.KindNamed(o.Kind)
		if _, err := r.chaos(k, o.Namespace).Patch(ctx, o.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return objs, fmt.Errorf("%s: set pause=%v: %w", o.Ref, paused, err)
		}
		r.Log.Info(fmt.Sprintf("%s: pause annotation %s", o.Ref, map[bool]string{true: "set", false: "removed"}[paused]))
	}
	return objs, nil
}

func (s Selection) describe() string {
	d := "label " + s.selector()
	if s.Namespace != "" {
		d += " in namespace " + s.Namespace
	}
	if s.Name != "" {
		d += ", name " + s.Name
	}
	return d
}

// Reap deletes every chaos object chaosops created that matches s and
// waits until they are gone (or the context ends), as a run's cleanup
// does, ForceCleanup included; each object's Cleanup says how it went. It
// is idempotent: nothing to delete is success. An object left behind is a
// *CleanupIncompleteError.
func (r *Runner) Reap(ctx context.Context, s Selection, opts RunOptions) ([]ObjectStatus, error) {
	opts.setDefaults()
	objs, err := r.List(ctx, s)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, o := range objs {
		k, _ := api.KindNamed(o.Kind)
		obj := &api.Object{}
		obj.Name, obj.Namespace = o.Name, o.Namespace
		obj.Labels = map[string]string{LabelRun: o.Run, LabelDeployment: o.Deployment}
		x := &run{r: r, opts: opts, kind: k, obj: obj, res: &Result{Ref: o.Ref}}
		err := x.teardown(ctx)
		objs[i].Cleanup = x.res.Cleanup
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.Ref, err))
		}
	}
	return objs, joinLine(errs...)
}
