package chaos

import (
	"strings"
	"testing"
)

// TestTrialSafetyLeverFailsSafe: the lever refuses runs when on, allows them
// when off or unset, and refuses them when its value is unreadable, since
// a typo in a stop switch must not let chaos through.
func TestTrialSafetyLeverFailsSafe(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  string // "" allows the run
	}{
		{"", ""},
		{"off", ""},
		{" OFF\n", ""},
		{"false", ""},
		{"on", "chaos-safety-lever is on"},
		{"ON\n", "chaos-safety-lever is on"},
		{"true", "chaos-safety-lever is on"},
		{"onn", `chaos-safety-lever is "onn", neither on nor off`},
		{"stop!", "neither on nor off"},
	} {
		t.Run("lever "+strings.TrimSpace(tc.value), func(t *testing.T) {
			err := checkLever(tc.value)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !IsPrecheck(err)):
				t.Fatalf("error = %v, want a precheck failure containing %q", err, tc.want)
			}
		})
	}
}
