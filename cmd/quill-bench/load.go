package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The load generator speaks just enough HTTP/1.1 to drive quill: each
// connection sends a request, reads the whole response, and sends the next
// on the same connection. Requests are prebuilt bytes, and responses are
// parsed only for the status and the body length, so the generator spends
// little of the CPU it shares with the server (much less than net/http's
// client would).

// requestFunc returns the bytes of the n-th request a connection sends. It
// is called from one goroutine per connection.
type requestFunc func(conn, n int) []byte

// loadResult is what one load run measured.
type loadResult struct {
	ok        int // 2xx responses
	failed    int // other statuses
	statuses  map[int]int
	elapsed   time.Duration
	latencies []time.Duration // of every response, sorted
}

// rate is successful responses per second.
func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

func (r loadResult) p(pct float64) time.Duration { return percentile(r.latencies, pct) }

// load keeps conns connections to addr busy for d (or, when total > 0,
// until total requests have been answered, shared among the connections)
// and reports what came back. A connection error ends the run with an
// error: quill should never drop a keep-alive connection under this load.
func load(ctx context.Context, addr string, conns int, d time.Duration, total int, next requestFunc) (loadResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d > 0 {
		var c context.CancelFunc
		ctx, c = context.WithTimeout(ctx, d)
		defer c()
	}
	var (
		mu       sync.Mutex
		res      = loadResult{statuses: map[int]int{}}
		firstErr error
		wg       sync.WaitGroup
		issued   = make(chan struct{}, max(total, 1))
	)
	if total > 0 {
		for range total {
			issued <- struct{}{}
		}
		close(issued)
	}
	// Dial every connection before the clock starts.
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			for _, c := range cs[:i] {
				c.Close()
			}
			return res, fmt.Errorf("connect to %s: %w", addr, err)
		}
		cs[i] = c
	}
	start := time.Now()
	for i, c := range cs {
		wg.Go(func() {
			defer c.Close()
			stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
			defer stop()
			br := bufio.NewReaderSize(c, 64<<10)
			lats := make([]time.Duration, 0, 1024)
			statuses := map[int]int{}
			var err error
			for n := 0; ; n++ {
				if total > 0 {
					if _, more := <-issued; !more {
						break
					}
				}
				if ctx.Err() != nil {
					break
				}
				req := next(i, n)
				t0 := time.Now()
				if _, err = c.Write(req); err != nil {
					break
				}
				var status int
				if status, err = readResponse(br); err != nil {
					break
				}
				lats = append(lats, time.Since(t0))
				statuses[status]++
			}
			if ctx.Err() != nil && total == 0 {
				err = nil // the deadline cut the last request short
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lats...)
			for s, n := range statuses {
				res.statuses[s] += n
				if s >= 200 && s < 300 {
					res.ok += n
				} else {
					res.failed += n
				}
			}
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("connection %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if total == 0 && d > 0 {
		res.elapsed = min(res.elapsed, d)
	}
	slices.Sort(res.latencies)
	return res, firstErr
}

var errBadResponse = errors.New("malformed HTTP response")

// readResponse reads one HTTP/1.1 response and returns its status. The body
// is discarded; Content-Length and chunked bodies are understood.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, errBadResponse
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, errBadResponse
	}
	length, chunked := -1, false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, errBadResponse
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, errBadResponse
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		}
	}
	switch {
	case chunked:
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return 0, err
			}
			size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
			if err != nil {
				return 0, errBadResponse
			}
			if size == 0 {
				break
			}
			if _, err := br.Discard(int(size) + 2); err != nil {
				return 0, err
			}
		}
		for { // trailers, then the blank line
			line, err := br.ReadSlice('\n')
			if err != nil {
				return 0, err
			}
			if len(line) <= 2 {
				break
			}
		}
	case length > 0:
		if _, err := br.Discard(length); err != nil {
			return 0, err
		}
	case length < 0 && status != 204 && status != 304:
		return 0, fmt.Errorf("%w: no length (status %d)", errBadResponse, status)
	}
	return status, nil
}

// get returns the bytes of a GET request for path with extra headers
// ("Name: value" each).
func get(host, path string, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: quill-bench\r\n", path, host)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// post returns the bytes of a POST request with the given body.
func post(host, path, contentType string, body []byte, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: quill-bench\r\nContent-Type: %s\r\nContent-Length: %d\r\n",
		path, host, contentType, len(body))
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// call sends one request through net/http and returns the status and the
// body. It is for setting up, not for measuring.
func call(method, url, contentType string, body []byte, header ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range header {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
	}
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
