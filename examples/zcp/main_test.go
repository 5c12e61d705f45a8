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

	"github.com/zerocopy-go/zerocopy"
)

func TestRunFileToFile(t *testing.T) {
	dir := t.TempDir()
	d := data(1, 3<<20+5)
	src := filepath.Join(dir, "src")
	check(t, os.WriteFile(src, d, 0o644))
	dst := filepath.Join(dir, "dst")
	var log bytes.Buffer
	check(t, run(src, dst, true, &log))
	sameBytes(t, d, readFile(t, dst))
	want := zerocopy.MethodBuffered
	if zerocopy.MethodCopyFileRange.Available() {
		want = zerocopy.MethodCopyFileRange
	}
	mustContain(t, log.String(), "3145733 bytes  method="+want.String())
}

// TestNeverDestroys: every refusal happens before the destination is
// created or truncated, and says why.
func TestNeverDestroys(t *testing.T) {
	dir := t.TempDir()
	d := data(2, 100000)
	f := filepath.Join(dir, "f")
	check(t, os.WriteFile(f, d, 0o644))
	links := symlink(t, "f", filepath.Join(dir, "link"))
	check(t, os.Link(f, filepath.Join(dir, "hard")))
	check(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	for _, tc := range []struct {
		name     string
		args     []string
		want     string // in the error message
		noDst    string // must not exist afterwards ("" : none)
		exitCode int
	}{
		{"same file", []string{f, f}, "are the same file", "", 1},
		{"same file through a symlink", []string{f, filepath.Join(dir, "link")}, "are the same file", "", 1},
		{"symlink to the source as source", []string{filepath.Join(dir, "link"), f}, "are the same file", "", 1},
		{"hard link", []string{f, filepath.Join(dir, "hard")}, "are the same file", "", 1},
		{"directory source", []string{filepath.Join(dir, "sub"), filepath.Join(dir, "x1")}, "is a directory", filepath.Join(dir, "x1"), 1},
		{"missing source", []string{filepath.Join(dir, "nope"), filepath.Join(dir, "x2")}, notExistText(t), filepath.Join(dir, "x2"), 1},
		{"bad -copy", []string{"-copy", "nope", f, filepath.Join(dir, "x3")}, "-copy", filepath.Join(dir, "x3"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "symlink") && !links {
				t.Skip("no symlinks on this system (Windows without the privilege; Wine 8 makes none)")
			}
			var stderr bytes.Buffer
			equal(t, tc.exitCode, cli(tc.args, &stderr), stderr.String())
			copyWith = "zerocopy"
			mustContain(t, stderr.String(), tc.want)
			sameBytes(t, d, readFile(t, f), "the source")
			if tc.noDst != "" {
				if _, err := os.Lstat(tc.noDst); !os.IsNotExist(err) {
					t.Fatalf("%s was created (%v)", tc.noDst, err)
				}
			}
		})
	}
}

func TestRunToTCP(t *testing.T) {
	dir := t.TempDir()
	d := data(2, 1<<20+1)
	src := filepath.Join(dir, "src")
	check(t, os.WriteFile(src, d, 0o644))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
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
	check(t, run(src, "tcp://"+ln.Addr().String(), true, &log))
	sameBytes(t, d, <-got)
	want := zerocopy.MethodBuffered
	switch {
	case zerocopy.MethodSendfile.Available():
		want = zerocopy.MethodSendfile
	case zerocopy.MethodStdlib.Available():
		want = zerocopy.MethodStdlib // the stdlib's sendfile or TransmitFile (darwin, freebsd, Windows server editions)
	}
	mustContain(t, log.String(), "method="+want.String())
}

// TestCommandStdio runs the built command with "-" on both sides, the way
// a shell pipeline would.
func TestCommandStdio(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	dir := t.TempDir()
	bin := goBuild(t, dir, "zcp")
	d := data(3, 200000)
	src := filepath.Join(dir, "src")
	check(t, os.WriteFile(src, d, 0o644))
	in, err := os.Open(src)
	check(t, err)
	defer in.Close()
	cmd := exec.Command(bin, "-v", "-", "-")
	cmd.Stdin = in
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	check(t, cmd.Run(), stderr.String())
	sameBytes(t, d, stdout.Bytes())
	if !strings.HasPrefix(stderr.String(), "200000 bytes  method=") {
		t.Fatalf("stderr: %q", stderr.String())
	}

	cmd = exec.Command(bin, "no-such-file", filepath.Join(dir, "x"))
	b, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("exit 0 for a missing source")
	}
	mustContain(t, string(b), "zcp: open no-such-file")

	// "zcp - f < f" would truncate f under its own reader.
	in2, err := os.Open(src)
	check(t, err)
	defer in2.Close()
	cmd = exec.Command(bin, "-", src)
	cmd.Stdin = in2
	b, err = cmd.CombinedOutput()
	if err == nil {
		t.Fatal("exit 0 copying stdin onto the file it reads")
	}
	mustContain(t, string(b), "are the same file")
	sameBytes(t, d, readFile(t, src))
}
