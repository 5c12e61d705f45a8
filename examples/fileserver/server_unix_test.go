//go:build unix

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestNotRegular: FIFOs, sockets, directories without index.html and
// devices are refused (404) without being opened, and while such a
// request is made the server goes on serving others.
func TestNotRegular(t *testing.T) {
	noLeaks(t)
	fx := setup(t, options{})
	fifo := filepath.Join(fx.root, "fifo")
	check(t, syscall.Mkfifo(fifo, 0o644))
	t.Cleanup(func() { // should a server be stuck opening it, unblock it
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	other := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer other.CloseIdleConnections()
	ln, err := net.Listen("unix", filepath.Join(fx.root, "sock"))
	check(t, err)
	defer ln.Close()
	check(t, os.Symlink("/dev/zero", filepath.Join(fx.root, "zero-abs"))) // os.Root refuses absolute links
	cases := []string{"/fifo", "/sock", "/noindex/", "/noindex", "/zero-abs"}
	// A character device inside the root, reached through a symlink inside
	// the root: needs mknod (root).
	if err := syscall.Mknod(filepath.Join(fx.root, "null"), syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		check(t, os.Symlink("null", filepath.Join(fx.root, "null-link")))
		cases = append(cases, "/null", "/null-link")
	} else {
		t.Logf("no device case: mknod: %v", err)
	}
	for _, p := range cases {
		t.Run(p, func(t *testing.T) {
			status := make(chan int, 1)
			go func() {
				resp, err := fx.client.Get(fx.url + p)
				if err != nil {
					status <- -1
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status <- resp.StatusCode
			}()
			// Meanwhile, another request completes.
			resp, err := other.Get(fx.url + "/big.bin")
			check(t, err, "another request while GET", p, "runs")
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			check(t, err)
			equal(t, http.StatusOK, resp.StatusCode)
			equal(t, sum(fx.data), sum(body))
			select {
			case st := <-status:
				equal(t, http.StatusNotFound, st, p) // "/noindex": redirected to /noindex/, then 404
			case <-time.After(5 * time.Second):
				t.Fatalf("GET %s still hanging", p)
			}
		})
	}
	// The FIFO was never opened: a writer would block; none is waiting.
	f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err == nil {
		f.Close()
		t.Fatal("the FIFO has a reader: the server opened it")
	}
}

// TestStalledClient: a client that requests a large file and stops reading
// is cut off within -write-progress, and the server goes on serving.
func TestStalledClient(t *testing.T) {
	noLeaks(t)
	const progress = 300 * time.Millisecond
	fx := setup(t, options{writeProgress: progress})
	big := data(7, 48<<20)
	check(t, os.WriteFile(filepath.Join(fx.root, "huge.bin"), big, 0o644))
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", fx.addr)
	check(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = fmt.Fprintf(conn, "GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	check(t, err)
	select {
	case c := <-fx.closed:
		el := time.Since(start)
		t.Logf("server closed the stalled connection after %v", el)
		equal(t, conn.LocalAddr().String(), c.RemoteAddr().String())
		if el > 10*progress+2*time.Second {
			t.Fatalf("closed after %v, bound %v", el, progress)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stalled connection is still open after 10 s")
	}
	// What the client finds when it reads at last: a cut body.
	check(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	check(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(got) >= len(big) {
		t.Fatalf("got all %d bytes: the connection was not cut", len(got))
	}
	sameBytes(t, big[:len(got)], got, "the bytes before the cut")
	resp, body := fx.get(t, "/big.bin", nil)
	equal(t, http.StatusOK, resp.StatusCode)
	equal(t, sum(fx.data), sum(body))
}

// TestSlowReader: a client slower than the whole transfer's worth of
// -write-progress, but reading all the time, gets every byte.
func TestSlowReader(t *testing.T) {
	noLeaks(t)
	const progress = 300 * time.Millisecond
	fx := setup(t, options{writeProgress: progress})
	big := data(8, 4<<20)
	check(t, os.WriteFile(filepath.Join(fx.root, "slow.bin"), big, 0o644))
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10) })
	}}
	conn, err := d.Dial("tcp", fx.addr)
	check(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = fmt.Fprintf(conn, "GET /slow.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	check(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	check(t, err)
	var got bytes.Buffer
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		check(t, err, "after", got.Len(), "bytes")
		time.Sleep(10 * time.Millisecond) // at most 3.2 MB/s
	}
	resp.Body.Close()
	el := time.Since(start)
	t.Logf("slow read of %d bytes took %v (progress deadline %v)", got.Len(), el, progress)
	if el < 3*progress {
		t.Fatalf("the read took %v: not slow enough to test anything", el)
	}
	equal(t, sum(big), sum(got.Bytes()))
}
