package tproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// errAbort asks for the client's connection to be closed without a
// response.
var errAbort = errors.New("abort")

// applyRequest runs the rule's actions on r in chaos-tproxy's order: abort,
// delay, replace, patch. It returns errAbort for abort, the context's error
// when the client went away during the delay, or why a body could not be
// patched.
func (c *compiled) applyRequest(r *http.Request) error {
	if c.rule.Abort {
		return errAbort
	}
	if err := sleep(r.Context(), c.delay); err != nil {
		return err
	}
	if rp := c.rule.Replace; rp != nil {
		if rp.Path != nil {
			setPath(r.URL, *rp.Path)
		}
		if rp.Method != nil {
			r.Method = *rp.Method
		}
		if rp.Body != nil {
			setRequestBody(r, rp.Body)
		}
		if len(rp.Queries) > 0 {
			q := r.URL.Query()
			for k, v := range rp.Queries {
				q.Set(k, v)
			}
			r.URL.RawQuery = q.Encode()
		}
		for k, v := range rp.Headers {
			if strings.EqualFold(k, "Host") {
				r.Host = v // Go keeps Host apart from the other headers
				continue
			}
			r.Header.Set(k, v)
		}
	}
	if c.rule.Patch != nil && c.patchQuery != "" {
		if r.URL.RawQuery == "" && !r.URL.ForceQuery {
			r.URL.RawQuery = c.patchQuery
		} else {
			r.URL.RawQuery += "&" + c.patchQuery
		}
	}
	return c.patch("request", r.Header, r.Body, func(b []byte) { setRequestBody(r, b) })
}

// applyResponse runs the rule's actions on resp in chaos-tproxy's order,
// with the errors of applyRequest.
func (c *compiled) applyResponse(resp *http.Response) error {
	if c.rule.Abort {
		return errAbort
	}
	if err := sleep(resp.Request.Context(), c.delay); err != nil {
		return err
	}
	if rp := c.rule.Replace; rp != nil {
		if rp.Code != nil {
			resp.StatusCode = int(*rp.Code)
			resp.Status = strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
		}
		if rp.Body != nil {
			setResponseBody(resp, rp.Body)
		}
		for k, v := range rp.Headers {
			resp.Header.Set(k, v)
		}
	}
	return c.patch("response", resp.Header, resp.Body, func(b []byte) { setResponseBody(resp, b) })
}

// patch merges the rule's JSON patch into the body of a request or
// response (what), replacing it with setBody, and appends the rule's
// headers.
func (c *compiled) patch(what string, h http.Header, body io.ReadCloser, setBody func([]byte)) error {
	if c.rule.Patch == nil {
		return nil
	}
	if c.patchJSON {
		b, err := c.patchedBody(body)
		if err != nil {
			return fmt.Errorf("patch %s body: %w", what, err)
		}
		setBody(b)
	}
	for _, kv := range c.rule.Patch.Headers {
		h.Add(kv[0], kv[1])
	}
	return nil
}

// sleep waits d, or less when ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// setPath sets the escaped path p ("" means "/").
func setPath(u *url.URL, p string) {
	if p == "" {
		p = "/"
	}
	unescaped, err := url.PathUnescape(p)
	if err != nil {
		unescaped = p
	}
	u.Path, u.RawPath = unescaped, p
}

func setRequestBody(r *http.Request, b []byte) {
	r.Body = io.NopCloser(bytes.NewReader(b))
	if len(b) == 0 {
		r.Body = http.NoBody
	}
	r.ContentLength = int64(len(b))
	r.TransferEncoding = nil
	r.Header.Del("Content-Length")
}

func setResponseBody(resp *http.Response, b []byte) {
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.TransferEncoding = nil
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
}

// patchedBody reads body (at most MaxBodyBytes) as JSON and merges the
// rule's patch into it.
func (c *compiled) patchedBody(body io.ReadCloser) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(data) > MaxBodyBytes {
		return nil, fmt.Errorf("body is larger than %d bytes", MaxBodyBytes)
	}
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("body is not JSON: %w", err)
	}
	return json.Marshal(mergePatch(doc, c.patchBody))
}

// decodeJSON decodes one JSON document, keeping numbers exact.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON document")
	}
	return v, nil
}

// mergePatch applies the JSON merge patch (RFC 7396) patch to target.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergePatch(tm[k], v)
	}
	return tm
}
