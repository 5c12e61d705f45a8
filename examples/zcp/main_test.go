package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

func TestRunFileToFile(t *testing.T) {
	dir := t.TempDir()
	data := testutil.Data(1, 3<<20+5)
	src := filepath.Join(dir, "src")
	require.NoError(t, os.WriteFile(src, data, 0o644))
	dst := filepath.Join(dir, "dst")
	var log bytes.Buffer
	require.NoError(t, run(src, dst, true, &log))
	testutil.RequireBytes(t, data, testutil.ReadFile(t, dst))
	want := zerocopy.MethodBuffered
	if zerocopy.MethodCopyFileRange.Available() {
		want = zerocopy.MethodCopyFileRange
	}
	require.Contains(t, log.String(), "3145733 bytes  method="+want.String())
}

func TestRunToTCP(t *testing.T) {
	dir := t.TempDir()
	data := testutil.Data(2, 1<<20+1)
	src := filepath.Join(dir, "src")
	require.NoError(t, os.WriteFile(src, data, 0o644))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan []byte)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(c)
		c.Close()
		got <- b
	}()
	var log bytes.Buffer
	require.NoError(t, run(src, "tcp://"+ln.Addr().String(), true, &log))
	testutil.RequireBytes(t, data, <-got)
	want := zerocopy.MethodBuffered
	if zerocopy.MethodSendfile.Available() {
		want = zerocopy.MethodSendfile
	}
	require.Contains(t, log.String(), "method="+want.String())
}

// TestCommandStdio runs the built command with "-" on both sides, the way
// a shell pipeline would.
func TestCommandStdio(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "zcp")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	data := testutil.Data(3, 200000)
	src := filepath.Join(dir, "src")
	require.NoError(t, os.WriteFile(src, data, 0o644))
	in, err := os.Open(src)
	require.NoError(t, err)
	defer in.Close()
	cmd := exec.Command(bin, "-v", "-", "-")
	cmd.Stdin = in
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	testutil.RequireBytes(t, data, stdout.Bytes())
	require.True(t, strings.HasPrefix(stderr.String(), "200000 bytes  method="), stderr.String())

	cmd = exec.Command(bin, "no-such-file", filepath.Join(dir, "x"))
	b, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(b), "zcp: open no-such-file")
}
