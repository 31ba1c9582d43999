// Package report keeps the record of a chaos run and renders it: the
// journal (journal.json: the run's result, probe samples and traffic), the
// Markdown report, the SVG chart of traffic around the injection window, a
// size-bounded summary for runtime properties, and the list of past runs
// under a report root (chaosops report list|show).
package report
