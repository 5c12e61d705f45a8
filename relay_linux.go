//go:build linux && !purego

package zerocopy

import (
	"net"
	"sync/atomic"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// relaySplice splices src to dst until EOF, an error, or a fallback. When
// it returns a nil error with t.ran false, the caller goes on with the
// buffered path at the exact next byte (bytes in the pipe were written to
// dst first).
func relaySplice(dst, src net.Conn, moved *atomic.Int64, t *tally) (int64, error) {
	if why := unavailable(MethodSplice); why != nil {
		t.note(why)
		return 0, nil
	}
	srcRC, ok := sys.RawConn(src)
	if !ok {
		return 0, nil
	}
	drc, ok := sys.RawConn(dst)
	if !ok {
		return 0, nil
	}
	sst, err := sys.Inspect(srcRC, false)
	if err != nil || (sst.Kind != sys.KindStream && sst.Kind != sys.KindPipe) {
		return 0, nil
	}
	dk := sys.KindStream
	if _, ok := dst.(*net.TCPConn); !ok {
		dst, err := sys.Inspect(drc, true)
		if err != nil || !splicer.Spliceable(dst, true) {
			return 0, nil
		}
		dk = dst.Kind
	}
	res, err := splicer.Transfer(
		splicer.End{RC: drc, Kind: dk, W: dst, Moved: func(n int64) error { moved.Add(n); return nil }},
		splicer.End{RC: srcRC, Kind: sst.Kind}, -1)
	t.bytes[MethodSplice] += res.N
	if res.Done && err == nil {
		t.finished, t.ran = MethodSplice, true
	}
	if res.Fallback != nil {
		noteMissing(MethodSplice, res.Fallback)
		t.note(res.Fallback)
	}
	return res.N, err
}
