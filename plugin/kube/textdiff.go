package kube

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

// maxEdits bounds the Myers search (memory grows with its square); beyond
// it the differing middle is shown as one replacement.
const maxEdits = 1000

// unifiedDiff returns a unified diff of a and b, or "" when they are equal.
func unifiedDiff(aName, bName, a, b string) string {
	if a == b {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	ops := diffLines(al, bl)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(ops) {
		out.WriteString(h)
	}
	return out.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// op is one line of an edit script: ' ' keep, '-' delete, '+' insert.
type op struct {
	kind byte
	line string
	a, b int // 1-based line numbers in a and b before this line
}

// diffLines computes a shortest edit script (Myers) after trimming the
// common prefix and suffix.
func diffLines(a, b []string) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for i := 0; i < pre; i++ {
		ops = append(ops, op{kind: ' ', line: a[i]})
	}
	ops = append(ops, myers(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for i := len(a) - suf; i < len(a); i++ {
		ops = append(ops, op{kind: ' ', line: a[i]})
	}
	// Number the lines.
	ai, bi := 1, 1
	for i := range ops {
		ops[i].a, ops[i].b = ai, bi
		switch ops[i].kind {
		case ' ':
			ai++
			bi++
		case '-':
			ai++
		case '+':
			bi++
		}
	}
	return ops
}

// myers returns the edit script turning a into b.
func myers(a, b []string) []op {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return replaceAll(a, b)
	}
	max := n + m
	if max > maxEdits {
		max = maxEdits
	}
	off := max
	v := make([]int, 2*max+2)
	var trace [][]int
	found := false
	for d := 0; d <= max && !found; d++ {
		snap := make([]int, len(v))
		copy(snap, v)
		trace = append(trace, snap)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found {
		return replaceAll(a, b)
	}
	// Walk back through the trace.
	var rev []op
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		vd := trace[d]
		k := x - y
		var pk int
		if k == -d || (k != d && vd[off+k-1] < vd[off+k+1]) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := vd[off+pk]
		py := px - pk
		for x > px && y > py {
			rev = append(rev, op{kind: ' ', line: a[x-1]})
			x--
			y--
		}
		if x == px {
			rev = append(rev, op{kind: '+', line: b[y-1]})
			y--
		} else {
			rev = append(rev, op{kind: '-', line: a[x-1]})
			x--
		}
	}
	for x > 0 && y > 0 {
		rev = append(rev, op{kind: ' ', line: a[x-1]})
		x--
		y--
	}
	out := make([]op, len(rev))
	for i := range rev {
		out[i] = rev[len(rev)-1-i]
	}
	return out
}

func replaceAll(a, b []string) []op {
	var ops []op
	for _, l := range a {
		ops = append(ops, op{kind: '-', line: l})
	}
	for _, l := range b {
		ops = append(ops, op{kind: '+', line: l})
	}
	return ops
}

// hunks groups an edit script into unified diff hunks.
func hunks(ops []op) []string {
	var out []string
	i := 0
	for i < len(ops) {
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(0, i-diffContext)
		end := i
		for {
			for end < len(ops) && ops[end].kind != ' ' {
				end++
			}
			// Extend over a short run of kept lines if another change follows.
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run < len(ops) && run-end <= 2*diffContext {
				end = run
				continue
			}
			end = min(len(ops), end+diffContext)
			break
		}
		var b strings.Builder
		na, nb := 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				na++
			}
			if o.kind != '-' {
				nb++
			}
		}
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkRange(ops[start].a, na), hunkRange(ops[start].b, nb))
		for _, o := range ops[start:end] {
			b.WriteByte(o.kind)
			b.WriteString(o.line)
			b.WriteByte('\n')
		}
		out = append(out, b.String())
		i = end
	}
	return out
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start-1)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}
