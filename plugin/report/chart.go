package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
)

// Chart geometry, in SVG pixels.
const (
	chartWidth   = 960
	plotLeft     = 64
	plotRight    = chartWidth - 72
	plotTop      = 56
	plotBottom   = 356
	legendTop    = plotBottom + 62
	legendItemW  = 200
	legendLineH  = 18
	promqlHeight = 100
)

// Colours: one per HTTP probe's success line, then the fixed series.
var (
	probeColours = []string{"#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"}
)

const (
	servedColour = "#ff7f0e"
	sentColour   = "#7f7f7f"
	windowColour = "#d62728"
	okColour     = "#2ca02c"
	failColour   = "#d62728"
)

// Chart renders the run as a self-contained SVG image. The x axis is
// seconds since the probes' traffic started; the left axis is each HTTP
// probe's success rate per second (OK/sent, with gaps where nothing was
// sent), the right axis the served (OK) and sent requests per second of
// all probes. The injection window is shaded, the object's creation and
// deletion are marked, and PromQL samples appear as dots in a panel below.
// The same journal always gives the same bytes.
func Chart(j *Journal) []byte {
	c := newChart(j)
	c.render()
	return c.buf.Bytes()
}

type chart struct {
	j          *Journal
	run        *chaos.Result
	t0         time.Time // x = 0
	xmin, xmax float64   // seconds since t0
	rmax       float64   // right axis top, requests/s
	success    map[string][]probe.Point
	names      []string // HTTP probes with traffic, sorted
	seconds    []second // all probes' traffic per second, in order
	promql     []probe.Sample
	thresholds []threshold
	height     int
	buf        bytes.Buffer
}

type second struct {
	at       time.Time
	sent, ok int
}

type threshold struct {
	name, comparator string
	value            float64
}

func newChart(j *Journal) *chart {
	c := &chart{j: j, run: j.Run, success: map[string][]probe.Point{}}
	if c.run == nil {
		c.run = &chaos.Result{}
	}
	bySecond := map[int64]*second{}
	for _, p := range j.Traffic {
		c.success[p.Probe] = append(c.success[p.Probe], p)
		k := p.At.Unix()
		if bySecond[k] == nil {
			bySecond[k] = &second{at: time.Unix(k, 0)}
		}
		bySecond[k].sent += p.Sent
		bySecond[k].ok += p.OK
	}
	c.names = sortedKeys(c.success)
	for _, name := range c.names {
		pts := c.success[name]
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].At.Before(pts[b].At) })
	}
	for _, s := range bySecond {
		c.seconds = append(c.seconds, *s)
	}
	sort.Slice(c.seconds, func(a, b int) bool { return c.seconds[a].at.Before(c.seconds[b].at) })

	kinds := map[string]probe.Spec{}
	for _, p := range j.Probes {
		kinds[p.Name] = p
		if p.Kind == probe.PromQL {
			c.thresholds = append(c.thresholds, threshold{p.Name, p.Comparator, p.Threshold})
		}
	}
	for _, s := range j.Samples {
		if kinds[s.Probe].Kind == probe.PromQL {
			c.promql = append(c.promql, s)
		}
	}
	sort.SliceStable(c.promql, func(a, b int) bool { return c.promql[a].At.Before(c.promql[b].At) })
	if len(c.promql) == 0 {
		c.thresholds = nil
	}
	c.domain()
	c.height = legendTop + legendLineH*c.legendRows() + 16
	if len(c.promql) > 0 {
		c.height += promqlHeight + 40
	}
	return c
}

// domain fixes t0 (the first traffic second, else the run's start) and
// the x range covering the traffic, the window, the markers and samples.
func (c *chart) domain() {
	switch {
	case len(c.seconds) > 0:
		c.t0 = c.seconds[0].at
	case !startOf(c.run).IsZero():
		c.t0 = startOf(c.run)
	case len(c.promql) > 0:
		c.t0 = c.promql[0].At
	}
	c.xmin, c.xmax = 0, 0
	span := func(t time.Time, extra float64) {
		if t.IsZero() || c.t0.IsZero() {
			return
		}
		x := t.Sub(c.t0).Seconds()
		c.xmin, c.xmax = math.Min(c.xmin, x), math.Max(c.xmax, x+extra)
	}
	if n := len(c.seconds); n > 0 {
		span(c.seconds[n-1].at, 1)
	}
	from, to, _ := window(c.j)
	for _, t := range []time.Time{from, to, c.run.Created, c.run.Deleted} {
		span(t, 0)
	}
	for _, s := range c.promql {
		span(s.At, 0)
	}
	if c.xmax-c.xmin < 1 {
		c.xmax = c.xmin + 1
	}
	maxRate := 0.0
	for _, s := range c.seconds {
		maxRate = math.Max(maxRate, float64(s.sent))
	}
	// Four steps, so the right axis's ticks share the left axis's grid.
	c.rmax = 4 * niceStep(maxRate/4)
}

// niceStep returns the smallest of 1, 2, 5 × 10^n that is at least v,
// and at least 1.
func niceStep(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func (c *chart) x(t time.Time) float64 { return c.xs(t.Sub(c.t0).Seconds()) }

func (c *chart) xs(sec float64) float64 {
	return plotLeft + (sec-c.xmin)/(c.xmax-c.xmin)*(plotRight-plotLeft)
}

// ySuccess maps a success rate 0..1 to the left axis.
func ySuccess(v float64) float64 { return plotBottom - v*(plotBottom-plotTop) }

func (c *chart) yRate(v float64) float64 { return plotBottom - v/c.rmax*(plotBottom-plotTop) }

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func (c *chart) printf(format string, args ...any) { fmt.Fprintf(&c.buf, format, args...) }

// escaped writes s escaped for XML text and attribute values.
func (c *chart) escaped(s string) { _ = xml.EscapeText(&c.buf, []byte(s)) }

// text writes a <text> element with escaped content.
func (c *chart) text(attrs, s string) {
	c.printf("<text %s>", attrs)
	c.escaped(s)
	c.buf.WriteString("</text>\n")
}

func (c *chart) render() {
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, c.height, chartWidth, c.height)
	c.printf(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	c.title()
	c.axes()
	c.window(plotTop, plotBottom, "injection-window", true)
	c.markers(plotTop, plotBottom, true)
	c.traffic()
	c.legend()
	c.promqlPanel()
	c.buf.WriteString("</svg>\n")
}

func (c *chart) title() {
	ref := c.run.Ref
	if ref == "" {
		ref = "chaos run"
	}
	colour := failColour
	if c.j.Verdict == chaos.VerdictPass {
		colour = okColour
	}
	c.printf(`<text class="title" x="%d" y="24" font-size="16" font-weight="bold">`, plotLeft)
	c.escaped(ref + " — verdict ")
	c.printf(`<tspan class="verdict" fill="%s">`, colour)
	c.escaped(string(c.j.Verdict))
	c.buf.WriteString("</tspan></text>\n")
}

// window shades the injection window between y top and bottom.
func (c *chart) window(top, bottom float64, class string, label bool) {
	from, to, ok := window(c.j)
	if !ok {
		return
	}
	x1, x2 := c.x(from), c.x(to)
	c.printf(`<rect class="%s" x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.12"/>`+"\n",
		class, num(x1), num(top), num(x2-x1), num(bottom-top), windowColour)
	if label {
		c.text(fmt.Sprintf(`class="window-label" x="%s" y="%s" text-anchor="middle" fill="%s"`, num((x1+x2)/2), num(top-6), windowColour),
			"injection "+seconds(to.Sub(from)))
	}
}

func (c *chart) axes() {
	c.printf(`<g class="axes" stroke="#444" fill="none">`+"\n"+
		`<line x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n"+
		`<line x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n"+
		`<line x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n</g>\n",
		plotLeft, plotBottom, plotRight, plotBottom, plotLeft, plotTop, plotLeft, plotBottom, plotRight, plotTop, plotRight, plotBottom)
	step := xStep(c.xmax - c.xmin)
	for s := math.Ceil(c.xmin/step) * step; s <= c.xmax+1e-9; s += step {
		x := num(c.xs(s))
		c.printf(`<line class="grid-x" x1="%s" y1="%d" x2="%s" y2="%d" stroke="#eee"/>`+"\n", x, plotTop, x, plotBottom)
		c.text(fmt.Sprintf(`class="tick-x" x="%s" y="%d" text-anchor="middle"`, x, plotBottom+16), strconv.FormatFloat(s, 'f', -1, 64)+"s")
	}
	c.text(fmt.Sprintf(`class="axis-title" x="%d" y="%d" text-anchor="middle"`, (plotLeft+plotRight)/2, plotBottom+34), "seconds since the probes' traffic started")
	for i := 0; i <= 4; i++ {
		v := float64(i) / 4
		y := num(ySuccess(v))
		c.printf(`<line class="grid-y" x1="%d" y1="%s" x2="%d" y2="%s" stroke="#eee"/>`+"\n", plotLeft, y, plotRight, y)
		c.text(fmt.Sprintf(`class="tick-y-left" x="%d" y="%s" text-anchor="end" dominant-baseline="middle"`, plotLeft-6, y), fmt.Sprintf("%d%%", i*25))
		c.text(fmt.Sprintf(`class="tick-y-right" x="%d" y="%s" dominant-baseline="middle"`, plotRight+6, num(c.yRate(v*c.rmax))), strconv.FormatFloat(v*c.rmax, 'f', -1, 64))
	}
	mid := (plotTop + plotBottom) / 2
	c.text(fmt.Sprintf(`class="axis-title" x="16" y="%d" text-anchor="middle" transform="rotate(-90 16 %d)"`, mid, mid), "success rate")
	c.text(fmt.Sprintf(`class="axis-title" x="%d" y="%d" text-anchor="middle" transform="rotate(90 %d %d)"`, chartWidth-16, mid, chartWidth-16, mid), "requests/s")
}

// xStep picks a tick step giving at most 10 ticks over span seconds.
func xStep(span float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600} {
		if span/s <= 10 {
			return s
		}
	}
	return math.Ceil(span/10/3600) * 3600
}

// markers draws the object's creation and deletion as dashed lines.
func (c *chart) markers(top, bottom float64, label bool) {
	for i, m := range []struct {
		step   chaos.Step
		at     time.Time
		anchor string
	}{{chaos.StepCreated, c.run.Created, "start"}, {chaos.StepDeleted, c.run.Deleted, "end"}} {
		if m.at.IsZero() || c.t0.IsZero() {
			continue
		}
		x := num(c.x(m.at))
		c.printf(`<line class="marker" data-step="%s" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#555" stroke-dasharray="4 3"/>`+"\n",
			m.step, x, num(top), x, num(bottom))
		if !label {
			continue
		}
		dx := 3
		if m.anchor == "end" {
			dx = -3
		}
		c.text(fmt.Sprintf(`class="marker-label" x="%s" y="%s" dx="%d" text-anchor="%s" fill="#555"`, x, num(top+12+float64(12*i)), dx, m.anchor), string(m.step))
	}
}

// traffic draws each probe's success line (broken where nothing was sent
// or a second is missing) and the served and sent rates of all probes.
func (c *chart) traffic() {
	if len(c.seconds) == 0 {
		c.text(fmt.Sprintf(`class="empty" x="%d" y="%d" text-anchor="middle" fill="#888"`, (plotLeft+plotRight)/2, (plotTop+plotBottom)/2), "no probe traffic recorded")
		return
	}
	mid := func(t time.Time) float64 { return c.x(t.Add(500 * time.Millisecond)) }
	var sent, served []string
	var prev time.Time
	flushRates := func() {
		c.polyline("sent", "", sentColour, `stroke-dasharray="2 2"`, sent)
		c.polyline("served", "", servedColour, "", served)
		sent, served = nil, nil
	}
	for _, s := range c.seconds {
		if !prev.IsZero() && s.at.Sub(prev) > time.Second {
			flushRates()
		}
		sent = append(sent, num(mid(s.at))+","+num(c.yRate(float64(s.sent))))
		served = append(served, num(mid(s.at))+","+num(c.yRate(float64(s.ok))))
		prev = s.at
	}
	flushRates()
	for i, name := range c.names {
		colour := probeColours[i%len(probeColours)]
		var pts []string
		var prev time.Time
		for _, p := range c.success[name] {
			if p.Sent == 0 || (!prev.IsZero() && p.At.Sub(prev) > time.Second) {
				c.polyline("success", name, colour, `stroke-width="2"`, pts)
				pts = nil
			}
			if p.Sent > 0 {
				pts = append(pts, num(mid(p.At))+","+num(ySuccess(float64(p.OK)/float64(p.Sent))))
			}
			prev = p.At
		}
		c.polyline("success", name, colour, `stroke-width="2"`, pts)
	}
}

func (c *chart) polyline(class, probeName, colour, extra string, pts []string) {
	if len(pts) == 0 {
		return
	}
	c.printf(`<polyline class="%s"`, class)
	if probeName != "" {
		c.buf.WriteString(` data-probe="`)
		c.escaped(probeName)
		c.buf.WriteString(`"`)
	}
	c.printf(` fill="none" stroke="%s" %s points="`, colour, extra)
	for i, p := range pts {
		if i > 0 {
			c.buf.WriteByte(' ')
		}
		c.buf.WriteString(p)
	}
	c.buf.WriteString("\"/>\n")
}

type legendItem struct {
	label, colour, dash string
	swatch              bool
}

func (c *chart) legendItems() []legendItem {
	var items []legendItem
	for i, name := range c.names {
		items = append(items, legendItem{label: "success " + name, colour: probeColours[i%len(probeColours)]})
	}
	if len(c.seconds) > 0 {
		items = append(items, legendItem{label: "served/s (all probes)", colour: servedColour}, legendItem{label: "sent/s (all probes)", colour: sentColour, dash: "2 2"})
	}
	if _, _, ok := window(c.j); ok {
		items = append(items, legendItem{label: "injection window", colour: windowColour, swatch: true})
	}
	return items
}

func (c *chart) legendRows() int {
	perRow := (plotRight - plotLeft) / legendItemW
	return max(1, (len(c.legendItems())+perRow-1)/perRow)
}

func (c *chart) legend() {
	perRow := (plotRight - plotLeft) / legendItemW
	c.buf.WriteString(`<g class="legend">` + "\n")
	for i, it := range c.legendItems() {
		x := plotLeft + (i%perRow)*legendItemW
		y := legendTop + (i/perRow)*legendLineH
		if it.swatch {
			c.printf(`<rect x="%d" y="%d" width="18" height="10" fill="%s" fill-opacity="0.25"/>`+"\n", x, y-5, it.colour)
		} else {
			dash := ""
			if it.dash != "" {
				dash = ` stroke-dasharray="` + it.dash + `"`
			}
			c.printf(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", x, y, x+18, y, it.colour, dash)
		}
		c.text(fmt.Sprintf(`x="%d" y="%d" dominant-baseline="middle"`, x+24, y), clip(it.label, 30))
	}
	c.buf.WriteString("</g>\n")
}

// promqlPanel draws PromQL samples as dots (green passed, red failed)
// with each probe's threshold, on the same time axis.
func (c *chart) promqlPanel() {
	if len(c.promql) == 0 {
		return
	}
	top := float64(c.height - promqlHeight - 24)
	bottom := top + promqlHeight
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range c.promql {
		lo, hi = math.Min(lo, s.Value), math.Max(hi, s.Value)
	}
	for _, t := range c.thresholds {
		lo, hi = math.Min(lo, t.value), math.Max(hi, t.value)
	}
	if hi-lo < 1e-9 {
		lo, hi = lo-1, hi+1
	}
	pad := (hi - lo) * 0.1
	lo, hi = lo-pad, hi+pad
	y := func(v float64) float64 { return bottom - (v-lo)/(hi-lo)*(bottom-top) }

	c.text(fmt.Sprintf(`class="panel-title" x="%d" y="%s" font-weight="bold"`, plotLeft, num(top-8)), "PromQL probes")
	c.window(top, bottom, "injection-window-promql", false)
	c.printf(`<rect class="panel" x="%d" y="%s" width="%d" height="%d" fill="none" stroke="#444"/>`+"\n", plotLeft, num(top), plotRight-plotLeft, promqlHeight)
	for _, v := range []float64{lo + pad, (lo + hi) / 2, hi - pad} {
		c.text(fmt.Sprintf(`class="tick-y-promql" x="%d" y="%s" text-anchor="end" dominant-baseline="middle"`, plotLeft-6, num(y(v))), strconv.FormatFloat(v, 'g', 3, 64))
	}
	c.markers(top, bottom, false)
	for _, t := range c.thresholds {
		yy := num(y(t.value))
		c.printf(`<line class="threshold" x1="%d" y1="%s" x2="%d" y2="%s" stroke="#888" stroke-dasharray="6 3"/>`+"\n", plotLeft, yy, plotRight, yy)
		c.text(fmt.Sprintf(`class="threshold-label" x="%d" y="%s" text-anchor="end" fill="#666"`, plotRight-4, num(y(t.value)-3)),
			fmt.Sprintf("%s %s %g", clip(t.name, 30), t.comparator, t.value))
	}
	for _, s := range c.promql {
		colour := okColour
		if !s.OK {
			colour = failColour
		}
		c.buf.WriteString(`<circle class="promql-sample" data-probe="`)
		c.escaped(s.Probe)
		c.printf(`" data-ok="%t" cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", s.OK, num(c.x(s.At)), num(y(s.Value)), colour)
	}
}
