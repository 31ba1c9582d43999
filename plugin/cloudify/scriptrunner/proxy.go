package scriptrunner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
)

// Proxy is the ctx proxy stand-in: an HTTP server on localhost answering
// POST / with {"args": [...]} (spec 2.1), one request at a time.
type Proxy struct {
	// ResourceDir is the blueprint folder that download-resource reads from
	// (spec 2.3, 4). Empty disables download-resource.
	ResourceDir string
	// FailAfter, when > 0, makes the proxy refuse connections after that many
	// calls: the way a cancelled or timed-out operation sees its proxy vanish
	// (spec 5).
	FailAfter int

	mu       sync.Mutex // one request at a time, like the real proxy
	state    *State
	calls    [][]any
	logs     []LogLine
	returned any
	outcomes []string // "returns", "abort", "retry" in call order
	abortMsg string
	retryMsg string
	retryIn  int

	firstCall time.Time
	onLine    func(LogLine)

	ln   net.Listener
	srv  *http.Server
	root attrs
}

// NewProxy starts a proxy for state on a free localhost port.
func NewProxy(state *State) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ctx proxy stand-in: listen: %w", err)
	}
	if state.Node.Properties == nil {
		state.Node.Properties = map[string]any{}
	}
	if state.Instance.RuntimeProperties == nil {
		state.Instance.RuntimeProperties = map[string]any{}
	}
	p := &Proxy{state: state, ln: ln}
	p.root = p.buildRoot()
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve)}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the value for CTX_SOCKET_URL.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Close shuts the proxy down; later requests are refused, as after the real
// operation ends (spec 2.1).
func (p *Proxy) Close() { _ = p.srv.Close() }

// Calls returns the args of every request received, in order.
func (p *Proxy) Calls() [][]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]any(nil), p.calls...)
}

// Logs returns the event-log lines written through ctx logger.
func (p *Proxy) Logs() []LogLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]LogLine(nil), p.logs...)
}

func (p *Proxy) addLog(l LogLine) {
	p.mu.Lock()
	p.logs = append(p.logs, l)
	p.mu.Unlock()
}

type envelope struct {
	Type    string `json:"type"`
	Payload any    `json:"payload"`
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "POST a JSON body", http.StatusBadRequest)
		return
	}
	var req struct {
		Args []any `json:"args"`
	}
	payload, derr := cloudify.DecodeValue(body)
	if m, ok := payload.(map[string]any); derr == nil && ok {
		req.Args, _ = m["args"].([]any)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, req.Args)
	if p.firstCall.IsZero() {
		p.firstCall = time.Now()
	}
	if p.FailAfter > 0 && len(p.calls) >= p.FailAfter {
		go p.Close() // from now on: connection refused
	}
	var resp envelope
	v, err := walk(p.root, req.Args)
	var ee *evalError
	switch {
	case errors.Is(err, errStop):
		resp = envelope{Type: "stop_operation", Payload: map[string]any{"message": "stop"}}
	case errors.As(err, &ee):
		resp = envelope{Type: "error", Payload: map[string]any{"type": ee.class, "message": ee.msg, "traceback": ""}}
	case err != nil:
		resp = envelope{Type: "error", Payload: map[string]any{"type": "RuntimeError", "message": err.Error(), "traceback": ""}}
	default:
		resp = envelope{Type: "result", Payload: v}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp) // always HTTP 200, like the real proxy
}

var errStop = errors.New("stop_operation")

// pyFormat applies Python's "msg % ()" to a log message with no args, the
// way the ctx logger treats its message (spec 2.3).
var pyFormatVerb = regexp.MustCompile(`%(%|[-#0 +]*\d*(\.\d+)?[diouxXeEfFgGcrsa])`)

func pyFormat(msg string) (string, error) {
	var bad bool
	out := pyFormatVerb.ReplaceAllStringFunc(msg, func(m string) string {
		if m == "%%" {
			return "%"
		}
		bad = true
		return m
	})
	if bad {
		return "", &evalError{"TypeError", "not enough arguments for format string"}
	}
	return out, nil
}

func (p *Proxy) buildRoot() attrs {
	s := p.state
	logger := attrs{}
	for _, lvl := range []string{"debug", "info", "warning", "error"} {
		logger[lvl] = callable(func(args []any, _ map[string]any) (any, error) {
			if len(args) != 1 {
				return nil, &evalError{"TypeError", "logger takes one message"}
			}
			msg, err := pyFormat(fmt.Sprint(args[0]))
			if err != nil {
				return nil, err
			}
			l := LogLine{Level: lvl, Message: msg, Stream: "ctx"}
			p.logs = append(p.logs, l)
			if p.onLine != nil {
				p.onLine(l)
			}
			return nil, nil
		})
	}
	outcome := func(kind string) {
		p.outcomes = append(p.outcomes, kind)
	}
	return attrs{
		"logger": logger,
		"node": attrs{
			"id":             s.Node.ID,
			"name":           s.Node.ID,
			"type":           s.Node.Type,
			"type_hierarchy": toAnyList(s.Node.TypeHierarchy),
			"properties":     dictLike{&s.Node.Properties},
		},
		"instance": attrs{
			"id":                 s.Instance.ID,
			"runtime_properties": dictLike{&s.Instance.RuntimeProperties},
			"update": callable(func([]any, map[string]any) (any, error) {
				s.Instance.Updates++
				return nil, nil
			}),
		},
		"operation": attrs{
			"name":         s.Operation.Name,
			"retry_number": int64(s.Operation.RetryNumber),
			"max_retries":  int64(s.Operation.MaxRetries),
		},
		"deployment":   attrs{"id": s.DeploymentID},
		"blueprint":    attrs{"id": s.BlueprintID},
		"execution_id": s.ExecutionID,
		"workflow_id":  s.WorkflowID,
		"tenant_name":  s.TenantName,
		"task_id":      s.TaskID,
		"download_resource": callable(func(args []any, kw map[string]any) (any, error) {
			return p.download(args, kw)
		}),
		"returns": callable(func(args []any, kw map[string]any) (any, error) {
			if len(kw) > 0 {
				return nil, &evalError{"TypeError", fmt.Sprintf("returns() got an unexpected keyword argument %q", firstKey(kw))}
			}
			if len(args) != 1 {
				return nil, &evalError{"TypeError", "returns() takes exactly one value"}
			}
			p.returned = args[0]
			outcome("returns")
			return nil, nil
		}),
		"abort_operation": callable(func(args []any, _ map[string]any) (any, error) {
			p.abortMsg = strings.TrimSpace(fmt.Sprint(args...))
			outcome("abort")
			return nil, errStop
		}),
		"retry_operation": callable(func(args []any, _ map[string]any) (any, error) {
			if len(args) > 0 {
				p.retryMsg = fmt.Sprint(args[0])
			}
			if len(args) > 1 {
				if n, ok := args[1].(int64); ok {
					p.retryIn = int(n)
				}
			}
			outcome("retry")
			return nil, errStop
		}),
	}
}

func (p *Proxy) download(args []any, kw map[string]any) (any, error) {
	if len(args) == 0 {
		return nil, &evalError{"TypeError", "download_resource needs a resource path"}
	}
	rel := fmt.Sprint(args[0])
	if p.ResourceDir == "" {
		return nil, &evalError{"HttpException", "no blueprint resources in this stand-in"}
	}
	clean := filepath.Clean("/" + rel)[1:] // no escaping the blueprint folder
	src := filepath.Join(p.ResourceDir, clean)
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, &evalError{"HttpException", fmt.Sprintf("404: resource %s not found in the blueprint", rel)}
	}
	target := ""
	if len(args) > 1 {
		target = fmt.Sprint(args[1])
	} else if t, ok := kw["target_path"].(string); ok {
		target = t
	}
	if target == "" {
		dir, err := os.MkdirTemp("", "ctx-resource-")
		if err != nil {
			return nil, err
		}
		target = filepath.Join(dir, filepath.Base(clean))
	}
	// 0600: a blueprint resource may be a secrets or values file.
	if err := os.WriteFile(target, data, 0o600); err != nil {
		return nil, &evalError{"IOError", err.Error()}
	}
	return target, nil
}

func toAnyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func firstKey(m map[string]any) string {
	for k := range m {
		return k
	}
	return ""
}
