package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// uiMessage is one line of Terraform's machine-readable UI (-json): the
// fields this package reads.
type uiMessage struct {
	Level   string `json:"@level"`
	Message string `json:"@message"`
	Type    string `json:"type"`
	Change  *struct {
		Resource struct {
			Addr string `json:"addr"`
		} `json:"resource"`
		Action string `json:"action"`
	} `json:"change"`
	Diagnostic *diagnostic `json:"diagnostic"`
}

type diagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
}

func (d diagnostic) text() string {
	s := d.Summary
	if d.Detail != "" {
		s += ": " + oneLine(d.Detail)
	}
	return s
}

// events receives a command's stdout: JSON UI lines (plan, apply, refresh,
// destroy) or plain text (init). It logs each line as a progress line and
// collects planned changes and error diagnostics. It is an io.Writer that
// may get partial lines.
type events struct {
	log *slog.Logger
	// level is the slog level of a plain-text line.
	level slog.Level
	// seen, when set, turns repeats of a plain-text line into debug lines:
	// a warning every command prints (e.g. about the CLI configuration)
	// reaches the event log once.
	seen map[string]bool

	mu sync.Mutex
	// last is when the command last wrote anything.
	last    time.Time
	buf     []byte
	changes PlanSummary
	errors  []diagnostic
}

func newEvents(log *slog.Logger, plainLevel slog.Level) *events {
	return &events{log: log, level: plainLevel, last: time.Now()}
}

// lastOutput is when the command last wrote anything.
func (e *events) lastOutput() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

func (e *events) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.last = time.Now()
	e.buf = append(e.buf, p...)
	for {
		i := bytes.IndexByte(e.buf, '\n')
		if i < 0 {
			break
		}
		line := string(bytes.TrimRight(e.buf[:i], "\r"))
		e.buf = e.buf[i+1:]
		e.line(line)
	}
	return len(p), nil
}

// close handles a last line without a newline.
func (e *events) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.buf) > 0 {
		e.line(string(e.buf))
		e.buf = nil
	}
}

func (e *events) line(line string) {
	// Progress must reach the log even while the command is being cancelled.
	ctx := context.Background()
	if !strings.HasPrefix(line, "{") {
		text := stripBox(line)
		switch {
		case text == "":
		case e.seen == nil:
			e.log.Log(ctx, e.level, text)
		case e.seen[text]:
			e.log.Log(ctx, slog.LevelDebug, text)
		default:
			e.seen[text] = true
			e.log.Log(ctx, e.level, text)
		}
		return
	}
	var m uiMessage
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		e.log.Log(ctx, e.level, line)
		return
	}
	level := slog.LevelInfo
	switch m.Type {
	case "version", "outputs", "refresh_start", "refresh_complete", "provision_start":
		level = slog.LevelDebug
	case "planned_change":
		if m.Change != nil {
			e.changes.record(m.Change.Action, m.Change.Resource.Addr)
		}
	case "diagnostic":
		if m.Diagnostic != nil {
			if m.Diagnostic.Severity == "error" {
				e.errors = append(e.errors, *m.Diagnostic)
			}
			msg := m.Message // "Error: <summary>"
			if m.Diagnostic.Detail != "" {
				msg += ": " + oneLine(m.Diagnostic.Detail)
			}
			e.log.Log(ctx, uiLevel(m.Level), msg)
			return
		}
	}
	if l := uiLevel(m.Level); l > slog.LevelInfo {
		level = l
	}
	e.log.Log(ctx, level, strings.ReplaceAll(strings.TrimSpace(m.Message), "\n", " "))
}

// plan returns the changes seen so far, sorted.
func (e *events) plan() *PlanSummary {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := PlanSummary{
		Add:     append([]string(nil), e.changes.Add...),
		Change:  append([]string(nil), e.changes.Change...),
		Destroy: append([]string(nil), e.changes.Destroy...),
	}
	p.normalize()
	return &p
}

func (e *events) diagnostics() []diagnostic {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]diagnostic(nil), e.errors...)
}

func uiLevel(l string) slog.Level {
	switch l {
	case "error":
		return slog.LevelError
	case "warn":
		return slog.LevelWarn
	case "trace", "debug":
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// stripBox removes the frame Terraform draws around plain-text
// diagnostics (╷ │ ╵) and surrounding blanks.
func stripBox(line string) string {
	line = strings.TrimSpace(line)
	for _, p := range []string{"╷", "╵", "│"} {
		line = strings.TrimSpace(strings.TrimPrefix(line, p))
	}
	return line
}
