package controllerstandin

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// pick chooses which of n candidates a selector affects, following Chaos
// Mesh's FilterObjectsByMode, including its error messages. intn(k)
// returns a random number in [0, k).
func pick(mode api.Mode, value string, n int, intn func(int) int) ([]int, error) {
	if n == 0 {
		return nil, errors.New("cannot generate objects from empty list")
	}
	switch mode {
	case api.ModeOne:
		return []int{intn(n)}, nil
	case api.ModeAll:
		return randomIndexes(n, n+1, intn), nil
	case api.ModeFixed:
		num, err := strconv.Atoi(value)
		if err != nil {
			return nil, err
		}
		num = min(num, n)
		if num <= 0 {
			return nil, errors.New("cannot select any object as value below or equal 0")
		}
		return randomIndexes(n, num, intn), nil
	case api.ModeFixedPercent:
		pct, err := strconv.Atoi(value)
		if err != nil {
			return nil, err
		}
		if pct == 0 {
			return nil, errors.New("cannot select any object as value below or equal 0")
		}
		if pct < 0 || pct > 100 {
			return nil, fmt.Errorf("fixed percentage value of %d is invalid, Must be (0,100]", pct)
		}
		return randomIndexes(n, percentOf(n, pct), intn), nil
	case api.ModeRandomMaxPercent:
		maxPct, err := strconv.Atoi(value)
		if err != nil {
			return nil, err
		}
		if maxPct == 0 {
			return nil, errors.New("cannot select any object as value below or equal 0")
		}
		if maxPct < 0 || maxPct > 100 {
			return nil, fmt.Errorf("fixed percentage value of %d is invalid, Must be [0-100]", maxPct)
		}
		return randomIndexes(n, percentOf(n, intn(maxPct+1)), intn), nil
	}
	return nil, fmt.Errorf("mode %s not supported", mode)
}

// percentOf is pct percent of n, rounded up.
func percentOf(n, pct int) int { return int(math.Ceil(float64(n) * float64(pct) / 100)) }

// randomIndexes returns count distinct random indexes in [0, n), or all of
// them in order when count exceeds n.
func randomIndexes(n, count int, intn func(int) int) []int {
	if count > n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	seen := make(map[int]bool, count)
	out := make([]int, 0, count)
	for len(out) < count {
		i := intn(n)
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}
