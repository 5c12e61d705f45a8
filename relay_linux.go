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
// it returns a nil error with t.ended false, the caller goes on with the
// buffered path at the exact next byte (bytes in the pipe were written to
// dst first).
//
// With side set, the bytes also go to side with tee(2) where side has a
// spliceable descriptor; otherwise this returns at once, for the buffered
// path to write both.
func relaySplice(dst, src net.Conn, side io.Writer, progress *atomic.Int64, t *tally) (int64, error) {
	if why := unavailable(MethodSplice); why != nil {
		t.note(why)
		return 0, nil
	}
	s, err := splicer.Open(src, false)
	if err != nil || (s.Kind != sys.KindStream && s.Kind != sys.KindPipe) {
		return 0, nil
	}
	d, err := splicer.Open(dst, true)
	if err != nil {
		return 0, nil
	}
	d.Stepped = func(n int) { progress.Add(int64(n)) }
	var res splicer.Result
	if side == nil {
		res, err = splicer.Transfer(d, s, sys.NoLimit)
	} else {
		e, oerr := splicer.Open(side, true)
		if oerr != nil {
			return 0, nil
		}
		res, err = splicer.Tee(d, e, s, sys.NoLimit)
		if err != nil && res.N == 0 && res.Side == 0 && errors.Is(err, ErrUnsupported) {
			t.note(err) // no pipe to be had: nothing consumed
			return 0, nil
		}
		if err == nil && res.Side != res.N {
			err = fmt.Errorf("zerocopy: Relay: the tee got %d bytes, b %d", res.Side, res.N)
		}
	}
	t.addSplice(res, err)
	return res.N, err
}
