// Command zcp copies like cp(1), through zerocopy.Copy, and says which
// kernel path moved the bytes.
//
//	zcp [-v] SRC DST
//
// SRC and DST are file paths, "-" for standard input or output, or
// tcp://HOST:PORT to read from (SRC: listen and accept one connection) or
// write to (DST: dial) a TCP peer. With -v, zcp prints the bytes, the
// method, the wall time, the rate and its own CPU time to standard error.
package main

import (
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
	verbose := flag.Bool("v", false, "print bytes, method, time, GiB/s and CPU time to stderr")
	flag.StringVar(&copyWith, "copy", "zerocopy", "how to copy, for comparisons: zerocopy, io.Copy, or plain (1 MiB buffer, no ReadFrom/WriteTo)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: zcp [-v] SRC DST\n\nSRC, DST: a path, - for stdin/stdout, or tcp://HOST:PORT\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *verbose, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "zcp:", err)
		os.Exit(1)
	}
}

// copyWith selects the copy function (-copy); tests use the default.
var copyWith = "zerocopy"

func run(srcName, dstName string, verbose bool, log io.Writer) error {
	src, closeSrc, err := openSrc(srcName)
	if err != nil {
		return err
	}
	defer closeSrc()
	dst, closeDst, err := openDst(dstName)
	if err != nil {
		return err
	}

	var rep zerocopy.Report
	c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
	copyFn := c.Copy
	switch copyWith {
	case "zerocopy":
	case "io.Copy":
		copyFn = io.Copy
	case "plain":
		copyFn = func(dst io.Writer, src io.Reader) (int64, error) {
			return io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, 1<<20))
		}
	default:
		return fmt.Errorf("-copy %q: want zerocopy, io.Copy or plain", copyWith)
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

func openSrc(name string) (io.Reader, func(), error) {
	switch {
	case name == "-":
		return os.Stdin, func() {}, nil
	case strings.HasPrefix(name, "tcp://"):
		ln, err := net.Listen("tcp", strings.TrimPrefix(name, "tcp://"))
		if err != nil {
			return nil, nil, err
		}
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return nil, nil, err
		}
		return c, func() { c.Close() }, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

func openDst(name string) (io.Writer, func() error, error) {
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
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}
