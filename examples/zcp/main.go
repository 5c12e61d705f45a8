// Command zcp copies like cp(1), through zerocopy.Copy, and says which
// kernel path moved the bytes.
//
//	zcp [-v] [-copy zerocopy|io.Copy|plain] SRC DST
//
// Like cp, it refuses to copy a file onto itself ("are the same file"),
// refuses a directory as SRC before touching DST, and gives a new DST the
// permission bits of SRC (minus the umask).
//
// SRC and DST are file paths, "-" for standard input or output, or
// tcp://HOST:PORT to read from (SRC: listen and accept one connection) or
// write to (DST: dial) a TCP peer. With -v, zcp prints the bytes, the
// method, the wall time, the rate and its own CPU time to standard error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stderr))
}

// cli runs zcp with the given arguments and returns its exit status.
func cli(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("zcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "print bytes, method, time, GiB/s and CPU time to stderr")
	fs.StringVar(&copyWith, "copy", "zerocopy", "how to copy, for comparisons: zerocopy, io.Copy, or plain (1 MiB buffer, no ReadFrom/WriteTo)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: zcp [-v] [-copy zerocopy|io.Copy|plain] SRC DST

zcp copies SRC to DST like cp(1), through zerocopy.Copy, and with -v says
which kernel path moved the bytes, how fast, and at what CPU cost.
SRC, DST: a path, - for stdin/stdout, or tcp://HOST:PORT (SRC listens
and accepts one connection, DST dials).

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // -h: the usage was asked for
		}
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	if err := run(fs.Arg(0), fs.Arg(1), *verbose, stderr); err != nil {
		fmt.Fprintln(stderr, "zcp:", err)
		return 1
	}
	return 0
}

// copyWith selects the copy function (-copy); tests use the default.
var copyWith = "zerocopy"

// run copies srcName to dstName. Everything is checked before the
// destination is created or truncated: the -copy mode, the source (a
// readable regular file or stream, not a directory), and that the two are
// not the same file (also through a symlink or a hard link).
func run(srcName, dstName string, verbose bool, log io.Writer) error {
	switch copyWith {
	case "zerocopy", "io.Copy", "plain":
	default:
		return fmt.Errorf("-copy %q: want zerocopy, io.Copy or plain", copyWith)
	}
	src, srcInfo, closeSrc, err := openSrc(srcName)
	if err != nil {
		return err
	}
	defer closeSrc()
	dst, closeDst, err := openDst(dstName, srcName, srcInfo)
	if err != nil {
		return err
	}

	var rep zerocopy.Report
	c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
	copyFn := func(dst io.Writer, src io.Reader) (int64, error) { return c.Copy(context.Background(), dst, src) }
	switch copyWith {
	case "zerocopy":
	case "io.Copy":
		copyFn = io.Copy
	case "plain":
		copyFn = func(dst io.Writer, src io.Reader) (int64, error) {
			return io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, 1<<20))
		}
	}
	cpu0 := cpuTime()
	start := time.Now()
	n, err := copyFn(dst, src)
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if cerr := closeDst(); err == nil {
		err = cerr
	}
	if verbose {
		gib := float64(n) / (1 << 30)
		method := rep.Method.String()
		if copyWith != "zerocopy" {
			method = copyWith
		}
		fmt.Fprintf(log, "%d bytes  method=%s  time=%v  %.2f GiB/s  cpu=%v (%.3f s/GiB)\n",
			n, method, elapsed.Round(time.Microsecond), gib/elapsed.Seconds(),
			cpu.Round(time.Microsecond), cpu.Seconds()/max(gib, 1e-9))
		if rep.Fallback != nil {
			fmt.Fprintf(log, "fallback: %v\n", rep.Fallback)
		}
	}
	return err
}

// openSrc opens the source and returns its FileInfo where it has one (nil
// for tcp://).
func openSrc(name string) (io.Reader, os.FileInfo, func(), error) {
	switch {
	case name == "-":
		fi, err := os.Stdin.Stat() // a file redirected in is checked too
		if err != nil {
			fi = nil
		}
		return os.Stdin, fi, func() {}, nil
	case strings.HasPrefix(name, "tcp://"):
		ln, err := net.Listen("tcp", strings.TrimPrefix(name, "tcp://"))
		if err != nil {
			return nil, nil, nil, err
		}
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return nil, nil, nil, err
		}
		return c, nil, func() { c.Close() }, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = fmt.Errorf("%s: is a directory", name)
	}
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return f, fi, func() { f.Close() }, nil
}

// openDst opens the destination for writing. A file path that names the
// source itself is refused before anything is truncated, as cp(1) does; a
// new file gets the source's permission bits (minus the umask).
func openDst(name, srcName string, src os.FileInfo) (io.Writer, func() error, error) {
	switch {
	case name == "-":
		return os.Stdout, func() error { return nil }, nil
	case strings.HasPrefix(name, "tcp://"):
		c, err := net.Dial("tcp", strings.TrimPrefix(name, "tcp://"))
		if err != nil {
			return nil, nil, err
		}
		return c, c.Close, nil
	}
	perm := os.FileMode(0o666)
	if src != nil {
		if fi, err := os.Stat(name); err == nil && os.SameFile(src, fi) {
			return nil, nil, fmt.Errorf("%q and %q are the same file", srcName, name)
		}
		if src.Mode().IsRegular() {
			perm = src.Mode().Perm()
		}
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}
