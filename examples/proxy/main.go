// Command proxy is a TCP proxy whose payload never enters user memory:
// each direction is a zerocopy.Copy, which splices socket to socket through
// a pooled kernel pipe. With -record, the client->upstream stream is also
// written to a file with splice.Tee (tee(2): the bytes are read once and
// duplicated inside the kernel).
//
//	proxy -listen 127.0.0.1:8080 -upstream 127.0.0.1:80 [-record FILE]
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
			p.handle(c.(*net.TCPConn), p.conns.Add(1))
		}()
	}
}

// Stats is what one connection moved.
type Stats struct {
	Up, Down             int64 // client->upstream, upstream->client bytes
	UpMethod, DownMethod string
	UpErr, DownErr       error
}

func (p *Proxy) handle(client *net.TCPConn, id int64) Stats {
	defer client.Close()
	var st Stats
	c, err := net.Dial("tcp", p.Upstream)
	if err != nil {
		p.Log.Printf("conn %d: dial %s: %v", id, p.Upstream, err)
		return st
	}
	up := c.(*net.TCPConn)
	defer up.Close()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		st.Up, st.UpMethod, st.UpErr = p.forward(up, client, id)
		_ = up.CloseWrite() // the client is done sending: tell upstream
	}()
	go func() {
		defer wg.Done()
		st.Down, st.DownMethod, st.DownErr = p.copyOne(client, up)
		_ = client.CloseWrite()
	}()
	wg.Wait()
	p.Log.Printf("conn %d: client->upstream %d bytes by %s%s, upstream->client %d bytes by %s%s",
		id, st.Up, st.UpMethod, errNote(st.UpErr), st.Down, st.DownMethod, errNote(st.DownErr))
	return st
}

// forward moves client->upstream, through Tee into the record file if set.
func (p *Proxy) forward(up, client *net.TCPConn, id int64) (int64, string, error) {
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
