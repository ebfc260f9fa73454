package replicas

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"strings"
	"sync"
	"sync/atomic"
)

// WireCounter is a TCP proxy in front of a PostgreSQL server that counts
// the statements its clients run, by reading the frontend messages of the
// wire protocol as they pass: each Query (simple protocol) and each
// Execute (extended protocol, what pgx uses for statements with arguments)
// is one statement. It needs sslmode=disable, since it reads the stream in
// the clear, and it never changes a byte. Its methods are safe for
// concurrent use.
type WireCounter struct {
	ln     net.Listener
	target string

	queries  atomic.Int64 // 'Q'
	executes atomic.Int64 // 'E'
	accepted atomic.Int64 // connections

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	kinds  map[string]int64 // statements run, by statementKind
}

// NewWireCounter listens on loopback and forwards to target (host:port).
func NewWireCounter(target string) (*WireCounter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	w := &WireCounter{ln: ln, target: target, conns: map[net.Conn]bool{}, kinds: map[string]int64{}}
	w.wg.Add(1)
	go w.accept()
	return w, nil
}

// Addr is where clients connect instead of the server.
func (w *WireCounter) Addr() string { return w.ln.Addr().String() }

// Statements returns how many statements have passed so far.
func (w *WireCounter) Statements() int64 { return w.queries.Load() + w.executes.Load() }

// Conns returns how many connections clients have opened so far.
func (w *WireCounter) Conns() int64 { return w.accepted.Load() }

// Close stops listening and cuts every connection.
func (w *WireCounter) Close() error {
	w.mu.Lock()
	w.closed = true
	for c := range w.conns {
		c.Close()
	}
	w.mu.Unlock()
	err := w.ln.Close()
	w.wg.Wait()
	return err
}

func (w *WireCounter) track(c net.Conn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		c.Close()
		return false
	}
	w.conns[c] = true
	return true
}

func (w *WireCounter) untrack(c net.Conn) {
	w.mu.Lock()
	delete(w.conns, c)
	w.mu.Unlock()
	c.Close()
}

func (w *WireCounter) accept() {
	defer w.wg.Done()
	for {
		client, err := w.ln.Accept()
		if err != nil {
			return
		}
		w.accepted.Add(1)
		server, err := net.Dial("tcp", w.target)
		if err != nil {
			client.Close()
			continue
		}
		if !w.track(client) || !w.track(server) {
			client.Close()
			server.Close()
			continue
		}
		w.wg.Add(2)
		go func() {
			defer w.wg.Done()
			_, _ = io.Copy(client, server)
			w.untrack(client)
			w.untrack(server)
		}()
		go func() {
			defer w.wg.Done()
			_ = w.forward(server, client)
			w.untrack(client)
			w.untrack(server)
		}()
	}
}

// sslRequest and gssRequest are the codes of the startup packets that ask
// for encryption; the server answers a single byte, and the real startup
// message follows.
const (
	sslRequest = 80877103
	gssRequest = 80877104
)

// forward copies the frontend's messages to the server, counting them.
func (w *WireCounter) forward(dst io.Writer, src io.Reader) error {
	r := bufio.NewReaderSize(src, 64<<10)
	var hdr [8]byte
	// Startup packets: length, then a code, no type byte.
	for {
		if _, err := io.ReadFull(r, hdr[:8]); err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		code := binary.BigEndian.Uint32(hdr[4:8])
		if n < 8 {
			return errors.New("wire counter: bad startup packet")
		}
		if _, err := dst.Write(hdr[:8]); err != nil {
			return err
		}
		if _, err := io.CopyN(dst, r, n-8); err != nil {
			return err
		}
		if code != sslRequest && code != gssRequest {
			break
		}
	}
	// The statements this connection prepared, by name, and the one bound
	// last, which the next Execute runs.
	prepared := map[string]string{}
	bound := ""
	var body []byte
	for {
		if _, err := io.ReadFull(r, hdr[:5]); err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint32(hdr[1:5]))
		if n < 4 {
			return fmt.Errorf("wire counter: bad length %d of message %q", n, hdr[0])
		}
		if _, err := dst.Write(hdr[:5]); err != nil {
			return err
		}
		switch hdr[0] {
		case 'Q', 'P', 'B':
			// Read the body to see the statement, then pass it on.
			if int64(cap(body)) < n-4 {
				body = make([]byte, n-4)
			}
			body = body[:n-4]
			if _, err := io.ReadFull(r, body); err != nil {
				return err
			}
			// Counted before the message is complete at the server, so
			// that a client that has its answer sees it counted.
			f := cstrings(body, 2)
			switch hdr[0] {
			case 'Q':
				w.queries.Add(1)
				w.count(f[0])
			case 'P': // statement name, query
				prepared[f[0]] = f[1]
			case 'B': // portal name, statement name
				bound = prepared[f[1]]
			}
			if _, err := dst.Write(body); err != nil {
				return err
			}
			continue
		case 'E':
			w.executes.Add(1)
			w.count(bound)
		}
		if _, err := io.CopyN(dst, r, n-4); err != nil {
			return err
		}
	}
}

// cstrings returns the first n NUL-terminated strings of b ("" for those
// missing).
func cstrings(b []byte, n int) []string {
	out := make([]string, n)
	for i := range n {
		j := bytes.IndexByte(b, 0)
		if j < 0 {
			break
		}
		out[i], b = string(b[:j]), b[j+1:]
	}
	return out
}

// count adds one run of query to the breakdown.
func (w *WireCounter) count(query string) {
	k := statementKind(query)
	w.mu.Lock()
	w.kinds[k]++
	w.mu.Unlock()
}

// statementKind shortens a statement to what tells it apart: its first
// words, whitespace folded, up to the first parenthesis or 60 characters.
func statementKind(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if i := strings.IndexAny(q, "("); i > 0 && i < 60 {
		q = q[:i]
	}
	if len(q) > 60 {
		q = q[:60]
	}
	return strings.TrimSpace(q)
}

// Kinds returns how many times each kind of statement has run so far,
// keyed by its first words.
func (w *WireCounter) Kinds() map[string]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.kinds)
}
