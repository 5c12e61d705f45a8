//go:build linux && !purego

package zerocopy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// relaySplice splices e.src to e.dst until EOF, an error, or a fallback.
// spliced says the transfer ran (both ends could be spliced). When it
// returns a nil error with t.ended false, the caller goes on with the
// buffered path at the exact next byte (bytes in the pipe were written to
// dst first). A conn that cannot be spliced is named, with its type, in
// t's reasons.
//
// With e.side set, the bytes also go to it with tee(2) where it has a
// spliceable descriptor; otherwise this returns at once, for the buffered
// path to write both.
func relaySplice(e relayEnd, progress *atomic.Int64, t *tally) (n int64, spliced bool, err error) {
	if why := unavailable(MethodSplice); why != nil {
		t.note(why)
		return 0, false, nil
	}
	s, serr := splicer.Open(e.src, false)
	if serr == nil && s.Kind != sys.KindStream && s.Kind != sys.KindPipe {
		serr = fmt.Errorf("a %v: %w", s.Kind, ErrUnsupported)
	}
	d, derr := splicer.Open(e.dst, true)
	if serr != nil || derr != nil {
		t.note(cannotSplice(e.srcName, e.src, serr))
		t.note(cannotSplice(e.dstName, e.dst, derr))
		return 0, false, nil
	}
	d.Stepped = func(n int) { progress.Add(int64(n)) }
	var res splicer.Result
	if e.side == nil {
		res, err = splicer.Transfer(d, s, sys.NoLimit)
	} else {
		side, oerr := splicer.Open(e.side, true)
		if oerr != nil {
			t.note(fmt.Errorf("zerocopy: Relay: TeeAToB (%T): %w", e.side, oerr))
			return 0, false, nil
		}
		res, err = splicer.Tee(d, side, s, sys.NoLimit)
		if err != nil && res.N == 0 && res.Side == 0 && errors.Is(err, ErrUnsupported) {
			t.note(err) // no pipe to be had: nothing consumed
			return 0, false, nil
		}
		if err == nil && res.Side != res.N {
			err = fmt.Errorf("zerocopy: Relay: the tee got %d bytes, b %d", res.Side, res.N)
		}
	}
	t.addSplice(res, err)
	if err != nil {
		switch res.Failed {
		case splicer.AtSrc:
			err = connError("read", e.src, err)
		case splicer.AtDst:
			err = connError("write", e.dst, err)
		case splicer.AtSide:
			err = fmt.Errorf("zerocopy: Relay: TeeAToB: %w", err)
		}
	}
	return res.N, true, err
}

// cannotSplice names a conn that cannot be spliced and why (nil: it can).
func cannotSplice(name string, c net.Conn, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
		return nil // closed under the relay: its Read or Write says so
	}
	return fmt.Errorf("zerocopy: Relay: conn %s (%T): %w", name, c, err)
}
