// Package trial sizes the reliability trials and records their outcomes.
// The trials are ordinary Go tests named TestTrial… (the harness finds them
// by that name): under `go test` they run a quick version; the harness
// plugin/internal/cmd/reliability (make reliability) runs them again with
// CHAOSOPS_RELIABILITY=long and collects what Record writes to
// $CHAOSOPS_RELIABILITY_REPORT into a table.
package trial

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Environment of the harness.
const (
	// EnvMode is "long" for the harness's long trials; anything else (or
	// unset) means the quick version that `go test` runs.
	EnvMode = "CHAOSOPS_RELIABILITY"
	// EnvReport is the file Record appends one JSON line per trial to.
	EnvReport = "CHAOSOPS_RELIABILITY_REPORT"
	// EnvSeed fixes the random moments of the trials, to replay a run.
	EnvSeed = "CHAOSOPS_RELIABILITY_SEED"
)

// Long reports whether the harness asked for the long trials.
func Long() bool { return os.Getenv(EnvMode) == "long" }

// Count is quick under go test and long under make reliability.
func Count(quick, long int) int {
	if Long() {
		return long
	}
	return quick
}

// Rand returns a generator seeded from $CHAOSOPS_RELIABILITY_SEED or the
// clock; the seed is logged so a failing run can be replayed.
func Rand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(EnvSeed); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q is not a number", EnvSeed, s)
		}
		seed = n
	}
	t.Logf("random seed %d (replay with %s=%d)", seed, EnvSeed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Outcome is the result of one trial, one line of the harness's table
// input.
type Outcome struct {
	// Kind names the trial, e.g. "cancel: SIGTERM at a random moment".
	Kind string `json:"kind"`
	// Outcome is what the run reported (a verdict, "cancelled", "retry"
	// with the reason, ...).
	Outcome string `json:"outcome"`
	// ObjectsLeft counts objects of the trial left in the cluster.
	ObjectsLeft int `json:"objects_left"`
	// SecretsFound counts secret values found where they must not be.
	SecretsFound int `json:"secrets_found"`
	// Failed is true when the trial's assertions failed.
	Failed bool `json:"failed"`
	// Seconds is how long the trial took.
	Seconds float64 `json:"seconds"`
}

var mu sync.Mutex

// Record appends o to $CHAOSOPS_RELIABILITY_REPORT when set; the test's
// own assertions decide pass or fail, Record only keeps the figures. Failed
// is taken from t when the caller left it false.
func Record(t testing.TB, o Outcome) {
	t.Helper()
	path := os.Getenv(EnvReport)
	if path == "" {
		return
	}
	o.Failed = o.Failed || t.Failed()
	line, err := json.Marshal(o)
	if err != nil {
		t.Errorf("trial: encode %v: %v", o, err)
		return
	}
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Errorf("trial: %s: %v", EnvReport, err)
		return
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s\n", line); err != nil {
		t.Errorf("trial: write %s: %v", path, err)
	}
}
