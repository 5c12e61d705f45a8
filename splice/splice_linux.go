//go:build linux && !purego

package splice

import (
	"errors"
	"fmt"
	"io"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// end describes v as a splice endpoint (splicer.Open): a *Pipe by its read
// end (source) or write end (destination). A closed value gives its own
// error (os.ErrClosed, net.ErrClosed), as a Read or Write would.
func end(v any, dst bool) (splicer.End, error) {
	if p, ok := v.(*Pipe); ok {
		if dst {
			return splicer.Open(p.w, true)
		}
		return splicer.Open(p.r, false)
	}
	return splicer.Open(v, dst)
}

// ends resolves src and the destinations, naming the side at fault.
func ends(op string, src io.Reader, dsts ...io.Writer) (splicer.End, []splicer.End, error) {
	s, err := end(src, false)
	if err != nil {
		return s, nil, endError(op, "the source", "a stream socket, pipe or regular file", err)
	}
	names := []string{"the destination", "side"}
	var ds []splicer.End
	for i, d := range dsts {
		e, err := end(d, true)
		if err != nil {
			return s, nil, endError(op, names[i], "a stream socket, pipe, regular file without O_APPEND, or character device", err)
		}
		ds = append(ds, e)
	}
	return s, ds, nil
}

func endError(op, side, want string, err error) error {
	if errors.Is(err, sys.ErrUnsupported) {
		return fmt.Errorf("splice: %s: %s has no spliceable descriptor (%s): %w", op, side, want, err)
	}
	return fmt.Errorf("splice: %s: %s: %w", op, side, err)
}

// limit turns the public "n < 0: until EOF" into the engine's NoLimit.
func limit(n int64) int64 {
	if n < 0 {
		return sys.NoLimit
	}
	return n
}

func splice(dst io.Writer, src io.Reader, n int64) (int64, bool, error) {
	s, d, err := ends("Splice", src, dst)
	if err != nil {
		return 0, false, err
	}
	res, err := splicer.Transfer(d[0], s, limit(n))
	if p, ok := src.(*Pipe); ok {
		p.unpinIfEmpty()
	}
	if err == nil && res.Fallback != nil {
		err = fmt.Errorf("splice: Splice: %w: %w", errors.ErrUnsupported, res.Fallback)
	}
	return res.N, res.Done, err
}

func tee(dst, side io.Writer, src io.Reader, n int64) (int64, bool, error) {
	s, d, err := ends("Tee", src, dst, side)
	if err != nil {
		return 0, false, err
	}
	res, err := splicer.Tee(d[0], d[1], s, limit(n))
	if p, ok := src.(*Pipe); ok {
		p.unpinIfEmpty()
	}
	if err == nil && res.Fallback != nil {
		err = fmt.Errorf("splice: Tee: %w: %w", errors.ErrUnsupported, res.Fallback)
	}
	if err != nil && res.Side != res.N {
		err = &SideError{Side: res.Side, Err: err}
	}
	return res.N, res.Done, err
}
