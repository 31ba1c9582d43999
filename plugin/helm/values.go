package helm

import (
	"errors"
	"os"
	"regexp"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/strvals"
)

// yamlLineRE finds the line number in a YAML error; the error itself may
// quote the file, whose values can be secret.
var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// MergeValues builds release values as the helm CLI does: the YAML files in
// order (a later one overrides an earlier one, maps merged key by key), then
// values over them, then the --set expressions (e.g. "a.b=c", "list={x,y}").
// Errors name the file or the expression, never a value from a file.
func MergeValues(files []string, values map[string]any, set []string) (map[string]any, error) {
	out := map[string]any{}
	for _, f := range files {
		b, err := yamllimit.ReadFile(f)
		var le *yamllimit.Error
		if errors.As(err, &le) {
			return nil, failure.Invalidf("values file "+f, "%s", le.Msg)
		}
		if err != nil {
			return nil, failure.Invalidf("values file "+f, "cannot read it: %v", unwrapPath(err))
		}
		if err := yamllimit.CheckBytes(f, b); errors.As(err, &le) {
			return nil, failure.Invalidf("values file "+f, "line %d: %s", le.Line, le.Msg)
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(b, &m); err != nil {
			msg := "not a YAML mapping of values"
			if l := yamlLineRE.FindStringSubmatch(err.Error()); l != nil {
				msg += " (syntax error at line " + l[1] + ")"
			}
			return nil, failure.Invalidf("values file "+f, "%s", msg)
		}
		out = loader.MergeMaps(out, m)
	}
	if len(values) > 0 {
		norm, err := normalizeValues(values)
		if err != nil {
			return nil, err
		}
		out = loader.MergeMaps(out, norm)
	}
	for _, s := range set {
		if err := strvals.ParseInto(s, out); err != nil {
			return nil, failure.Invalidf("set", "%q: %v; use key=value, a.b=value or list={a,b}", s, err)
		}
	}
	return out, nil
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
