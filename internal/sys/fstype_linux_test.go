package sys

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFsMagic: f_type is the same magic number whatever the width and
// signedness of the port's field.
func TestFsMagic(t *testing.T) {
	for _, magic := range []int64{TMPFS_MAGIC, EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC, BTRFS_SUPER_MAGIC, NFS_SUPER_MAGIC, OVERLAYFS_SUPER_MAGIC} {
		require.Equal(t, magic, fsMagic(int64(magic)), "int64 (amd64, arm64)")
		require.Equal(t, magic, fsMagic(uint32(magic)), "uint32 (s390x)")
		require.Equal(t, magic, fsMagic(int32(uint32(magic))), "int32 (386, arm, mips)")
	}
	typ, err := FsType(-1)
	require.Error(t, err)
	require.Zero(t, typ)
}
