package zerocopy

import "errors"

// tally is what the paths of one call did: the bytes each method moved,
// the method that reached the end of the range, and why fast paths were
// passed over or left. It becomes the call's Report. Every path adds into
// the one tally of its call (Relay keeps one per direction).
type tally struct {
	bytes    [numMethods]int64
	finished Method // the method that reached the end of the range or failed for good; set when ended
	ended    bool
	zero     bool  // a kernel path stopped on a 0 return before the file's end
	why      error // why fast paths were passed over or left, joined
}

// add counts n bytes moved by m.
func (t *tally) add(m Method, n int64) { t.bytes[m] += n }

// finish records that m ended the call: it reached the end of the range,
// or failed for good (a fatal error, the call's error).
func (t *tally) finish(m Method) { t.finished, t.ended = m, true }

// note records why a fast path was passed over or left.
func (t *tally) note(err error) {
	if err == nil {
		return
	}
	if t.why == nil {
		t.why = err
	} else {
		t.why = errors.Join(t.why, err)
	}
}

// merge adds what another tally saw (a relay's two directions, say).
func (t *tally) merge(o *tally) {
	for m, n := range o.bytes {
		t.bytes[m] += n
	}
	if o.ended {
		t.finish(o.finished)
	}
	t.zero = t.zero || o.zero
	t.note(o.why)
}

// total is every byte moved, by any method.
func (t *tally) total() (n int64) {
	for _, k := range t.bytes {
		n += k
	}
	return n
}

// kernel is the bytes moved by every method but the buffered one.
func (t *tally) kernel() int64 { return t.total() - t.bytes[MethodBuffered] }

func (t *tally) report() Report {
	r := Report{Method: MethodBuffered, Fallback: t.why}
	var most int64
	for m, n := range t.bytes {
		r.Bytes += n
		if n > most {
			most, r.Method = n, Method(m)
		}
	}
	if most == 0 && t.ended {
		r.Method = t.finished
	}
	return r
}
