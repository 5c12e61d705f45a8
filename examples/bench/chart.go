package main

import (
	"bytes"
	"fmt"
	"html"
)

// chart draws a horizontal bar per contender: its throughput as a ratio to
// io.Copy in the same scenario, or to the best plain copy where io.Copy has
// no part. Written by hand: a plotting library would land in the go.mod of
// every user of the module for one example's sake.
func chart(results []Result) []byte {
	type bar struct {
		label string
		v     float64
		base  string
	}
	var bars []bar
	top := 1.0
	for _, r := range results {
		if r.Skipped != "" || r.Contender == "" {
			continue
		}
		v, base := r.VsIOCopy, "io.Copy"
		if v == 0 {
			v, base = r.VsPlain, "plain"
		}
		if v == 0 {
			continue
		}
		bars = append(bars, bar{r.Scenario + " / " + r.Contender, v, base})
		top = max(top, v)
	}
	const left, width, rowH, pad = 260, 420, 22, 40
	h := pad*2 + rowH*len(bars)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", left+width+120, h)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14">throughput relative to io.Copy (or the plain copy); 1.0x = same</text>`+"\n")
	x1 := left + int(float64(width)/top)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888" stroke-dasharray="4"/>`+"\n", x1, pad-6, x1, h-pad+6)
	for i, br := range bars {
		y := pad + i*rowH
		w := int(float64(width) * br.v / top)
		color := "#4a7bd0"
		if br.v < 1 {
			color = "#d07a4a"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+14, html.EscapeString(br.label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", left, y+2, max(w, 1), rowH-6, color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%.2fx vs %s</text>`+"\n", left+w+6, y+14, br.v, br.base)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}
