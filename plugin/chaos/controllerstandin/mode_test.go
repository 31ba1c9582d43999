package controllerstandin

import (
	"slices"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// sequence returns an intn that yields the given numbers in turn (modulo k).
func sequence(nums ...int) func(int) int {
	i := 0
	return func(k int) int {
		n := nums[i%len(nums)] % k
		i++
		return n
	}
}

func TestPick(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    api.Mode
		value   string
		n       int
		rand    func(int) int
		want    []int
		wantErr string
	}{
		{"mode one picks one random candidate", api.ModeOne, "", 5, sequence(3), []int{3}, ""},
		{"mode all picks every candidate in order", api.ModeAll, "", 3, sequence(0), []int{0, 1, 2}, ""},
		{"mode fixed picks value distinct candidates", api.ModeFixed, "2", 5, sequence(4, 4, 1), []int{4, 1}, ""},
		{"mode fixed above the count picks all, in random order", api.ModeFixed, "9", 3, sequence(2, 1, 0), []int{2, 1, 0}, ""},
		{"mode fixed-percent rounds up", api.ModeFixedPercent, "50", 3, sequence(2, 0), []int{2, 0}, ""},
		{"mode random-max-percent draws the percentage first", api.ModeRandomMaxPercent, "100", 4, sequence(25, 3), []int{3}, ""},
		{"random-max-percent may draw zero pods", api.ModeRandomMaxPercent, "50", 4, sequence(0), []int{}, ""},
		{"an empty candidate list is an error", api.ModeAll, "", 0, nil, nil, "cannot generate objects from empty list"},
		{"fixed zero is an error", api.ModeFixed, "0", 3, nil, nil, "cannot select any object as value below or equal 0"},
		{"fixed needs a number", api.ModeFixed, "x", 3, nil, nil, `strconv.Atoi: parsing "x": invalid syntax`},
		{"fixed-percent above 100 is an error", api.ModeFixedPercent, "101", 3, nil, nil, "fixed percentage value of 101 is invalid, Must be (0,100]"},
		{"random-max-percent below 0 is an error", api.ModeRandomMaxPercent, "-1", 3, nil, nil, "fixed percentage value of -1 is invalid, Must be [0-100]"},
		{"an unknown mode is an error", "some", "", 3, nil, nil, "mode some not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pick(tc.mode, tc.value, tc.n, tc.rand)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("pick = %v, want %v", got, tc.want)
			}
		})
	}
}
