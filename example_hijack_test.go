package zerocopy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"

	"github.com/zerocopy-go/zerocopy"
)

// connectProxy is an HTTP CONNECT proxy: each CONNECT request becomes a
// tunnel, relayed until both ends are done or the server shuts down
// (serverCtx is cancelled).
type connectProxy struct {
	serverCtx context.Context
	tunnels   sync.WaitGroup // the relays still running
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	upstream, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		upstream.Close()
		return
	}

	// Not r.Context(): net/http cancels it as soon as ServeHTTP returns,
	// which after Hijack is at once (the relay runs on its own goroutine),
	// so every tunnel would end at its start. WithoutCancel keeps its
	// values without its end; the tunnel ends instead with the server
	// (serverCtx), or when both ends are done.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	stop := context.AfterFunc(p.serverCtx, cancel)

	// brw.Reader holds what net/http read past the request: bytes a client
	// sent right behind its CONNECT, without waiting for the 200. WithReader
	// sends them first; Relay(ctx, conn, upstream) would lose them.
	client := zerocopy.WithReader(conn, brw.Reader)
	p.tunnels.Add(1)
	go func() {
		defer p.tunnels.Done()
		defer cancel()
		defer stop()
		if _, _, err := zerocopy.Relay(ctx, client, upstream); err != nil {
			log.Printf("tunnel to %s: %v", r.Host, err)
		}
	}()
}

// An HTTP CONNECT proxy hijacks the request's connection and relays it to
// the upstream: with a context that outlives the handler, and with the bytes
// net/http's reader already holds put in front of the conn.
func ExampleRelay_hijack() {
	// The upstream: reads its client to EOF, then says what it got.
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer up.Close()
	go func() {
		c, err := up.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		got, _ := io.ReadAll(c)
		fmt.Fprintf(c, "upstream got %q", got)
	}()

	// The proxy.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	serverCtx, shutdown := context.WithCancel(context.Background())
	proxy := &connectProxy{serverCtx: serverCtx}
	srv := &http.Server{Handler: proxy}
	go srv.Serve(ln) //nolint:errcheck // http.ErrServerClosed after Close
	defer func() {
		srv.Close()          // closes the listener and the conns it still tracks
		shutdown()           // hijacked conns are not tracked: end their relays
		proxy.tunnels.Wait() // and wait for them
	}()

	// A client that sends its first bytes right behind the CONNECT.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	target := up.Addr().String()
	if _, err := io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\nEARLY"); err != nil {
		log.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	if _, err := io.WriteString(c, "-LATE"); err != nil {
		log.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	answer, err := io.ReadAll(br)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(answer))
	// Output:
	// 200 Connection established
	// upstream got "EARLY-LATE"
}
