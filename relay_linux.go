//go:build linux && !purego

package zerocopy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// relaySplice splices src to dst until EOF, an error, or a fallback. When
// it returns a nil error with t.ran false, the caller goes on with the
// buffered path at the exact next byte (bytes in the pipe were written to
// dst first).
//
// With side set, the bytes also go to side with tee(2) where side has a
// spliceable descriptor; otherwise this returns at once, for the buffered
// path to write both.
func relaySplice(dst, src net.Conn, side io.Writer, moved *atomic.Int64, t *tally) (int64, error) {
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
	sst, err := sys.Inspect(srcRC, true)
	if err != nil || (sst.Kind != sys.KindStream && sst.Kind != sys.KindPipe) {
		return 0, nil
	}
	dk, dnb := sys.KindStream, true // net's conns are non-blocking
	if _, ok := dst.(*net.TCPConn); !ok {
		dst, err := sys.Inspect(drc, true)
		if err != nil || !splicer.Spliceable(dst, true) {
			return 0, nil
		}
		dk, dnb = dst.Kind, dst.Nonblock
	}
	d := splicer.End{RC: drc, Kind: dk, Nonblock: dnb, W: dst, Moved: func(n int64) error { moved.Add(n); return nil }}
	s := splicer.End{RC: srcRC, Kind: sst.Kind, Nonblock: sst.Nonblock}
	var res splicer.Result
	if side == nil {
		res, err = splicer.Transfer(d, s, -1)
	} else {
		src, ok := sys.RawConn(side)
		if !ok {
			return 0, nil
		}
		st, serr := sys.Inspect(src, true)
		if serr != nil || !splicer.Spliceable(st, true) {
			return 0, nil
		}
		res, err = splicer.Tee(d, splicer.End{RC: src, Kind: st.Kind, W: side}, s, -1)
		if err != nil && res.N == 0 && res.Side == 0 && errors.Is(err, ErrUnsupported) {
			t.note(err) // no pipe to be had: nothing consumed
			return 0, nil
		}
		if err == nil && res.Side != res.N {
			err = fmt.Errorf("zerocopy: Relay: the tee got %d bytes, b %d", res.Side, res.N)
		}
	}
	t.noteSplice(res, err)
	return res.N, err
}
