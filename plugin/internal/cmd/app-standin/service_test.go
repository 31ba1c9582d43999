package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestServiceRoundRobin: each new connection goes to the next backend, and
// a backend that closes the connection without answering (a fault proxy's
// abort) fails the client's request instead of hiding it.
func TestServiceRoundRobin(t *testing.T) {
	var backends []string
	for i := range 3 {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/abort" {
				c, _, _ := w.(http.Hijacker).Hijack()
				c.Close()
				return
			}
			fmt.Fprint(w, i)
		}))
		t.Cleanup(s.Close)
		backends = append(backends, s.Listener.Addr().String())
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serveRoundRobin(ctx, l, backends) }()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	seen := map[string]int{}
	for range 6 {
		resp, err := client.Get("http://" + l.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen[string(b)]++
	}
	if len(seen) != 3 || seen["0"] != 2 || seen["1"] != 2 || seen["2"] != 2 {
		t.Errorf("backends answered %v, want each of 0, 1, 2 twice", seen)
	}
	if _, err := client.Get("http://" + l.Addr().String() + "/abort"); err == nil {
		t.Error("an aborted request through the service succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
