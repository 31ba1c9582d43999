package report

import (
	"bytes"
	"encoding/xml"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
)

// svgNode is any SVG element, parsed generically.
type svgNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []svgNode  `xml:",any"`
}

func (n svgNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n svgNode) num(t *testing.T, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attr(name), 64)
	if err != nil {
		t.Fatalf("<%s> attribute %s=%q: %v", n.XMLName.Local, name, n.attr(name), err)
	}
	return v
}

// find returns every element with the class.
func (n svgNode) find(class string) []svgNode {
	var out []svgNode
	if n.attr("class") == class {
		out = append(out, n)
	}
	for _, c := range n.Children {
		out = append(out, c.find(class)...)
	}
	return out
}

func parseSVG(t *testing.T, data []byte) svgNode {
	t.Helper()
	var root svgNode
	if err := xml.Unmarshal(data, &root); err != nil {
		t.Fatalf("chart is not XML: %v", err)
	}
	if root.XMLName.Local != "svg" {
		t.Fatalf("root element %q, want svg", root.XMLName.Local)
	}
	return root
}

// axis is the linear map a chart's tick labels define between a value
// and a pixel position, read back from the SVG itself.
type axis struct{ v0, p0, v1, p1 float64 }

// readAxis fits the axis from the first and last ticks of class, whose
// labels are numbers followed by unit.
func readAxis(t *testing.T, root svgNode, class, pos, unit string) axis {
	t.Helper()
	ticks := root.find(class)
	if len(ticks) < 2 {
		t.Fatalf("%d ticks of class %s", len(ticks), class)
	}
	val := func(n svgNode) float64 {
		v, err := strconv.ParseFloat(strings.TrimSuffix(n.Text, unit), 64)
		if err != nil {
			t.Fatalf("tick label %q: %v", n.Text, err)
		}
		return v
	}
	first, last := ticks[0], ticks[len(ticks)-1]
	return axis{v0: val(first), p0: first.num(t, pos), v1: val(last), p1: last.num(t, pos)}
}

func (a axis) pixel(v float64) float64 { return a.p0 + (v-a.v0)/(a.v1-a.v0)*(a.p1-a.p0) }
func (a axis) value(p float64) float64 { return a.v0 + (p-a.p0)/(a.p1-a.p0)*(a.v1-a.v0) }

// points parses a polyline's points into (x, y) pairs.
func points(t *testing.T, n svgNode) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, p := range strings.Fields(n.attr("points")) {
		x, y, ok := strings.Cut(p, ",")
		fx, err1 := strconv.ParseFloat(x, 64)
		fy, err2 := strconv.ParseFloat(y, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("bad point %q", p)
		}
		out = append(out, [2]float64{fx, fy})
	}
	return out
}

func TestChart(t *testing.T) {
	root := parseSVG(t, Chart(fixture()))
	xAxis := readAxis(t, root, "tick-x", "x", "s")
	yAxis := readAxis(t, root, "tick-y-left", "y", "%")

	t.Run("the shaded rect spans the injection window", func(t *testing.T) {
		rects := root.find("injection-window")
		if len(rects) != 1 {
			t.Fatalf("%d injection-window rects, want 1", len(rects))
		}
		x, w := rects[0].num(t, "x"), rects[0].num(t, "width")
		// The fixture's traffic starts with the run, so the window is +5s..+35s.
		if math.Abs(x-xAxis.pixel(5)) > 0.2 || math.Abs(x+w-xAxis.pixel(35)) > 0.2 {
			t.Fatalf("rect spans %.1f..%.1f px = %.2f..%.2f s, want 5..35 s", x, x+w, xAxis.value(x), xAxis.value(x+w))
		}
		labels := root.find("window-label")
		if len(labels) != 1 || labels[0].Text != "injection 30.0s" {
			t.Fatalf("window label %+v", labels)
		}
	})

	t.Run("the success line drops inside the window and only there", func(t *testing.T) {
		var web []svgNode
		for _, p := range root.find("success") {
			if p.attr("data-probe") == "web" {
				web = append(web, p)
			}
		}
		if len(web) != 1 {
			t.Fatalf("%d success polylines for web, want 1", len(web))
		}
		pts := points(t, web[0])
		if len(pts) != 45 {
			t.Fatalf("%d points, want one per second (45)", len(pts))
		}
		for _, p := range pts {
			sec, rate := xAxis.value(p[0]), yAxis.value(p[1])
			inside := sec > 5 && sec < 35
			if inside && math.Abs(rate-10) > 0.5 || !inside && math.Abs(rate-100) > 0.5 {
				t.Errorf("at %.1fs the success rate is %.1f %%, want %v", sec, rate, map[bool]int{true: 10, false: 100}[inside])
			}
		}
	})

	t.Run("each HTTP probe has its own line, broken where nothing was sent", func(t *testing.T) {
		count := map[string]int{}
		for _, p := range root.find("success") {
			count[p.attr("data-probe")]++
		}
		if count["web"] != 1 || count["api"] != 2 || len(count) != 2 {
			t.Fatalf("success polylines per probe %v, want web 1, api 2 (a gap at +20s)", count)
		}
	})

	t.Run("served and sent rates follow the right axis", func(t *testing.T) {
		rAxis := readAxis(t, root, "tick-y-right", "y", "")
		served, sent := root.find("served"), root.find("sent")
		if len(served) != 1 || len(sent) != 1 {
			t.Fatalf("%d served and %d sent polylines, want 1 each", len(served), len(sent))
		}
		// Before the window: web 10 + api 5 served per second.
		first := points(t, served[0])[0]
		if got := rAxis.value(first[1]); math.Abs(got-15) > 0.2 {
			t.Fatalf("served/s at the start %.1f, want 15", got)
		}
		mid := points(t, served[0])[10]
		if got := rAxis.value(mid[1]); math.Abs(got-6) > 0.2 {
			t.Fatalf("served/s in the window %.1f, want 6 (web 1 + api 5)", got)
		}
	})

	t.Run("creation and deletion are marked", func(t *testing.T) {
		want := map[string]float64{"created": 2, "deleted": 37}
		got := map[string]float64{}
		for _, m := range root.find("marker") {
			if m.num(t, "y1") < 100 { // the main panel's markers
				got[m.attr("data-step")] = xAxis.value(m.num(t, "x1"))
			}
		}
		for step, sec := range want {
			if math.Abs(got[step]-sec) > 0.05 {
				t.Errorf("%s marker at %.2fs, want %.0fs", step, got[step], sec)
			}
		}
	})

	t.Run("the title carries the verdict", func(t *testing.T) {
		titles := root.find("title")
		if len(titles) != 1 || !strings.Contains(titles[0].Text, "HTTPChaos/demo/httpchaos-3f9c1a2b") {
			t.Fatalf("title %+v", titles)
		}
		if v := root.find("verdict"); len(v) != 1 || v[0].Text != "slo_breach" {
			t.Fatalf("verdict %+v", v)
		}
	})

	t.Run("PromQL samples are dots, failed ones marked", func(t *testing.T) {
		dots := root.find("promql-sample")
		failed := 0
		for _, d := range dots {
			if d.attr("data-ok") == "false" {
				failed++
			}
		}
		if len(dots) != 5 || failed != 3 {
			t.Fatalf("%d dots, %d failed; want 5 and 3", len(dots), failed)
		}
	})

	t.Run("the same journal gives the same bytes", func(t *testing.T) {
		if !bytes.Equal(Chart(fixture()), Chart(fixture())) {
			t.Fatal("two renderings differ")
		}
	})
}

func TestChartEdgeCases(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*Journal)
		window bool
		empty  bool
		promql bool
	}{
		{"a run never injected has no shaded window", func(j *Journal) { j.Run.Injected = chaos.Result{}.Injected }, false, false, true},
		{"a run without traffic says so", func(j *Journal) { j.Traffic = nil }, true, true, true},
		{"a run without result or probes still renders", func(j *Journal) { *j = Journal{Verdict: chaos.VerdictError} }, false, true, false},
		{"without PromQL samples there is no PromQL panel", func(j *Journal) {
			var keep []probe.Sample
			for _, s := range j.Samples {
				if s.Probe != "errors" {
					keep = append(keep, s)
				}
			}
			j.Samples = keep
		}, true, false, false},
		{"names with markup are escaped", func(j *Journal) {
			for i := range j.Traffic {
				j.Traffic[i].Probe = `<web & "co">`
			}
		}, true, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := fixture()
			tc.edit(j)
			root := parseSVG(t, Chart(j))
			if got := len(root.find("injection-window")) == 1; got != tc.window {
				t.Errorf("shaded window %v, want %v", got, tc.window)
			}
			if got := len(root.find("empty")) == 1; got != tc.empty {
				t.Errorf("no-traffic note %v, want %v", got, tc.empty)
			}
			if got := len(root.find("promql-sample")) > 0; got != tc.promql {
				t.Errorf("PromQL panel %v, want %v", got, tc.promql)
			}
		})
	}
}
