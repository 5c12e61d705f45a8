// Command fileserver serves a directory over HTTP with every body sent by
// zerocopy.ServeContent: sendfile(2) from the page cache to the socket, at
// explicit offsets, so one open *os.File serves any number of concurrent
// requests and ranges.
//
//	fileserver -listen 127.0.0.1:8000 -root DIR [-directio 1G] [-idle 60s] [-write-progress 30s] [-std]
//
// Answers are net/http.ServeContent's: ranges (several as
// multipart/byteranges), If-Range, ETag, Last-Modified, If-None-Match,
// If-Modified-Since, HEAD, Content-Type by extension or sniffed. A
// directory serves its index.html; asked for without its trailing slash,
// it redirects to it (as http.FileServer does). Only regular files are
// served: FIFOs, sockets and devices get 404 without ever being opened.
// Paths cannot leave the root: lookups go through os.Root (Go 1.24 and
// later; before it, a path check: root_go122.go), which refuses
// "..", absolute paths and symlinks that point outside. Open files are
// cached (open_file_cache in nginx's terms) and revalidated every second.
// With -directio SIZE, files of at least SIZE bytes are read with O_DIRECT
// instead of through the page cache.
//
// Timeouts: a request's header must arrive within 10 s, an idle keep-alive
// connection is closed after -idle, and a client that stops reading is
// cut off after -write-progress without progress (a slow client that keeps
// reading may take as long as it needs).
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func main() {
	// Not 8080: that is examples/proxy's default, and the two are often
	// run side by side (the proxy in front of the file server).
	listen := flag.String("listen", "127.0.0.1:8000", "address to serve on")
	root := flag.String("root", ".", "directory to serve")
	dio := flag.String("directio", "0", "read files of at least this size with O_DIRECT (e.g. 512M, 1G; 0: never)")
	std := flag.Bool("std", false, "serve with net/http's http.FileServer instead, for comparisons")
	idle := flag.Duration("idle", 60*time.Second, "close keep-alive connections idle for this long")
	progress := flag.Duration("write-progress", 30*time.Second, "close a connection whose client has taken no bytes for this long (0: never)")
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprint(out, `usage: fileserver [-listen HOST:PORT] [-root DIR] [-directio SIZE] [-idle DURATION] [-write-progress DURATION] [-std]

fileserver serves the files under -root over HTTP. Every body goes out
with sendfile(2) through zerocopy.ServeContent, which answers ranges,
ETag, If-Range, If-Modified-Since and HEAD as net/http does. Only regular
files are served, and no path leaves the root.

`)
		flag.PrintDefaults()
	}
	flag.Parse()
	threshold, err := parseSize(*dio)
	if err != nil {
		log.Fatalf("-directio: %v", err)
	}
	var h http.Handler = http.FileServer(http.Dir(*root))
	if !*std {
		s, err := New(*root, threshold)
		if err != nil {
			log.Fatal(err)
		}
		defer s.Close()
		h = s
	} else {
		*progress = 0 // http.FileServer as it comes
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving %s on http://%s", *root, ln.Addr())
	log.Fatal(serve(newHTTPServer(h, *idle), ln, *progress))
}

// newHTTPServer is the http.Server with the timeouts the flags set.
func newHTTPServer(h http.Handler, idle time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: idle}
}

// serve runs srv on ln, cutting off clients that make no progress for
// writeProgress (0: never).
func serve(srv *http.Server, ln net.Listener, writeProgress time.Duration) error {
	return srv.Serve(progressListener{Listener: ln, d: writeProgress})
}

// parseSize reads "0", "4096", "512K", "256M", "1G".
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"), strings.HasSuffix(s, "k"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"), strings.HasSuffix(s, "g"):
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}
