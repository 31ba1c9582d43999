package runopts

import (
	"os"
	"path/filepath"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/experiment"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
)

// CLIDeployment is the owner label of the runs the CLI starts.
const CLIDeployment = "cli"

// Run are the safety and timing options of every run (ReadRun).
var Run = Set{
	{Kind: Duration, Default: chaos.DefaultDuration,
		Input: Input{Name: "duration", Description: "how long the fault lasts (spec.duration; the cluster ends it even if chaosops dies)"},
		Flag:  Flag{Name: "duration", Usage: "how long the fault lasts (spec.duration)"}},
	{Kind: Duration, Default: chaos.DefaultInjectionTimeout,
		Input: Input{Name: "injection_timeout", Description: "how long to wait for every target to be injected (a permanent failure, such as no chaos-daemon on the node, ends the wait at once)"},
		Flag:  Flag{Name: "injection-timeout", Usage: "wait for every target to be injected (a permanent failure ends the wait at once)"}},
	{Kind: Duration, Default: chaos.DefaultRecoveryTimeout,
		Input: Input{Name: "recovery_timeout", Description: "after the duration, how long to wait for the controller to stop the fault, then how long to wait for recovery"},
		Flag:  Flag{Name: "recovery-timeout", Usage: "after the duration, wait this long for the controller to stop the fault, then this long for recovery"}},
	{Kind: Duration, Default: chaos.DefaultDeleteTimeout,
		Input: Input{Name: "delete_timeout", Description: "how long to wait for the deleted object to be gone, after a cancel too, before it counts as stuck (cleanup incomplete: the finalizer and the next step are reported)"},
		Flag:  Flag{Name: "delete-timeout", Usage: "wait for the deleted object to be gone before it counts as stuck (after Ctrl-C too)"}},
	{Kind: Bool, Default: false,
		Input: Input{Name: "force_cleanup", Description: "remove a stuck chaos-mesh/records finalizer and the run's entries in the targets' Pod*Chaos objects (recovery then unverified)"},
		Flag:  Flag{Name: "force-cleanup", Usage: "remove a stuck finalizer and the run's Pod*Chaos entries (recovery then unverified)"}},
	{Kind: List,
		Input: Input{Name: "allowed_namespaces", Description: "list: the only namespaces a run may target"},
		Flag:  Flag{Name: "allowed-namespace", Usage: "the only namespaces a run may target (repeatable)"}},
	{Kind: Ports,
		Input: Input{Name: "allowed_ports", Description: "list: the only ports an HTTPChaos may target"},
		Flag:  Flag{Name: "allowed-port", Usage: "the only ports an HTTPChaos may target (repeatable)"}},
	{Kind: Duration, Default: chaos.DefaultMaxDuration,
		Input: Input{Name: "max_duration", Description: "longest duration allowed"},
		Flag:  Flag{Name: "max-duration", Usage: "longest duration allowed"}},
	{Kind: Bool, Default: false,
		Input: Input{Name: "allow_all_targets", Description: "allow mode all and percentages above max_percent"},
		Flag:  Flag{Name: "allow-all-targets", Usage: "allow mode all and percentages above --max-percent"}},
	{Kind: Int, Default: chaos.DefaultMaxPercent,
		Input: Input{Name: "max_percent", Description: "largest fixed-percent/random-max-percent value without allow_all_targets"},
		Flag:  Flag{Name: "max-percent", Usage: "largest percentage without --allow-all-targets"}},
	// The operation gets the secret's value; the CLI reads a file, which
	// plays the secret's part.
	{Kind: Text,
		Input: Input{Name: "safety_lever", Description: "value of the chaos-safety-lever secret ({get_secret: chaos-safety-lever}); on refuses new runs"},
		Flag:  Flag{Name: "safety-lever-file", Usage: "file whose content \"on\" refuses new runs (CLI form of the chaos-safety-lever secret)", DefaultFrom: DefaultLeverFile, File: StateFile}},
	{Kind: String, Default: chaos.DefaultChaosNamespace,
		Input: Input{Name: "chaos_namespace", Description: "namespace Chaos Mesh runs in"},
		Flag:  Flag{Name: "chaos-namespace", Usage: "namespace Chaos Mesh runs in"}},
	{Kind: Bool, Default: false,
		Input: Input{Name: "skip_daemon_check", Description: "skip the chaos-daemon check of the preflight"},
		Flag:  Flag{Name: "skip-daemon-check", Usage: "skip the chaos-daemon check of the preflight"}},
	{Kind: List,
		Input: Input{Name: "fail_on", Description: "list of verdicts that fail the operation (default: every verdict but pass)"}},
	// The operation's owner is its deployment; its result goes to runtime
	// properties.
	{Kind: String, Default: CLIDeployment,
		Flag: Flag{Name: "deployment", Usage: "owner label of the run (reap finds runs by it)"}},
	{Kind: String,
		Flag: Flag{Name: "output", Aliases: []string{"o"}, Usage: "write the result as JSON to this file"}},
}

// Probe are the steady-state probe, report and Grafana options of a run
// (ReadExperiment).
var Probe = Set{
	{Kind: String,
		Input: Input{Name: "probe_url", Description: "URL the built-in load generator calls (HTTP probe); usually the faulted path of the app"},
		Flag:  Flag{Name: "probe-url", Usage: "URL the built-in load generator calls (HTTP probe), usually the faulted path"}},
	{Kind: String, Default: probe.DefaultMethod,
		Input: Input{Name: "probe_method", Description: "HTTP method of the probe's requests"},
		Flag:  Flag{Name: "probe-method", Usage: "HTTP method of the probe's requests"}},
	{Kind: Float, Default: float64(probe.DefaultRPS),
		Input: Input{Name: "probe_rps", Description: "requests per second of the load generator (at most 200)"},
		Flag:  Flag{Name: "probe-rps", Usage: "requests per second of the load generator (at most 200)"}},
	{Kind: Duration, Default: probe.DefaultWindow,
		Input: Input{Name: "probe_window", Description: "window over which the HTTP probe's success rate is measured"},
		Flag:  Flag{Name: "probe-window", Usage: "window of the HTTP probe's success rate"}},
	{Kind: Duration, Default: probe.DefaultInterval,
		Input: Input{Name: "probe_interval", Description: "how often the probes are evaluated during the injection"},
		Flag:  Flag{Name: "probe-interval", Usage: "how often the probes are evaluated during the injection"}},
	{Kind: Float, Default: float64(probe.DefaultMinSuccess),
		Input: Input{Name: "probe_min_success", Description: "success rate (0..1) the HTTP probe needs to pass"},
		Flag:  Flag{Name: "probe-min-success", Usage: "success rate (0..1) the HTTP probe needs to pass"}},
	{Kind: String, Default: string(experiment.DefaultExpect),
		Input: Input{Name: "probe_expect", Description: "HTTP probe during the injection: deviate (failures prove the fault; none = no_effect) or must_hold (a failure aborts: slo_breach)"},
		Flag:  Flag{Name: "probe-expect", Usage: "HTTP probe during the injection: deviate or must_hold"}},
	{Kind: String,
		Input: Input{Name: "promql", Description: "PromQL probe: an instant query evaluated before, during and after the injection"},
		Flag:  Flag{Name: "promql", Usage: "PromQL probe: instant query evaluated before, during and after"}},
	{Kind: String, Default: experiment.DefaultComparator,
		Input: Input{Name: "promql_comparator", Description: "how every series of the query compares with promql_threshold: > >= < <= == !="},
		Flag:  Flag{Name: "promql-comparator", Usage: "> >= < <= == != against --promql-threshold"}},
	{Kind: Float, Default: float64(0),
		Input: Input{Name: "promql_threshold", Description: "threshold of the PromQL probe"},
		Flag:  Flag{Name: "promql-threshold", Usage: "threshold of the PromQL probe"}},
	{Kind: String, Default: string(experiment.DefaultPromExpect),
		Input: Input{Name: "promql_expect", Description: "PromQL probe during the injection: must_hold (a breach aborts the run) or deviate"},
		Flag:  Flag{Name: "promql-expect", Usage: "PromQL probe during the injection: must_hold or deviate"}},
	{Kind: String,
		Input: Input{Name: "prometheus_url", Description: "Prometheus base URL for PromQL probes, e.g. http://prometheus-k8s.monitoring:9090"},
		Flag:  Flag{Name: "prometheus-url", EnvVars: []string{"PROMETHEUS_URL"}, Usage: "Prometheus base URL for PromQL probes"}},
	{Kind: String, Sensitive: true,
		Input: Input{Name: "prometheus_token", Description: "bearer token for Prometheus"},
		Flag:  Flag{Name: "prometheus-token", EnvVars: []string{"PROMETHEUS_TOKEN"}, Usage: "bearer token for Prometheus (prefer the env var)"}},
	{Kind: String,
		Input: Input{Name: "prometheus_ca_cert", Description: "path of the CA bundle that signed Prometheus' certificate"},
		Flag:  Flag{Name: "prometheus-ca", Usage: "CA bundle that signed Prometheus' certificate"}},
	// YAML text as an input, a file on the command line.
	{Kind: Text,
		Input: Input{Name: "probes", Description: "list of probe specs {name, kind: http|promql, phases, during, url, rps, window, min_success, query, comparator, threshold, ...} beside the shorthands"},
		Flag:  Flag{Name: "probes-file", Usage: "YAML list of probe specs beside the shorthands", File: UserFile}},
	{Kind: Duration, Default: probe.DefaultSettle,
		Input: Input{Name: "settle", Description: "how long after recovery the after-phase probes may take to pass again (else recovered_but_degraded)"},
		Flag:  Flag{Name: "settle", Usage: "how long after recovery the after-phase probes may take to pass"}},
	// Unset, each adapter puts the report under its own root.
	{Kind: String,
		Input: Input{Name: "report_dir", Description: "folder for journal.json, report.md and chart.svg", DefaultText: "$CHAOSOPS_WORKDIR/<deployment>/reports/<chaos object>"},
		Flag:  Flag{Name: "report-dir", Usage: "folder for journal.json, report.md and chart.svg (default $CHAOSOPS_REPORT_ROOT or .chaosops/reports, then the object's name)"}},
	{Kind: String,
		Input: Input{Name: "grafana_url", Description: "Grafana base URL: each run's injection window is posted as an annotation"},
		Flag:  Flag{Name: "grafana-url", EnvVars: []string{"GRAFANA_URL"}, Usage: "Grafana base URL: the run's window is posted as an annotation"}},
	{Kind: String, Sensitive: true,
		Input: Input{Name: "grafana_token", Description: "Grafana service account token (Editor) for the annotation"},
		Flag:  Flag{Name: "grafana-token", EnvVars: []string{"GRAFANA_TOKEN"}, Usage: "Grafana service account token (prefer the env var)"}},
	{Kind: String,
		Input: Input{Name: "grafana_dashboard_uid", Description: "dashboard the annotation belongs to (default: an organisation-wide annotation)"},
		Flag:  Flag{Name: "grafana-dashboard-uid", Usage: "dashboard of the annotation"}},
	{Kind: String,
		Input: Input{Name: "grafana_ca_cert", Description: "path of the CA bundle that signed Grafana's certificate"},
		Flag:  Flag{Name: "grafana-ca", Usage: "CA bundle that signed Grafana's certificate"}},
}

// HTTP are the options of the built-in HTTPChaos template (ReadHTTP).
var HTTP = Set{
	{Kind: Text,
		Input: Input{Name: "manifest", Description: "YAML of a chaos object to run instead of the built-in HTTPChaos template"}},
	{Kind: String, Default: chaos.DefaultNamespace,
		Input: Input{Name: "namespace", Description: "namespace of the target pods and of the chaos object"},
		Flag:  Flag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace of the target pods and the chaos object"}},
	// The operation targets the blueprint's demo app by default; on the
	// command line the targets are always named.
	{Kind: Labels,
		Input: Input{Name: "selector", Description: "labels of the target pods: app=demo,tier=web or a dict", Default: "app=python-prometheus"},
		Flag:  Flag{Name: "selector", Aliases: []string{"l"}, Required: true, Usage: "labels of the target pods, e.g. app=demo"}},
	{Kind: String, Default: string(api.ModeOne),
		Input: Input{Name: "mode", Description: "one, all, fixed, fixed-percent, random-max-percent"},
		Flag:  Flag{Name: "mode", Usage: "one, all, fixed, fixed-percent, random-max-percent"}},
	{Kind: String,
		Input: Input{Name: "value", Description: "the number or percentage for fixed, fixed-percent, random-max-percent"},
		Flag:  Flag{Name: "value", Usage: "number or percentage for the fixed and percent modes"}},
	{Kind: String, Default: chaos.DefaultHTTPTarget,
		Input: Input{Name: "target", Description: "Request or Response"},
		Flag:  Flag{Name: "target", Usage: "Request or Response"}},
	{Kind: Int, Default: chaos.DefaultHTTPPort,
		Input: Input{Name: "port", Description: "container port the app listens on"},
		Flag:  Flag{Name: "port", Usage: "container port the app listens on"}},
	{Kind: String, Default: chaos.DefaultHTTPPath,
		Input: Input{Name: "path", Description: "URI path to match (* wildcards)"},
		Flag:  Flag{Name: "path", Usage: "URI path to match"}},
	{Kind: String,
		Input: Input{Name: "method", Description: "HTTP method to match (default: any)"},
		Flag:  Flag{Name: "method", Usage: "HTTP method to match"}},
	// The operation aborts by default; on the command line an action is
	// always named (--abort, --delay).
	{Kind: Bool,
		Input: Input{Name: "abort", Description: "abort matching requests", Default: true},
		Flag:  Flag{Name: "abort", Usage: "abort matching requests"}},
	{Kind: Duration,
		Input: Input{Name: "delay", Description: "delay matching requests, e.g. 500ms"},
		Flag:  Flag{Name: "delay", Usage: "delay matching requests"}},
	{Kind: Dict,
		Input: Input{Name: "replace", Description: "dict: HTTPChaos replace (path, method, code, body, headers, queries)"}},
	{Kind: Dict,
		Input: Input{Name: "patch", Description: "dict: HTTPChaos patch (body, headers, queries)"}},
	{Kind: Int,
		Input: Input{Name: "code", Description: "response status code to match (target Response)"},
		Flag:  Flag{Name: "code", Usage: "response code to match (target Response)"}},
}

// Manifest are the options of a run of any chaos object: its YAML (text
// as an input, the file --file on the command line; each adapter decodes
// it) and its namespace, which ReadRun reads.
var Manifest = Set{
	{Kind: Text,
		Input: Input{Name: "manifest", Description: "YAML of the chaos object (PodChaos, NetworkChaos, StressChaos, IOChaos, DNSChaos, TimeChaos, JVMChaos, KernelChaos, HTTPChaos)"}},
	{Kind: String,
		Flag: Flag{Name: "file", Aliases: []string{"f"}, Required: true, Usage: "YAML of one chaos object"}},
	{Kind: String, Default: chaos.DefaultNamespace,
		Input: Input{Name: "namespace", Description: "namespace of the chaos object when the manifest has none"},
		Flag:  Flag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace when the spec has none"}},
}

// Selection are the options that find runs by label (ReadSelection).
var Selection = Set{
	{Kind: String,
		Input: Input{Name: "namespace", Description: "namespace to search (default: every namespace)"},
		Flag:  Flag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace to search (default: all)"}},
	// An operation matches its own deployment.
	{Kind: String, Default: CLIDeployment,
		Flag: Flag{Name: "deployment", Usage: "owner label to match"}},
	{Kind: String,
		Input: Input{Name: "run_id", Description: "one run only"},
		Flag:  Flag{Name: "run", Usage: "one run id"}},
}

// Reap are the cleanup options of reap and halt-all (ReadReap).
var Reap = Set{
	{Kind: Duration, Default: chaos.DefaultDeleteTimeout,
		Input: Input{Name: "delete_timeout", Description: "how long to wait for each deleted object to be gone; then it is stuck (cleanup incomplete), or with force_cleanup forced off"},
		Flag:  Flag{Name: "delete-timeout", Usage: "wait this long for each deleted object to be gone; then it is stuck (exit 8), or with --force-cleanup forced off"}},
	{Kind: Bool, Default: false,
		Input: Input{Name: "force_cleanup", Description: "remove stuck finalizers and the runs' entries in Pod*Chaos objects (recovery then unverified)"},
		Flag:  Flag{Name: "force-cleanup", Usage: "remove stuck finalizers and the runs' entries in Pod*Chaos objects (recovery then unverified)"}},
}

// Token are the options of a Chaos Dashboard token (ReadToken).
var Token = Set{
	{Kind: String, Default: chaos.DefaultNamespace,
		Input: Input{Name: "namespace", Description: "the app namespace the token may act in"},
		Flag:  Flag{Name: "namespace", Aliases: []string{"n"}, Usage: "app namespace"}},
	{Kind: String, Default: string(chaos.DashboardViewer),
		Input: Input{Name: "role", Description: "viewer or manager"},
		Flag:  Flag{Name: "role", Usage: "viewer or manager"}},
	{Kind: Duration, Default: chaos.DefaultTokenTTL,
		Input: Input{Name: "ttl", Description: "token lifetime (at least 10m)"},
		Flag:  Flag{Name: "ttl", Usage: "token lifetime (≥ 10m)"}},
}

// DefaultLeverFile is the CLI's safety lever file: chaosops/chaos-safety-lever
// under the user's config folder, or none when there is no such folder.
func DefaultLeverFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "chaosops", "chaos-safety-lever")
}
