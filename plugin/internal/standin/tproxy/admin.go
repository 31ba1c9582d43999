package tproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// Bounds of the admin API.
const (
	// MaxRules is how many rules a proxy holds at once.
	MaxRules = 256
	// maxIDLength bounds a rule id.
	maxIDLength = 512
	// maxRuleBytes bounds a PUT body.
	maxRuleBytes = 2*MaxBodyBytes + 64<<10 // a base64 replace body and the rest
)

// RuleEntry is a rule with its id, as GET /rules lists them.
type RuleEntry struct {
	ID   string `json:"id"`
	Rule Rule   `json:"rule"`
}

// SetRule adds or replaces the rule id; created says which. An invalid
// rule or id is an error naming the field and the fix.
func (p *Proxy) SetRule(id string, r Rule) (created bool, err error) {
	if err := checkID(id); err != nil {
		return false, err
	}
	c, err := compile(id, r)
	if err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.rules.Load()
	i, found := slices.BinarySearchFunc(old, id, func(c *compiled, id string) int { return strings.Compare(c.id, id) })
	if !found && len(old) >= MaxRules {
		return false, fmt.Errorf("rule %q: the proxy holds %d rules already; delete some first", id, MaxRules)
	}
	rules := slices.Clone(old)
	if found {
		rules[i] = c
	} else {
		rules = slices.Insert(rules, i, c)
	}
	p.rules.Store(&rules)
	p.log.Info("rule set", "rule", id, "target", r.Target, "path", r.Path, "method", r.Method, "created", !found)
	return !found, nil
}

// DeleteRule removes the rule id and reports whether it existed.
func (p *Proxy) DeleteRule(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.rules.Load()
	i := slices.IndexFunc(old, func(c *compiled) bool { return c.id == id })
	if i < 0 {
		return false
	}
	rules := slices.Delete(slices.Clone(old), i, i+1)
	p.rules.Store(&rules)
	p.log.Info("rule deleted", "rule", id)
	return true
}

// Rules returns the rules in id order.
func (p *Proxy) Rules() []RuleEntry {
	rules := *p.rules.Load()
	out := make([]RuleEntry, len(rules))
	for i, c := range rules {
		out[i] = RuleEntry{ID: c.id, Rule: c.rule}
	}
	return out
}

func checkID(id string) error {
	switch {
	case id == "":
		return errors.New(`id: missing; name the rule, e.g. "namespace/name/uid"`)
	case len(id) > maxIDLength:
		return fmt.Errorf("id: %d bytes is longer than %d; use a shorter id", len(id), maxIDLength)
	case strings.ContainsFunc(id, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' }):
		return fmt.Errorf("id: %q has spaces or control characters; remove them", id)
	}
	return nil
}

// adminHandler serves the admin API (see the package documentation).
func (p *Proxy) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /rules/{id...}", func(w http.ResponseWriter, r *http.Request) {
		var rule Rule
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRuleBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rule); err != nil {
			http.Error(w, "rule: "+err.Error()+"; send one Rule as JSON", http.StatusBadRequest)
			return
		}
		created, err := p.SetRule(r.PathValue("id"), rule)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(w, status, RuleEntry{ID: r.PathValue("id"), Rule: rule})
	})
	mux.HandleFunc("DELETE /rules/{id...}", func(w http.ResponseWriter, r *http.Request) {
		if !p.DeleteRule(r.PathValue("id")) {
			http.Error(w, "no rule "+r.PathValue("id"), http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /rules", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, p.Rules())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away, or v cannot fail
}
