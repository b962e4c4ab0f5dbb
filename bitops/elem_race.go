//go:build race && (amd64 || arm64) && gc && !purego && !noasm

package bitops

// raceLIF announces what an assembly LIF routine on the first cn channels
// of r reads and writes: exactly the elements of each pixel and step, not
// the spans between them, which other goroutines may be writing.
func raceLIF(r *LIFRun, cn int) {
	pw := (cn + 63) / 64
	for q := 0; q < r.Pixels; q++ {
		if r.State != nil {
			raceRead(r.State[q*r.C : q*r.C+cn])
			raceWrite(r.State[q*r.C : q*r.C+cn])
		}
		for t := 0; t < r.Steps; t++ {
			o := t*r.XStep + q*r.XPixel
			raceRead(r.X[o : o+cn])
			if r.Gate != nil {
				raceRead(r.Gate[t*r.GateStep : t*r.GateStep+cn])
			}
			if r.Res != nil {
				o := t*r.ResStep + q*r.ResPixel
				raceRead(r.Res[o : o+cn])
			}
			if r.Spk != nil {
				o := t*r.SpkStep + q*r.SpkPixel
				raceRead(r.Spk[o : o+pw])
			}
			o = t*r.OutStep + q*r.OutPixel
			raceWrite(r.Out[o : o+pw])
		}
	}
}
