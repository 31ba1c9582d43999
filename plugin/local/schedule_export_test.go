package local

import (
	"testing"
	"time"
)

// SetScheduleClock makes schedules read the time from f until the test ends.
func SetScheduleClock(t testing.TB, f func() time.Time) {
	old := now
	now = f
	t.Cleanup(func() { now = old })
}
