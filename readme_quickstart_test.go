package zerocopy_test

import (
	"context"
	"fmt"
	"os"

	"github.com/zerocopy-go/zerocopy"
)

func main() {
	src, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer src.Close()
	c := zerocopy.Copier{Observe: func(r zerocopy.Report) {
		fmt.Fprintf(os.Stderr, "%d bytes by %v\n", r.Bytes, r.Method)
	}}
	if _, err := c.Copy(context.Background(), os.Stdout, src); err != nil {
		panic(err)
	}
}
