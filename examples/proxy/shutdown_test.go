package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestShutdown: Shutdown stops accepting at once, lets a connection that
// finishes within the grace period finish, cuts one that does not (a
// reset), and returns the context's error for the cut.
func TestShutdown(t *testing.T) {
	noLeaks(t)
	body := data(10, 1<<20)
	// The upstream answers each line "send" with the body, and otherwise
	// holds the connection open.
	up := serveOnce(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if line == "send\n" {
				_, _ = c.Write(body)
				_ = c.(*net.TCPConn).CloseWrite()
			}
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	p := &Proxy{Upstream: up.Addr().String()}
	addr, logs := startProxy(t, ln, p)
	finisher, err := net.Dial("tcp", addr)
	check(t, err)
	defer finisher.Close()
	stuck, err := net.Dial("tcp", addr)
	check(t, err)
	defer stuck.Close()
	eventually(t, testTimeout, func() bool { return p.conns.Load() == 2 }, "both accepted")

	shut := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	go func() { shut <- p.Shutdown(ctx) }()
	eventually(t, testTimeout, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	}, "the listener closed")

	// Within the grace period the finisher asks for its answer and gets
	// all of it.
	_, err = finisher.Write([]byte("send\n"))
	check(t, err)
	got, err := io.ReadAll(finisher)
	check(t, err)
	sameBytes(t, body, got, "finisher")
	check(t, finisher.(*net.TCPConn).CloseWrite())

	// The stuck one is cut when the grace period ends.
	requireReset(t, stuck, "stuck")
	if err := <-shut; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want the grace period's deadline", err)
	}
	mustContain(t, logs.String(), "context canceled")
}

// TestShutdownSignal: the command itself, sent SIGTERM, stops accepting,
// cuts what is left after -grace and exits 0.
func TestShutdownSignal(t *testing.T) {
	p := startCommand(t, "300ms")
	check(t, p.cmd.Process.Signal(syscall.SIGTERM))
	requireReset(t, p.client, "client") // cut after the grace period
	rest, _ := io.ReadAll(p.logs)
	check(t, p.cmd.Wait())
	mustContain(t, string(rest), "shutting down")
	mustContain(t, string(rest), "the connections left were cut")
	if _, err := net.Dial("tcp", p.addr); err == nil {
		t.Fatal("still accepting after the shutdown")
	}
}

// TestShutdownSecondSignal: a second signal during the grace period cuts
// the connections in flight at once, with a reset: before, it killed the
// process (the default action), and the kernel closed the relayed sockets
// with a FIN, so a stalled client took its cut stream for a complete one
// (found from outside: proxy -grace 10s, kill -TERM twice).
func TestShutdownSecondSignal(t *testing.T) {
	p := startCommand(t, "10m")
	check(t, p.cmd.Process.Signal(syscall.SIGTERM))
	line, err := p.logs.ReadString('\n')
	check(t, err)
	mustContain(t, line, "shutting down")
	check(t, p.cmd.Process.Signal(syscall.SIGTERM))
	requireReset(t, p.client, "client") // cut by the second signal, not closed by a kill
	rest, _ := io.ReadAll(p.logs)
	check(t, p.cmd.Wait()) // exited by itself, not killed
	mustContain(t, string(rest), "cutting the connections in flight now")
	mustContain(t, string(rest), "the connections left were cut")
}

// command is the proxy command running with one client connected whose
// first bytes went through.
type command struct {
	cmd    *exec.Cmd
	logs   *bufio.Reader // its stderr, after the "proxying" line
	addr   string        // where it listens
	client net.Conn
}

// startCommand builds the command and starts it with -grace grace in
// front of an upstream that reads everything, then connects a client that
// sends "hello" and stays open. It skips where a signal cannot be sent.
func startCommand(t *testing.T, grace string) *command {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the command")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM to send on Windows (os.Process.Signal supports only Kill there)")
	}
	noLeaks(t)
	up := serveOnce(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	bin := filepath.Join(t.TempDir(), "proxy")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	check(t, err, string(out))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	addr := ln.Addr().String()
	check(t, ln.Close())
	cmd := exec.Command(bin, "-listen", addr, "-upstream", up.Addr().String(), "-grace", grace)
	stderr, err := cmd.StderrPipe()
	check(t, err)
	check(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	logs := bufio.NewReader(stderr)
	line, err := logs.ReadString('\n')
	check(t, err)
	mustContain(t, line, "proxying")
	c, err := net.Dial("tcp", addr)
	check(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Write([]byte("hello"))
	check(t, err)
	time.Sleep(50 * time.Millisecond)
	return &command{cmd: cmd, logs: logs, addr: addr, client: c}
}
