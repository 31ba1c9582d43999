package grafana

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
)

// standinGrafana is a STAND-IN for Grafana's annotations API, following
// its documentation (docs/sources/developers/http_api/annotations.md):
// GET /api/annotations filters by from/to (epoch ms, overlapping the
// annotation's time..timeEnd), every tags parameter (AND), dashboardUID,
// type and limit, and returns the documented fields; POST
// /api/annotations requires text and answers {"message":"Annotation
// added","id":N}. A request without the right Bearer token gets 401 with
// Grafana's error shape.
type standinGrafana struct {
	token string

	mu          sync.Mutex
	annotations []standinAnnotation
	posts       int
	// dropAnswers makes the next n POSTs store the annotation and then
	// cut the connection, as when an answer is lost on the way.
	dropAnswers int
}

type standinAnnotation struct {
	ID           int64          `json:"id"`
	AlertID      int64          `json:"alertId"`
	DashboardID  int64          `json:"dashboardId"`
	DashboardUID string         `json:"dashboardUID"`
	PanelID      int64          `json:"panelId"`
	UserID       int64          `json:"userId"`
	UserName     string         `json:"userName"`
	NewState     string         `json:"newState"`
	PrevState    string         `json:"prevState"`
	Time         int64          `json:"time"`
	TimeEnd      int64          `json:"timeEnd"`
	Text         string         `json:"text"`
	Metric       string         `json:"metric"`
	Tags         []string       `json:"tags"`
	Data         map[string]any `json:"data"`
}

func (g *standinGrafana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+g.token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"extra": nil, "message": "Invalid API key", "messageId": "api-keys.invalid", "statusCode": 401, "traceID": ""})
		return
	}
	if r.URL.Path != "/api/annotations" {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not found"})
		return
	}
	switch r.Method {
	case http.MethodGet:
		g.find(w, r)
	case http.MethodPost:
		g.create(w, r)
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "Method not allowed"})
	}
}

func (g *standinGrafana) find(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	num := func(k string, def int64) int64 {
		v, err := strconv.ParseInt(q.Get(k), 10, 64)
		if err != nil {
			return def
		}
		return v
	}
	from, to, limit := num("from", 0), num("to", 1<<62), num("limit", 100)
	g.mu.Lock()
	defer g.mu.Unlock()
	out := []standinAnnotation{}
	for _, a := range g.annotations {
		if a.Time > to || a.TimeEnd < from {
			continue
		}
		if uid := q.Get("dashboardUID"); uid != "" && a.DashboardUID != uid {
			continue
		}
		if q.Get("type") == "alert" && a.AlertID == 0 || q.Get("type") == "annotation" && a.AlertID != 0 {
			continue
		}
		all := true
		for _, t := range q["tags"] {
			all = all && slices.Contains(a.Tags, t)
		}
		if all {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time > out[j].Time })
	if int64(len(out)) > limit {
		out = out[:limit]
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *standinGrafana) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DashboardUID string   `json:"dashboardUID"`
		PanelID      int64    `json:"panelId"`
		Time         int64    `json:"time"`
		TimeEnd      int64    `json:"timeEnd"`
		Tags         []string `json:"tags"`
		Text         string   `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "bad request data"})
		return
	}
	if in.Text == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Failed to save annotation: text is required"})
		return
	}
	g.mu.Lock()
	g.posts++
	a := standinAnnotation{
		ID: int64(len(g.annotations) + 1), DashboardUID: in.DashboardUID, PanelID: in.PanelID, UserID: 1,
		Time: in.Time, TimeEnd: in.TimeEnd, Tags: in.Tags, Text: in.Text, Data: map[string]any{},
	}
	if a.TimeEnd == 0 {
		a.TimeEnd = a.Time
	}
	g.annotations = append(g.annotations, a)
	drop := g.dropAnswers > 0
	if drop {
		g.dropAnswers--
	}
	g.mu.Unlock()
	if drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Annotation added", "id": a.ID})
}

func (g *standinGrafana) stored() []standinAnnotation {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.annotations)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
