package zerocopy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/zerocopy-go/zerocopy"
)

// BenchmarkServeContent: one keep-alive client GETs a page-cached file
// over loopback, whole, from a handler that answers with
// zerocopy.ServeContent, with net/http.ServeContent over an
// io.SectionReader (io.Copy's path: pread+write after the first 512 bytes
// and the conn's ReadFrom), or with a plain handler (ReadAt into a 32 KiB
// buffer, Write). Sizes from 100 bytes (where flushing the header first
// costs ServeContent a second syscall and segment) to 4 MiB.
func BenchmarkServeContent(b *testing.B) {
	modtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, size := range []int64{100, 4 << 10, 64 << 10, 4 << 20} {
		f := benchFile(b, size)
		handlers := []struct {
			name string
			h    http.HandlerFunc
		}{
			{"zerocopy.ServeContent", func(w http.ResponseWriter, r *http.Request) {
				zerocopy.ServeContent(w, r, "f.bin", modtime, f)
			}},
			{"http.ServeContent", func(w http.ResponseWriter, r *http.Request) {
				http.ServeContent(w, r, "f.bin", modtime, io.NewSectionReader(f, 0, size))
			}},
			{"plain-32KiB", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
				buf := make([]byte, 32<<10)
				for off := int64(0); off < size; {
					n, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
					if n > 0 {
						if _, werr := w.Write(buf[:n]); werr != nil {
							return
						}
					}
					off += int64(n)
					if err != nil {
						return
					}
				}
			}},
		}
		for _, h := range handlers {
			b.Run(fmt.Sprintf("%d/%s", size, h.name), func(b *testing.B) {
				srv := httptest.NewServer(h.h)
				defer srv.Close()
				tr := &http.Transport{DisableCompression: true}
				defer tr.CloseIdleConnections()
				client := &http.Client{Transport: tr}
				buf := make([]byte, 64<<10)
				b.SetBytes(size)
				b.ReportAllocs()
				for range b.N {
					resp, err := client.Get(srv.URL)
					if err != nil {
						b.Fatal(err)
					}
					n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{resp.Body}, buf)
					resp.Body.Close()
					if err != nil || n != size {
						b.Fatal(n, err)
					}
				}
			})
		}
	}
}
