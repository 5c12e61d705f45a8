package splice_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/splice"
)

// TestNoDescriptors runs on every build: values without descriptors are
// refused with ErrUnsupported and nothing is consumed.
func TestNoDescriptors(t *testing.T) {
	src := strings.NewReader("abc")
	var dst bytes.Buffer
	n, err := splice.Splice(&dst, src, -1)
	require.Zero(t, n)
	require.ErrorIs(t, err, errors.ErrUnsupported)
	require.Equal(t, 3, src.Len(), "nothing consumed")
	n, err = splice.Tee(&dst, io.Discard, src, -1)
	require.Zero(t, n)
	require.ErrorIs(t, err, errors.ErrUnsupported)
	n, err = splice.Splice(&dst, src, 0)
	require.Zero(t, n)
	require.NoError(t, err)
	_, err = splice.Splice(nil, src, 1)
	require.ErrorContains(t, err, "splice: Splice: nil")
}

// TestPipeBasics: the Pipe type works as a pipe on every build.
func TestPipeBasics(t *testing.T) {
	testutil.NoLeaks(t)
	p, err := splice.NewPipe()
	require.NoError(t, err)
	data := testutil.Data(50, 3000)
	n, err := p.Write(data[:1000])
	require.NoError(t, err)
	require.Equal(t, 1000, n)
	n, err = p.Vmsplice(data[1000:2000], data[2000:])
	require.NoError(t, err)
	require.Equal(t, 2000, n)
	require.Equal(t, 3000, p.Len())
	require.NoError(t, p.CloseWrite())
	got, err := io.ReadAll(p)
	require.NoError(t, err)
	testutil.RequireBytes(t, data, got)
	require.Zero(t, p.Len())
	require.NoError(t, p.Close())
}
