package runtime

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
)

// job is a layer's work split into independent units. Each unit writes its
// own part of the output, and every value is computed by one unit in a fixed
// order, so the result does not depend on which worker runs which unit: that
// is what makes results identical for any thread count.
type job interface {
	// unit runs unit u on worker w (0 ≤ w < threads), which owns scratch
	// buffer w for the duration of the call.
	unit(w, u int)
}

// pool runs jobs on a fixed set of goroutines. Workers take units from a
// shared counter, so uneven units balance themselves. Dispatch allocates
// nothing.
//
// A pass is a few dozen jobs of tens to hundreds of microseconds each, so
// waking a parked goroutine per job (a few microseconds, more on a loaded
// machine) would cost a second thread much of what it brings. A worker
// that finishes a job therefore spins on the job counter for a while
// (spinRounds checks, tens of microseconds) before it parks; jobs that
// follow each other within a pass start without any wake-up.
type pool struct {
	n    int
	quit chan struct{}
	once sync.Once

	// Set by run before gen is bumped, read by workers after they see it.
	job   job
	units int
	next  atomic.Int64

	gen     atomic.Uint64 // job number; workers run every job once
	pending atomic.Int64  // workers still in the current job
	parked  []atomic.Int32
	wake    []chan struct{} // one token wakes a parked worker
}

// spinRounds is how many times an idle worker checks for a new job before
// parking: about 20–50 µs.
const spinRounds = 1 << 14

func newPool(n int) *pool {
	p := &pool{n: n, quit: make(chan struct{})}
	p.parked = make([]atomic.Int32, n)
	p.wake = make([]chan struct{}, n)
	for w := 1; w < n; w++ {
		p.wake[w] = make(chan struct{}, 1)
		go p.worker(w)
	}
	return p
}

func (p *pool) worker(w int) {
	var seen uint64
	for {
		g := p.gen.Load()
		for spin := 0; g == seen; spin++ {
			if spin < spinRounds {
				if spin&255 == 255 {
					goruntime.Gosched() // let a goroutine waiting for this P run
				}
				g = p.gen.Load()
				continue
			}
			// Park: announce it, then look once more, so a job
			// published in between is not missed.
			p.parked[w].Store(1)
			if g = p.gen.Load(); g != seen {
				if !p.parked[w].CompareAndSwap(1, 0) {
					<-p.wake[w] // run claimed us: take its token
				}
				break
			}
			select {
			case <-p.wake[w]:
			case <-p.quit:
				return
			}
			g = p.gen.Load()
			spin = 0
		}
		select {
		case <-p.quit:
			return
		default:
		}
		seen = g
		p.loop(w)
		p.pending.Add(-1)
	}
}

func (p *pool) loop(w int) {
	for {
		u := int(p.next.Add(1) - 1)
		if u >= p.units {
			return
		}
		p.job.unit(w, u)
	}
}

// run executes units 0..units-1 of j and returns when all are done.
func (p *pool) run(j job, units int) {
	if units <= 0 {
		return
	}
	if p.n == 1 || units == 1 {
		for u := 0; u < units; u++ {
			j.unit(0, u)
		}
		return
	}
	p.job, p.units = j, units
	p.next.Store(0)
	p.pending.Store(int64(p.n - 1))
	p.gen.Add(1)
	for w := 1; w < p.n; w++ {
		if p.parked[w].CompareAndSwap(1, 0) {
			p.wake[w] <- struct{}{}
		}
	}
	p.loop(0)
	for spin := 0; p.pending.Load() != 0; spin++ {
		if spin&255 == 255 {
			goruntime.Gosched()
		}
	}
	p.job = nil
}

// close stops the workers. It is safe to call more than once.
func (p *pool) close() { p.once.Do(func() { close(p.quit) }) }
