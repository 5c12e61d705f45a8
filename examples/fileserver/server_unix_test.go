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
//
// The deadline is renewed when the socket turns writable, that is when the
// client's TCP has taken bytes, and the client runs in the test's own
// process. Both make a short deadline fail a client that reads all the
// time (measured, see slowRead): stopping the process for 400 ms at a time
// (SIGSTOP) failed 10 runs in 10 at the old 300 ms; under -race on a
// loaded machine the client's Read sometimes returned a second and a half
// late with 120 KB queued in its socket (ss every 20 ms). So the deadline
// is 2 s, 8 MiB read 32 KiB every 20 ms take over two deadlines, and a run
// in which the client itself paused for half the deadline or more between
// reads does not count: it is run again (three tries), then skipped with
// the pauses.
func TestSlowReader(t *testing.T) {
	noLeaks(t)
	const progress = 2 * time.Second
	fx := setup(t, options{writeProgress: progress})
	big := data(8, 8<<20)
	check(t, os.WriteFile(filepath.Join(fx.root, "slow.bin"), big, 0o644))
	var pauses []time.Duration
	for range 3 {
		got, el, pause, err := slowRead(t, fx.addr, "/slow.bin")
		if err != nil && pause >= progress/2 {
			t.Logf("the client itself paused %v between reads (deadline %v) and was cut after %d bytes (%v): the run does not count", pause, progress, len(got), err)
			pauses = append(pauses, pause)
			continue
		}
		check(t, err, "after", len(got), "bytes; the client paused at most", pause)
		t.Logf("slow read of %d bytes took %v (progress deadline %v; the client paused at most %v)", len(got), el, progress, pause)
		if el < 2*progress {
			t.Fatalf("the read took %v: not slow enough to test anything", el)
		}
		equal(t, sum(big), sum(got))
		return
	}
	t.Skipf("the machine paused this test's own client for %v (longest pauses of three runs) against a %v deadline: nothing tested", pauses, progress)
}

// slowRead fetches path through a 64 KiB receive buffer and 1448-byte
// segments, 32 KiB per read
// with a 20 ms sleep between reads (at most 1.6 MB/s). pause is the
// longest time the client spent between two reads, outside Read: its own
// sleep and whatever the machine added.
func slowRead(t *testing.T, addr, path string) (got []byte, el, pause time.Duration, err error) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10)
			// Ethernet-sized segments. Loopback's are up to 64 KiB: a 64 KiB
			// receive buffer then holds one or two, the drained buffer
			// often advertises no window, and the server's TCP waits for
			// its zero-window probes, backing off 200, 400, 800 ms: no
			// writability, so no renewal, for more than a deadline while
			// the client read everything it was sent (ss: persist timer,
			// backoff 2, rwnd-limited 90% of the time).
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 1448)
		})
	}}
	conn, err := d.Dial("tcp", addr)
	check(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	check(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	check(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err == io.EOF {
			return b.Bytes(), time.Since(start), pause, nil
		}
		if err != nil {
			return b.Bytes(), time.Since(start), pause, err
		}
		after := time.Now()
		time.Sleep(20 * time.Millisecond)
		pause = max(pause, time.Since(after))
	}
}

// TestProgressDeadlineFromLastWrite: the write deadline counts from the
// last write that moved bytes, also when the next one comes after a pause
// outside the connection (a slow source, a Progress callback, a busy
// machine): a raw write that succeeded, then a pause longer than the
// deadline, then another raw write to a peer that took everything, must
// not time out. (The deadline used to be renewed only inside the write
// callback, after net's check of the old deadline on entry.)
func TestProgressDeadlineFromLastWrite(t *testing.T) {
	const d = 100 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	check(t, err)
	defer peer.Close()
	go func() { _, _ = io.Copy(io.Discard, peer) }() // takes everything at once
	pln := progressListener{Listener: ln, d: d}
	c, err := pln.Accept()
	check(t, err)
	defer c.Close()
	rc, err := c.(syscall.Conn).SyscallConn()
	check(t, err)
	write := func() error {
		var werr error
		err := rc.Write(func(fd uintptr) bool {
			_, werr = syscall.Write(int(fd), []byte("x"))
			return werr != syscall.EAGAIN
		})
		if err != nil {
			return err
		}
		return werr
	}
	check(t, write(), "the first write")
	time.Sleep(3 * d)
	check(t, write(), "a write after a pause, the peer having taken every byte")
}
