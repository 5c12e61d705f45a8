//go:build linux && !purego

package zerocopy

import (
	"github.com/zerocopy-go/zerocopy/internal/splicer"
)

// spliceFrom moves a stream socket or pipe source to d with splice(2)
// (internal/splicer), at most limit bytes. Bytes the kernel took into the
// pipe before a fallback errno have been written to d with its Write:
// when it returns unhandled, the buffered path resumes at the exact next
// byte of the source.
func (k *call) spliceFrom(d, src splicer.End, limit int64) (int64, bool, error) {
	if why := unavailable(MethodSplice); why != nil {
		k.t.note(why)
		return 0, false, nil
	}
	if k.prog != nil {
		d.Moved = k.prog.add
	}
	res, err := splicer.Transfer(d, src, limit)
	k.t.addSplice(res, err)
	return res.N, res.Done || err != nil, err
}

// addSplice adds what a splice transfer did.
func (t *tally) addSplice(res splicer.Result, err error) {
	t.add(MethodSplice, res.N)
	if res.Done || err != nil {
		t.finish(MethodSplice)
	}
	if res.Missing {
		markMissing(MethodSplice)
	}
	t.note(res.Fallback)
}
