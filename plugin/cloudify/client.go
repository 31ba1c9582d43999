package cloudify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SocketEnv is the environment variable that carries the ctx proxy URL
// (spec 1.3, 2.1).
const SocketEnv = "CTX_SOCKET_URL"

// ErrProxyGone means the ctx proxy refused the connection: the operation's
// runner is gone (cancel, kill or timeout, spec 2.5 and 5). Callers treat it
// as cancellation, never as a retry.
var ErrProxyGone = errors.New("ctx proxy is gone (the operation was cancelled or timed out on the Cloudify side)")

// ErrStopOperation is returned when the proxy answers stop_operation, i.e.
// after abort_operation or retry_operation (spec 2.1). The process should
// flush and exit promptly.
var ErrStopOperation = errors.New("ctx proxy asked the operation to stop")

// ProxyError is an "error" response of the ctx proxy (spec 2.1): the Python
// exception type and its message.
type ProxyError struct {
	Type    string
	Message string
	Args    []string
}

func (e *ProxyError) Error() string {
	return fmt.Sprintf("ctx %s: %s: %s", strings.Join(e.Args, " "), e.Type, e.Message)
}

// Client is a typed client for the ctx proxy. Requests are sequential
// because the proxy serves one request at a time (spec 2.1).
type Client struct {
	url     string
	http    *http.Client
	timeout time.Duration
	mu      sync.Mutex
}

// NewClient returns a client for the proxy at rawURL. Only http:// is
// supported, as in Cloudify itself (spec 2.1).
func NewClient(rawURL string) (*Client, error) {
	if rawURL == "" {
		return nil, fmt.Errorf("%s is empty: the operation runs without a ctx proxy (process.ctx_proxy_type: none?); chaosops needs it", SocketEnv)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("%s=%q: unsupported ctx proxy URL; Cloudify's proxy is http://localhost:<port>", SocketEnv, rawURL)
	}
	return &Client{
		url:     rawURL,
		timeout: 30 * time.Second, // the Python ctx CLI's default (spec 2.1)
		http: &http.Client{Transport: &http.Transport{
			Proxy: nil, // the proxy is on localhost; never route it through HTTP_PROXY
			// A fresh connection per call: a vanished proxy then always shows
			// as connection refused (spec 5), never as a stale keep-alive EOF.
			DisableKeepAlives: true,
		}},
	}, nil
}

type request struct {
	Args []any `json:"args"`
}

type response struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

type errorPayload struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Call sends one request (spec 2.2: args walk the context object) and returns
// the decoded payload with integers kept as int64.
func (c *Client) Call(ctx context.Context, args ...any) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	body, err := json.Marshal(request{Args: args})
	if err != nil {
		return nil, fmt.Errorf("ctx %s: encode request: %w", argWords(args), err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("ctx %s: %w", argWords(args), err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if isRefused(err) || closedWithoutAnswer(err) && c.refusesNow() {
			return nil, ErrProxyGone
		}
		return nil, fmt.Errorf("ctx %s: %w", argWords(args), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("ctx %s: read response: %w", argWords(args), err)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("ctx %s: response is not the proxy's JSON envelope (HTTP %d): %w", argWords(args), resp.StatusCode, err)
	}
	switch r.Type {
	case "result":
		v, err := DecodeValue(r.Payload)
		if err != nil {
			return nil, fmt.Errorf("ctx %s: decode payload: %w", argWords(args), err)
		}
		return v, nil
	case "error":
		var p errorPayload
		_ = json.Unmarshal(r.Payload, &p)
		return nil, &ProxyError{Type: p.Type, Message: p.Message, Args: stringArgs(args)}
	case "stop_operation":
		return nil, ErrStopOperation
	default:
		return nil, fmt.Errorf("ctx %s: unknown response type %q", argWords(args), r.Type)
	}
}

// closedWithoutAnswer is a connection the proxy closed before it answered:
// a proxy that goes away during a call does that (every call has its own
// connection, so this is never a stale keep-alive).
func closedWithoutAnswer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// refusesNow reports whether a new connection to the proxy is refused,
// which tells a proxy that is gone from one that dropped a single call.
func (c *Client) refusesNow() bool {
	u, err := url.Parse(c.url)
	if err != nil {
		return false
	}
	conn, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		return isRefused(err)
	}
	conn.Close()
	return false
}

func isRefused(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func stringArgs(args []any) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		if s, ok := a.(string); ok {
			out = append(out, s)
		} else {
			out = append(out, "<value>") // values may be secrets: never echo them
		}
	}
	return out
}

func argWords(args []any) string {
	// Only the leading words name the call; later args are values.
	words := stringArgs(args)
	if len(words) > 3 {
		words = append(words[:3], "…")
	}
	return strings.Join(words, " ")
}
