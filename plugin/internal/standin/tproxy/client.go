package tproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// adminHTTP is the HTTP client of every AdminClient: bounded, and never
// sent through an environment proxy.
var adminHTTP = &http.Client{
	Timeout: adminTimeout,
	Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: dialTimeout}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	},
}

// AdminClient talks to a proxy's admin API.
type AdminClient struct {
	base *url.URL
}

// NewAdminClient returns a client of the admin API at adminURL, e.g.
// "http://127.0.0.1:19080" (Proxy.AdminURL).
func NewAdminClient(adminURL string) (*AdminClient, error) {
	u, err := url.Parse(adminURL)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("admin URL %q is not an http://host:port URL; use the proxy's admin address, e.g. http://127.0.0.1:19080", adminURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &AdminClient{base: u}, nil
}

// URL is the admin API's base URL.
func (c *AdminClient) URL() string { return c.base.String() }

// Put adds or replaces the rule id.
func (c *AdminClient) Put(ctx context.Context, id string, r Rule) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("fault proxy %s: put rule %s: %w", c.base, id, err)
	}
	_, err = c.do(ctx, http.MethodPut, c.ruleURL(id), body, nil, http.StatusOK, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("fault proxy %s: put rule %s: %w", c.base, id, err)
	}
	return nil
}

// Delete removes the rule id; existed is false when the proxy had no such
// rule (already recovered).
func (c *AdminClient) Delete(ctx context.Context, id string) (existed bool, err error) {
	status, err := c.do(ctx, http.MethodDelete, c.ruleURL(id), nil, nil, http.StatusNoContent, http.StatusNotFound)
	if err != nil {
		return false, fmt.Errorf("fault proxy %s: delete rule %s: %w", c.base, id, err)
	}
	return status == http.StatusNoContent, nil
}

// List returns the proxy's rules in id order.
func (c *AdminClient) List(ctx context.Context) ([]RuleEntry, error) {
	var out []RuleEntry
	_, err := c.do(ctx, http.MethodGet, c.base.String()+"/rules", nil, &out, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("fault proxy %s: list rules: %w", c.base, err)
	}
	return out, nil
}

func (c *AdminClient) ruleURL(id string) string {
	return c.base.String() + "/rules/" + url.PathEscape(id)
}

// do sends body (nil: none) and returns the status, an error unless it
// is one of ok; with into, a 200 answer is decoded into it.
func (c *AdminClient) do(ctx context.Context, method, u string, body []byte, into any, ok ...int) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := adminHTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if !slices.Contains(ok, resp.StatusCode) {
		return resp.StatusCode, statusError(resp)
	}
	if into != nil && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, json.NewDecoder(io.LimitReader(resp.Body, maxRuleBytes*MaxRules)).Decode(into)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so that the connection is reused
	return resp.StatusCode, nil
}

// statusError reports an unexpected answer with the start of its body,
// which says what was wrong.
func statusError(resp *http.Response) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
}
