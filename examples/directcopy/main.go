// Command directcopy copies a large file with direct I/O on both sides, so
// neither file passes through the page cache and nothing else's cached
// pages are pushed out:
//
//	directcopy [-block SIZE] [-depth N] SRC DST
//
// On a terminal it shows a progress line (bytes, rate, ETA); at the end it
// prints the rate and whether direct I/O ran on each side. A filesystem
// that refuses O_DIRECT gets buffered I/O with drop-behind instead.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zerocopy-go/zerocopy/directio"
)

func main() {
	block := flag.Int("block", 0, "bytes per read (0: the Reader's default, 1 MiB)")
	depth := flag.Int("depth", 0, "reads in flight (0: the Reader's default, 4)")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: directcopy [-block SIZE] [-depth N] SRC DST")
		os.Exit(2)
	}
	progress := isTerminal(os.Stderr)
	if err := run(flag.Arg(0), flag.Arg(1), &directio.ReaderOptions{BlockSize: *block, Depth: *depth}, os.Stderr, progress); err != nil {
		fmt.Fprintln(os.Stderr, "directcopy:", err)
		os.Exit(1)
	}
}

func openOr(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := directio.OpenFile(name, flag, perm)
	if errors.Is(err, directio.ErrUnsupported) {
		return os.OpenFile(name, flag, perm) // buffered with drop-behind
	}
	return f, err
}

func run(srcName, dstName string, opt *directio.ReaderOptions, log io.Writer, progress bool) error {
	src, err := openOr(srcName, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	dst, err := openOr(dstName, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	defer dst.Close()
	r, err := directio.NewReader(src, opt)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := directio.NewWriter(dst)
	if err != nil {
		return err
	}
	cw := &countingWriter{w: w}
	start := time.Now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if !progress {
			return
		}
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fmt.Fprintf(log, "\r%s", progressLine(cw.n.Load(), fi.Size(), time.Since(start)))
			}
		}
	}()
	n, err := r.WriteTo(cw)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	close(stop)
	<-done
	if progress {
		fmt.Fprint(log, "\r"+strings.Repeat(" ", 72)+"\r")
	}
	if err != nil {
		return err
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(log, "%d bytes in %v, %.1f MiB/s, direct I/O: read %v, write %v\n",
		n, el.Round(time.Millisecond), float64(n)/(1<<20)/el.Seconds(), r.Direct(), w.Direct())
	return nil
}

type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// progressLine renders "45.0% 450.0 MiB / 1000.0 MiB  300.0 MiB/s  ETA 2s".
func progressLine(done, total int64, el time.Duration) string {
	rate := float64(done) / max(el.Seconds(), 1e-9)
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%5.1f%% %.1f MiB / %.1f MiB  %.1f MiB/s  ETA %s", pct, float64(done)/(1<<20), float64(total)/(1<<20), rate/(1<<20), eta)
}
