// Command proxy is a TCP proxy whose payload never enters user memory:
// each direction is a zerocopy.Copy, which splices socket to socket through
// a pooled kernel pipe. With -record, the client->upstream stream is also
// written to a file with splice.Tee (tee(2): the bytes are read once and
// duplicated inside the kernel).
//
//	proxy -listen 127.0.0.1:8080 -upstream 127.0.0.1:80 [-record FILE]
//
// -record FILE writes connection N's client->upstream bytes to FILE.N
// (FILE.1, FILE.2, ...).
//
// A half-close is passed on: when one side finishes sending (EOF), the
// proxy shuts down the write side of the other (CloseWrite) and keeps the
// opposite direction running until it ends too. Each connection logs its
// bytes and the method that moved them.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/splice"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to accept clients on")
	upstream := flag.String("upstream", "", "address to forward to (required)")
	record := flag.String("record", "", "write each connection's client->upstream bytes to FILE.N (N: connection number)")
	copier := flag.String("copy", "zerocopy", "how to move bytes, for comparisons: zerocopy, io.Copy, or plain (32 KiB buffer)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: proxy -upstream HOST:PORT [-listen HOST:PORT] [-record FILE (writes FILE.1, FILE.2, ... one per connection)] [-copy zerocopy|io.Copy|plain]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *upstream == "" {
		flag.Usage()
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	p := &Proxy{Upstream: *upstream, Record: *record, Log: log.New(os.Stderr, "", log.LstdFlags)}
	switch *copier {
	case "zerocopy":
	case "io.Copy":
		p.copy = func(dst io.Writer, src io.Reader) (int64, string, error) {
			n, err := io.Copy(dst, src)
			return n, "io.Copy", err
		}
	case "plain":
		p.copy = func(dst io.Writer, src io.Reader) (int64, string, error) {
			n, err := io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, 32<<10))
			return n, "plain", err
		}
	default:
		log.Fatalf("-copy %q: want zerocopy, io.Copy or plain", *copier)
	}
	p.Log.Printf("proxying %s -> %s", ln.Addr(), *upstream)
	log.Fatal(p.Serve(ln))
}

// Proxy forwards every connection accepted on a listener to Upstream.
type Proxy struct {
	Upstream string
	Record   string // if set, FILE.N receives connection N's client->upstream bytes
	Log      *log.Logger

	conns atomic.Int64
	wg    sync.WaitGroup
	copy  func(dst io.Writer, src io.Reader) (int64, string, error) // nil: zerocopy.Copy
}

// Serve accepts until ln is closed, then waits for the open connections.
// Any net.Listener will do, wrapped ones included (a limiting or TLS
// listener): the fast path applies wherever the conn exposes SyscallConn.
func (p *Proxy) Serve(ln net.Listener) error {
	defer p.wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c, p.conns.Add(1))
		}()
	}
}

// Stats is what one connection moved.
type Stats struct {
	Up, Down             int64 // client->upstream, upstream->client bytes
	UpMethod, DownMethod string
	UpErr, DownErr       error
}

func (p *Proxy) handle(client net.Conn, id int64) Stats {
	defer client.Close()
	var st Stats
	up, err := net.Dial("tcp", p.Upstream)
	if err != nil {
		p.Log.Printf("conn %d: dial %s: %v", id, p.Upstream, err)
		return st
	}
	defer up.Close()

	var wg sync.WaitGroup
	var closedClient atomic.Bool
	wg.Add(2)
	go func() {
		defer wg.Done()
		st.Up, st.UpMethod, st.UpErr = p.forward(up, client, id)
		closeWrite(up) // the client is done sending: tell upstream
	}()
	go func() {
		defer wg.Done()
		st.Down, st.DownMethod, st.DownErr = p.copyOne(client, up)
		if !closeWrite(client) {
			// A wrapped conn that hides CloseWrite: end the client's side
			// altogether, or a client waiting for EOF would wait forever.
			closedClient.Store(true)
			_ = client.Close()
		}
	}()
	wg.Wait()
	if closedClient.Load() && errors.Is(st.UpErr, net.ErrClosed) {
		st.UpErr = nil // our own Close above ended that direction
	}
	p.Log.Printf("conn %d: client->upstream %s%s, upstream->client %s%s",
		id, moved(st.Up, st.UpMethod), errNote(st.UpErr), moved(st.Down, st.DownMethod), errNote(st.DownErr))
	return st
}

// moved says "N bytes by METHOD", or "0 bytes" when nothing moved (no
// method did anything worth naming).
func moved(n int64, method string) string {
	if n == 0 {
		return "0 bytes"
	}
	return fmt.Sprintf("%d bytes by %s", n, method)
}

// closeWrite shuts down c's write side where it has one (TCP, Unix and TLS
// conns, and wrappers that pass CloseWrite on, or that hand out the conn
// they wrap with NetConn). It reports false when c has none.
func closeWrite(c net.Conn) bool {
	for {
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
			return true
		}
		nc, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return false
		}
		c = nc.NetConn()
	}
}

// forward moves client->upstream, through Tee into the record file if set.
func (p *Proxy) forward(up, client net.Conn, id int64) (int64, string, error) {
	if p.Record == "" {
		return p.copyOne(up, client)
	}
	rec, err := os.Create(fmt.Sprintf("%s.%d", p.Record, id))
	if err != nil {
		return 0, "none", err
	}
	defer rec.Close()
	n, err := splice.Tee(up, rec, client, -1)
	if errors.Is(err, splice.ErrUnsupported) {
		// No tee here (another platform, purego): what Tee had taken has
		// reached both; finish with an ordinary copy to both.
		m, err := io.Copy(io.MultiWriter(up, rec), client)
		return n + m, "buffered (tee unsupported)", err
	}
	return n, "tee", err
}

func (p *Proxy) copyOne(dst io.Writer, src io.Reader) (int64, string, error) {
	if p.copy != nil {
		return p.copy(dst, src)
	}
	return copyReport(dst, src)
}

func copyReport(dst io.Writer, src io.Reader) (int64, string, error) {
	var method zerocopy.Method
	c := zerocopy.Copier{Observe: func(r zerocopy.Report) { method = r.Method }}
	n, err := c.Copy(dst, src)
	return n, method.String(), err
}

func errNote(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
