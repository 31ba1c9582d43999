package runopts

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/experiment"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
)

// Source gives the values of options on one side: the operation's inputs
// or the command's flags. Each method returns the option's value, or its
// default on that side (Option.DefaultOn) when it is unset, as the Go type
// of its Kind; its errors name the option as that side's user knows it.
// The reader asks a Source only for options on its Side.
type Source interface {
	Side() Side
	String(o *Option) string
	Bool(o *Option) (bool, error)
	Int(o *Option) (int, error)
	Float(o *Option) (float64, error)
	Duration(o *Option) (time.Duration, error)
	List(o *Option) ([]string, error)
	Ports(o *Option) ([]int, error)
	// Value is a Labels value: a text, or on the input side a dict
	// (map[string]any).
	Value(o *Option) any
	// Decode decodes a Dict into out, which it leaves alone when unset.
	Decode(o *Option, out any) error
	// Text is a Text value, the content of the named file for a flag with
	// a FileMode, and whether it is set.
	Text(o *Option) (string, bool, error)
	// Invalid is err, about a value of o that the reader could not use, as
	// this side reports it.
	Invalid(o *Option, err error) error
}

// ReadRun reads the run and guardrail options (Run) and the chaos
// object's namespace. The caller sets what no option gives: the Object,
// the Owner's ids (the CLI's deployment flag is read) and OnIntent.
func ReadRun(src Source) (chaos.RunOptions, error) {
	r := reader{src: src, sets: []Set{Run, Manifest}}
	o := chaos.RunOptions{Namespace: r.str("namespace"), ChaosNamespace: r.str("chaos_namespace"), Owner: chaos.Owner{Deployment: r.str("deployment")}}
	o.Duration = get(&r, "duration", Source.Duration)
	o.InjectionTimeout = get(&r, "injection_timeout", Source.Duration)
	o.RecoveryTimeout = get(&r, "recovery_timeout", Source.Duration)
	o.DeleteTimeout = get(&r, "delete_timeout", Source.Duration)
	o.Guard.MaxDuration = get(&r, "max_duration", Source.Duration)
	o.ForceCleanup = get(&r, "force_cleanup", Source.Bool)
	o.Guard.AllowAllTargets = get(&r, "allow_all_targets", Source.Bool)
	o.SkipDaemonCheck = get(&r, "skip_daemon_check", Source.Bool)
	o.Guard.MaxPercent = get(&r, "max_percent", Source.Int)
	o.Guard.AllowedNamespaces = get(&r, "allowed_namespaces", Source.List)
	o.Guard.AllowedPorts = get(&r, "allowed_ports", Source.Ports)
	o.Guard.SafetyLever, _ = r.text("safety_lever")
	return o, r.err()
}

// ReadFailOn reads the verdicts that fail the operation (an input only).
func ReadFailOn(src Source) ([]string, error) {
	r := reader{src: src, sets: []Set{Run}}
	l := get(&r, "fail_on", Source.List)
	for _, v := range l {
		if !slices.ContainsFunc(chaos.Verdicts, func(k chaos.Verdict) bool { return string(k) == v }) {
			r.invalid("fail_on", failure.Invalidf(r.name("fail_on"), "%q is not a verdict; use some of %s", v, verdictNames()))
		}
	}
	return l, r.err()
}

// ReadExperiment reads the probe, report and Grafana options (Probe) of
// the run o. ReportDir stays empty when unset: each adapter has its own
// root. The caller sets the Log.
func ReadExperiment(src Source, o chaos.RunOptions) (experiment.Options, error) {
	r := reader{src: src, sets: []Set{Probe}}
	x := experiment.Options{Run: o, DashboardUID: r.str("grafana_dashboard_uid"), ReportDir: r.str("report_dir")}
	x.Grafana.URL, x.Grafana.Token, x.Grafana.CAFile = r.str("grafana_url"), r.str("grafana_token"), r.str("grafana_ca_cert")
	p := experiment.ProbeSettings{
		URL: r.str("probe_url"), Method: r.str("probe_method"), Expect: r.str("probe_expect"),
		PromQL: r.str("promql"), Comparator: r.str("promql_comparator"), PromExpect: r.str("promql_expect"),
		PrometheusURL: r.str("prometheus_url"), PrometheusToken: r.str("prometheus_token"), PrometheusCA: r.str("prometheus_ca_cert"),
	}
	p.RPS, p.MinSuccess, p.Threshold = get(&r, "probe_rps", Source.Float), get(&r, "probe_min_success", Source.Float), get(&r, "promql_threshold", Source.Float)
	p.Window, p.Interval = get(&r, "probe_window", Source.Duration), get(&r, "probe_interval", Source.Duration)
	x.Settle = get(&r, "settle", Source.Duration)
	// The shorthands' values are checked even without probe_url or promql:
	// a wrong one is a mistake whether or not it is used this time.
	if p.RPS < 0 {
		r.invalid("probe_rps", fmt.Errorf("%v is negative; give requests per second between 1 and 200", p.RPS))
	}
	if p.MinSuccess < 0 || p.MinSuccess > 1 {
		r.invalid("probe_min_success", fmt.Errorf("%v is not a rate between 0 and 1, e.g. 0.95", p.MinSuccess))
	}
	if raw, ok := r.text("probes"); ok {
		var err error
		if p.Extra, err = experiment.ParseProbes([]byte(raw)); err != nil {
			r.invalid("probes", err)
		}
	}
	x.Probes = p.Specs()
	if len(r.errs) == 0 {
		r.check(x.Check(), p.Extra)
	}
	return x, r.err()
}

// ReadHTTP reads the options of the HTTPChaos template (HTTP) and the
// run's duration, which it sets as spec.duration.
func ReadHTTP(src Source) (chaos.HTTPOptions, error) {
	r := reader{src: src, sets: []Set{HTTP, Run}}
	h := chaos.HTTPOptions{
		Namespace: r.str("namespace"), Mode: r.str("mode"), Value: r.str("value"), Target: r.str("target"),
		Path: r.str("path"), Method: r.str("method"),
	}
	h.Selector = r.labels("selector")
	h.Port, h.Code = get(&r, "port", Source.Int), get(&r, "code", Source.Int)
	h.Abort = get(&r, "abort", Source.Bool)
	h.Delay, h.Duration = get(&r, "delay", Source.Duration), get(&r, "duration", Source.Duration)
	r.decode("replace", &h.Replace)
	r.decode("patch", &h.Patch)
	return h, r.err()
}

// ReadSelection reads and checks the options that find runs (Selection);
// an operation sets the Deployment from its context.
func ReadSelection(src Source) (chaos.Selection, error) {
	r := reader{src: src, sets: []Set{Selection}}
	s := chaos.Selection{Namespace: r.str("namespace"), Deployment: r.str("deployment"), RunID: r.str("run_id")}
	r.check(s.Check(), nil)
	return s, r.err()
}

// ReadReap reads the cleanup options of reap and halt-all (Reap).
func ReadReap(src Source) (chaos.RunOptions, error) {
	r := reader{src: src, sets: []Set{Reap}}
	o := chaos.RunOptions{ForceCleanup: get(&r, "force_cleanup", Source.Bool), DeleteTimeout: get(&r, "delete_timeout", Source.Duration)}
	return o, r.err()
}

// ReadToken reads the options of a dashboard token (Token).
func ReadToken(src Source) (chaos.TokenOptions, error) {
	r := reader{src: src, sets: []Set{Token}}
	o := chaos.TokenOptions{Namespace: r.str("namespace"), Role: chaos.DashboardRole(r.str("role")), TTL: get(&r, "ttl", Source.Duration)}
	if len(r.errs) == 0 {
		r.check(o.Check(), nil)
	}
	return o, r.err()
}

// reader reads options of sets from a Source and gathers their errors,
// so that one run of an operation reports every wrong input at once.
type reader struct {
	src  Source
	sets []Set
	errs []error
}

// opt is the option keyed name in the first set that has it, if it
// exists on the source's side.
func (r *reader) opt(name string) (*Option, bool) {
	for _, s := range r.sets {
		for i := range s {
			if s[i].Key() == name {
				return &s[i], s[i].On(r.src.Side())
			}
		}
	}
	panic("runopts: no option " + name)
}

// get reads option name with the Source method read; zero when the
// option does not exist on the source's side.
func get[T any](r *reader, name string, read func(Source, *Option) (T, error)) T {
	var v T
	o, ok := r.opt(name)
	if !ok {
		return v
	}
	v, err := read(r.src, o)
	if err != nil {
		r.errs = append(r.errs, err)
		return v
	}
	// No option of a run takes a negative duration or a number that is not
	// finite; zero means the domain's default.
	switch x := any(v).(type) {
	case time.Duration:
		if x < 0 {
			r.invalid(name, fmt.Errorf("%s is negative; give a duration such as 30s, or leave it unset for the default", x))
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			r.invalid(name, fmt.Errorf("%v is not a finite number", x))
		}
	}
	return v
}

func (r *reader) str(name string) string {
	if o, ok := r.opt(name); ok {
		return r.src.String(o)
	}
	return ""
}

func (r *reader) text(name string) (string, bool) {
	o, ok := r.opt(name)
	if !ok {
		return "", false
	}
	v, set, err := r.src.Text(o)
	if err != nil {
		r.errs = append(r.errs, err)
	}
	return v, set
}

// labels reads a Labels option: k=v text, or a dict whose values become
// text.
func (r *reader) labels(name string) map[string]string {
	o, ok := r.opt(name)
	if !ok {
		return nil
	}
	switch v := r.src.Value(o).(type) {
	case map[string]any:
		out := make(map[string]string, len(v))
		for k, val := range v {
			out[k] = fmt.Sprint(val)
		}
		return out
	case nil:
		return map[string]string{}
	default:
		l, err := chaos.ParseSelector(fmt.Sprint(v))
		if err != nil {
			r.invalid(name, err)
		}
		return l
	}
}

func (r *reader) decode(name string, out any) {
	if o, ok := r.opt(name); ok {
		if err := r.src.Decode(o, out); err != nil {
			r.errs = append(r.errs, err)
		}
	}
}

func (r *reader) invalid(name string, err error) {
	o, _ := r.opt(name)
	r.errs = append(r.errs, r.src.Invalid(o, err))
}

func (r *reader) err() error { return errors.Join(r.errs...) }

// name is how the user of the source's side knows option key: its input
// name, or --flag.
func (r *reader) name(key string) string {
	o, ok := r.known(key)
	switch {
	case !ok:
		return key
	case r.src.Side() == FlagSide:
		return "--" + o.Flag.Name
	}
	return o.Input.Name
}

// shorthands maps the fields of the probes the shorthand options describe
// (experiment.ProbeSettings: probes "http" and "promql") to those options.
var shorthands = map[string]map[string]string{
	"http": {"url": "probe_url", "method": "probe_method", "rps": "probe_rps", "window": "probe_window",
		"interval": "probe_interval", "min_success": "probe_min_success", "during": "probe_expect"},
	"promql": {"query": "promql", "comparator": "promql_comparator", "threshold": "promql_threshold", "during": "promql_expect",
		"interval": "probe_interval", "prometheus_url": "prometheus_url", "ca_file": "prometheus_ca_cert"},
}

// check adds the errors of a domain check, each naming the option as the
// source's side knows it: a field named by its input name, or a field of a
// shorthand probe (not one of the listed probes, extra), is renamed.
func (r *reader) check(err error, extra []probe.Spec) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			r.check(e, extra)
		}
		return
	}
	if err == nil {
		return
	}
	key, cause := "", err
	var fe *probe.FieldError
	var iv *failure.InvalidError
	switch {
	case errors.As(err, &fe) && !slices.ContainsFunc(extra, func(s probe.Spec) bool { return s.Name == fe.Probe }):
		key, cause = shorthands[fe.Probe][fe.Field], fe.Err
	case errors.As(err, &iv) && iv == err:
		key, cause = iv.Field, iv.Err
	}
	if o, ok := r.known(key); ok {
		r.errs = append(r.errs, r.src.Invalid(o, &failure.InvalidError{Field: r.name(key), Err: r.renamed(cause)}))
		return
	}
	r.errs = append(r.errs, err)
}

// optionKey is an option key as a domain message names it (max_duration).
var optionKey = regexp.MustCompile(`\b[a-z]+(_[a-z]+)+\b`)

// renamed names, in a domain check's message, the other options it
// mentions as the source's side knows them: "raise max_duration" is
// "raise --max-duration" on the command line.
func (r *reader) renamed(err error) error {
	if r.src.Side() != FlagSide {
		return err
	}
	msg := optionKey.ReplaceAllStringFunc(err.Error(), func(k string) string {
		if _, ok := r.known(k); ok {
			return r.name(k)
		}
		return k
	})
	if msg == err.Error() {
		return err
	}
	return &renamedError{msg: msg, err: err}
}

type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }

// known is the option keyed key in the reader's sets, if it is on the
// source's side.
func (r *reader) known(key string) (*Option, bool) {
	for _, s := range append(r.sets, Run, Probe) {
		for i := range s {
			if key != "" && s[i].Key() == key && s[i].On(r.src.Side()) {
				return &s[i], true
			}
		}
	}
	return nil, false
}

func verdictNames() string {
	names := make([]string, len(chaos.Verdicts))
	for i, v := range chaos.Verdicts {
		names[i] = string(v)
	}
	return strings.Join(names, ", ")
}
